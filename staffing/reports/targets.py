"""Progress against reduction targets (issue 11), and exceptions running out.

A target (``SetReductionTarget``, kept as a ``ReductionTargetSet`` fact) asks a subtree for
``percent`` fewer posts of a category by a due date than the quota in force on a baseline date.
Progress is measured on quota (biên chế được giao), as the targets of DOMAIN.md are:

- **rolled up** over the subtree as it stood on each date;
- **per unit** for each unit of the subtree, its own subtree then and now. A unit created after the
  baseline date takes its baseline from the units it came from (lineage): the whole baseline of a
  unit merged into it (absorbed or consolidated); of a unit split into parts, the part's share of
  the quota the parts took (the parts' baselines add up to the original's, so posts cut at the
  split count as cut by the parts); of a unit separated from, the share of the original's quota
  the day before. The original continuing after a separation keeps its own baseline (a
  limitation: the posts it gave away count as cut there).

Each comes with baseline, target, current and achieved %, and a status:

- ``MET``: current ≤ target;
- ``ON_TRACK``: not met yet, but at least as far along as a straight line from baseline to target
  would be on the date asked (rounded up to whole posts: a post is cut whole);
- ``BEHIND``: not met, and short of that line, before the due date;
- ``MISSED``: not met by the due date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, and_, select

from staffing.domain.errors import InvalidInput, NotFound
from staffing.projections import tables as t
from staffing.projections.queries import Queries, StaffingFigures, UnitView, on_record, visible

__all__ = ["Progress", "Target", "expiring_exceptions", "progress", "target", "targets"]


@dataclass(frozen=True)
class Target:
    fact_id: str
    unit_id: str
    category: str | None
    percent: int
    baseline_on: date
    due_on: date
    act_number: str
    act_issuer: str


@dataclass(frozen=True)
class Progress:
    unit: UnitView
    baseline: int
    target: int
    current: int

    @property
    def achieved_percent(self) -> float:
        return round(100 * (self.baseline - self.current) / self.baseline, 1) if self.baseline else 0.0

    def status(self, goal: Target, as_of: date) -> str:
        if self.current <= self.target:
            return "MET"
        if as_of >= goal.due_on:
            return "MISSED"
        span = (goal.due_on - goal.baseline_on).days
        elapsed = min(max((as_of - goal.baseline_on).days, 0), span)
        expected = math.ceil(self.baseline - (self.baseline - self.target) * elapsed / span)  # whole posts
        return "ON_TRACK" if self.current <= expected else "BEHIND"


def _target(row: Any) -> Target:
    data = orjson.loads(row.data)
    return Target(row.fact_id, row.unit_id, data.get("category"), int(data["percent"]),
                  date.fromisoformat(str(data["baseline_on"])), date.fromisoformat(str(data["due_on"])),
                  row.act_number, row.act_issuer)


def _known(position: int) -> Any:
    return and_(t.facts.c.type == "ReductionTargetSet", on_record(position))


def targets(conn: Connection, position: int, unit_id: str | None = None) -> list[Target]:
    """The targets on record at ``position`` (for one unit, or all), in recording order."""
    f = t.facts
    query = select(f).where(_known(position))
    if unit_id is not None:
        query = query.where(f.c.unit_id == unit_id)
    return [_target(r) for r in conn.execute(query.order_by(f.c.position))]


def target(conn: Connection, fact_id: str, position: int) -> Target:
    row = conn.execute(select(t.facts).where(t.facts.c.fact_id == fact_id, _known(position))).first()
    if row is None:
        raise NotFound("targetId", f"no reduction target {fact_id} is on record at that moment")
    return _target(row)


def _quota(figures: StaffingFigures | None, category: str | None) -> int | None:
    if figures is None:
        return None
    return sum(line.quota for line in figures.lines if category is None or line.category == category)


def _goal(baseline: int, percent: int) -> int:
    """The posts a target allows: the baseline less at least ``percent`` of it (a post is not divided:
    -5% of 10 posts means 9)."""
    return baseline - math.ceil(baseline * percent / 100)


def progress(queries: Queries, conn: Connection, goal: Target, as_of: date, position: int
             ) -> tuple[Progress | None, list[Progress]]:
    """(the subtree rolled up, each unit of it), on ``as_of``; see the module docstring for the baseline of a
    unit created after the baseline date."""
    if as_of < goal.baseline_on:
        raise InvalidInput("asOf", f"progress is measured from the baseline date {goal.baseline_on.isoformat()}")
    now = queries.staffing_report(conn, goal.unit_id, as_of, position, include_descendants=True)
    then = {f.unit_id: f for f in queries.staffing_report(conn, goal.unit_id, goal.baseline_on, position,
                                                          include_descendants=True)}
    rows = []
    for figures in now:
        baseline = _quota(then.get(figures.unit_id), goal.category)
        if baseline is None:  # created after the baseline date: from the units it came from
            baseline = _inherited(queries, conn, figures.unit_id, goal, position, set())
        current = _quota(figures, goal.category)
        if baseline is None or current is None or figures.unit is None:
            continue
        rows.append(Progress(figures.unit, baseline, _goal(baseline, goal.percent), current))
    rolled = rows[0] if rows and rows[0].unit.id == goal.unit_id else None
    if rolled is None and now and now[0].unit is not None:  # the root itself was created after the baseline
        baseline = sum(_quota(f, goal.category) or 0 for f in then.values() if f.level == 0)
        current = _quota(now[0], goal.category) or 0
        rolled = Progress(now[0].unit, baseline, _goal(baseline, goal.percent), current)
    return rolled, rows


def _inherited(queries: Queries, conn: Connection, unit_id: str, goal: Target, position: int,
               seen: set[str]) -> int | None:
    """The baseline a unit created after the baseline date inherits through its lineage (see the
    module docstring); None when nothing it came from existed on the baseline date."""
    seen.add(unit_id)
    total, found = 0, False
    for entry in queries.lineage(conn, unit_id, position)[0]:
        if entry.unit_id in seen or not goal.baseline_on < entry.effective_on:
            continue
        then = queries.staffing(conn, entry.unit_id, goal.baseline_on, position, include_descendants=True)
        base = _quota(then, goal.category) if then is not None else _inherited(queries, conn, entry.unit_id, goal,
                                                                                 position, seen)
        if base is None:
            continue
        if entry.change in ("SPLIT", "SEPARATE"):  # the share of the original's posts this part took
            took = _quota(queries.staffing(conn, unit_id, entry.effective_on, position, True), goal.category) or 0
            if entry.change == "SPLIT":  # the parts share the whole baseline (a cut at the split is theirs)
                parts = [e.unit_id for e in queries.lineage(conn, entry.unit_id, position)[1]
                         if e.change == "SPLIT" and e.effective_on == entry.effective_on]
                had = sum(_quota(queries.staffing(conn, part, entry.effective_on, position, True), goal.category) or 0
                          for part in parts)
            else:  # the original continues with the rest
                had = _quota(queries.staffing(conn, entry.unit_id, entry.effective_on - timedelta(days=1), position,
                                              True), goal.category) or 0
            base = round(base * took / had) if had else 0
        total, found = total + base, True
    return total if found else None


@dataclass(frozen=True)
class Expiring:
    unit: UnitView
    deadline: date
    surplus: int
    people: list[tuple[str, str]]  # (person id, full name) of the people present, newest first


def expiring_exceptions(queries: Queries, conn: Connection, root_id: str | None, as_of: date, horizon: date,
                        position: int) -> list[Expiring]:
    """Units whose post-merger exception runs out between ``as_of`` and ``horizon`` while they are
    still over quota: the surplus still to shed and who is in the unit."""
    found = []
    for figures in queries.staffing_report(conn, root_id, as_of, position):
        deadline = figures.exception_deadline
        if deadline is None or not as_of <= deadline <= horizon or figures.own_surplus <= 0 or figures.unit is None:
            continue
        p, info = t.person_versions, t.persons
        people = conn.execute(
            select(p.c.person_id, info.c.full_name).join(info, info.c.person_id == p.c.person_id)
            .where(p.c.unit_id == figures.unit_id, p.c.status == "ACTIVE", visible(p, as_of, position))
            .order_by(p.c.valid_from.desc(), info.c.full_name)).all()
        found.append(Expiring(figures.unit, deadline, figures.own_surplus, [(r.person_id, r.full_name) for r in people]))
    return sorted(found, key=lambda e: (e.deadline, e.unit.code))
