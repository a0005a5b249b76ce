"""Every Python example in the documentation runs, so a broken one fails here.

The examples are the ```python fenced blocks of ``docs/**/*.md`` and
``README.md``. Each page runs as one module: its blocks run in the order they
appear, sharing one namespace, in a fresh temporary working directory (so an
example may create ``consent.db`` freely). A block preceded by the line
``<!-- not-run -->`` (blank lines between are allowed) is shown but not run;
use it only for code that cannot run here, and say why next to it.

An example that needs the PostgreSQL server reads its address from the
``TRACKCONSENT_POSTGRES_URL`` environment variable, the one the PostgreSQL
tests use: a page whose examples name that variable runs when it is set and
skips when it is not (it fails instead where services are required, in CI).

A docs page that defines a subclass of `ConsentStoreContract` named ``Test...``
also gets that class collected below, so the adapter the docs show passes the
whole contract suite.

The package under test is the installed wheel; the pages are read from the
repository, beside this ``tests`` folder.
"""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
import traceback
import types
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.services import POSTGRES_URL_VARIABLE, postgres_url
from trackconsent.testing import ConsentStoreContract

ROOT = Path(__file__).resolve().parent.parent
NOT_RUN = "<!-- not-run -->"
RUNNABLE_LANGUAGES = {"python", "py"}

_OPENING = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>.*)$")


class Example(NamedTuple):
    """One runnable block: the line of its first code line, and its code."""

    line: int
    code: str


def documentation_pages(root: Path = ROOT) -> list[Path]:
    """Return every Markdown page of the docs, then the README."""
    return [*sorted((root / "docs").rglob("*.md")), root / "README.md"]


def examples(text: str) -> list[Example]:
    """Return the runnable Python blocks of a Markdown text, in order.

    Blocks in other languages are skipped whole, so a Python fence shown
    inside a longer Markdown fence is not run either.
    """
    lines = text.splitlines()
    found = []
    previous = ""
    index = 0
    while index < len(lines):
        opening = _OPENING.match(lines[index])
        if opening is None:
            if lines[index].strip():
                previous = lines[index].strip()
            index += 1
            continue
        end = _closing(lines, index + 1, opening["fence"])
        words = opening["info"].strip("{} ").split()
        language = words[0].lstrip(".").lower() if words else ""
        if language in RUNNABLE_LANGUAGES and previous != NOT_RUN:
            body = _dedent(lines[index + 1 : end], opening["indent"])
            found.append(Example(index + 2, "\n".join(body) + "\n"))
        previous = ""
        index = end + 1

    return found


def _closing(lines: list[str], start: int, fence: str) -> int:
    closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
    for index in range(start, len(lines)):
        if closing.match(lines[index]):
            return index
    return len(lines)


def _dedent(lines: list[str], indent: str) -> list[str]:
    # Blocks nested in admonitions or lists are indented like their fence.
    return [line.removeprefix(indent) for line in lines]


def run_page(page: Path) -> dict[str, object]:
    """Run a page's examples in order in one fresh module; return its namespace.

    Line numbers in tracebacks are the page's own, and the file is the page.
    """
    name = "docs_example_" + re.sub(r"\W", "_", page.stem)
    module = types.ModuleType(name)
    module.__file__ = str(page)
    sys.modules[name] = module
    try:
        for example in examples(page.read_text(encoding="utf-8")):
            padded = "\n" * (example.line - 1) + example.code
            exec(compile(padded, str(page), "exec"), module.__dict__)
    finally:
        del sys.modules[name]

    return module.__dict__


def needs_postgres(text: str) -> bool:
    """Whether a page's examples read the PostgreSQL server's address."""
    return any(POSTGRES_URL_VARIABLE in example.code for example in examples(text))


def _pages_with_examples() -> list[Path]:
    return [
        page
        for page in documentation_pages()
        if examples(page.read_text(encoding="utf-8"))
    ]


@pytest.mark.parametrize(
    "page",
    _pages_with_examples(),
    ids=lambda page: page.relative_to(ROOT).as_posix(),
)
def test_the_examples_of_each_page_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a documentation page, then its Python examples run without error."""
    if needs_postgres(page.read_text(encoding="utf-8")):
        postgres_url()
    monkeypatch.chdir(tmp_path)

    run_page(page)


def test_the_readme_quick_start_is_among_the_examples() -> None:
    """Given the README, then its quick start block is one of the examples run."""
    readme = examples((ROOT / "README.md").read_text(encoding="utf-8"))

    assert any("SQLiteStore(" in example.code for example in readme)


def test_a_block_marked_not_run_is_skipped_and_only_that_one() -> None:
    """Given a block after the not-run comment and one after it, then only the
    second is an example.
    """
    text = "<!-- not-run -->\n\n```python\nskipped()\n```\n\n```python\nran()\n```\n"

    assert examples(text) == [Example(8, "ran()\n")]


def test_blocks_in_other_languages_and_their_contents_are_not_run() -> None:
    """Given a shell block and a Markdown block quoting a Python fence, then
    neither yields an example.
    """
    text = "```sh\nls\n```\n````markdown\n```python\nquoted()\n```\n````\n"

    assert examples(text) == []


def test_an_indented_block_is_dedented_and_keeps_its_line() -> None:
    """Given a block nested in an admonition, then its code is dedented."""
    text = (
        '!!! note\n\n    ```python title="x.py"\n    if True:\n        y = 1\n    ```\n'
    )

    assert examples(text) == [Example(4, "if True:\n    y = 1\n")]


def test_only_a_page_whose_examples_read_the_server_address_needs_postgres() -> None:
    """Given the variable in a Python block, in prose and in a shell block,
    then only the first page needs the server.
    """
    variable = POSTGRES_URL_VARIABLE

    assert needs_postgres(f"```python\nos.environ['{variable}']\n```\n")
    assert not needs_postgres(f"Set `{variable}`.\n\n```sh\necho ${variable}\n```\n")


def test_blocks_of_a_page_share_one_namespace_in_order(tmp_path: Path) -> None:
    """Given a page whose second block uses the first's name, then it runs."""
    page = tmp_path / "page.md"
    page.write_text("```python\nx = 2\n```\n\n```python\ny = x * 21\n```\n")

    assert run_page(page)["y"] == 42


def test_a_broken_example_fails_naming_its_page_and_line(tmp_path: Path) -> None:
    """Given a page whose example raises, then the traceback points at the
    page and the line of the failing statement.
    """
    page = tmp_path / "broken.md"
    page.write_text("# Broken\n\n```python\nok = 1\nraise LookupError('no')\n```\n")

    with pytest.raises(LookupError) as caught:
        run_page(page)

    last = traceback.extract_tb(caught.value.__traceback__)[-1]
    assert (last.filename, last.lineno) == (str(page), 5)


def _contract_suites() -> dict[str, type[ConsentStoreContract]]:
    """Run the pages that define a contract test class; return those classes."""
    suites = {}
    for page in documentation_pages():
        if "ConsentStoreContract" not in page.read_text(encoding="utf-8"):
            continue
        with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
            namespace = run_page(page)
        for name, value in namespace.items():
            if (
                name.startswith("Test")
                and isinstance(value, type)
                and issubclass(value, ConsentStoreContract)
            ):
                suites[f"{name}_from_{page.stem.replace('-', '_')}"] = value
    return suites


# Collected by pytest under these names: the adapters shown in the docs.
globals().update(_contract_suites())
