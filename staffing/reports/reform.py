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
from dataclasses import dataclass, field
from datetime import date, timedelta

import orjson
from sqlalchemy import Connection, select

from staffing.projections import tables as t
from staffing.projections.queries import Queries, category_vectors, on_record
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


class _Tree:
    """Where units stood: their kind, their top-level ancestor's kind, and whether they lay under the
    root, each on a given day. Every unit row believed at the position is read once (one statement,
    ~90,000 rows at national size) and each day answered from memory: a national period holds
    ~84,000 downsizing cases on thousands of distinct days (issue 11 at issue 9's scale)."""

    def __init__(self, queries: Queries, conn: Connection, root: str | None, position: int) -> None:
        self.queries, self.conn, self.root, self.position = queries, conn, root, position
        self._rows: dict[str, list[tuple[date, date, str, str | None]]] | None = None
        self._chains: dict[tuple[str, date], list[tuple[str, str]]] = {}

    def _versions(self) -> dict[str, list[tuple[date, date, str, str | None]]]:
        if self._rows is None:
            v = t.unit_versions
            rows: dict[str, list[tuple[date, date, str, str | None]]] = defaultdict(list)
            for r in self.conn.execute(select(v.c.unit_id, v.c.valid_from, v.c.valid_to, v.c.kind, v.c.parent_id)
                                       .where(v.c.rec_from <= self.position, v.c.rec_to > self.position,
                                              v.c.status == "ACTIVE", v.c.valid_from < v.c.valid_to)):
                rows[r.unit_id].append((r.valid_from, r.valid_to, r.kind, r.parent_id))
            self._rows = rows
        return self._rows

    def chain(self, unit_id: str, day: date) -> list[tuple[str, str]]:
        """(id, kind) from the unit up to its top-level unit on ``day`` (empty if it did not exist)."""
        key = (unit_id, day)
        found = self._chains.get(key)
        if found is None:
            found = []
            versions = self._versions()
            current: str | None = unit_id
            while current is not None and len(found) < 64:
                for start, end, kind, parent in versions.get(current, ()):
                    if start <= day < end:  # active that day: its kind and parent then
                        found.append((current, kind))
                        current = parent
                        break
                else:
                    break
            self._chains[key] = found
        return found

    def inside(self, chain: list[tuple[str, str]]) -> bool:
        return self.root is None or any(unit == self.root for unit, _ in chain)


def _facts(conn: Connection, kind: str, start: date, end: date, position: int
           ) -> list[tuple[str, date, dict[str, object]]]:
    f = t.facts
    rows = conn.execute(select(f.c.unit_id, f.c.effective_on, f.c.data).where(
        f.c.type == kind, f.c.effective_on >= start, f.c.effective_on <= end, on_record(position))
        .order_by(f.c.position)).all()
    return [(r.unit_id, r.effective_on, orjson.loads(r.data)) for r in rows]


def _quota(queries: Queries, conn: Connection, root: str | None, day: date, position: int) -> dict[str, int]:
    """Quota in force on ``day`` by category, summed over the subtree (the country) as it stood then."""
    quota, _ = category_vectors(queries.subtree_total(conn, root, day, position))
    return dict(zip(CATEGORIES, quota, strict=True))


def reform_statistics(queries: Queries, conn: Connection, root: str | None, start: date, end: date,
                      position: int) -> ReformStatistics:
    stats = ReformStatistics(start, end, position)
    tree = _Tree(queries, conn, root, position)
    for unit_id, on, data in _facts(conn, "UnitEnded", start, end, position):
        chain = tree.chain(unit_id, on - timedelta(days=1))
        if tree.inside(chain):
            stats.removed[(chain[0][1] if chain else "", str(data.get("change", "")))] += 1
    for unit_id, on, data in _facts(conn, "UnitEstablished", start, end, position):
        chain = tree.chain(unit_id, on)
        if tree.inside(chain):
            stats.created[(chain[0][1] if chain else "", str(data.get("change", "")))] += 1
    for unit_id, on, data in _facts(conn, "PersonDownsized", start, end, position):
        chain = tree.chain(unit_id, on) or tree.chain(unit_id, on - timedelta(days=1))
        if tree.inside(chain):
            central = bool(chain) and chain[-1][1] == "MINISTRY"
            stats.downsized[(str(data.get("policy", "")), str(data.get("decree", "")), central)] += 1
    stats.quota_before = _quota(queries, conn, root, start, position)
    stats.quota_after = _quota(queries, conn, root, end, position)
    if root is not None:
        for goal in target_rules.targets(conn, position, root):
            total = None
            if end >= goal.baseline_on:
                total, _ = target_rules.progress(queries, conn, goal, end, position)
            stats.targets.append((goal, total))
    return stats
