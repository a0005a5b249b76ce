"""The Limitations page and the skipped tests agree.

Rule: every ``## `` heading of ``docs/limitations.md`` appears in the reason of
at least one skip marker somewhere in ``tests/``: ``pytest.mark.skip(reason=...)``,
``pytest.mark.skipif(..., reason=...)`` or ``pytest.skip(...)``. The comparison
ignores case, backticks, emphasis and runs of white space. Reasons are read
from the test files' source, so a limitation's test never has to run to count.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
LIMITATIONS = ROOT / "docs" / "limitations.md"
_SKIPS = {"skip", "skipif"}


def limitation_headings(text: str) -> list[str]:
    """Return the ``## `` headings of a Markdown text, outside code fences."""
    headings = []
    fenced = False
    for line in text.splitlines():
        if re.match(r"^\s*(```|~~~)", line):
            fenced = not fenced
        elif not fenced and line.startswith("## "):
            headings.append(line[3:].strip())
    return headings


def skip_reasons(source: str) -> list[str]:
    """Return the literal reasons of every skip marker or call in ``source``."""
    tree = ast.parse(source)
    constants = _string_constants(tree)
    reasons = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _called_name(node) not in _SKIPS:
            continue
        reason = next((k.value for k in node.keywords if k.arg == "reason"), None)
        if reason is None and node.args and _called_name(node) == "skip":
            reason = node.args[0]
        text = _literal(reason, constants) if reason is not None else None
        if text:
            reasons.append(text)
    return reasons


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments, so a reason may be a name."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Name):
                text = _literal(value, {})
                if text is not None:
                    found[target.id] = text
    return found


def _literal(node: ast.expr, constants: dict[str, str]) -> str | None:
    """The text of a string literal, f-string (its literal parts), sum or name."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_literal(part, constants) or " " for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left, constants), _literal(node.right, constants)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def plain(text: str) -> str:
    """Fold case, drop Markdown emphasis and code marks, squeeze white space."""
    return " ".join(re.sub(r"[`*_]", "", text).casefold().split())


def _all_reasons() -> list[str]:
    return [
        reason
        for path in sorted(TESTS.rglob("*.py"))
        for reason in skip_reasons(path.read_text(encoding="utf-8"))
    ]


def _headings() -> list[str]:
    return limitation_headings(LIMITATIONS.read_text(encoding="utf-8"))


@pytest.mark.parametrize("heading", _headings())
def test_each_limitation_has_a_skipped_test_saying_so(heading: str) -> None:
    """Given a section of the Limitations page, then some skip reason in tests/
    contains its heading.
    """
    reasons = [plain(reason) for reason in _all_reasons()]

    assert any(plain(heading) in reason for reason in reasons), (
        f"no skip marker in tests/ has a reason mentioning {heading!r}"
    )


def test_the_limitations_page_is_in_the_site_navigation() -> None:
    """Given mkdocs.yml, then the Limitations page is listed in the nav."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")

    assert re.search(r"^\s*- Limitations: limitations\.md$", config, re.MULTILINE)


def test_headings_inside_code_fences_are_not_limitations() -> None:
    """Given a heading inside a fenced block, then only the real one counts."""
    text = "# Limitations\n\n## Real one\n\n```md\n## Shown\n```\n### Sub\n"

    assert limitation_headings(text) == ["Real one"]


def test_every_form_of_skip_reason_is_read() -> None:
    """Given markers with keyword, positional, named, f-string and summed
    reasons, then each reason's text is found, and unrelated calls are not.
    """
    source = (
        "import pytest\n"
        "WHY = 'Named reason'\n"
        "@pytest.mark.skip(reason='Keyword reason')\n"
        "def test_a(): pytest.skip('Positional reason')\n"
        "@pytest.mark.skipif(True, reason=WHY)\n"
        "def test_b(): pytest.skip(f'Formatted {1} reason' + ' and more')\n"
        "print('not a reason')\n"
    )

    assert sorted(skip_reasons(source)) == [
        "Formatted   reason and more",
        "Keyword reason",
        "Named reason",
        "Positional reason",
    ]


def test_matching_ignores_case_code_marks_and_spacing() -> None:
    """Given a heading with backticks and a reason in other case and spacing,
    then they match.
    """
    heading = "The `verify()` call  misses *rewrites*"
    reason = "THE verify() call misses rewrites: no key"

    assert plain(heading) in plain(reason)
