"""Tests of the package's shape: the public names and the core's imports."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import trackconsent

CORE = ("model", "settings", "ledger", "errors", "policy")
CORE_MAY_IMPORT = {"attrs", "dateutil", "trackconsent"}
ADAPTER_PACKAGES = ("capture", "storage", "export", "cli", "testing")


def _modules() -> list[str]:
    names = ["trackconsent"]
    for info in pkgutil.walk_packages(trackconsent.__path__, "trackconsent."):
        names.append(info.name)
    return names


def _core_files() -> list[Path]:
    root = Path(trackconsent.__file__).parent
    files = []
    for name in CORE:
        path = root / name
        files.extend(path.rglob("*.py") if path.is_dir() else [path.with_suffix(".py")])
    return files


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: p.name)
def test_the_core_imports_only_the_stdlib_attrs_and_dateutil(path: Path) -> None:
    """Given a core module, then it imports nothing from adapters or third parties."""
    import sys

    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top in CORE_MAY_IMPORT or top in sys.stdlib_module_names, name
            if top == "trackconsent":
                part = name.split(".")[1] if "." in name else ""
                assert part not in ADAPTER_PACKAGES, f"{path.name} imports {name}"


def test_every_name_in_all_exists_once() -> None:
    """Given the package's __all__, then each name resolves and none repeats."""
    for name in trackconsent.__all__:
        assert hasattr(trackconsent, name), name
    assert len(set(trackconsent.__all__)) == len(trackconsent.__all__)


@pytest.mark.parametrize("module", _modules())
def test_every_module_declares_its_public_names(module: str) -> None:
    """Given any public module, then it has a docstring and an __all__ that resolves."""
    if module.rsplit(".", 1)[-1].startswith("_") or module == "trackconsent.__main__":
        return
    loaded = importlib.import_module(module)

    assert loaded.__doc__, f"{module} has no docstring"
    public = getattr(loaded, "__all__", None)
    assert public is not None, f"{module} has no __all__"
    for name in public:
        assert hasattr(loaded, name), f"{module}.{name}"


def test_the_root_logger_has_only_a_null_handler() -> None:
    """Given the package imported, then it adds a NullHandler and nothing else."""
    import logging

    handlers = logging.getLogger("trackconsent").handlers

    assert [type(h) for h in handlers] == [logging.NullHandler]
