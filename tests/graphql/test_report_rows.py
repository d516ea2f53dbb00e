"""A report's rows built straight from its data equal the rows built through ``StaffingFigures`` (issue 9).

``Query.staffingReport`` builds its rows with ``types.report_rows`` from ``Queries.report_data``,
skipping the per-unit ``StaffingFigures`` that ``Queries.staffing_report`` makes (and that the
targets, the plans and the national summary still use). Both must give the same rows, field for
field, line for line, quota entries included: on the demo ledger, for whole-country and subtree
reports, each alone and rolled up, at several depths, dates and knowledge moments. The cases are
checked to reach what could differ: rolled-up rows of many units, gross vacancy and surplus, units
over quota, running and expired exceptions, and quota entries.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from staffing import chain
from staffing.bootstrap import Ledger
from staffing.graphql.types import StaffingRow, report_rows, row_from
from staffing.projections.queries import gap_figures

#: before and after the 2025 reform, and after the demo's excess exceptions ran out (2030)
DATES = (date(2024, 6, 30), date(2025, 3, 1), date(2025, 7, 1), date(2025, 12, 31), date(2030, 12, 31))
SHAPES = ((None, False), (0, False), (1, False), (2, False), (None, True), (0, True), (1, True), (2, True))


def _plain(row: StaffingRow) -> dict[str, Any]:
    """Every field of a row as plain values, the lines' sources and quota entries included."""
    out = {name: value for name, value in vars(row).items() if name not in ("unit", "lines")}
    out["unit"] = dict(vars(row.unit))
    out["lines"] = [(line.category, line.quota, line.headcount, line.vacancy, line.surplus, line.source.category,
                     line.source.quota, line.source.headcount, line.source.by_kind, line.source.members,
                     line.source.entries) for line in row.lines]
    return out


def _both(ledger: Ledger, root: str | None, as_of: date, position: int, depth: int | None,
          rolled: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    queries = ledger.queries
    head = chain.head(ledger.store.recorder, position)
    with queries.connect() as conn:
        figures = queries.staffing_report(conn, root, as_of, position, depth, rolled, from_rollup=False)
        data = queries.report_data(conn, root, as_of, position, depth, rolled)
    direct = report_rows(data, queries.entry_source(data, as_of, position), as_of, position, head)
    return [_plain(r) for r in direct], [_plain(row_from(f, head)) for f in figures]


def test_rows_built_from_report_data_equal_rows_built_through_figures(demo_ledger: Ledger) -> None:
    queries = demo_ledger.queries
    with queries.connect() as conn:
        now = queries.knowledge_position(conn, None)
        provinces = [u.id for u, _, _ in queries.subtree(conn, None, date(2025, 7, 1), now)
                     if u.kind == "PROVINCE"][:2]
    seen: dict[str, int] = dict.fromkeys(("rows", "rolled up over several units", "gross vacancy", "gross surplus",
                                          "over quota", "running exception", "expired exception",
                                          "quota entries"), 0)
    for position in (now // 2, now):
        for as_of in DATES:
            for root in (None, *provinces):
                for depth, rolled in SHAPES:
                    direct, through_figures = _both(demo_ledger, root, as_of, position, depth, rolled)
                    assert direct == through_figures, (root, as_of, position, depth, rolled)
                    for row in direct:
                        seen["rows"] += 1
                        seen["rolled up over several units"] += len(row["lines"][0][9]) > 1
                        seen["gross vacancy"] += row["gross_vacancy"] > 0
                        seen["gross surplus"] += row["gross_surplus"] > 0
                        seen["over quota"] += row["over_quota"] is not None
                        seen["running exception"] += row["excess_allowed_until"] is not None
                        seen["expired exception"] += (row["exception_deadline"] is not None
                                                      and row["excess_allowed_until"] is None)
                        seen["quota entries"] += any(line[10] for line in row["lines"])
    assert all(seen.values()), seen  # the comparison reached every kind of figure that could differ


@pytest.mark.parametrize(("gaps", "members", "unit", "expected"), [
    ({"a": -3}, ["a"], "a", (0, 3, 0)),  # a unit alone, short of its quota
    ({"a": 5}, ["a"], "a", (5, 0, 5)),  # a unit alone, over it
    ({}, ["a"], "a", (0, 0, 0)),  # a unit without figures
    ({"a": 4, "b": -1}, ["b"], "a", (0, 1, 4)),  # one member that is not the unit asked about
    ({"a": 2, "b": -3, "c": 4}, ["a", "b", "c", "d"], "a", (6, 3, 2)),  # rolled up: gross over each member
    ({"a": -2, "b": 7}, ["a", "b"], "a", (7, 2, 0)),
    ({"b": 1}, [], "a", (0, 0, 0)),  # no members (an ended unit's empty row)
])
def test_gap_figures_are_gross_over_members_and_own_for_the_unit(gaps: dict[str, int], members: list[str], unit: str,
                                                                 expected: tuple[int, int, int]) -> None:
    """(gross surplus, gross vacancy, own surplus): both report builders take them from here."""
    assert gap_figures(gaps, members, unit) == expected
