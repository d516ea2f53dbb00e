"""The write side's vocabulary: one frozen command per use case.

A command is data: it can be built by a Python caller, from a GraphQL input, or from a line of an
import file, and it is the same command either way. Its name (``assignQuota``) is the mutation's
name; its fingerprint (for request keys) is a hash of its name and its coerced fields.
Each has exactly one handler (``staffing.application.handlers``).

Creating commands take an optional client-chosen ``id`` for what they create, so that a plan or an
import file can refer to a unit, position or person created earlier in it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import ClassVar
from uuid import UUID

import orjson

from staffing.application.values import Value
from staffing.domain.values import (
    DownsizingPolicy,
    FinancialAutonomy,
    Gender,
    LegalAct,
    PersonnelCategory,
    PersonStatus,
    PositionGroup,
    QuotaKind,
    UnitKind,
)

__all__ = [
    "AbolishPosition", "AdjustUnitFunctions", "AllowExcess", "AssignQuota", "ChangeUnitModel", "Command",
    "CreatePosition", "DismissPerson", "DissolveUnit", "DownsizePerson", "EstablishUnit", "MergeUnits", "MoveUnit",
    "NewUnit", "PersonLeaves", "QuotaFigure", "RecruitPerson", "RegradePerson", "RenameUnit", "ResignPerson",
    "RetirePerson", "RetractFact", "SeparateUnit", "SetReductionTarget", "SplitPart", "SplitUnit", "TransferPerson",
    "TransferQuota",
]



@dataclass(frozen=True, kw_only=True)
class Command(Value):
    """Every command is a dated fact (or a correction) with its legal basis."""

    act: LegalAct

    @classmethod
    def command_name(cls) -> str:
        """The command's name in the API and in import files: the mutation's name."""
        return cls.__name__[:1].lower() + cls.__name__[1:]

    def fingerprint(self) -> str:
        """Same name and same (coerced) fields → same fingerprint, however the input was spelt."""
        body = orjson.dumps([self.command_name(), self], option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, kw_only=True)
class Fact(Command):
    effective_on: date


# ---------------------------------------------------------------------- specs
@dataclass(frozen=True, kw_only=True)
class NewUnit(Value):
    code: str
    name: str
    kind: UnitKind
    parent_id: UUID | None = None
    autonomy: FinancialAutonomy | None = None
    id: UUID | None = None


@dataclass(frozen=True, kw_only=True)
class QuotaFigure(Value):
    category: PersonnelCategory
    kind: QuotaKind
    amount: int


@dataclass(frozen=True, kw_only=True)
class SplitPart(Value):
    """One new unit of a split (chia) or separation (tách), with what is allocated to it."""

    unit: NewUnit
    person_ids: tuple[UUID, ...] = ()
    position_ids: tuple[UUID, ...] = ()
    child_unit_ids: tuple[UUID, ...] = ()
    quota: tuple[QuotaFigure, ...] = ()
    #: takes every person, position and child unit no other part takes (one part of a split at most)
    rest: bool = False


# ---------------------------------------------------------------------- units
@dataclass(frozen=True, kw_only=True)
class EstablishUnit(Fact):
    """Thành lập."""

    code: str
    name: str
    kind: UnitKind
    parent_id: UUID | None = None
    autonomy: FinancialAutonomy | None = None
    id: UUID | None = None


@dataclass(frozen=True, kw_only=True)
class RenameUnit(Fact):
    """Đổi tên (and optionally a new code)."""

    unit_id: UUID
    name: str
    code: str | None = None


@dataclass(frozen=True, kw_only=True)
class MoveUnit(Fact):
    unit_id: UUID
    new_parent_id: UUID | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeUnitModel(Fact):
    """Chuyển đổi mô hình: same unit, new kind or autonomy class."""

    unit_id: UUID
    kind: UnitKind
    autonomy: FinancialAutonomy | None = None


@dataclass(frozen=True, kw_only=True)
class AdjustUnitFunctions(Fact):
    """Điều chỉnh chức năng."""

    unit_id: UUID
    functions: str


@dataclass(frozen=True, kw_only=True)
class MergeUnits(Fact):
    """Sáp nhập (``into_unit_id``) or hợp nhất (``new_unit``)."""

    source_unit_ids: tuple[UUID, ...]
    into_unit_id: UUID | None = None
    new_unit: NewUnit | None = None
    excess_allowed_until: date | None = None


@dataclass(frozen=True, kw_only=True)
class SplitUnit(Fact):
    """Chia: the original ends; everything it holds is allocated to the parts."""

    unit_id: UUID
    parts: tuple[SplitPart, ...]


@dataclass(frozen=True, kw_only=True)
class SeparateUnit(Fact):
    """Tách: the original continues; the new unit takes what is allocated to it."""

    unit_id: UUID
    part: SplitPart


@dataclass(frozen=True, kw_only=True)
class DissolveUnit(Fact):
    """Giải thể."""

    unit_id: UUID


# ---------------------------------------------------------------------- quota
@dataclass(frozen=True, kw_only=True)
class AssignQuota(Fact):
    """Giao biên chế: the figure of (unit, category, kind) from the effective date."""

    unit_id: UUID
    category: PersonnelCategory
    kind: QuotaKind
    amount: int


@dataclass(frozen=True, kw_only=True)
class TransferQuota(Fact):
    from_unit_id: UUID
    to_unit_id: UUID
    category: PersonnelCategory
    kind: QuotaKind
    amount: int


@dataclass(frozen=True, kw_only=True)
class AllowExcess(Fact):
    """The unit may exceed its quota until ``until`` (the post-merger rule)."""

    unit_id: UUID
    until: date
    reason: str


@dataclass(frozen=True, kw_only=True)
class SetReductionTarget(Fact):
    """A reduction target for a subtree: ``percent`` fewer posts by ``due_on`` than on ``baseline_on``."""

    unit_id: UUID
    percent: int
    baseline_on: date
    due_on: date
    category: PersonnelCategory | None = None  # None: every category together


# ---------------------------------------------------------------------- positions
@dataclass(frozen=True, kw_only=True)
class CreatePosition(Fact):
    """Vị trí việc làm."""

    unit_id: UUID
    title: str
    group: PositionGroup
    rank: str
    id: UUID | None = None
    split_parts: tuple[UUID, ...] = ()  # for a late creation: the part of each later split it went to


@dataclass(frozen=True, kw_only=True)
class AbolishPosition(Fact):
    position_id: UUID


# ---------------------------------------------------------------------- people
@dataclass(frozen=True, kw_only=True)
class RecruitPerson(Fact):
    full_name: str
    birth_date: date
    gender: Gender
    category: PersonnelCategory
    unit_id: UUID
    position_id: UUID | None = None
    rank: str | None = None
    id: UUID | None = None
    split_parts: tuple[UUID, ...] = ()  # for a late fact: the part of each later split the person went to


@dataclass(frozen=True, kw_only=True)
class TransferPerson(Fact):
    """Điều động, luân chuyển."""

    person_id: UUID
    to_unit_id: UUID
    to_position_id: UUID | None = None
    split_parts: tuple[UUID, ...] = ()  # for a late fact: the part of each later split the person went to


@dataclass(frozen=True, kw_only=True)
class RegradePerson(Fact):
    """Ngạch/hạng or category."""

    person_id: UUID
    category: PersonnelCategory | None = None
    rank: str | None = None


@dataclass(frozen=True, kw_only=True)
class PersonLeaves(Fact):
    """The person leaves the service on the effective date (and is not counted from that day)."""

    status: ClassVar[PersonStatus]
    person_id: UUID


@dataclass(frozen=True, kw_only=True)
class RetirePerson(PersonLeaves):
    """Nghỉ hưu."""

    status = PersonStatus.RETIRED


@dataclass(frozen=True, kw_only=True)
class ResignPerson(PersonLeaves):
    """Thôi việc."""

    status = PersonStatus.RESIGNED


@dataclass(frozen=True, kw_only=True)
class DismissPerson(PersonLeaves):
    """Buộc thôi việc."""

    status = PersonStatus.DISMISSED


@dataclass(frozen=True, kw_only=True)
class DownsizePerson(Fact):
    """Tinh giản biên chế; the decree version in force on the act's signing date applies."""

    person_id: UUID
    policy: DownsizingPolicy
    monthly_salary: int | None = None
    insured_years: int | None = None
    affected_by_restructuring: bool = False
    months_to_retirement: int | None = None  # early retirement, and Decree 178 resignation
    months_since_reorganisation: int | None = None  # Decree 178: the rate halves after 12 months


# ---------------------------------------------------------------------- corrections
@dataclass(frozen=True, kw_only=True)
class RetractFact(Command):
    """A person or quota fact entered in error stops counting from now on (never deleted)."""

    fact_id: str
    reason: str
    split_parts: tuple[UUID, ...] = ()  # if the person is now in a unit split later: the part they went to

