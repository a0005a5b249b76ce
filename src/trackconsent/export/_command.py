"""The ``trackconsent export`` command: one contact's data as an archive."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from trackconsent.errors import TrackConsentError
from trackconsent.export.archives import ArchiveFormat, safe_file_name
from trackconsent.export.audit import SQLiteExportLog
from trackconsent.export.dossier import export_contact
from trackconsent.model import ConsentState
from trackconsent.storage.sqlite import SQLiteStore

__all__ = ["export_command"]


@click.command("export")
@click.argument("contact")
@click.option(
    "--db",
    "db",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The SQLite consent store.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice([kind.value for kind in ArchiveFormat]),
    default=ArchiveFormat.RAR.value,
    show_default=True,
    help="The archive format.",
)
@click.option(
    "--password",
    is_flag=True,
    help="Ask for a password and encrypt the archive (7z only).",
)
@click.option(
    "--compress",
    is_flag=True,
    help="RAR only: compress with the rar program found on PATH.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The archive to write [default: export-CONTACT.FORMAT].",
)
@click.option(
    "--actor",
    default=None,
    help="Who asks for the export, as recorded [default: the login name].",
)
def export_command(
    contact: str,
    db: Path,
    fmt: str,
    password: bool,
    compress: bool,
    out: Path | None,
    actor: str | None,
) -> None:
    """Write everything held on CONTACT to an archive, and record the export.

    A contact the store holds no consent answer for is exported too: its
    profile, an empty history and a README.txt saying no answer is held.
    """
    if not contact.strip():
        raise click.ClickException(f"contact: must not be empty: {contact!r}")
    kind = ArchiveFormat.parse(fmt)
    target = out or Path(f"export-{safe_file_name(contact)}")
    if out is None:
        target = target.with_name(target.name + kind.suffix)
    if password and kind is not ArchiveFormat.SEVEN_ZIP:
        raise click.UsageError("--password: only 7z archives are encrypted")
    secret = _ask_password() if password else None
    try:
        with SQLiteStore(db) as store, SQLiteExportLog(db) as log:
            # A data-subject request is answered even for an id never seen.
            asked = store.status(contact).state is not ConsentState.UNKNOWN
            record = export_contact(
                contact,
                target,
                store=store,
                log=log,
                actor=actor or _login(),
                now=datetime.now(UTC),
                fmt=kind,
                password=secret,
                compress=compress,
            )
    except TrackConsentError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"{target}: {record.files} files, {record.size} bytes, {kind.value}"
        + (", encrypted" if record.encrypted else "")
        + ("" if asked else ", no consent answer held")
    )


def _ask_password() -> str:
    """Return the password typed twice, or given as two lines on a pipe."""
    stdin = sys.stdin
    if stdin.isatty():
        typed: str = click.prompt(
            "Password", hide_input=True, confirmation_prompt=True, err=True
        )
        return typed
    # getpass cannot hide what a pipe gives and warns so, twice, through both
    # a Python warning and its own line; a pipe shows nothing anyway, so read
    # the same two lines a terminal would take, without prompts.
    first = stdin.readline().removesuffix("\n").removesuffix("\r")
    second = stdin.readline().removesuffix("\n").removesuffix("\r")
    if not first:
        raise click.ClickException("password: must not be empty: ''")
    if first != second:
        raise click.ClickException(
            "password: the confirmation line differs: '<hidden>'"
        )

    return first


def _login() -> str:
    try:
        return getpass.getuser()
    except OSError:
        return "operator"
