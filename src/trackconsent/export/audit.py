"""The record of every contact data export: who exported whom, when, how.

`ExportLog` is the port; `MemoryExportLog` and `SQLiteExportLog` ship with it.
An entry never holds the exported data, only facts about the export and the
SHA-256 of its manifest, which pins down exactly what the archive contained.

Contract of `ExportLog`:

- `ExportLog.record` stores one entry durably before it returns, or raises
  `StorageError` and stores nothing.
- `ExportLog.entries` lists entries oldest first (in the order recorded), all
  of them or one contact's.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from os import PathLike
from types import TracebackType
from typing import Any, Final, Protocol, Self, runtime_checkable

import attrs

from trackconsent.errors import InvalidValueError, StorageError
from trackconsent.export.archives import ArchiveFormat
from trackconsent.model import require_aware

__all__ = ["ExportLog", "ExportRecord", "MemoryExportLog", "SQLiteExportLog"]

_SHA256_HEX: Final = 64


def _text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(attribute.name, "must be non-empty text", value)


def _aware(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    require_aware(attribute.name, value)


def _count(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidValueError(attribute.name, "not a count", value)


def _digest(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or len(value) != _SHA256_HEX:
        raise InvalidValueError(attribute.name, "not a SHA-256 hex digest", value)
    try:
        int(value, 16)
    except ValueError:
        raise InvalidValueError(
            attribute.name, "not a SHA-256 hex digest", value
        ) from None


def _format(value: ArchiveFormat | str) -> ArchiveFormat:
    return ArchiveFormat.parse(value)


@attrs.frozen
class ExportRecord:
    """One contact data export, as the log keeps it.

    Attributes:
        contact_id: The contact whose data was exported.
        actor: Who asked for the export: a user of the platform, a job.
        at: When the export was made (aware), as the caller said.
        format: The archive format.
        encrypted: Whether the archive was encrypted.
        files: How many files the archive holds.
        size: Total size in bytes of those files, before compression.
        manifest_sha256: SHA-256 of the archive's manifest, which lists every
            file's checksum: proof of what was handed over, without the data.
    """

    contact_id: str = attrs.field(validator=_text)
    actor: str = attrs.field(validator=_text)
    at: datetime = attrs.field(validator=_aware)
    format: ArchiveFormat = attrs.field(converter=_format)
    encrypted: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    files: int = attrs.field(validator=_count)
    size: int = attrs.field(validator=_count)
    manifest_sha256: str = attrs.field(validator=_digest)


@runtime_checkable
class ExportLog(Protocol):
    """Where exports are recorded. See the module docstring for the contract."""

    def record(self, entry: ExportRecord) -> None:
        """Store one entry.

        Raises:
            StorageError: the entry could not be stored.
        """
        ...

    def entries(self, contact_id: str | None = None) -> list[ExportRecord]:
        """Return every entry, or one contact's, oldest first."""
        ...


class MemoryExportLog:
    """An `ExportLog` in a process's memory, for tests and small hosts."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._entries: list[ExportRecord] = []

    def record(self, entry: ExportRecord) -> None:
        """Store one entry."""
        with self._lock:
            self._entries.append(entry)

    def entries(self, contact_id: str | None = None) -> list[ExportRecord]:
        """Return every entry, or one contact's, oldest first."""
        with self._lock:
            return [
                entry
                for entry in self._entries
                if contact_id is None or entry.contact_id == contact_id
            ]


_COLUMNS: Final = (
    "contact_id, actor, at, format, encrypted, files, size, manifest_sha256"
)


class SQLiteExportLog:
    """An `ExportLog` in a SQLite file: its own ``export_log`` table.

    The table can live in the same file as a `trackconsent.SQLiteStore`; this
    class creates it when missing and touches nothing else in the file.

    Args:
        path: The database file; created when missing.
        timeout: Seconds to wait for another writer's lock.
    """

    def __init__(self, path: str | PathLike[str], *, timeout: float = 60.0) -> None:
        """Open the file and create the table if needed."""
        self._path = str(path)
        self._lock = threading.Lock()
        with self._translated("open"):
            self._db = sqlite3.connect(
                self._path,
                timeout=timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS export_log ("
                " seq INTEGER PRIMARY KEY, contact_id TEXT NOT NULL,"
                " actor TEXT NOT NULL, at TEXT NOT NULL, format TEXT NOT NULL,"
                " encrypted INTEGER NOT NULL, files INTEGER NOT NULL,"
                " size INTEGER NOT NULL, manifest_sha256 TEXT NOT NULL)"
            )
            self._db.execute(
                "CREATE INDEX IF NOT EXISTS export_log_by_contact"
                " ON export_log (contact_id, seq)"
            )

    def record(self, entry: ExportRecord) -> None:
        """Store one entry."""
        row = (
            entry.contact_id,
            entry.actor,
            entry.at.isoformat(),
            entry.format.value,
            int(entry.encrypted),
            entry.files,
            entry.size,
            entry.manifest_sha256,
        )
        with self._lock, self._translated("record"):
            self._db.execute(
                f"INSERT INTO export_log ({_COLUMNS})"  # noqa: S608 - constant columns
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def entries(self, contact_id: str | None = None) -> list[ExportRecord]:
        """Return every entry, or one contact's, oldest first."""
        query = f"SELECT {_COLUMNS} FROM export_log"  # noqa: S608 - constant columns
        parameters: tuple[str, ...] = ()
        if contact_id is not None:
            query += " WHERE contact_id = ?"
            parameters = (contact_id,)
        with self._lock, self._translated("entries"):
            rows = self._db.execute(query + " ORDER BY seq", parameters).fetchall()
        return [_entry(row) for row in rows]

    def close(self) -> None:
        """Close the database connection. Closing twice is harmless."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        """Return the log itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the log."""
        self.close()

    @contextmanager
    def _translated(self, operation: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as error:
            raise StorageError(
                f"{operation}: SQLite failed on {self._path!r}: {error}"
            ) from error


def _entry(row: tuple[Any, ...]) -> ExportRecord:
    contact_id, actor, at, fmt, encrypted, files, size, digest = row
    return ExportRecord(
        contact_id=contact_id,
        actor=actor,
        at=datetime.fromisoformat(at),
        format=fmt,
        encrypted=bool(encrypted),
        files=files,
        size=size,
        manifest_sha256=digest,
    )
