"""Exporting a contact with a long consent history, against zipfile stored.

Figures, each beside its baseline measured in the same process:

1. Time to export a contact with 100,000 history rows (RAR stored, the
   reference format, and ZIP: best of 3; 7z: once), against a plain in-memory
   export of the same files written with zipfile, ZIP_STORED (aim: at most
   2x), and against writing the already-made file bytes with zipfile stored
   (the archive format's floor).
2. Peak memory (tracemalloc) at two history sizes, export against the
   in-memory baseline: the export should stay flat, the baseline grows.

Sizes scale with TRACKCONSENT_BENCH_SCALE (default 1).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import time
import tracemalloc
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

from trackconsent import Answer, ConsentEvent, Evidence, Source, SQLiteStore
from trackconsent.export.archives import read_archive
from trackconsent.export.audit import MemoryExportLog
from trackconsent.export.dossier import export_contact

SCALE = float(os.environ.get("TRACKCONSENT_BENCH_SCALE", "1"))
ROWS = max(1000, int(100_000 * SCALE))
REPEATS = 3
NOW = datetime(2024, 6, 1, tzinfo=UTC)
CONTACT = "bench-contact"


def fill(path: Path, rows: int) -> SQLiteStore:
    store = SQLiteStore(path)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    batch = []
    for n in range(rows):
        batch.append(
            ConsentEvent.new(
                contact_id=CONTACT,
                answer=(Answer.GRANTED, Answer.REFUSED)[n % 2],
                occurred_at=start + timedelta(minutes=n),
                recorded_at=start + timedelta(minutes=n, seconds=3),
                source=Source.COOKIE_BANNER,
                evidence=Evidence(
                    ip="192.0.2.7", user_agent="Mozilla/5.0", form_id=f"f{n % 7}"
                ),
            )
        )
        if len(batch) == 10_000:
            store.append(batch)
            batch = []
    store.append(batch)
    store.append(
        [
            ConsentEvent.new(
                contact_id="someone-else",
                answer=Answer.GRANTED,
                occurred_at=start,
                recorded_at=start,
                source=Source.IMPORT,
            )
        ]
    )
    return store


def export(store: SQLiteStore, out: Path, fmt: str) -> None:
    export_contact(
        CONTACT,
        out,
        store=store,
        log=MemoryExportLog(),
        actor="bench",
        now=NOW,
        fmt=fmt,
    )


def baseline(store: SQLiteStore, out: Path) -> None:
    """The same files made in memory, as a short script would, zipfile stored."""
    records = []
    for link in store.links(CONTACT):
        event = link.event
        records.append(
            {
                "event_id": event.event_id,
                "answer": event.answer.value,
                "occurred_at": event.occurred_at.isoformat(),
                "recorded_at": event.recorded_at.isoformat(),
                "source": event.source.value,
                "actor": event.actor,
                "evidence": attrs.asdict(event.evidence),
                "previous_digest": link.previous,
                "digest": link.digest,
            }
        )
    history = (
        "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n]\n"
    ).encode()
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(
        [
            *records[0].keys() - {"evidence"},
            *(f"evidence.{k}" for k in records[0]["evidence"]),
        ]
    )
    for r in records:
        writer.writerow(
            [*(r[k] for k in r if k != "evidence"), *r["evidence"].values()]
        )
    table = text.getvalue().encode()
    profile = json.dumps(
        {"id": CONTACT, **store.status(CONTACT).as_fields()}, default=str, indent=2
    ).encode()
    files = {
        "profile.json": profile,
        "consent_history.json": history,
        "consent_history.csv": table,
        "README.txt": b"readme\n",
    }
    manifest = [
        {"name": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
        for n, d in files.items()
    ]
    files["manifest.json"] = json.dumps(manifest, indent=2).encode()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def floor(files: dict[str, bytes], out: Path) -> None:
    """Only writing the finished file bytes, zipfile stored."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def best(timings: dict[str, list[float]], name: str, action) -> None:
    started = time.perf_counter()
    action()
    timings.setdefault(name, []).append(time.perf_counter() - started)


def peak(action) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        store = fill(root / "store.db", ROWS)
        export(store, root / "probe.rar", "rar")
        files = read_archive(root / "probe.rar")
        size = sum(len(d) for d in files.values())
        timings: dict[str, list[float]] = {}
        for _ in range(REPEATS):
            best(timings, "baseline", lambda: baseline(store, root / "b.zip"))
            best(timings, "floor", lambda: floor(files, root / "f.zip"))
            for fmt in ("rar", "zip"):
                best(
                    timings, fmt, lambda fmt=fmt: export(store, root / f"e.{fmt}", fmt)
                )
        # LZMA2 is slow by nature: one 7z run is enough to place it.
        best(timings, "7z", lambda: export(store, root / "e.7z", "7z"))
        base = min(timings["baseline"])
        low = min(timings["floor"])
        print(
            f"bench_export: contact with {ROWS:,} history rows,"
            f" {size / 1e6:.1f} MB of files (scale {SCALE})"
        )
        print(f"  baseline, same files in memory + zipfile stored: {base:.3f} s")
        print(f"  floor, writing the finished bytes, zipfile stored: {low:.3f} s")
        for fmt in ("rar", "zip", "7z"):
            took = min(timings[fmt])
            print(
                f"  export_contact {fmt:>3}: {took:.3f} s"
                f"  ratio vs baseline {took / base:.2f}x  vs floor {took / low:.1f}x"
            )

        small = max(1000, ROWS // 10)
        small_store = fill(root / "small.db", small)
        for rows, where in ((small, small_store), (ROWS, store)):
            mine = peak(lambda where=where: export(where, root / "m.rar", "rar"))
            theirs = peak(lambda where=where: baseline(where, root / "m.zip"))
            print(
                f"  peak memory at {rows:,} rows: export {mine / 1e6:.1f} MB,"
                f" baseline {theirs / 1e6:.1f} MB, ratio {mine / theirs:.2f}x"
            )
        store.close()
        small_store.close()


if __name__ == "__main__":
    main()
