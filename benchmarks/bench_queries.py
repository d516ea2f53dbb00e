"""National questions on an existing data directory (issue 9): ours vs hand-written SQL, in one run.

Prepare the data once (hours at national size; see RESULTS.md), e.g.

    python -m staffing generate --scale national --seed 1 --out /tmp/national.jsonl --no-load
    STAFFING_DATA_DIR=/tmp/national python -m staffing import /tmp/national.jsonl

then measure (SQLite by default; PostgreSQL with STAFFING_DATABASE_URL as for the service):

    STAFFING_DATA_DIR=/tmp/national python -m benchmarks.bench_queries [--http] [--out FILE]

For each as-of date (before, during and after the 2025 reform) and two knowledge moments (now,
and the middle of the log), in process:
- one unit's staffing, p50 and p95 over sampled units that exist that day;
- the largest top-level unit rolled up;
- the national summary (one rolled-up row per province and central body) vs hand-written SQL that
  computes the same figures from the same tables (a recursive walk to each unit's top-level
  ancestor joined to its figure row); the two are checked equal, and every roll-up against the
  sum of its rows;
- the full national listing (every unit) as report objects vs hand-written SQL over the same
  tables that returns each unit's two totals, unordered (the earlier yardstick, kept for comparison);
- on SQLite, the full listing as the CSV download writes it (every cell of every row, in the
  listing's order) vs hand-written SQL giving the same cells in the same order (each category's
  quota, headcount, vacancy and surplus, the totals, the running excess exception; parents before
  children, siblings by code): issue 9's yardstick, "hand-written SQL computing the same figures".
  The two are checked equal cell by cell;
- for reference, the round-one design: headcount as a GROUP BY over every visible person row.
With ``--http``: a uvicorn server on the same data (the recommended setup in the README), timing
one unit's staffing (p50/p95), the national summary and the full listing over GraphQL, the CSV
download, and the server's peak resident memory.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from benchmarks.serving import peak_memory_mib, served
from benchmarks.timing import Report, timed
from staffing.bootstrap import build
from staffing.config import Settings
from staffing.projections import tables as t
from staffing.projections.figures import CATEGORY_NAMES as CATEGORY_VALUES
from staffing.projections.figures import FIGURE_COLUMNS
from staffing.projections.listing import csv_lines
from staffing.projections.queries import from_us
from staffing.projections.summary import root_totals

DATES = (date(2016, 6, 30), date(2020, 6, 30), date(2025, 7, 31))
HEADS = " + ".join(c for c in FIGURE_COLUMNS if c.startswith("h_"))
QUOTA = " + ".join(c for c in FIGURE_COLUMNS if c.startswith("q_"))
VISIBLE_UNITS = """vis AS (
  SELECT unit_id, parent_id, code FROM unit_versions
  WHERE valid_from <= :d AND valid_to > :d AND rec_from <= :p AND rec_to > :p AND status = 'ACTIVE')"""
FIGURE_ROW = """unit_figures f ON f.row_id = (
  SELECT g.row_id FROM unit_figures g WHERE g.unit_id = {unit} AND g.valid_from <= :d AND {known}
  ORDER BY g.valid_from DESC LIMIT 1) AND f.valid_to > :d"""
#: the same seek on PostgreSQL, written as its planner cannot turn it into a hash join of every sought
#: row id against every figure row (what it does with the form above once the tables are analyzed)
FIGURE_ROW_LATERAL = """LATERAL (
  SELECT g.* FROM unit_figures g WHERE g.unit_id = {unit} AND g.valid_from <= :d AND {known}
  ORDER BY g.valid_from DESC LIMIT 1) f ON f.valid_to > :d"""
KNOWN_AT = "g.rec_from <= :p AND g.rec_to > :p"
KNOWN_NOW = "g.rec_to = 4611686018427387904"  # nothing projected after :p: the open rows
#: the roots as an anti-join on PostgreSQL: ``NOT IN`` over the ~90,000 units in force ran there as a
#: plain subplan, every unit against every unit, 75-141 s a call on the national history (section 26;
#: 1.5 s as ``NOT EXISTS``, the same rows)
ROOTS_NOT_IN = "parent_id IS NULL OR parent_id NOT IN (SELECT unit_id FROM vis)"
ROOTS_NOT_EXISTS = "parent_id IS NULL OR NOT EXISTS (SELECT 1 FROM vis AS up WHERE up.unit_id = vis.parent_id)"
SUMMARY_SQL = f"""WITH RECURSIVE {VISIBLE_UNITS},
top(unit_id, top_id) AS (
  SELECT unit_id, unit_id FROM vis WHERE {ROOTS_NOT_IN}
  UNION ALL SELECT vis.unit_id, top.top_id FROM vis JOIN top ON vis.parent_id = top.unit_id)
SELECT top.top_id, sum({QUOTA}), sum({HEADS}) FROM top JOIN {FIGURE_ROW.format(unit="top.unit_id", known=KNOWN_AT)}
GROUP BY top.top_id"""
SUMMARY_NOW_SQL = SUMMARY_SQL.replace(KNOWN_AT, KNOWN_NOW)
LISTING_SQL = f"""WITH {VISIBLE_UNITS}
SELECT vis.unit_id, vis.code, {QUOTA}, {HEADS} FROM vis LEFT JOIN {FIGURE_ROW.format(unit="vis.unit_id", known=KNOWN_AT)}"""
LISTING_NOW_SQL = LISTING_SQL.replace(KNOWN_AT, KNOWN_NOW)

#: the categories as ``unit_figures`` names its columns (h_cadre, q_cadre_assigned, ...)
CATEGORY_NAMES = tuple(c.lower() for c in CATEGORY_VALUES)


def _category_sums() -> str:
    """Per category its quota (summed over kinds) and its headcount, from a unit's figure row."""
    sums = []
    for c in CATEGORY_NAMES:
        quota = " + ".join(f"coalesce(f.{k}, 0)" for k in FIGURE_COLUMNS if k.startswith(f"q_{c}_"))
        sums += [f"{quota} AS q_{c}", f"coalesce(f.h_{c}, 0) AS h_{c}"]
    return ", ".join(sums)


def _category_cells() -> str:
    """The cells of a listing row after its unit columns (``staffing.projections.listing.HEADER``):
    per category quota, headcount, vacancy, surplus; then the same for the totals."""
    cells = []
    for c in CATEGORY_NAMES:
        cells += [f"q_{c}", f"h_{c}", f"max(q_{c} - h_{c}, 0)", f"max(h_{c} - q_{c}, 0)"]
    q_all = " + ".join(f"q_{c}" for c in CATEGORY_NAMES)
    h_all = " + ".join(f"h_{c}" for c in CATEGORY_NAMES)
    cells += [q_all, h_all, f"max({q_all} - ({h_all}), 0)", f"max({h_all} - ({q_all}), 0)"]
    return ", ".join(cells)


#: a row of table alias {t} on :d as known at :p
VISIBLE = "{t}.valid_from <= :d AND {t}.valid_to > :d AND {t}.rec_from <= :p AND {t}.rec_to > :p"
IN_FORCE = VISIBLE + " AND {t}.status = 'ACTIVE'"
#: the listing as a hand-written SQLite query would give it: every cell of every unit's row (the
#: figures per category, the totals, the running excess exception) and the rows in the listing's
#: order (parents before children, siblings by code then id), through a recursive walk down the
#: parent index (as ``Queries`` walks a subtree) that carries each unit's path to order by. The
#: yardstick issue 9 names: "hand-written SQL computing the same figures".
LISTING_CELLS_SQL = f"""WITH RECURSIVE tree(unit_id, parent_id, code, name, kind, level, path) AS (
  SELECT v.unit_id, v.parent_id, v.code, v.name, v.kind, 1, v.code || char(31) || v.unit_id
  FROM unit_versions v WHERE {IN_FORCE.format(t="v")} AND (v.parent_id IS NULL OR NOT EXISTS (
    SELECT 1 FROM unit_versions u WHERE u.unit_id = v.parent_id AND {IN_FORCE.format(t="u")}))
  UNION ALL
  SELECT c.unit_id, c.parent_id, c.code, c.name, c.kind, tree.level + 1,
         tree.path || char(30) || c.code || char(31) || c.unit_id
  FROM tree JOIN unit_versions c ON c.parent_id = tree.unit_id AND {IN_FORCE.format(t="c")})
SELECT level, unit_id, code, name, kind, parent, {_category_cells()}, until FROM (
  SELECT tree.level, tree.unit_id, tree.code, tree.name, tree.kind, coalesce(tree.parent_id, '') AS parent,
    tree.path, {_category_sums()},
    coalesce((SELECT x.until FROM excess_versions x WHERE x.unit_id = tree.unit_id AND {VISIBLE.format(t="x")}
              AND x.until >= :d), '') AS until
  FROM tree LEFT JOIN {FIGURE_ROW.format(unit="tree.unit_id", known=KNOWN_AT)}) AS cells
ORDER BY path"""
LISTING_CELLS_NOW_SQL = LISTING_CELLS_SQL.replace(KNOWN_AT, KNOWN_NOW)


def cells_sql(dialect: str, now: bool) -> str:
    """``LISTING_CELLS_SQL`` (or its "known now" form) as the ``dialect`` writes it. PostgreSQL: ``chr``
    for SQLite's ``char``, ``greatest`` for its two-argument ``max``, the deadline as text, the path
    ordered byte-wise (as SQLite and Python order it, not by the database's locale) and the figure
    seek as ``LATERAL``."""
    sql = LISTING_CELLS_NOW_SQL if now else LISTING_CELLS_SQL
    if dialect == "sqlite":
        return sql
    sql = sql.replace("char(31)", "chr(31)").replace("char(30)", "chr(30)").replace("max(", "greatest(")
    sql = sql.replace("coalesce((SELECT x.until FROM", "coalesce((SELECT x.until::text FROM")
    return lateral(sql.replace("ORDER BY path", 'ORDER BY path COLLATE "C"'), "tree.unit_id", now)


NAIVE_SQL = """SELECT unit_id, count(*) FROM person_versions
WHERE valid_from <= :d AND valid_to > :d AND rec_from <= :p AND rec_to > :p AND status = 'ACTIVE' GROUP BY unit_id"""

SUMMARY_GQL = """query($d: Date!, $k: DateTime) { staffingReport(asOf: $d, knownAt: $k, depth: 1,
  includeDescendants: true) { unit { id code name } totalQuota totalHeadcount lines { category quota headcount } } }"""
LISTING_GQL = """query($d: Date!, $k: DateTime) { staffingReport(asOf: $d, knownAt: $k) {
  level unit { id code name kind } totalQuota totalHeadcount totalVacancy totalSurplus excessAllowedUntil
  lines { category quota headcount vacancy surplus } } }"""
UNIT_GQL = """query($u: ID!, $d: Date!) { staffing(unitId: $u, asOf: $d) { totalQuota totalHeadcount
  lines { category quota headcount } } }"""




def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def recorded_moment(conn: Any, position: int) -> int:
    """The moment (µs) log position ``position`` was recorded: the clock keeps one row per run of
    entries recorded at one moment, at the run's last position, so the first row at or after it."""
    c = t.log_clock.c
    return int(conn.execute(select(c.recorded_us).where(c.position >= position).order_by(c.position).limit(1))
               .scalar_one())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--http", action="store_true", help="also measure over HTTP (starts uvicorn)")
    parser.add_argument("--units", type=int, default=300, help="units sampled for one unit's staffing")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    report = Report()

    settings = Settings.from_env()
    ledger = build(settings, inline_projection=False)
    t0 = time.perf_counter()
    caught = ledger.projector.catch_up()
    if caught:
        report(f"caught up {caught:,} events first ({caught / (time.perf_counter() - t0):,.0f}/s)")
    q = ledger.queries
    rng = random.Random(1)
    with q.connect() as conn:
        events = int(conn.execute(select(func.max(t.log_clock.c.position))).scalar_one() or 0)
        sizes = {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                 for name, table in (("units", t.unit_versions), ("person rows", t.person_versions),
                                     ("quota rows", t.quota_versions), ("figure rows", t.unit_figures))}
        report(f"data: {events:,} events; " + ", ".join(f"{n:,} {name}" for name, n in sizes.items())
               + f"; backend {conn.dialect.name}")
        middle = recorded_moment(conn, events // 2)
        moments: list[datetime | None] = [None, from_us(middle)]
        for known_at in moments:
            position = q.knowledge_position(conn, known_at)
            label = "now" if known_at is None else f"log middle (position {position:,})"
            for as_of in DATES:
                report(f"-- as of {as_of}, known at {label}")
                _measure(report, q, conn, as_of, position, rng, args.units)
    ledger.close()
    if args.http:
        _http(report, settings)
    report.write(args.out)


def lateral(sql: str, unit: str, now: bool) -> str:
    """``sql`` with its figure seek for ``unit`` in the ``LATERAL`` form (PostgreSQL)."""
    known = KNOWN_NOW if now else KNOWN_AT
    seek, join = FIGURE_ROW.format(unit=unit, known=known), FIGURE_ROW_LATERAL.format(unit=unit, known=known)
    assert seek in sql, "the figure seek is not in the statement"
    return sql.replace(f"JOIN {seek}", f"JOIN {join}")


def _measure(report: Callable[[str], None], q: Any, conn: Any, as_of: date, position: int, rng: random.Random,
             units: int) -> None:
    """One (as of, known at) cell: in-process timings, each checked against hand-written SQL."""
    params = {"d": as_of, "p": position}
    now = position >= q._tracked(conn)  # the hand-written SQL takes the same shortcut ours does
    summary_sql, listing_sql = (SUMMARY_NOW_SQL, LISTING_NOW_SQL) if now else (SUMMARY_SQL, LISTING_SQL)
    if conn.dialect.name == "postgresql":
        assert ROOTS_NOT_IN in summary_sql, "the roots' condition is not in the statement"
        summary_sql = lateral(summary_sql, "top.unit_id", now).replace(ROOTS_NOT_IN, ROOTS_NOT_EXISTS)
        listing_sql = lateral(listing_sql, "vis.unit_id", now)
    tree = q.subtree(conn, None, as_of, position)
    sample = rng.sample(tree, min(units, len(tree)))
    timings = []
    for unit, _, _ in sample:
        t0 = time.perf_counter()
        q.staffing(conn, unit.id, as_of, position)
        timings.append(time.perf_counter() - t0)
    report(f"one unit's staffing: p50 {_ms(statistics.median(timings))}, p95 {_ms(_pct(timings, .95))} "
           f"over {len(timings)} units (target: p50 <= 1 ms)")
    summary_s, summary = timed(lambda: q.staffing_report(conn, None, as_of, position, 1, True))
    sql_s, sql_rows = timed(lambda: conn.execute(text(summary_sql), params).all())
    want = {r[0]: (int(r[1]), int(r[2])) for r in sql_rows}
    got = {r.unit_id: (r.total_quota, r.total_headcount) for r in summary}
    assert {k: v for k, v in got.items() if v != (0, 0)} == {k: v for k, v in want.items() if v != (0, 0)}
    report(f"national summary ({len(summary)} rows): {_ms(summary_s)} vs hand-written SQL "
           f"{_ms(sql_s)} -> {summary_s / sql_s:.2f}x (target: within 2x; <= 300 ms over HTTP)")
    walk_s, walk = timed(lambda: q.staffing_report(conn, None, as_of, position, 1, True, from_rollup=False))
    assert [_summary_row(r) for r in walk] == [_summary_row(r) for r in summary], "the roll-up differs from the walk"
    sums_s, _ = timed(lambda: root_totals(conn, as_of, position))
    report(f"national summary from the roll-up {_ms(summary_s)} (its three statements alone {_ms(sums_s)}) vs "
           f"the same rows by walking the tree {_ms(walk_s)} -> {walk_s / summary_s:.1f}x faster; every row equal")
    biggest = max(summary, key=lambda r: r.total_headcount)
    rolled_s, rolled = timed(lambda: q.staffing(conn, biggest.unit_id, as_of, position, True))
    assert (rolled.total_quota, rolled.total_headcount) == (biggest.total_quota, biggest.total_headcount)
    report(f"largest top-level unit rolled up ({biggest.unit.code if biggest.unit else ''}): "
           f"{_ms(rolled_s)} (target: <= 50 ms)")
    listing_s, listing = timed(lambda: q.staffing_report(conn, None, as_of, position))
    flat_s, flat = timed(lambda: conn.execute(text(listing_sql), params).all())
    assert sum(r.total_headcount for r in listing) == sum(int(r[3] or 0) for r in flat) \
        == sum(r.total_headcount for r in summary)
    report(f"full listing ({len(listing):,} units): {_ms(listing_s)} vs hand-written SQL {_ms(flat_s)} "
           f"-> {listing_s / flat_s:.2f}x")
    cells_s, cells = timed(lambda: conn.execute(text(cells_sql(conn.dialect.name, now)), params).all())
    rows_s, written = timed(lambda: "".join(csv_lines(q, conn, None, as_of, position, rolled=False)))
    rows = list(csv.reader(io.StringIO(written)))[1:]
    assert rows == [[str(c) for c in r] for r in cells], "the listing's rows differ from the SQL's"
    report(f"full listing, every cell in the listing's order ({len(rows):,} rows, as the CSV download writes "
           f"them): {_ms(rows_s)} vs hand-written SQL giving the same cells in the same order {_ms(cells_s)} "
           f"-> {rows_s / cells_s:.2f}x (target: within 2x; as report objects {listing_s / cells_s:.2f}x)")
    naive_s, naive = timed(lambda: conn.execute(text(NAIVE_SQL), params).all(), repeat=1)
    assert sum(n for _, n in naive) == sum(r.total_headcount for r in summary)
    report(f"round-one design, headcount GROUP BY over person rows: {_ms(naive_s)} "
           f"({naive_s / summary_s:.1f}x the national summary)")


def _summary_row(r: Any) -> tuple[Any, ...]:
    """Everything a national summary row says (checked equal between the roll-up and the tree walk)."""
    return (r.unit_id, r.level, [(line.category, line.quota, line.headcount, dict(line.by_kind)) for line in r.lines],
            r.gross_surplus, r.gross_vacancy, r.own_surplus, r.exception_deadline, r.excess_allowed_until)


def _http(report: Callable[[str], None], settings: Settings) -> None:
    with served(os.environ.copy()) as (client, server):
        as_of = DATES[-1].isoformat()

        def gql(query: str, variables: dict[str, Any]) -> Any:
            body = client.post("/graphql", json={"query": query, "variables": variables}).json()
            assert "errors" not in body, body
            return body["data"]

        rows = gql(LISTING_GQL, {"d": as_of})["staffingReport"]
        ids = [r["unit"]["id"] for r in rows]
        timings = []
        for unit_id in random.Random(2).sample(ids, min(300, len(ids))):
            t0 = time.perf_counter()
            gql(UNIT_GQL, {"u": unit_id, "d": as_of})
            timings.append(time.perf_counter() - t0)
        report(f"HTTP one unit's staffing: p50 {_ms(statistics.median(timings))}, p95 {_ms(_pct(timings, .95))} "
               "(target: p95 <= 10 ms)")
        summary_s, _ = timed(lambda: gql(SUMMARY_GQL, {"d": as_of}))
        report(f"HTTP national summary: {_ms(summary_s)} (target: <= 300 ms)")
        listing_s, _ = timed(lambda: gql(LISTING_GQL, {"d": as_of}))
        report(f"HTTP full listing over GraphQL ({len(rows):,} units): {_ms(listing_s)} (target: <= 3 s)")
        csv_s, response = timed(lambda: client.get("/downloads/staffing.csv", params={"asOf": as_of}))
        assert response.status_code == 200 and response.text.count("\n") == len(rows) + 1
        report(f"HTTP full listing as CSV ({len(response.content) / 1e6:,.1f} MB): {_ms(csv_s)} (target: <= 3 s)")
        jsonl_s, response = timed(lambda: client.get("/downloads/staffing.jsonl", params={"asOf": as_of}))
        assert response.status_code == 200 and response.text.count("\n") == len(rows)
        report(f"HTTP full listing as JSON Lines ({len(response.content) / 1e6:,.1f} MB): {_ms(jsonl_s)} "
               f"({jsonl_s / listing_s:.2f}x the GraphQL listing; target: <= 3 s)")
        report(f"server peak resident memory: {peak_memory_mib(server):,.0f} MiB (target: <= 4 GiB)")


if __name__ == "__main__":
    main()
