"""The store contract, run against every adapter that ships with trackconsent."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import attrs
import pytest

from trackconsent import (
    Answer,
    ConsentState,
    InvalidValueError,
    MemoryStore,
    SchemaVersionError,
    SQLiteStore,
    StorageError,
)
from trackconsent.storage import ConsentStore
from trackconsent.storage.sqlite import MIGRATIONS, SCHEMA_VERSION
from trackconsent.testing import ConsentStoreContract, make_event


class TestMemoryStore(ConsentStoreContract):
    """The contract on the in-memory store."""

    def make_store(self) -> ConsentStore:
        """A new memory store."""
        return MemoryStore()

    def edit_stored_event(self, store: ConsentStore, event_id: str) -> None:
        """Flip the answer of a stored link in place."""
        assert isinstance(store, MemoryStore)

        for links in store._links.values():
            for n, link in enumerate(links):
                if link.event.event_id == event_id:
                    event = attrs.evolve(link.event, answer=Answer.REFUSED)
                    links[n] = attrs.evolve(link, event=event)

    def delete_stored_event(self, store: ConsentStore, event_id: str) -> None:
        """Remove a link from the contact's list in place."""
        assert isinstance(store, MemoryStore)
        for links in store._links.values():
            links[:] = [link for link in links if link.event.event_id != event_id]


class TestSQLiteStore(ConsentStoreContract):
    """The contract on the SQLite store, each test with a new file."""

    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.count = 0

    def make_store(self) -> ConsentStore:
        """A new SQLite file in the test's temporary folder."""
        self.count += 1
        return SQLiteStore(self.tmp / f"store{self.count}.db")

    def edit_stored_event(self, store: ConsentStore, event_id: str) -> None:
        """Flip a stored answer with plain SQL."""
        self._sql(
            store,
            "UPDATE events SET granted = 1 - granted WHERE event_id = ?",
            event_id,
        )

    def delete_stored_event(self, store: ConsentStore, event_id: str) -> None:
        """Delete a stored row with plain SQL."""
        self._sql(store, "DELETE FROM events WHERE event_id = ?", event_id)

    def _sql(self, store: ConsentStore, statement: str, event_id: str) -> None:
        assert isinstance(store, SQLiteStore)
        with sqlite3.connect(store.path) as db:
            db.execute(statement, (event_id,))


def test_an_old_schema_is_upgraded_and_keeps_its_events(tmp_path: Path) -> None:
    """Given a file at schema 1 with events, when opened, then upgraded to the
    current version with statuses filled from the events.
    """
    path = tmp_path / "old.db"
    with SQLiteStore(path) as store:
        store.append(
            [make_event("a", Answer.GRANTED, 1), make_event("a", Answer.REFUSED, 2)]
        )
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE status")
        db.execute("PRAGMA user_version = 1")
    assert len(MIGRATIONS) == SCHEMA_VERSION == 2

    with SQLiteStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.status("a").state is ConsentState.REFUSED
        assert store.verify().ok


def test_a_file_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    """Given a file whose schema is newer than this release, then refused."""
    path = tmp_path / "new.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

    with pytest.raises(SchemaVersionError, match="newer"):
        SQLiteStore(path)


def test_a_path_that_cannot_be_opened_is_a_storage_error(tmp_path: Path) -> None:
    """Given a directory in place of the file, then a StorageError, not sqlite3's."""
    with pytest.raises(StorageError, match="cannot open") as caught:
        SQLiteStore(tmp_path)

    assert isinstance(caught.value, OSError)


def test_a_file_that_is_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    """Given a text file, then opening it fails with StorageError."""
    path = tmp_path / "notes.db"
    path.write_text("not a database, just notes " * 100)

    with pytest.raises(StorageError):
        SQLiteStore(path)


@pytest.mark.parametrize("path", [None, 5, b"store.db", ["store.db"]], ids=repr)
def test_a_path_that_is_not_a_path_is_refused_and_creates_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: object
) -> None:
    """Given SQLiteStore called with None, a number, bytes or a list, then
    InvalidValueError names the path and no file appears (it used to create
    one named after the value).
    """
    monkeypatch.chdir(tmp_path)

    with pytest.raises(InvalidValueError, match="path: not a file path"):
        SQLiteStore(path)  # type: ignore[arg-type]

    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_database_says_why(tmp_path: Path) -> None:
    """Given a file that is not SQLite, then the StorageError gives SQLite's
    reason as well as the file.
    """
    path = tmp_path / "notes.db"
    path.write_bytes(b"not a database, just text\n" * 200)

    with pytest.raises(StorageError) as caught:
        SQLiteStore(path)

    assert "notes.db" in str(caught.value)
    assert "file is not a database" in str(caught.value)
