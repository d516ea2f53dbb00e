"""People and positions through the service: rosters and holders follow every movement."""

from __future__ import annotations

from datetime import date

import pytest

from staffing.application import (
    AbolishPosition,
    DismissPerson,
    DissolveUnit,
    DownsizePerson,
    PersonLeaves,
    RegradePerson,
    ResignPerson,
    RetirePerson,
    TransferPerson,
)
from staffing.bootstrap import Ledger
from staffing.domain.downsizing import DecreeVersion
from staffing.domain.errors import (
    InvalidInput,
    PersonNotActive,
    PositionUnavailable,
    UnitEnded,
    UnitNotEmpty,
)
from staffing.domain.values import PersonnelCategory, PersonStatus, PositionGroup
from tests.application.helpers import ids, last_position, person, position, unit
from tests.builders import an_act, create_position, establish, recruit

pytestmark = pytest.mark.usefixtures("write_side_only")
BACKENDS = ("memory",)  # the fast tier: handlers on the in-memory event store

LATER = date(2021, 6, 1)


# ====================================================================== positions
def test_created_position_is_open_in_its_unit(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)

    position_id = create_position(ledger.service, unit_id, title="Trưởng phòng", group="LEADERSHIP",
                                  rank="Chuyên viên chính")

    stored = position(ledger, position_id)
    assert (stored.title, stored.group, stored.rank, str(stored.unit_id)) == (
        "Trưởng phòng", PositionGroup.LEADERSHIP, "Chuyên viên chính", unit_id)
    assert ids(unit(ledger, unit_id).position_ids) == {position_id}


def test_position_cannot_be_created_in_a_dissolved_unit(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    ledger.service.execute(DissolveUnit(unit_id=unit_id, effective_on=LATER, act=an_act()))

    with pytest.raises(UnitEnded) as refused:
        create_position(ledger.service, unit_id, effective_on=date(2022, 1, 1))

    assert refused.value.field == "unitId"
    assert unit(ledger, unit_id).position_ids == set()


def test_abolished_position_is_closed_in_its_unit(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    position_id = create_position(ledger.service, unit_id)

    ledger.service.execute(AbolishPosition(position_id=position_id, effective_on=LATER, act=an_act()))

    assert not position(ledger, position_id).is_open
    assert unit(ledger, unit_id).position_ids == set()


def test_held_position_cannot_be_abolished(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    position_id = create_position(ledger.service, unit_id)
    recruit(ledger.service, unit_id, position_id=position_id)

    with pytest.raises(UnitNotEmpty) as refused:
        ledger.service.execute(AbolishPosition(position_id=position_id, effective_on=LATER, act=an_act()))

    assert refused.value.field == "positionId"
    assert position(ledger, position_id).is_open


# ====================================================================== recruit
def test_recruited_person_joins_the_units_roster_and_holds_the_position(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    position_id = create_position(ledger.service, unit_id, rank="Chuyên viên")

    person_id = recruit(ledger.service, unit_id, position_id=position_id, full_name="Đặng Thị Lụa")

    stored = person(ledger, person_id)
    assert (stored.full_name, stored.status, str(stored.placement.unit_id)) == (
        "Đặng Thị Lụa", PersonStatus.ACTIVE, unit_id)
    assert stored.placement["rank"] == "Chuyên viên"  # taken from the position when none is given
    assert ids(unit(ledger, unit_id).member_ids) == {person_id}
    assert ids(position(ledger, position_id).holder_ids) == {person_id}


def test_person_cannot_be_recruited_into_a_position_of_another_unit(ledger: Ledger) -> None:
    unit_id, other = establish(ledger.service), establish(ledger.service)
    position_id = create_position(ledger.service, other)
    before = last_position(ledger)

    with pytest.raises(PositionUnavailable) as refused:
        recruit(ledger.service, unit_id, position_id=position_id)

    assert refused.value.field == "positionId"
    assert last_position(ledger) == before



def test_person_cannot_be_recruited_into_a_dissolved_unit(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    ledger.service.execute(DissolveUnit(unit_id=unit_id, effective_on=LATER, act=an_act()))

    with pytest.raises(UnitEnded) as refused:
        recruit(ledger.service, unit_id, effective_on=date(2022, 1, 1))

    assert refused.value.field == "unitId"


# ====================================================================== transfer
def test_transferred_person_moves_between_rosters_and_positions(ledger: Ledger) -> None:
    home, away = establish(ledger.service), establish(ledger.service)
    old_post, new_post = create_position(ledger.service, home), create_position(ledger.service, away)
    person_id = recruit(ledger.service, home, position_id=old_post)

    ledger.service.execute(TransferPerson(person_id=person_id, to_unit_id=away, to_position_id=new_post, effective_on=LATER, act=an_act()))

    assert str(person(ledger, person_id).placement.unit_id) == away
    assert (unit(ledger, home).member_ids, ids(unit(ledger, away).member_ids)) == (set(), {person_id})
    assert (position(ledger, old_post).holder_ids, ids(position(ledger, new_post).holder_ids)) == (set(), {person_id})


def test_moving_to_another_position_in_the_same_unit_keeps_the_roster(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    first, second = create_position(ledger.service, unit_id), create_position(ledger.service, unit_id)
    person_id = recruit(ledger.service, unit_id, position_id=first)

    ledger.service.execute(TransferPerson(person_id=person_id, to_unit_id=unit_id, to_position_id=second, effective_on=LATER, act=an_act()))

    assert ids(unit(ledger, unit_id).member_ids) == {person_id}
    assert (position(ledger, first).holder_ids, ids(position(ledger, second).holder_ids)) == (set(), {person_id})


def test_person_cannot_be_transferred_into_a_dissolved_unit(ledger: Ledger) -> None:
    home, gone = establish(ledger.service), establish(ledger.service)
    ledger.service.execute(DissolveUnit(unit_id=gone, effective_on=LATER, act=an_act()))
    person_id = recruit(ledger.service, home)

    with pytest.raises(UnitEnded) as refused:
        ledger.service.execute(TransferPerson(person_id=person_id, to_unit_id=gone, effective_on=date(2022, 1, 1), act=an_act()))

    assert refused.value.field == "toUnitId"
    assert ids(unit(ledger, home).member_ids) == {person_id}



# ====================================================================== regrade
def test_regraded_person_has_the_new_category_and_rank(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    person_id = recruit(ledger.service, unit_id, category="PUBLIC_EMPLOYEE")

    result = ledger.service.execute(RegradePerson(person_id=person_id, category="CIVIL_SERVANT", rank="Chuyên viên chính", effective_on=LATER, act=an_act()))

    stored = person(ledger, person_id)
    assert (stored.category, stored.placement["rank"]) == (PersonnelCategory.CIVIL_SERVANT, "Chuyên viên chính")
    assert result.fact_id == f"{person_id}:{stored.version}"


def test_retired_person_cannot_be_regraded(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    person_id = recruit(ledger.service, unit_id)
    ledger.service.execute(RetirePerson(person_id=person_id, effective_on=LATER, act=an_act()))

    with pytest.raises(PersonNotActive) as refused:
        ledger.service.execute(RegradePerson(person_id=person_id, rank="Chuyên viên chính", effective_on=date(2022, 1, 1), act=an_act()))

    assert refused.value.field == "personId"


# ====================================================================== leaving
@pytest.mark.parametrize(("command", "status"), [(RetirePerson, PersonStatus.RETIRED),
                                                  (ResignPerson, PersonStatus.RESIGNED),
                                                  (DismissPerson, PersonStatus.DISMISSED)])
def test_person_who_leaves_is_off_the_roster_and_frees_the_position(
    ledger: Ledger, command: type[PersonLeaves], status: PersonStatus
) -> None:
    unit_id = establish(ledger.service)
    position_id = create_position(ledger.service, unit_id)
    person_id = recruit(ledger.service, unit_id, position_id=position_id)

    ledger.service.execute(command(person_id=person_id, effective_on=LATER, act=an_act()))

    assert person(ledger, person_id).status is status
    assert unit(ledger, unit_id).member_ids == set()
    assert position(ledger, position_id).holder_ids == set()


def test_person_who_has_resigned_cannot_be_retired(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    person_id = recruit(ledger.service, unit_id)
    ledger.service.execute(ResignPerson(person_id=person_id, effective_on=LATER, act=an_act()))
    before = last_position(ledger)

    with pytest.raises(PersonNotActive):
        ledger.service.execute(RetirePerson(person_id=person_id, effective_on=date(2022, 1, 1), act=an_act()))

    assert person(ledger, person_id).status is PersonStatus.RESIGNED
    assert last_position(ledger) == before


def test_downsized_person_leaves_the_roster_under_the_decree_in_force(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    person_id = recruit(ledger.service, unit_id)

    result = ledger.service.execute(DownsizePerson(person_id=person_id, policy="RESIGNATION", monthly_salary=10_705_500, insured_years=15, affected_by_restructuring=True, effective_on=date(2025, 8, 1), act=an_act(signed_on=date(2025, 7, 20))))

    assert result.decree == DecreeVersion.D178_2024_67_2025.value
    assert person(ledger, person_id).status is PersonStatus.DOWNSIZED
    assert unit(ledger, unit_id).member_ids == set()


def test_downsizing_with_an_unknown_policy_is_refused(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    person_id = recruit(ledger.service, unit_id)

    with pytest.raises(InvalidInput) as refused:
        ledger.service.execute(DownsizePerson(person_id=person_id, policy="SABBATICAL", effective_on=LATER, act=an_act()))

    assert refused.value.field == "policy"
    assert person(ledger, person_id).status is PersonStatus.ACTIVE
