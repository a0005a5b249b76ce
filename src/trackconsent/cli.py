"""The ``trackconsent`` command, for operators of a host platform.

Every command works on a SQLite store named with ``--db``. Errors print one
clear line and exit with status 1 (2 for wrong usage); never a traceback.

Adding a command takes a few lines: decorate a function with
``@main.command()`` and `db_option`, open the store with `open_store`, and
raise `trackconsent.errors.TrackConsentError` subclasses for failures; the
group turns them into a one-line message::

    @main.command()
    @db_option
    def count(db: Path) -> None:
        \"\"\"Print how many contacts have answered.\"\"\"
        with open_store(db, must_exist=True) as store:
            click.echo(sum(1 for _ in store.contact_ids()))
"""

from __future__ import annotations

import getpass
import sys
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Final, TypeVar

import click

from trackconsent.capture.csvio import (
    ColumnMap,
    DateOrder,
    ImportOptions,
    ImportReport,
    RejectedRowsError,
    export_csv,
    import_csv,
)
from trackconsent.errors import InvalidValuesError, TrackConsentError
from trackconsent.export.archives import ArchiveFormat, safe_file_name
from trackconsent.export.audit import SQLiteExportLog
from trackconsent.export.dossier import export_contact
from trackconsent.model import ConsentState
from trackconsent.storage.sqlite import SQLiteStore

__all__ = ["db_option", "main", "open_store"]

_F = TypeVar("_F", bound=Callable[..., Any])
_ERRORS_SHOWN: Final = 20
_LINE_SHOWN: Final = 300
_DEFAULT_ACTOR: Final = "trackconsent-cli"


class _Commands(click.Group):
    """A group that reports trackconsent errors as one line, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; turn library errors into click's one-line errors."""
        try:
            return super().invoke(ctx)
        except TrackConsentError as error:
            raise click.ClickException(_one_line(error)) from None


def _one_line(error: TrackConsentError) -> str:
    if isinstance(error, InvalidValuesError):
        head = str(error).splitlines()[0].rstrip(":")
        return f"{head}: " + "; ".join(str(e) for e in error.errors)
    return " ".join(str(error).split())


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trackconsent")
def main() -> None:
    """Keep and prove contacts' behavioral tracking consent.

    Import the consent columns of a contact file, export them, show a
    contact's status and history, check that no history was tampered with,
    and export everything held on a contact to an archive (export). Every
    command works on one SQLite file given with --db.
    """


def db_option(function: _F) -> _F:
    """Add the ``--db`` option every command takes."""
    option = click.option(
        "--db",
        type=click.Path(dir_okay=False, path_type=Path),
        default=Path("consent.db"),
        show_default=True,
        help="The SQLite file holding the consent events.",
    )
    return option(function)


def open_store(
    db: Path, *, must_exist: bool = False
) -> AbstractContextManager[SQLiteStore]:
    """Open the SQLite store, refusing a missing file when it must exist."""
    if must_exist and not db.exists():
        raise click.ClickException(f"--db: no such file: {str(db)!r}")
    return SQLiteStore(db)


def _zone(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tzinfo | None:
    if value is None:
        return None
    if value.upper() in {"UTC", "Z"}:
        return UTC
    try:
        return zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"not a known time zone: {value!r}") from None


def _column_map(
    _ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]
) -> ColumnMap:
    try:
        return ColumnMap.from_pairs(value)
    except InvalidValuesError as error:
        reasons = "; ".join(f"{e.rule}: {e.value!r}" for e in error.errors)
        raise click.BadParameter(reasons) from None


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@click.option(
    "--column",
    "mapping",
    multiple=True,
    callback=_column_map,
    metavar="FIELD=NAME",
    help="Read FIELD (id, hasTrackingConsent or dtTrackingConsent) from the"
    " column NAME. Repeat for each renamed column.",
)
@click.option("--locale", help="Also accept this locale's yes/no words (fr: oui/non).")
@click.option(
    "--timezone",
    "zone",
    callback=_zone,
    metavar="ZONE",
    help="Zone of dates written without an offset, such as UTC or Europe/Paris."
    " Without it such dates are rejected.",
)
@click.option(
    "--date-order",
    type=click.Choice([order.value for order in DateOrder]),
    help="Day/month order of dates like 03/04/2024, when the file cannot tell.",
)
@click.option("--marker", help="A mark meaning yes, such as x, for ticked boxes.")
@click.option(
    "--apply-good-rows",
    is_flag=True,
    help="Apply the good rows even when some are bad (default: apply nothing).",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the bad rows, with their line and reasons, to this CSV file.",
)
@click.option(
    "--actor",
    default=_DEFAULT_ACTOR,
    show_default=True,
    help="Who records the events. Keep it the same to re-import idempotently.",
)
@click.option("--no-progress", is_flag=True, help="Do not show a progress bar.")
def import_command(
    file: Path,
    db: Path,
    mapping: ColumnMap,
    locale: str | None,
    zone: tzinfo | None,
    date_order: str | None,
    marker: str | None,
    apply_good_rows: bool,
    rejects: Path | None,
    actor: str,
    no_progress: bool,
) -> None:
    """Import the consent columns of the CSV FILE.

    Each row that changes a contact's answer becomes a consent event;
    importing the same file again adds nothing. The exit status is 1 when
    any row was rejected.
    """
    options = ImportOptions(
        locale=locale,
        timezone=zone,
        date_order=DateOrder(date_order) if date_order else None,
        marker=marker,
        apply_good_rows=apply_good_rows,
        rejects=rejects,
    )
    # A bar only where someone watches: piped or logged stderr gets none.
    shown = not no_progress and sys.stderr.isatty()
    with open_store(db) as store, _progress(enabled=shown) as progress:
        try:
            report = import_csv(
                file,
                store,
                recorded_at=datetime.now(UTC),
                actor=actor,
                columns=mapping,
                options=options,
                progress=progress,
            )
        except RejectedRowsError as error:
            report = error.report
    _summarise(report, rejects)
    if report.rejected:
        sys.exit(1)


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress callback drawing one bar per phase on stderr."""
    if not enabled:
        yield None
        return
    state: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        if state.get("phase") != phase:
            _close(state)
            bar = click.progressbar(
                length=total, label=phase.ljust(15), file=sys.stderr
            )
            state.update(phase=phase, bar=bar.__enter__(), done=0)
        state["bar"].update(done - state["done"])
        state["done"] = done

    try:
        yield update
    finally:
        _close(state)


def _close(state: dict[str, Any]) -> None:
    bar = state.pop("bar", None)
    if bar is not None:
        bar.__exit__(None, None, None)


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _shortened(text: str) -> str:
    # A cell may be megabytes long; the rejects file has it whole.
    if len(text) <= _LINE_SHOWN:
        return text
    return text[: _LINE_SHOWN - 3] + "..."


def _summarise(report: ImportReport, rejects: Path | None) -> None:
    for error in report.errors[:_ERRORS_SHOWN]:
        click.echo(f"rejected: {_shortened(str(error))}", err=True)
    hidden = len(report.errors) - _ERRORS_SHOWN
    if hidden > 0:
        more = f"written to {rejects}" if rejects else "use --rejects FILE to see them"
        click.echo(f"... and {_counted(hidden, 'more error')} ({more})", err=True)
    if not report.applied:
        click.echo(
            "Nothing was imported because some rows are bad; fix them or use"
            " --apply-good-rows.",
            err=True,
        )
    click.echo(f"rows read:     {report.rows_read}")
    click.echo(f"events added:  {report.events_added}")
    click.echo(f"unchanged:     {report.unchanged}")
    click.echo(f"rejected:      {report.rejected}")


@main.command("export-csv")
@db_option
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True, path_type=Path),
    default=Path("-"),
    help="The CSV file to write; - (the default) writes to standard output.",
)
@click.option(
    "--delimiter",
    type=click.Choice([",", ";", "tab"]),
    default=",",
    show_default=True,
    help="The cell separator.",
)
def export_csv_command(db: Path, output: Path, delimiter: str) -> None:
    """Export every contact's hasTrackingConsent and dtTrackingConsent.

    The file reads back with `trackconsent import` to the same state.
    """
    separator = "\t" if delimiter == "tab" else delimiter
    with open_store(db, must_exist=True) as store:
        if str(output) == "-":
            count = export_csv(store, sys.stdout, delimiter=separator)
        else:
            count = export_csv(store, output, delimiter=separator)
    click.echo(f"exported {_counted(count, 'contact')}", err=True)


@main.command("status")
@db_option
@click.argument("contact_ids", nargs=-1, required=True)
def status_command(db: Path, contact_ids: tuple[str, ...]) -> None:
    """Print the consent in force of each CONTACT_ID."""
    with open_store(db, must_exist=True) as store:
        statuses = store.status_many(contact_ids)
    click.echo("id\thasTrackingConsent\tdtTrackingConsent")
    for contact_id in dict.fromkeys(contact_ids):
        consent = statuses[contact_id]
        flag = consent.has_tracking_consent
        shown = "" if flag is None else str(flag).lower()
        at = consent.at.isoformat() if consent.at else ""
        click.echo(f"{contact_id}\t{shown}\t{at}")


@main.command("history")
@db_option
@click.argument("contact_id")
def history_command(db: Path, contact_id: str) -> None:
    """Print CONTACT_ID's consent events, newest first."""
    with open_store(db, must_exist=True) as store:
        events = store.history(contact_id)
    if not events:
        click.echo(f"no consent event for {contact_id!r}", err=True)
        return
    click.echo("occurred at\tanswer\tsource\trecorded at\tactor\tevent id")
    for event in events:
        click.echo(
            f"{event.occurred_at.isoformat()}\t{event.answer.value}"
            f"\t{event.source.value}\t{event.recorded_at.isoformat()}"
            f"\t{event.actor or ''}\t{event.event_id}"
        )


@main.command("verify")
@db_option
def verify_command(db: Path) -> None:
    """Check that no contact's history was edited, reordered or cut.

    The exit status is 1 when a history is broken.
    """
    with open_store(db, must_exist=True) as store:
        report = store.verify()
    for found in report.breaks:
        click.echo(f"broken: {found}")
    click.echo(
        f"checked {_counted(report.contacts, 'contact')}"
        f" and {_counted(report.events, 'event')}:"
        f" {'intact' if report.ok else f'{len(report.breaks)} broken'}"
    )
    if not report.ok:
        sys.exit(1)


@main.command("export")
@db_option
@click.argument("contact")
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
def export_archive_command(
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
    with open_store(db, must_exist=True) as store, SQLiteExportLog(db) as log:
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
