"""The national summary read from the roll-up (issue 9): one row per top-level unit, summed over its subtree.

``staffingReport(depth: 1, includeDescendants: true)`` without a root. The tree walk reads every unit
of the country and one figure row each (~60,000 seeks); here each root's totals are the roll-up's
sum (``staffing.projections.rollup``): the root's checkpoint at the last bound on or before D + 1
as of the last mark before P, plus its deltas recorded after that mark up to P, plus its deltas
dated from that bound to D recorded up to the mark. Then the ~100 roots' own rows are read (unit
rows, own figure rows, exception deadlines). The figures are the tree walk's: the tests hold the
two equal at every log position.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Connection, Date, and_, bindparam, func, select
from sqlalchemy.dialects.postgresql import distinct_on

from staffing.projections import tables as t
from staffing.projections.figures import WIDTH
from staffing.projections.queries import (
    EntrySource,
    Queries,
    QuotaEntry,
    StaffingFigures,
    _gap,
    _row_order,
    running_exception,
    visible,
)
from staffing.projections.rollup import RWIDTH, SURPLUS, UNITS, VACANCY, bound_for

__all__ = ["national_summary", "root_totals", "summary_rows"]


def _statements() -> dict[str, Any]:
    d, p, p0, b = (bindparam("d", type_=Date), bindparam("p", type_=BigInteger), bindparam("p0", type_=BigInteger),
                   bindparam("b", type_=Date))
    marks, c, x = t.rollup_marks, t.root_checkpoints, t.root_deltas
    sums = [func.sum(x.c[n]) for n in t.ROLLUP_COLUMNS]
    values = [c.c[n] for n in t.ROLLUP_COLUMNS]
    latest = (select(c.c.root_id, func.max(c.c.position).label("position")).where(c.c.bound == b, c.c.position <= p0)
              .group_by(c.c.root_id).having(c.c.units > 0).subquery("latest"))
    newest = (select(c.c.root_id, *values).where(c.c.bound == b, c.c.position <= p0)
              .ext(distinct_on(c.c.root_id)).order_by(c.c.root_id, c.c.position.desc()).subquery("newest"))
    return {
        "mark": select(marks.c.position, marks.c.extent).where(marks.c.position <= p)
        .order_by(marks.c.position.desc()).limit(1),
        # each root's latest checkpoint at the bound as of the mark, if it has units in force then (a root
        # without has only zeros: a unit's figures count only under a root). SQLite finds them in the
        # index alone (its max() gives the bare column ``units`` of the row it picks: documented
        # behaviour), then reads those rows; PostgreSQL has DISTINCT ON
        "checkpoints sqlite": select(c.c.root_id, *values).join(latest, and_(
            c.c.bound == b, c.c.root_id == latest.c.root_id, c.c.position == latest.c.position)),
        "checkpoints postgresql": select(newest).where(newest.c.units > 0),
        # recorded after the mark: by position (SQLite would otherwise walk the day index from the past)
        "recent": select(x.c.root_id, *sums).where(and_(x.c.position > p0, x.c.position <= p, x.c.day <= d))
        .group_by(x.c.root_id).with_hint(x, "INDEXED BY ix_root_deltas_position", "sqlite"),
        "since_bound": select(x.c.root_id, *sums).where(and_(x.c.day >= b, x.c.day <= d, x.c.position <= p0))
        .group_by(x.c.root_id),
    }


_STATEMENTS = _statements()


def root_totals(conn: Connection, as_of: date, position: int) -> dict[str, list[int]]:
    """Each root in force on ``as_of`` as known at ``position`` -> its roll-up vector (``ROLLUP_COLUMNS``)."""
    mark = conn.execute(_STATEMENTS["mark"], {"p": position}).first()
    totals: dict[str, list[int]] = {}

    def add(rows: Iterable[Any]) -> None:
        for r in rows:
            vector = totals.setdefault(r[0], [0] * RWIDTH)
            for i in range(RWIDTH):
                vector[i] += int(r[i + 1] or 0)

    if mark is None:
        p0 = 0
    else:
        p0, bound = int(mark.position), bound_for(as_of)
        if bound >= mark.extent:  # no delta recorded by the mark is dated on or after its extent
            bound = mark.extent
        else:
            add(conn.execute(_STATEMENTS["since_bound"], {"b": bound, "d": as_of, "p0": p0}))
        add(conn.execute(_STATEMENTS[f"checkpoints {conn.dialect.name}"], {"b": bound, "p0": p0}))
    add(conn.execute(_STATEMENTS["recent"], {"p0": p0, "p": position, "d": as_of}))
    return {root: vector for root, vector in totals.items() if vector[UNITS] > 0}


def summary_rows(queries: Queries, conn: Connection, as_of: date, position: int
                 ) -> list[tuple[Any, list[int], tuple[int, ...] | None, date | None]]:
    """Each root in force, in the tree walk's order (code, then id): (its unit row, its roll-up vector,
    its own figure vector or None, its exception deadline on record or None)."""
    totals = root_totals(conn, as_of, position)
    if not totals:
        return []
    v = t.unit_versions
    rows = sorted(conn.execute(queries._unit_select().where(
        v.c.unit_id.in_(sorted(totals)), visible(v, as_of, position), v.c.status == "ACTIVE")).all(), key=_row_order)
    roots = [r.unit_id for r in rows]
    own = queries.figure_rows(conn, roots, as_of, position)
    deadlines = queries.exception_deadlines(conn, roots, as_of, position)
    return [(r, totals[r.unit_id], own.get(r.unit_id), deadlines.get(r.unit_id)) for r in rows]


def national_summary(queries: Queries, conn: Connection, as_of: date, position: int) -> list[StaffingFigures]:
    """The rows of ``Queries.staffing_report(None, as_of, position, depth=1, include_descendants=True)``."""
    found = summary_rows(queries, conn, as_of, position)
    source = SubtreeEntries(queries, as_of, position, [r.unit_id for r, _, _, _ in found])
    out = []
    for r, vector, own, deadline in found:
        figures = queries._assemble(r.unit_id, vector[:WIDTH], (r.unit_id,), as_of, position,
                                    running_exception(deadline, as_of), True, source)
        figures.unit, figures.level = queries.view_of(r, as_of, position), 1
        figures.gross_surplus, figures.gross_vacancy = vector[SURPLUS], vector[VACANCY]
        figures.own_surplus = max(_gap(own), 0) if own is not None else 0
        figures.exception_deadline = deadline
        out.append(figures)
    return out


class SubtreeEntries(EntrySource):
    """The quota entries behind each root's figures: its whole subtree's, found on first use (the
    summary itself reads no tree)."""

    def __init__(self, queries: Queries, as_of: date, position: int, roots: list[str]) -> None:
        super().__init__(queries, as_of, position)
        self.roots = roots
        self.subtrees: dict[str, list[str]] = {}

    def load(self, conn: Connection | None = None) -> None:
        if self._loaded is not None:
            return
        if conn is None:
            with self.queries.connect() as own:
                self.load(own)
            return
        for root in self.roots:
            self.subtrees[root] = self.queries.subtree_ids(conn, root, self.as_of, self.position)
            self.units.update(self.subtrees[root])
        super().load(conn)

    def entries(self, members: Iterable[str], category: str) -> list[QuotaEntry]:
        self.load()
        return super().entries([u for m in members for u in self.subtrees.get(m, [m])], category)
