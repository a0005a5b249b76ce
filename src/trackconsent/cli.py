"""The ``trackconsent`` command for operators."""

from __future__ import annotations

import click

from trackconsent.export._command import export_command

__all__ = ["main"]


@click.group()
def main() -> None:
    """Operate trackconsent from the command line."""


main.add_command(export_command)
