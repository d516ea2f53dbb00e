"""The staffing listing as CSV rows: the bulk path that does not go through GraphQL (issue 9).

A national listing is ~60,000 rows of ~40 fields; graphql-core spends ~5 µs on every field, so
the listing and its CSV download are written straight from ``Queries.staffing_report`` here, one
row at a time, and streamed. The figures are the same objects the GraphQL report serialises.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

from sqlalchemy import Connection

from staffing.projections.queries import CATEGORIES, Queries, StaffingFigures

__all__ = ["HEADER", "csv_lines"]

FIGURES = ("quota", "headcount", "vacancy", "surplus")
HEADER = ("level", "unit_id", "code", "name", "kind", "parent_id",
          *[f"{c.value.lower()}_{f}" for c in CATEGORIES for f in FIGURES],
          *[f"total_{f}" for f in FIGURES], "excess_allowed_until")


def _row(figures: StaffingFigures) -> list[object]:
    unit = figures.unit
    assert unit is not None
    cells: list[object] = [figures.level, unit.id, unit.code, unit.name, unit.kind, unit.parent_id or ""]
    for line in figures.lines:
        cells.extend((line.quota, line.headcount, line.vacancy, line.surplus))
    cells.extend((figures.total_quota, figures.total_headcount, figures.total_vacancy, figures.total_surplus))
    cells.append(figures.excess_allowed_until.isoformat() if figures.excess_allowed_until else "")
    return cells


def csv_lines(queries: Queries, conn: Connection, root_id: str | None, as_of: date, position: int,
              rolled: bool, depth: int | None = None, chunk: int = 500) -> Iterator[str]:
    """The header, then one CSV row per unit of the report (parents before children), in chunks of text."""
    rows = queries.staffing_report(conn, root_id, as_of, position, depth, rolled)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for i, figures in enumerate(rows, start=1):
        writer.writerow(_row(figures))
        if i % chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
