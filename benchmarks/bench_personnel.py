"""Large lists for personnel departments and auditors, over HTTP (issue 12), each against a baseline.

On an existing data directory (a real import, or ``benchmarks.national_tables`` in minutes):

    python -m benchmarks.national_tables --out /tmp/national-tables
    STAFFING_DATA_DIR=/tmp/national-tables python -m benchmarks.bench_personnel [--out FILE]

For the largest province (by people present on the date), over one uvicorn worker (the README's
setup), medians of three:
- its people (~60,000 rows, target <= 2 s): the ``people`` connection paged 500 at a time, against
  the ``/downloads/people.csv`` file, and the same rows counted by hand-written SQL;
- a diff between two knowledge moments for the province (target <= 1 s), against its lower bound:
  the two ``staffingReport`` answers any diff must read;
- ``history`` of the province's largest unit filtered to facts recorded more than 60 days late.
Every list is checked: the connection, the file and the SQL count the same people.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from benchmarks.bench_queries import recorded_moment
from benchmarks.serving import served
from benchmarks.timing import Report, timed
from staffing.bootstrap import build
from staffing.config import Settings
from staffing.projections import tables as t
from staffing.projections.queries import from_us

AS_OF = "2025-07-31"
PEOPLE = """query($u: ID!, $d: Date!, $after: String) { people(unitId: $u, asOf: $d, includeDescendants: true,
  first: 500, after: $after) { edges { node { id fullName assignment { unitId category } } }
  pageInfo { hasNextPage endCursor } } }"""
DIFF = """query($u: ID!, $d: Date!, $k: DateTime) { staffingDiff(rootUnitId: $u, before: {asOf: $d, knownAt: $k},
  after: {asOf: $d}) { rows { unit { code } category quotaBefore quotaAfter headcountBefore headcountAfter
  facts { id type effectiveOn } } } }"""
REPORT = """query($u: ID!, $d: Date!, $k: DateTime) { staffingReport(rootUnitId: $u, asOf: $d, knownAt: $k) {
  unit { id code } lines { category quota headcount } } }"""
LATE = """query($u: ID!) { history(unitId: $u, first: 500, filter: {recordedLateByDays: 60}) {
  edges { node { id type effectiveOn recordedAt } } } }"""
COUNT_SQL = """WITH RECURSIVE sub(unit_id) AS (SELECT DISTINCT unit_id FROM unit_versions WHERE unit_id = :root UNION ALL SELECT v.unit_id FROM unit_versions v JOIN sub
  ON v.parent_id = sub.unit_id WHERE v.valid_from <= :d AND v.valid_to > :d AND v.rec_to = 4611686018427387904
  AND v.status = 'ACTIVE')
SELECT count(*) FROM person_versions p JOIN sub ON p.unit_id = sub.unit_id
WHERE p.valid_from <= :d AND p.valid_to > :d AND p.rec_to = 4611686018427387904 AND p.status = 'ACTIVE'"""




def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    report = Report()

    settings = Settings.from_env()
    ledger = build(settings, inline_projection=False)
    ledger.projector.catch_up()
    q = ledger.queries
    with q.connect() as conn:
        position = q.knowledge_position(conn, None)
        day = date.fromisoformat(AS_OF)
        summary = q.staffing_report(conn, None, day, position, 1, True)
        province = max((r for r in summary if r.unit and r.unit.kind == "PROVINCE"), key=lambda r: r.total_headcount)
        events = int(conn.execute(select(func.max(t.log_clock.c.position))).scalar_one())
        middle = from_us(recorded_moment(conn, events * 4 // 5))
        sql_s, counted = timed(lambda: conn.execute(text(COUNT_SQL), {"root": province.unit_id, "d": day})
                                .scalar_one())
        units = q.subtree_ids(conn, province.unit_id, day, position)
        largest = max(units, key=lambda u: conn.execute(select(func.count()).select_from(t.facts)
                                                        .where(t.facts.c.unit_id == u)).scalar_one())
    ledger.close()
    assert province.unit is not None
    report(f"data: {events:,} log positions; province {province.unit.code}: {len(units):,} units, "
           f"{province.total_headcount:,} people on {AS_OF}; backend {settings.views_url.get_backend_name()}")
    with served(os.environ.copy()) as (client, _):
        def gql(query: str, variables: dict[str, Any]) -> Any:
            body = client.post("/graphql", json={"query": query, "variables": variables}).json()
            assert "errors" not in body, body
            return body["data"]

        def paged() -> list[dict[str, Any]]:
            out, after = [], None
            while True:
                page = gql(PEOPLE, {"u": province.unit_id, "d": AS_OF, "after": after})["people"]
                out.extend(page["edges"])
                if not page["pageInfo"]["hasNextPage"]:
                    return out
                after = page["pageInfo"]["endCursor"]

        def download() -> list[dict[str, str]]:
            response = client.get("/downloads/people.csv", params={
                "asOf": AS_OF, "rootUnitId": province.unit_id, "includeDescendants": "true"})
            assert response.status_code == 200, response.text
            return list(csv.DictReader(io.StringIO(response.text)))

        csv_s, rows = timed(download)
        pages_s, edges = timed(paged, repeat=1)
        assert len(rows) == len(edges) == counted == province.total_headcount, (len(rows), len(edges), counted)
        report(f"a province's people ({len(rows):,}): CSV download {csv_s * 1000:,.0f} ms (target <= 2,000 ms); "
               f"GraphQL pages of 500 {pages_s * 1000:,.0f} ms ({pages_s / csv_s:.1f}x the download); "
               f"hand-written SQL count {sql_s * 1000:,.0f} ms")
        moment = middle.isoformat()
        diff_s, diff = timed(lambda: gql(DIFF, {"u": province.unit_id, "d": AS_OF, "k": moment})["staffingDiff"]["rows"])
        reports_s, _ = timed(lambda: (gql(REPORT, {"u": province.unit_id, "d": AS_OF, "k": moment}),
                                       gql(REPORT, {"u": province.unit_id, "d": AS_OF, "k": None})))
        explained = sum(len(r["facts"]) for r in diff)

        def diff_file() -> list[list[str]]:
            response = client.get("/downloads/staffing-diff.csv", params={
                "rootUnitId": province.unit_id, "beforeAsOf": AS_OF, "beforeKnownAt": moment, "afterAsOf": AS_OF})
            assert response.status_code == 200, response.text
            return list(csv.reader(io.StringIO(response.text)))

        file_s, lines = timed(diff_file)
        assert len(lines) - 5 == len(diff), (len(lines), len(diff))  # five banner and heading lines
        report(f"diff of the province between two knowledge moments ({len(diff):,} rows, {explained:,} facts): "
               f"as the CSV download {file_s * 1000:,.0f} ms, over GraphQL {diff_s * 1000:,.0f} ms "
               f"(target <= 1,000 ms) vs its two reports {reports_s * 1000:,.0f} ms -> {file_s / reports_s:.2f}x "
               "(download)")
        late_s, late = timed(lambda: gql(LATE, {"u": largest})["history"]["edges"])
        report(f"history of the busiest unit, recorded more than 60 days late ({len(late):,} facts): "
               f"{late_s * 1000:,.0f} ms")
    report.write(args.out)


if __name__ == "__main__":
    main()
