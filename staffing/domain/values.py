"""Value objects and enumerations shared by every aggregate.

Enum values are the stored names (they appear in events), so they are English and stable;
Vietnamese labels live in ``LABELS_VI`` for user-facing output only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar

from staffing.domain.errors import InvalidInput

__all__ = [
    "ChangeKind",
    "DownsizingPolicy",
    "Gender",
    "LegalAct",
    "PersonStatus",
    "PersonnelCategory",
    "PositionGroup",
    "QuotaKind",
    "UnitKind",
    "UnitStatus",
    "FinancialAutonomy",
    "parse_enum",
]


class UnitKind(StrEnum):
    MINISTRY = "MINISTRY"
    MINISTRY_LEVEL_AGENCY = "MINISTRY_LEVEL_AGENCY"
    GOVERNMENT_AGENCY = "GOVERNMENT_AGENCY"
    GENERAL_DEPARTMENT = "GENERAL_DEPARTMENT"
    BUREAU = "BUREAU"
    DEPARTMENT = "DEPARTMENT"
    OFFICE = "OFFICE"
    INSPECTORATE = "INSPECTORATE"
    DIVISION = "DIVISION"
    PROVINCE = "PROVINCE"
    PROVINCIAL_DEPARTMENT = "PROVINCIAL_DEPARTMENT"
    SUB_DEPARTMENT = "SUB_DEPARTMENT"
    DISTRICT = "DISTRICT"
    COMMUNE = "COMMUNE"
    WARD = "WARD"
    SPECIAL_ZONE = "SPECIAL_ZONE"
    PUBLIC_SERVICE_UNIT = "PUBLIC_SERVICE_UNIT"


class FinancialAutonomy(StrEnum):
    """Financial-autonomy class of a public service unit (Decree 60/2021)."""

    SELF_FUNDED_RECURRENT_AND_INVESTMENT = "SELF_FUNDED_RECURRENT_AND_INVESTMENT"
    SELF_FUNDED_RECURRENT = "SELF_FUNDED_RECURRENT"
    PARTLY_BUDGET_FUNDED = "PARTLY_BUDGET_FUNDED"
    FULLY_BUDGET_FUNDED = "FULLY_BUDGET_FUNDED"


class UnitStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"


class ChangeKind(StrEnum):
    """Kinds of organisational change (DOMAIN.md, 'Kinds of organisational change')."""

    ESTABLISH = "ESTABLISH"  # thành lập
    ABSORB = "ABSORB"  # sáp nhập: sources end, the receiving unit continues
    CONSOLIDATE = "CONSOLIDATE"  # hợp nhất: all predecessors end, a new unit starts
    SPLIT = "SPLIT"  # chia: the original ends, new units start
    SEPARATE = "SEPARATE"  # tách: the original continues, a new unit starts
    DISSOLVE = "DISSOLVE"  # giải thể


class PersonnelCategory(StrEnum):
    CADRE = "CADRE"  # cán bộ
    CIVIL_SERVANT = "CIVIL_SERVANT"  # công chức
    PUBLIC_EMPLOYEE = "PUBLIC_EMPLOYEE"  # viên chức
    CONTRACT_WORKER = "CONTRACT_WORKER"  # hợp đồng lao động


class QuotaKind(StrEnum):
    ASSIGNED = "ASSIGNED"  # giao
    TEMPORARY = "TEMPORARY"  # tạm giao
    SUPPLEMENTARY = "SUPPLEMENTARY"  # giao bổ sung


class PositionGroup(StrEnum):
    LEADERSHIP = "LEADERSHIP"
    SECTOR_PROFESSIONAL = "SECTOR_PROFESSIONAL"
    COMMON_PROFESSIONAL = "COMMON_PROFESSIONAL"
    SUPPORT = "SUPPORT"


class Gender(StrEnum):
    FEMALE = "FEMALE"
    MALE = "MALE"


class DownsizingPolicy(StrEnum):
    EARLY_RETIREMENT = "EARLY_RETIREMENT"
    RESIGNATION = "RESIGNATION"
    TRANSFER_OUTSIDE_BUDGET = "TRANSFER_OUTSIDE_BUDGET"


class PersonStatus(StrEnum):
    """Where a person stands; only ACTIVE people count as present (biên chế có mặt)."""

    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"
    RESIGNED = "RESIGNED"
    DISMISSED = "DISMISSED"
    DOWNSIZED = "DOWNSIZED"
    VOID = "VOID"  # the recruitment itself was retracted as entered in error


LABELS_VI: dict[str, str] = {
    PersonnelCategory.CADRE: "Cán bộ",
    PersonnelCategory.CIVIL_SERVANT: "Công chức",
    PersonnelCategory.PUBLIC_EMPLOYEE: "Viên chức",
    PersonnelCategory.CONTRACT_WORKER: "Hợp đồng lao động",
    QuotaKind.ASSIGNED: "Giao",
    QuotaKind.TEMPORARY: "Tạm giao",
    QuotaKind.SUPPLEMENTARY: "Giao bổ sung",
}


E = TypeVar("E", bound=StrEnum)


def parse_enum(enum: type[E], value: str | E, field: str) -> E:
    """Turn user input into an enum member or raise a typed error naming the allowed values."""
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise InvalidInput(field, f"unknown value {value!r}; expected one of: {allowed}") from None


@dataclass(frozen=True)
class LegalAct:
    """The legal basis of a fact: act number, issuing body and signing (decision) date."""

    number: str
    issuer: str
    signed_on: date

    def __post_init__(self) -> None:
        if not self.number.strip():
            raise InvalidInput("act.number", "the legal act number must not be empty, e.g. '1234/QĐ-UBND'")
        if not self.issuer.strip():
            raise InvalidInput("act.issuer", "the issuing body must not be empty, e.g. 'UBND tỉnh Tuyên Quang'")
        if not isinstance(self.signed_on, date):
            raise InvalidInput("act.signedOn", "the signing date must be a date")

    def as_dict(self) -> dict[str, str]:
        return {"number": self.number, "issuer": self.issuer, "signed_on": self.signed_on.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> LegalAct:
        return cls(data["number"], data["issuer"], date.fromisoformat(data["signed_on"]))


class OverQuota(StrEnum):
    """How a unit over its quota stands on a date (issue 11)."""

    WITHIN_EXCEPTION = "WITHIN_EXCEPTION"  # a post-merger exception runs on the date
    EXCEPTION_EXPIRED = "EXCEPTION_EXPIRED"  # it had one; the deadline has passed: the surplus must go
    NO_EXCEPTION = "NO_EXCEPTION"  # over quota with no exception at all


def over_quota(surplus: int, deadline: date | None, as_of: date) -> OverQuota | None:
    """The flag of a unit with ``surplus`` people over quota on ``as_of`` (None: not over quota)."""
    if surplus <= 0:
        return None
    if deadline is None:
        return OverQuota.NO_EXCEPTION
    return OverQuota.WITHIN_EXCEPTION if deadline >= as_of else OverQuota.EXCEPTION_EXPIRED
