"""Person: recruit, transfer, regrade, leave, downsize and retract a fact entered in error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import uuid4

import pytest

from staffing.domain.downsizing import DecreeVersion
from staffing.domain.errors import (
    EffectiveBeforeStart,
    InvalidInput,
    NotFound,
    NotRetractable,
    OutOfOrderFact,
    PersonNotActive,
    RuleViolation,
)
from staffing.domain.person import Person
from staffing.domain.values import DownsizingPolicy, Gender, PersonnelCategory, PersonStatus
from tests.builders import AT, START, a_person, an_act, the_event

LATER = date(2021, 6, 1)


def recruit(birth_date: date, effective_on: date = START) -> Person:
    return Person.recruit(person_id=uuid4(), full_name="Lê Văn Tám", birth_date=birth_date, gender=Gender.MALE,
                          category=PersonnelCategory.CIVIL_SERVANT, rank="Cán sự", unit_id=uuid4(), position_id=None,
                          effective_on=effective_on, act=an_act(), at=AT)


def transferred(person: Person, on: date = LATER, by_reorganisation: bool = False) -> Person:
    person.transfer(unit_id=uuid4(), position_id=None, by_reorganisation=by_reorganisation, effective_on=on,
                    act=an_act(), at=AT)
    person.collect_events()
    return person


# ====================================================================== recruit
def test_recruiting_a_person_records_who_they_are_and_where_they_work() -> None:
    unit_id, position_id, person_id = uuid4(), uuid4(), uuid4()

    person = Person.recruit(person_id=person_id, full_name="  Nguyễn Thị Hoa ", birth_date=date(1990, 2, 1),
                            gender=Gender.FEMALE, category=PersonnelCategory.PUBLIC_EMPLOYEE, rank="Hạng III",
                            unit_id=unit_id, position_id=position_id, effective_on=START, act=an_act(), at=AT)

    event = the_event(person, Person.Recruited)
    assert (event.originator_id, event.full_name, event.birth_date, event.gender) == (
        person_id, "Nguyễn Thị Hoa", date(1990, 2, 1), "FEMALE")
    assert (event.category, event.rank, event.unit_id, event.position_id, event.effective_on) == (
        "PUBLIC_EMPLOYEE", "Hạng III", unit_id, position_id, START)
    assert (person.status, person.placement.unit_id, person.placement.position_id) == (
        PersonStatus.ACTIVE, unit_id, position_id)


def test_person_under_eighteen_on_the_effective_date_cannot_be_recruited() -> None:
    with pytest.raises(InvalidInput) as refused:
        recruit(birth_date=date(2002, 1, 2), effective_on=date(2020, 1, 1))

    assert (refused.value.code, refused.value.field) == ("INVALID_INPUT", "birthDate")


def test_person_who_turns_eighteen_on_the_effective_date_can_be_recruited() -> None:
    person = recruit(birth_date=date(2002, 1, 1), effective_on=date(2020, 1, 1))

    assert [type(e) for e in person.collect_events()] == [Person.Recruited]


def test_implausible_birth_date_over_eighty_years_before_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        recruit(birth_date=date(1930, 1, 1), effective_on=date(2020, 1, 1))

    assert refused.value.field == "birthDate"


def test_person_without_a_name_cannot_be_recruited() -> None:
    with pytest.raises(InvalidInput) as refused:
        a_person(full_name="   ")

    assert refused.value.field == "fullName"


# ====================================================================== transfer
def test_transferring_a_person_records_the_new_unit_and_position() -> None:
    person = a_person()
    new_unit, new_position = uuid4(), uuid4()

    person.transfer(unit_id=new_unit, position_id=new_position, by_reorganisation=False, effective_on=LATER,
                    act=an_act(), at=AT)

    event = the_event(person, Person.Transferred)
    assert (event.unit_id, event.position_id, event.by_reorganisation) == (new_unit, new_position, False)
    assert (person.placement.unit_id, person.placement.position_id) == (new_unit, new_position)
    assert person.facts[-1]["cause"] == "TRANSFERRED"


def test_transfer_to_the_assignment_the_person_already_holds_is_refused() -> None:
    unit_id = uuid4()
    person = a_person(unit_id=unit_id)

    with pytest.raises(InvalidInput) as refused:
        person.transfer(unit_id=unit_id, position_id=None, by_reorganisation=False, effective_on=LATER,
                        act=an_act(), at=AT)

    assert refused.value.field == "toUnitId"


def test_a_transfer_dated_before_a_later_transfer_is_inserted_and_holds_until_it() -> None:
    first_unit, later_unit, inserted_unit = uuid4(), uuid4(), uuid4()
    person = a_person(unit_id=first_unit)
    person.transfer(unit_id=later_unit, position_id=None, by_reorganisation=False, effective_on=date(2023, 1, 1),
                    act=an_act(), at=AT)

    person.transfer(unit_id=inserted_unit, position_id=None, by_reorganisation=False, effective_on=date(2022, 1, 1),
                    act=an_act(), at=AT)

    assert person.placement_on(date(2021, 12, 31)).unit_id == first_unit  # type: ignore[union-attr]
    assert person.placement_on(date(2022, 6, 1)).unit_id == inserted_unit  # type: ignore[union-attr]
    assert person.placement.unit_id == later_unit


def test_transfer_dated_before_recruitment_is_refused_naming_the_recruitment() -> None:
    person = a_person(effective_on=date(2021, 1, 1))

    with pytest.raises(EffectiveBeforeStart) as refused:
        person.transfer(unit_id=uuid4(), position_id=None, by_reorganisation=False, effective_on=date(2020, 1, 1),
                        act=an_act(), at=AT)

    assert refused.value.field == "effectiveOn"
    assert f"recruitment effective 2021-01-01 (fact {person.id}:1, act" in refused.value.message
    assert person.collect_events() == []


def test_a_transfer_after_the_recorded_retirement_is_refused_naming_the_retirement() -> None:
    person = a_person(effective_on=date(2020, 1, 1))
    person.leave(status=PersonStatus.RETIRED, effective_on=date(2024, 1, 1), act=an_act("9/QĐ-NV"), at=AT)
    person.collect_events()

    with pytest.raises(PersonNotActive) as refused:
        person.transfer(unit_id=uuid4(), position_id=None, by_reorganisation=False, effective_on=date(2024, 6, 1),
                        act=an_act(), at=AT)

    assert "retirement effective 2024-01-01" in refused.value.message and "9/QĐ-NV" in refused.value.message
    assert "retract that exit" in refused.value.message


def test_an_exit_before_a_later_own_fact_is_refused_naming_that_fact() -> None:
    person = transferred(a_person(effective_on=date(2020, 1, 1)), on=date(2023, 1, 1))

    with pytest.raises(OutOfOrderFact) as refused:
        person.leave(status=PersonStatus.RESIGNED, effective_on=date(2022, 1, 1), act=an_act(), at=AT)

    assert "transfer effective 2023-01-01" in refused.value.message


# ====================================================================== regrade
def test_regrading_a_person_records_the_new_category_and_rank() -> None:
    person = a_person(category=PersonnelCategory.PUBLIC_EMPLOYEE, rank="Hạng III")

    person.regrade(category=PersonnelCategory.CIVIL_SERVANT, rank=" Chuyên viên chính ", effective_on=LATER,
                   act=an_act(), at=AT)

    event = the_event(person, Person.Regraded)
    assert (event.category, event.rank) == ("CIVIL_SERVANT", "Chuyên viên chính")
    assert person.category is PersonnelCategory.CIVIL_SERVANT


def test_regrading_only_the_rank_keeps_the_category() -> None:
    person = a_person(category=PersonnelCategory.CADRE, rank="Chuyên viên")

    person.regrade(category=None, rank="Chuyên viên chính", effective_on=LATER, act=an_act(), at=AT)

    event = the_event(person, Person.Regraded)
    assert (event.category, event.rank) == ("CADRE", "Chuyên viên chính")


def test_regrading_only_the_category_keeps_the_rank() -> None:
    person = a_person(category=PersonnelCategory.CADRE, rank="Chuyên viên")

    person.regrade(category=PersonnelCategory.CIVIL_SERVANT, rank=None, effective_on=LATER, act=an_act(), at=AT)

    event = the_event(person, Person.Regraded)
    assert (event.category, event.rank) == ("CIVIL_SERVANT", "Chuyên viên")


def test_a_regrade_dated_before_a_later_fact_is_inserted_with_the_rank_it_names() -> None:
    person = transferred(a_person(rank="Chuyên viên"), on=date(2023, 1, 1))

    person.regrade(category=None, rank="Chuyên viên chính", effective_on=date(2022, 1, 1), act=an_act(), at=AT)

    assert person.placement_on(date(2022, 6, 1))["rank"] == "Chuyên viên chính"  # type: ignore[index]
    assert person.placement["rank"] == "Chuyên viên chính"


# ====================================================================== leave
@pytest.mark.parametrize("status", [PersonStatus.RETIRED, PersonStatus.RESIGNED, PersonStatus.DISMISSED])
def test_leaving_the_service_records_how_and_frees_the_position(status: PersonStatus) -> None:
    person = a_person(position_id=uuid4())

    person.leave(status=status, effective_on=LATER, act=an_act(), at=AT)

    event = the_event(person, Person.Left)
    assert (event.status, event.effective_on) == (status.value, LATER)
    assert (person.status, person.placement.position_id) == (status, None)


@pytest.mark.parametrize("status", [PersonStatus.ACTIVE, PersonStatus.DOWNSIZED, PersonStatus.VOID])
def test_leaving_with_a_status_other_than_retire_resign_or_dismiss_is_refused(status: PersonStatus) -> None:
    person = a_person()

    with pytest.raises(InvalidInput) as refused:
        person.leave(status=status, effective_on=LATER, act=an_act(), at=AT)

    assert refused.value.field == "status"


def test_leaving_dated_before_the_persons_latest_fact_is_refused() -> None:
    person = transferred(a_person(), on=date(2023, 1, 1))

    with pytest.raises(OutOfOrderFact) as refused:
        person.leave(status=PersonStatus.RETIRED, effective_on=date(2022, 1, 1), act=an_act(), at=AT)

    assert refused.value.field == "effectiveOn"
    assert person.collect_events() == []


AFTER_LEAVING = date(2024, 1, 1)
COMMANDS_ON_A_PERSON: dict[str, Callable[[Person], object]] = {
    "transfer": lambda p: p.transfer(unit_id=uuid4(), position_id=None, by_reorganisation=False,
                                     effective_on=AFTER_LEAVING, act=an_act(), at=AT),
    "regrade": lambda p: p.regrade(category=None, rank="Chuyên viên chính", effective_on=AFTER_LEAVING,
                                   act=an_act(), at=AT),
    "leave": lambda p: p.leave(status=PersonStatus.RESIGNED, effective_on=AFTER_LEAVING, act=an_act(), at=AT),
    "downsize": lambda p: p.downsize(policy=DownsizingPolicy.RESIGNATION, monthly_salary=None, insured_years=None,
                                     affected_by_restructuring=False, effective_on=AFTER_LEAVING, act=an_act(), at=AT),
}


@pytest.mark.parametrize("command", sorted(COMMANDS_ON_A_PERSON))
@pytest.mark.parametrize("how", ["retired", "downsized"])
def test_person_who_has_left_the_service_has_no_further_movements(command: str, how: str) -> None:
    person = a_person()
    if how == "retired":
        person.leave(status=PersonStatus.RETIRED, effective_on=LATER, act=an_act(), at=AT)
    else:
        person.downsize(policy=DownsizingPolicy.EARLY_RETIREMENT, monthly_salary=None, insured_years=None,
                        affected_by_restructuring=False, effective_on=LATER, act=an_act(), at=AT)
    person.collect_events()

    with pytest.raises(PersonNotActive) as refused:
        COMMANDS_ON_A_PERSON[command](person)

    assert (refused.value.code, refused.value.field) == ("PERSON_NOT_ACTIVE", "personId")
    assert person.collect_events() == []


# ====================================================================== downsize
def test_downsizing_records_the_policy_the_payout_inputs_and_the_decree_in_force() -> None:
    person = a_person(position_id=uuid4())

    decree, payout = person.downsize(policy=DownsizingPolicy.RESIGNATION, monthly_salary=10_705_500,
                                     insured_years=15, affected_by_restructuring=True, effective_on=date(2025, 8, 1),
                                     act=an_act(signed_on=date(2025, 7, 15)), at=AT, months_to_retirement=60)

    event = the_event(person, Person.Downsized)
    assert (event.policy, event.monthly_salary, event.insured_years, event.affected_by_restructuring) == (
        "RESIGNATION", 10_705_500, 15, True)
    assert event.decree == decree.value == DecreeVersion.D178_2024_67_2025.value
    assert payout is not None and event.payout == payout.as_dict() and event.payout["total"] == 786_854_250
    assert (person.status, person.placement.position_id) == (PersonStatus.DOWNSIZED, None)


@pytest.mark.parametrize(
    ("signed_on", "affected", "decree"),
    [
        (date(2023, 7, 19), False, DecreeVersion.D108_2014),
        (date(2023, 7, 20), False, DecreeVersion.D29_2023),
        (date(2025, 6, 15), False, DecreeVersion.D29_2023),
        (date(2025, 6, 16), False, DecreeVersion.D154_2025),
        (date(2024, 12, 31), True, DecreeVersion.D29_2023),
        (date(2025, 1, 1), True, DecreeVersion.D178_2024_67_2025),
        (date(2025, 9, 1), True, DecreeVersion.D178_2024_67_2025),
    ],
)
def test_downsizing_is_governed_by_the_decree_in_force_on_the_acts_signing_date(
    signed_on: date, affected: bool, decree: DecreeVersion
) -> None:
    person = a_person()

    person.downsize(policy=DownsizingPolicy.EARLY_RETIREMENT, monthly_salary=None, insured_years=None,
                    affected_by_restructuring=affected, effective_on=date(2025, 12, 1),
                    act=an_act(signed_on=signed_on), at=AT)

    event = the_event(person, Person.Downsized)
    assert event.decree == decree.value


def test_decree_follows_the_signing_date_not_the_effective_date() -> None:
    person = a_person()

    person.downsize(policy=DownsizingPolicy.EARLY_RETIREMENT, monthly_salary=None, insured_years=None,
                    affected_by_restructuring=False, effective_on=date(2025, 7, 1),
                    act=an_act(signed_on=date(2025, 6, 1)), at=AT)

    event = the_event(person, Person.Downsized)
    assert event.decree == DecreeVersion.D29_2023.value


@pytest.mark.parametrize(("salary", "years", "field"), [(-1, 10, "monthlySalary"), (1_000, -1, "insuredYears"),
                                                         (1_000, 61, "insuredYears")])
def test_downsizing_with_impossible_payout_inputs_is_refused(salary: int, years: int, field: str) -> None:
    person = a_person()

    with pytest.raises(InvalidInput) as refused:
        person.downsize(policy=DownsizingPolicy.RESIGNATION, monthly_salary=salary, insured_years=years,
                        affected_by_restructuring=False, effective_on=LATER, act=an_act(), at=AT)

    assert refused.value.field == field


# ====================================================================== retract
def test_retracting_a_transfer_puts_the_person_back_where_they_were() -> None:
    home = uuid4()
    person = transferred(a_person(unit_id=home), on=LATER)
    correction = an_act("99/QĐ-UBND", date(2022, 3, 1))

    before, after = person.retract(fact_version=2, reason="nhập nhầm đơn vị", act=correction, at=AT)

    event = the_event(person, Person.FactRetracted)
    assert (event.fact_version, event.reason, event.effective_on, event.act) == (
        2, "nhập nhầm đơn vị", LATER, correction)
    assert before.unit_id != home and after.unit_id == home
    assert person.placement.unit_id == home


def test_retracting_a_fact_in_the_middle_undoes_only_what_that_fact_changed() -> None:
    home = uuid4()
    person = transferred(a_person(unit_id=home, rank="Chuyên viên"), on=LATER)  # fact 2
    person.regrade(category=None, rank="Chuyên viên chính", effective_on=date(2022, 1, 1), act=an_act(), at=AT)
    person.collect_events()  # fact 3 keeps the transfer's unit in its state

    person.retract(fact_version=2, reason="quyết định điều động bị nhập nhầm", act=an_act(), at=AT)

    assert person.placement.unit_id == home
    assert person.placement["rank"] == "Chuyên viên chính"


def test_retracting_the_latest_fact_lets_an_earlier_dated_fact_be_recorded() -> None:
    person = transferred(a_person(), on=date(2023, 1, 1))
    person.retract(fact_version=2, reason="sai ngày hiệu lực", act=an_act(), at=AT)
    person.collect_events()

    person.transfer(unit_id=uuid4(), position_id=None, by_reorganisation=False, effective_on=date(2022, 1, 1),
                    act=an_act(), at=AT)

    assert [type(e) for e in person.collect_events()] == [Person.Transferred]


def test_retracting_a_departure_makes_the_person_active_again() -> None:
    person = a_person()
    person.leave(status=PersonStatus.RETIRED, effective_on=LATER, act=an_act(), at=AT)
    person.collect_events()

    person.retract(fact_version=2, reason="chưa đến tuổi nghỉ hưu", act=an_act(), at=AT)

    assert person.status is PersonStatus.ACTIVE


def test_recruitment_that_is_the_only_fact_on_record_can_be_retracted_and_voids_the_person() -> None:
    person = a_person()

    before, after = person.retract(fact_version=1, reason="tuyển dụng nhập trùng", act=an_act(), at=AT)

    assert [type(e) for e in person.collect_events()] == [Person.FactRetracted]
    assert (before.status, after.status, person.status) == (PersonStatus.ACTIVE, PersonStatus.VOID, PersonStatus.VOID)


def test_recruitment_cannot_be_retracted_while_later_facts_are_on_record() -> None:
    person = transferred(a_person())

    with pytest.raises(RuleViolation) as refused:
        person.retract(fact_version=1, reason="nhập nhầm", act=an_act(), at=AT)

    assert (refused.value.code, refused.value.field) == ("RULE_VIOLATION", "factId")
    assert person.collect_events() == []


def test_recruitment_can_be_retracted_once_the_later_facts_are_retracted() -> None:
    person = transferred(a_person())
    person.retract(fact_version=2, reason="nhập nhầm", act=an_act(), at=AT)
    person.collect_events()

    person.retract(fact_version=1, reason="nhập nhầm", act=an_act(), at=AT)

    assert person.status is PersonStatus.VOID


def test_voided_person_has_no_further_movements() -> None:
    person = a_person()
    person.retract(fact_version=1, reason="nhập trùng", act=an_act(), at=AT)
    person.collect_events()

    with pytest.raises(PersonNotActive) as refused:
        person.transfer(unit_id=uuid4(), position_id=None, by_reorganisation=False, effective_on=LATER,
                        act=an_act(), at=AT)

    assert refused.value.field == "personId"
    assert person.collect_events() == []


def test_move_made_by_a_reorganisation_cannot_be_retracted() -> None:
    person = transferred(a_person(), by_reorganisation=True)

    with pytest.raises(NotRetractable) as refused:
        person.retract(fact_version=2, reason="nhập nhầm", act=an_act(), at=AT)

    assert (refused.value.code, refused.value.field) == ("NOT_RETRACTABLE", "factId")
    assert person.facts[-1]["cause"] == "REORGANISED"


def test_fact_cannot_be_retracted_twice() -> None:
    person = transferred(a_person())
    person.retract(fact_version=2, reason="nhập nhầm", act=an_act(), at=AT)
    person.collect_events()

    with pytest.raises(RuleViolation) as refused:
        person.retract(fact_version=2, reason="nhập nhầm", act=an_act(), at=AT)

    assert refused.value.field == "factId"
    assert person.collect_events() == []


def test_retracting_a_fact_the_person_does_not_have_is_not_found() -> None:
    person = a_person()

    with pytest.raises(NotFound) as refused:
        person.retract(fact_version=7, reason="nhập nhầm", act=an_act(), at=AT)

    assert (refused.value.code, refused.value.field) == ("NOT_FOUND", "factId")


def test_retraction_needs_a_reason() -> None:
    person = transferred(a_person())

    with pytest.raises(InvalidInput) as refused:
        person.retract(fact_version=2, reason=" ", act=an_act(), at=AT)

    assert refused.value.field == "reason"


def test_replaying_a_persons_events_rebuilds_the_same_placement() -> None:
    person = Person.recruit(person_id=uuid4(), full_name="Hoàng Văn Nam", birth_date=date(1980, 1, 1),
                            gender=Gender.MALE, category=PersonnelCategory.CIVIL_SERVANT, rank="Chuyên viên",
                            unit_id=uuid4(), position_id=None, effective_on=START, act=an_act(), at=AT)
    person.transfer(unit_id=uuid4(), position_id=None, by_reorganisation=False, effective_on=LATER, act=an_act(),
                    at=AT)
    person.regrade(category=None, rank="Chuyên viên chính", effective_on=LATER, act=an_act(), at=AT)
    person.retract(fact_version=2, reason="nhập nhầm", act=an_act(), at=AT)

    copy: Person | None = None
    for event in person.collect_events():
        copy = event.mutate(copy)

    assert copy is not None
    assert dict(copy.placement) == dict(person.placement)
    assert copy.last_fact_on == person.last_fact_on
