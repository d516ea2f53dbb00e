"""Handlers for people: recruit, transfer, regrade, leave (retire, resign, dismiss), downsize.

Each keeps unit rosters and position holders in step with the person's placement (``follow``).
"""

from __future__ import annotations

from staffing.application.commands import (
    DismissPerson,
    DownsizePerson,
    PersonLeaves,
    RecruitPerson,
    RegradePerson,
    ResignPerson,
    RetirePerson,
    TransferPerson,
)
from staffing.application.handlers.common import fact_id, fact_of, latest_fact, settle_person
from staffing.application.registry import handles
from staffing.application.results import PersonRecorded
from staffing.application.work import Work
from staffing.domain.person import Person, Placement
from staffing.domain.values import PersonStatus

__all__: list[str] = []


@handles(RecruitPerson, PersonRecorded)
def recruit_person(cmd: RecruitPerson, work: Work) -> PersonRecorded:
    unit = work.unit(cmd.unit_id)
    unit.require_active_on(cmd.effective_on, "unitId")
    position = work.position(cmd.position_id) if cmd.position_id else None
    if position is not None:
        position.require_available_in(unit.id, cmd.effective_on)
    person = work.add(Person.recruit(
        person_id=work.fresh_id(cmd.id, "id"), full_name=cmd.full_name, birth_date=cmd.birth_date, gender=cmd.gender,
        category=cmd.category, rank=cmd.rank or (position.rank if position else ""), unit_id=unit.id,
        position_id=position.id if position else None, effective_on=cmd.effective_on, act=cmd.act, at=work.at))
    nobody = Placement(unit_id=unit.id, position_id=None, status=PersonStatus.VOID.value)
    settle_person(work, person, nobody, cmd.effective_on, cmd.act, cmd.split_parts)
    return PersonRecorded(person_id=str(person.id), fact_id=fact_id(person.id, 1))


@handles(TransferPerson, PersonRecorded)
def transfer_person(cmd: TransferPerson, work: Work) -> PersonRecorded:
    person = work.person(cmd.person_id)
    target = work.unit(cmd.to_unit_id, "toUnitId")
    target.require_active_on(cmd.effective_on, "toUnitId")
    position = work.position(cmd.to_position_id, "toPositionId") if cmd.to_position_id else None
    if position is not None:
        position.require_available_in(target.id, cmd.effective_on, "toPositionId")
    before = person.placement
    person.transfer(unit_id=target.id, position_id=position.id if position else None, by_reorganisation=False,
                    effective_on=cmd.effective_on, act=cmd.act, at=work.at)
    fact = fact_of(person, Person.Transferred)
    settle_person(work, person, before, cmd.effective_on, cmd.act, cmd.split_parts)
    return PersonRecorded(person_id=str(person.id), fact_id=fact)


@handles(RegradePerson, PersonRecorded)
def regrade_person(cmd: RegradePerson, work: Work) -> PersonRecorded:
    person = work.person(cmd.person_id)
    person.regrade(category=cmd.category, rank=cmd.rank, effective_on=cmd.effective_on, act=cmd.act, at=work.at)
    return PersonRecorded(person_id=str(person.id), fact_id=latest_fact(person))


def leave(cmd: PersonLeaves, work: Work) -> PersonRecorded:
    """Retire, resign and dismiss differ only in the status the person leaves with."""
    person = work.person(cmd.person_id)
    before = person.placement
    person.leave(status=cmd.status, effective_on=cmd.effective_on, act=cmd.act, at=work.at)
    fact = fact_of(person, Person.Left)
    settle_person(work, person, before, cmd.effective_on, cmd.act)
    return PersonRecorded(person_id=str(person.id), fact_id=fact)


handles(RetirePerson, PersonRecorded)(leave)
handles(ResignPerson, PersonRecorded)(leave)
handles(DismissPerson, PersonRecorded)(leave)


@handles(DownsizePerson, PersonRecorded)
def downsize_person(cmd: DownsizePerson, work: Work) -> PersonRecorded:
    person = work.person(cmd.person_id)
    before = person.placement
    decree, payout = person.downsize(
        policy=cmd.policy, monthly_salary=cmd.monthly_salary, insured_years=cmd.insured_years,
        affected_by_restructuring=cmd.affected_by_restructuring, effective_on=cmd.effective_on, act=cmd.act,
        at=work.at, months_to_retirement=cmd.months_to_retirement,
        months_since_reorganisation=cmd.months_since_reorganisation)
    fact = fact_of(person, Person.Downsized)
    settle_person(work, person, before, cmd.effective_on, cmd.act)
    return PersonRecorded(person_id=str(person.id), fact_id=fact, decree=decree.value,
                          payout=payout.as_dict() if payout else None)
