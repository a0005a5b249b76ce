"""Importing a large contact file, against reading it with csv + fromisoformat.

Figures, each beside its baseline (csv.reader plus datetime.fromisoformat over
the same file, the least any import must do) and their ratio:

- parse + build events: `import_csv` into a store that answers "never asked"
  and keeps nothing, so the figure is the import's own work (both passes over
  the file, the checks, the status look-ups and the events);
- full import into a fresh `SQLiteStore` file;
- peak memory (tracemalloc) of the import at two file sizes: flat means the
  larger file needs no more memory than the smaller one.

Sizes scale with TRACKCONSENT_BENCH_SCALE (1 = a million rows).
"""

from __future__ import annotations

import csv
import gc
import os
import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Self

from trackconsent import ConsentEvent, SQLiteStore
from trackconsent.capture import import_csv
from trackconsent.storage import AppendResult, StatusMap, VerifyReport

SCALE = float(os.environ.get("TRACKCONSENT_BENCH_SCALE", "1"))
ROWS = int(1_000_000 * SCALE)
REPEATS = 3
NOW = datetime(2025, 1, 1, tzinfo=UTC)


class DiscardingStore:
    """A store that has never heard of anyone and forgets what it is given."""

    def __init__(self) -> None:
        self.events = 0

    def append(self, events: Iterable[ConsentEvent]) -> AppendResult:
        batch = list(events)
        self.events += len(batch)
        return AppendResult(added=len(batch))

    def history(self, contact_id: str) -> list[ConsentEvent]:
        return []

    def status(self, contact_id: str) -> object:
        return self.status_many([contact_id])[contact_id]

    def status_many(self, contact_ids: Iterable[str]) -> StatusMap:
        return StatusMap(contact_ids, {})

    def contact_ids(self) -> Iterator[str]:
        return iter(())

    def verify(self) -> VerifyReport:
        return VerifyReport(contacts=0, events=0)

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def make_file(path: Path, rows: int) -> Path:
    """Write ``rows`` contacts with an answer and an ISO 8601 moment each."""
    rng = random.Random(7)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "hasTrackingConsent", "dtTrackingConsent"])
        for n in range(rows):
            moment = start + timedelta(seconds=rng.randrange(300_000_000))
            flag = "true" if rng.random() < 0.7 else "false"
            writer.writerow([f"contact-{n:07d}@example.com", flag, moment.isoformat()])
    return path


def baseline(path: Path) -> int:
    """The least an import must do: split the rows and read the moments."""
    count = 0
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            datetime.fromisoformat(row[2])
            count += 1
    return count


def parse_and_build(path: Path) -> int:
    """The import's own work, into a store that keeps nothing."""
    store = DiscardingStore()
    import_csv(path, store, recorded_at=NOW, actor="bench")
    return store.events


def full_sqlite(path: Path) -> int:
    """The whole import into a fresh SQLite file."""
    db = path.with_suffix(f".{time.perf_counter_ns()}.db")
    try:
        with SQLiteStore(db) as store:
            return import_csv(path, store, recorded_at=NOW, actor="bench").events_added
    finally:
        for leftover in db.parent.glob(db.name + "*"):
            leftover.unlink()


def best_of(runs: dict[str, Callable[[], int]], repeats: int) -> dict[str, float]:
    """Best wall time of each run, the runs interleaved repeat after repeat."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def peak_memory(path: Path) -> int:
    """Peak bytes allocated while importing ``path`` (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        parse_and_build(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def line(label: str, figure: float, base: float, unit: str) -> None:
    """Print a figure beside its baseline and their ratio."""
    print(
        f"{label:44} {figure:10.3f} {unit}  baseline {base:10.3f} {unit}"
        f"  ratio {figure / base:5.2f}x"
    )


def main() -> None:
    """Run every figure and print it beside its baseline."""
    with tempfile.TemporaryDirectory() as folder:
        big = make_file(Path(folder) / "contacts.csv", ROWS)
        print(
            f"bench_import: {ROWS} rows, {big.stat().st_size / 1e6:.1f} MB,"
            f" scale {SCALE}"
        )
        times = best_of(
            {"baseline": lambda: baseline(big), "import": lambda: parse_and_build(big)},
            REPEATS,
        )
        line(
            "import, parse + build events (s)", times["import"], times["baseline"], "s"
        )
        sqlite = best_of({"sqlite": lambda: full_sqlite(big)}, 2)["sqlite"]
        line("import into SQLiteStore, everything (s)", sqlite, times["baseline"], "s")
        # Both sizes span several batches of 10,000 rows, so flat means ~1x.
        small_rows = max(ROWS // 10, 30_000)
        small = make_file(Path(folder) / "small.csv", small_rows)
        large = make_file(Path(folder) / "large.csv", small_rows * 4)
        low, high = peak_memory(small), peak_memory(large)
        line(
            f"peak memory at {small_rows * 4} rows vs {small_rows} (MB)",
            high / 1e6,
            low / 1e6,
            "MB",
        )


if __name__ == "__main__":
    main()
