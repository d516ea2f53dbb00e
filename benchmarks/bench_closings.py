"""Closing rows in a person-version table with a tenth of each page free, against pages filled full.

Why (``benchmarks/RESULTS.md`` section 44; migration 0010): a row stops being believed by an UPDATE of
its ``rec_to`` alone (``bulk.close_rows``). With room on the row's page and no index on ``rec_to``,
PostgreSQL writes the new version there without index entries (a HOT update); on a full page it
goes to another page and into every index. This loads ``--rows`` person rows into a scratch table
shaped like ``person_versions`` (its columns, primary key and person index) by the rebuild's own
COPY (``insert_tuples``), then closes ``--share`` of them, chosen at random, in batches of
``--batch`` (one ``close_rows`` statement and one commit each, as a rebuild's batches do), with the
table at ``fillfactor`` 90 and at 100, alternating for ``--rounds`` rounds. Reported per variant:
median seconds to load and to close, the closings that stayed on their page, the table's size.

Usage: STAFFING_DATABASE_URL=postgresql://... python -m benchmarks.bench_closings [--rows N] [--share F]
       [--batch N] [--rounds N] [--out FILE]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from sqlalchemy import Connection, MetaData, create_engine, text

from benchmarks.timing import Report
from staffing.config import Settings
from staffing.projections.bulk import close_rows, insert_tuples
from staffing.projections.tables import END_OF_TIME, OPEN_POSITION, person_versions

SCHEMA = "bench_closings"
COLUMNS = ("row_id", "valid_from", "valid_to", "rec_from", "rec_to", "person_id", "unit_id", "position_id",
           "category", "rank", "status", "cause", "fact_id")


def _rows(count: int, seed: int) -> list[tuple[object, ...]]:
    from datetime import date, timedelta

    rng = random.Random(seed)
    return [(i + 1, date(2015, 1, 1) + timedelta(days=rng.randrange(3650)), END_OF_TIME, i + 1, OPEN_POSITION,
             f"{rng.getrandbits(128):032x}-person"[:36], f"{rng.randrange(60_000):032x}-unit"[:36], None,
             rng.choice(("CADRE", "CIVIL_SERVANT", "PUBLIC_EMPLOYEE")), "Chuyên viên", "ACTIVE", "RECRUITED",
             f"fact:{i}") for i in range(count)]


def _hot(conn: Connection) -> int:
    """The updates of the scratch table that stayed on their page (HOT), counted by this backend."""
    return int(conn.execute(text("SELECT coalesce(sum(n_tup_hot_upd), 0) FROM pg_stat_xact_user_tables "
                                 "WHERE schemaname = :s AND relname = 'person_versions'"), {"s": SCHEMA}).scalar_one())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.3, help="share of the rows closed, at random")
    parser.add_argument("--batch", type=int, default=20_000, help="closings per statement and commit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if settings.is_sqlite:
        raise SystemExit("fillfactor and HOT updates are PostgreSQL's: configure STAFFING_DATABASE_URL=postgresql://...")
    report = Report()
    rows = _rows(args.rows, 1)
    closed = random.Random(2).sample(range(1, args.rows + 1), int(args.rows * args.share))
    engine = create_engine(settings.views_url, connect_args={"options": f"-c search_path={SCHEMA}"})
    scratch = MetaData(schema=SCHEMA)
    table = person_versions.to_metadata(scratch)
    seconds: dict[int, dict[str, list[float]]] = {90: {"load": [], "close": []}, 100: {"load": [], "close": []}}
    report(f"{args.rows:,} person rows, {len(closed):,} closed in batches of {args.batch:,}; {args.rounds} rounds")
    try:
        for _ in range(args.rounds):
            for fillfactor in (90, 100):
                with engine.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                    conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
                    scratch.create_all(conn)
                    conn.execute(text(f"ALTER TABLE person_versions SET (fillfactor = {fillfactor})"))
                started = time.perf_counter()
                with engine.begin() as conn:
                    insert_tuples(conn, table, COLUMNS, rows)
                seconds[fillfactor]["load"].append(time.perf_counter() - started)
                started, in_place = time.perf_counter(), 0
                for at in range(0, len(closed), args.batch):
                    with engine.begin() as conn:  # (a backend's counts add up until it flushes them)
                        before = _hot(conn)
                        close_rows(conn, table, [(args.rows + at + 1, row_id) for row_id in closed[at:at + args.batch]])
                        in_place += _hot(conn) - before
                seconds[fillfactor]["close"].append(time.perf_counter() - started)
                with engine.connect() as conn:
                    size = int(conn.execute(text("SELECT pg_table_size('person_versions')")).scalar_one())
                report(f"fillfactor {fillfactor}: load {seconds[fillfactor]['load'][-1]:.2f} s, close "
                       f"{seconds[fillfactor]['close'][-1]:.2f} s, {in_place:,} of {len(closed):,} closings on their "
                       f"page (HOT), table {size / 2**20:,.0f} MiB")
        for part in ("load", "close"):
            room, full = statistics.median(seconds[90][part]), statistics.median(seconds[100][part])
            report(f"{part}: fillfactor 90 median {room:.2f} s, 100 median {full:.2f} s, {full / room:.2f}x")
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        engine.dispose()
    report.write(args.out)


if __name__ == "__main__":
    main()
