"""The staffing report (báo cáo biên chế) the Ministry of Home Affairs asks for (issue 11).

For a root unit (or the whole country), an as-of date and a knowledge position, one row per unit of
the subtree with:

- the unit's own quota by category (with the legal acts behind the figures) and headcount by
  category;
- over its whole subtree, vacancy and surplus both **gross** (summed unit by unit: what must be
  filled or shed) and **net** (the roll-up, where one unit's vacancies hide another's surplus — why
  Bộ Tài chính showed surplus 0 while its units held 8 surplus posts);
- a flag for a unit over quota: ``WITHIN_EXCEPTION`` (a post-merger exception runs on the date),
  ``EXCEPTION_EXPIRED`` (its deadline has passed) or ``NO_EXCEPTION``;
- optionally, its movements in a period (recruited, transferred in and out, reorganised in and
  out, retired, resigned, dismissed, downsized).

Totals rows per level and for the whole report follow the same rule: sums of the unit figures,
gross as the sum of each unit's own surplus, net as the difference of the sums.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection

from staffing.domain.values import over_quota
from staffing.projections.queries import Queries

__all__ = ["CATEGORIES", "MOVEMENTS", "ReportRow", "StaffingReport", "Totals", "build_report", "flag"]

CATEGORIES = ("CADRE", "CIVIL_SERVANT", "PUBLIC_EMPLOYEE", "CONTRACT_WORKER")
MOVEMENTS = ("RECRUITED", "TRANSFERRED_IN", "TRANSFERRED_OUT", "REORGANISED_IN", "REORGANISED_OUT", "RETIRED",
             "RESIGNED", "DISMISSED", "DOWNSIZED")


def flag(surplus: int, deadline: date | None, as_of: date) -> str | None:
    """How a unit over quota stands on ``as_of`` (None: not over quota; ``domain.values.over_quota``)."""
    found = over_quota(surplus, deadline, as_of)
    return found.value if found else None


class _Counted:
    """Quota and headcount by category, and what follows from them (netted: quota against headcount)."""

    quota: dict[str, int]
    headcount: dict[str, int]

    @property
    def total_quota(self) -> int:
        return sum(self.quota.values())

    @property
    def total_headcount(self) -> int:
        return sum(self.headcount.values())

    @property
    def vacancy(self) -> int:
        return max(self.total_quota - self.total_headcount, 0)

    @property
    def surplus(self) -> int:
        return max(self.total_headcount - self.total_quota, 0)


@dataclass
class Totals(_Counted):
    """Sums over a set of units: figures, and surplus/vacancy gross (unit by unit) and net."""

    quota: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    headcount: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    gross_vacancy: int = 0
    gross_surplus: int = 0
    units: int = 0

    def add(self, row: ReportRow) -> None:
        self._absorb(row.quota, row.headcount, row.vacancy, row.surplus, 1)

    def merge(self, other: Totals) -> None:
        self._absorb(other.quota, other.headcount, other.gross_vacancy, other.gross_surplus, other.units)

    def _absorb(self, quota: dict[str, int], heads: dict[str, int], vacancy: int, surplus: int, units: int) -> None:
        for c in CATEGORIES:
            self.quota[c] += quota[c]
            self.headcount[c] += heads[c]
        self.gross_vacancy += vacancy
        self.gross_surplus += surplus
        self.units += units

    @property
    def net_vacancy(self) -> int:
        return self.vacancy

    @property
    def net_surplus(self) -> int:
        return self.surplus


@dataclass
class ReportRow(_Counted):
    unit_id: str
    level: int
    kind: str
    code: str
    name: str
    parent_code: str | None
    quota: dict[str, int]
    headcount: dict[str, int]
    acts: list[str]
    deadline: date | None
    flag: str | None
    subtree: Totals = field(default_factory=Totals)
    movements: dict[str, int] = field(default_factory=dict)


@dataclass
class StaffingReport:
    root_id: str | None
    as_of: date
    position: int
    rows: list[ReportRow]
    by_level: dict[int, Totals]
    total: Totals
    period: tuple[date, date] | None = None


def build_report(queries: Queries, conn: Connection, root_id: str | None, as_of: date, position: int,
                 period: tuple[date, date] | None = None) -> StaffingReport:
    """The report for the subtree of ``root_id`` (the country without one) as known at ``position``."""
    figures = queries.staffing_report(conn, root_id, as_of, position)
    ids = [f.unit_id for f in figures]
    deadlines = queries.exception_deadlines(conn, ids, as_of, position)
    codes = {f.unit_id: f.unit.code for f in figures if f.unit}
    rows: list[ReportRow] = []
    for f in figures:
        assert f.unit is not None
        quota = {line.category: line.quota for line in f.lines}
        heads = {line.category: line.headcount for line in f.lines}
        acts = sorted({f"{e.act_number} ({e.act_issuer}, {e.act_signed_on.strftime('%d/%m/%Y')})"
                       for line in f.lines for e in line.entries})
        surplus = max(sum(heads.values()) - sum(quota.values()), 0)
        row = ReportRow(f.unit_id, f.level, f.unit.kind, f.unit.code, f.unit.name,
                        codes.get(f.unit.parent_id or "") if f.unit.parent_id else None,
                        {c: quota.get(c, 0) for c in CATEGORIES}, {c: heads.get(c, 0) for c in CATEGORIES}, acts,
                        deadlines.get(f.unit_id), flag(surplus, deadlines.get(f.unit_id), as_of))
        if period is not None:
            counted = Counter(m.kind for m in queries.movements(conn, f.unit_id, period[0], period[1], position))
            row.movements = {k: counted.get(k, 0) for k in MOVEMENTS}
        rows.append(row)
    _subtrees(rows, {f.unit_id: f.unit.parent_id for f in figures if f.unit})
    by_level: dict[int, Totals] = defaultdict(Totals)
    total = Totals()
    for row in rows:
        by_level[row.level].add(row)
        total.add(row)
    return StaffingReport(root_id, as_of, position, rows, dict(sorted(by_level.items())), total, period)


def _subtrees(rows: list[ReportRow], parents: dict[str, str | None]) -> None:
    """Each row's subtree totals: its own figures plus its children's subtrees (rows are in preorder,
    so walking them backwards finishes every child before its parent)."""
    by_id = {row.unit_id: row for row in rows}
    for row in rows:
        row.subtree = Totals()
        row.subtree.add(row)
    for row in reversed(rows):
        parent = parents.get(row.unit_id)
        if parent in by_id:
            by_id[parent].subtree.merge(row.subtree)  # type: ignore[index]
