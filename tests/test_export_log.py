"""The ExportLog port: one contract, run on the memory and SQLite adapters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trackconsent import Answer, InvalidValueError, SQLiteStore
from trackconsent.export.archives import ArchiveFormat
from trackconsent.export.audit import (
    ExportLog,
    ExportRecord,
    MemoryExportLog,
    SQLiteExportLog,
)
from trackconsent.testing import make_event

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def _entry(contact: str, minutes: int = 0, **changes: object) -> ExportRecord:
    fields: dict[str, object] = {
        "contact_id": contact,
        "actor": "ops",
        "at": NOW + timedelta(minutes=minutes),
        "format": "rar",
        "encrypted": False,
        "files": 5,
        "size": 1234,
        "manifest_sha256": "ab" * 32,
    }
    fields.update(changes)
    return ExportRecord(**fields)  # type: ignore[arg-type]


class ExportLogContract:
    """What every ExportLog keeps."""

    def make_log(self, tmp_path: Path) -> ExportLog:
        """Return an empty log."""
        raise NotImplementedError

    def test_entries_come_back_oldest_first_and_by_contact(
        self, tmp_path: Path
    ) -> None:
        """Given entries for two contacts, then each comes back, in order."""
        log = self.make_log(tmp_path)
        entries = [
            _entry("a", 2),
            _entry("b", 1),
            _entry("a", 0, format="7z", encrypted=True),
        ]
        for entry in entries:
            log.record(entry)

        assert log.entries() == entries
        assert log.entries("a") == [entries[0], entries[2]]
        assert log.entries("nobody") == []


class TestMemoryExportLog(ExportLogContract):
    """The contract on the in-memory log."""

    def make_log(self, tmp_path: Path) -> ExportLog:
        """A new memory log."""
        return MemoryExportLog()


class TestSQLiteExportLog(ExportLogContract):
    """The contract on the SQLite log."""

    def make_log(self, tmp_path: Path) -> ExportLog:
        """A new log in a new file."""
        return SQLiteExportLog(tmp_path / "log.db")


def test_the_sqlite_log_shares_the_store_file_and_survives_reopening(
    tmp_path: Path,
) -> None:
    """Given a consent store file, when a log is kept in it and reopened, then
    both the events and the entries are there, and the store's schema is untouched.
    """
    path = tmp_path / "consent.db"
    with SQLiteStore(path) as store:
        store.append([make_event("a", Answer.GRANTED, 1)])
        version = store.schema_version
    with SQLiteExportLog(path) as log:
        log.record(_entry("a"))

    with SQLiteExportLog(path) as log, SQLiteStore(path) as store:
        assert log.entries() == [_entry("a")]
        assert len(store.history("a")) == 1
        assert store.schema_version == version


def test_an_entry_is_validated() -> None:
    """Given a naive time, an unknown format or a short digest, then the field
    is named.
    """
    with pytest.raises(InvalidValueError, match=r"^at: "):
        _entry("a", at=datetime(2024, 1, 1))
    with pytest.raises(InvalidValueError, match=r"^format: "):
        _entry("a", format="tar")
    with pytest.raises(InvalidValueError, match=r"^manifest_sha256: "):
        _entry("a", manifest_sha256="abc")
    assert _entry("a", format=ArchiveFormat.ZIP).format is ArchiveFormat.ZIP
