"""The import's writes into a large SQLite event store, under each setting of how it writes (issue 9).

A national store (~700 MB per million log entries) is written by an import at random pages of the
library's index of every event by aggregate and version: a transaction of 500 commands dirties
thousands of pages, which the library's durability writes to the write-ahead log, syncs, and
checkpoints into the file. Two settings of that path:

- the page cache of each of the store's connections (set here on each connection the library's
  pool opens, in the run's own process; the store itself keeps SQLite's defaults): SQLite's default
  2 MiB holds fewer pages than one transaction dirties, so it spills them mid-transaction and reads
  the index's pages back from the operating system at nearly every insert and look-up;
- the commit run while the import decides its next transaction, or in place: since section 62 the
  transaction's insert and commit both made by a child process (``staffing.commit_process``; the code
  now), before it only the commit, on a thread (``staffing.commit_behind``; ``commits on a thread``);
- what a reorganisation reads together before moving it (section 60): nothing (one read per item
  moved, as before), everything the import's carried map lacks (the code now), or that but for what
  the library's cache of aggregates holds (brought up to date from the cache one by one instead);
- how the import runs CPython's collector (section 61): off for the whole import with a full
  collection every 200,000 lines, its survivors frozen (the code now); young collections as usual
  and full ones on a time budget (as before); or that with each full collection's survivors frozen;
- the ids of what the import creates (section 58): the request records named by key alone, as
  before (``Item.sequence`` dropped: each lands on a random leaf of the index), or by line; and the
  file's own ids (people, units, positions) as the file has them (the generator mints them in
  order) or replaced by random version 4 ids, each consistently wherever it appears.

This imports the same file of commands (the next lines of the history the configured ledger holds,
e.g. a year of the national flow cut from ``generate``'s file) into a fresh copy of the configured
ledger's event store under each setting (``SETTINGS``), in rotating rounds, each in a process of its
own (``--one``) without read models' catch-up, and reports each setting's median and its ratio to
the store as it was (``before``: SQLite's page cache, commits in place). ``--warm-up N``: the file's first N lines are imported first in the
same process, untimed, so the timed lines find the import's carried aggregates as a continuous
import would (a fresh process starts with none and reads every unit it names from the store).
Every run must import every line (no refusal) and write the same number of events, or the
benchmark fails. ``--from-empty``: each run imports the file into an empty ledger instead (a whole
history, e.g. ``generate``'s national file; no configured store needed); ``--marks N``: each run
also reports its elapsed time at every N lines, to compare phases of a long import.

Usage: STAFFING_DATA_DIR=... python -m benchmarks.bench_store_writes --file NEXT.jsonl --scratch DIR
       [--warm-up N] [--rounds 2] [--only "a;b"] [--baseline before] [--out FILE]
       python -m benchmarks.bench_store_writes --from-empty --file HISTORY.jsonl --scratch DIR
       [--marks 500000] [--rounds 1] [--only "before;commits behind"]
       python -m benchmarks.bench_store_writes --from-empty --file HISTORY.jsonl --scratch DIR --lines 900000 \
       --baseline "random ids, requests by key" --only "random ids, requests by key;requests by key;commits behind"
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import random
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import NamedTuple
from uuid import UUID

from benchmarks.bench_rebuild_floor import print_report
from benchmarks.gc_times import CollectorClock
from staffing.config import Settings


class Setting(NamedTuple):
    pragmas: tuple[str, ...]  # on every connection of the event store
    behind: bool  # each transaction's commit on a thread while the next is decided
    by_line: bool = True  # an import's request records named by line (False: by key alone, as before)
    random_ids: bool = False  # the file's ids replaced by random version 4 ids
    preload: str = "all"  # what a reorganisation reads together (section 60): "none", "uncached", "all"
    collector: str = "paused"  # how the import runs the collector (section 61): "paused", "budget", "budget, frozen"
    writer: str = "process"  # who writes and commits behind (section 62): "process" or "thread"


#: "before" is the store as it was (SQLite's defaults, commits in place); the setting the store now
#: uses is marked in the report
SETTINGS: dict[str, Setting] = {
    "before": Setting((), False),
    "cache 64 MiB": Setting(("cache_size=-65536",), False),
    "cache 256 MiB": Setting(("cache_size=-262144",), False),
    "cache 64 MiB, mmap 2 GiB": Setting(("cache_size=-65536", "mmap_size=2147418112"), False),
    "checkpoints every 10,000 pages": Setting(("wal_autocheckpoint=10000",), False),
    "cache 64 MiB, checkpoints every 10,000 pages": Setting(("cache_size=-65536", "wal_autocheckpoint=10000"), False),
    "commits behind": Setting((), True),
    "commits behind, checkpoints every 10,000 pages": Setting(("wal_autocheckpoint=10000",), True),
    "cache 64 MiB, commits behind": Setting(("cache_size=-65536",), True),
    "requests by key": Setting((), True, by_line=False),
    "random ids, requests by key": Setting((), True, by_line=False, random_ids=True),
    "random ids": Setting((), True, random_ids=True),
    "no preload": Setting((), True, preload="none"),
    "preload, not what is cached": Setting((), True, preload="uncached"),
    "collections on a budget": Setting((), True, collector="budget"),
    "collections on a budget, frozen": Setting((), True, collector="budget, frozen"),
    "commits on a thread": Setting((), True, writer="thread"),
}
STORE = "ledger.sqlite"
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _random_ids(lines: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """The lines with every id replaced by a random version 4 id, the same one wherever it recurs."""
    rng, chosen = random.Random(0), {}  # type: ignore[var-annotated]

    def swap(found: re.Match[bytes]) -> bytes:
        new = chosen.get(found[0])
        if new is None:
            new = chosen[found[0]] = str(UUID(int=rng.getrandbits(128), version=4)).encode()
        return new

    return [(n, _UUID.sub(swap, raw)) for n, raw in lines]


def _requests_by_key() -> None:
    """Have this process's imports name their request records by key alone, as before section 58."""
    from staffing.application import importer

    keyed = importer._keyed
    importer._keyed = lambda lines: ((n, raw, key, None) for n, raw, key, _ in keyed(lines))  # type: ignore[assignment]


def _preload(what: str) -> None:
    """Have this process's reorganisations read what they move one by one (``none``, as before
    section 60) or together but for what the library's cache holds (``uncached``, measured slower)."""
    from staffing.application.work import Work

    every = Work.preload

    def together(work: Work, ids: Iterable[UUID]) -> None:
        cached = getattr(work.store.repository.cache, "cache", None) or {}
        every(work, [u for u in ids if u not in cached])

    if what != "all":
        Work.preload = (lambda work, ids: None) if what == "none" else together  # type: ignore[method-assign,assignment]


def _on_each_connection(pragmas: tuple[str, ...]) -> None:
    """Have every SQLite connection the library's pools open in this process set ``pragmas``."""
    from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool

    make = SQLiteConnectionPool._create_connection

    def create(pool: SQLiteConnectionPool) -> SQLiteConnection:
        connection = make(pool)
        for pragma in pragmas:
            connection._sqlite_conn.execute(f"PRAGMA {pragma}")
        return connection

    SQLiteConnectionPool._create_connection = create  # type: ignore[method-assign,assignment]


def one(file: Path, name: str, warm_up: int, marks: int = 0, limit: int | None = None) -> dict[str, object]:
    """Import ``file`` (its first ``limit`` lines) into the ledger ``STAFFING_DATA_DIR`` names with
    setting ``name`` (this process); its first ``warm_up`` lines untimed, the rest timed (``marks``:
    the elapsed seconds at every ``marks`` timed lines, too)."""
    setting = SETTINGS[name]
    _on_each_connection(setting.pragmas)
    if not setting.by_line:
        _requests_by_key()
    _preload(setting.preload)
    from staffing.application import importer

    importer.COLLECTOR = setting.collector
    from staffing import commit_process

    commit_process.WRITER = setting.writer
    clock = CollectorClock()  # the full and young collections' count and seconds
    gc.callbacks.append(clock)
    from staffing.application.access import Principal
    from staffing.application.importer import ImportMode, import_lines, read_lines
    from staffing.application.warm import Warm
    from staffing.bootstrap import build

    lines = list(itertools.islice(read_lines(file), limit))
    if setting.random_ids:
        lines = _random_ids(lines)
    ledger = build(inline_projection=False)
    warm = Warm(prefetch=True)  # the import's own map, carried from the untimed part to the timed one
    reports = []
    elapsed: list[float] = []
    handled = 0

    def progress(n: int) -> None:
        nonlocal handled
        handled += n
        while marks and handled // marks > len(elapsed):  # the batch that passed each mark
            elapsed.append(round(time.perf_counter() - started, 1))

    try:
        for part in (lines[:warm_up], lines[warm_up:]):
            started, handled = time.perf_counter(), 0
            elapsed.clear()
            reports.append(import_lines(ledger.service, part, ImportMode.STOP_AT_FIRST_ERROR, progress,
                                        principal=Principal("bench_store_writes", "admin"), warm=warm,
                                        commit_behind=setting.behind))
            seconds = time.perf_counter() - started
    finally:
        ledger.close()
    return {"lines": sum(r.lines for r in reports), "recorded": sum(r.recorded for r in reports),
            "events": reports[-1].events, "seconds": seconds, "marks": elapsed,
            "errors": [str(e) for r in reports for e in r.errors],
            "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            # the whole run's CPU seconds: this process's, and its ended children's (the store's writer)
            "cpu": [round(sum(resource.getrusage(who)[:2]), 1) for who in (resource.RUSAGE_SELF,
                                                                             resource.RUSAGE_CHILDREN)],
            "collections": [clock.count[2], round(clock.seconds[2], 1), clock.count[0] + clock.count[1],
                            round(clock.seconds[0] + clock.seconds[1], 1)]}


def run(store: Path | None, scratch: Path, file: Path, name: str, warm_up: int, marks: int = 0,
        limit: int | None = None) -> dict[str, object]:
    """A fresh copy of ``store`` (None: an empty ledger) in ``scratch``, ``file`` imported into it with
    ``name`` in a process of its own."""
    for stale in scratch.iterdir():
        stale.unlink()
    if store is not None:
        shutil.copyfile(store, scratch / STORE)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}, "STAFFING_DATA_DIR": str(scratch)}
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_store_writes", "--one", name, "--file", str(file),
                           "--scratch", str(scratch), "--warm-up", str(warm_up), "--marks", str(marks),
                           *(["--lines", str(limit)] if limit else [])],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name}: the import failed\n{done.stderr}")
    outcome: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    if outcome["errors"] or outcome["recorded"] != outcome["lines"]:
        raise SystemExit(f"{name}: not every line was imported: {outcome}")
    return outcome


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, required=True, help="commands that follow the ledger's history")
    parser.add_argument("--scratch", type=Path, required=True, help="an empty directory for the copies")
    parser.add_argument("--warm-up", type=int, default=0, help="the file's first lines imported untimed first")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default=None, help="semicolon-separated settings to run (default: all)")
    parser.add_argument("--from-empty", action="store_true", help="each run imports the file into an empty ledger")
    parser.add_argument("--marks", type=int, default=0, help="report each run's elapsed time every N lines")
    parser.add_argument("--lines", type=int, default=None, help="import only the file's first N lines")
    parser.add_argument("--baseline", default="before", help="the setting the others are compared with")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # one run, in its own process
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(one(args.file, args.one, args.warm_up, args.marks, args.lines)))
        return
    store: Path | None = None
    if not args.from_empty:
        settings = Settings.from_env()
        if not settings.is_sqlite:
            raise SystemExit("the store's connection settings are SQLite's")
        store = settings.data_dir / STORE
        if not store.exists():
            raise SystemExit(f"no event store at {store} (--from-empty: import into an empty ledger)")
        with closing(sqlite3.connect(store)) as db:  # the copy must hold everything: the log folded into the file
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    names = list(SETTINGS) if args.only is None else [n.strip() for n in args.only.split(";")]
    unknown = set(names) - set(SETTINGS)
    if unknown or args.baseline not in names:
        raise SystemExit(f"--only: choose among {list(SETTINGS)}, the baseline {args.baseline!r} included")
    args.scratch.mkdir(parents=True, exist_ok=True)
    times: dict[str, list[float]] = {name: [] for name in names}
    events: set[object] = set()
    try:
        for round_ in range(args.rounds):
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                outcome = run(store, args.scratch, args.file, name, args.warm_up, args.marks, args.lines)
                times[name].append(float(outcome["seconds"]))  # type: ignore[arg-type]
                events.add(outcome["events"])
                marked = f", at every {args.marks:,} lines: {outcome['marks']}" if args.marks else ""
                print(f"round {round_ + 1} {name}: {times[name][-1]:.2f} s, {outcome['events']} events, "
                      f"peak {outcome['peak_mib']:,} MiB, {outcome['collections'][0]} full collections "  # type: ignore[index]
                      f"{outcome['collections'][1]} s, {outcome['collections'][2]} young "  # type: ignore[index]
                      f"{outcome['collections'][3]} s, CPU {outcome['cpu'][0]} s + writer {outcome['cpu'][1]} s"  # type: ignore[index]
                      f"{marked}",
                      flush=True)
    finally:
        for stale in args.scratch.iterdir():
            stale.unlink()
    if len(events) != 1:
        raise SystemExit(f"the runs wrote different numbers of events: {sorted(map(str, events))}")
    count = int(events.pop())  # type: ignore[call-overload]
    medians = {name: statistics.median(values) for name, values in times.items()}
    timed = f"its lines after the first {args.warm_up:,} ({count:,} events)" if args.warm_up else f"({count:,} events)"
    into = (f"a copy of {STORE} ({store.stat().st_size / 2**30:.2f} GiB)" if store is not None
            else "an empty ledger")
    lines = [f"{args.file.name} {timed} imported into {into}, {args.rounds} rotating rounds (medians)"]
    now = Setting((), True)  # the store's defaults, commits behind, requests by line, the file's ids
    lines += [f"{name} ({', '.join(SETTINGS[name].pragmas) or 'SQLite defaults'}"
              f"{', commits behind' if SETTINGS[name].behind else ''}"
              f"{', requests by key' if not SETTINGS[name].by_line else ''}"
              f"{', random ids' if SETTINGS[name].random_ids else ''}"
              f"{'' if SETTINGS[name].preload == 'all' else ', preload: ' + SETTINGS[name].preload}"
              f"{'' if SETTINGS[name].collector == 'paused' else ', collector: ' + SETTINGS[name].collector}"
              f"{'' if SETTINGS[name].writer == 'process' else ', writer: ' + SETTINGS[name].writer}): "
              f"{medians[name]:.2f} s, {count / medians[name]:,.0f} events/s, "
              f"{medians[args.baseline] / medians[name]:.2f}x {args.baseline}"
              f"{' (the store now)' if SETTINGS[name] == now else ''}" for name in names]
    print_report(lines, args.out)


if __name__ == "__main__":
    main()
