"""Diffs that explain themselves (issue 12): two snapshots of a subtree, what differs, and why.

A snapshot is (as-of date, knowledge position). For every unit of the subtree on either snapshot
and every category whose quota or headcount differs, the row holds both figures and the recorded
facts about the unit that can account for the difference:

- facts **recorded between** the two knowledge positions, effective on or before the later date
  (a correction or a late record that changed what a filed report said);
- facts **taking effect between** the two dates, recorded by the later knowledge position (what
  happened in the meantime).

- facts **retracted between** the two knowledge positions, with their retractions: a retraction
  names only the unit its subject stood in when it was recorded, and takes effect on its own
  date, so it is listed at every unit the withdrawn fact touched.

Together these cover every fact the two snapshots disagree about, so an auditor can answer "what
did the correction recorded on X change in the report we filed on Y".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, and_, or_, select

from staffing.projections import tables as t
from staffing.projections.queries import FactRow, Queries, UnitView, category_figures, fact_row

__all__ = ["DiffRow", "Snapshot", "staffing_diff"]

#: the facts columns the diff reads, in the order its rows are unpacked (``FactRow`` by position)
_FACT_COLUMNS = ("position", "fact_id", "aggregate_id", "type", "unit_id", "other_unit_id", "person_id",
                 "effective_on", "recorded_us", "act_number", "act_issuer", "act_signed_on", "data", "retracted_pos",
                 "retraction_fact_id", "recorded_by")


@dataclass(frozen=True)
class Snapshot:
    as_of: date
    position: int


@dataclass(frozen=True)
class DiffRow:
    unit: UnitView
    category: str
    quota_before: int
    quota_after: int
    headcount_before: int
    headcount_after: int
    facts: list[FactRow]


def _by_unit(queries: Queries, conn: Connection, root: str | None, snapshot: Snapshot
             ) -> dict[str, tuple[UnitView, dict[str, tuple[int, int]]]]:
    """Each unit of the subtree on the snapshot: its view and (quota, headcount) by category, read from
    the report's figure vectors (no object per line: a province holds ~1,700 units)."""
    data = queries.report_data(conn, root, snapshot.as_of, snapshot.position)
    out = {}
    for r, _ in data.shown:
        lines = {c: (q, h) for c, q, h in category_figures(data.total(r.unit_id))}
        out[r.unit_id] = (queries.view_of(r, snapshot.as_of, snapshot.position), lines)
    return out


def staffing_diff(queries: Queries, conn: Connection, root: str | None, before: Snapshot, after: Snapshot
                  ) -> list[DiffRow]:
    then, now = _by_unit(queries, conn, root, before), _by_unit(queries, conn, root, after)
    changed: list[tuple[UnitView, str, int, int, int, int]] = []
    for unit_id in dict.fromkeys([*now, *then]):
        old, new = then.get(unit_id), now.get(unit_id)
        view = (new or old)[0]  # type: ignore[index]
        old_lines, new_lines = old[1] if old else {}, new[1] if new else {}
        for category in dict.fromkeys([*new_lines, *old_lines]):
            (qb, hb), (qa, ha) = old_lines.get(category, (0, 0)), new_lines.get(category, (0, 0))
            if qb != qa or hb != ha:
                changed.append((view, category, qb, qa, hb, ha))
    explaining = _explaining(conn, {view.id for view, *_ in changed}, before, after)
    return [DiffRow(view, category, qb, qa, hb, ha, explaining.get(view.id, []))
            for view, category, qb, qa, hb, ha in changed]


def _explaining(conn: Connection, units: set[str], before: Snapshot, after: Snapshot) -> dict[str, list[FactRow]]:
    if not units:
        return {}
    f = t.facts
    low_p, high_p = sorted((before.position, after.position))
    low_d, high_d = sorted((before.as_of, after.as_of))
    found: dict[str, list[FactRow]] = defaultdict(list)
    ids = sorted(units)
    columns = [f.c[name] for name in _FACT_COLUMNS]
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        rows = conn.execute(select(*columns).where(
            or_(f.c.unit_id.in_(chunk), f.c.other_unit_id.in_(chunk)),
            or_(and_(f.c.position > low_p, f.c.position <= high_p, f.c.effective_on <= high_d),
                and_(f.c.effective_on > low_d, f.c.effective_on <= high_d, f.c.position <= high_p),
                and_(f.c.retracted_pos > low_p, f.c.retracted_pos <= high_p)),
        ).order_by(f.c.position)).all()
        withdrawn: dict[str, set[str]] = {}
        for r in rows:  # positional: a province's diff reads tens of thousands of facts
            fact = FactRow(r[1], r[0], r[3], r[2], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[14],
                           r[15])
            touched = {r[4], r[5]} & units
            for unit in touched:
                found[unit].append(fact)
            if r[14] and low_p < r[13] <= high_p:
                withdrawn[r[14]] = touched
        if withdrawn:
            for r in conn.execute(select(f).where(f.c.fact_id.in_(list(withdrawn)))).all():
                fact = fact_row(r)
                for unit in withdrawn[r.fact_id]:
                    if all(known.id != fact.id for known in found[unit]):
                        found[unit].append(fact)
    for facts in found.values():
        facts.sort(key=lambda fact: fact.position)
    return found
