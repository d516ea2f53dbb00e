"""A SQLite rebuild's last indexes made with SQLite's defaults against with sort threads and memory (issue 9).

A SQLite rebuild loads its rows without the indexes only queries need and makes them once the whole
log is applied (``rebuild._end_batch``, ``last_on_sqlite``): on the whole national history that was
8.1% of the load's samples (``benchmarks/RESULTS.md`` section 53), on one connection while the
machine's other core idled. SQLite builds each index by sorting its keys: in memory up to the page
cache's size, beyond it in sorted runs spilled to temporary files and merged; ``PRAGMA threads``
lets it sort and merge those runs on helper threads.

This copies the configured SQLite ledger's read models (rebuilt: every index made) to ``--scratch``,
then, in alternating rounds, drops the indexes a rebuild makes at its end and makes them again on a
fresh connection under each setting (``SETTINGS``), the rebuild's way (without a journal or syncs),
and reports each setting's median and its ratio to the rebuild's settings before this benchmark
(``before``). The indexes are checked made after every round.

Usage: STAFFING_DATA_DIR=... python -m benchmarks.bench_finish_indexes --scratch DIR [--rounds 3]
       [--only "a;b"] [--out FILE]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import time
from contextlib import closing
from pathlib import Path

from benchmarks.bench_rebuild_floor import print_report
from staffing.config import Settings
from staffing.projections.db import WRITER_CACHE
from staffing.projections.rebuild import FINISH_PRAGMAS, KEPT_INDEXES, LOAD_INDEXES, _secondary_indexes

#: each setting's pragmas on the connection that makes the indexes, after the rebuild's own (no
#: journal, no syncs); "before" is the connection as it was (``db``'s 64 MiB page cache, no helper
#: threads); the one the rebuild now uses (``FINISH_PRAGMAS``) is marked in the report
SETTINGS: dict[str, tuple[str, ...]] = {
    "before": (WRITER_CACHE,),
    "threads 2": (WRITER_CACHE, "threads=2"),
    "cache 1 GiB": ("cache_size=-1048576",),
    "threads 2, cache 1 GiB": ("cache_size=-1048576", "threads=2"),
    "threads 4": (WRITER_CACHE, "threads=4"),
    "threads 2, cache 16 MiB": ("cache_size=-16384", "threads=2"),
    "cache 16 MiB": ("cache_size=-16384",),
    "threads 2, cache 4 MiB": ("cache_size=-4096", "threads=2"),
}


def finish_indexes() -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of each index a SQLite rebuild makes at its end."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateIndex

    dialect = sqlite.dialect()
    return [(str(index.name), str(CreateIndex(index).compile(dialect=dialect)))
            for index in _secondary_indexes() if str(index.name) not in LOAD_INDEXES | KEPT_INDEXES]


def make(path: Path, pragmas: tuple[str, ...], indexes: list[tuple[str, str]]) -> float:
    """Drop ``indexes`` (untimed), then make them on a fresh connection with ``pragmas``; the seconds taken."""
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        for name, _ in indexes:
            db.execute(f'DROP INDEX IF EXISTS "{name}"')
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", *pragmas):
            db.execute(f"PRAGMA {pragma}")
        started = time.perf_counter()
        db.execute("BEGIN")
        for _, create in indexes:
            db.execute(create)
        db.execute("COMMIT")
        taken = time.perf_counter() - started
        made = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    missing = {name for name, _ in indexes} - made
    assert not missing, f"indexes not made: {sorted(missing)}"
    return taken


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scratch", type=Path, required=True, help="a directory to copy the read models into")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default=None, help="semicolon-separated settings to run (default: all)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if not settings.is_sqlite:
        raise SystemExit("the finish's indexes are measured on SQLite (PostgreSQL makes them on two connections)")
    views = Path(str(settings.views_url.database))
    if not views.exists():
        raise SystemExit(f"no read models at {views}: rebuild them first (python -m staffing rebuild)")
    names = list(SETTINGS) if args.only is None else [n.strip() for n in args.only.split(";")]
    unknown = set(names) - set(SETTINGS)
    if unknown or "before" not in names:
        raise SystemExit(f"--only: choose among {list(SETTINGS)}, 'before' included")
    args.scratch.mkdir(parents=True, exist_ok=True)
    copy = args.scratch / "views.sqlite"
    shutil.copyfile(views, copy)
    try:
        with closing(sqlite3.connect(copy)) as db:
            db.execute("PRAGMA journal_mode=DELETE")  # (a copy without its -wal: the rebuild swaps in checkpointed)
        indexes = finish_indexes()
        times: dict[str, list[float]] = {name: [] for name in names}
        for round_ in range(args.rounds):
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                times[name].append(make(copy, SETTINGS[name], indexes))
                print(f"round {round_ + 1} {name}: {times[name][-1]:.2f} s", flush=True)
    finally:
        copy.unlink(missing_ok=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    lines = [f"the {len(indexes)} indexes a SQLite rebuild makes at its end, on a copy of {views.name} "
             f"({views.stat().st_size / 2**30:.2f} GiB), {args.rounds} rotating rounds (medians)"]
    lines += [f"{name} ({', '.join(SETTINGS[name])}): {medians[name]:.2f} s, {medians['before'] / medians[name]:.2f}x "
              f"before{' (the rebuild now)' if set(SETTINGS[name]) == set(FINISH_PRAGMAS) else ''}" for name in names]
    print_report(lines, args.out)


if __name__ == "__main__":
    main()
