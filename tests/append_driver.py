"""A separate process that appends events to a store in batches, as an import
or a busy host would, for the concurrency and crash tests.

Run from the project root::

    python -m tests.append_driver sqlite PATH EVENTS.jsonl --batch 2000
    python -m tests.append_driver postgres URL EVENTS.jsonl --schema S

It reads the events of a JSON lines file (`write_events`), appends them through
``store.append`` in batches of the given size, or of random sizes with
``--batch 0``, and reports on standard output, flushed at once:
``begin K`` before batch K, ``committed K ADDED DUPLICATES`` after it, and
``done ADDED DUPLICATES`` at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trackconsent import (
    Answer,
    ConsentEvent,
    ConsentStore,
    Evidence,
    Source,
    SQLiteStore,
)

T0 = datetime(2023, 1, 1, tzinfo=UTC)


def workload(
    seed: object, count: int, contacts: int, *, actor: str
) -> list[ConsentEvent]:
    """Return ``count`` distinct events for ``contacts`` shared contact ids.

    The same seed and actor give the same events in every process. Moments
    fall on whole hours, so some events of a contact happened at the same
    instant and the tie rule decides between them.
    """
    rng = random.Random(str(seed))
    sources = list(Source)
    zones = (UTC, datetime.fromisoformat("2023-01-01T00:00+02:00").tzinfo)
    events = []
    for number in range(count):
        occurred = T0 + timedelta(hours=rng.randrange(2000))
        events.append(
            ConsentEvent(
                # Ids named, not derived from content: generating 80,000
                # events stays cheap, and every one is distinct.
                event_id=f"{actor}-{seed}-{number}",
                contact_id=f"contact-{rng.randrange(contacts)}",
                answer=rng.choice((Answer.GRANTED, Answer.REFUSED)),
                occurred_at=occurred.astimezone(rng.choice(zones)),
                recorded_at=occurred + timedelta(minutes=rng.randrange(10_000)),
                source=rng.choice(sources),
                evidence=Evidence(form_id=f"form-{rng.randrange(5)}"),
                actor=actor,
            )
        )
    return events


def write_events(path: Path, events: Sequence[ConsentEvent]) -> None:
    """Write events as JSON lines, one object per event."""
    with path.open("w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(_as_json(event)) + "\n")


def read_events(path: Path) -> Iterator[ConsentEvent]:
    """Read the events `write_events` wrote, in order."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            fields = json.loads(line)
            yield ConsentEvent(
                event_id=fields["event_id"],
                contact_id=fields["contact_id"],
                answer=Answer(fields["answer"]),
                occurred_at=datetime.fromisoformat(fields["occurred_at"]),
                recorded_at=datetime.fromisoformat(fields["recorded_at"]),
                source=Source(fields["source"]),
                evidence=Evidence(**fields["evidence"]),
                actor=fields["actor"],
            )


def _as_json(event: ConsentEvent) -> dict[str, object]:
    return {
        "event_id": event.event_id,
        "contact_id": event.contact_id,
        "answer": event.answer.value,
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "source": event.source.value,
        "evidence": event.evidence.as_dict(),
        "actor": event.actor,
    }


def batches(
    events: Sequence[ConsentEvent], size: int, seed: object
) -> list[list[ConsentEvent]]:
    """Cut events into batches of ``size``, or of random sizes when it is 0."""
    rng = random.Random(str(seed))
    cut: list[list[ConsentEvent]] = []
    start = 0
    while start < len(events):
        step = size or rng.randint(1, 400)
        cut.append(list(events[start : start + step]))
        start += step
    return cut


def open_store(kind: str, target: str, schema: str | None) -> ConsentStore:
    """Open the store the driver appends to."""
    if kind == "sqlite":
        return SQLiteStore(target)
    # Imported here so that SQLite runs do not pay for loading psycopg.
    from trackconsent import PostgresStore

    return PostgresStore(target, schema=schema)


def main(argv: Sequence[str] | None = None) -> int:
    """Append the file's events batch by batch, reporting each one."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=("sqlite", "postgres"))
    parser.add_argument("target", help="SQLite file or PostgreSQL URL")
    parser.add_argument("events", type=Path, help="JSON lines file of events")
    parser.add_argument("--schema", default=None)
    parser.add_argument("--batch", type=int, default=1000, help="0: random sizes")
    args = parser.parse_args(argv)

    events = list(read_events(args.events))
    added = duplicates = 0
    with open_store(args.kind, args.target, args.schema) as store:
        for number, batch in enumerate(batches(events, args.batch, args.events), 1):
            _say(f"begin {number}")
            result = store.append(batch)
            added += result.added
            duplicates += result.duplicates
            _say(f"committed {number} {result.added} {result.duplicates}")
    _say(f"done {added} {duplicates}")

    return 0


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
