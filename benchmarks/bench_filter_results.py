"""filter_results on a large sending, beside the least work that gives its rows.

A sending to a million recipients (scaled by TRACKCONSENT_BENCH_SCALE), of
whom 10% refused tracking, 40% granted it and half were never asked (tracked
under the default opt-out regime). Compared, best of several interleaved
repeats:

1. consents in a mapping: ``filter_results`` (view, totals, untracked count)
   vs. a bare list comprehension over the rows with a ready set of untracked
   ids; also vs. building that set from the same mapping first, since a
   caller holding a mapping has to.
2. consents in a SQLiteStore: ``filter_results`` with the store vs. one raw
   sqlite3 batched query for the refused ids plus the same comprehension.

Peak memory of each is measured with tracemalloc in separate runs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trackconsent import (
    Answer,
    Channel,
    Consent,
    ConsentEvent,
    ConsentState,
    Outcome,
    ProjectSettings,
    RecipientResult,
    ResultSet,
    Source,
    SQLiteStore,
    filter_results,
)

SCALE = float(os.environ.get("TRACKCONSENT_BENCH_SCALE", "1"))
N = max(1000, int(1_000_000 * SCALE))
REPEATS = 7
T0 = datetime(2024, 1, 1, tzinfo=UTC)
SETTINGS = ProjectSettings("bench").switch_feature(True, actor="bench", at=T0)

OUTCOME_SETS = [
    frozenset({Outcome.SENT, Outcome.DELIVERED}),
    frozenset({Outcome.SENT, Outcome.DELIVERED, Outcome.OPENED}),
    frozenset({Outcome.SENT, Outcome.DELIVERED, Outcome.OPENED, Outcome.CLICKED}),
    frozenset({Outcome.SENT, Outcome.BOUNCED}),
]


def state_of(n: int) -> ConsentState:
    """10% refused, 40% granted, the rest never asked."""
    if n % 10 == 0:
        return ConsentState.REFUSED
    return ConsentState.GRANTED if n % 10 < 5 else ConsentState.UNKNOWN


def build() -> tuple[ResultSet, dict[str, Consent], set[str], list[ConsentEvent]]:
    ids = [f"contact-{n:08d}" for n in range(N)]
    rows = [RecipientResult(cid, OUTCOME_SETS[n % 4]) for n, cid in enumerate(ids)]
    result_set = ResultSet.from_rows("newsletter-42", Channel.EMAIL, rows)
    at = T0 + timedelta(days=3)
    mapping = {}
    events = []
    for n, cid in enumerate(ids):
        state = state_of(n)
        if state is ConsentState.UNKNOWN:
            mapping[cid] = Consent.unknown()
            continue
        mapping[cid] = Consent(state, at)
        answer = Answer.GRANTED if state is ConsentState.GRANTED else Answer.REFUSED
        events.append(
            ConsentEvent.new(
                contact_id=cid,
                answer=answer,
                occurred_at=at,
                recorded_at=at,
                source=Source.IMPORT,
            )
        )
    # Ids from another source than the rows, as a host's would be.
    untracked = {f"contact-{n:08d}" for n in range(0, N, 10)}
    return result_set, mapping, untracked, events


def best_of(cases: dict[str, Callable[[], object]]) -> dict[str, float]:
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(REPEATS):
        for name, run in cases.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def peak(run: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        kept = run()
        size = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del kept
    return size


def line(label: str, ours: float, base: float, unit: str = "s") -> None:
    if unit == "s":
        print(f"  {label}: {ours:.3f} s vs {base:.3f} s, ratio {ours / base:.2f}x")
    else:
        mib = 1024 * 1024
        print(
            f"  {label}: {ours / mib:.1f} MiB vs {base / mib:.1f} MiB,"
            f" ratio {ours / base:.2f}x"
        )


def main() -> None:
    print(f"filter_results, {N} recipients, 10% untracked (scale {SCALE})")
    result_set, mapping, untracked, events = build()
    rows = result_set.rows

    def ours_mapping() -> object:
        view = filter_results(result_set, mapping, SETTINGS)
        return view.rows, view.totals, view.untracked

    def ours_mapping_rates() -> object:
        return filter_results(result_set, mapping, SETTINGS).rates

    def bare() -> object:
        return [r for r in rows if r.contact_id not in untracked]

    def bare_with_set() -> object:
        refused = ConsentState.REFUSED
        found = {cid for cid, c in mapping.items() if c.state is refused}
        return [r for r in rows if r.contact_id not in found]

    times = best_of(
        {
            "ours": ours_mapping,
            "ours+rates": ours_mapping_rates,
            "bare": bare,
            "bare+set": bare_with_set,
        }
    )
    check = filter_results(result_set, mapping, SETTINGS)
    assert list(check.rows) == bare(), "filter_results and the baseline disagree"
    print("consents in a mapping")
    line(
        "filter_results vs comprehension with a ready set", times["ours"], times["bare"]
    )
    line(
        "filter_results vs set from the mapping + comprehension",
        times["ours"],
        times["bare+set"],
    )
    line(
        "filter_results + rates over tracked vs comprehension",
        times["ours+rates"],
        times["bare"],
    )
    line(
        "peak memory vs comprehension with a ready set",
        peak(ours_mapping),
        peak(bare),
        unit="B",
    )

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        with SQLiteStore(path) as store:
            for start in range(0, len(events), 50_000):
                store.append(events[start : start + 50_000])
            del events
            raw = sqlite3.connect(path)
            ids = [row.contact_id for row in rows]

            def ours_store() -> object:
                view = filter_results(result_set, store, SETTINGS)
                return view.rows, view.totals, view.untracked

            def raw_query() -> object:
                found = {
                    cid
                    for (cid,) in raw.execute(
                        "SELECT contact_id FROM status WHERE granted = 0"
                        " AND contact_id IN (SELECT value FROM json_each(?))",
                        (json.dumps([r.contact_id for r in rows]),),
                    )
                }
                return [r for r in rows if r.contact_id not in found]

            times = best_of({"ours": ours_store, "raw": raw_query})
            assert list(filter_results(result_set, store, SETTINGS).rows) == raw_query()
            print("consents in a SQLiteStore")
            line(
                "filter_results vs raw batched query + comprehension",
                times["ours"],
                times["raw"],
            )
            line(
                "peak memory vs raw batched query + comprehension",
                peak(ours_store),
                peak(raw_query),
                unit="B",
            )
            raw.close()
            del ids


if __name__ == "__main__":
    main()
