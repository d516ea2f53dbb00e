"""Reform statistics (issue 11): what the Ministry of Home Affairs publishes about a period.

For a subtree (the country without a root), a period [from, to] and a knowledge position:

- **units removed**: units that ended in the period, by kind and by kind of change (absorbed,
  consolidated, split, dissolved);
- **units created**: units established in the period, by kind and change;
- **people downsized**: by policy and by decree, and how many were central (under a ministry on the
  date, as DOMAIN.md's published figures count them: 84,140 from 2015 to 2023, 5,740 of them central);
- **quota change**: quota in force by category at the start and at the end;
- the reduction targets set on the root, with their progress at the end of the period.

Counting from facts keeps each figure explainable: every count is a set of recorded facts, known at
the position asked, none retracted by then. A unit belongs to the subtree when it lay under the
root on the day the fact took effect (the day before, for an end).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, cast, func, select
from sqlalchemy.dialects.postgresql import JSONB

from staffing.pause import paused
from staffing.projections import tables as t
from staffing.projections.queries import Queries, category_vectors, known, on_record
from staffing.reports import targets as target_rules
from staffing.reports.staffing_report import CATEGORIES

__all__ = ["ReformStatistics", "reform_statistics"]


@dataclass
class ReformStatistics:
    start: date
    end: date
    position: int
    removed: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, change) -> units
    created: Counter[tuple[str, str]] = field(default_factory=Counter)
    downsized: Counter[tuple[str, str, bool]] = field(default_factory=Counter)  # (policy, decree, central) -> people
    quota_before: dict[str, int] = field(default_factory=dict)
    quota_after: dict[str, int] = field(default_factory=dict)
    targets: list[tuple[target_rules.Target, target_rules.Progress | None]] = field(default_factory=list)

    def removed_of(self, kind: str) -> int:
        return sum(n for (k, _), n in self.removed.items() if k == kind)

    def created_of(self, kind: str) -> int:
        return sum(n for (k, _), n in self.created.items() if k == kind)

    @property
    def downsized_total(self) -> int:
        return sum(self.downsized.values())

    @property
    def downsized_central(self) -> int:
        return sum(n for (_, _, central), n in self.downsized.items() if central)


class _Place(NamedTuple):
    """Where a unit stood on a day: its kind, its top-level ancestor's kind, whether it lay under
    the report's root."""

    kind: str
    top_kind: str
    inside: bool


class _Tree:
    """Where units stood on given days. Every unit row believed at the position is read once (one
    statement, ~90,000 rows at national size) and each day answered from memory, each (unit, day)
    once: a unit's place is its own kind on top of its parent's place that day, so the units of one
    parent share the walk above it (a national period holds ~84,000 downsizing cases on thousands
    of distinct days: issue 11 at issue 9's scale)."""

    def __init__(self, conn: Connection, root: str | None, position: int, first: date, last: date) -> None:
        """Unit rows believed at ``position`` that cover some day in [first, last] (the days asked about)."""
        self.root = root
        v = t.unit_versions
        self._versions: dict[str, list[tuple[date, date, str, str | None]]] = defaultdict(list)
        for r in conn.execute(select(v.c.unit_id, v.c.valid_from, v.c.valid_to, v.c.kind, v.c.parent_id)
                              .where(known(v, position), v.c.status == "ACTIVE",
                                     v.c.valid_from < v.c.valid_to, v.c.valid_from <= last, v.c.valid_to > first)):
            self._versions[r.unit_id].append((r.valid_from, r.valid_to, r.kind, r.parent_id))
        self._places: dict[tuple[str, date], _Place | None] = {}

    def place(self, unit_id: str, day: date, depth: int = 0) -> _Place | None:
        """The unit's place on ``day`` (None when it was not active then). A parent not active that
        day makes the unit its own top; a cycle, which the write side forbids, is cut at 64 levels."""
        key = (unit_id, day)
        if key in self._places:
            return self._places[key]
        found = None
        for start, end, kind, parent in self._versions.get(unit_id, ()):
            if start <= day < end:
                above = self.place(parent, day, depth + 1) if parent is not None and depth < 64 else None
                mine = self.root is None or unit_id == self.root
                found = _Place(kind, kind, mine) if above is None else _Place(kind, above.top_kind,
                                                                               mine or above.inside)
                break
        self._places[key] = found
        return found

    def counted(self, found: _Place | None) -> bool:
        """Whether a fact at that place counts: under the root (anything, for the whole country)."""
        return found.inside if found is not None else self.root is None


def _facts(conn: Connection, kind: str, start: date, end: date, position: int, *fields: str
           ) -> Sequence[Any]:
    """(unit, effective date, *fields) of the period's facts of one kind known at ``position``. The
    fields are read out of each fact's JSON data by the database (a national period holds ~160,000
    such facts, a downsizing's data its whole payout: parsing each in Python cost ~0.4 s)."""
    f = t.facts
    if conn.dialect.name == "postgresql":
        values = [cast(f.c.data, JSONB)[name].astext for name in fields]
    else:
        values = [func.json_extract(f.c.data, f"$.{name}") for name in fields]
    return conn.execute(select(f.c.unit_id, f.c.effective_on, *values).where(
        f.c.type == kind, f.c.effective_on >= start, f.c.effective_on <= end, on_record(position))
        .order_by(f.c.position)).all()


def _quotas(queries: Queries, root: str | None, days: tuple[date, date], position: int
            ) -> tuple[dict[str, int], dict[str, int]]:
    """Quota in force on each of ``days`` by category, summed over the subtree (the country) as it stood
    then. Read on a connection of its own, so it runs beside the fact counts (each a national read
    of figure rows: ~0.6 s, mostly inside SQLite, which lets the other thread run); an answer at a
    log position is the same on any connection."""
    with queries.connect() as own:
        before, after = (dict(zip(CATEGORIES, category_vectors(queries.subtree_total(own, root, day, position))[0],
                                  strict=True)) for day in days)
    return before, after


@paused
def reform_statistics(queries: Queries, conn: Connection, root: str | None, start: date, end: date,
                      position: int) -> ReformStatistics:
    stats = ReformStatistics(start, end, position)
    with ThreadPoolExecutor(max_workers=1) as pool:
        quotas = pool.submit(_quotas, queries, root, (start, end), position)
        _count(stats, conn, root, start, end, position)
        stats.quota_before, stats.quota_after = quotas.result()
    if root is not None:
        for goal in target_rules.targets(conn, position, root):
            total = None
            if end >= goal.baseline_on:
                total, _ = target_rules.progress(queries, conn, goal, end, position)
            stats.targets.append((goal, total))
    return stats


def _count(stats: ReformStatistics, conn: Connection, root: str | None, start: date, end: date, position: int
           ) -> None:
    """Units removed and created, people downsized: each a set of facts, placed on the tree of its day."""
    tree = _Tree(conn, root, position, start - timedelta(days=1), end)  # an end is placed the day before
    for unit_id, on, change in _facts(conn, "UnitEnded", start, end, position, "change"):
        found = tree.place(unit_id, on - timedelta(days=1))  # what ended: the unit as it stood the day before
        if tree.counted(found):
            stats.removed[(found.kind if found else "", change or "")] += 1
    for unit_id, on, change in _facts(conn, "UnitEstablished", start, end, position, "change"):
        found = tree.place(unit_id, on)
        if tree.counted(found):
            stats.created[(found.kind if found else "", change or "")] += 1
    for unit_id, on, policy, decree in _facts(conn, "PersonDownsized", start, end, position, "policy", "decree"):
        found = tree.place(unit_id, on) or tree.place(unit_id, on - timedelta(days=1))
        if tree.counted(found):
            central = found is not None and found.top_kind == "MINISTRY"  # under a ministry that day
            stats.downsized[(policy or "", decree or "", central)] += 1
