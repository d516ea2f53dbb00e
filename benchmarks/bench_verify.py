"""``verify`` (issue 10: at least 500,000 events/s) against its baselines, in one run.

Writes N synthetic events (the size of real ones: ~600 bytes of JSON state, 8 topics) through the
chained SQLite recorder in batches of 5,000 — the real write path, links computed in the insert's
transaction — then times, on that store:

- ``verify`` in one process and cut into ranges over every core (what ``python -m staffing verify``
  does from 200,000 events on);
- baseline 1: only reading the same rows (the join of events and links) with the driver;
- baseline 2: reading them and hashing each one once (the least any chain check must do).

    python -m benchmarks.bench_verify [--events 1000000] [--out FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from contextlib import closing
from pathlib import Path

from eventsourcing.persistence import StoredEvent

from staffing.chain import CHAIN_TABLE, verify
from staffing.config import Settings
from staffing.persistence import EventStore, event_store_env

TOPICS = [f"staffing.domain.unit:Unit.Event{i}" for i in range(8)]


def fill(store: EventStore, events: int) -> None:
    recorder = store.recorder
    state = (b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-30T10:00:00+00:00"},"act":{"number":'
             b'"123/QD-UBND","issuer":"UBND tinh Tuyen Quang","signed_on":"2025-06-12"},"data":"' + b"x" * 430 + b'"}')
    written = 0
    while written < events:
        batch = [StoredEvent(originator_id=uuid.uuid4(), originator_version=1, topic=TOPICS[i % 8],
                             state=state + str(written + i).encode()) for i in range(min(5_000, events - written))]
        recorder.insert_events(batch)
        written += len(batch)


def read_only(path: str, events_table: str) -> int:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return sum(1 for _ in db.execute(
            f"SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, c.position, c.hash FROM "
            f"{events_table} e LEFT JOIN {CHAIN_TABLE} c ON c.position = e.rowid ORDER BY e.rowid"))


def read_and_hash(path: str, events_table: str) -> int:
    sha256 = hashlib.sha256
    n = 0
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        for row in db.execute(f"SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, c.position, "
                              f"c.hash FROM {events_table} e LEFT JOIN {CHAIN_TABLE} c ON c.position = e.rowid "
                              "ORDER BY e.rowid"):
            sha256(row[4]).digest()
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = EventStore(env=event_store_env(Settings.from_env({"STAFFING_DATA_DIR": tmp})))
        started = time.perf_counter()
        fill(store, args.events)
        fill_rate = args.events / (time.perf_counter() - started)
        recorder = store.recorder
        path, table = recorder.datastore.pool.db_name, recorder.events_table_name
        cores = os.cpu_count() or 1
        timings: dict[str, list[float]] = {"verify, one process": [], f"verify, {cores} processes": [],
                                           "baseline: read the rows": [], "baseline: read and hash each row": []}
        for _ in range(args.repeat):
            for label, run in (("verify, one process", lambda: verify(recorder, workers=1)),
                               (f"verify, {cores} processes", lambda: verify(recorder, workers=cores)),
                               ("baseline: read the rows", lambda: read_only(path, table)),
                               ("baseline: read and hash each row", lambda: read_and_hash(path, table))):
                t = time.perf_counter()
                result = run()
                timings[label].append(time.perf_counter() - t)
                if label.startswith("verify"):
                    assert result.ok and result.events == args.events, result  # type: ignore[union-attr]
        store.close()
    medians = {k: statistics.median(v) for k, v in timings.items()}
    lines = [f"{args.events:,} events written through the chained recorder at {fill_rate:,.0f} events/s "
             f"(5,000 per transaction); medians of {args.repeat} runs:"]
    base = medians["baseline: read and hash each row"]
    for label, seconds in medians.items():
        lines.append(f"  {label}: {args.events / seconds:,.0f} events/s ({seconds / base:.2f}x the read-and-hash "
                     "baseline's time)")
    lines.append("  target: >= 500,000 events/s")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
