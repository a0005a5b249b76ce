"""The embedded default store: one SQLite file, stdlib sqlite3, WAL journal.

Layout: ``events`` holds every event with its chain link, in append order
(``seq``); ``status`` holds, per contact, the answer in force, the newest chain
digest (the head) and the event count, so `SQLiteStore.status_many` is one
indexed join and `SQLiteStore.verify` can tell a removed newest event.

The schema version lives in ``PRAGMA user_version``. Opening a file applies the
numbered steps in `MIGRATIONS` it has not seen yet, in one transaction; a file
written by a newer version is refused with `SchemaVersionError`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from os import PathLike, fspath
from types import TracebackType
from typing import Any, Final

from trackconsent.errors import InvalidValueError, SchemaVersionError, StorageError
from trackconsent.ledger import (
    GENESIS,
    ChainLink,
    evidence_json,
    link_digest,
    verify_chains,
)
from trackconsent.model import (
    Answer,
    Consent,
    ConsentEvent,
    ConsentState,
    Evidence,
    Source,
)
from trackconsent.storage._batch import check_state, new_events
from trackconsent.storage._closing import ClosingStore
from trackconsent.storage.base import (
    AppendResult,
    StatusMap,
    VerifyReport,
    check_batch,
    check_contact_id,
    check_contact_ids,
)

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SQLiteStore"]

log = logging.getLogger(__name__)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)

_EVENT_COLUMNS: Final = (
    "event_id, contact_id, granted, occurred_at, recorded_at, source, evidence, actor"
)


def _create_events(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            event_id TEXT NOT NULL UNIQUE,
            contact_id TEXT NOT NULL,
            granted INTEGER NOT NULL CHECK (granted IN (0, 1)),
            occurred_at TEXT NOT NULL,
            occurred_us INTEGER NOT NULL,
            recorded_at TEXT NOT NULL,
            source TEXT NOT NULL,
            evidence TEXT NOT NULL,
            actor TEXT,
            previous TEXT NOT NULL,
            digest TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX events_by_contact ON events (contact_id, seq)")


def _create_status(db: sqlite3.Connection) -> None:
    """Add the per-contact status table and fill it from the events."""
    db.execute(
        """
        CREATE TABLE status (
            contact_id TEXT PRIMARY KEY,
            granted INTEGER NOT NULL,
            occurred_at TEXT NOT NULL,
            occurred_us INTEGER NOT NULL,
            event_id TEXT NOT NULL,
            head TEXT NOT NULL,
            events INTEGER NOT NULL
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        INSERT INTO status
        SELECT e.contact_id, e.granted, e.occurred_at, e.occurred_us, e.event_id,
               (SELECT digest FROM events h WHERE h.contact_id = e.contact_id
                ORDER BY h.seq DESC LIMIT 1),
               (SELECT count(*) FROM events c WHERE c.contact_id = e.contact_id)
        FROM events e
        WHERE e.event_id = (
            SELECT w.event_id FROM events w WHERE w.contact_id = e.contact_id
            ORDER BY w.occurred_us DESC, w.granted ASC, w.event_id DESC LIMIT 1
        )
        """
    )


MIGRATIONS: Final[Sequence[Callable[[sqlite3.Connection], None]]] = (
    _create_events,
    _create_status,
)
"""Schema steps; step ``n`` (from 1) brings a file from version n-1 to n."""

SCHEMA_VERSION: Final = len(MIGRATIONS)
"""The schema version this release writes."""


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _order_key(granted: int, occurred_us: int, event_id: str) -> tuple[int, int, str]:
    """The ledger's tie rule on stored columns: later, then refusal, then id."""
    return (occurred_us, 1 - granted, event_id)


class SQLiteStore(ClosingStore):
    """A `ConsentStore` in one SQLite file.

    Writers take SQLite's write lock for the whole batch, so several processes
    may append to the same file; readers never block in WAL mode.

    Args:
        path: The database file; created when missing. ``":memory:"`` works too.
        timeout: Seconds to wait for another writer's lock.
        migrate: Apply missing schema steps on open (the default). When False,
            an old file is refused instead.
    """

    def __init__(
        self,
        path: str | PathLike[str],
        *,
        timeout: float = 60.0,
        migrate: bool = True,
    ) -> None:
        """Open (and create or upgrade) the store.

        Raises:
            InvalidValueError: ``path`` is not a string or a path object.
            StorageError: the file cannot be opened as a store; the message
                gives SQLite's reason.
            SchemaVersionError: the file was written by a newer release.
        """
        self._lock = threading.RLock()
        self._path = _checked_path(path)
        try:
            self._db = sqlite3.connect(
                self._path,
                timeout=timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._upgrade(migrate=migrate)
        except sqlite3.Error as error:
            raise StorageError(
                f"cannot open SQLite store {self._path!r}: {error}"
            ) from error

    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the file."""
        version: int = self._db.execute("PRAGMA user_version").fetchone()[0]
        return version

    def _upgrade(self, *, migrate: bool) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self.schema_version
            if version > SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"schema version: newer than this release knows "
                    f"({SCHEMA_VERSION}): {version}"
                )
            if version < SCHEMA_VERSION and version and not migrate:
                raise SchemaVersionError(
                    f"schema version: older than {SCHEMA_VERSION} and migrate=False:"
                    f" {version}"
                )
            for step in MIGRATIONS[version:]:
                step(self._db)
            if version != SCHEMA_VERSION:
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
                log.info("schema upgraded from %d to %d", version, SCHEMA_VERSION)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def append(self, events: Iterable[ConsentEvent]) -> AppendResult:
        """Store a batch atomically and idempotently (see `ConsentStore`)."""
        check_batch(events)
        with self._lock, self._translated("append"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                fresh, repeats = new_events(events, self._stored)
                self._insert(fresh)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        if fresh:
            log.debug("appended %d events, %d repeats", len(fresh), repeats)

        return AppendResult(added=len(fresh), duplicates=repeats)

    def _stored(self, ids: list[str]) -> dict[str, ConsentEvent]:
        rows = self._db.execute(
            f"SELECT {_EVENT_COLUMNS} FROM events"  # noqa: S608 - constant columns
            " WHERE event_id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
        )
        return {row[0]: _event(row) for row in rows}

    def _insert(self, fresh: list[ConsentEvent]) -> None:
        if not fresh:
            return
        heads = self._heads({event.contact_id for event in fresh})
        event_rows = []
        for event in fresh:
            contact = event.contact_id
            previous, best, count = heads.get(contact, (GENESIS, None, 0))
            digest = link_digest(previous, event)
            row = _event_row(event, previous, digest)
            key = _order_key(row[2], row[4], row[0])
            if best is None or key > _order_key(best[1], best[3], best[4]):
                best = (contact, row[2], row[3], row[4], row[0])
            heads[contact] = (digest, best, count + 1)
            event_rows.append(row)
        self._db.executemany(
            "INSERT INTO events (event_id, contact_id, granted, occurred_at,"
            " occurred_us, recorded_at, source, evidence, actor, previous, digest)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            event_rows,
        )
        self._db.executemany(
            "INSERT OR REPLACE INTO status (contact_id, granted, occurred_at,"
            " occurred_us, event_id, head, events) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(*best, head, count) for head, best, count in heads.values()],
        )

    def _heads(self, contacts: set[str]) -> dict[str, Any]:
        rows = self._db.execute(
            "SELECT contact_id, granted, occurred_at, occurred_us, event_id, head,"
            " events FROM status WHERE contact_id IN"
            " (SELECT value FROM json_each(?))",
            (json.dumps(sorted(contacts)),),
        )
        return {row[0]: (row[5], row[:5], row[6]) for row in rows}

    def history(self, contact_id: str) -> list[ConsentEvent]:
        """Return the contact's events, newest first."""
        check_contact_id(contact_id)
        with self._lock, self._translated("history"):
            rows = self._db.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events"  # noqa: S608 - constant columns
                " WHERE contact_id = ?"
                " ORDER BY occurred_us DESC, granted ASC, event_id DESC",
                (contact_id,),
            ).fetchall()
        return [_event(row) for row in rows]

    def status(self, contact_id: str) -> Consent:
        """Return one contact's consent in force."""
        check_contact_id(contact_id)
        return self.status_many((contact_id,))[contact_id]

    def status_many(self, contact_ids: Iterable[str]) -> StatusMap:
        """Return the consent of many contacts in one query."""
        ids = dict.fromkeys(check_contact_ids(contact_ids))
        with self._lock, self._translated("status_many"):
            rows = self._db.execute(
                "SELECT contact_id, granted, occurred_at FROM status"
                " WHERE contact_id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(ids)),),
            )
            answers = {contact: (granted, at) for contact, granted, at in rows}
        return StatusMap(ids, answers)

    def ids_in_state(self, contact_ids: Iterable[str], state: ConsentState) -> set[str]:
        """Return those of ``contact_ids`` whose consent in force is ``state``.

        One query that returns only the matching ids: the batched look-up
        `trackconsent.filter_results` uses when a store offers it.
        """
        check_contact_ids(contact_ids)
        if check_state(state) is ConsentState.UNKNOWN:
            query = (
                "SELECT value FROM json_each(?)"
                " WHERE value NOT IN (SELECT contact_id FROM status)"
            )
            arguments: tuple[object, ...] = (json.dumps(list(contact_ids)),)
        else:
            query = (
                "SELECT contact_id FROM status WHERE granted = ?"
                " AND contact_id IN (SELECT value FROM json_each(?))"
            )
            granted = int(state is ConsentState.GRANTED)
            arguments = (granted, json.dumps(list(contact_ids)))
        with self._lock, self._translated("ids_in_state"):
            return {contact_id for (contact_id,) in self._db.execute(query, arguments)}

    def contact_ids(self) -> Iterator[str]:
        """Iterate every contact with at least one event, in id order."""
        with self._lock, self._translated("contact_ids"):
            rows = self._db.execute("SELECT contact_id FROM status ORDER BY 1")
            ids = [row[0] for row in rows]
        return iter(ids)

    def links(self, contact_id: str) -> list[ChainLink]:
        """Return the contact's chain links in append order."""
        check_contact_id(contact_id)
        with self._lock, self._translated("links"):
            rows = self._db.execute(
                f"SELECT {_EVENT_COLUMNS}, previous, digest"  # noqa: S608
                " FROM events WHERE contact_id = ? ORDER BY seq",
                (contact_id,),
            ).fetchall()
        return [ChainLink(_event(row[:8]), row[8], row[9]) for row in rows]

    def iter_links(self, contact_id: str, *, page: int = 1000) -> Iterator[ChainLink]:
        """Yield the contact's chain links in append order, a page at a time.

        Memory stays flat however long the history: each page is one indexed
        query starting after the last link of the page before.
        """
        check_contact_id(contact_id)
        after = 0
        while True:
            with self._lock, self._translated("iter_links"):
                rows = self._db.execute(
                    f"SELECT {_EVENT_COLUMNS}, previous, digest, seq"  # noqa: S608
                    " FROM events WHERE contact_id = ? AND seq > ?"
                    " ORDER BY seq LIMIT ?",
                    (contact_id, after, page),
                ).fetchall()
            for row in rows:
                yield ChainLink(_event(row[:8]), row[8], row[9])
            if len(rows) < page:
                return
            after = rows[-1][10]

    def verify(self) -> VerifyReport:
        """Check every contact's hash chain against the stored heads."""
        with self._lock, self._translated("verify"):
            heads = dict(self._db.execute("SELECT contact_id, head FROM status"))
            orphans = self._db.execute(
                "SELECT DISTINCT contact_id FROM events"
                " WHERE contact_id NOT IN (SELECT contact_id FROM status)"
            ).fetchall()
        contacts = sorted({*heads, *(row[0] for row in orphans)})
        chains = ((contact_id, self.links(contact_id)) for contact_id in contacts)
        breaks, events = verify_chains(chains, heads)
        if breaks:
            log.warning("history verification found %d broken chains", len(breaks))

        return VerifyReport(contacts=len(heads), events=events, breaks=tuple(breaks))

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        """Name the file."""
        return f"SQLiteStore({self._path!r})"

    def _translated(self, operation: str) -> _Translate:
        return _Translate(operation, self._path)


def _checked_path(path: object) -> str:
    # str() of anything would name a file: SQLiteStore(None) used to create
    # one called "None".
    if isinstance(path, str | PathLike):
        name = fspath(path)
        if isinstance(name, str):
            return name
    raise InvalidValueError("path", "not a file path (str or os.PathLike)", path)


class _Translate:
    """Turn sqlite3 errors into StorageError, naming the operation and file."""

    def __init__(self, operation: str, path: str) -> None:
        self._operation = operation
        self._path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(exc, sqlite3.Error):
            raise StorageError(
                f"{self._operation}: SQLite failed on {self._path!r}: {exc}"
            ) from exc


def _event_row(event: ConsentEvent, previous: str, digest: str) -> tuple[Any, ...]:
    return (
        event.event_id,
        event.contact_id,
        int(event.answer is Answer.GRANTED),
        event.occurred_at.isoformat(),
        _micros(event.occurred_at),
        event.recorded_at.isoformat(),
        event.source.value,
        evidence_json(event.evidence),
        event.actor,
        previous,
        digest,
    )


def _event(row: Sequence[Any]) -> ConsentEvent:
    event_id, contact_id, granted, occurred, recorded, source, evidence, actor = row
    parts: Mapping[str, str] = json.loads(evidence)
    return ConsentEvent(
        event_id=event_id,
        contact_id=contact_id,
        answer=Answer.GRANTED if granted else Answer.REFUSED,
        occurred_at=datetime.fromisoformat(occurred),
        recorded_at=datetime.fromisoformat(recorded),
        source=Source(source),
        evidence=Evidence(**parts),
        actor=actor,
    )
