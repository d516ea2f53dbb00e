"""Mutation inputs: one per command, with the command's fields (camelCase) plus ``requestKey``.

Every fact input shares ``effectiveOn``, ``act`` and ``requestKey`` through ``FactInput``; the enums
are the domain's own (``staffing.domain.values``). ``to_command`` turns any input into its command
through the same coercion the import uses, so the API and files accept exactly the same things;
tests/graphql/test_inputs.py checks every input against its command, field by field.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import strawberry

from staffing.application import commands as c
from staffing.application.values import from_data
from staffing.domain.values import (
    DownsizingPolicy,
    FinancialAutonomy,
    Gender,
    PersonnelCategory,
    PositionGroup,
    QuotaKind,
    UnitKind,
)

__all__ = ["INPUTS", "to_command"]


@strawberry.input(description="The legal act behind a fact: number, issuing body, signing date.")
class LegalActInput:
    number: str
    issuer: str
    signed_on: date


@strawberry.input(description="What every recorded command carries.")
class RecordInput:
    act: LegalActInput
    request_key: str | None = strawberry.field(
        default=None, description="Makes the command idempotent: a repeat answers with the first result.")


@strawberry.input(description="What every dated fact carries.")
class FactInput(RecordInput):
    effective_on: date


_ID_HELP = "Optional client-chosen id (UUID) for what this creates, so a plan or a file can refer to it."
_SPLIT_HELP = ("For a fact dated before a split of the person's unit (a late record): the id of the part the person "
               "went to, for each such split.")


@strawberry.input(description="A reduction target for a subtree: `percent` fewer posts (of `category`, or of every "
                             "category) by `dueOn` than the quota in force on `baselineOn`.")
class SetReductionTargetInput(FactInput):
    unit_id: strawberry.ID
    percent: int
    baseline_on: date
    due_on: date
    category: PersonnelCategory | None = None  # type: ignore[valid-type]


@strawberry.input
class EstablishUnitInput(FactInput):
    code: str
    name: str
    kind: UnitKind
    parent_id: strawberry.ID | None = None
    autonomy: FinancialAutonomy | None = None
    id: strawberry.ID | None = strawberry.field(default=None, description=_ID_HELP)


@strawberry.input
class RenameUnitInput(FactInput):
    unit_id: strawberry.ID
    name: str
    code: str | None = None


@strawberry.input
class MoveUnitInput(FactInput):
    unit_id: strawberry.ID
    new_parent_id: strawberry.ID | None = None


@strawberry.input(description="Chuyển đổi mô hình: the unit's kind or financial-autonomy class changes.")
class ChangeUnitModelInput(FactInput):
    unit_id: strawberry.ID
    kind: UnitKind
    autonomy: FinancialAutonomy | None = None


@strawberry.input(description="Điều chỉnh chức năng: the unit's functions are redefined.")
class AdjustUnitFunctionsInput(FactInput):
    unit_id: strawberry.ID
    functions: str


@strawberry.input
class NewUnitInput:
    code: str
    name: str
    kind: UnitKind
    parent_id: strawberry.ID | None = None
    autonomy: FinancialAutonomy | None = None
    id: strawberry.ID | None = strawberry.field(default=None, description=_ID_HELP)


@strawberry.input(description="Absorb (sáp nhập) into `intoUnitId`, or consolidate (hợp nhất) into `newUnit`.")
class MergeUnitsInput(FactInput):
    source_unit_ids: list[strawberry.ID]
    into_unit_id: strawberry.ID | None = None
    new_unit: NewUnitInput | None = None
    excess_allowed_until: date | None = None


@strawberry.input
class QuotaFigureInput:
    category: PersonnelCategory
    kind: QuotaKind
    amount: int


@strawberry.input(description="A new unit of a split or separation and what is allocated to it.")
class SplitPartInput:
    unit: NewUnitInput
    person_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    position_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    child_unit_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    quota: list[QuotaFigureInput] = strawberry.field(default_factory=list)
    rest: bool = strawberry.field(default=False, description="Takes every person, position and child unit that "
                                  "no other part takes (one part of a split at most). Allocated positions take "
                                  "their holders along in any case.")


@strawberry.input(description="Chia: the unit ends; every person, position and child unit must be allocated.")
class SplitUnitInput(FactInput):
    unit_id: strawberry.ID
    parts: list[SplitPartInput]


@strawberry.input(description="Tách: the unit continues; a new unit takes what is allocated to it.")
class SeparateUnitInput(FactInput):
    unit_id: strawberry.ID
    part: SplitPartInput


@strawberry.input
class DissolveUnitInput(FactInput):
    unit_id: strawberry.ID


@strawberry.input(description="Sets the figure for the unit, category and kind from `effectiveOn`.")
class AssignQuotaInput(FactInput):
    unit_id: strawberry.ID
    category: PersonnelCategory
    kind: QuotaKind
    amount: int


@strawberry.input
class TransferQuotaInput(FactInput):
    from_unit_id: strawberry.ID
    to_unit_id: strawberry.ID
    category: PersonnelCategory
    kind: QuotaKind
    amount: int


@strawberry.input(description="The unit may exceed its quota until `until` (e.g. 5 years after a merger).")
class AllowExcessInput(FactInput):
    unit_id: strawberry.ID
    until: date
    reason: str


@strawberry.input
class CreatePositionInput(FactInput):
    unit_id: strawberry.ID
    title: str
    group: PositionGroup
    rank: str
    id: strawberry.ID | None = strawberry.field(default=None, description=_ID_HELP)
    split_parts: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="For a position created late in a unit split since: the part it went to.")


@strawberry.input
class AbolishPositionInput(FactInput):
    position_id: strawberry.ID


@strawberry.input
class RecruitPersonInput(FactInput):
    full_name: str
    birth_date: date
    gender: Gender
    category: PersonnelCategory
    unit_id: strawberry.ID
    position_id: strawberry.ID | None = None
    rank: str | None = None
    id: strawberry.ID | None = strawberry.field(default=None, description=_ID_HELP)
    split_parts: list[strawberry.ID] = strawberry.field(default_factory=list, description=_SPLIT_HELP)


@strawberry.input
class TransferPersonInput(FactInput):
    person_id: strawberry.ID
    to_unit_id: strawberry.ID
    to_position_id: strawberry.ID | None = None
    split_parts: list[strawberry.ID] = strawberry.field(default_factory=list, description=_SPLIT_HELP)


@strawberry.input
class RegradePersonInput(FactInput):
    person_id: strawberry.ID
    category: PersonnelCategory | None = None
    rank: str | None = None


@strawberry.input
class PersonLeavesInput(FactInput):
    """The person leaves the service on `effectiveOn` (and is not counted from that day)."""

    person_id: strawberry.ID


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
class DownsizePersonInput(FactInput):
    person_id: strawberry.ID
    policy: DownsizingPolicy
    monthly_salary: int | None = None
    insured_years: int | None = None
    affected_by_restructuring: bool = False
    months_to_retirement: int | None = strawberry.field(
        default=None, description="Months between leaving and the retirement age (early retirement; Decree 178 "
                                  "resignation).")
    months_since_reorganisation: int | None = strawberry.field(
        default=None, description="Months since the reorganisation decision (Decree 178: rates halve after 12).")


@strawberry.input(description="Retract a person or quota fact entered in error (reorganisations are refused).")
class RetractFactInput(RecordInput):
    fact_id: strawberry.ID
    reason: str
    split_parts: list[strawberry.ID] = strawberry.field(default_factory=list, description=_SPLIT_HELP)


#: command → its input type (the plan input has one field per entry, named like the mutation)
INPUTS: dict[type[c.Command], type] = {
    c.EstablishUnit: EstablishUnitInput, c.RenameUnit: RenameUnitInput, c.MoveUnit: MoveUnitInput,
    c.ChangeUnitModel: ChangeUnitModelInput, c.AdjustUnitFunctions: AdjustUnitFunctionsInput,
    c.MergeUnits: MergeUnitsInput, c.SplitUnit: SplitUnitInput, c.SeparateUnit: SeparateUnitInput,
    c.DissolveUnit: DissolveUnitInput, c.AssignQuota: AssignQuotaInput, c.TransferQuota: TransferQuotaInput,
    c.AllowExcess: AllowExcessInput, c.CreatePosition: CreatePositionInput, c.AbolishPosition: AbolishPositionInput,
    c.RecruitPerson: RecruitPersonInput, c.TransferPerson: TransferPersonInput, c.RegradePerson: RegradePersonInput,
    c.RetirePerson: RetirePersonInput, c.ResignPerson: ResignPersonInput, c.DismissPerson: DismissPersonInput,
    c.DownsizePerson: DownsizePersonInput, c.RetractFact: RetractFactInput,
    c.SetReductionTarget: SetReductionTargetInput,
}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def input_data(value: Any) -> dict[str, Any]:
    """An input object as plain data keyed by Python (snake_case) names, without ``request_key``."""
    data = _plain(value)
    data.pop("request_key", None)
    return data


def to_command(command: type[c.Command], value: Any, path: str = "") -> c.Command:
    """The command an input stands for (``InvalidInput`` names the field when a value is refused)."""
    return from_data(command, input_data(value), path)
