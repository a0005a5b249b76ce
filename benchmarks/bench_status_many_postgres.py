"""status_many of a million ids on PostgreSQL, against a raw psycopg query.

Two baselines, each a raw psycopg query whose rows are read into a dict by
contact id: what a host would write by hand (``= ANY(%s)`` with a list of ids),
and the very query the store sends (the ids as one JSON array), which isolates
the store's own overhead. The figures to watch are the ratios (aim: at most
1.5).

Needs a server: set TRACKCONSENT_POSTGRES_URL (``.ci/run`` shows how to start
one). Without it the script says it skipped and exits 0. Sizes scale with
TRACKCONSENT_BENCH_SCALE (1 = a million ids, four in five of them known).
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Callable

REPEATS = 5
URL = os.environ.get("TRACKCONSENT_POSTGRES_URL", "")
SCALE = float(os.environ.get("TRACKCONSENT_BENCH_SCALE", "1"))
IDS = max(1000, int(1_000_000 * SCALE))
KNOWN = IDS * 4 // 5

BY_ARRAY = (
    "SELECT contact_id, granted, occurred_iso FROM consent_status"
    " WHERE contact_id = ANY(%s)"
)
BY_JSON = (
    "SELECT s.contact_id, s.granted, s.occurred_iso"
    " FROM jsonb_array_elements_text(%s::jsonb) AS asked (contact_id)"
    " JOIN consent_status AS s USING (contact_id)"
)


def main() -> int:
    if not URL:
        print(
            "bench_status_many_postgres: SKIPPED: TRACKCONSENT_POSTGRES_URL is not set"
        )
        return 0
    # Imported only now, so that the script can say it skipped without them.
    import psycopg  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415

    from trackconsent import ConsentState, PostgresStore  # noqa: PLC0415

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    ids = [f"contact-{n}" for n in range(IDS)]
    raw = psycopg.connect(URL, autocommit=True)
    raw.execute("SET TIME ZONE 'UTC'")
    try:
        with PostgresStore(URL, schema=schema) as store:
            raw.execute(
                "SELECT set_config('search_path', %s, false)",
                (sql.Identifier(schema).as_string(raw),),
            )
            _load_statuses(raw)

            def ours() -> object:
                return store.status_many(ids)

            def by_array() -> object:
                rows = raw.execute(BY_ARRAY, (ids,))
                return {contact: (granted, at) for contact, granted, at in rows}

            def by_json() -> object:
                rows = raw.execute(BY_JSON, (json.dumps(ids),))
                return {contact: (granted, at) for contact, granted, at in rows}

            found = store.status_many(ids)
            granted = sum(found.state(i) is ConsentState.GRANTED for i in ids)
            assert granted == len(_granted(by_array())) == len(_granted(by_json()))
            best = _interleaved(ours, by_array, by_json)
    finally:
        raw.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )
        raw.close()

    ours_s, array_s, json_s = best
    print(
        f"status_many of {IDS:,} ids ({KNOWN:,} known), PostgreSQL, best of {REPEATS}:"
    )
    print(f"  PostgresStore.status_many          {ours_s:8.3f} s")
    print(f"  raw psycopg, = ANY(list of ids)    {array_s:8.3f} s   (baseline)")
    print(f"  raw psycopg, same JSON-array query {json_s:8.3f} s   (baseline)")
    aim = "(aim: at most 1.5 x)"
    print(f"  ratio vs = ANY(list)               {ours_s / array_s:8.2f} x   {aim}")
    print(f"  ratio vs same query                {ours_s / json_s:8.2f} x   {aim}")

    return 0


def _granted(answers: object) -> list[str]:
    assert isinstance(answers, dict)
    return [contact for contact, (granted, _) in answers.items() if granted]


def _load_statuses(raw: object) -> None:
    """Fill the status table directly with SQL: status_many reads only it, and
    appending a million events first would take minutes.
    """
    raw.execute(  # type: ignore[attr-defined]
        "INSERT INTO consent_status"
        " SELECT 'contact-' || n, n %% 3 = 0,"
        "   timestamptz '2024-01-01 00:00+00' + n * interval '1 second',"
        "   to_char(timestamptz '2024-01-01 00:00+00' + n * interval '1 second',"
        "           'YYYY-MM-DD\"T\"HH24:MI:SS') || '+00:00',"
        "   'ev-' || n, repeat('0', 64), 1"
        " FROM generate_series(0, %s - 1) AS n",
        (KNOWN,),
    )
    raw.execute("VACUUM ANALYZE consent_status")  # type: ignore[attr-defined]


def _interleaved(*calls: Callable[[], object]) -> list[float]:
    best = [float("inf")] * len(calls)
    for _ in range(REPEATS):
        for n, call in enumerate(calls):
            best[n] = min(best[n], _timed(call))
    return best


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
