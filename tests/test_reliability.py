"""Nothing is lost under concurrency or crashes, on SQLite and on PostgreSQL.

Writers are real processes (`tests.append_driver`) appending to one store at
once; a crash is a SIGKILL sent while the driver's write transaction is open.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from psycopg.conninfo import make_conninfo

from tests import pg
from tests.append_driver import batches, open_store, workload, write_events
from tests.services import postgres_url
from trackconsent import ConsentEvent, ConsentStore, consent_status
from trackconsent.ledger import chain

ROOT = Path(__file__).resolve().parents[1]

WORKERS = 8
EVENTS_PER_WORKER = 10_000
SHARED_EVENTS = 1_000
"""Events every worker appends too: repeats that must be stored once."""

Snapshot = dict[str, list[tuple[ConsentEvent, str, str]]]


class Target:
    """Where a store lives: an SQLite file or a PostgreSQL schema."""

    def __init__(self, kind: str, location: str, schema: str | None) -> None:
        """Name the store."""
        self.kind = kind
        self.location = location
        self.schema = schema

    def open(self) -> ConsentStore:
        """Open the store in this process."""
        return open_store(self.kind, self.location, self.schema)

    def driver(self, events: Path, *options: str, name: str = "") -> list[str]:
        """The command that runs the append driver on this store."""
        location = self.location
        if self.kind == "postgres" and name:
            location = make_conninfo(location, application_name=name)
        command = [sys.executable, "-m", "tests.append_driver", self.kind, location]
        command += [str(events), *options]
        if self.schema is not None:
            command += ["--schema", self.schema]
        return command

    def is_writing(self, name: str) -> bool:
        """True while some writer holds an open write transaction."""
        if self.kind == "sqlite":
            return _sqlite_is_locked(self.location)
        with pg.connection(self.location) as conn:
            row = conn.execute(
                "SELECT backend_xid IS NOT NULL FROM pg_stat_activity"
                " WHERE application_name = %s",
                (name,),
            ).fetchone()
        return bool(row and row[0])


def _sqlite_is_locked(path: str) -> bool:
    db = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return True
    finally:
        db.close()
    return False


@pytest.fixture(params=["sqlite", "postgres"])
def stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], Target]]:
    """Make new, empty stores of one kind, all removed after the test."""
    schemas: list[str] = []
    url = postgres_url() if request.param == "postgres" else ""

    def make() -> Target:
        if request.param == "sqlite":
            target = Target("sqlite", str(tmp_path / f"store{len(schemas)}.db"), None)
            schemas.append(target.location)
        else:
            schemas.append(pg.scratch_name())
            target = Target("postgres", url, schemas[-1])
        target.open().close()  # create the tables before any writer starts
        return target

    yield make
    if url:
        pg.drop_schemas(url, schemas)


def _run(command: list[str]) -> list[str]:
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.slow
def test_eight_writers_on_shared_contacts_lose_and_duplicate_nothing(
    stores: Callable[[], Target], tmp_path: Path
) -> None:
    """Given 8 processes each appending 10,000 events in batches of random
    sizes, for 1,000 shared contacts, with 1,000 events every process appends,
    then each event is stored once, each status is consent_status of the
    contact's events, and every chain verifies.
    """
    target = stores()
    shared = workload("shared", SHARED_EVENTS, 1000, actor="everyone")
    files = []
    everything: dict[str, ConsentEvent] = {e.event_id: e for e in shared}
    for worker in range(WORKERS):
        own = workload(
            worker, EVENTS_PER_WORKER - SHARED_EVENTS, 1000, actor=f"w{worker}"
        )
        everything.update((e.event_id, e) for e in own)
        files.append(tmp_path / f"worker{worker}.jsonl")
        write_events(files[-1], own[: len(own) // 2] + shared + own[len(own) // 2 :])

    writers = [
        subprocess.Popen(
            target.driver(path, "--batch", "0"),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in files
    ]
    outputs = [writer.communicate() for writer in writers]

    assert [writer.returncode for writer in writers] == [0] * WORKERS, outputs
    totals = [out.splitlines()[-1].split() for out, _ in outputs]
    added = sum(int(total[1]) for total in totals)
    repeats = sum(int(total[2]) for total in totals)
    assert (added, repeats) == (len(everything), WORKERS * EVENTS_PER_WORKER - added)
    with target.open() as store:
        _assert_holds_exactly(store, list(everything.values()))


def _assert_holds_exactly(store: ConsentStore, events: Sequence[ConsentEvent]) -> None:
    by_contact: dict[str, list[ConsentEvent]] = {}
    for event in events:
        by_contact.setdefault(event.contact_id, []).append(event)

    assert sorted(store.contact_ids()) == sorted(by_contact)
    statuses = store.status_many(by_contact)
    for contact, mine in by_contact.items():
        history = store.history(contact)
        assert len(history) == len(mine), contact
        assert set(history) == set(mine), contact
        assert statuses[contact] == consent_status(mine), contact
    report = store.verify()
    assert report.ok, report.breaks
    assert (report.contacts, report.events) == (len(by_contact), len(events))


CRASH_BATCH = 800


@pytest.mark.slow
def test_an_import_killed_mid_batch_keeps_whole_batches_and_resumes(
    stores: Callable[[], Target], tmp_path: Path
) -> None:
    """Given an import killed with SIGKILL while a batch is being written, then
    the store holds exactly the batches committed before it; running the import
    again completes it, and the result equals an uninterrupted import.
    """
    events = workload("crash", 8000, 1000, actor="import")
    # A real import file repeats rows, some of them across batches.
    events += events[1000:1800]
    source = tmp_path / "import.jsonl"
    write_events(source, events)
    cut = batches(events, CRASH_BATCH, source)
    name = pg.scratch_name()

    crashed = stores()
    committed = _kill_while_writing(crashed, source, name)
    with crashed.open() as store:
        state = _snapshot(store)
    assert state in (_expected(cut[:committed]), _expected(cut[: committed + 1]))
    assert state != _expected(cut)

    _run(crashed.driver(source, "--batch", str(CRASH_BATCH)))
    uninterrupted = stores()
    _run(uninterrupted.driver(source, "--batch", str(CRASH_BATCH)))

    with crashed.open() as resumed, uninterrupted.open() as reference:
        assert _snapshot(resumed) == _snapshot(reference) == _expected(cut)
        assert resumed.verify().ok


def _kill_while_writing(target: Target, source: Path, name: str) -> int:
    """Run the driver, SIGKILL it inside a write after two batches, and return
    how many batches it reported committed.
    """
    driver = subprocess.Popen(
        target.driver(source, "--batch", str(CRASH_BATCH), name=name),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert driver.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(driver.stdout or ()))
    reader.start()
    try:
        _wait_for(lambda: sum(line.startswith("committed") for line in lines) >= 2)
        _wait_for(lambda: target.is_writing(name))
        driver.send_signal(signal.SIGKILL)
    finally:
        driver.kill()
        driver.wait()
        reader.join()
        driver.stdout.close()
    assert lines[-1].startswith("begin"), lines

    return sum(line.startswith("committed") for line in lines)


def _wait_for(condition: Callable[[], bool]) -> None:
    for _ in range(20_000):
        if condition():
            return
        time.sleep(0.001)
    raise AssertionError("the driver never got there")


def _snapshot(store: ConsentStore) -> Snapshot:
    """Every contact's chain links, in append order, with their digests."""
    links = store.links  # type: ignore[attr-defined]
    return {
        contact: [(link.event, link.previous, link.digest) for link in links(contact)]
        for contact in store.contact_ids()
    }


def _expected(done: Sequence[Sequence[ConsentEvent]]) -> Snapshot:
    """The chains a store holds after appending ``done``, computed directly."""
    seen: set[str] = set()
    by_contact: dict[str, list[ConsentEvent]] = {}
    for batch in done:
        for event in batch:
            if event.event_id not in seen:
                seen.add(event.event_id)
                by_contact.setdefault(event.contact_id, []).append(event)
    return {
        contact: [(link.event, link.previous, link.digest) for link in chain(mine)]
        for contact, mine in sorted(by_contact.items())
    }
