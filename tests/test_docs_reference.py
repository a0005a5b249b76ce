"""The API reference covers every public name of the package.

A name of ``trackconsent.__all__`` is covered when a ``::: module`` directive
in ``docs/reference/*.md`` renders it: the directive's module lists the name in
its ``__all__`` (or its ``members:`` option names it, and ``members: false``
renders none). The reference's index page also names it, so a reader can find
the page.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import trackconsent
import trackconsent.policy

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference"
_DIRECTIVE = re.compile(r"^::: (?P<module>[\w.]+)[ \t]*$")


def rendered_names(text: str) -> dict[str, set[str]]:
    """Return, per ``:::`` directive of a page, the names it renders."""
    rendered: dict[str, set[str]] = {}
    lines = text.splitlines()
    for index, line in enumerate(lines):
        found = _DIRECTIVE.match(line)
        if found is None:
            continue
        options = []
        for option in lines[index + 1 :]:
            if option and not option[0].isspace():
                break
            options.append(option.strip())
        rendered[found["module"]] = _members(found["module"], options)
    return rendered


def _members(module: str, options: list[str]) -> set[str]:
    if "members: false" in options:
        return set()
    if "members:" in options:
        start = options.index("members:") + 1
        listed = []
        for option in options[start:]:
            if not option.startswith("- "):
                break
            listed.append(option[2:].strip())
        return set(listed)
    return set(getattr(importlib.import_module(module), "__all__", ()))


def _reference_names() -> set[str]:
    names: set[str] = set()
    for page in REFERENCE.glob("*.md"):
        for rendered in rendered_names(page.read_text(encoding="utf-8")).values():
            names |= rendered
    return names


PUBLIC = sorted(name for name in trackconsent.__all__ if not name.startswith("__"))


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_is_rendered_in_the_api_reference(name: str) -> None:
    """Given a name of trackconsent.__all__, then a reference page renders it."""
    assert name in _reference_names()


@pytest.mark.parametrize("name", PUBLIC)
def test_the_reference_index_says_where_each_public_name_is(name: str) -> None:
    """Given a name of trackconsent.__all__, then the reference index names it."""
    index = (REFERENCE / "index.md").read_text(encoding="utf-8")

    assert f"`{name}`" in index


def test_directive_options_limit_what_is_rendered() -> None:
    """Given directives with no options, a member list and members false, then
    each renders what its options say.
    """
    text = (
        "::: trackconsent.policy\n\n"
        "::: trackconsent.storage.sqlite\n    options:\n      members:\n"
        "        - SCHEMA_VERSION\n\n"
        "::: trackconsent.storage.base\n    options:\n      members: false\n"
    )

    assert rendered_names(text) == {
        "trackconsent.policy": set(trackconsent.policy.__all__),
        "trackconsent.storage.sqlite": {"SCHEMA_VERSION"},
        "trackconsent.storage.base": set(),
    }
