"""status_many of a million ids on SQLiteStore, against a raw sqlite3 query.

The baseline asks the same file's ``status`` table for the same ids in one
batched query through plain sqlite3 and builds a dict of the rows: what any
hand-written adapter would do. Half the ids asked have answered, half never
did. Sizes scale with TRACKCONSENT_BENCH_SCALE (1 = a million ids).
"""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trackconsent import Answer, ConsentEvent, Source, SQLiteStore

SCALE = float(os.environ.get("TRACKCONSENT_BENCH_SCALE", "1"))
IDS = int(1_000_000 * SCALE)
REPEATS = 5
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def fill(store: SQLiteStore, count: int) -> None:
    """Give ``count`` contacts one answer each, in batches."""
    start = datetime(2015, 1, 1, tzinfo=UTC)
    for first in range(0, count, 50_000):
        store.append(
            ConsentEvent.new(
                contact_id=f"contact-{n:07d}",
                answer=Answer.GRANTED if n % 3 else Answer.REFUSED,
                occurred_at=start + timedelta(minutes=n),
                recorded_at=NOW,
                source=Source.IMPORT,
            )
            for n in range(first, min(first + 50_000, count))
        )


def raw_query(db: sqlite3.Connection, ids: list[str]) -> int:
    """The baseline: one batched query on the same table with plain sqlite3."""
    rows = db.execute(
        "SELECT contact_id, granted, occurred_at FROM status"
        " WHERE contact_id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),),
    )
    found = {contact: (granted, at) for contact, granted, at in rows}
    return len(found)


def best_of(runs: dict[str, Callable[[], int]], repeats: int) -> dict[str, float]:
    """Best wall time of each run, the runs interleaved repeat after repeat."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            gc.collect()
            started = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def main() -> None:
    """Build the store once, then time both look-ups side by side."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "status.db"
        with SQLiteStore(path) as store, closing(sqlite3.connect(path)) as raw:
            fill(store, IDS // 2)
            ids = [f"contact-{n:07d}" for n in range(IDS)]
            times = best_of(
                {
                    "raw": lambda: raw_query(raw, ids),
                    "store": lambda: len(store.status_many(ids)),
                },
                REPEATS,
            )
        store_time, raw_time = times["store"], times["raw"]
        print(f"bench_status_many: {IDS} ids, half answered, scale {SCALE}")
        print(
            f"{'status_many on SQLiteStore (s)':44} {store_time:10.3f} s"
            f"  baseline {raw_time:10.3f} s  ratio {store_time / raw_time:5.2f}x"
        )


if __name__ == "__main__":
    main()
