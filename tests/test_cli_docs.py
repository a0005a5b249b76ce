"""The command-line reference, docs/cli.md, documents every command and option.

Each command of the ``trackconsent`` group has a ``## `trackconsent name` ``
section, and every option the installed command accepts is named in that
section, so the page cannot drift from the command.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from trackconsent.cli import main

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "cli.md"
_HEADING = re.compile(r"^## `trackconsent (?P<name>[\w-]+)`[ \t]*$", re.MULTILINE)


def sections(text: str) -> dict[str, str]:
    """Return the text of each ``## `trackconsent name` `` section by name."""
    found = list(_HEADING.finditer(text))
    ends = [match.start() for match in found[1:]] + [len(text)]

    return {
        match["name"]: text[match.end() : end]
        for match, end in zip(found, ends, strict=True)
    }


def _help(*args: str) -> str:
    """The installed script's help, as printed on an 80-column terminal."""
    # The package's script is installed beside the interpreter running us.
    script = str(Path(sys.executable).with_name("trackconsent"))
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run(
        [script, *args, "--help"], capture_output=True, text=True, check=True, env=env
    )

    return done.stdout.rstrip()


def _options(command: click.Command) -> list[tuple[str, str]]:
    return [
        (command.name or "", option)
        for parameter in command.params
        if isinstance(parameter, click.Option)
        for option in (*parameter.opts, *parameter.secondary_opts)
    ]


COMMANDS = sorted(main.commands)
OPTIONS = [pair for name in COMMANDS for pair in _options(main.commands[name])]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_a_section_on_the_reference_page(name: str) -> None:
    """Given a command of the group, then docs/cli.md has its section."""
    assert name in sections(PAGE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("name", "option"), OPTIONS)
def test_every_option_is_named_in_its_commands_section(name: str, option: str) -> None:
    """Given an option of a command, then that command's section names it."""
    section = sections(PAGE.read_text(encoding="utf-8")).get(name, "")

    assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", section)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_section_shows_the_commands_current_help(name: str) -> None:
    """Given a command, then its section holds its --help output as the
    installed script prints it on an 80-column terminal, so a changed help
    text shows up here.
    """
    section = sections(PAGE.read_text(encoding="utf-8")).get(name, "")

    assert _help(name) in section


def test_the_page_shows_the_groups_current_help() -> None:
    """Given the command group, then the page holds its --help output."""
    assert _help() in PAGE.read_text(encoding="utf-8")


def test_the_sections_are_found_by_their_headings() -> None:
    """Given a page with two command sections, then each holds its own text."""
    text = "# T\n\n## `trackconsent a`\n\nalpha --x\n\n## `trackconsent b-c`\n\nbeta\n"

    assert sections(text) == {"a": "\n\nalpha --x\n\n", "b-c": "\n\nbeta\n"}
