"""Query root: reads the read models only, every answer as of a date and as known at a moment."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any, ParamSpec, TypeVar
from uuid import UUID

import strawberry
from graphql import GraphQLError

from staffing import chain
from staffing.application.hygiene import clean_text
from staffing.domain.base import check_as_of
from staffing.domain.errors import InvalidInput, StaffingError
from staffing.domain.retirement import retirement_date
from staffing.domain.values import Gender, PersonnelCategory, PersonStatus
from staffing.graphql.auth import Authenticated, SeesHistory, forbidden, require_unit_readable
from staffing.graphql.context import Context
from staffing.graphql.stays import StayPastEnd, stay_from
from staffing.graphql.targets import (
    ExpiringException,
    ReductionTarget,
    TargetProgress,
    expiring_from,
    progress_from,
    statistics_from,
    target_from,
)
from staffing.graphql.targets import ReformStatistics as ReformStatisticsType
from staffing.graphql.types import (
    Fact,
    FactConnection,
    FactEdge,
    LedgerHead,
    Movement,
    PageInfo,
    Person,
    Position,
    Staffing,
    StaffingRow,
    Unit,
    UnitConnection,
    UnitEdge,
    UnitKind,
    fact_from,
    person_from,
    position_from,
    report_rows,
    row_from,
    staffing_from,
    unit_from,
)
from staffing.pause import paused
from staffing.projections.invariants import stays_past_ends
from staffing.projections.queries import FactRow, HistoryFilter, Queries, encode_cursor
from staffing.projections.rollup import is_summary
from staffing.reports import targets as target_rules
from staffing.reports.diff import Snapshot, staffing_diff
from staffing.reports.reform import reform_statistics

__all__ = ["Query"]

P = ParamSpec("P")
R = TypeVar("R")
MAX_PAGE = 500
Info = strawberry.Info[Context, None]


def user_errors(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Run the resolver in a worker thread (blocking reads never run on the event loop: one slow
    national report must not stall every other request) and turn a refused query argument into a
    GraphQL error naming the argument (BAD_USER_INPUT)."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except StaffingError as error:
            raise GraphQLError(error.message, extensions={"code": "BAD_USER_INPUT", "field": error.field,
                                                          "reason": error.code}) from None

    return wrapper


def _id(value: str, field: str) -> str:
    try:
        return str(UUID(str(value)))
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a valid id") from None


def _page_info(edges: list[Any], more: bool) -> PageInfo:
    return PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None)


def _page(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput("first", f"first must be between 1 and {MAX_PAGE}")
    return first


def _search(search: str | None) -> str | None:
    return clean_text(search, "search", "search") if search else None


def _as_of(as_of: date | None, field: str = "asOf") -> date:
    return check_as_of(as_of or date.today(), field)


@paused
def _report(queries: Queries, root: str | None, day: date, position: int, depth: int | None, rolled: bool,
            head: tuple[int, str] | None) -> list[StaffingRow]:
    """A staffing report's rows. One pause for the read and the rows (up to ~60,000 of each,
    ``staffing.pause``): the read's objects are freed when this returns, before the collector resumes,
    so its first collection walks the rows alone (a pause of the rows only walked the read too)."""
    with queries.connect() as conn:
        if is_summary(root, depth, rolled):  # the roll-up's rows: ~100
            return [row_from(r, head) for r in queries.staffing_report(conn, root, day, position, depth, rolled)]
        data = queries.report_data(conn, root, day, position, depth, rolled)
    return report_rows(data, queries.entry_source(data, day, position), day, position, head)


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[Authenticated], description="A unit as it stood on `asOf` (default today) as known at `knownAt` (default "
                                  "now); null when it did not exist on that date as known at that moment.")
    @user_errors
    def unit(self, info: Info, id: strawberry.ID, as_of: date | None = None,
             known_at: datetime | None = None) -> Unit | None:
        ctx = info.context
        unit, day, position = _id(id, "id"), _as_of(as_of), ctx.position(known_at)
        with ctx.queries.connect() as conn:
            view = ctx.queries.unit(conn, unit, day, position) or ctx.queries.ended_unit(conn, unit, day, position)
        if view is not None:
            require_unit_readable(info, unit, min(day, view.as_of) if view.status == "ENDED" else day, position)
        return unit_from(view) if view else None

    @strawberry.field(permission_classes=[Authenticated], description="Units existing on `asOf`, by code; `search` ignores Vietnamese diacritics.")
    @user_errors
    def units(self, info: Info, as_of: date | None = None, known_at: datetime | None = None,
              kind: UnitKind | None = None, parent_id: strawberry.ID | None = None,  # type: ignore[valid-type]
              search: str | None = None, first: int = 50, after: str | None = None,
              include_ended: bool = False) -> UnitConnection:
        ctx = info.context
        if include_ended:
            return _every_unit(info, known_at, kind, search, first, after)
        with ctx.queries.connect() as conn:
            views, more = ctx.queries.units(
                conn, as_of=_as_of(as_of), position=ctx.position(known_at), kind=str(kind.value) if kind else None,  # type: ignore[attr-defined]
                parent_id=_id(parent_id, "parentId") if parent_id else None, search=_search(search), first=_page(first),
                after=after, within=None if ctx.principal is None or ctx.principal.reads_everything
                else str(ctx.principal.unit_id))
        edges = [UnitEdge(cursor=encode_cursor(v.code, v.id), node=unit_from(v)) for v in views]
        return UnitConnection(edges=edges, page_info=_page_info(edges, more))

    @strawberry.field(permission_classes=[Authenticated], description="Headcount against quota for one unit (or its subtree as it stood) on a date.")
    @user_errors
    def staffing(self, info: Info, unit_id: strawberry.ID, as_of: date, known_at: datetime | None = None,
                 include_descendants: bool = False) -> Staffing | None:
        ctx = info.context
        unit, day, position = _id(unit_id, "unitId"), _as_of(as_of), ctx.position(known_at)
        require_unit_readable(info, unit, day, position)
        with ctx.queries.connect() as conn:
            figures = ctx.queries.staffing(conn, unit, day, position, include_descendants) \
                or ctx.queries.ended_staffing(conn, unit, day, position)
        return staffing_from(figures, known_at, chain.head(ctx.service.store.recorder, position)) if figures else None

    @strawberry.field(permission_classes=[Authenticated], description="One row per unit of the subtree (the whole country without a root), down to "
                                  "`depth` levels; the root is level 0, top-level units are level 1.")
    @user_errors
    def staffing_report(self, info: Info, as_of: date, root_unit_id: strawberry.ID | None = None,
                        known_at: datetime | None = None, depth: int | None = None,
                        include_descendants: bool = False) -> list[StaffingRow]:
        ctx = info.context
        root, day, position = _id(root_unit_id, "rootUnitId") if root_unit_id else None, _as_of(as_of), \
            ctx.position(known_at)
        require_unit_readable(info, root, day, position)
        head = chain.head(ctx.service.store.recorder, position)  # once for the report, not per row
        return _report(ctx.queries, root, day, position, depth, include_descendants, head)

    @strawberry.field(permission_classes=[Authenticated, SeesHistory],
                      description="Recorded facts in log order (about a unit and the people in it, or a person).")
    @user_errors
    def history(self, info: Info, unit_id: strawberry.ID | None = None, person_id: strawberry.ID | None = None,
                first: int = 50, after: str | None = None, filter: HistoryFilterInput | None = None) -> FactConnection:
        ctx = info.context
        unit = _id(unit_id, "unitId") if unit_id else None
        person = _id(person_id, "personId") if person_id else None
        if ctx.principal is not None and not ctx.principal.reads_everything:
            _require_history_readable(info, unit, person)
        return _facts(info, unit, person, first, after, filter.build() if filter else None)

    @strawberry.field(permission_classes=[Authenticated, SeesHistory],
                      description="A legal act and every fact recorded under it, in log order.")
    @user_errors
    def act(self, info: Info, number: str, issuer: str | None = None, first: int = 100,
            after: str | None = None) -> ActRecord | None:
        ctx = info.context
        if ctx.principal is not None and not ctx.principal.reads_everything:
            raise forbidden(info, "what an act decided across units is for auditors; ask by unit in history")
        number = clean_text(number, "number", "number")
        facts = _facts(info, None, None, first, after, HistoryFilter(
            act_number=number, act_issuer=clean_text(issuer, "issuer", "issuer") if issuer else None))
        if not facts.edges:
            return None
        node = facts.edges[0].node
        return ActRecord(number=node.act.number, issuer=issuer or node.act.issuer, signed_on=node.act.signed_on,
                         facts=facts)

    @strawberry.field(permission_classes=[Authenticated], description="The event chain's head as known at `knownAt` "
                      "(default now): the log position and hash every answer at that moment reflects.")
    @user_errors
    def ledger_head(self, info: Info, known_at: datetime | None = None) -> LedgerHead:
        position = info.context.position(known_at)
        found = chain.head(info.context.service.store.recorder, position)
        return LedgerHead(position=position, hash=found[1] if found else None, known_at=known_at)

    @strawberry.field(permission_classes=[Authenticated, SeesHistory], description="Everyone and everything "
                      "recorded in a unit after it ended, or on a position after it was abolished, as known at "
                      "`knownAt` (default now): what a store written before the stays rule may hold. For auditors "
                      "and administrators; empty when the record is sound.")
    @user_errors
    def stays_past_ends(self, info: Info, known_at: datetime | None = None) -> list[StayPastEnd]:
        ctx = info.context
        if ctx.principal is not None and not ctx.principal.reads_everything:
            raise forbidden(info, "stays past an end are checked across the whole country: ask with an auditor token")
        position = ctx.position(known_at)
        with ctx.queries.connect() as conn:
            return [stay_from(found) for found in stays_past_ends(conn, position)]

    @strawberry.field(permission_classes=[Authenticated], description="Reduction targets on record for a unit (or "
                      "every unit), as known at `knownAt`.")
    @user_errors
    def reduction_targets(self, info: Info, unit_id: strawberry.ID | None = None,
                          known_at: datetime | None = None) -> list[ReductionTarget]:
        ctx = info.context
        unit, position = _id(unit_id, "unitId") if unit_id else None, ctx.position(known_at)
        if not (ctx.principal and ctx.principal.reads_everything):
            require_unit_readable(info, unit, date.today(), position)
        with ctx.queries.connect() as conn:
            return [target_from(g) for g in target_rules.targets(conn, position, unit)]

    @strawberry.field(permission_classes=[Authenticated], description="A reduction target's progress on `asOf`: "
                      "baseline, target, current quota, achieved % and status, rolled up and per unit.")
    @user_errors
    def target_progress(self, info: Info, target_id: strawberry.ID, as_of: date,
                        known_at: datetime | None = None) -> TargetProgress:
        ctx = info.context
        day, position = _as_of(as_of), ctx.position(known_at)
        with ctx.queries.connect() as conn:
            goal = target_rules.target(conn, str(target_id), position)
            require_unit_readable(info, goal.unit_id, day, position)
            total, rows = target_rules.progress(ctx.queries, conn, goal, day, position)
        return progress_from(goal, day, total, rows)

    @strawberry.field(permission_classes=[Authenticated], description="Units whose post-merger exception runs out "
                      "between `asOf` and `horizon` while over quota: the surplus to shed and the people present.")
    @user_errors
    def expiring_exceptions(self, info: Info, as_of: date, horizon: date, root_unit_id: strawberry.ID | None = None,
                            known_at: datetime | None = None) -> list[ExpiringException]:
        ctx = info.context
        root, day, position = _id(root_unit_id, "rootUnitId") if root_unit_id else None, _as_of(as_of), \
            ctx.position(known_at)
        require_unit_readable(info, root, day, position)
        with ctx.queries.connect() as conn:
            found = target_rules.expiring_exceptions(ctx.queries, conn, root, day, horizon, position)
        return [expiring_from(e) for e in found]

    @strawberry.field(permission_classes=[Authenticated], description="Reform statistics for a subtree (the country "
                      "without a root) over [from, to], as known at `knownAt`.")
    @user_errors
    def reform_statistics(self, info: Info, from_: Annotated[date, strawberry.argument(name="from")], to: date,
                          root_unit_id: strawberry.ID | None = None,
                          known_at: datetime | None = None) -> ReformStatisticsType:
        ctx = info.context
        root, position = _id(root_unit_id, "rootUnitId") if root_unit_id else None, ctx.position(known_at)
        if to < from_:
            raise InvalidInput("to", "the period ends before it starts")
        require_unit_readable(info, root, to, position)
        with ctx.queries.connect() as conn:
            return statistics_from(reform_statistics(ctx.queries, conn, root, from_, to, position))

    @strawberry.field(permission_classes=[Authenticated, SeesHistory],
                      description="Every unit and category of the subtree (the country without a root) whose quota or "
                      "headcount differs between two snapshots (two dates, or two knowledge moments), with the "
                      "recorded facts that explain each difference.")
    @user_errors
    def staffing_diff(self, info: Info, before: SnapshotInput, after: SnapshotInput,
                      root_unit_id: strawberry.ID | None = None) -> StaffingDiff:
        ctx = info.context
        root = _id(root_unit_id, "rootUnitId") if root_unit_id else None
        first = Snapshot(_as_of(before.as_of, "before.asOf"), ctx.position(before.known_at))
        second = Snapshot(_as_of(after.as_of, "after.asOf"), ctx.position(after.known_at))
        require_unit_readable(info, root, second.as_of, second.position)
        with ctx.queries.connect() as conn:
            rows = staffing_diff(ctx.queries, conn, root, first, second)
        links = chain.hashes(ctx.service.store.recorder, sorted({f.position for r in rows for f in r.facts})) \
            if _selects(info.selected_fields, ("staffingDiff", "rows", "facts", "hash")) else {}
        facts: dict[str, Fact] = {}  # a unit's facts explain each of its categories: built once

        def fact(row: FactRow) -> Fact:
            found = facts.get(row.id)
            if found is None:
                found = facts[row.id] = fact_from(row, links.get(row.position))
            return found

        return StaffingDiff(rows=[StaffingDiffRow(
            unit=unit_from(r.unit), category=PersonnelCategory(r.category), quota_before=r.quota_before,
            quota_after=r.quota_after, headcount_before=r.headcount_before, headcount_after=r.headcount_after,
            facts=[fact(f) for f in r.facts]) for r in rows])

    @strawberry.field(permission_classes=[Authenticated], description="People placed in a unit (or its subtree; "
                      "anywhere without a unit) on `asOf`, as known at `knownAt`, by name; `search` matches names "
                      "with or without diacritics; `status` defaults to ACTIVE (those present).")
    @user_errors
    def people(self, info: Info, unit_id: strawberry.ID | None = None, as_of: date | None = None,
               known_at: datetime | None = None, include_descendants: bool = False,
               category: PersonnelCategory | None = None, status: PersonStatus | None = PersonStatus.ACTIVE,
               search: str | None = None, first: int = 50, after: str | None = None) -> PersonConnection:
        ctx = info.context
        unit, day, position = _id(unit_id, "unitId") if unit_id else None, _as_of(as_of), ctx.position(known_at)
        ids = _scope_ids(info, unit, day, position, include_descendants)
        with ctx.queries.connect() as conn:
            views, more = ctx.queries.people(conn, unit_ids=ids, as_of=day, position=position,
                                             category=category.value if category else None,
                                             status=status.value if status else None,
                                             search=_search(search), first=_page(first), after=after)
        edges = [PersonEdge(cursor=encode_cursor(v.full_name, v.id), node=person_from(v)) for v in views]
        return PersonConnection(edges=edges, page_info=_page_info(edges, more))

    @strawberry.field(permission_classes=[Authenticated], description="Open job positions of a unit (or its "
                      "subtree) on `asOf`, with their holders; `vacant` keeps only the empty (or the filled) ones.")
    @user_errors
    def positions(self, info: Info, unit_id: strawberry.ID, as_of: date | None = None,
                  known_at: datetime | None = None, include_descendants: bool = False, vacant: bool | None = None,
                  first: int = 50, after: str | None = None) -> PositionConnection:
        ctx = info.context
        unit, day, position = _id(unit_id, "unitId"), _as_of(as_of), ctx.position(known_at)
        ids = _scope_ids(info, unit, day, position, include_descendants) or [unit]
        with ctx.queries.connect() as conn:
            found, more = ctx.queries.positions(conn, unit_ids=ids, as_of=day, position=position, vacant=vacant,
                                                first=_page(first), after=after)
        edges = [PositionEdge(cursor=encode_cursor(r.title, r.position_id), node=position_from(r, holders))
                 for r, holders in found]
        return PositionConnection(edges=edges, page_info=_page_info(edges, more))

    @strawberry.field(permission_classes=[Authenticated], description="People present in a unit (or its subtree) "
                      "on `asOf` who reach the retirement age in force by `horizon`, soonest first.")
    @user_errors
    def retiring_people(self, info: Info, unit_id: strawberry.ID, horizon: date, as_of: date | None = None,
                        known_at: datetime | None = None, include_descendants: bool = True) -> list[Retiring]:
        ctx = info.context
        unit, day, position = _id(unit_id, "unitId"), _as_of(as_of), ctx.position(known_at)
        if horizon < day:
            raise InvalidInput("horizon", "the horizon lies before the date asked about")
        ids = _scope_ids(info, unit, day, position, include_descendants)
        with ctx.queries.connect() as conn:
            views, _ = ctx.queries.people(conn, unit_ids=ids, as_of=day, position=position, first=1_000_000)
        found = [(retirement_date(v.birth_date, Gender(v.gender)), v) for v in views]
        return [Retiring(person=person_from(v), retires_on=on)
                for on, v in sorted(found, key=lambda f: (f[0], f[1].full_name)) if day <= on <= horizon]

    @strawberry.field(permission_classes=[Authenticated], description="A person and their assignment on `asOf`, as known at `knownAt`.")
    @user_errors
    def person(self, info: Info, id: strawberry.ID, as_of: date | None = None,
               known_at: datetime | None = None) -> Person | None:
        ctx = info.context
        day, position = _as_of(as_of), ctx.position(known_at)
        with ctx.queries.connect() as conn:
            view = ctx.queries.person(conn, _id(id, "id"), day, position)
        if view is not None:
            require_unit_readable(info, view.unit_id, day, position)
        return person_from(view) if view else None

    @strawberry.field(permission_classes=[Authenticated], description="Movements into and out of a unit in [from, to]: recruited, transferred, "
                                  "reorganised, retired, resigned, dismissed, downsized.")
    @user_errors
    def movements(self, info: Info, unit_id: strawberry.ID, from_: Annotated[date, strawberry.argument(name="from")],
                  to: date, known_at: datetime | None = None) -> list[Movement]:
        ctx = info.context
        unit, position = _id(unit_id, "unitId"), ctx.position(known_at)
        require_unit_readable(info, unit, to, position)
        with ctx.queries.connect() as conn:
            found = ctx.queries.movements(conn, unit, from_, to, position)
        return [Movement(person_id=strawberry.ID(m.person_id), kind=m.kind, effective_on=m.effective_on,
                         category=PersonnelCategory(m.category), fact_id=strawberry.ID(m.fact_id)) for m in found]



def _require_history_readable(info: Info, unit: str | None, person: str | None) -> None:
    """A personnel caller reads the history of a unit in its subtree (as the unit last stood) or of a
    person placed in it today; never the whole log."""
    ctx = info.context
    position = ctx.position(None)
    if unit is None and person is None:
        raise forbidden(info, "name a unit or a person of your subtree: the whole history is for auditors")
    with ctx.queries.connect() as conn:
        if unit is not None:
            last = ctx.queries.last_known_unit(conn, unit, position)
            require_unit_readable(info, unit, last.as_of if last else date.today(), position)
        if person is not None:
            found = ctx.queries.person(conn, person, date.today(), position)
            require_unit_readable(info, found.unit_id if found else None, date.today(), position)


def _facts(info: Info, unit: str | None, person: str | None, first: int, after: str | None,
           where: HistoryFilter | None) -> FactConnection:
    ctx = info.context
    with ctx.queries.connect() as conn:
        rows, more = ctx.queries.history(conn, unit_id=unit, person_id=person, first=_page(first), after=after,
                                         where=where)
    links = chain.hashes(ctx.service.store.recorder, [r.position for r in rows])
    edges = [FactEdge(cursor=encode_cursor(r.position), node=fact_from(r, links.get(r.position))) for r in rows]
    return FactConnection(edges=edges, page_info=_page_info(edges, more))


@strawberry.input(description="Narrow the history: every condition given must hold.")
class HistoryFilterInput:
    types: list[str] | None = strawberry.field(default=None, description="Fact types, e.g. PersonTransferred.")
    act_number: str | None = None
    act_issuer: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None
    recorded_late_by_days: int | None = strawberry.field(
        default=None, description="Only facts recorded more than this many days after they took effect.")
    recorded_by: str | None = None

    def build(self) -> HistoryFilter:
        if self.recorded_late_by_days is not None and not 0 <= self.recorded_late_by_days <= 36_500:
            raise InvalidInput("filter.recordedLateByDays", "give a number of days between 0 and 36500")
        if self.types is not None and len(self.types) > 50:
            raise InvalidInput("filter.types", "at most 50 fact types")
        text = {name: clean_text(value, f"filter.{name}", name) if value is not None else None
                for name, value in (("act_number", self.act_number), ("act_issuer", self.act_issuer),
                                    ("recorded_by", self.recorded_by))}
        return HistoryFilter(
            types=tuple(clean_text(t, "filter.types", "type") for t in self.types or ()),
            act_number=text["act_number"], act_issuer=text["act_issuer"], effective_from=self.effective_from,
            effective_to=self.effective_to, recorded_from=self.recorded_from, recorded_to=self.recorded_to,
            late_by_days=self.recorded_late_by_days, recorded_by=text["recorded_by"])


@strawberry.type(description="A legal act and the facts recorded under it.")
class ActRecord:
    number: str
    issuer: str
    signed_on: date
    facts: FactConnection


@strawberry.input(description="A snapshot of the ledger: figures as of a date, as known at a moment (default now).")
class SnapshotInput:
    as_of: date
    known_at: datetime | None = None


@strawberry.type(description="One unit and category whose figures differ between two snapshots, and the recorded "
                             "facts that explain the difference.")
class StaffingDiffRow:
    unit: Unit
    category: PersonnelCategory
    quota_before: int
    quota_after: int
    headcount_before: int
    headcount_after: int
    facts: list[Fact]


@strawberry.type(description="What differs between two snapshots of a subtree, with the facts behind each difference.")
class StaffingDiff:
    rows: list[StaffingDiffRow]


@strawberry.type
class PersonEdge:
    cursor: str
    node: Person


@strawberry.type(description="People with their assignment on the date, by name.")
class PersonConnection:
    edges: list[PersonEdge]
    page_info: PageInfo


@strawberry.type
class PositionEdge:
    cursor: str
    node: Position


@strawberry.type(description="Job positions on the date, by title.")
class PositionConnection:
    edges: list[PositionEdge]
    page_info: PageInfo


def _selects(fields: Any, path: tuple[str, ...]) -> bool:
    """Whether the query selects ``path`` (e.g. rows → facts → hash) under the resolved field: work a
    client did not ask for (hashing thousands of facts) is skipped."""
    for field in fields:
        if not hasattr(field, "name"):  # an inline fragment or a fragment spread: look inside it
            if _selects(getattr(field, "selections", ()), path):
                return True
        elif field.name == path[0] and (len(path) == 1 or _selects(field.selections, path[1:])):
            return True
    return False


def _scope_ids(info: Info, unit: str | None, day: date, position: int, descendants: bool) -> list[str] | None:
    """The units a people/positions question covers, after the caller's scope is checked."""
    ctx = info.context
    require_unit_readable(info, unit, day, position)
    if unit is None:
        return None
    if not descendants:
        return [unit]
    with ctx.queries.connect() as conn:
        return ctx.queries.subtree_ids(conn, unit, day, position)


def _every_unit(info: Info, known_at: datetime | None, kind: Any, search: str | None, first: int,
                after: str | None) -> UnitConnection:
    """``units(includeEnded: true)``: every unit that ever existed, in its last state (issue 12)."""
    ctx = info.context
    if ctx.principal is not None and not ctx.principal.reads_everything:
        raise forbidden(info, "the list of every unit that ever existed is for callers who read everything; ask "
                              "for your subtree on a date")
    with ctx.queries.connect() as conn:
        views, more = ctx.queries.every_unit(conn, position=ctx.position(known_at),
                                             kind=str(kind.value) if kind else None, search=_search(search),
                                             first=_page(first), after=after)
    edges = [UnitEdge(cursor=encode_cursor(v.code, v.id), node=unit_from(v)) for v in views]
    return UnitConnection(edges=edges, page_info=_page_info(edges, more))


@strawberry.type(description="Someone present on the date who reaches the retirement age in force within the horizon.")
class Retiring:
    person: Person
    retires_on: date = strawberry.field(description="The first day of the month after they reach the age in force "
                                                    "(Labour Code 2019 art. 169; Decree 135/2020).")
