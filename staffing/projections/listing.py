"""The staffing listing as CSV rows: the bulk path that does not go through GraphQL (issue 9).

A national listing is ~60,000 rows of ~40 fields; graphql-core spends ~5 µs on every field, so
the listing and its CSV download are written straight from ``Queries.report_data`` (the unit rows
and figure vectors the GraphQL report is built from) here, one row at a time, and streamed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from itertools import chain
from typing import Any

import orjson
from sqlalchemy import Connection

from staffing.pause import collection_paused
from staffing.projections.queries import CATEGORIES, Queries, category_vectors, running_exception
from staffing.projections.rollup import is_summary

__all__ = ["HEADER", "PEOPLE_HEADER", "csv_chunks", "csv_lines", "json_lines", "people_lines"]

FIGURES = ("quota", "headcount", "vacancy", "surplus")
HEADER = ("level", "unit_id", "code", "name", "kind", "parent_id",
          *[f"{c.value.lower()}_{f}" for c in CATEGORIES for f in FIGURES],
          *[f"total_{f}" for f in FIGURES], "excess_allowed_until")


def _row(r: Any, level: int, total: Sequence[int], until: date | None, as_of: date) -> list[object]:
    """One unit's cells, computed from its figure vector the way ``StaffingLine`` computes them
    (plain arithmetic, no ``max``: a national listing computes ~1,000,000 of these cells)."""
    cells: list[object] = [level, r.unit_id, r.code, r.name, r.kind, r.parent_id or ""]
    quota, heads = category_vectors(total)
    for q, h in zip(quota, heads, strict=True):
        gap = q - h
        cells += (q, h, gap if gap > 0 else 0, -gap if gap < 0 else 0)
    total_quota, total_heads = sum(quota), sum(heads)
    gap = total_quota - total_heads
    cells += (total_quota, total_heads, gap if gap > 0 else 0, -gap if gap < 0 else 0)
    running = running_exception(until, as_of)
    cells.append(running.isoformat() if running else "")
    return cells


def csv_lines(queries: Queries, conn: Connection, root_id: str | None, as_of: date, position: int,
              rolled: bool, depth: int | None = None, chunk: int = 2000) -> Iterator[str]:
    """The header, then one CSV row per unit of the report (parents before children), in chunks of text.

    Written from the report's data (unit rows and figure vectors), not from ``StaffingFigures``: the
    same numbers, without an object per line and field (a national listing is ~60,000 units)."""
    yield from csv_chunks(chain([HEADER], _rows(queries, conn, root_id, as_of, position, rolled, depth)), chunk)


def json_lines(queries: Queries, conn: Connection, root_id: str | None, as_of: date, position: int,
               rolled: bool, depth: int | None = None, chunk: int = 2000) -> Iterator[str]:
    """The same rows as ``csv_lines`` as JSON Lines, one object per unit keyed by ``HEADER``: numbers
    as numbers, no parent or no running exception as null (for programs rather than spreadsheets)."""
    lines: list[bytes] = []
    for cells in _rows(queries, conn, root_id, as_of, position, rolled, depth):
        record = dict(zip(HEADER, cells, strict=True))
        record["parent_id"] = record["parent_id"] or None
        record["excess_allowed_until"] = record["excess_allowed_until"] or None
        lines.append(orjson.dumps(record))
        if len(lines) == chunk:
            yield b"\n".join(lines).decode() + "\n"
            lines.clear()
    if lines:
        yield b"\n".join(lines).decode() + "\n"


def _rows(queries: Queries, conn: Connection, root_id: str | None, as_of: date, position: int, rolled: bool,
          depth: int | None) -> Iterator[list[object]]:
    if is_summary(root_id, depth, rolled):  # from the roll-up, no tree
        from staffing.projections.summary import summary_rows

        return (_row(r, 1, vector, deadline, as_of)
                for r, vector, _, deadline in summary_rows(queries, conn, as_of, position))
    with collection_paused():  # the eager part: every unit row and figure vector (rows are formatted as streamed)
        data = queries.report_data(conn, root_id, as_of, position, depth, rolled)
    return (_row(r, level, data.total(r.unit_id), data.deadlines.get(r.unit_id), as_of) for r, level in data.shown)


PEOPLE_HEADER = ("person_id", "full_name", "birth_date", "gender", "unit_id", "unit_code", "unit_name", "position_id",
                 "category", "rank", "status", "since")


def people_lines(queries: Queries, conn: Connection, root_id: str | None, as_of: date, position: int,
                 descendants: bool, chunk: int = 2000) -> Iterator[str]:
    """The people present in a unit (its subtree, or the country) on ``as_of``, by name, as CSV chunks:
    one read, not a page of 500 at a time (a province holds ~60,000 people)."""
    units = None if root_id is None else (
        queries.subtree_ids(conn, root_id, as_of, position) if descendants else [root_id])
    people = queries.people_rows(conn, units, as_of, position)
    views = queries.units_by_id(conn, sorted({p[4] for p in people}), as_of, position)
    names = {unit: (view.code, view.name) for unit, view in views.items()}
    yield from csv_chunks(chain([PEOPLE_HEADER], (
        (person, name, born.isoformat(), gender, unit, *names.get(unit, ("", "")), post or "", category, rank, status,
         since.isoformat()) for person, name, born, gender, unit, post, category, rank, status, since in people)), chunk)


def csv_chunks(rows: Iterable[Sequence[object]], chunk: int = 2000) -> Iterator[str]:
    """CSV text of ``rows``, ``chunk`` rows at a time (what a streamed download sends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for i, row in enumerate(rows, start=1):
        writer.writerow(row)
        if i % chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
