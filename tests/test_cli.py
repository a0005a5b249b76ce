"""The ``trackconsent`` command, run as an operator would."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest
from click.testing import CliRunner

from trackconsent import ConsentState, SQLiteStore
from trackconsent.cli import main

HEADER = "Email Address;Tracking OK;LAST_CHANGED"
MAPPING = [
    "--column",
    "id=Email Address",
    "--column",
    "hasTrackingConsent=Tracking OK",
    "--column",
    "dtTrackingConsent=LAST_CHANGED",
]


@pytest.fixture
def contacts(tmp_path: Path) -> Path:
    """An export with a BOM, two good rows and one bad row."""
    path = tmp_path / "contacts.csv"
    text = (
        f"\ufeff{HEADER}\r\n"
        "ann@example.com;oui;2015-03-16 14:40:47\r\n"
        "bob@example.com;No;16/03/2015 09:00\r\n"
        "cat@example.com;maybe;2015-03-16 14:40:47\r\n"
    )
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str | Path) -> tuple[int, str, str]:
    """Run the command in-process; return exit code, stdout and stderr."""
    result = CliRunner().invoke(main, [str(arg) for arg in args])
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_import_applies_nothing_by_default_when_a_row_is_bad(
    contacts: Path, tmp_path: Path
) -> None:
    """Given a file with a bad row, when imported, then the row is reported,
    nothing is applied, the summary is printed and the exit status is 1.
    """
    db = tmp_path / "c.db"

    code, out, err = invoke(
        "import", contacts, "--db", db, *MAPPING, "--locale", "fr", "--timezone", "UTC"
    )

    assert code == 1
    assert "rejected: line 4, Tracking OK: not a yes/no value: 'maybe'" in err
    assert "Nothing was imported" in err
    assert "rows read:     3" in out
    assert "events added:  0" in out
    with SQLiteStore(db) as store:
        assert list(store.contact_ids()) == []


def test_import_with_good_rows_applies_them_and_writes_rejects(
    contacts: Path, tmp_path: Path
) -> None:
    """Given the good-rows option and a rejects file, then the good rows are
    stored, the bad one is in the file, and a second run adds nothing.
    """
    db, rejects = tmp_path / "c.db", tmp_path / "rejects.csv"
    args = ["import", contacts, "--db", db, *MAPPING, "--locale", "fr"]
    args += ["--timezone", "Europe/Paris", "--apply-good-rows", "--rejects", rejects]

    code, out, _ = invoke(*args)
    again, out_again, _ = invoke(*args)

    assert code == again == 1
    assert "events added:  2" in out
    assert "events added:  0" in out_again
    assert "unchanged:     2" in out_again
    assert "cat@example.com" in rejects.read_text(encoding="utf-8")
    with SQLiteStore(db) as store:
        assert store.status("ann@example.com").state is ConsentState.GRANTED
        assert store.status("bob@example.com").state is ConsentState.REFUSED


def test_a_clean_import_exits_with_zero(tmp_path: Path) -> None:
    """Given a file with only good rows, then the exit status is 0."""
    path = tmp_path / "ok.csv"
    path.write_text(
        "id,hasTrackingConsent,dtTrackingConsent\nA,yes,2024-01-01T00:00Z\n",
        encoding="utf-8",
    )

    code, out, _ = invoke("import", path, "--db", tmp_path / "c.db", "--no-progress")

    assert code == 0
    assert "rejected:      0" in out


def test_status_history_verify_and_export_read_the_store(
    contacts: Path, tmp_path: Path
) -> None:
    """Given an imported file, then status, history, verify and export-csv
    show what was imported.
    """
    db = tmp_path / "c.db"
    invoke("import", contacts, "--db", db, *MAPPING, "--locale", "fr")
    invoke("import", contacts, "--db", db, *MAPPING, "--timezone", "UTC",
           "--locale", "fr", "--apply-good-rows")  # fmt: skip

    _, status, _ = invoke("status", "--db", db, "ann@example.com", "nobody")
    _, history, _ = invoke("history", "--db", db, "bob@example.com")
    verified, verify, _ = invoke("verify", "--db", db)
    _, exported, _ = invoke("export-csv", "--db", db)

    assert status.splitlines() == [
        "id\thasTrackingConsent\tdtTrackingConsent",
        "ann@example.com\ttrue\t2015-03-16T14:40:47+00:00",
        "nobody\t\t",
    ]
    assert "2015-03-16T09:00:00+00:00\trefused\timport" in history
    assert (verified, verify.strip()) == (0, "checked 2 contacts and 2 events: intact")
    assert exported.splitlines()[2] == "bob@example.com,false,2015-03-16T09:00:00+00:00"


def test_errors_are_one_line_without_a_traceback(
    contacts: Path, tmp_path: Path
) -> None:
    """Given a file lacking the mapped columns, a missing store or a bad zone,
    then the command prints one 'Error:' line and exits non-zero.
    """
    db = tmp_path / "c.db"

    results = [
        invoke("import", contacts, "--db", db),
        invoke("status", "--db", tmp_path / "missing.db", "x"),
        invoke("import", contacts, "--db", db, "--timezone", "Mars/Olympus"),
    ]

    for code, _, err in results:
        assert code != 0
        assert "Traceback" not in err
    assert results[0][2].strip().startswith("Error: 4 invalid values in the header:")
    assert (
        results[0][2]
        .strip()
        .endswith(
            "line 1: none of the columns found (split on semicolon); map the file's"
            " names: 'Email Address;Tracking OK;LAST_CHANGED'"
        )
    )
    assert len(results[0][2].strip().splitlines()) == 1
    assert "no such file" in results[1][2]
    assert "not a known time zone: 'Mars/Olympus'" in results[2][2]


def test_help_lists_every_command() -> None:
    """Given --help, then every command is listed with its summary."""
    code, out, _ = invoke("--help")

    assert code == 0
    for command in ("import", "export-csv", "status", "history", "verify"):
        assert f"  {command} " in out


def test_the_groups_description_names_every_command_it_holds() -> None:
    """Given the group's help text, then it mentions the archive export as
    well as the consent columns' commands, each by what it does.
    """
    description = main.help or ""

    assert "(export)" in description
    assert "to an archive" in description
    for task in ("Import", "export them", "status", "history", "tampered"):
        assert task in description


@pytest.mark.parametrize(
    "command",
    [["trackconsent"], [sys.executable, "-m", "trackconsent"]],
    ids=["script", "module"],
)
def test_the_installed_command_runs(command: list[str]) -> None:
    """Given the installed package, then the script and python -m both answer."""
    if command[0] == "trackconsent":
        # The package's script is installed beside the interpreter running us.
        command = [str(Path(sys.executable).with_name("trackconsent"))]

    done = subprocess.run(
        [*command, "import", "--help"], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    assert "Usage: trackconsent import [OPTIONS] FILE" in done.stdout


def test_paths_that_cannot_be_written_are_one_line_errors(tmp_path: Path) -> None:
    """Given an export or a rejects file in a folder that does not exist, or
    a store in one, then each command prints one 'Error:' line and exits 1.
    """
    good = tmp_path / "ok.csv"
    good.write_text(
        "id,hasTrackingConsent,dtTrackingConsent\nA,yes,2024-01-01T00:00Z\n",
        encoding="utf-8",
    )
    db, missing = tmp_path / "c.db", tmp_path / "missing"
    invoke("import", good, "--db", db, "--no-progress")

    results = [
        invoke("export-csv", "--db", db, "-o", missing / "x.csv"),
        invoke(
            "import", good, "--db", db, "--rejects", missing / "r.csv", "--no-progress"
        ),
        invoke("import", good, "--db", missing / "c.db", "--no-progress"),
    ]

    for code, _, err in results:
        assert code == 1
        assert len(err.strip().splitlines()) == 1
        assert err.startswith("Error: ")
        assert str(missing) in err


def test_a_field_given_twice_to_column_is_a_usage_error(tmp_path: Path) -> None:
    """Given --column id=a --column id=b, then the command refuses the option
    naming the field, instead of silently keeping the last pair.
    """
    path = tmp_path / "f.csv"
    path.write_text("a,b\n", encoding="utf-8")

    code, _, err = invoke(
        "import",
        path,
        "--db",
        tmp_path / "c.db",
        "--column",
        "id=a",
        "--column",
        "id=b",
    )

    assert code == 2
    assert "Invalid value for '--column': id given twice: 'id=b'" in err
    assert not (tmp_path / "c.db").exists()


def _header_only(tmp_path: Path) -> Path:
    path = tmp_path / "empty.csv"
    path.write_text("id,hasTrackingConsent,dtTrackingConsent\n", encoding="utf-8")
    return path


def test_no_progress_is_written_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    """Given stderr that is not a terminal, then the import writes no progress
    lines there, only what matters.
    """
    code, out, err = invoke("import", _header_only(tmp_path), "--db", tmp_path / "c.db")

    assert code == 0
    assert "rows read:     0" in out
    assert err == ""


def test_the_progress_bar_is_drawn_on_a_terminal(tmp_path: Path) -> None:
    """Given the installed command with stderr on a terminal, then it draws
    the progress of each phase there.
    """
    command = str(Path(sys.executable).with_name("trackconsent"))
    main_end, terminal = pty.openpty()
    args = ["import", str(_header_only(tmp_path)), "--db", str(tmp_path / "c.db")]

    with os.fdopen(main_end, "rb", buffering=0) as drawn:
        done = subprocess.run([command, *args], stderr=terminal, check=False)
        os.close(terminal)
        shown = _read_all(drawn)

    assert done.returncode == 0
    assert b"checking" in shown
    assert b"importing" in shown


def _read_all(stream: IO[bytes]) -> bytes:
    chunks = []
    while True:
        try:
            chunk = stream.read(4096)
        except OSError:  # Linux reports the closed terminal as EIO.
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_rejected_megabyte_cell_is_shown_shortened(tmp_path: Path) -> None:
    """Given a 200 KB contact id, then the import reads the file, rejects that
    row and shows its error in at most 300 characters.
    """
    path = tmp_path / "long.csv"
    path.write_text(
        "id,hasTrackingConsent,dtTrackingConsent\n"
        f"{'x' * 200_000},yes,2024-01-01T00:00Z\n",
        encoding="utf-8",
    )

    code, out, err = invoke("import", path, "--db", tmp_path / "c.db")

    assert code == 1
    assert "rejected:      1" in out
    shown = err.splitlines()[0]
    assert shown.startswith("rejected: line 2, id: longer than 1024 characters: 'xxx")
    assert len(shown) == len("rejected: ") + 300
    assert shown.endswith("...")


@pytest.mark.parametrize("count", [1, 2])
def test_counts_are_printed_in_the_right_number(tmp_path: Path, count: int) -> None:
    """Given one or two contacts, and one or two bad rows past the twenty
    shown, then verify, export-csv and import say contact/contacts,
    event/events and error/errors to match.
    """
    good = tmp_path / "good.csv"
    rows = "".join(f"c{n},yes,2024-01-01T00:00Z\n" for n in range(count))
    good.write_text(f"id,hasTrackingConsent,dtTrackingConsent\n{rows}", "utf-8")
    bad = tmp_path / "bad.csv"
    rows = "".join(f"c{n},maybe,2024-01-01T00:00Z\n" for n in range(20 + count))
    bad.write_text(f"id,hasTrackingConsent,dtTrackingConsent\n{rows}", "utf-8")
    db = tmp_path / "c.db"
    invoke("import", good, "--db", db)

    _, verified, _ = invoke("verify", "--db", db)
    _, _, exported = invoke("export-csv", "--db", db)
    _, _, imported = invoke("import", bad, "--db", db)

    s = "" if count == 1 else "s"
    assert (
        verified.strip() == f"checked {count} contact{s} and {count} event{s}: intact"
    )
    assert exported.strip() == f"exported {count} contact{s}"
    assert f"... and {count} more error{s} (use --rejects FILE" in imported
