"""The ``trackconsent export`` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from trackconsent import Answer, SQLiteStore, WrongPasswordError
from trackconsent.cli import main
from trackconsent.export.archives import read_archive
from trackconsent.export.audit import SQLiteExportLog
from trackconsent.testing import make_event


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store file with one contact's history."""
    path = tmp_path / "consent.db"
    with SQLiteStore(path) as store:
        store.append([make_event("zoë", Answer.GRANTED, d) for d in range(3)])
    return path


@pytest.mark.parametrize("fmt", ["rar", "7z", "zip"])
def test_the_command_writes_the_archive_and_records_it(
    db: Path, tmp_path: Path, fmt: str
) -> None:
    """Given a contact, then the archive is written where asked and the export is
    recorded in the same database file, under the actor given.
    """
    out = tmp_path / f"out.{fmt}"

    result = CliRunner().invoke(
        main,
        [
            "export",
            "zoë",
            "--db",
            str(db),
            "--format",
            fmt,
            "--out",
            str(out),
            "--actor",
            "dpo",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "5 files" in result.output
    history = json.loads(read_archive(out)["consent_history.json"])
    assert len(history) == 3
    with SQLiteExportLog(db) as log:
        (entry,) = log.entries("zoë")
    assert (entry.actor, entry.format.value) == ("dpo", fmt)


def test_the_command_asks_for_a_7z_password(db: Path, tmp_path: Path) -> None:
    """Given --password, then the password typed twice encrypts the 7z."""
    out = tmp_path / "out.7z"

    result = CliRunner().invoke(
        main,
        [
            "export",
            "zoë",
            "--db",
            str(db),
            "--format",
            "7z",
            "--password",
            "--out",
            str(out),
        ],
        input="s3cret\ns3cret\n",
    )

    assert result.exit_code == 0, result.output
    assert "encrypted" in result.output
    assert "profile.json" in read_archive(out, password="s3cret")
    with pytest.raises(WrongPasswordError):
        read_archive(out)


def test_a_piped_password_is_read_without_getpass_warnings(
    db: Path, tmp_path: Path
) -> None:
    """Given --password and the password twice on a pipe to the installed
    command, then the 7z is encrypted with it and nothing warns that input may
    be echoed.
    """
    out = tmp_path / "piped.7z"

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "trackconsent",
            "export",
            "zoë",
            "--db",
            str(db),
            "--format",
            "7z",
            "--password",
            "--out",
            str(out),
        ],
        input="s3cret\ns3cret\n",
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "GetPassWarning" not in done.stderr
    assert "echoed" not in done.stderr
    assert "s3cret" not in done.stdout + done.stderr
    assert "profile.json" in read_archive(out, password="s3cret")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("s3cret\nother\n", "password: the confirmation line differs: '<hidden>'"),
        ("s3cret\n", "password: the confirmation line differs: '<hidden>'"),
        ("\n\n", "password: must not be empty: ''"),
        ("", "password: must not be empty: ''"),
    ],
)
def test_a_piped_password_that_is_empty_or_unconfirmed_is_refused(
    db: Path, tmp_path: Path, typed: str, message: str
) -> None:
    """Given a piped password that is empty or whose second line differs, then
    exit 1 with one line that never shows it, and no archive.
    """
    out = tmp_path / "refused.7z"

    result = CliRunner().invoke(
        main,
        [
            "export",
            "zoë",
            "--db",
            str(db),
            "--format",
            "7z",
            "--password",
            "--out",
            str(out),
        ],
        input=typed,
    )

    assert result.exit_code == 1
    assert result.output == f"Error: {message}\n"
    assert not out.exists()


def test_a_password_for_a_zip_is_a_usage_error(db: Path) -> None:
    """Given --password with ZIP, then the command refuses before asking."""
    result = CliRunner().invoke(
        main, ["export", "zoë", "--db", str(db), "--format", "zip", "--password"]
    )

    assert result.exit_code == 2
    assert "only 7z" in result.output


def test_a_contact_never_seen_is_still_exported(db: Path, tmp_path: Path) -> None:
    """Given a contact the store holds no consent answer for, then exit 0, the
    archive holds its profile, an empty history and a README saying no answer
    is held, and the export is recorded.
    """
    out = tmp_path / "x.rar"

    result = CliRunner().invoke(
        main, ["export", "nobody", "--db", str(db), "--out", str(out), "--actor", "a"]
    )

    assert result.exit_code == 0, result.output
    assert "no consent answer held" in result.output
    files = read_archive(out)
    profile = json.loads(files["profile.json"])
    assert (profile["id"], profile["hasTrackingConsent"]) == ("nobody", None)
    assert json.loads(files["consent_history.json"]) == []
    assert "No tracking consent answer is held" in files["README.txt"].decode()
    with SQLiteExportLog(db) as log:
        assert [entry.contact_id for entry in log.entries("nobody")] == ["nobody"]


@pytest.mark.parametrize("contact", ["", "  "])
def test_an_empty_contact_is_a_one_line_error(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, contact: str
) -> None:
    """Given an empty contact id, then exit 1 with one line naming the rule, and
    no archive written.
    """
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(main, ["export", contact, "--db", str(db)])

    assert result.exit_code == 1
    assert result.output == f"Error: contact: must not be empty: {contact!r}\n"
    assert list(tmp_path.glob("export-*")) == []


def test_the_default_file_is_named_after_the_contact(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given no --out, then the archive is export-CONTACT.rar in the current folder."""
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(
        main, ["export", "zoë", "--db", str(db), "--actor", "x"]
    )

    assert result.exit_code == 0, result.output
    assert (tmp_path / "export-zoë.rar").is_file()


def test_compression_without_rar_is_a_clear_error(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given --compress and no rar program on PATH, then exit 1 naming it."""
    monkeypatch.setenv("PATH", str(tmp_path))

    result = CliRunner().invoke(
        main,
        [
            "export",
            "zoë",
            "--db",
            str(db),
            "--compress",
            "--out",
            str(tmp_path / "c.rar"),
        ],
    )

    assert result.exit_code == 1
    assert "rar: program not found" in result.output
