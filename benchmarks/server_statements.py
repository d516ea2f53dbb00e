"""Where a PostgreSQL server's time went, by statement: ``pg_stat_statements`` reset before a run and
reported after it (benchmarks/RESULTS.md section 44).

The rebuild's process is timed by ``rebuild_once``; its server's share is only a CPU total there
(``/proc``). This tells that total apart: each statement's calls, rows, execution time and time per
row (COPY into each table, the closings' UPDATEs, the read-backs' SELECTs, the finish's indexes).

Needs the extension loaded by the server, which takes a restart (not for CI):
``ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`` then ``pg_ctlcluster 15 main
restart``; ``ALTER SYSTEM RESET shared_preload_libraries`` and a restart put the default back.

Usage: STAFFING_DATABASE_URL=postgresql://... python -m benchmarks.server_statements reset|report
       [--top N] [--like TEXT]
"""

from __future__ import annotations

import argparse
import re

from sqlalchemy import create_engine, text

from staffing.config import Settings

#: how a statement is named in the report: whitespace folded, cut to this many characters
WIDTH = 110


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("reset", "report"))
    parser.add_argument("--top", type=int, default=30, help="statements reported, most time first")
    parser.add_argument("--like", default="", help="only statements containing this text")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if settings.is_sqlite:
        raise SystemExit("STAFFING_DATABASE_URL must name a PostgreSQL database")
    engine = create_engine(settings.views_url)
    try:
        with engine.connect() as conn:
            loaded = str(conn.execute(text("SHOW shared_preload_libraries")).scalar())
            if "pg_stat_statements" not in loaded:
                raise SystemExit("pg_stat_statements is not loaded by this server: ALTER SYSTEM SET "
                                 "shared_preload_libraries = 'pg_stat_statements', then restart it (see --help)")
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
            if args.what == "reset":
                conn.execute(text("SELECT pg_stat_statements_reset()"))
                conn.commit()
                print("pg_stat_statements reset")
                return
            rows = conn.execute(text(
                "SELECT calls, total_exec_time, rows, query FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND query NOT LIKE '%pg_stat_statements%' AND query LIKE :like "
                "ORDER BY total_exec_time DESC"), {"like": f"%{args.like}%"}).all()
    finally:
        engine.dispose()
    total = sum(r.total_exec_time for r in rows) / 1000
    print(f"{len(rows)} statements, {total:,.1f} s of execution in all")
    print(f"{'calls':>9} {'seconds':>9} {'share':>6} {'rows':>12} {'µs/row':>8}  statement")
    for r in rows[:args.top]:
        seconds = r.total_exec_time / 1000
        per_row = f"{r.total_exec_time * 1000 / r.rows:8.1f}" if r.rows else f"{'':>8}"
        statement = re.sub(r"\s+", " ", r.query)[:WIDTH]
        print(f"{r.calls:>9,} {seconds:>9.1f} {seconds / total:>6.1%} {r.rows:>12,} {per_row}  {statement}")


if __name__ == "__main__":
    main()
