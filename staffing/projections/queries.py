"""Temporal queries over the read models: every answer is "as of" a date and "as known at" a moment.

Never replays aggregates. Each question is answered with a few set-based statements over the
bitemporal tables, using the visibility rule ``valid_from <= D < valid_to`` and
``rec_from <= P < rec_to`` (P = the log position known at the requested moment).
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple, TypeVar

import orjson
from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    String,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from staffing.domain.errors import InvalidInput
from staffing.domain.values import PersonnelCategory, QuotaKind
from staffing.pause import paused
from staffing.projections import tables as t
from staffing.projections.db import ViewEngines
from staffing.projections.figures import FIGURE_COLUMNS, HEADCOUNT, HEADS_OF, QUOTA, QUOTAS_OF
from staffing.projections.figures import gap as _gap
from staffing.projections.rollup import is_summary
from staffing.projections.text import fold

_T = TypeVar("_T")

__all__ = [
    "EntrySource", "FactRow", "HistoryFilter", "category_figures", "category_vectors", "gap_figures", "line_figures", "quota_by_kind", "fact_row", "known", "running_exception", "on_record", "LineageEntry", "Movement", "PersonView", "QuotaEntry", "Queries", "ReportData", "StaffingFigures",
    "StaffingLine", "UnitView", "decode_cursor", "encode_cursor",
]

CATEGORIES = tuple(PersonnelCategory)
NOW_POSITION = t.OPEN_POSITION - 1
MAX_DEPTH = 64  # deeper than any administrative tree; bounds a walk should a cycle ever slip in


def from_us(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, tz=UTC)


def to_us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def encode_cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode("\x1f".join(str(p) for p in parts).encode()).decode()


def decode_cursor(cursor: str, n: int) -> list[str]:
    try:
        parts = base64.urlsafe_b64decode(cursor.encode()).decode().split("\x1f")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("after", "the cursor is not one this API issued; pass an endCursor back unchanged") from None
    if len(parts) != n:
        raise InvalidInput("after", "the cursor is not one this API issued; pass an endCursor back unchanged")
    return parts


#: a unit row as views are made from it
_UNIT_COLUMNS = ("unit_id", "code", "name", "kind", "autonomy", "parent_id", "status")


def known(table: Any, position: Any) -> ColumnElement[bool]:
    """The rows of a version table believed at log position ``position`` (recorded at or before it,
    not yet superseded): the knowledge half of every bitemporal read."""
    return and_(table.c.rec_from <= position, table.c.rec_to > position)


def visible(table: Any, as_of: Any, position: Any) -> ColumnElement[bool]:
    """The rows believed at ``position`` that cover the date ``as_of``."""
    c = table.c
    return and_(c.valid_from <= as_of, c.valid_to > as_of, known(table, position))


@dataclass(frozen=True)
class UnitView:
    id: str
    code: str
    name: str
    kind: str
    autonomy: str | None
    parent_id: str | None
    status: str
    as_of: date
    position: int  # the knowledge position the view reflects


@dataclass(frozen=True)
class LineageEntry:
    unit_id: str
    change: str
    effective_on: date
    fact_id: str


@dataclass(frozen=True)
class QuotaEntry:
    category: str
    kind: str
    amount: int
    fact_id: str
    act_number: str
    act_issuer: str
    act_signed_on: date
    effective_from: date


class EntrySource:
    """Loads the quota entries (figure, kind, legal act) of many units at once, on first use.

    Totals come from ``unit_figures``; the entries behind them are only read when a caller asks
    for them (a national roll-up would otherwise carry every quota row of the country). One source
    serves every line of a report, so asking for entries costs one query per 500 units, not one
    per line. It reads through its own connection at the pinned knowledge position, so a late
    read gives the same answer the figures were computed for.
    """

    def __init__(self, queries: Queries, as_of: date, position: int) -> None:
        self.queries, self.as_of, self.position = queries, as_of, position
        self.units: set[str] = set()
        self._loaded: dict[str, list[QuotaEntry]] | None = None  # "unit|category" -> entries

    def load(self, conn: Connection | None = None) -> None:
        """Read the entries now (while ``conn``, e.g. a rolled-back preview, is still open)."""
        if self._loaded is not None:
            return
        if conn is not None:
            self._loaded = self.queries.quota_entries(conn, self.units, self.as_of, self.position)
            return
        with self.queries.connect() as own:
            self._loaded = self.queries.quota_entries(own, self.units, self.as_of, self.position)

    def entries(self, members: Iterable[str], category: str) -> list[QuotaEntry]:
        self.load()
        assert self._loaded is not None
        found = [e for m in members for e in self._loaded.get(f"{m}|{category}", ())]
        found.sort(key=lambda e: (QuotaKind(e.kind).name, e.fact_id))
        return found


@dataclass
class StaffingLine:
    category: str
    quota: int = 0
    headcount: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    source: EntrySource | None = None
    members: tuple[str, ...] = ()

    @property
    def vacancy(self) -> int:
        return max(self.quota - self.headcount, 0)

    @property
    def surplus(self) -> int:
        return max(self.headcount - self.quota, 0)

    def quota_of(self, kind: str) -> int:
        return self.by_kind.get(kind, 0)

    @property
    def entries(self) -> list[QuotaEntry]:
        """Each quota figure in force behind ``quota``, with its act (read on first use)."""
        return self.source.entries(self.members, self.category) if self.source is not None else []


@dataclass
class StaffingFigures:
    unit_id: str
    as_of: date
    position: int
    lines: list[StaffingLine]
    excess_allowed_until: date | None
    includes_descendants: bool
    unit: UnitView | None = None
    level: int = 0
    #: over the units summed (each unit alone): what must be filled / shed, which the net totals hide
    gross_vacancy: int = 0
    gross_surplus: int = 0
    #: the unit's own surplus (not its subtree's) and the deadline of its exception on record, passed or not
    own_surplus: int = 0
    exception_deadline: date | None = None

    @property
    def total_quota(self) -> int:
        return sum(line.quota for line in self.lines)

    @property
    def total_headcount(self) -> int:
        return sum(line.headcount for line in self.lines)

    @property
    def total_vacancy(self) -> int:
        return max(self.total_quota - self.total_headcount, 0)

    @property
    def total_surplus(self) -> int:
        return max(self.total_headcount - self.total_quota, 0)


@dataclass(frozen=True)
class ReportData:
    """See ``Queries.report_data``."""

    shown: list[tuple[Any, int]]  # (unit row, level), parents before children
    # shown unit -> the units its figures sum; None: each unit alone (not rolled up; a national
    # listing need not build ~60,000 one-element lists)
    members: dict[str, list[str]] | None
    figures: dict[str, tuple[int, ...]]  # unit -> figure vector (units without figures are absent)
    deadlines: dict[str, date]  # unit -> its excess exception's deadline on record, passed or not

    def gaps(self) -> dict[str, int]:
        """Each unit's gap (headcount minus quota), once per unit, not once per row summing it."""
        return {unit: _gap(vector) for unit, vector in self.figures.items()}

    def members_of(self, unit_id: str) -> list[str]:
        """The units a shown unit's figures sum (itself alone unless rolled up)."""
        return self.members[unit_id] if self.members is not None else [unit_id]

    def total(self, unit_id: str) -> Sequence[int]:
        """The figure vector summed over the unit's members."""
        if self.members is None:
            return self.figures.get(unit_id, ZERO)
        unit = self.members[unit_id]
        if len(unit) == 1:
            return self.figures.get(unit_id, ZERO)
        return _sum(filter(None, map(self.figures.get, unit)))


@dataclass(frozen=True)
class HistoryFilter:
    """What an auditor narrows the history to (issue 12); every condition given must hold."""

    types: tuple[str, ...] = ()
    act_number: str | None = None
    act_issuer: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None
    late_by_days: int | None = None  # recorded more than this many days after the fact took effect
    recorded_by: str | None = None

    def clauses(self, dialect: str) -> list[ColumnElement[bool]]:
        f = t.facts
        out: list[ColumnElement[bool]] = []
        if self.types:
            out.append(f.c.type.in_(self.types))
        if self.act_number is not None:
            out.append(f.c.act_number == self.act_number)
        if self.act_issuer is not None:
            out.append(f.c.act_issuer == self.act_issuer)
        if self.effective_from is not None:
            out.append(f.c.effective_on >= self.effective_from)
        if self.effective_to is not None:
            out.append(f.c.effective_on <= self.effective_to)
        if self.recorded_from is not None:
            out.append(f.c.recorded_us >= to_us(self.recorded_from))
        if self.recorded_to is not None:
            out.append(f.c.recorded_us <= to_us(self.recorded_to))
        if self.late_by_days is not None:  # the effective date's midnight (UTC) in µs, per dialect
            midnight = (func.cast(func.strftime("%s", f.c.effective_on), BigInteger) if dialect == "sqlite"
                        else func.cast(func.extract("epoch", f.c.effective_on), BigInteger))
            out.append(f.c.recorded_us > (midnight + self.late_by_days * 86_400) * 1_000_000)
        if self.recorded_by is not None:
            out.append(f.c.recorded_by == self.recorded_by)
        return out


class FactRow(NamedTuple):
    """A recorded fact as the API shows it (a named tuple: a diff or a history page builds thousands)."""

    id: str
    position: int
    type: str
    aggregate_id: str
    unit_id: str | None
    other_unit_id: str | None
    person_id: str | None
    effective_on: date
    recorded_us: int
    act_number: str
    act_issuer: str
    act_signed_on: date
    data: str
    retracted_by: str | None
    recorded_by: str | None = None

    @property
    def recorded_at(self) -> datetime:
        """The recording moment (converted when read: most lists never show it)."""
        return from_us(self.recorded_us)


@dataclass(frozen=True)
class PersonView:
    id: str
    full_name: str
    birth_date: date
    gender: str
    unit_id: str
    position_id: str | None
    category: str
    rank: str
    status: str
    since: date
    as_of: date
    position: int


@dataclass(frozen=True)
class Movement:
    person_id: str
    kind: str  # RECRUITED, TRANSFERRED_IN/OUT, REORGANISED_IN/OUT, RETIRED, RESIGNED, DISMISSED, DOWNSIZED
    effective_on: date
    category: str
    fact_id: str


class Queries:
    """Read-side façade. ``refresh()`` (projection catch-up) gives read-your-writes across processes."""

    def __init__(self, engines: ViewEngines, refresh: Any = None, preview: Any = None) -> None:
        self.engines = engines
        self._refresh = refresh
        self._preview = preview
        #: a scope's people in page order, per (scope, as of, position, filters): an answer known at a
        #: projected position never changes, so the pages after the first slice it instead of sorting
        #: the province again (issue 12)
        self._pages: OrderedDict[tuple[Any, ...], tuple[list[Any], dict[tuple[str, str], int]]] = OrderedDict()
        self._pages_lock = threading.Lock()

    def preview(self, events: Sequence[Any]) -> AbstractContextManager[tuple[Connection, int]]:
        """A connection and position at which the read models include ``events``, never committed
        (a dry run's figures; see ``Projector.preview``)."""
        if self._preview is None:
            raise RuntimeError("this Queries was built without a projector to preview with")
        return self._preview(events)  # type: ignore[no-any-return]

    def refresh(self) -> None:
        if self._refresh is not None:
            self._refresh()

    def connect(self) -> Connection:
        return self.engines.read.connect()

    # ------------------------------------------------------------------ knowledge
    def knowledge_position(self, conn: Connection, known_at: datetime | None) -> int:
        """The last log position recorded by ``known_at``; when None, the position projected now.

        Pinning "now" to the projected position (rather than "anything") lets one request read a
        single consistent snapshot even while a writer commits between its statements.
        """
        if known_at is None:
            tracked = conn.execute(_PREPARED.tracked).scalar()
            return int(tracked) if tracked is not None else NOW_POSITION
        if known_at.tzinfo is None:
            raise InvalidInput("knownAt", "give the moment with its UTC offset, e.g. 2025-08-01T00:00:00+07:00")
        moment = int(known_at.timestamp() * 1_000_000)
        found = conn.execute(select(func.max(t.log_clock.c.position)).where(t.log_clock.c.recorded_us <= moment))
        return int(found.scalar_one() or 0)

    # ------------------------------------------------------------------ units
    def _unit_select(self) -> Any:
        v = t.unit_versions
        return select(*[v.c[n] for n in _UNIT_COLUMNS])

    @staticmethod
    def view_of(row: Any, as_of: date, position: int) -> UnitView:
        """The view of a unit row (a walk's, a report's: ``report_data``'s rows)."""
        return UnitView(row.unit_id, row.code, row.name, row.kind, row.autonomy, row.parent_id, row.status,
                        as_of, position)

    def unit(self, conn: Connection, unit_id: str, as_of: date, position: int) -> UnitView | None:
        """The unit as it stood on ``as_of``; None when it did not exist then (not yet, or ended)."""
        row = conn.execute(_PREPARED.unit, {"u": unit_id, "d": as_of, "p": position}).first()
        return self.view_of(row, as_of, position) if row else None

    def is_within(self, unit_id: str, root_id: str, as_of: date, position: int) -> bool:
        """Whether ``unit_id`` lies in ``root_id``'s subtree on ``as_of`` as known at ``position``
        (the read scope of a personnel caller). An ended unit keeps the parent it ended under."""
        current: str | None = unit_id
        with self.connect() as conn:
            for _ in range(64):  # deeper than any real hierarchy: a guard only
                if current is None:
                    return False
                if current == root_id:
                    return True
                current = conn.execute(_PREPARED.parent, {"u": current, "d": as_of, "p": position}).scalar()
        return False

    def units_by_id(self, conn: Connection, unit_ids: Sequence[str], as_of: date, position: int) -> dict[str, UnitView]:
        v = t.unit_versions
        out: dict[str, UnitView] = {}
        for chunk in _chunks(list(dict.fromkeys(unit_ids)), 500):
            for row in conn.execute(self._unit_select().where(v.c.unit_id.in_(chunk), visible(v, as_of, position),
                                                              v.c.status == "ACTIVE")):
                out[row.unit_id] = self.view_of(row, as_of, position)
        return out

    def last_known_unit(self, conn: Connection, unit_id: str, position: int) -> UnitView | None:
        """The unit's latest state as known at ``position``, whatever the date (for lineage links)."""
        v = t.unit_versions
        row = conn.execute(self._unit_select().add_columns(v.c.valid_from)
                           .where(v.c.unit_id == unit_id, known(v, position))
                           .order_by(v.c.valid_from.desc()).limit(1)).first()
        return self.view_of(row, row.valid_from, position) if row else None

    def ended_unit(self, conn: Connection, unit_id: str, as_of: date, position: int) -> UnitView | None:
        """The unit as it ended, when it had ended by ``as_of`` (issue 12: a question about a date after
        a unit ended is answered with its status and successors, not a bare null)."""
        last = self.last_known_unit(conn, unit_id, position)
        return last if last is not None and last.status == "ENDED" and last.as_of <= as_of else None

    def ended_staffing(self, conn: Connection, unit_id: str, as_of: date, position: int) -> StaffingFigures | None:
        """For a unit that had ended by ``as_of``: empty figures carrying the unit as it ended, so an
        answer can give its status and successors instead of a bare null (issue 12)."""
        unit = self.ended_unit(conn, unit_id, as_of, position)
        if unit is None:
            return None
        figures = self._assemble(unit_id, list(ZERO), [], as_of, position, None, False, EntrySource(self, as_of,
                                                                                                     position))
        figures.unit = unit
        return figures

    def lifetimes(self, conn: Connection, unit_ids: Sequence[str], position: int
                  ) -> dict[str, tuple[date | None, date | None]]:
        """(established on, ended on) of each unit as known at ``position``."""
        v = t.unit_versions
        out: dict[str, tuple[date | None, date | None]] = {}
        for chunk in _chunks(list(dict.fromkeys(unit_ids)), 500):
            rows = conn.execute(select(v.c.unit_id, func.min(v.c.valid_from).label("start"),
                                       func.min(case((v.c.status == "ENDED", v.c.valid_from))).label("end"))
                                .where(v.c.unit_id.in_(chunk), known(v, position))
                                .group_by(v.c.unit_id)).all()
            for r in rows:
                out[r.unit_id] = (r.start, r.end)
        return out

    def every_unit(self, conn: Connection, *, position: int, kind: str | None = None, search: str | None = None,
                   first: int = 50, after: str | None = None) -> tuple[list[UnitView], bool]:
        """Every unit that ever existed as known at ``position``, in its last state, by (code, id)."""
        v = t.unit_versions
        latest = (select(v.c.unit_id, func.max(v.c.valid_from).label("last"))
                  .where(known(v, position)).group_by(v.c.unit_id).subquery())
        query = (self._unit_select().add_columns(v.c.valid_from)
                 .join(latest, and_(latest.c.unit_id == v.c.unit_id, latest.c.last == v.c.valid_from))
                 .where(known(v, position)))
        rows, more = _unit_page(conn, query, kind, search, first, after)
        return [self.view_of(r, r.valid_from, position) for r in rows], more

    def children(self, conn: Connection, unit_id: str, as_of: date, position: int) -> list[UnitView]:
        v = t.unit_versions
        rows = conn.execute(self._unit_select().where(v.c.parent_id == unit_id, visible(v, as_of, position),
                                                      v.c.status == "ACTIVE").order_by(v.c.code, v.c.unit_id))
        return [self.view_of(r, as_of, position) for r in rows]

    def children_of(self, conn: Connection, parent_ids: Sequence[str], as_of: date, position: int
                    ) -> dict[str, list[UnitView]]:
        """Children of many units at once (one statement per 500 parents): no per-row query storm."""
        v = t.unit_versions
        out: dict[str, list[UnitView]] = {p: [] for p in parent_ids}
        for chunk in _chunks(list(dict.fromkeys(parent_ids)), 500):
            rows = conn.execute(self._unit_select().where(v.c.parent_id.in_(chunk), visible(v, as_of, position),
                                                          v.c.status == "ACTIVE").order_by(v.c.code, v.c.unit_id))
            for r in rows:
                out[r.parent_id].append(self.view_of(r, as_of, position))
        return out

    def units(self, conn: Connection, *, as_of: date, position: int, kind: str | None = None,
              parent_id: str | None = None, search: str | None = None, first: int = 50,
              after: str | None = None, within: str | None = None) -> tuple[list[UnitView], bool]:
        """Units existing on ``as_of``, keyset-paginated by (code, id); search ignores diacritics.
        ``within``: only the subtree of that unit as it stood on ``as_of`` (a personnel caller's scope)."""
        v = t.unit_versions
        query = self._unit_select().where(visible(v, as_of, position), v.c.status == "ACTIVE")
        if within is not None:
            query = query.where(v.c.unit_id.in_(self.subtree_ids(conn, within, as_of, position)))
        if parent_id:
            query = query.where(v.c.parent_id == parent_id)
        rows, more = _unit_page(conn, query, kind, search, first, after)
        return [self.view_of(r, as_of, position) for r in rows], more

    def lineage(self, conn: Connection, unit_id: str, position: int) -> tuple[list[LineageEntry], list[LineageEntry]]:
        rows = conn.execute(select(t.lineage).where(t.lineage.c.unit_id == unit_id, t.lineage.c.rec_from <= position)
                            .order_by(t.lineage.c.effective_on, t.lineage.c.row_id)).all()
        entries = {"PREDECESSOR": [], "SUCCESSOR": []}  # type: dict[str, list[LineageEntry]]
        for r in rows:
            entries[r.direction].append(LineageEntry(r.related_unit_id, r.change, r.effective_on, r.fact_id))
        return entries["PREDECESSOR"], entries["SUCCESSOR"]

    def subtree(self, conn: Connection, root_id: str | None, as_of: date, position: int,
                depth: int | None = None) -> list[tuple[UnitView, int, str | None]]:
        """(unit, level, parent) for the subtree as it stood on ``as_of``, parents before children.

        With a root, the root is level 0; without one, top-level units are level 1 (the country).
        """
        return [(self.view_of(r, as_of, position), level, r.parent_id)
                for r, level in self._walk(conn, root_id, as_of, position, depth)]

    def _walk(self, conn: Connection, root_id: str | None, as_of: date, position: int,
              depth: int | None) -> list[tuple[Any, int]]:
        """The subtree's unit rows with their levels, in preorder (siblings by code, then id)."""
        rows = self._subtree_rows(conn, root_id, as_of, position, depth)
        return _preorder(_Tree(rows), root_id, depth)

    def _subtree_rows(self, conn: Connection, root_id: str | None, as_of: date, position: int,
                      depth: int | None, names: Sequence[str] = _UNIT_COLUMNS) -> Sequence[Any]:
        """The unit rows of the subtree on ``as_of`` (the whole tree without a root), with the columns
        ``names`` (a view needs them all; a total only the ids).

        With a root, a recursive query walks down from it through the parent index, so a
        province's subtree costs its own units, not the country's (issue 9).
        """
        v = t.unit_versions
        if root_id is None:
            return conn.execute(select(*[v.c[n] for n in names])
                                .where(visible(v, as_of, position), v.c.status == "ACTIVE")).all()
        root = (select(*[v.c[n] for n in names], literal(0).label("level"))
                .where(v.c.unit_id == root_id, visible(v, as_of, position), v.c.status == "ACTIVE")
                .cte("walk", recursive=True))
        child = v.alias("child")
        limit = min(depth if depth is not None else MAX_DEPTH, MAX_DEPTH)  # the write side forbids cycles; never loop
        walk = root.union_all(
            select(*[child.c[n] for n in names], root.c.level + 1)
            .where(child.c.parent_id == root.c.unit_id, visible(child, as_of, position), child.c.status == "ACTIVE",
                   root.c.level < limit))
        return conn.execute(select(*[walk.c[n] for n in names])).all()  # the rows carry what a view needs: no join

    # ------------------------------------------------------------------ staffing
    def figure_rows(self, conn: Connection, unit_ids: Sequence[str], as_of: date, position: int
                    ) -> dict[str, tuple[int, ...]]:
        """Each unit's pre-aggregated figures in force on ``as_of`` as known at ``position``.

        One index seek per unit: among the unit's rows known at the position, the one with the
        latest ``valid_from`` on or before ``as_of`` (rows known at one position partition valid
        time, so it is the row covering the date, if any row does). Cost is independent of how
        much history lies before or after the date.
        """
        ids = list(dict.fromkeys(unit_ids))
        return self._known_now_first(conn, position, lambda now: self._figure_rows(conn, ids, as_of, position, now))

    def country_rows(self, conn: Connection, as_of: date, position: int) -> tuple[Sequence[Any], dict[str, tuple[int, ...]]]:
        """Every unit row in force on ``as_of`` (what ``_subtree_rows`` gives without a root) and each
        one's figures (what ``figure_rows`` gives for all of them), read by one statement; with the
        same shortcut for "known now" as ``figure_rows``."""
        rows = self._known_now_first(
            conn, position, lambda now: conn.execute(_PREPARED.country[conn.dialect.name, now],
                                                     {"d": as_of, "p": position}).all())
        return rows, _country_figures(rows)

    def _known_now_first(self, conn: Connection, position: int, read: Callable[[bool], _T]) -> _T:
        """``read(now=True)`` when ``position`` is the projected one, else (or if a batch was
        projected meanwhile) ``read(now=False)``.

        Known now, every figure row closed so far has rec_to <= position, so "rec_to > position" is
        "rec_to is open", an equality the index answers directly. That holds only if nothing was
        projected meanwhile (a commit between two statements): checked after, else the general form
        runs."""
        if position >= self._tracked(conn):
            found = read(True)
            if position >= self._tracked(conn):
                return found
        return read(False)

    def _tracked(self, conn: Connection) -> int:
        tracked = conn.execute(_PREPARED.tracked).scalar()
        return int(tracked) if tracked is not None else NOW_POSITION

    def _figure_rows(self, conn: Connection, ids: list[str], as_of: date, position: int, now: bool
                     ) -> dict[str, tuple[int, ...]]:
        out: dict[str, tuple[int, ...]] = {}
        if len(ids) == 1:  # the common case (one unit's staffing): one seek, no id table
            one = _PREPARED.one_open_figure if now else _PREPARED.one_figure
            row = conn.execute(one, {"u": ids[0], "d": as_of, "p": position}).first()
            if row is not None and row[0] > as_of:
                out[ids[0]] = tuple(row[1:])
            return out
        statement = _PREPARED.figures(conn.dialect.name, now)
        for chunk in _chunks(ids, 2000):
            for r in conn.execute(statement, {"ids": _id_param(conn, chunk), "d": as_of, "p": position}).all():
                out[r[0]] = tuple(r[1:])
        return out

    def quota_entries(self, conn: Connection, unit_ids: Iterable[str], as_of: date, position: int
                      ) -> dict[str, list[QuotaEntry]]:
        """The quota figures in force (amount > 0) with their acts, keyed ``"unit|category"``."""
        out: dict[str, list[QuotaEntry]] = defaultdict(list)
        for chunk in _chunks(sorted(set(unit_ids)), 500):
            for r in conn.execute(_PREPARED.entries, {"ids": list(chunk), "d": as_of, "p": position}):
                out[f"{r.unit_id}|{r.category}"].append(QuotaEntry(r.category, r.kind, r.amount, r.fact_id,
                                                                   r.act_number, r.act_issuer, r.act_signed_on,
                                                                   r.valid_from))
        return out

    def acts_of(self, conn: Connection, unit_ids: Sequence[str], as_of: date, position: int
                ) -> Iterator[tuple[str, str, str, date | str]]:
        """(unit, act number, issuer, signing date) behind each unit's quota in force on ``as_of``, one
        row per quota figure (the caller keeps each act once; cheaper than the database's DISTINCT over a
        nation): what a report cites. For a national list every row in force is read at once. The
        signing date comes as the database gives it (ISO text on SQLite: not parsed ~70,000 times)."""
        q = t.quota_versions
        acts = select(q.c.unit_id, q.c.act_number, q.c.act_issuer, type_coerce(q.c.act_signed_on, String)).where(
            visible(q, as_of, position), q.c.amount > 0)
        return _for_units(conn, unit_ids, lambda: acts, lambda chunk: (acts.where(q.c.unit_id.in_(chunk)), {}))

    def exception_deadlines(self, conn: Connection, unit_ids: Sequence[str], as_of: date, position: int
                            ) -> dict[str, date]:
        """The excess-staffing exception deadline on record for each unit on ``as_of``, passed or not
        (a report tells an expired exception from none at all). For many units (a national listing),
        every row in force is read once and filtered here, rather than one statement per 500 ids."""
        x = t.excess_versions
        return dict(_for_units(conn, unit_ids, lambda: select(x.c.unit_id, x.c.until).where(visible(x, as_of, position)),
                               lambda chunk: (_PREPARED.deadlines, {"ids": list(chunk), "d": as_of, "p": position})))

    @staticmethod
    def _assemble(unit_id: str, total: Sequence[int], members: Sequence[str], as_of: date,
                  position: int, excess: date | None, rolled: bool, source: EntrySource) -> StaffingFigures:
        """One line per category from a figure vector (entries read lazily by ``source``)."""
        members = tuple(members)
        lines = [StaffingLine(category, quota, heads, by_kind, source, members)
                 for category, quota, heads, by_kind in line_figures(total)]
        return StaffingFigures(unit_id, as_of, position, lines, excess, rolled)

    def subtree_total(self, conn: Connection, root_id: str | None, as_of: date, position: int) -> Sequence[int]:
        """The figure vector summed over the subtree of ``root_id`` (every unit without one) as it stood
        on ``as_of``: one read of its units and one of their figures, no ordering and no objects (the
        reform statistics' quota of a nation at two dates)."""
        return _sum(self.figure_rows(conn, self._subtree_ids(conn, root_id, as_of, position), as_of, position).values())

    def _subtree_ids(self, conn: Connection, root_id: str | None, as_of: date, position: int) -> list[str]:
        """The ids of the subtree's units on ``as_of``, in no particular order: what a total needs
        (a sum has no order; a merged province is ~5,000 units, so no tree is built to order them)."""
        return list(dict.fromkeys(r.unit_id for r in self._subtree_rows(conn, root_id, as_of, position, None,
                                                                         ("unit_id",))))

    def staffing(self, conn: Connection, unit_id: str, as_of: date, position: int,
                 include_descendants: bool = False, load_entries: bool = False) -> StaffingFigures | None:
        """One unit's figures, alone or rolled up over its subtree as it stood on ``as_of``.

        Quota entries are read on first use, through their own connection; ``load_entries`` reads
        them in ``conn`` before returning instead (a rolled-back preview's figures need that).
        """
        if include_descendants:
            unit = self.unit(conn, unit_id, as_of, position)
            if unit is None:
                return None
            ids = self._subtree_ids(conn, unit_id, as_of, position)
            vectors = self.figure_rows(conn, ids, as_of, position)
            deadlines = self.exception_deadlines(conn, [unit_id], as_of, position)
        else:
            found = self._alone(conn, unit_id, as_of, position)
            if found is None:
                return None
            unit, vectors, deadlines = found
            ids = [unit_id]
        source = EntrySource(self, as_of, position)
        source.units.update(ids)
        figures = self._assemble(unit_id, _sum(vectors.values()), ids, as_of, position,
                                 running_exception(deadlines.get(unit_id), as_of), include_descendants, source)
        _gaps(figures, vectors, ids, unit_id, deadlines)
        if load_entries:
            source.load(conn)
        figures.unit = unit
        return figures

    def _alone(self, conn: Connection, unit_id: str, as_of: date, position: int
               ) -> tuple[UnitView, dict[str, tuple[int, ...]], dict[str, date]] | None:
        """A unit alone on ``as_of``: its view, its figure vector (if it has one) and its exception
        deadline (if any), by one statement (``_Prepared.alone``) instead of five: one round trip to
        PostgreSQL, where each statement costs ~0.2 ms (issue 9: one unit p50 <= 1 ms)."""
        row = conn.execute(_PREPARED.alone, {"u": unit_id, "d": as_of, "p": position}).first()
        if row is None:
            return None
        vectors = {unit_id: tuple(row[_ALONE_FIGURES:])} if row.figure_row is not None else {}
        deadlines = {unit_id: row.until} if row.until is not None else {}
        return self.view_of(row, as_of, position), vectors, deadlines

    @paused
    def staffing_report(self, conn: Connection, root_id: str | None, as_of: date, position: int,
                        depth: int | None = None, include_descendants: bool = False,
                        from_rollup: bool = True) -> list[StaffingFigures]:
        """One row per unit of the subtree (or the country), each alone or rolled up over its subtree.

        The national summary (no root, depth 1, rolled up) is read from the roll-up
        (``staffing.projections.summary``) unless ``from_rollup`` is False: the tree walk below, which
        the tests hold it equal to.

        Figures are summed from ``unit_figures`` in one pass, children before parents; quota
        entries are read only if asked for (``StaffingLine.entries``).
        """
        if from_rollup and is_summary(root_id, depth, include_descendants):
            from staffing.projections.summary import national_summary

            return national_summary(self, conn, as_of, position)
        data = self.report_data(conn, root_id, as_of, position, depth, include_descendants)
        source = self.entry_source(data, as_of, position)
        gaps = data.gaps()
        rows = []
        for r, level in data.shown:
            unit = data.members_of(r.unit_id)
            figures_row = self._assemble(r.unit_id, data.total(r.unit_id), unit, as_of, position,
                                         running_exception(data.deadlines.get(r.unit_id), as_of),
                                         include_descendants, source)
            figures_row.unit, figures_row.level = self.view_of(r, as_of, position), level
            _gaps(figures_row, data.figures, unit, r.unit_id, data.deadlines, gaps)
            rows.append(figures_row)
        return rows

    def entry_source(self, data: ReportData, as_of: date, position: int) -> EntrySource:
        """The quota entries of every unit a report sums, read together when a line first asks."""
        source = EntrySource(self, as_of, position)
        source.units.update(u for r, _ in data.shown for u in data.members_of(r.unit_id))
        return source

    def report_data(self, conn: Connection, root_id: str | None, as_of: date, position: int,
                    depth: int | None = None, include_descendants: bool = False) -> ReportData:
        """What a report is built from: the units shown (preorder, with levels), the units each one sums,
        every unit's figure vector and the exception deadlines. The GraphQL report wraps it in
        ``StaffingFigures``; the CSV listing writes it out directly (issue 9: no object per field)."""
        if depth is not None and depth < 0:
            raise InvalidInput("depth", "depth must be 0 or more")
        members: dict[str, list[str]] | None
        figures: dict[str, tuple[int, ...]] | None = None
        tree: _Tree | None = None
        if root_id is None and (include_descendants or depth is None):
            # every unit of the country and every unit's figures: read by one statement
            rows, figures = self.country_rows(conn, as_of, position)
            tree = _Tree(rows)
        elif include_descendants:
            tree = _Tree(self._subtree_rows(conn, root_id, as_of, position, None))
        shown = _preorder(tree, root_id, depth) if tree is not None else self._walk(conn, root_id, as_of, position, depth)
        if include_descendants and tree is not None:  # every unit is read (and summed), only the shown ones ordered
            members = _members(tree, shown, depth)
            ids = [r.unit_id for r in tree.rows]
        else:
            members = None
            ids = [r.unit_id for r, _ in shown]
        if not shown:
            return ReportData([], {}, {}, {})
        if figures is None:
            figures = self.figure_rows(conn, ids, as_of, position)
        return ReportData(shown, members, figures,
                          self.exception_deadlines(conn, [r.unit_id for r, _ in shown], as_of, position))

    # ------------------------------------------------------------------ people
    def person(self, conn: Connection, person_id: str, as_of: date, position: int) -> PersonView | None:
        row = conn.execute(_PREPARED.person, {"u": person_id, "d": as_of, "p": position}).first()
        return _person_view(row, as_of, position) if row is not None else None

    def movements(self, conn: Connection, unit_id: str, start: date, end: date, position: int) -> list[Movement]:
        """Movements in [start, end], one per fact that moved someone into or out of the unit.

        Derived from consecutive believed states of each person; several facts on one day are
        several states (the earlier ones zero-length), ordered by the version of the fact behind
        each (the order they were recorded in), so each shows as its own movement.
        """
        if end < start:
            raise InvalidInput("to", f"the period ends ({end}) before it starts ({start})")
        p = t.person_versions
        believed = known(p, position)
        touching = (select(p.c.person_id).where(believed, p.c.unit_id == unit_id, p.c.valid_from <= end,
                                                p.c.valid_to >= start).distinct())
        rows = conn.execute(select(p.c.person_id, p.c.valid_from, p.c.valid_to, p.c.unit_id, p.c.status, p.c.cause,
                                   p.c.category, p.c.fact_id)
                            .where(believed, p.c.person_id.in_(touching), p.c.valid_from <= end)).all()
        by_person: dict[str, list[Any]] = defaultdict(list)
        for r in rows:
            by_person[r.person_id].append(r)
        out: list[Movement] = []
        for person_rows in by_person.values():
            person_rows.sort(key=lambda r: (r.valid_from, _version(r.fact_id)))
            previous = None
            for r in person_rows:
                if start <= r.valid_from:
                    kind = classify_transition(previous.unit_id if previous else None,
                                               previous.status if previous else None, r.unit_id, r.status, r.cause,
                                               unit_id)
                    if kind is not None:
                        out.append(Movement(r.person_id, kind, r.valid_from, r.category, r.fact_id))
                previous = r
        out.sort(key=lambda m: (m.effective_on, m.person_id, _version(m.fact_id)))  # a person's day in recorded order
        return out

    # ------------------------------------------------------------------ people and positions
    def subtree_ids(self, conn: Connection, root_id: str, as_of: date, position: int) -> list[str]:
        return [row.unit_id for row in self._subtree_rows(conn, root_id, as_of, position, None)]

    def people(self, conn: Connection, *, unit_ids: Sequence[str] | None, as_of: date, position: int,
               category: str | None = None, status: str | None = "ACTIVE", search: str | None = None,
               first: int = 50, after: str | None = None) -> tuple[list[PersonView], bool]:
        """People placed in ``unit_ids`` (anywhere without them) on ``as_of`` as known at ``position``,
        keyset-paginated by (name, id); ``search`` ignores diacritics (issue 12)."""
        p, info = t.person_versions, t.persons
        query = (select(p, info.c.full_name, info.c.birth_date, info.c.gender)
                 .join(info, info.c.person_id == p.c.person_id).where(visible(p, as_of, position)))
        if unit_ids is not None:
            query = query.where(p.c.unit_id.in_(list(unit_ids)))
        if category:
            query = query.where(p.c.category == category)
        if status:
            query = query.where(p.c.status == status)
        if search:
            needle = fold(search).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(info.c.name_folded.like(f"%{needle}%", escape="\\"))
        scoped: Sequence[Any] | None = None
        if unit_ids is not None:  # a scope: read it whole once, in the database's page order, and page through it
            rows, index = self._scope_pages(conn, query, (tuple(sorted(unit_ids)), as_of, position, category, status,
                                                          search), position)
            cursor = decode_cursor(after, 2) if after else None
            start = index.get((cursor[0], cursor[1]), -1) + 1 if cursor else 0
            if not after or start > 0:  # a cursor from this scope's list (else: the general query below)
                scoped = rows[start:start + first + 1]
        page: Sequence[Any]
        if scoped is not None:
            page = scoped
        else:
            if after:
                name, pid = decode_cursor(after, 2)
                query = query.where(or_(info.c.full_name > name,
                                        and_(info.c.full_name == name, p.c.person_id > pid)))
            page = conn.execute(query.order_by(info.c.full_name, p.c.person_id).limit(first + 1)).all()
        return [_person_view(r, as_of, position) for r in page[:first]], len(page) > first

    def _scope_pages(self, conn: Connection, query: Any, key: tuple[Any, ...], position: int
                     ) -> tuple[list[Any], dict[tuple[str, str], int]]:
        """The scope's rows in the database's page order (its collation decides, not Python's) and where
        each (name, id) cursor stands in them; kept for the next pages when ``position`` is projected (a
        preview's hypothetical positions are not: the same numbers may later hold other events)."""
        with self._pages_lock:
            found = self._pages.get(key)
            if found is not None:
                self._pages.move_to_end(key)
                return found
        p, info = t.person_versions, t.persons
        rows = list(conn.execute(query.order_by(info.c.full_name, p.c.person_id)).all())
        entry = (rows, {(r.full_name, r.person_id): i for i, r in enumerate(rows)})
        if position <= self._tracked(conn):
            with self._pages_lock:
                self._pages[key] = entry
                while len(self._pages) > 8:
                    self._pages.popitem(last=False)
        return entry

    def people_rows(self, conn: Connection, unit_ids: Sequence[str] | None, as_of: date, position: int
                    ) -> list[tuple[Any, ...]]:
        """Everyone present in ``unit_ids`` (the country without them) on ``as_of``, by name, as plain tuples
        (person, name, birth date, gender, unit, position, category, rank, status, since): the bulk
        download's read, without an object per person (a province holds ~60,000; issue 12)."""
        p, info = t.person_versions, t.persons
        query = (select(p.c.person_id, info.c.full_name, info.c.birth_date, info.c.gender, p.c.unit_id,
                        p.c.position_id, p.c.category, p.c.rank, p.c.status, p.c.valid_from)
                 .join(info, info.c.person_id == p.c.person_id)
                 .where(visible(p, as_of, position), p.c.status == "ACTIVE"))
        if unit_ids is not None:
            query = query.where(p.c.unit_id.in_(list(unit_ids)))
        return [tuple(r) for r in conn.execute(query.order_by(info.c.full_name, p.c.person_id))]  # as pages are

    def positions(self, conn: Connection, *, unit_ids: Sequence[str], as_of: date, position: int,
                  vacant: bool | None = None, first: int = 50, after: str | None = None
                  ) -> tuple[list[tuple[Any, list[PersonView]]], bool]:
        """Open job positions of ``unit_ids`` on ``as_of`` with the people holding them, keyset-paginated
        by (title, id); ``vacant`` keeps only the positions nobody (or somebody) holds."""
        v, p = t.position_versions, t.person_versions
        held = select(p.c.person_id).where(p.c.position_id == v.c.position_id, p.c.status == "ACTIVE",
                                           visible(p, as_of, position)).exists()
        query = select(v).where(v.c.unit_id.in_(list(unit_ids)), visible(v, as_of, position), v.c.status != "ABOLISHED")
        if vacant is not None:
            query = query.where(~held if vacant else held)
        if after:
            title, pid = decode_cursor(after, 2)
            query = query.where(or_(v.c.title > title, and_(v.c.title == title, v.c.position_id > pid)))
        rows = conn.execute(query.order_by(v.c.title, v.c.position_id).limit(first + 1)).all()[:first + 1]
        more, rows = len(rows) > first, rows[:first]
        holders = self._holders(conn, [r.position_id for r in rows], as_of, position)
        return [(r, holders.get(r.position_id, [])) for r in rows], more

    def _holders(self, conn: Connection, position_ids: Sequence[str], as_of: date, position: int
                 ) -> dict[str, list[PersonView]]:
        """The people holding each of ``position_ids`` on ``as_of``, by name."""
        return self._present(conn, t.person_versions.c.position_id, position_ids, as_of, position)

    def staff_of(self, conn: Connection, unit_ids: Sequence[str], as_of: date, position: int
                 ) -> dict[str, list[PersonView]]:
        """The people present in each of ``unit_ids`` on ``as_of``, by name: one statement per 500
        units, so a list of units asking for their people costs one round trip (issue 12)."""
        return self._present(conn, t.person_versions.c.unit_id, unit_ids, as_of, position)

    def _present(self, conn: Connection, column: Any, keys: Sequence[str], as_of: date, position: int
                 ) -> dict[str, list[PersonView]]:
        """The people present on ``as_of`` whose ``column`` (unit or position) is one of ``keys``, by name."""
        p, info = t.person_versions, t.persons
        out: dict[str, list[PersonView]] = defaultdict(list)
        for chunk in _chunks(list(dict.fromkeys(keys)), 500):
            for r in conn.execute(select(p, info.c.full_name, info.c.birth_date, info.c.gender)
                                  .join(info, info.c.person_id == p.c.person_id)
                                  .where(column.in_(chunk), p.c.status == "ACTIVE", visible(p, as_of, position))
                                  .order_by(info.c.full_name, p.c.person_id)):
                out[r._mapping[column]].append(_person_view(r, as_of, position))
        return out

    def positions_of(self, conn: Connection, unit_ids: Sequence[str], as_of: date, position: int
                     ) -> dict[str, list[tuple[Any, list[PersonView]]]]:
        """The open job positions of each of ``unit_ids`` on ``as_of`` (by title) with their holders."""
        v = t.position_versions
        rows: list[Any] = []
        for chunk in _chunks(list(dict.fromkeys(unit_ids)), 500):
            rows.extend(conn.execute(select(v).where(v.c.unit_id.in_(chunk), visible(v, as_of, position),
                                                     v.c.status != "ABOLISHED")
                                     .order_by(v.c.title, v.c.position_id)).all())
        holders = self._holders(conn, [r.position_id for r in rows], as_of, position)
        out: dict[str, list[tuple[Any, list[PersonView]]]] = defaultdict(list)
        for r in rows:
            out[r.unit_id].append((r, holders.get(r.position_id, [])))
        return out

    def names_of(self, conn: Connection, ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """What each id names, as last known: a unit ({code, name}), a person ({name}) or a job
        position ({title}) — for history a person can read (issue 12), not bare ids."""
        v, pv, info = t.unit_versions, t.position_versions, t.persons
        out: dict[str, dict[str, str]] = {}
        for chunk in _chunks(list(dict.fromkeys(ids)), 500):
            for r in conn.execute(select(v.c.unit_id, v.c.code, v.c.name).where(v.c.unit_id.in_(chunk))
                                  .order_by(v.c.rec_from, v.c.valid_from)):  # the last believed version wins
                out[r.unit_id] = {"kind": "unit", "code": r.code, "name": r.name}
            for p in conn.execute(select(info.c.person_id, info.c.full_name).where(info.c.person_id.in_(chunk))):
                out[p.person_id] = {"kind": "person", "name": p.full_name}
            for q in conn.execute(select(pv.c.position_id, pv.c.title).where(pv.c.position_id.in_(chunk))
                                  .order_by(pv.c.rec_from, pv.c.valid_from)):
                out[q.position_id] = {"kind": "position", "name": q.title}
        return out

    # ------------------------------------------------------------------ history
    def history(self, conn: Connection, *, unit_id: str | None, person_id: str | None, first: int,
                after: str | None, where: HistoryFilter | None = None) -> tuple[list[FactRow], bool]:
        f = t.facts
        query = select(f)
        if where is not None:
            query = query.where(*where.clauses(conn.dialect.name))
        if unit_id:
            query = query.where(or_(f.c.unit_id == unit_id, f.c.other_unit_id == unit_id))
        if person_id:
            query = query.where(f.c.person_id == person_id)
        if after:
            (pos,) = decode_cursor(after, 1)
            if not pos.isdigit() or len(pos) > 18:
                raise InvalidInput("after", "the cursor is not one this API issued; pass an endCursor back unchanged")
            query = query.where(f.c.position > int(pos))
        rows = conn.execute(query.order_by(f.c.position).limit(first + 1)).all()
        return [fact_row(r) for r in rows[:first]], len(rows) > first


def running_exception(deadline: date | None, as_of: date) -> date | None:
    """The deadline of an excess-staffing exception still running on ``as_of`` (None: none, or passed)."""
    return deadline if deadline is not None and deadline >= as_of else None


def _person_view(r: Any, as_of: date, position: int) -> PersonView:
    """A person row joined to ``persons`` as the view the API shows."""
    return PersonView(r.person_id, r.full_name, r.birth_date, r.gender, r.unit_id, r.position_id, r.category,
                      r.rank, r.status, r.valid_from, as_of, position)


def fact_row(r: Any) -> FactRow:
    """A ``facts`` table row as the API shows it."""
    return FactRow(r.fact_id, r.position, r.type, r.aggregate_id, r.unit_id, r.other_unit_id, r.person_id,
                   r.effective_on, r.recorded_us, r.act_number, r.act_issuer, r.act_signed_on, r.data,
                   r.retraction_fact_id, r.recorded_by)


def on_record(position: int) -> ColumnElement[bool]:
    """A fact recorded by ``position`` and not retracted by then (what was known at that moment)."""
    f = t.facts
    return and_(f.c.position <= position, or_(f.c.retracted_pos.is_(None), f.c.retracted_pos > position))


def classify_transition(prev_unit: str | None, prev_status: str | None, unit: str, status: str, cause: str,
                        subject: str) -> str | None:
    """Name the movement a change of state is, from the point of view of unit ``subject``."""
    was_in = prev_unit if prev_status == "ACTIVE" else None
    now_in = unit if status == "ACTIVE" else None
    if was_in == now_in:
        return None
    reorganised = cause == "REORGANISED"
    if was_in is None:
        return "RECRUITED" if now_in == subject else None
    if now_in is None:
        return status if was_in == subject else None
    if now_in == subject:
        return "REORGANISED_IN" if reorganised else "TRANSFERRED_IN"
    if was_in == subject:
        return "REORGANISED_OUT" if reorganised else "TRANSFERRED_OUT"
    return None


def _version(fact_id: str | None) -> int:
    return int(fact_id.rsplit(":", 1)[1]) if fact_id else 0


ZERO = (0,) * len(FIGURE_COLUMNS)


class _Tree:
    """Unit rows indexed by parent (one pass over rows the walk read)."""

    def __init__(self, rows: Sequence[Any]) -> None:
        self.rows = rows
        self.children: dict[str | None, list[Any]] = defaultdict(list)
        for r in rows:
            self.children[r.parent_id].append(r)
        self.ids = {r.unit_id for r in rows}

    def descendants(self, unit_id: str) -> list[str]:
        """Every unit below ``unit_id`` (any order; a cycle, should one slip in, is not followed)."""
        out: list[str] = []
        seen = {unit_id}
        frontier = [unit_id]
        while frontier:
            found = [r.unit_id for parent in frontier for r in self.children.get(parent, ()) if r.unit_id not in seen]
            seen.update(found)
            out.extend(found)
            frontier = found
        return out


def _preorder(tree: _Tree, root_id: str | None, depth: int | None) -> list[tuple[Any, int]]:
    """The rows down to ``depth`` with their levels, in preorder, siblings by code then id.

    With a root, the root is level 0; without one, the top level (no parent, or a parent that
    does not exist on that date) is level 1. A cycle, should one slip past the write side, is cut.
    """
    out: list[tuple[Any, int]] = []
    seen: set[str] = set()
    if root_id is None:
        stack = [(r, 1) for r in tree.rows if r.parent_id is None or r.parent_id not in tree.ids]
        stack.sort(key=_sibling_order, reverse=True)
    else:
        root = next((r for r in tree.rows if r.unit_id == root_id), None)
        if root is None:
            return []
        stack = [(root, 0)]
    while stack:
        row, level = stack.pop()
        if row.unit_id in seen:
            continue
        seen.add(row.unit_id)
        out.append((row, level))
        if depth is None or level < depth:
            children = tree.children.get(row.unit_id)
            if children:
                children.sort(key=_row_order)
                stack.extend([(child, level + 1) for child in reversed(children)])
    return out


def _members(tree: _Tree, shown: list[tuple[Any, int]], depth: int | None) -> dict[str, list[str]]:
    """Each shown unit and every unit below it: children's lists joined bottom-up, and below the
    deepest shown level one breadth-first pass (nothing there is ordered or listed twice)."""
    members: dict[str, list[str]] = {}
    for r, level in reversed(shown):  # children before parents
        unit = [r.unit_id]
        if depth is not None and level >= depth:
            unit.extend(tree.descendants(r.unit_id))
        else:
            for child in tree.children.get(r.unit_id, ()):
                unit.extend(members.get(child.unit_id, ()))
        members[r.unit_id] = unit
    return members


#: siblings' order: by code, then id (a C getter: a national walk sorts ~60,000 rows by it)
_row_order = attrgetter("code", "unit_id")


def _sibling_order(item: tuple[Any, int]) -> tuple[str, str]:
    return item[0].code, item[0].unit_id
#: per category (in enum order): its headcount column and its (kind, quota column) pairs
_LAYOUT = [(c.value, HEADCOUNT[c.value], [(k, i) for (cat, k), i in QUOTA.items() if cat == c.value])
           for c in CATEGORIES]
#: per category (in enum order): its name, its headcount column, and a getter of its quota columns
_PICKS = [(c, heads, itemgetter(*(i for _, i in kinds))) for c, heads, kinds in _LAYOUT]


def line_figures(vector: Sequence[int]) -> list[tuple[str, int, int, dict[str, int]]]:
    """(category, quota, headcount, quota by kind) of a figure vector, in category order: a report
    line's figures (kinds without quota left out of the split)."""
    out = []
    for category, heads, kinds in _LAYOUT:
        by_kind = {kind: vector[i] for kind, i in kinds if vector[i]}
        out.append((category, sum(by_kind.values()), vector[heads], by_kind))
    return out


def category_figures(vector: Sequence[int]) -> list[tuple[str, int, int]]:
    """(category, quota, headcount) of a figure vector, in category order, quota summed over its kinds:
    what a report line, a CSV row and a diff read from ``unit_figures`` (``StaffingLine`` keeps the kinds)."""
    return [(category, sum(pick(vector)), vector[heads]) for category, heads, pick in _PICKS]


_Q0, _Q1, _Q2, _Q3 = (pick for _, _, pick in _PICKS)  # the four categories' quota getters


def quota_by_kind(vector: Sequence[int]) -> tuple[int, ...]:
    """Every quota figure of a vector by category, then kind (both in enum order): a report's
    per-kind columns (giao, tạm giao, giao bổ sung for each category)."""
    return QUOTAS_OF(vector)


def category_vectors(vector: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(quota by category, headcount by category), both in category order: ``category_figures``
    without the names, for a national report's ~60,000 rows."""
    return (sum(_Q0(vector)), sum(_Q1(vector)), sum(_Q2(vector)), sum(_Q3(vector))), HEADS_OF(vector)


def _id_param(conn: Connection, ids: Sequence[str]) -> Any:
    """The ids as the one parameter of ``_Prepared.figures``: a JSON array (SQLite) or an array (PostgreSQL)."""
    return orjson.dumps(list(ids)).decode() if conn.dialect.name == "sqlite" else list(ids)


def _seek(table: Any, unit: Any, now: bool, *columns: Any) -> Any:
    """``columns`` of ``unit``'s latest figure row (``table``: ``unit_figures`` or an alias of it) that
    starts on or before ``:d``, among the rows known at ``:p`` — "now": the open ones, an equality the
    index answers. Rows known at one position partition valid time, so it is the row covering ``:d``
    if any row does (the caller checks ``valid_to > :d``): one backward index scan."""
    d, p = bindparam("d", type_=Date), bindparam("p", type_=BigInteger)
    believed = [table.c.rec_to == t.OPEN_POSITION] if now else [known(table, p)]
    return (select(*columns).where(table.c.unit_id == unit, *believed, table.c.valid_from <= d)
            .order_by(table.c.valid_from.desc()).limit(1))


class _Prepared:
    """The statements the hot read paths run, built once with bound parameters ``:d`` (as of),
    ``:p`` (knowledge position), ``:u`` (a unit) and ``:ids`` (many units), so a call costs the
    database's work and a cached compile, not a fresh SQLAlchemy construction (issue 9)."""

    def __init__(self) -> None:
        d, p = bindparam("d", type_=Date), bindparam("p", type_=BigInteger)
        v, f, q, x = t.unit_versions, t.unit_figures, t.quota_versions, t.excess_versions
        self.unit = (select(v.c.unit_id, v.c.code, v.c.name, v.c.kind, v.c.autonomy, v.c.parent_id, v.c.status)
                     .where(v.c.unit_id == bindparam("u"), visible(v, d, p), v.c.status == "ACTIVE"))
        columns = [f.c[name] for name in FIGURE_COLUMNS]
        self.one_figure = _seek(f, bindparam("u"), False, f.c.valid_to, *columns)
        self.one_open_figure = _seek(f, bindparam("u"), True, f.c.valid_to, *columns)
        self.tracked = select(t.tracking.c.position).where(t.tracking.c.name == "ledger")
        self.parent = select(v.c.parent_id).where(v.c.unit_id == bindparam("u"), visible(v, d, p)).limit(1)
        pv, info = t.person_versions, t.persons
        self.person = (select(pv, info.c.full_name, info.c.birth_date, info.c.gender)
                       .join(info, info.c.person_id == pv.c.person_id)
                       .where(pv.c.person_id == bindparam("u"), visible(pv, d, p)))
        ids: Any = bindparam("ids", expanding=True)
        self.entries = select(q).where(q.c.unit_id.in_(ids), visible(q, d, p), q.c.amount > 0)
        self.deadlines = select(x.c.unit_id, x.c.until).where(x.c.unit_id.in_(ids), visible(x, d, p))
        self._figures: dict[tuple[str, bool], Any] = {}
        self.country = {(dialect, now): self._country(dialect, now)
                        for dialect in ("sqlite", "postgresql") for now in (False, True)}
        self.alone = self._alone()

    @staticmethod
    def _alone() -> Any:
        """One unit's row, its figure row and its exception deadline in force on ``:d`` as known at
        ``:p``, in one statement (``Queries._alone``). The figure row is found the way ``figure_rows``
        finds it: by the "known now" form (an equality on the open rows) when ``:p`` is at or past
        the projected position read *in the same statement* — one snapshot, so no batch can be
        projected between the two reads, which ``_known_now_first`` checks with a second read — and
        by the general form otherwise (also when nothing is tracked: the comparison is then NULL)."""
        d, p = bindparam("d", type_=Date), bindparam("p", type_=BigInteger)
        v, f, x = t.unit_versions, t.unit_figures, t.excess_versions
        g, h = f.alias("g"), f.alias("h")
        open_row = _seek(g, v.c.unit_id, True, g.c.row_id).scalar_subquery()
        known_row = _seek(h, v.c.unit_id, False, h.c.row_id).scalar_subquery()
        tracked = (select(t.tracking.c.position).where(t.tracking.c.name == "ledger")).scalar_subquery()
        latest = case((p >= tracked, open_row), else_=known_row)
        until = (select(x.c.until).where(x.c.unit_id == v.c.unit_id, visible(x, d, p)).limit(1)
                 .scalar_subquery().label("until"))
        return (select(*[v.c[n] for n in _UNIT_COLUMNS], until, f.c.row_id.label("figure_row"),
                       *[f.c[n] for n in FIGURE_COLUMNS])
                .select_from(v.outerjoin(f, and_(f.c.row_id == latest, f.c.valid_to > d)))
                .where(v.c.unit_id == bindparam("u"), visible(v, d, p), v.c.status == "ACTIVE")
                .limit(1))

    @staticmethod
    def _country(dialect: str, now: bool) -> Any:
        """Every unit in force on ``:d`` with its figure row, in one statement (a national listing):
        the unit rows the walk needs and, per unit, the one seek ``figures`` makes, without sending
        ~60,000 ids back to the database. Units without figures come with NULLs.

        On PostgreSQL the seek is a ``LATERAL`` join, which can only run as one backward index scan
        per unit. The correlated form SQLite runs that way was planned, once the tables had been
        analyzed, as a hash join of every unit's sought row id against a sequential scan of every
        figure row (national tables: 3.6 s instead of 0.7 s, with temporary files)."""
        d, p = bindparam("d", type_=Date), bindparam("p", type_=BigInteger)
        v, f = t.unit_versions, t.unit_figures
        g = f.alias("g")
        units = [v.c[n] for n in _UNIT_COLUMNS]
        in_force = (visible(v, d, p), v.c.status == "ACTIVE")
        if dialect == "postgresql":
            found = _seek(g, v.c.unit_id, now, g.c.row_id.label("figure_row"), g.c.valid_to,
                          *[g.c[n] for n in FIGURE_COLUMNS]).lateral("found")
            return (select(*units, found.c.figure_row, *[found.c[n] for n in FIGURE_COLUMNS])
                    .select_from(v.outerjoin(found, found.c.valid_to > d)).where(*in_force))
        latest = _seek(g, v.c.unit_id, now, g.c.row_id).scalar_subquery()
        return (select(*units, f.c.row_id.label("figure_row"), *[f.c[n] for n in FIGURE_COLUMNS])
                .select_from(v.outerjoin(f, and_(f.c.row_id == latest, f.c.valid_to > d)))
                .where(*in_force))

    def figures(self, dialect: str, now: bool) -> Any:
        """Many units' figure rows: one index seek per id of ``:ids``, driven by a table of the ids.

        PostgreSQL unnests an array; SQLite reads a JSON array with ``json_each`` (it cannot
        name the columns of a VALUES list).
        """
        found = self._figures.get((dialect, now))
        if found is None:
            d = bindparam("d", type_=Date)
            f = t.unit_figures
            columns = [f.c[name] for name in FIGURE_COLUMNS]
            if dialect == "sqlite":
                each = func.json_each(bindparam("ids", type_=String)).table_valued("value")
                wanted = select(each.c.value.label("unit_id")).subquery("wanted")
                g = f.alias("g")
                latest = _seek(g, wanted.c.unit_id, now, g.c.row_id).scalar_subquery()
                found = select(f.c.unit_id, *columns).where(f.c.row_id.in_(select(latest).select_from(wanted)),
                                                            f.c.valid_to > d)
            else:  # a LATERAL join: one backward index scan per id, reading the row it finds
                ids = func.unnest(bindparam("ids", type_=ARRAY(String))).table_valued("unit_id").render_derived("ids")
                row = _seek(f, ids.c.unit_id, now, f.c.unit_id, f.c.valid_to, *columns).lateral("found")
                found = (select(row.c.unit_id, *[row.c[name] for name in FIGURE_COLUMNS])
                         .select_from(ids).join(row, literal(True)).where(row.c.valid_to > d))
            self._figures[(dialect, now)] = found
        return found


_PREPARED = _Prepared()


_FIRST_FIGURE = len(_UNIT_COLUMNS) + 1  # after the unit columns and the figure row's id
_ALONE_FIGURES = len(_UNIT_COLUMNS) + 2  # after the unit columns, the deadline and the figure row's id


def _country_figures(rows: Sequence[Any]) -> dict[str, tuple[int, ...]]:
    """The figure vectors of ``country_rows``' rows that have one (``figure_rows``' shape)."""
    return {r[0]: tuple(r[_FIRST_FIGURE:]) for r in rows if r.figure_row is not None}


def _gaps(figures: StaffingFigures, vectors: Mapping[str, Sequence[int]], members: Sequence[str], unit_id: str,
          deadlines: dict[str, date], gaps: Mapping[str, int] | None = None) -> None:
    """Gross vacancy and surplus over ``members`` (each unit alone), the unit's own surplus, and its
    exception deadline on record (issue 11: surplus is reported gross and net). ``gaps``: each
    unit's gap computed once, when a report asks for many units' gross figures."""
    if gaps is None:
        gaps = {m: _gap(vectors[m]) for m in members if m in vectors}
    figures.gross_surplus, figures.gross_vacancy, figures.own_surplus = gap_figures(gaps, members, unit_id)
    figures.exception_deadline = deadlines.get(unit_id)


def gap_figures(gaps: Mapping[str, int], members: Sequence[str], unit_id: str) -> tuple[int, int, int]:
    """(gross surplus, gross vacancy) over ``members``, each unit alone, and ``unit_id``'s own surplus,
    from each unit's gap (headcount minus quota): a report row's figures the net totals hide."""
    if len(members) == 1:  # a unit alone (every row of a listing): no list to build
        alone = gaps.get(members[0]) or 0
        return max(alone, 0), max(-alone, 0), max(gaps.get(unit_id, 0), 0)
    found = [g for g in map(gaps.get, members) if g]
    return sum(g for g in found if g > 0), -sum(g for g in found if g < 0), max(gaps.get(unit_id, 0), 0)


def _unit_page(conn: Connection, query: Any, kind: str | None, search: str | None, first: int,
               after: str | None) -> tuple[Sequence[Any], bool]:
    """Filter unit rows by kind and search, and take one keyset page by (code, id)."""
    v = t.unit_versions
    if kind:
        query = query.where(v.c.kind == kind)
    if search:
        query = query.where(_matches(v, search))
    if after:
        code, uid = decode_cursor(after, 2)
        query = query.where(or_(v.c.code > code, and_(v.c.code == code, v.c.unit_id > uid)))
    rows = conn.execute(query.order_by(v.c.code, v.c.unit_id).limit(first + 1)).all()
    return rows[:first], len(rows) > first


def _matches(v: Any, search: str) -> ColumnElement[bool]:
    """A unit's name without diacritics, or its code, contains ``search`` (issue 12: codes too)."""
    needle = fold(search).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(v.c.name_folded.like(f"%{needle}%", escape="\\"),
               func.lower(v.c.code).like(f"%{needle}%", escape="\\"))


def _sum(vectors: Iterable[Sequence[int]]) -> list[int]:
    """Figure vectors added column by column (the zero vector when there are none)."""
    columns = list(zip(*vectors, strict=True))
    return [sum(column) for column in columns] if columns else list(ZERO)


def _for_units(conn: Connection, unit_ids: Iterable[str], every: Callable[[], Any],
               per_chunk: Callable[[Sequence[str]], tuple[Any, dict[str, Any]]]) -> Iterator[Any]:
    """The rows (unit id first) of ``unit_ids``: for a national list, ``every()`` row in force read once
    and filtered here; for fewer units, ``per_chunk`` (statement, parameters) per 500 ids."""
    ids = list(dict.fromkeys(unit_ids))
    if len(ids) > 2000:
        wanted = set(ids)
        yield from (r for r in conn.execute(every()).all() if r[0] in wanted)
        return
    for chunk in _chunks(ids, 500):
        statement, parameters = per_chunk(chunk)
        yield from conn.execute(statement, parameters).all()


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


