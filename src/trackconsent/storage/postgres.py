"""The store for PostgreSQL deployments, on psycopg 3.

Layout, as in `trackconsent.storage.sqlite`: ``consent_events`` holds every
event with its chain link, in append order (``seq``); ``consent_status`` holds,
per contact, the answer in force, the newest chain digest (the head) and the
event count, so `PostgresStore.status_many` is one indexed look-up per batch of
ids and `PostgresStore.verify` can tell a removed newest event.
``consent_schema`` records the schema version; opening a store applies the
numbered steps in `MIGRATIONS` it has not seen yet, in one transaction, under
an advisory lock so that processes starting together upgrade once.

Writers: `PostgresStore.append` locks the status rows of the batch's contacts
(``SELECT ... FOR UPDATE``, in contact order, so two writers cannot deadlock on
them) before it reads the chain heads, so writers sharing a contact take turns
and each extends the chain the other left. A contact's first events are
written optimistically: two writers creating the same contact collide on the
status table's primary key, and the loser's transaction is rolled back whole
and retried, as are deadlocks and serialization failures, a bounded number of
times. A killed writer's open transaction is rolled back by the server.

This module needs the ``postgres`` extra: ``pip install trackconsent[postgres]``.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from trackconsent.errors import SchemaVersionError, StorageError
from trackconsent.ledger import (
    GENESIS,
    ChainBreak,
    ChainLink,
    event_order_key,
    link_digest,
    verify_chain,
    verify_chains,
)
from trackconsent.model import Answer, Consent, ConsentEvent, Evidence, Source
from trackconsent.storage._batch import new_events
from trackconsent.storage._closing import ClosingStore
from trackconsent.storage.base import (
    AppendResult,
    StatusMap,
    VerifyReport,
    check_batch,
    check_batch_item,
    check_contact_id,
    check_contact_ids,
)

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "PostgresStore"]

log = logging.getLogger(__name__)

_EVENT_COLUMNS: Final = (
    "event_id, contact_id, granted, occurred_iso, recorded_iso, source, evidence, actor"
)
_STATUS_COLUMNS: Final = (
    "contact_id, granted, occurred_at, occurred_iso, event_id, head, events"
)

# Status rows travel as one array per column, unnested on the server.
_STATUS_ROWS: Final = (
    "unnest(%s::text[], %s::boolean[], %s::timestamptz[], %s::text[],"
    " %s::text[], %s::text[], %s::integer[])"
)
_INSERT_STATUS: Final = (
    f"INSERT INTO consent_status ({_STATUS_COLUMNS})"  # noqa: S608 - constant
    f" SELECT * FROM {_STATUS_ROWS}"
)
_UPDATE_STATUS: Final = (
    "UPDATE consent_status AS s SET granted = u.granted,"  # noqa: S608 - constant
    " occurred_at = u.occurred_at, occurred_iso = u.occurred_iso,"
    " event_id = u.event_id, head = u.head, events = u.events"
    f" FROM {_STATUS_ROWS} AS u ({_STATUS_COLUMNS})"
    " WHERE s.contact_id = u.contact_id"
)

# One key for the whole database: schema upgrades are rare and short, and
# processes opening stores in different schemas may simply take turns.
_UPGRADE_LOCK: Final = 0x7472_6163_6B63_6F6E

# Failures that say "another writer got there first": the transaction rolled
# back whole, and trying again sees what the other writer committed.
_TRANSIENT: Final = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.UniqueViolation,
    pg_errors.LockNotAvailable,
)

_STATUS_CHUNK: Final = 100_000
"""Ids sent per `PostgresStore.status_many` query: bounds one array's size."""

# A batch of ids travels as one JSON array parameter: the json module escapes
# a million ids in milliseconds, where psycopg's list adapter takes seconds,
# and the query needs no temporary table, so it runs on read replicas too.
_IDS: Final = "SELECT jsonb_array_elements_text(%s::jsonb)"


def _create_events(db: psycopg.Connection[Any]) -> None:
    db.execute(
        """
        CREATE TABLE consent_events (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id text NOT NULL UNIQUE,
            contact_id text NOT NULL,
            granted boolean NOT NULL,
            occurred_at timestamptz NOT NULL,
            occurred_iso text NOT NULL,
            recorded_iso text NOT NULL,
            source text NOT NULL,
            evidence jsonb NOT NULL,
            actor text,
            previous text NOT NULL,
            digest text NOT NULL
        )
        """
    )
    db.execute(
        "CREATE INDEX consent_events_by_contact ON consent_events (contact_id, seq)"
    )


def _create_status(db: psycopg.Connection[Any]) -> None:
    """Add the per-contact status table and fill it from the events."""
    db.execute(
        """
        CREATE TABLE consent_status (
            contact_id text PRIMARY KEY,
            granted boolean NOT NULL,
            occurred_at timestamptz NOT NULL,
            occurred_iso text NOT NULL,
            event_id text NOT NULL,
            head text NOT NULL,
            events integer NOT NULL
        )
        """
    )
    db.execute(
        """
        INSERT INTO consent_status
        SELECT w.contact_id, w.granted, w.occurred_at, w.occurred_iso, w.event_id,
               h.digest, h.events
        FROM (
            SELECT DISTINCT ON (contact_id)
                   contact_id, granted, occurred_at, occurred_iso, event_id
            FROM consent_events
            ORDER BY contact_id, occurred_at DESC, granted ASC,
                     event_id COLLATE "C" DESC
        ) AS w
        JOIN (
            SELECT DISTINCT ON (contact_id) contact_id, digest,
                   count(*) OVER (PARTITION BY contact_id) AS events
            FROM consent_events
            ORDER BY contact_id, seq DESC
        ) AS h USING (contact_id)
        """
    )


MIGRATIONS: Final[Sequence[Callable[[psycopg.Connection[Any]], None]]] = (
    _create_events,
    _create_status,
)
"""Schema steps; step ``n`` (from 1) brings a schema from version n-1 to n."""

SCHEMA_VERSION: Final = len(MIGRATIONS)
"""The schema version this release writes."""


class PostgresStore(ClosingStore):
    """A `ConsentStore` in a PostgreSQL database.

    One store holds one connection, used by one thread at a time; open one
    store per process or worker. Any number of stores, in any number of
    processes, may append to the same tables at once.

    Args:
        url: A libpq connection string or URL, such as
            ``postgresql://user@host:5432/db``.
        schema: The schema holding the tables; created when missing. None
            uses the connection's ``search_path`` as it is.
        migrate: Apply missing schema steps on open (the default). When False,
            tables written by an older release are refused instead.
        attempts: How often one append is tried when concurrent writers get in
            its way, before it fails with `StorageError`.
        connect_timeout: Seconds to wait for the server when connecting.

    Raises:
        StorageError: the server cannot be reached or refused the session.
        SchemaVersionError: the tables were written by a newer release, or by
            an older one while ``migrate`` is False.
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        migrate: bool = True,
        attempts: int = 30,
        connect_timeout: float = 10.0,
    ) -> None:
        """Connect, and create or upgrade the tables."""
        self._url = url
        self._schema = schema
        self._attempts = max(1, attempts)
        self._connect_timeout = connect_timeout
        self._lock = threading.RLock()
        self._conn = self._connect()
        try:
            with self._translated("open"):
                self._upgrade(migrate=migrate)
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(
                self._url,
                autocommit=True,
                connect_timeout=max(1, round(self._connect_timeout)),
                # Text comes back as str even from a SQL_ASCII database.
                client_encoding="utf8",
            )
        except psycopg.Error as error:
            raise StorageError(f"cannot open PostgreSQL store: {error}") from error
        try:
            # UTC keeps stored instants independent of the server's settings;
            # the offset each event was given in is kept beside it as text.
            conn.execute("SET TIME ZONE 'UTC'")
            if self._schema is not None:
                path = sql.Identifier(self._schema).as_string(conn)
                conn.execute("SELECT set_config('search_path', %s, false)", (path,))
        except psycopg.Error as error:
            conn.close()
            raise StorageError(f"cannot open PostgreSQL store: {error}") from error

        return conn

    @property
    def schema(self) -> str | None:
        """The schema holding the tables, or None for the ``search_path``."""
        return self._schema

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the database."""
        with self._lock, self._translated("schema_version"):
            return self._read_version()

    def _read_version(self) -> int:
        exists = self._conn.execute(
            "SELECT to_regclass('consent_schema') IS NOT NULL"
        ).fetchone()
        if not exists or not exists[0]:
            return 0
        row = self._conn.execute("SELECT max(version) FROM consent_schema").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _upgrade(self, *, migrate: bool) -> None:
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_UPGRADE_LOCK,))
            self._ensure_schema()
            version = self._read_version()
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
            if version == SCHEMA_VERSION:
                return
            for step in MIGRATIONS[version:]:
                step(self._conn)
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS consent_schema (version integer NOT NULL)"
            )
            self._conn.execute("DELETE FROM consent_schema")
            self._conn.execute(
                "INSERT INTO consent_schema (version) VALUES (%s)", (SCHEMA_VERSION,)
            )
        log.info("schema upgraded from %d to %d", version, SCHEMA_VERSION)

    def _ensure_schema(self) -> None:
        if self._schema is None:
            return
        found = self._conn.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self._schema,)
        ).fetchone()
        if found is None:
            self._conn.execute(
                sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self._schema))
            )

    def append(self, events: Iterable[ConsentEvent]) -> AppendResult:
        """Store a batch atomically and idempotently (see `ConsentStore`).

        Raises:
            ConflictError: an id is already stored with different content.
            StorageError: the server failed, or other writers kept getting in
                the way for every attempt; nothing of the batch is stored.
        """
        # The heads are locked by contact before the batch is split, so the
        # items are checked here, once, not in every retry.
        items: Iterable[object] = check_batch(events)
        batch = [
            item if isinstance(item, ConsentEvent) else check_batch_item(n, item)
            for n, item in enumerate(items)
        ]
        with self._lock, self._translated("append"):
            fresh, repeats = self._append_with_retries(batch)
        if fresh:
            log.debug("appended %d events, %d repeats", fresh, repeats)

        return AppendResult(added=fresh, duplicates=repeats)

    def _append_with_retries(self, batch: list[ConsentEvent]) -> tuple[int, int]:
        for attempt in itertools.count(1):
            try:
                return self._append_once(batch)
            except _TRANSIENT as error:
                if attempt >= self._attempts:
                    raise
                log.debug(
                    "append attempt %d met %s, retrying", attempt, type(error).__name__
                )
                time.sleep(_backoff(attempt))
        raise AssertionError  # unreachable: the loop returns or raises

    def _append_once(self, batch: list[ConsentEvent]) -> tuple[int, int]:
        with self._conn.transaction():
            heads = self._lock_heads(sorted({event.contact_id for event in batch}))
            fresh, repeats = new_events(batch, self._stored)
            if fresh:
                self._write(fresh, heads)

        return len(fresh), repeats

    def _lock_heads(self, contacts: list[str]) -> dict[str, _Head]:
        rows = self._conn.execute(
            f"SELECT {_STATUS_COLUMNS} FROM consent_status"  # noqa: S608 - constant
            f" WHERE contact_id IN ({_IDS}) ORDER BY contact_id FOR UPDATE",
            (json.dumps(contacts),),
        )
        return {row[0]: _Head.from_row(row) for row in rows}

    def _stored(self, ids: list[str]) -> dict[str, ConsentEvent]:
        rows = self._conn.execute(
            f"SELECT {_EVENT_COLUMNS} FROM consent_events"  # noqa: S608 - constant
            f" WHERE event_id IN ({_IDS})",
            (json.dumps(ids),),
        )
        return {row[0]: _event(row) for row in rows}

    def _write(self, fresh: list[ConsentEvent], heads: dict[str, _Head]) -> None:
        known = set(heads)
        event_rows = []
        for event in fresh:
            head = heads.get(event.contact_id) or _Head.empty(event.contact_id)
            digest = link_digest(head.digest, event)
            event_rows.append(_event_row(event, head.digest, digest))
            heads[event.contact_id] = head.extended(event, digest)
        created = sorted(c for c in heads if c not in known)
        # New contacts first, in contact order: a writer racing to create the
        # same contact fails here, before either has written its events.
        self._put_status([heads[c] for c in created], insert=True)
        self._put_status([heads[c] for c in sorted(known)], insert=False)
        with (
            self._conn.cursor() as cursor,
            cursor.copy(
                "COPY consent_events (event_id, contact_id, granted, occurred_at,"
                " occurred_iso, recorded_iso, source, evidence, actor, previous,"
                " digest) FROM STDIN"
            ) as copy,
        ):
            for row in event_rows:
                copy.write_row(row)

    def _put_status(self, heads: list[_Head], *, insert: bool) -> None:
        if not heads:
            return
        columns = [
            list(column) for column in zip(*(h.row() for h in heads), strict=True)
        ]
        statement = _INSERT_STATUS if insert else _UPDATE_STATUS
        self._conn.execute(statement, columns)

    def history(self, contact_id: str) -> list[ConsentEvent]:
        """Return the contact's events, newest first."""
        check_contact_id(contact_id)
        with self._lock, self._translated("history"):
            rows = self._conn.execute(
                f"SELECT {_EVENT_COLUMNS} FROM consent_events"  # noqa: S608 - constant
                " WHERE contact_id = %s"
                ' ORDER BY occurred_at DESC, granted ASC, event_id COLLATE "C" DESC',
                (contact_id,),
            ).fetchall()
        return [_event(row) for row in rows]

    def status(self, contact_id: str) -> Consent:
        """Return one contact's consent in force."""
        check_contact_id(contact_id)
        return self.status_many((contact_id,))[contact_id]

    def status_many(self, contact_ids: Iterable[str]) -> StatusMap:
        """Return the consent of many contacts: one query, with the ids as a
        single array parameter, per hundred thousand ids.
        """
        ids = dict.fromkeys(check_contact_ids(contact_ids))
        answers: dict[str, tuple[bool, str]] = {}
        asked = list(ids)
        with self._lock, self._translated("status_many"):
            for start in range(0, len(asked), _STATUS_CHUNK):
                chunk = asked[start : start + _STATUS_CHUNK]
                rows = self._conn.execute(
                    "SELECT s.contact_id, s.granted, s.occurred_iso"
                    " FROM jsonb_array_elements_text(%s::jsonb) AS asked (contact_id)"
                    " JOIN consent_status AS s USING (contact_id)",
                    (json.dumps(chunk),),
                ).fetchall()
                # fetchall builds every row in one call; iterating the cursor
                # costs a Python call per row.
                answers.update(
                    {contact: (granted, at) for contact, granted, at in rows}
                )
        return StatusMap(ids, answers)

    def contact_ids(self) -> Iterator[str]:
        """Iterate every contact with at least one event, in id order."""
        with self._lock, self._translated("contact_ids"):
            rows = self._conn.execute(
                'SELECT contact_id FROM consent_status ORDER BY contact_id COLLATE "C"'
            )
            ids = [row[0] for row in rows]
        return iter(ids)

    def links(self, contact_id: str) -> list[ChainLink]:
        """Return the contact's chain links in append order."""
        check_contact_id(contact_id)
        with self._lock, self._translated("links"):
            rows = self._conn.execute(
                f"SELECT {_EVENT_COLUMNS}, previous, digest"  # noqa: S608 - constant
                " FROM consent_events WHERE contact_id = %s ORDER BY seq",
                (contact_id,),
            ).fetchall()
        return [_link(row) for row in rows]

    def verify(self) -> VerifyReport:
        """Check every contact's hash chain against the stored heads.

        Reads one consistent snapshot, streaming the events contact by contact,
        so memory holds one contact's chain at a time.
        """
        with self._lock, self._translated("verify"), self._conn.transaction():
            self._conn.execute(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
            )
            heads: dict[str, str] = dict(
                self._conn.execute("SELECT contact_id, head FROM consent_status")
            )
            breaks, events, seen = self._walk_chains(heads)
        for contact_id in sorted(set(heads) - seen):
            found = verify_chain(contact_id, [], heads[contact_id])
            breaks.extend([found] if found is not None else [])
        breaks.sort(key=lambda found: found.contact_id)
        if breaks:
            log.warning("history verification found %d broken chains", len(breaks))

        return VerifyReport(contacts=len(heads), events=events, breaks=tuple(breaks))

    def _walk_chains(
        self, heads: Mapping[str, str]
    ) -> tuple[list[ChainBreak], int, set[str]]:
        seen: set[str] = set()
        with self._conn.cursor(name="trackconsent_verify") as cursor:
            cursor.itersize = 10_000
            cursor.execute(
                f"SELECT {_EVENT_COLUMNS}, previous, digest"  # noqa: S608 - constant
                " FROM consent_events ORDER BY contact_id, seq"
            )

            def chains() -> Iterator[tuple[str, list[ChainLink]]]:
                for contact_id, rows in itertools.groupby(cursor, key=_contact):
                    seen.add(contact_id)
                    yield contact_id, [_link(row) for row in rows]

            breaks, events = verify_chains(chains(), heads)

        return breaks, events, seen

    def close(self) -> None:
        """Close the connection. Closing twice is harmless."""
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        """Name the schema, never the connection string (it may hold a password)."""
        return f"PostgresStore(schema={self._schema!r})"

    @contextmanager
    def _translated(self, operation: str) -> Iterator[None]:
        """Turn psycopg errors into StorageError; reconnect after a lost link."""
        if self._conn.broken:
            self._conn.close()
            self._conn = self._connect()
        try:
            yield
        except psycopg.Error as error:
            raise StorageError(f"{operation}: PostgreSQL failed: {error}") from error


class _Head:
    """A contact's chain head and answer in force while a batch is written."""

    __slots__ = ("best", "contact_id", "count", "digest")

    def __init__(
        self,
        contact_id: str,
        digest: str,
        best: tuple[bool, datetime, str, str] | None,
        count: int,
    ) -> None:
        self.contact_id = contact_id
        self.digest = digest
        self.best = best
        self.count = count

    @classmethod
    def empty(cls, contact_id: str) -> _Head:
        return cls(contact_id, GENESIS, None, 0)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> _Head:
        contact_id, granted, occurred_at, occurred_iso, event_id, head, count = row
        return cls(
            contact_id, head, (granted, occurred_at, occurred_iso, event_id), count
        )

    def extended(self, event: ConsentEvent, digest: str) -> _Head:
        granted = event.answer is Answer.GRANTED
        best = self.best
        if best is None or event_order_key(event) > (best[1], not best[0], best[3]):
            best = (
                granted,
                event.occurred_at,
                event.occurred_at.isoformat(),
                event.event_id,
            )
        return _Head(self.contact_id, digest, best, self.count + 1)

    def row(self) -> tuple[Any, ...]:
        assert self.best is not None
        granted, occurred_at, occurred_iso, event_id = self.best
        return (
            self.contact_id,
            granted,
            occurred_at,
            occurred_iso,
            event_id,
            self.digest,
            self.count,
        )


def _backoff(attempt: int) -> float:
    # Jitter spreads writers that collided, so they do not collide again.
    ceiling = min(0.2, 0.002 * 2.0**attempt)
    return ceiling * random.random()  # noqa: S311 - jitter, not a secret


def _event_row(event: ConsentEvent, previous: str, digest: str) -> tuple[Any, ...]:
    return (
        event.event_id,
        event.contact_id,
        event.answer is Answer.GRANTED,
        event.occurred_at,
        event.occurred_at.isoformat(),
        event.recorded_at.isoformat(),
        event.source.value,
        json.dumps(event.evidence.as_dict(), sort_keys=True),
        event.actor,
        previous,
        digest,
    )


def _event(row: Sequence[Any]) -> ConsentEvent:
    event_id, contact_id, granted, occurred, recorded, source, evidence, actor = row
    return ConsentEvent(
        event_id=event_id,
        contact_id=contact_id,
        answer=Answer.GRANTED if granted else Answer.REFUSED,
        occurred_at=datetime.fromisoformat(occurred),
        recorded_at=datetime.fromisoformat(recorded),
        source=Source(source),
        evidence=Evidence(**evidence),
        actor=actor,
    )


def _link(row: Sequence[Any]) -> ChainLink:
    """A chain link from the event columns followed by previous and digest."""
    return ChainLink(_event(row[:8]), row[8], row[9])


def _contact(row: Sequence[Any]) -> str:
    contact_id: str = row[1]
    return contact_id
