"""`trackconsent.capture` re-exports what the capture pages tell readers to
import from it, and the API reference renders every name it exports.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import trackconsent.capture
from tests.test_docs_reference import rendered_names

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference"

DOCUMENTED = [
    ("trackconsent.capture.visitor", "read_visitor_answer"),
    ("trackconsent.capture.visitor", "script_file"),
    ("trackconsent.capture.banner", "css_colour"),
]


@pytest.mark.parametrize(("module", "name"), DOCUMENTED)
def test_documented_helpers_are_exported_from_the_capture_package(
    module: str, name: str
) -> None:
    """Given a helper the docs import from trackconsent.capture, then the
    package exports that very function and lists it in __all__.
    """
    original = getattr(importlib.import_module(module), name)

    assert getattr(trackconsent.capture, name) is original
    assert name in trackconsent.capture.__all__


def _rendered() -> set[str]:
    names: set[str] = set()
    for page in REFERENCE.glob("*.md"):
        for found in rendered_names(page.read_text(encoding="utf-8")).values():
            names |= found
    return names


@pytest.mark.parametrize("name", sorted(trackconsent.capture.__all__))
def test_every_name_of_the_capture_package_is_in_the_api_reference(
    name: str,
) -> None:
    """Given a name trackconsent.capture exports, then a reference page
    renders it (through the module that defines it).
    """
    assert name in _rendered()
