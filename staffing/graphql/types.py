"""GraphQL output types. Leaf fields are plain attributes (no resolvers) so large lists stay fast;
only links to other objects (parent, children, lineage units) resolve, through DataLoaders."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import orjson
import strawberry
from strawberry.scalars import JSON

from staffing.domain import values
from staffing.graphql.auth import forbidden
from staffing.projections.queries import (
    EntrySource,
    FactRow,
    PersonView,
    ReportData,
    StaffingLine,
    UnitView,
    gap_figures,
    line_figures,
    running_exception,
)
from staffing.projections.queries import LineageEntry as LineageView
from staffing.projections.queries import StaffingFigures as Figures

if TYPE_CHECKING:
    from staffing.graphql.context import Context

UnitKind = strawberry.enum(values.UnitKind, name="UnitKind")
PersonnelCategory = strawberry.enum(values.PersonnelCategory, name="PersonnelCategory")
QuotaKind = strawberry.enum(values.QuotaKind, name="QuotaKind")
DownsizingPolicy = strawberry.enum(values.DownsizingPolicy, name="DownsizingPolicy")
Gender = strawberry.enum(values.Gender, name="Gender")
PositionGroup = strawberry.enum(values.PositionGroup, name="PositionGroup")
ChangeKind = strawberry.enum(values.ChangeKind, name="ChangeKind")
UnitStatus = strawberry.enum(values.UnitStatus, name="UnitStatus")
PersonStatus = strawberry.enum(values.PersonStatus, name="PersonStatus")
FinancialAutonomy = strawberry.enum(values.FinancialAutonomy, name="FinancialAutonomy")
OverQuota = strawberry.enum(values.OverQuota, name="OverQuota",
                            description="How a unit over its quota stands on the date.")


@strawberry.type(description="The legal basis of a fact: act number, issuing body, signing date.")
class LegalAct:
    number: str
    issuer: str
    signed_on: date


@strawberry.type(description="A refusal: machine-readable code, the offending input field, a human message.")
class UserError:
    code: str
    field: str | None
    message: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="An organisational unit as it stood on `asOf`, as known at `knownAt`.")
class Unit:
    id: strawberry.ID
    code: str
    name: str
    kind: UnitKind  # type: ignore[valid-type]
    autonomy: FinancialAutonomy | None  # type: ignore[valid-type]
    status: UnitStatus  # type: ignore[valid-type]
    as_of: date
    parent_id: strawberry.Private[str | None]
    position: strawberry.Private[int]

    @strawberry.field(description="The parent unit on the same date (null for top-level units).")
    async def parent(self, info: strawberry.Info[Context, None]) -> Unit | None:
        if self.parent_id is None:
            return None
        view = await info.context.loaders.unit.load((self.parent_id, self.as_of, self.position))
        return unit_from(view) if view else None

    @strawberry.field(description="The date the unit was established (as known at knownAt).")
    async def established_on(self, info: strawberry.Info[Context, None]) -> date | None:
        return (await info.context.loaders.lifetime.load((self.id, self.position)))[0]

    @strawberry.field(description="The date the unit ended, if it has (as known at knownAt).")
    async def ended_on(self, info: strawberry.Info[Context, None]) -> date | None:
        return (await info.context.loaders.lifetime.load((self.id, self.position)))[1]

    @strawberry.field(description="Child units existing on the same date, ordered by code.")
    async def children(self, info: strawberry.Info[Context, None]) -> list[Unit]:
        views = await info.context.loaders.children.load((self.id, self.as_of, self.position))
        return [unit_from(v) for v in views]

    @strawberry.field(description="The unit's own headcount (people present, every category) on the same date.")
    async def headcount(self, info: strawberry.Info[Context, None]) -> int:
        await _readable(info, self.id, self.as_of, self.position)
        return await info.context.loaders.headcount.load((self.id, self.as_of, self.position))

    @strawberry.field(description="The people present in the unit itself on the same date, by name (read in bulk "
                      "for every unit of a list).")
    async def people(self, info: strawberry.Info[Context, None]) -> list[Person]:
        await _readable(info, self.id, self.as_of, self.position)
        return [person_from(v) for v in await info.context.loaders.staff.load((self.id, self.as_of, self.position))]

    @strawberry.field(description="The unit's open job positions on the same date, by title, with their holders "
                      "(read in bulk for every unit of a list).")
    async def positions(self, info: strawberry.Info[Context, None]) -> list[Position]:
        await _readable(info, self.id, self.as_of, self.position)
        found = await info.context.loaders.posts.load((self.id, self.as_of, self.position))
        return [position_from(r, holders) for r, holders in found]

    @strawberry.field(description="Units this one came from (merges, splits, separations), as known at knownAt.")
    async def predecessors(self, info: strawberry.Info[Context, None]) -> list[LineageEntry]:
        before, _ = await info.context.loaders.lineage.load((self.id, self.position))
        return _lineage(before, self.position)

    @strawberry.field(description="Units that continued this one, as known at knownAt.")
    async def successors(self, info: strawberry.Info[Context, None]) -> list[LineageEntry]:
        _, after = await info.context.loaders.lineage.load((self.id, self.position))
        return _lineage(after, self.position)


async def _readable(info: strawberry.Info[Context, None], unit_id: str, as_of: date, position: int) -> None:
    """A personnel caller reads its own subtree only (a unit reached as a parent may lie outside it)."""
    principal = info.context.principal
    if principal is None or principal.reads_everything:
        return
    scope = await info.context.loaders.subtree.load((str(principal.unit_id), as_of, position))
    if unit_id not in scope:
        raise forbidden(info, f"you may read the subtree of your unit ({principal.unit_id}) only, as it stands on "
                              f"the date asked about; {unit_id} is outside it on {as_of.isoformat()}")


@strawberry.type(description="A job position (vị trí việc làm) on the date, with the people holding it.")
class Position:
    id: strawberry.ID
    title: str
    group: str
    rank: str
    vacant: bool
    holders: list[Person]


def position_from(row: Any, holders: list[PersonView]) -> Position:
    return Position(id=strawberry.ID(row.position_id), title=row.title, group=row.group, rank=row.rank,
                    vacant=not holders, holders=[person_from(h) for h in holders])


@strawberry.type(description="One lineage link: the related unit, the kind of change and when it took effect.")
class LineageEntry:
    change: ChangeKind  # type: ignore[valid-type]
    effective_on: date
    fact_id: strawberry.ID
    unit_id: strawberry.Private[str]
    position: strawberry.Private[int]

    @strawberry.field(description="The related unit in its last state as known (it may have ended).")
    async def unit(self, info: strawberry.Info[Context, None]) -> Unit | None:
        view = await info.context.loaders.last_known.load((self.unit_id, self.position))
        return unit_from(view) if view else None


@strawberry.type
class UnitEdge:
    cursor: str
    node: Unit


@strawberry.type
class UnitConnection:
    edges: list[UnitEdge]
    page_info: PageInfo


@strawberry.type(description="One quota figure in force: its kind, amount and the legal act behind it.")
class QuotaEntry:
    kind: QuotaKind  # type: ignore[valid-type]
    amount: int
    effective_on: date
    fact_id: strawberry.ID
    act: LegalAct


@strawberry.type
class QuotaByKind:
    kind: QuotaKind  # type: ignore[valid-type]
    amount: int


@strawberry.type(name="StaffingLine", description="Quota against headcount for one personnel category.")
class StaffingLineType:
    category: PersonnelCategory  # type: ignore[valid-type]
    quota: int
    headcount: int
    vacancy: int
    surplus: int
    source: strawberry.Private[StaffingLine]

    @strawberry.field(description="The quota in force split by kind (assigned, temporary, supplementary).")
    def quota_by_kind(self) -> list[QuotaByKind]:
        amounts = self.source.by_kind
        return [QuotaByKind(kind=k, amount=amounts[k.value]) for k in values.QuotaKind if amounts.get(k.value)]

    @strawberry.field(description="Each quota figure in force with the legal act behind it.")
    def entries(self) -> list[QuotaEntry]:
        return [QuotaEntry(kind=values.QuotaKind(e.kind), amount=e.amount, effective_on=e.effective_from,
                           fact_id=strawberry.ID(e.fact_id),
                           act=LegalAct(number=e.act_number, issuer=e.act_issuer, signed_on=e.act_signed_on))
                for e in self.source.entries]


@strawberry.type
class StaffingFigures:
    """The figures `staffing` and every `staffingReport` row share."""

    unit: Unit
    lines: list[StaffingLineType]
    total_quota: int
    total_headcount: int
    total_vacancy: int
    total_surplus: int
    excess_allowed_until: date | None
    gross_vacancy: int = strawberry.field(default=0, description=(
        "Vacancies summed unit by unit over the units counted (the unit alone, or its subtree): what must be "
        "filled, which a roll-up (totalVacancy) nets against surplus elsewhere."))
    gross_surplus: int = strawberry.field(default=0, description=(
        "Surplus summed unit by unit over the units counted: what must be shed, which totalSurplus nets away."))
    over_quota: OverQuota | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="The unit's own standing when it is over quota: within a post-merger exception, "
                                  "the exception expired, or no exception (null: not over quota).")
    exception_deadline: date | None = strawberry.field(
        default=None, description="The deadline of the unit's exception on record on the date, passed or not.")


@strawberry.type(description="Headcount against quota for a unit (or its subtree) on a date, as known at a moment.")
class Staffing(StaffingFigures):
    as_of: date
    known_at: datetime | None
    includes_descendants: bool
    log_position: int | None = strawberry.field(
        default=None, description="The last log position the answer reflects (the knowledge it was computed from).")
    head_hash: str | None = strawberry.field(
        default=None, description="The event chain's link at `logPosition` (python -m staffing verify checks the "
                                  "chain): cite it with the figures.")


@strawberry.type(description="The event chain's head as known at a moment: what every answer at that moment reflects.")
class LedgerHead:
    position: int
    hash: str | None
    known_at: datetime | None


@strawberry.type(description="One row of a staffing report: a unit and its figures, alone or rolled up.")
class StaffingRow(StaffingFigures):
    level: int
    parent_id: strawberry.ID | None
    log_position: int | None = strawberry.field(
        default=None, description="The last log position the report reflects (the same on every row).")
    head_hash: str | None = strawberry.field(
        default=None, description="The event chain's link at `logPosition` (the same on every row; python -m "
                                  "staffing verify checks the chain): cite it with the report.")


@strawberry.type(description="A recorded fact, in log order, with its valid time, recording time and legal basis.")
class Fact:
    id: strawberry.ID
    type: str
    effective_on: date
    recorded_at: datetime
    act: LegalAct
    unit_id: strawberry.ID | None
    person_id: strawberry.ID | None
    retracted_by: strawberry.ID | None
    raw_data: strawberry.Private[str]

    @strawberry.field
    def data(self) -> JSON:
        """The stored form (parsed only when asked for: a diff lists thousands of facts)."""
        found: Any = orjson.loads(self.raw_data)
        return found  # type: ignore[no-any-return]

    hash: str | None = strawberry.field(
        default=None, description="The fact's link in the event chain (hex SHA-256; see `verify`).")
    recorded_by: str | None = strawberry.field(
        default=None, description="Who recorded the fact: the name in the caller's token (null: entered before "
                                  "callers were recorded, or by the command line).")

    @strawberry.field(description="The fact's data for a reader: named fields in camelCase, and every unit, person "
                      "and job position it refers to given with its code and name as last known "
                      "(`data` keeps the stored form).")
    async def details(self, info: strawberry.Info[Context, None]) -> JSON:
        found: Any = await readable(info, orjson.loads(self.raw_data))
        return found  # type: ignore[no-any-return]


    @strawberry.field(description="The name of the unit the fact is about, as last known.")
    async def unit_name(self, info: strawberry.Info[Context, None]) -> str | None:
        found = await info.context.loaders.names.load(str(self.unit_id)) if self.unit_id else None
        return found["name"] if found else None

    @strawberry.field(description="The full name of the person the fact is about.")
    async def person_name(self, info: strawberry.Info[Context, None]) -> str | None:
        found = await info.context.loaders.names.load(str(self.person_id)) if self.person_id else None
        return found["name"] if found else None


async def readable(info: strawberry.Info[Context, None], data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with camelCase keys; ``x_id`` becomes ``x`` ({id, code, name}) and ``x_ids`` becomes ``xs``.
    The fact's ids are looked up together (``load_many``: one batch with every other fact of the page)."""
    refs = [v for key, value in data.items() if key.endswith(("_id", "_ids"))
            for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
    found = dict(zip(refs, await info.context.loaders.names.load_many(refs), strict=True))

    def named(ref: str) -> dict[str, str]:
        name = found.get(ref)
        return {"id": ref, **({k: v for k, v in name.items() if k != "kind"} if name else {})}

    out: dict[str, Any] = {}
    for key, value in data.items():
        if key.endswith("_ids") and isinstance(value, list):
            out[_camel(key[:-4]) + "s"] = [named(v) for v in value]
        elif key.endswith("_id") and isinstance(value, str):
            out[_camel(key[:-3])] = named(value)
        else:
            out[_camel(key)] = value
    return out


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


@strawberry.type
class FactEdge:
    cursor: str
    node: Fact


@strawberry.type
class FactConnection:
    edges: list[FactEdge]
    page_info: PageInfo


@strawberry.type(description="Where a person stood on the date: unit, position, category, rank, status.")
class Assignment:
    unit_id: strawberry.ID
    position_id: strawberry.ID | None
    category: PersonnelCategory  # type: ignore[valid-type]
    rank: str
    status: PersonStatus  # type: ignore[valid-type]
    since: date
    as_of: strawberry.Private[date]
    position: strawberry.Private[int]

    @strawberry.field(description="The unit on that date (null if the unit no longer existed then).")
    async def unit(self, info: strawberry.Info[Context, None]) -> Unit | None:
        view = await info.context.loaders.unit.load((str(self.unit_id), self.as_of, self.position))
        return unit_from(view) if view else None


@strawberry.type
class Person:
    id: strawberry.ID
    full_name: str
    birth_date: date
    gender: Gender  # type: ignore[valid-type]
    assignment: Assignment


@strawberry.type(description="A movement of a person into or out of a unit in a period.")
class Movement:
    person_id: strawberry.ID
    kind: str
    effective_on: date
    category: PersonnelCategory  # type: ignore[valid-type]
    fact_id: strawberry.ID


# ---------------------------------------------------------------------- converters
def unit_from(view: UnitView) -> Unit:
    return _unit(view.id, view, view.as_of, view.position)


def _unit(unit_id: str, row: Any, as_of: date, position: int) -> Unit:
    """A unit from anything with a unit row's columns (a ``UnitView``, or a report's row itself)."""
    return Unit(id=strawberry.ID(unit_id), code=row.code, name=row.name, kind=_KINDS[row.kind],
                autonomy=_AUTONOMIES[row.autonomy] if row.autonomy else None,
                status=_STATUSES[row.status], as_of=as_of, parent_id=row.parent_id, position=position)


#: enum members by stored value, looked up instead of calling the enum (a listing converts ~60,000 units)
_KINDS = {k.value: k for k in values.UnitKind}
_STATUSES = {s.value: s for s in values.UnitStatus}
_AUTONOMIES = {a.value: a for a in values.FinancialAutonomy}


def line_from(line: StaffingLine) -> StaffingLineType:
    return StaffingLineType(category=_CATEGORIES[line.category], quota=line.quota, headcount=line.headcount,
                            vacancy=line.vacancy, surplus=line.surplus, source=line)


_CATEGORIES = {c.value: c for c in values.PersonnelCategory}


def _figures(figures: Figures) -> dict[str, object]:
    assert figures.unit is not None
    return {"unit": unit_from(figures.unit), "lines": [line_from(line) for line in figures.lines],
            "total_quota": figures.total_quota, "total_headcount": figures.total_headcount,
            "total_vacancy": figures.total_vacancy, "total_surplus": figures.total_surplus,
            "excess_allowed_until": figures.excess_allowed_until, "gross_vacancy": figures.gross_vacancy,
            "gross_surplus": figures.gross_surplus, "exception_deadline": figures.exception_deadline,
            "over_quota": values.over_quota(figures.own_surplus, figures.exception_deadline, figures.as_of)}


def staffing_from(figures: Figures, known_at: datetime | None, head: tuple[int, str] | None = None) -> Staffing:
    return Staffing(**_figures(figures), as_of=figures.as_of, known_at=known_at,  # type: ignore[arg-type]
                    includes_descendants=figures.includes_descendants,
                    log_position=head[0] if head else None, head_hash=head[1] if head else None)


def row_from(figures: Figures, head: tuple[int, str] | None = None) -> StaffingRow:
    """A report row; ``head``: the (log position, chain hash) the whole report reflects."""
    parent = figures.unit.parent_id if figures.unit else None
    return StaffingRow(**_figures(figures), level=figures.level,  # type: ignore[arg-type]
                       parent_id=strawberry.ID(parent) if parent else None,
                       log_position=head[0] if head else figures.position, head_hash=head[1] if head else None)


def report_rows(data: ReportData, source: EntrySource, as_of: date, position: int, head: tuple[int, str] | None
                ) -> list[StaffingRow]:
    """The rows of a report read as ``ReportData``, built straight from it: what
    ``[row_from(r, head) for r in Queries.staffing_report(...)]`` gives, without the intermediate
    ``StaffingFigures`` per unit (issue 9: a national listing builds ~60,000 rows; the two layers
    cost a third of a second, a tenth of the listing over HTTP). ``source``: the report's quota
    entries, read when a line's ``entries`` are asked for. Held equal to the two-layer path by
    ``tests/graphql/test_report_rows.py``."""
    gaps = data.gaps()
    out = []
    for r, level in data.shown:
        unit_id = r.unit_id
        members = tuple(data.members_of(unit_id))
        lines = []
        quota_total = heads_total = 0
        for category, quota, heads, by_kind in line_figures(data.total(unit_id)):
            quota_total += quota
            heads_total += heads
            lines.append(StaffingLineType(category=_CATEGORIES[category], quota=quota, headcount=heads,
                                          vacancy=max(quota - heads, 0), surplus=max(heads - quota, 0),
                                          source=StaffingLine(category, quota, heads, by_kind, source, members)))
        gross_surplus, gross_vacancy, own_surplus = gap_figures(gaps, members, unit_id)
        deadline = data.deadlines.get(unit_id)
        out.append(StaffingRow(
            unit=_unit(unit_id, r, as_of, position), lines=lines, total_quota=quota_total,
            total_headcount=heads_total, total_vacancy=max(quota_total - heads_total, 0),
            total_surplus=max(heads_total - quota_total, 0), excess_allowed_until=running_exception(deadline, as_of),
            gross_vacancy=gross_vacancy, gross_surplus=gross_surplus, exception_deadline=deadline,
            over_quota=values.over_quota(own_surplus, deadline, as_of), level=level,
            parent_id=strawberry.ID(r.parent_id) if r.parent_id else None,
            log_position=head[0] if head else position, head_hash=head[1] if head else None))
    return out


def _lineage(entries: list[LineageView], position: int) -> list[LineageEntry]:
    return [LineageEntry(unit_id=e.unit_id, change=values.ChangeKind(e.change), effective_on=e.effective_on,
                         fact_id=strawberry.ID(e.fact_id), position=position) for e in entries]


def fact_from(row: FactRow, hash: str | None = None) -> Fact:
    return Fact(id=strawberry.ID(row.id), type=row.type, effective_on=row.effective_on, recorded_at=row.recorded_at,
                act=LegalAct(number=row.act_number, issuer=row.act_issuer, signed_on=row.act_signed_on),
                unit_id=strawberry.ID(row.unit_id) if row.unit_id else None,
                person_id=strawberry.ID(row.person_id) if row.person_id else None,
                retracted_by=strawberry.ID(row.retracted_by) if row.retracted_by else None,
                raw_data=row.data, recorded_by=row.recorded_by, hash=hash)


def person_from(view: PersonView) -> Person:
    return Person(id=strawberry.ID(view.id), full_name=view.full_name, birth_date=view.birth_date,
                  gender=values.Gender(view.gender),
                  assignment=Assignment(unit_id=strawberry.ID(view.unit_id),
                                        position_id=strawberry.ID(view.position_id) if view.position_id else None,
                                        category=values.PersonnelCategory(view.category), rank=view.rank,
                                        status=values.PersonStatus(view.status), since=view.since,
                                        as_of=view.as_of, position=view.position))

