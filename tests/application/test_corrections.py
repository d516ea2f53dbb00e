"""Retracting a fact entered in error (person and quota facts); reorganisations are reversed by new acts."""

from __future__ import annotations

from datetime import date

import pytest

from staffing.application import (
    DissolveUnit,
    MergeUnits,
    NewUnit,
    RegradePerson,
    RetirePerson,
    RetractFact,
    TransferPerson,
)
from staffing.bootstrap import Ledger
from staffing.domain.errors import InvalidInput, NotRetractable, UnitEnded
from staffing.domain.person import Person
from staffing.domain.values import PersonnelCategory, PersonStatus, QuotaKind, UnitKind
from tests.application.helpers import events, ids, last_position, person, position, quota, unit
from tests.builders import an_act, assign_quota, create_position, establish, recruit

pytestmark = pytest.mark.usefixtures("write_side_only")
BACKENDS = ("memory",)  # the fast tier: handlers on the in-memory event store

LATER = date(2021, 6, 1)
CORRECTION = an_act("15/QĐ-UBND", date(2022, 2, 1))


def test_retracting_a_transfer_puts_the_person_back_on_the_first_units_roster(ledger: Ledger) -> None:
    home, away = establish(ledger.service), establish(ledger.service)
    person_id = recruit(ledger.service, home)
    transfer = ledger.service.execute(TransferPerson(person_id=person_id, to_unit_id=away, effective_on=LATER, act=an_act()))

    result = ledger.service.execute(RetractFact(fact_id=transfer.fact_id, reason="nhập nhầm đơn vị", act=CORRECTION))

    assert str(person(ledger, person_id).placement.unit_id) == home
    assert (ids(unit(ledger, home).member_ids), unit(ledger, away).member_ids) == ({person_id}, set())
    retraction = events(ledger, person_id)[-1]
    assert isinstance(retraction, Person.FactRetracted)
    assert (retraction.act, retraction.reason) == (CORRECTION, "nhập nhầm đơn vị")
    assert result.fact_id == f"{person_id}:{retraction.originator_version}"


def test_retracting_a_transfer_behind_a_later_regrade_still_puts_the_person_back(ledger: Ledger) -> None:
    home, away = establish(ledger.service), establish(ledger.service)
    person_id = recruit(ledger.service, home)
    transfer = ledger.service.execute(TransferPerson(person_id=person_id, to_unit_id=away, effective_on=LATER, act=an_act()))
    ledger.service.execute(RegradePerson(person_id=person_id, rank="Chuyên viên chính", effective_on=date(2022, 1, 1), act=an_act()))

    ledger.service.execute(RetractFact(fact_id=transfer.fact_id, reason="nhập nhầm đơn vị", act=CORRECTION))

    assert (ids(unit(ledger, home).member_ids), unit(ledger, away).member_ids) == ({person_id}, set())
    assert person(ledger, person_id).placement["rank"] == "Chuyên viên chính"


def test_retracting_a_recruitment_takes_the_person_off_the_roster_and_frees_the_position(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    position_id = create_position(ledger.service, unit_id)
    person_id = recruit(ledger.service, unit_id, position_id=position_id)

    ledger.service.execute(RetractFact(fact_id=f"{person_id}:1", reason="tuyển dụng nhập trùng", act=CORRECTION))

    assert person(ledger, person_id).status is PersonStatus.VOID
    assert unit(ledger, unit_id).member_ids == set()
    assert position(ledger, position_id).holder_ids == set()


def test_retracting_a_departure_is_refused_once_the_unit_has_been_dissolved(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    person_id = recruit(ledger.service, unit_id)
    retirement = ledger.service.execute(RetirePerson(person_id=person_id, effective_on=LATER, act=an_act()))
    ledger.service.execute(DissolveUnit(unit_id=unit_id, effective_on=date(2022, 1, 1), act=an_act()))
    before = last_position(ledger)

    with pytest.raises(UnitEnded) as refused:
        ledger.service.execute(RetractFact(fact_id=retirement.fact_id, reason="chưa nghỉ hưu", act=CORRECTION))

    assert refused.value.field == "factId"
    assert last_position(ledger) == before
    assert person(ledger, person_id).status is PersonStatus.RETIRED


def test_retracting_a_quota_figure_restores_the_previous_figure(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    assign_quota(ledger.service, unit_id, 40)
    wrong = assign_quota(ledger.service, unit_id, 400, effective_on=LATER)

    ledger.service.execute(RetractFact(fact_id=wrong, reason="thừa một số 0", act=CORRECTION))

    assert quota(ledger, unit_id).current(PersonnelCategory.CIVIL_SERVANT, QuotaKind.ASSIGNED) == 40


@pytest.mark.parametrize("fact", ["reorganisation", "position"])
def test_reorganisations_and_position_facts_are_not_retractable(ledger: Ledger, fact: str) -> None:
    unit_id = establish(ledger.service)
    if fact == "reorganisation":
        absorbed = establish(ledger.service)
        fact_id = ledger.service.execute(MergeUnits(source_unit_ids=[absorbed], into_unit_id=unit_id,
                                                    effective_on=LATER, act=an_act())).fact_id
    else:
        fact_id = f"{create_position(ledger.service, unit_id)}:1"
    before = last_position(ledger)

    with pytest.raises(NotRetractable) as refused:
        ledger.service.execute(RetractFact(fact_id=fact_id, reason="nhập nhầm", act=CORRECTION))

    assert (refused.value.code, refused.value.field) == ("NOT_RETRACTABLE", "factId")
    assert last_position(ledger) == before


def test_moves_and_quota_made_by_a_reorganisation_are_not_retractable(ledger: Ledger) -> None:
    a, b = establish(ledger.service, kind="COMMUNE"), establish(ledger.service, kind="COMMUNE")
    person_id = recruit(ledger.service, a)
    assign_quota(ledger.service, a, 5)
    merged = ledger.service.execute(MergeUnits(source_unit_ids=[a, b], effective_on=LATER, act=an_act(), new_unit=NewUnit(code="X-NEW", name="Xã mới", kind=UnitKind.COMMUNE)))
    moved = f"{person_id}:{person(ledger, person_id).version}"
    quota_fact = f"{quota(ledger, merged.unit_id).id}:{quota(ledger, merged.unit_id).version}"

    for fact_id in (moved, quota_fact):
        with pytest.raises(NotRetractable):
            ledger.service.execute(RetractFact(fact_id=fact_id, reason="nhập nhầm", act=CORRECTION))

    assert str(person(ledger, person_id).placement.unit_id) == merged.unit_id


def test_malformed_fact_id_is_refused(ledger: Ledger) -> None:
    with pytest.raises(InvalidInput) as refused:
        ledger.service.execute(RetractFact(fact_id="not-a-fact", reason="nhập nhầm", act=CORRECTION))

    assert refused.value.field == "factId"
