"""Mutation root: every mutation takes one `input` and calls the application service, nothing else.

A refused command returns its payload with null objects and `errors { code field message }`;
nothing is written. The service runs in a worker thread so a long reorganisation does not block
the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any

import strawberry

from staffing.application import NewUnit, QuotaFigure, SplitPart
from staffing.domain import values
from staffing.domain.errors import StaffingError
from staffing.domain.values import LegalAct
from staffing.graphql.auth import Authenticated, CanRecord
from staffing.graphql.context import Context
from staffing.graphql.types import (
    DownsizingPolicy,
    FinancialAutonomy,
    Gender,
    PersonnelCategory,
    PositionGroup,
    QuotaKind,
    Unit,
    UnitKind,
    UserError,
    person_from,
    unit_from,
)
from staffing.graphql.types import Person as PersonType

__all__ = ["Mutation"]

Info = strawberry.Info[Context, None]


# ---------------------------------------------------------------------- inputs
@strawberry.input(description="The legal act behind a fact: number, issuing body, signing date.")
class LegalActInput:
    number: str
    issuer: str
    signed_on: date


@strawberry.input
class EstablishUnitInput:
    code: str
    name: str
    kind: UnitKind  # type: ignore[valid-type]
    parent_id: strawberry.ID | None = None
    autonomy: FinancialAutonomy | None = None  # type: ignore[valid-type]
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input
class RenameUnitInput:
    unit_id: strawberry.ID
    name: str
    code: str | None = None
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input
class MoveUnitInput:
    unit_id: strawberry.ID
    new_parent_id: strawberry.ID | None = None
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input
class NewUnitInput:
    code: str
    name: str
    kind: UnitKind  # type: ignore[valid-type]
    parent_id: strawberry.ID | None = None
    autonomy: FinancialAutonomy | None = None  # type: ignore[valid-type]


@strawberry.input(description="Absorb (sáp nhập) into `intoUnitId`, or consolidate (hợp nhất) into `newUnit`.")
class MergeUnitsInput:
    source_unit_ids: list[strawberry.ID]
    into_unit_id: strawberry.ID | None = None
    new_unit: NewUnitInput | None = None
    excess_allowed_until: date | None = None
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input
class QuotaFigureInput:
    category: PersonnelCategory  # type: ignore[valid-type]
    kind: QuotaKind  # type: ignore[valid-type]
    amount: int


@strawberry.input(description="A new unit of a split or separation and what is allocated to it.")
class SplitPartInput:
    unit: NewUnitInput
    person_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    position_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    child_unit_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    quota: list[QuotaFigureInput] = strawberry.field(default_factory=list)


@strawberry.input(description="Chia: the unit ends; every person, position and child unit must be allocated.")
class SplitUnitInput:
    unit_id: strawberry.ID
    parts: list[SplitPartInput]
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input(description="Tách: the unit continues; a new unit takes what is allocated to it.")
class SeparateUnitInput:
    unit_id: strawberry.ID
    part: SplitPartInput
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input
class DissolveUnitInput:
    unit_id: strawberry.ID
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input(description="Sets the figure for the unit, category and kind from `effectiveOn`.")
class AssignQuotaInput:
    unit_id: strawberry.ID
    category: PersonnelCategory  # type: ignore[valid-type]
    kind: QuotaKind  # type: ignore[valid-type]
    amount: int
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input
class TransferQuotaInput:
    from_unit_id: strawberry.ID
    to_unit_id: strawberry.ID
    category: PersonnelCategory  # type: ignore[valid-type]
    kind: QuotaKind  # type: ignore[valid-type]
    amount: int
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input(description="The unit may exceed its quota until `until` (e.g. 5 years after a merger).")
class AllowExcessInput:
    unit_id: strawberry.ID
    until: date
    reason: str
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input
class CreatePositionInput:
    unit_id: strawberry.ID
    title: str
    group: PositionGroup  # type: ignore[valid-type]
    rank: str
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input
class AbolishPositionInput:
    position_id: strawberry.ID
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input
class RecruitPersonInput:
    full_name: str
    birth_date: date
    gender: Gender  # type: ignore[valid-type]
    category: PersonnelCategory  # type: ignore[valid-type]
    unit_id: strawberry.ID
    position_id: strawberry.ID | None = None
    rank: str | None = None
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input
class TransferPersonInput:
    person_id: strawberry.ID
    to_unit_id: strawberry.ID
    to_position_id: strawberry.ID | None = None
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input
class RegradePersonInput:
    person_id: strawberry.ID
    category: PersonnelCategory | None = None  # type: ignore[valid-type]
    rank: str | None = None
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input
class PersonLeavesInput:
    """The person leaves the service on `effectiveOn` (and is not counted from that day)."""

    person_id: strawberry.ID
    effective_on: date
    act: LegalActInput
    request_key: str | None = None


@strawberry.input(description="Nghỉ hưu: the person retires on `effectiveOn`.")
class RetirePersonInput(PersonLeavesInput):
    pass


@strawberry.input(description="Thôi việc: the person resigns on `effectiveOn`.")
class ResignPersonInput(PersonLeavesInput):
    pass


@strawberry.input(description="Buộc thôi việc: the person is dismissed on `effectiveOn`.")
class DismissPersonInput(PersonLeavesInput):
    pass


@strawberry.input(description="Tinh giản biên chế; the decree version in force on the act's signing date applies.")
class DownsizePersonInput:
    person_id: strawberry.ID
    policy: DownsizingPolicy  # type: ignore[valid-type]
    effective_on: date
    act: LegalActInput
    monthly_salary: int | None = None
    insured_years: int | None = None
    affected_by_restructuring: bool = False
    request_key: str | None = None


@strawberry.input(description="Retract a person or quota fact entered in error (reorganisations are refused).")
class RetractFactInput:
    fact_id: strawberry.ID
    reason: str
    act: LegalActInput
    request_key: str | None = None


# ---------------------------------------------------------------------- payloads
@strawberry.type
class PositionRef:
    id: strawberry.ID


@strawberry.type
class UnitPayload:
    unit: Unit | None
    fact_id: strawberry.ID | None
    errors: list[UserError]


@strawberry.type
class UnitsPayload:
    units: list[Unit] | None
    fact_id: strawberry.ID | None
    errors: list[UserError]


@strawberry.type
class PositionPayload:
    position: PositionRef | None
    fact_id: strawberry.ID | None
    errors: list[UserError]


@strawberry.type
class PersonPayload:
    person: PersonType | None
    fact_id: strawberry.ID | None
    decree: str | None = None
    errors: list[UserError]


@strawberry.type(description="The retraction's own fact id, the fact it retracts, and the person or unit affected.")
class RetractFactPayload:
    retraction_id: strawberry.ID | None
    retracted_fact_id: strawberry.ID | None
    person: PersonType | None = None
    unit: Unit | None = None
    errors: list[UserError]


# ---------------------------------------------------------------------- helpers
def _act(value: LegalActInput) -> LegalAct:
    return LegalAct(value.number, value.issuer, value.signed_on)


def _new_unit(value: NewUnitInput) -> NewUnit:
    return NewUnit(value.code, value.name, values.UnitKind(value.kind),
                   value.parent_id if value.parent_id else None,  # type: ignore[arg-type]
                   values.FinancialAutonomy(value.autonomy) if value.autonomy else None)


def _part(value: SplitPartInput) -> SplitPart:
    return SplitPart(unit=_new_unit(value.unit), person_ids=list(value.person_ids),  # type: ignore[arg-type]
                     position_ids=list(value.position_ids), child_unit_ids=list(value.child_unit_ids),  # type: ignore[arg-type]
                     quota=[QuotaFigure(values.PersonnelCategory(q.category), values.QuotaKind(q.kind), q.amount)
                            for q in value.quota])


def _errors(error: StaffingError) -> list[UserError]:
    return [UserError(code=error.code, field=error.field, message=error.message)]


async def _call(fn: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any] | None, list[UserError]]:
    try:
        return await asyncio.to_thread(fn), []
    except StaffingError as error:
        return None, _errors(error)


def _unit_view(ctx: Context, unit_id: str, on: date) -> Unit | None:
    with ctx.queries.connect() as conn:
        position = ctx.queries.knowledge_position(conn, None)
        view = ctx.queries.unit(conn, unit_id, on, position) or ctx.queries.last_known_unit(conn, unit_id, position)
    return unit_from(view) if view else None


def _person_view(ctx: Context, person_id: str, on: date) -> PersonType | None:
    with ctx.queries.connect() as conn:
        position = ctx.queries.knowledge_position(conn, None)
        view = ctx.queries.person(conn, person_id, on, position)
    return person_from(view) if view else None


async def _unit_mutation(info: Info, fn: Callable[[], dict[str, Any]], effective_on: date) -> UnitPayload:
    result, errors = await _call(fn)
    if result is None:
        return UnitPayload(unit=None, fact_id=None, errors=errors)
    info.context.queries.refresh()
    return UnitPayload(unit=_unit_view(info.context, result["unitId"], effective_on),
                       fact_id=strawberry.ID(result["factId"]), errors=[])


async def _person_mutation(info: Info, fn: Callable[[], dict[str, Any]], effective_on: date) -> PersonPayload:
    result, errors = await _call(fn)
    if result is None:
        return PersonPayload(person=None, fact_id=None, errors=errors)
    info.context.queries.refresh()
    return PersonPayload(person=_person_view(info.context, result["personId"], effective_on),
                         fact_id=strawberry.ID(result["factId"]), decree=result.get("decree"), errors=[])


async def _leave(info: Info, command: Callable[..., dict[str, Any]], input: PersonLeavesInput) -> PersonPayload:
    """Retire, resign and dismiss differ only in the service method they call."""
    return await _person_mutation(info, lambda: command(
        person_id=input.person_id, effective_on=input.effective_on, act=_act(input.act),
        request_key=input.request_key), input.effective_on)


# ---------------------------------------------------------------------- root
@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Thành lập: establish a unit.")
    async def establish_unit(self, info: Info, input: EstablishUnitInput) -> UnitPayload:
        svc = info.context.service
        return await _unit_mutation(info, lambda: svc.establish_unit(
            code=input.code, name=input.name, kind=values.UnitKind(input.kind), parent_id=input.parent_id,
            autonomy=values.FinancialAutonomy(input.autonomy) if input.autonomy else None,
            effective_on=input.effective_on, act=_act(input.act), request_key=input.request_key), input.effective_on)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Đổi tên: rename a unit (and optionally change its code).")
    async def rename_unit(self, info: Info, input: RenameUnitInput) -> UnitPayload:
        svc = info.context.service
        return await _unit_mutation(info, lambda: svc.rename_unit(
            unit_id=input.unit_id, name=input.name, code=input.code, effective_on=input.effective_on,
            act=_act(input.act), request_key=input.request_key), input.effective_on)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Move a unit under another parent (null: top level).")
    async def move_unit(self, info: Info, input: MoveUnitInput) -> UnitPayload:
        svc = info.context.service
        return await _unit_mutation(info, lambda: svc.move_unit(
            unit_id=input.unit_id, new_parent_id=input.new_parent_id, effective_on=input.effective_on,
            act=_act(input.act), request_key=input.request_key), input.effective_on)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Sáp nhập (intoUnitId) or hợp nhất (newUnit), atomically with people, "
                                     "positions, child units and quota.")
    async def merge_units(self, info: Info, input: MergeUnitsInput) -> UnitPayload:
        svc = info.context.service
        return await _unit_mutation(info, lambda: svc.merge_units(
            source_unit_ids=list(input.source_unit_ids), into_unit_id=input.into_unit_id,
            new_unit=_new_unit(input.new_unit) if input.new_unit else None,
            excess_allowed_until=input.excess_allowed_until, effective_on=input.effective_on, act=_act(input.act),
            request_key=input.request_key), input.effective_on)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Chia: split a unit into new units; everything must be allocated.")
    async def split_unit(self, info: Info, input: SplitUnitInput) -> UnitsPayload:
        svc = info.context.service
        result, errors = await _call(lambda: svc.split_unit(
            unit_id=input.unit_id, parts=[_part(p) for p in input.parts], effective_on=input.effective_on,
            act=_act(input.act), request_key=input.request_key))
        if result is None:
            return UnitsPayload(units=None, fact_id=None, errors=errors)
        info.context.queries.refresh()
        units = [u for u in (_unit_view(info.context, i, input.effective_on) for i in result["unitIds"]) if u]
        return UnitsPayload(units=units, fact_id=strawberry.ID(result["factId"]), errors=[])

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Tách: separate a part of a unit into a new unit.")
    async def separate_unit(self, info: Info, input: SeparateUnitInput) -> UnitPayload:
        svc = info.context.service
        return await _unit_mutation(info, lambda: svc.separate_unit(
            unit_id=input.unit_id, part=_part(input.part), effective_on=input.effective_on, act=_act(input.act),
            request_key=input.request_key), input.effective_on)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Giải thể: refused while people, open positions or child units remain.")
    async def dissolve_unit(self, info: Info, input: DissolveUnitInput) -> UnitPayload:
        svc = info.context.service
        return await _unit_mutation(info, lambda: svc.dissolve_unit(
            unit_id=input.unit_id, effective_on=input.effective_on, act=_act(input.act),
            request_key=input.request_key), input.effective_on)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Giao biên chế: set a quota figure from `effectiveOn`.")
    async def assign_quota(self, info: Info, input: AssignQuotaInput) -> UnitPayload:
        svc = info.context.service
        return await _unit_mutation(info, lambda: svc.assign_quota(
            unit_id=input.unit_id, category=values.PersonnelCategory(input.category),
            kind=values.QuotaKind(input.kind), amount=input.amount, effective_on=input.effective_on,
            act=_act(input.act), request_key=input.request_key), input.effective_on)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Move quota from one unit to another in one act.")
    async def transfer_quota(self, info: Info, input: TransferQuotaInput) -> UnitPayload:
        svc = info.context.service
        return await _unit_mutation(info, lambda: svc.transfer_quota(
            from_unit_id=input.from_unit_id, to_unit_id=input.to_unit_id,
            category=values.PersonnelCategory(input.category), kind=values.QuotaKind(input.kind),
            amount=input.amount, effective_on=input.effective_on, act=_act(input.act),
            request_key=input.request_key), input.effective_on)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Allow a unit to exceed its quota until a date.")
    async def allow_excess(self, info: Info, input: AllowExcessInput) -> UnitPayload:
        svc = info.context.service
        return await _unit_mutation(info, lambda: svc.allow_excess(
            unit_id=input.unit_id, until=input.until, reason=input.reason, effective_on=input.effective_on,
            act=_act(input.act), request_key=input.request_key), input.effective_on)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Create a job position (vị trí việc làm) in a unit.")
    async def create_position(self, info: Info, input: CreatePositionInput) -> PositionPayload:
        svc = info.context.service
        result, errors = await _call(lambda: svc.create_position(
            unit_id=input.unit_id, title=input.title, group=values.PositionGroup(input.group), rank=input.rank,
            effective_on=input.effective_on, act=_act(input.act), request_key=input.request_key))
        if result is None:
            return PositionPayload(position=None, fact_id=None, errors=errors)
        return PositionPayload(position=PositionRef(id=strawberry.ID(result["positionId"])),
                               fact_id=strawberry.ID(result["factId"]), errors=[])

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Abolish a job position; refused while anyone holds it.")
    async def abolish_position(self, info: Info, input: AbolishPositionInput) -> PositionPayload:
        svc = info.context.service
        result, errors = await _call(lambda: svc.abolish_position(
            position_id=input.position_id, effective_on=input.effective_on, act=_act(input.act),
            request_key=input.request_key))
        if result is None:
            return PositionPayload(position=None, fact_id=None, errors=errors)
        return PositionPayload(position=PositionRef(id=strawberry.ID(result["positionId"])),
                               fact_id=strawberry.ID(result["factId"]), errors=[])

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Recruit or appoint a person into a unit (and optionally a position).")
    async def recruit_person(self, info: Info, input: RecruitPersonInput) -> PersonPayload:
        svc = info.context.service
        return await _person_mutation(info, lambda: svc.recruit_person(
            full_name=input.full_name, birth_date=input.birth_date, gender=values.Gender(input.gender),
            category=values.PersonnelCategory(input.category), unit_id=input.unit_id,
            position_id=input.position_id, rank=input.rank or "", effective_on=input.effective_on,
            act=_act(input.act), request_key=input.request_key), input.effective_on)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Transfer (điều động, luân chuyển) a person to another unit or position.")
    async def transfer_person(self, info: Info, input: TransferPersonInput) -> PersonPayload:
        svc = info.context.service
        return await _person_mutation(info, lambda: svc.transfer_person(
            person_id=input.person_id, to_unit_id=input.to_unit_id, to_position_id=input.to_position_id,
            effective_on=input.effective_on, act=_act(input.act), request_key=input.request_key),
            input.effective_on)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Change a person's rank or grade (ngạch/hạng) or category.")
    async def regrade_person(self, info: Info, input: RegradePersonInput) -> PersonPayload:
        svc = info.context.service
        return await _person_mutation(info, lambda: svc.regrade_person(
            person_id=input.person_id, category=values.PersonnelCategory(input.category) if input.category else None,
            rank=input.rank, effective_on=input.effective_on, act=_act(input.act), request_key=input.request_key),
            input.effective_on)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Nghỉ hưu: the person retires on `effectiveOn` (not counted from that day).")
    async def retire_person(self, info: Info, input: RetirePersonInput) -> PersonPayload:
        svc = info.context.service
        return await _leave(info, svc.retire_person, input)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Thôi việc: the person resigns.")
    async def resign_person(self, info: Info, input: ResignPersonInput) -> PersonPayload:
        svc = info.context.service
        return await _leave(info, svc.resign_person, input)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Buộc thôi việc: the person is dismissed.")
    async def dismiss_person(self, info: Info, input: DismissPersonInput) -> PersonPayload:
        svc = info.context.service
        return await _leave(info, svc.dismiss_person, input)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Tinh giản biên chế under the decree version in force on the decision date.")
    async def downsize_person(self, info: Info, input: DownsizePersonInput) -> PersonPayload:
        svc = info.context.service
        return await _person_mutation(info, lambda: svc.downsize_person(
            person_id=input.person_id, policy=values.DownsizingPolicy(input.policy),
            effective_on=input.effective_on, act=_act(input.act), monthly_salary=input.monthly_salary,
            insured_years=input.insured_years, affected_by_restructuring=input.affected_by_restructuring,
            request_key=input.request_key), input.effective_on)

    @strawberry.mutation(permission_classes=[Authenticated, CanRecord], description="Retract a person or quota fact entered in error; it stops counting from now, "
                                     "while answers known at earlier moments keep it.")
    async def retract_fact(self, info: Info, input: RetractFactInput) -> RetractFactPayload:
        svc = info.context.service
        result, errors = await _call(lambda: svc.retract_fact(
            fact_id=str(input.fact_id), reason=input.reason, act=_act(input.act), request_key=input.request_key))
        if result is None:
            return RetractFactPayload(retraction_id=None, retracted_fact_id=None, errors=errors)
        info.context.queries.refresh()
        today = date.today()
        return RetractFactPayload(
            retraction_id=strawberry.ID(result["factId"]), retracted_fact_id=strawberry.ID(str(input.fact_id)),
            person=_person_view(info.context, result["personId"], today) if "personId" in result else None,
            unit=_unit_view(info.context, result["unitId"], today) if "unitId" in result else None, errors=[])
