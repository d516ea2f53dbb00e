"""People rebuilt from their events: the library's ``project_aggregate`` against ``persistence.fold``
(issue 9: bulk import; ``benchmarks/RESULTS.md`` section 62).

The national flow's import reads back, cold, the people its transfers, departures and
reorganisations name (``EventStore.load_many``) and rebuilds each from its events. The library's
``project_aggregate`` checks every event with ``isinstance`` against a runtime ``Protocol``, which on
Python 3.11 collects the protocol's attributes again at each call; ``fold`` makes the same calls to
``mutate`` without it. This takes people recorded in the configured ledger (every ``--every``-th
recruitment), reads and decodes their events once, untimed, then rebuilds all of them with each
function in rotating rounds, checks both give equal aggregates, and reports each one's median, its
cost per event and the ratio.

Usage: STAFFING_DATA_DIR=... python -m benchmarks.bench_fold [--people 20000] [--rounds 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import project_aggregate

from benchmarks.bench_rebuild_floor import print_report
from staffing.chain import sqlite_rows
from staffing.config import Settings
from staffing.persistence import EventStore, event_store_env, fold

FUNCTIONS: dict[str, Callable[[Any, Iterable[Any]], Any]] = {"project_aggregate": project_aggregate, "fold": fold}


def people(store: EventStore, count: int) -> list[UUID]:
    """Up to ``count`` people, spread over the log (every so many recruitments)."""
    recorder: Any = store.recorder
    table = recorder.events_table_name
    total = next(iter(sqlite_rows(recorder, f"SELECT count(*) FROM {table} WHERE topic LIKE '%Person.Recruited'")))[0]
    every = max(1, total // max(count, 1))
    rows = sqlite_rows(recorder, f"SELECT originator_id FROM (SELECT originator_id, row_number() OVER (ORDER BY rowid) "
                                 f"AS n FROM {table} WHERE topic LIKE '%Person.Recruited') WHERE n % ? = 0 LIMIT ?",
                       (every, count))
    return [UUID(str(row[0])) for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    store = EventStore(env=event_store_env(Settings.from_env()))
    try:
        ids = people(store, args.people)
        streams = [list(store.events.get(u)) for u in ids]  # read and decoded once, untimed
    finally:
        store.close()
    events = sum(map(len, streams))
    if not streams:
        raise SystemExit("no people recorded in the configured ledger")
    times: dict[str, list[float]] = {name: [] for name in FUNCTIONS}
    built: dict[str, list[Any]] = {}
    names = list(FUNCTIONS)
    for round_ in range(args.rounds):
        for name in names[round_ % 2:] + names[:round_ % 2]:
            function = FUNCTIONS[name]
            started = time.perf_counter()
            built[name] = [function(None, stream) for stream in streams]
            times[name].append(time.perf_counter() - started)
    if any(vars(a) != vars(b) for a, b in zip(built["project_aggregate"], built["fold"], strict=True)):
        raise SystemExit("fold and project_aggregate built different aggregates")
    medians = {name: statistics.median(values) for name, values in times.items()}
    lines = [f"{len(streams):,} people ({events:,} events) rebuilt from their events, {args.rounds} rotating rounds "
             "(medians)"]
    lines += [f"{name}: {medians[name] * 1000:.1f} ms, {medians[name] / events * 1e6:.2f} µs an event, "
              f"{medians['project_aggregate'] / medians[name]:.2f}x project_aggregate" for name in names]
    print_report(lines, args.out)


if __name__ == "__main__":
    main()
