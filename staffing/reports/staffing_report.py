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
from staffing.projections.queries import Queries, category_figures

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
class ReportRow:
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
    subtree: Totals = field(default=None)  # type: ignore[assignment]  # set by ``_subtrees`` for every row
    movements: dict[str, int] = field(default_factory=dict)
    # a row's figures never change once built: what follows from them is computed once, as plain
    # attributes (a national report reads each several times for ~60,000 rows; ``cached_property``
    # takes a lock on every read in Python 3.11)
    total_quota: int = field(init=False)
    total_headcount: int = field(init=False)
    vacancy: int = field(init=False)
    surplus: int = field(init=False)

    def __post_init__(self) -> None:
        self.total_quota = sum(self.quota.values())
        self.total_headcount = sum(self.headcount.values())
        self.vacancy = max(self.total_quota - self.total_headcount, 0)
        self.surplus = max(self.total_headcount - self.total_quota, 0)


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
    """The report for the subtree of ``root_id`` (the country without one) as known at ``position``.

    Built from the report's data (unit rows and figure vectors, ``Queries.report_data``) and one read
    of the quota entries behind the figures, not from an object per line (a national report is
    ~60,000 units: issue 9's bulk path)."""
    data = queries.report_data(conn, root_id, as_of, position)
    ids = [r.unit_id for r, _ in data.shown]
    acts: dict[str, list[str]] = {}
    labels: dict[tuple[str, str, date], str] = {}
    for unit, found in queries.acts_of(conn, ids, as_of, position).items():
        for act in found:
            if act not in labels:
                labels[act] = f"{act[0]} ({act[1]}, {act[2].strftime('%d/%m/%Y')})"
        acts[unit] = sorted(labels[act] for act in found)
    codes = {r.unit_id: r.code for r, _ in data.shown}
    rows: list[ReportRow] = []
    for r, level in data.shown:
        lines = category_figures(data.total(r.unit_id))
        quota = {c: q for c, q, _ in lines}
        heads = {c: h for c, _, h in lines}
        deadline = data.deadlines.get(r.unit_id)
        surplus = max(sum(heads.values()) - sum(quota.values()), 0)
        row = ReportRow(r.unit_id, level, r.kind, r.code, r.name, codes.get(r.parent_id) if r.parent_id else None,
                        quota, heads, acts.get(r.unit_id, []), deadline, flag(surplus, deadline, as_of))
        if period is not None:
            counted = Counter(m.kind for m in queries.movements(conn, r.unit_id, period[0], period[1], position))
            row.movements = {k: counted.get(k, 0) for k in MOVEMENTS}
        rows.append(row)
    tops = _subtrees(rows, {r.unit_id: r.parent_id for r, _ in data.shown})
    by_level: dict[int, Totals] = defaultdict(Totals)
    for row in rows:
        by_level[row.level].add(row)
    total = Totals()
    for top in tops:  # every row lies in exactly one top row's subtree
        total.merge(top.subtree)
    return StaffingReport(root_id, as_of, position, rows, dict(sorted(by_level.items())), total, period)


def _subtrees(rows: list[ReportRow], parents: dict[str, str | None]) -> list[ReportRow]:
    """Each row's subtree totals: its own figures plus its children's subtrees (rows are in preorder,
    so walking them backwards finishes every child before its parent). Returns the top rows (those
    whose parent is not in the report)."""
    by_id = {row.unit_id: row for row in rows}
    for row in rows:
        row.subtree = Totals(dict(row.quota), dict(row.headcount), row.vacancy, row.surplus, 1)
    tops = []
    for row in reversed(rows):
        parent = parents.get(row.unit_id)
        if parent in by_id:
            by_id[parent].subtree.merge(row.subtree)  # type: ignore[index]
        else:
            tops.append(row)
    tops.reverse()
    return tops
