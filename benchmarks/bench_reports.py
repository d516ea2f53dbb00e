"""The ministry's reports on a prepared data directory (issue 11), each beside a baseline in one run.

- the staffing report of the whole country as CSV (``staffing.reports``: gross and net surplus, flags,
  acts behind each figure) vs the plain CSV listing of the same units (``/downloads/staffing.csv``'s
  writer: figures only);
- the reform statistics of 2015–2023 vs counting the same downsizing facts with one SQL query;
- with ``--scale`` (the scale a generated history was written at): the reform statistics' own
  figures beside the published ones at that scale (``staffing.generator.expected_figures``):
  people downsized 2015 to 15/12/2023, central and local, and public service units removed
  2015–2021 (removed minus created after the setup of 01/01/2015).

- with ``--http``: the same report downloaded from a served ledger
  (``GET /downloads/staffing-report.csv``) vs the plain listing's download (``/downloads/staffing.csv``).

    STAFFING_DATA_DIR=DIR python -m benchmarks.bench_reports [--as-of 2025-07-31] [--repeat 3] [--scale S] [--http]
        [--out FILE]
"""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from benchmarks.serving import served
from benchmarks.timing import timed
from staffing.bootstrap import build
from staffing.config import Settings
from staffing.generator import SCALES, expected_figures
from staffing.projections import tables as t
from staffing.projections.listing import csv_lines
from staffing.reports.reform import reform_statistics
from staffing.reports.staffing_report import build_report
from staffing.reports.workbook import ReportContext, csv_text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--as-of", default="2025-07-31")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", choices=sorted(SCALES))
    parser.add_argument("--http", action="store_true", help="also download both files from a served ledger")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    as_of = date.fromisoformat(args.as_of)
    ledger = build(Settings.from_env(), inline_projection=False)
    ledger.projector.catch_up()
    q = ledger.queries
    lines = []
    with q.connect() as conn:
        position = q.knowledge_position(conn, None)

        def whole() -> tuple[int, str]:
            built = build_report(q, conn, None, as_of, position)
            return len(built.rows), "".join(csv_text(built, ReportContext(None, None)))

        report_s, (units, text) = timed(whole, args.repeat)
        listing_s, listing = timed(lambda: "".join(csv_lines(q, conn, None, as_of, position, False, None)),
                                     args.repeat)
        lines.append(f"staffing report of the whole country as CSV ({units:,} units, {len(str(text)) / 1e6:.1f} MB): "
                     f"{report_s * 1000:,.0f} ms vs the plain listing {listing_s * 1000:,.0f} ms -> "
                     f"{report_s / listing_s:.1f}x (target: <= 3 s at national scale)")
        first, last = date(2015, 1, 1), date(2023, 12, 15)
        stats_s, stats = timed(lambda: reform_statistics(q, conn, None, first, last, position), args.repeat)
        f = t.facts
        sql_s, counted = timed(lambda: conn.execute(select(func.count()).where(
            f.c.type == "PersonDownsized", f.c.effective_on >= first, f.c.effective_on <= last,
            f.c.retracted_pos.is_(None))).scalar_one(), args.repeat)
        assert stats.downsized_total == counted, (stats.downsized_total, counted)  # type: ignore[attr-defined]
        lines.append(f"reform statistics 2015-2023 ({counted:,} people downsized): {stats_s * 1000:,.0f} ms vs one "
                     f"SQL count {sql_s * 1000:,.1f} ms -> {stats_s / sql_s:,.0f}x (it also sorts each case central "
                     "or local by walking the tree on its date, and counts units and quota)")
        if args.scale:
            # from the day after the setup (2015-01-01 establishes the whole country)
            psus = reform_statistics(q, conn, None, date(2015, 1, 2), date(2021, 12, 31), position)
            removed = psus.removed_of("PUBLIC_SERVICE_UNIT") - psus.created_of("PUBLIC_SERVICE_UNIT")
            central = stats.downsized_central  # type: ignore[attr-defined]
            got = {"downsized_2015_2023": (central, stats.downsized_total - central),  # type: ignore[attr-defined]
                   "psus_removed_2015_2021": removed}
            for name, want in expected_figures(SCALES[args.scale]).items():
                lines.append(f"reformStatistics {name}: ledger {got[name]}, published at {args.scale} scale {want} "
                             f"-> {'equal' if got[name] == want else 'DIFFERENT'}")
    ledger.close()
    if args.http:
        lines.append(_http(as_of, args.repeat, units))
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _http(as_of: date, repeat: int, units: int) -> str:
    """Both downloads from one ``serve`` process (the README's setup), each checked for its rows."""
    with served(os.environ.copy()) as (client, _):
        params = {"asOf": as_of.isoformat()}
        report_s, report = timed(lambda: client.get("/downloads/staffing-report.csv", params=params), repeat)
        listing_s, listing = timed(lambda: client.get("/downloads/staffing.csv", params=params), repeat)
    assert report.status_code == 200 and listing.status_code == 200, (report.text[:300], listing.text[:300])
    # the report: its banner, heading, a row per unit and the totals rows; the listing: heading and rows
    assert report.text.count("\n") > units + 7 and listing.text.count("\n") == units + 1, "rows missing"
    return (f"HTTP staffing report of the whole country as CSV ({len(report.content) / 1e6:.1f} MB): "
            f"{report_s * 1000:,.0f} ms vs the listing's download {listing_s * 1000:,.0f} ms -> "
            f"{report_s / listing_s:.1f}x (target: <= 3 s)")


if __name__ == "__main__":
    main()
