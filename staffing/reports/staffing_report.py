"""The staffing report (báo cáo biên chế) the Ministry of Home Affairs asks for (issue 11).

For a root unit (or the whole country), an as-of date and a knowledge position, one row per unit of
the subtree with:

- the unit's own quota by category and by kind within each category (with the legal acts behind
  the figures) and headcount by category;
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

from bisect import insort
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from staffing.domain.values import QuotaKind, over_quota
from staffing.pause import paused
from staffing.projections.queries import Queries, category_vectors, quota_by_kind

__all__ = ["CATEGORIES", "KINDS", "MOVEMENTS", "ReportRow", "StaffingReport", "Totals", "build_report", "flag"]

CATEGORIES = ("CADRE", "CIVIL_SERVANT", "PUBLIC_EMPLOYEE", "CONTRACT_WORKER")
MOVEMENTS = ("RECRUITED", "TRANSFERRED_IN", "TRANSFERRED_OUT", "REORGANISED_IN", "REORGANISED_OUT", "RETIRED",
             "RESIGNED", "DISMISSED", "DOWNSIZED")
KINDS = tuple(k.value for k in QuotaKind)  # the order of a figure vector's quota columns within a category


def flag(surplus: int, deadline: date | None, as_of: date) -> str | None:
    """How a unit over quota stands on ``as_of`` (None: not over quota; ``domain.values.over_quota``)."""
    found = over_quota(surplus, deadline, as_of)
    return found.value if found else None


class _Counted:
    """Quota and headcount by category (tuples in ``CATEGORIES`` order), and what follows from them
    (netted: quota against headcount)."""

    quota: Sequence[int]
    headcount: Sequence[int]

    @property
    def total_quota(self) -> int:
        return sum(self.quota)

    @property
    def total_headcount(self) -> int:
        return sum(self.headcount)

    @property
    def vacancy(self) -> int:
        return max(self.total_quota - self.total_headcount, 0)

    @property
    def surplus(self) -> int:
        return max(self.total_headcount - self.total_quota, 0)


@dataclass(slots=True)
class Totals(_Counted):
    """Sums over a set of units: figures, and surplus/vacancy gross (unit by unit) and net."""

    quota: list[int] = field(default_factory=lambda: [0] * len(CATEGORIES))
    headcount: list[int] = field(default_factory=lambda: [0] * len(CATEGORIES))
    gross_vacancy: int = 0
    gross_surplus: int = 0
    units: int = 0
    by_kind: list[int] = field(default_factory=lambda: [0] * (len(CATEGORIES) * len(KINDS)))

    def add(self, row: ReportRow) -> None:
        self._absorb(row.quota, row.headcount, row.vacancy, row.surplus, 1, row.by_kind)

    def merge(self, other: Totals) -> None:
        self._absorb(other.quota, other.headcount, other.gross_vacancy, other.gross_surplus, other.units,
                     other.by_kind)

    def _absorb(self, quota: Sequence[int], heads: Sequence[int], vacancy: int, surplus: int, units: int,
                by_kind: Sequence[int]) -> None:
        if any(by_kind):  # most units hold one kind: the twelve figures are added only when there are any
            self.by_kind = [a + b for a, b in zip(self.by_kind, by_kind, strict=True)]
        mine, counted = self.quota, self.headcount  # four categories, unrolled: ~60,000 calls per national report
        mine[0] += quota[0]
        mine[1] += quota[1]
        mine[2] += quota[2]
        mine[3] += quota[3]
        counted[0] += heads[0]
        counted[1] += heads[1]
        counted[2] += heads[2]
        counted[3] += heads[3]
        self.gross_vacancy += vacancy
        self.gross_surplus += surplus
        self.units += units

    @property
    def net_vacancy(self) -> int:
        return self.vacancy

    @property
    def net_surplus(self) -> int:
        return self.surplus


@dataclass(slots=True)
class ReportRow:
    """One unit's line. Its figures never change once built, so what follows from them is computed
    once by ``build_report``, as plain attributes (a national report reads each several times for
    ~60,000 rows)."""

    unit_id: str
    level: int
    kind: str
    code: str
    name: str
    parent_code: str | None
    quota: tuple[int, ...]  # by category, in ``CATEGORIES`` order
    headcount: tuple[int, ...]
    by_kind: tuple[int, ...]  # quota by category, then kind (``KINDS`` order)
    acts: list[str]  # labels of the acts behind its quota, sorted
    deadline: date | None
    flag: str | None
    total_quota: int
    total_headcount: int
    vacancy: int
    surplus: int
    subtree: Totals = field(default=None)  # type: ignore[assignment]  # set by ``_subtrees`` for every row
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


@paused
def build_report(queries: Queries, conn: Connection, root_id: str | None, as_of: date, position: int,
                 period: tuple[date, date] | None = None) -> StaffingReport:
    """The report for the subtree of ``root_id`` (the country without one) as known at ``position``.

    Built from the report's data (unit rows and figure vectors, ``Queries.report_data``) and one read
    of the quota entries behind the figures, not from an object per line (a national report is
    ~60,000 units: issue 9's bulk path)."""
    data = queries.report_data(conn, root_id, as_of, position)
    acts = _act_labels(queries.acts_of(conn, [r.unit_id for r, _ in data.shown], as_of, position))
    codes = {r.unit_id: r.code for r, _ in data.shown}
    deadlines, total_of = data.deadlines, data.total
    no_acts: list[str] = []
    rows: list[ReportRow] = []
    for r, level in data.shown:
        vector = total_of(r.unit_id)
        quota, heads = category_vectors(vector)
        deadline = deadlines.get(r.unit_id)
        total_quota, total_heads = sum(quota), sum(heads)
        surplus = total_heads - total_quota
        row = ReportRow(r.unit_id, level, r.kind, r.code, r.name, codes.get(r.parent_id) if r.parent_id else None,
                        quota, heads, quota_by_kind(vector), acts.get(r.unit_id, no_acts), deadline,
                        flag(surplus, deadline, as_of),
                        total_quota, total_heads, max(-surplus, 0), max(surplus, 0))
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


def _act_labels(found: Iterable[tuple[str, str, str, Any]]) -> dict[str, list[str]]:
    """Each unit's acts as sorted labels "number (issuer, dd/mm/yyyy)", each act labelled once. Most
    units cite one act (a national report: ~70,000 rows for ~54,000 units), so a unit's list is
    kept in order as it grows rather than built from a set and sorted."""
    labels: dict[tuple[str, str, Any], str] = {}
    out: dict[str, list[str]] = {}
    for unit, number, issuer, signed in found:
        key = (number, issuer, signed)
        label = labels.get(key)
        if label is None:
            label = labels[key] = f"{number} ({issuer}, {_day(signed)})"
        mine = out.get(unit)
        if mine is None:
            out[unit] = [label]
        elif label not in mine:
            insort(mine, label)
    return out


def _day(signed: date | str) -> str:
    """dd/mm/yyyy of a signing date, read as a date or as SQLite's ISO text."""
    if isinstance(signed, str):
        return f"{signed[8:10]}/{signed[5:7]}/{signed[0:4]}"
    return signed.strftime("%d/%m/%Y")


def _subtrees(rows: list[ReportRow], parents: dict[str, str | None]) -> list[ReportRow]:
    """Each row's subtree totals: its own figures plus its children's subtrees (rows are in preorder,
    so walking them backwards finishes every child before its parent). Returns the top rows (those
    whose parent is not in the report)."""
    by_id = {row.unit_id: row for row in rows}
    for row in rows:
        row.subtree = Totals(list(row.quota), list(row.headcount), row.vacancy, row.surplus, 1, list(row.by_kind))
    tops = []
    for row in reversed(rows):
        parent = parents.get(row.unit_id)
        if parent in by_id:
            by_id[parent].subtree.merge(row.subtree)  # type: ignore[index]
        else:
            tops.append(row)
    tops.reverse()
    return tops
