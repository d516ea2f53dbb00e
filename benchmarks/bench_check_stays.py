"""``check-stays`` on the configured ledger's read models against a plain read of what it joins (issue 9).

``staffing.projections.invariants.stays_past_ends`` joins, for each kind of stay (a person in a unit,
a person on a position, an open position or a child unit in a unit), the version table of what
stays with the version table of where it stays, both as known at a log position. Its baseline, in
the same run: counting the rows of the three version tables believed at that position
(``queries.known``), which any check over them must at least read. Both at the log's head and at
its middle position (an auditor's "as known then"), in alternating rounds; reports the medians, the
ratio, and how many stays were found (none, on a ledger written under the stays rule).

    STAFFING_DATA_DIR=... python -m benchmarks.bench_check_stays [--repeat 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from sqlalchemy import Connection, func, select

from benchmarks.bench_rebuild_floor import print_report
from staffing.bootstrap import build
from staffing.projections import tables as t
from staffing.projections.invariants import stays_past_ends
from staffing.projections.queries import known

TABLES = (t.unit_versions, t.person_versions, t.position_versions)


def count_believed(conn: Connection, position: int) -> int:
    """The baseline: every row of the three version tables believed at ``position``, counted."""
    return sum(int(conn.execute(select(func.count()).select_from(table).where(known(table, position))).scalar_one())
               for table in TABLES)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="alternating rounds (medians reported)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    ledger = build(inline_projection=False)
    try:
        ledger.projector.catch_up()
        with ledger.queries.connect() as conn:
            head = ledger.queries.knowledge_position(conn, None)
            lines = [f"check-stays on the configured read models ({args.repeat} alternating rounds, medians)"]
            for label, position in (("the log's head", head), ("its middle", head // 2)):
                times: dict[str, list[float]] = {"check": [], "count": []}
                found, rows = 0, 0
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    rows = count_believed(conn, position)
                    times["count"].append(time.perf_counter() - started)
                    started = time.perf_counter()
                    found = len(stays_past_ends(conn, position))
                    times["check"].append(time.perf_counter() - started)
                check, count = statistics.median(times["check"]), statistics.median(times["count"])
                lines.append(f"as known at {label} (log position {position:,}; {rows:,} version rows believed): "
                             f"check-stays {check * 1000:,.1f} ms, {found} found; baseline, those rows counted "
                             f"{count * 1000:,.1f} ms; check-stays {check / count:.2f}x the baseline")
    finally:
        ledger.close()
    print_report(lines, args.out)


if __name__ == "__main__":
    main()
