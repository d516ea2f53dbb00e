"""The first lines of a history imported through the handlers (no catch-up), timed in two phases.

For the import's reading of people (issue 9, RESULTS section 15): at national size the people a
transfer or a departure names are no longer in any cache once the yearly flow begins, so the
rate that matters is the flow's, after the country's setup. Run two checkouts side by side on the
same file (each into its own new data directory), e.g.:

    python -m staffing generate --scale national --seed 1 --out /work/national/history.jsonl --no-load
    grep -n -m1 '"transferPerson"' /work/national/history.jsonl     # where the flow begins: 2235973
    python -m benchmarks.bench_import_slice /work/national/history.jsonl --lines 2500000 \\
        --flow-from 2235973 --data /work/national/new
    (cd OLD_CHECKOUT && PYTHONPATH=. python -m benchmarks.bench_import_slice ... --data /work/national/base)

The whole history into PostgreSQL (a fresh schema; ``--lines`` left out imports every line):

    python -m benchmarks.bench_import_slice /work/national/history.jsonl --flow-from 2235973 \\
        --data /work/national/pg --database-url postgresql://postgres@127.0.0.1:5432/test --schema national_ledger
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

from staffing.application.importer import ImportMode, import_lines, read_lines
from staffing.bootstrap import build
from staffing.config import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("history", type=Path)
    parser.add_argument("--lines", type=int, default=None, help="import the first LINES lines (default: all)")
    parser.add_argument("--flow-from", type=int, required=True,
                        help="the line the second phase starts at (rounded up to a whole batch of 500)")
    parser.add_argument("--data", type=Path, required=True, help="a new data directory")
    parser.add_argument("--database-url", default=None, help="PostgreSQL instead of SQLite (STAFFING_DATABASE_URL)")
    parser.add_argument("--schema", default=None, help="the PostgreSQL schema to import into (STAFFING_DB_SCHEMA)")
    parser.add_argument("--every", type=int, default=500_000, help="print the running rate every EVERY lines")
    args = parser.parse_args(argv)
    environ = {"STAFFING_DATA_DIR": str(args.data)}
    if args.database_url:
        environ["STAFFING_DATABASE_URL"] = args.database_url
    if args.schema:
        environ["STAFFING_DB_SCHEMA"] = args.schema
    ledger = build(Settings.from_env(environ), inline_projection=False)
    done, flow = 0, None
    started = time.perf_counter()

    def progress(n: int) -> None:
        nonlocal done, flow
        if (done + n) // args.every > done // args.every:
            print(f"{done + n:,} lines in {time.perf_counter() - started:,.0f} s", flush=True)
        done += n
        if flow is None and done >= args.flow_from:
            flow = (done, time.perf_counter())

    try:
        report = import_lines(ledger.service, itertools.islice(read_lines(args.history), args.lines),
                              ImportMode.STOP_AT_FIRST_ERROR, progress)
    finally:
        ledger.close()
    ended = time.perf_counter()
    assert report.ok, report.errors[:3]
    first, at = flow if flow is not None else (done, ended)
    print(f"{report.recorded:,} commands, {report.events:,} events in {report.seconds:,.0f} s "
          f"({report.events / report.seconds:,.0f} events/s); setup {first:,} lines in {at - started:,.0f} s; "
          f"flow {done - first:,} lines in {ended - at:,.1f} s "
          f"({(done - first) / max(ended - at, 1e-9):,.0f} lines/s)", flush=True)


if __name__ == "__main__":
    main()
