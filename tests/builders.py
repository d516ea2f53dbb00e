"""Data builders with defaults: a test names only what its behaviour depends on.

Two families:

- *aggregate builders* (``a_unit``, ``a_person``, ``a_position``, ``a_quota_ledger``) call the
  domain's own commands with a fixed recording moment and return the aggregate with its
  ``given`` events already collected, so ``collect_events()`` afterwards yields only the events
  of the command under test;
- *service builders* (``establish``, ``recruit``, ``create_position``, ``assign_quota``,
  ``establish_province``) go through ``StaffingService``, the one write path, and return ids.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from staffing.application import (
    AssignQuota,
    CreatePosition,
    EstablishUnit,
    RecruitPerson,
    StaffingService,
    TransferPerson,
)
from staffing.domain.person import Person
from staffing.domain.position import Position
from staffing.domain.quota import StaffingQuota
from staffing.domain.unit import Unit
from staffing.domain.values import (
    ChangeKind,
    FinancialAutonomy,
    Gender,
    LegalAct,
    PersonnelCategory,
    PositionGroup,
    QuotaKind,
    UnitKind,
)

__all__ = [
    "AT",
    "START",
    "Province",
    "a_person",
    "a_position",
    "a_quota_ledger",
    "a_unit",
    "an_act",
    "assign_quota",
    "create_position",
    "establish",
    "establish_province",
    "recruit",
    "the_event",
]

#: the recording moment passed to domain commands (the application passes its clock's reading)
AT = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
#: the default effective date of the "given" facts
START = date(2020, 1, 1)

_codes = itertools.count(1)


def _next_code(prefix: str = "U") -> str:
    return f"{prefix}{next(_codes):05d}"


def an_act(number: str = "01/QĐ-UBND", signed_on: date = START, issuer: str = "UBND tỉnh Tuyên Quang") -> LegalAct:
    return LegalAct(number, issuer, signed_on)


E = TypeVar("E")


def the_event(aggregate: Aggregate, kind: type[E]) -> E:
    """Then: the command recorded exactly one (new) event on ``aggregate``, of type ``kind``."""
    events = aggregate.collect_events()
    assert len(events) == 1, f"expected one {kind.__name__}, got {[type(e).__name__ for e in events]}"
    (event,) = events
    assert isinstance(event, kind), f"expected {kind.__name__}, got {type(event).__name__}"
    return event


# ====================================================================== aggregate builders (pure)
def a_unit(
    *,
    parent: Unit | None = None,
    kind: UnitKind = UnitKind.PROVINCE,
    autonomy: FinancialAutonomy | None = None,
    code: str | None = None,
    name: str = "Tỉnh Tuyên Quang",
    effective_on: date = START,
    unit_id: UUID | None = None,
) -> Unit:
    """An established unit whose own and whose parent's pending events have been collected."""
    unit = Unit.establish(
        unit_id=unit_id or uuid4(), code=code or _next_code(), name=name, kind=kind, autonomy=autonomy,
        parent=parent, change=ChangeKind.ESTABLISH, predecessor_ids=[], effective_on=effective_on,
        act=an_act(), at=AT,
    )
    unit.collect_events()
    if parent is not None:
        parent.collect_events()
    return unit


def a_person(
    *,
    unit_id: UUID | None = None,
    position_id: UUID | None = None,
    full_name: str = "Nguyễn Thị Hoa",
    birth_date: date = date(1985, 5, 17),
    gender: Gender = Gender.FEMALE,
    category: PersonnelCategory = PersonnelCategory.CIVIL_SERVANT,
    rank: str = "Chuyên viên",
    effective_on: date = START,
) -> Person:
    person = Person.recruit(
        person_id=uuid4(), full_name=full_name, birth_date=birth_date, gender=gender, category=category,
        rank=rank, unit_id=unit_id or uuid4(), position_id=position_id, effective_on=effective_on,
        act=an_act(), at=AT,
    )
    person.collect_events()
    return person


def a_position(
    *,
    unit_id: UUID | None = None,
    title: str = "Chuyên viên tổ chức cán bộ",
    group: PositionGroup = PositionGroup.SECTOR_PROFESSIONAL,
    rank: str = "Chuyên viên",
    effective_on: date = START,
) -> Position:
    position = Position.create(
        position_id=uuid4(), unit_id=unit_id or uuid4(), title=title, group=group, rank=rank,
        effective_on=effective_on, act=an_act(), at=AT,
    )
    position.collect_events()
    return position


def a_quota_ledger(*, unit_id: UUID | None = None, effective_on: date = START) -> StaffingQuota:
    ledger = StaffingQuota.open(unit_id=unit_id or uuid4(), effective_on=effective_on, act=an_act(), at=AT)
    ledger.collect_events()
    return ledger


# ====================================================================== service builders
def establish(
    service: StaffingService,
    *,
    parent_id: str | None = None,
    kind: UnitKind | str = UnitKind.PROVINCE,
    code: str | None = None,
    name: str | None = None,
    effective_on: date = START,
    autonomy: FinancialAutonomy | str | None = None,
) -> str:
    code = code or _next_code()
    result = service.execute(EstablishUnit(code=code, name=name or f"Đơn vị {code}", kind=kind, parent_id=parent_id, effective_on=effective_on, act=an_act(), autonomy=autonomy))
    return str(result.unit_id)


def create_position(
    service: StaffingService,
    unit_id: str,
    *,
    title: str = "Chuyên viên văn phòng",
    group: PositionGroup | str = PositionGroup.COMMON_PROFESSIONAL,
    rank: str = "Chuyên viên",
    effective_on: date = START,
) -> str:
    result = service.execute(CreatePosition(unit_id=unit_id, title=title, group=group, rank=rank, effective_on=effective_on, act=an_act()))
    return str(result.position_id)


def recruit(
    service: StaffingService,
    unit_id: str,
    *,
    position_id: str | None = None,
    full_name: str = "Trần Văn Minh",
    birth_date: date = date(1980, 3, 2),
    gender: Gender | str = Gender.MALE,
    category: PersonnelCategory | str = PersonnelCategory.CIVIL_SERVANT,
    effective_on: date = START,
    act: LegalAct | None = None,
) -> str:
    result = service.execute(RecruitPerson(full_name=full_name, birth_date=birth_date, gender=gender, category=category, unit_id=unit_id, position_id=position_id, effective_on=effective_on, act=act or an_act()))
    return str(result.person_id)


def transfer(service: StaffingService, person_id: str, to_unit_id: str, effective_on: date,
             position_id: str | None = None) -> str:
    """Move someone on ``effective_on`` under an act signed then (or on 01/12/2025 for later dates, so
    that a move dated in the future stays recordable); returns the fact's id."""
    result = service.execute(TransferPerson(person_id=person_id, to_unit_id=to_unit_id, to_position_id=position_id,  # type: ignore[arg-type]
                                            effective_on=effective_on,
                                            act=an_act(signed_on=min(effective_on, date(2025, 12, 1)))))
    return str(result.fact_id)


def assign_quota(
    service: StaffingService,
    unit_id: str,
    amount: int,
    *,
    category: PersonnelCategory | str = PersonnelCategory.CIVIL_SERVANT,
    kind: QuotaKind | str = QuotaKind.ASSIGNED,
    effective_on: date = START,
) -> str:
    result = service.execute(AssignQuota(unit_id=unit_id, category=category, kind=kind, amount=amount, effective_on=effective_on, act=an_act()))
    return str(result.fact_id)


@dataclass
class Commune:
    id: str
    position_ids: list[str] = field(default_factory=list)
    person_ids: list[str] = field(default_factory=list)


@dataclass
class Province:
    id: str
    communes: list[Commune]

    @property
    def commune_ids(self) -> list[str]:
        return [c.id for c in self.communes]


def establish_province(
    service: StaffingService,
    *,
    communes: int = 2,
    positions_per_commune: int = 1,
    people_per_commune: int = 1,
    quota_per_commune: int | None = 5,
    effective_on: date = START,
    **unit: Any,
) -> Province:
    """A province with communes; each commune's first people hold its positions, the rest hold none."""
    province_id = establish(service, kind=UnitKind.PROVINCE, effective_on=effective_on, **unit)
    built = []
    for _ in range(communes):
        commune = Commune(establish(service, parent_id=province_id, kind=UnitKind.COMMUNE, effective_on=effective_on))
        commune.position_ids = [create_position(service, commune.id, effective_on=effective_on)
                                for _ in range(positions_per_commune)]
        for i in range(people_per_commune):
            position = commune.position_ids[i] if i < len(commune.position_ids) else None
            commune.person_ids.append(recruit(service, commune.id, position_id=position, effective_on=effective_on))
        if quota_per_commune is not None:
            assign_quota(service, commune.id, quota_per_commune, effective_on=effective_on)
        built.append(commune)
    return Province(province_id, built)
