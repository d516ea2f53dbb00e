"""Mutation root: every mutation builds its command from its input and hands it to one runner.

A refused command returns its payload with null objects and ``errors { code field message }``;
nothing is written. The service runs in a worker thread so a long reorganisation does not block
the event loop. ``executePlan`` (several commands as one decision, or a dry run) is in ``plans``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any

import strawberry

from staffing.application import commands as c
from staffing.application.results import (
    PersonRecorded,
    PositionRecorded,
    Result,
    Retraction,
    UnitRecorded,
    UnitsRecorded,
)
from staffing.domain.errors import Forbidden, StaffingError
from staffing.graphql.auth import Authenticated, CanRecord, forbidden
from staffing.graphql.context import Context
from staffing.graphql.inputs import (
    AbolishPositionInput,
    AdjustUnitFunctionsInput,
    AllowExcessInput,
    AssignQuotaInput,
    ChangeUnitModelInput,
    CreatePositionInput,
    DismissPersonInput,
    DissolveUnitInput,
    DownsizePersonInput,
    EstablishUnitInput,
    MergeUnitsInput,
    MoveUnitInput,
    RecruitPersonInput,
    RegradePersonInput,
    RenameUnitInput,
    ResignPersonInput,
    RetirePersonInput,
    RetractFactInput,
    SeparateUnitInput,
    SetReductionTargetInput,
    SplitUnitInput,
    TransferPersonInput,
    TransferQuotaInput,
    to_command,
)
from staffing.graphql.plans import ExecutePlanInput, PlanPayload, execute_plan
from staffing.graphql.types import Person as PersonType
from staffing.graphql.types import Unit, UserError, person_from, unit_from

__all__ = ["Mutation"]

Info = strawberry.Info[Context, None]
log = logging.getLogger("staffing.graphql")
RECORDS = [Authenticated, CanRecord]


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
    payout: Payout | None = strawberry.field(
        default=None, description="A downsizing's payout under the decree in force on its decision date (null when "
                                  "an input the rule needs was not given).")


@strawberry.type(description="One item of a payout, in VND.")
class PayoutItem:
    item: str
    amount: float = strawberry.field(description="VND (a whole number; a JSON number, never a 32-bit Int).")


@strawberry.type(description="A downsizing payout: the rule version that governs it, its items and their total (VND).")
class Payout:
    rule: str
    total: float = strawberry.field(description="VND (a whole number; a JSON number, never a 32-bit Int).")
    breakdown: list[PayoutItem]


def payout_from(data: dict[str, Any] | None) -> Payout | None:
    if not data:
        return None
    return Payout(rule=data["rule"], total=data["total"],
                  breakdown=[PayoutItem(item=i["item"], amount=i["amount"]) for i in data["breakdown"]])


@strawberry.type(description="The retraction's own fact id, the fact it retracts, and the person or unit affected.")
class RetractFactPayload:
    retraction_id: strawberry.ID | None
    retracted_fact_id: strawberry.ID | None
    person: PersonType | None = None
    unit: Unit | None = None
    errors: list[UserError]


# ---------------------------------------------------------------------- the runner
def user_errors(error: StaffingError) -> list[UserError]:
    return [UserError(code=error.code, field=error.field, message=error.message)]


async def record(info: Info, command: type[c.Command], input: Any) -> tuple[Any, list[UserError]]:
    """Build the command from the input, execute it (one transaction), catch the read models up."""
    try:
        built = to_command(command, input)
        result: Result = await asyncio.to_thread(info.context.service.execute, built, input.request_key,
                                                 info.context.principal)
    except Forbidden as error:
        log.info("refused %s: FORBIDDEN %s", command.command_name(), error.message[:300])
        raise forbidden(info, error.message) from None
    except StaffingError as error:
        log.info("refused %s: %s %s %s", command.command_name(), error.code, error.field or "", error.message[:300])
        return None, user_errors(error)
    await asyncio.to_thread(info.context.queries.refresh)  # read your writes, off the event loop
    return result, []


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


async def _unit(info: Info, command: type[c.Command], input: Any) -> UnitPayload:
    result, errors = await record(info, command, input)
    if not isinstance(result, UnitRecorded):
        return UnitPayload(unit=None, fact_id=None, errors=errors)
    return UnitPayload(unit=await asyncio.to_thread(_unit_view, info.context, result.unit_id, input.effective_on),
                       fact_id=strawberry.ID(result.fact_id), errors=[])


async def _units(info: Info, command: type[c.Command], input: Any) -> UnitsPayload:
    result, errors = await record(info, command, input)
    if not isinstance(result, UnitsRecorded):
        return UnitsPayload(units=None, fact_id=None, errors=errors)
    found = await asyncio.to_thread(lambda: [_unit_view(info.context, i, input.effective_on) for i in result.unit_ids])
    units = [u for u in found if u]
    return UnitsPayload(units=units, fact_id=strawberry.ID(result.fact_id), errors=[])


async def _position(info: Info, command: type[c.Command], input: Any) -> PositionPayload:
    result, errors = await record(info, command, input)
    if not isinstance(result, PositionRecorded):
        return PositionPayload(position=None, fact_id=None, errors=errors)
    return PositionPayload(position=PositionRef(id=strawberry.ID(result.position_id)),
                           fact_id=strawberry.ID(result.fact_id), errors=[])


async def _person(info: Info, command: type[c.Command], input: Any) -> PersonPayload:
    result, errors = await record(info, command, input)
    if not isinstance(result, PersonRecorded):
        return PersonPayload(person=None, fact_id=None, errors=errors)
    return PersonPayload(person=await asyncio.to_thread(_person_view, info.context, result.person_id,
                                                        input.effective_on),
                         fact_id=strawberry.ID(result.fact_id), decree=result.decree,
                         payout=payout_from(result.payout), errors=[])


async def _retraction(info: Info, command: type[c.Command], input: Any) -> RetractFactPayload:
    result, errors = await record(info, command, input)
    if not isinstance(result, Retraction):
        return RetractFactPayload(retraction_id=None, retracted_fact_id=None, errors=errors)
    today = date.today()
    person = await asyncio.to_thread(_person_view, info.context, result.person_id, today) if result.person_id else None
    unit = await asyncio.to_thread(_unit_view, info.context, result.unit_id, today) if result.unit_id else None
    return RetractFactPayload(
        retraction_id=strawberry.ID(result.fact_id), retracted_fact_id=strawberry.ID(result.retracted_fact_id),
        person=person, unit=unit, errors=[])


# ---------------------------------------------------------------------- root
@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=RECORDS, description="Thành lập: establish a unit.")
    async def establish_unit(self, info: Info, input: EstablishUnitInput) -> UnitPayload:
        return await _unit(info, c.EstablishUnit, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Đổi tên: rename a unit (and optionally change its code).")
    async def rename_unit(self, info: Info, input: RenameUnitInput) -> UnitPayload:
        return await _unit(info, c.RenameUnit, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Move a unit under another parent (null: top level).")
    async def move_unit(self, info: Info, input: MoveUnitInput) -> UnitPayload:
        return await _unit(info, c.MoveUnit, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Sáp nhập (intoUnitId) or hợp nhất (newUnit), atomically "
                                                                 "with people, positions, child units and quota.")
    async def merge_units(self, info: Info, input: MergeUnitsInput) -> UnitPayload:
        return await _unit(info, c.MergeUnits, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Chia: split a unit into new units; everything must be allocated.")
    async def split_unit(self, info: Info, input: SplitUnitInput) -> UnitsPayload:
        return await _units(info, c.SplitUnit, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Tách: separate a part of a unit into a new unit.")
    async def separate_unit(self, info: Info, input: SeparateUnitInput) -> UnitPayload:
        return await _unit(info, c.SeparateUnit, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Giải thể: refused while people, open positions or child units remain.")
    async def dissolve_unit(self, info: Info, input: DissolveUnitInput) -> UnitPayload:
        return await _unit(info, c.DissolveUnit, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Giao biên chế: set a quota figure from `effectiveOn`.")
    async def assign_quota(self, info: Info, input: AssignQuotaInput) -> UnitPayload:
        return await _unit(info, c.AssignQuota, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Move quota from one unit to another in one act.")
    async def transfer_quota(self, info: Info, input: TransferQuotaInput) -> UnitPayload:
        return await _unit(info, c.TransferQuota, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Allow a unit to exceed its quota until a date.")
    async def allow_excess(self, info: Info, input: AllowExcessInput) -> UnitPayload:
        return await _unit(info, c.AllowExcess, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Set a reduction target for a unit's subtree "
                         "(e.g. -5% civil servants by 31/12/2026 against the quota of 31/12/2021).")
    async def set_reduction_target(self, info: Info, input: SetReductionTargetInput) -> UnitPayload:
        return await _unit(info, c.SetReductionTarget, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Create a job position (vị trí việc làm) in a unit.")
    async def create_position(self, info: Info, input: CreatePositionInput) -> PositionPayload:
        return await _position(info, c.CreatePosition, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Abolish a job position; refused while anyone holds it.")
    async def abolish_position(self, info: Info, input: AbolishPositionInput) -> PositionPayload:
        return await _position(info, c.AbolishPosition, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Recruit or appoint a person into a unit (and optionally a position).")
    async def recruit_person(self, info: Info, input: RecruitPersonInput) -> PersonPayload:
        return await _person(info, c.RecruitPerson, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Transfer (điều động, luân chuyển) a person to another unit or position.")
    async def transfer_person(self, info: Info, input: TransferPersonInput) -> PersonPayload:
        return await _person(info, c.TransferPerson, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Change a person's rank or grade (ngạch/hạng) or category.")
    async def regrade_person(self, info: Info, input: RegradePersonInput) -> PersonPayload:
        return await _person(info, c.RegradePerson, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Nghỉ hưu: the person retires on `effectiveOn` (not counted from that day).")
    async def retire_person(self, info: Info, input: RetirePersonInput) -> PersonPayload:
        return await _person(info, c.RetirePerson, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Thôi việc: the person resigns.")
    async def resign_person(self, info: Info, input: ResignPersonInput) -> PersonPayload:
        return await _person(info, c.ResignPerson, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Buộc thôi việc: the person is dismissed.")
    async def dismiss_person(self, info: Info, input: DismissPersonInput) -> PersonPayload:
        return await _person(info, c.DismissPerson, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Tinh giản biên chế under the decree version in force on the decision date.")
    async def downsize_person(self, info: Info, input: DownsizePersonInput) -> PersonPayload:
        return await _person(info, c.DownsizePerson, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Retract a person or quota fact entered in error; it stops counting from now, "
                                                                 "while answers known at earlier moments keep it.")
    async def retract_fact(self, info: Info, input: RetractFactInput) -> RetractFactPayload:
        return await _retraction(info, c.RetractFact, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Chuyển đổi mô hình: change a unit's kind or autonomy class.")
    async def change_unit_model(self, info: Info, input: ChangeUnitModelInput) -> UnitPayload:
        return await _unit(info, c.ChangeUnitModel, input)

    @strawberry.mutation(permission_classes=RECORDS, description="Điều chỉnh chức năng: redefine a unit's functions.")
    async def adjust_unit_functions(self, info: Info, input: AdjustUnitFunctionsInput) -> UnitPayload:
        return await _unit(info, c.AdjustUnitFunctions, input)

    @strawberry.mutation(permission_classes=RECORDS, description=(
        "Several commands decided in order, each against the state the earlier ones produce, and saved in "
        "one transaction (all or nothing); with `dryRun` (the default) nothing is recorded and the figures "
        "show what the plan would do."))
    async def execute_plan(self, info: Info, input: ExecutePlanInput) -> PlanPayload:
        return await execute_plan(info, input)
