"""Stays (domain.stays): the stretches someone spent in a unit or a position, and what the unit
(the position) learns of a stay whose end it had not heard of."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest

from staffing.domain.errors import OutOfOrderFact, PositionUnavailable
from staffing.domain.person import Person
from staffing.domain.position import Position
from staffing.domain.stays import Stay, stays
from staffing.domain.unit import Unit
from staffing.domain.values import ChangeKind, PersonStatus, UnitKind
from tests.builders import AT, START, a_person, a_position, a_unit, an_act

P, Q, R = uuid4(), uuid4(), uuid4()
D1, D2, D3, D4 = date(2021, 1, 1), date(2022, 1, 1), date(2023, 1, 1), date(2024, 1, 1)


def test_a_timeline_becomes_the_stays_between_its_changes_of_place() -> None:
    assert stays([(D1, P), (D2, P), (D3, Q), (D4, None)]) == [Stay(P, D1, D3), Stay(Q, D3, D4)]
    assert stays([(D1, P), (D2, Q)]) == [Stay(P, D1, D2), Stay(Q, D2, None)]
    assert stays([(D1, None), (D2, P)]) == [Stay(P, D2, None)]
    assert stays([]) == []


def test_on_one_day_the_last_entry_counts_so_a_move_in_and_out_that_day_is_no_stay() -> None:
    assert stays([(D1, P), (D2, Q), (D2, P), (D3, R)]) == [Stay(P, D1, D3), Stay(R, D3, None)]
    assert stays([(D1, P), (D2, Q), (D2, R)]) == [Stay(P, D1, D2), Stay(R, D2, None)]


def _moved(person: Person, unit_id: UUID, on: date, position_id: UUID | None = None) -> None:
    person.transfer(unit_id=unit_id, position_id=position_id, by_reorganisation=False,
                    effective_on=on, act=an_act(), at=AT)


def test_a_persons_stays_follow_their_facts_and_end_when_they_leave_the_service() -> None:
    post = uuid4()
    person = a_person(unit_id=P, effective_on=START)
    _moved(person, Q, D2, post)
    _moved(person, Q, D3)  # same unit, no position: the unit stay goes on, the position stay ends
    person.leave(status=PersonStatus.RETIRED, effective_on=D4, act=an_act(), at=AT)

    assert person.stays("unit_id") == [Stay(P, START, D2), Stay(Q, D2, D4)]
    assert person.stays("position_id") == [Stay(post, D2, D3)]


def test_retracting_a_transfer_in_the_middle_lengthens_the_stay_before_it() -> None:
    person = a_person(unit_id=P, effective_on=START)
    _moved(person, R, D2)
    _moved(person, Q, D4)

    person.retract(fact_version=2, reason="nhập nhầm", act=an_act(), at=AT)

    assert person.stays() == [Stay(P, START, D4), Stay(Q, D4, None)]


def test_a_units_parent_stays_end_with_its_moves_and_its_own_end() -> None:
    first, second = a_unit(), a_unit()
    child = a_unit(parent=first, kind=UnitKind.DEPARTMENT)
    child.move(old_parent=first, new_parent=second, new_parent_ancestor_ids=[], effective_on=D2, act=an_act(), at=AT)

    assert child.parent_stays() == [Stay(first.id, START, D2), Stay(second.id, D2, None)]
    child.collect_events()
    child.end(change=ChangeKind.DISSOLVE, successor_ids=[], parent=second, effective_on=D3, act=an_act(), at=AT)
    assert child.parent_stays() == [Stay(first.id, START, D2), Stay(second.id, D2, D3)]


def test_a_unit_learning_of_a_longer_stay_cannot_end_before_it() -> None:
    unit, someone = a_unit(), uuid4()

    unit.record_stay("member", someone, Stay(unit.id, D1, D4), None, an_act(), AT)

    events = unit.collect_events()
    assert [(type(e), e.effective_on) for e in events] == [(Unit.MemberJoined, D1), (Unit.MemberLeft, D4)]
    assert someone not in unit.member_ids and unit.roster_changed_on == D4
    with pytest.raises(OutOfOrderFact) as refused:
        unit.end(change=ChangeKind.DISSOLVE, successor_ids=[], parent=None, effective_on=D3, act=an_act(), at=AT)
    assert refused.value.field == "effectiveOn" and D4.isoformat() in refused.value.message
    unit.end(change=ChangeKind.DISSOLVE, successor_ids=[], parent=None, effective_on=D4, act=an_act(), at=AT)


def test_someone_still_on_the_roster_leaves_and_comes_back_in_the_bookkeeping() -> None:
    unit, someone = a_unit(), uuid4()
    unit.admit_member(someone, D1, an_act(), AT)
    unit.collect_events()

    unit.record_stay("member", someone, Stay(unit.id, START, D2), D3, an_act(), AT)

    assert [(type(e), e.effective_on) for e in unit.collect_events()] == [
        (Unit.MemberLeft, D2), (Unit.MemberJoined, D3)]
    assert someone in unit.member_ids and unit.roster_changed_on == D3


def test_a_stay_the_roster_already_covers_records_nothing() -> None:
    unit, child = a_unit(), uuid4()
    unit.attach_child(child, D3, an_act(), AT)
    unit.detach_child(child, D3, an_act(), AT)
    unit.collect_events()

    unit.record_stay("child", child, Stay(unit.id, START, D2), None, an_act(), AT)
    unit.record_stay("child", child, Stay(unit.id, START, D3), None, an_act(), AT)

    assert unit.collect_events() == []


def test_a_child_units_stay_is_recorded_with_attach_and_detach() -> None:
    unit, child = a_unit(), uuid4()

    unit.record_stay("child", child, Stay(unit.id, D1, D2), None, an_act(), AT)

    assert [(type(e), e.child_id, e.effective_on) for e in unit.collect_events()] == [
        (Unit.ChildAttached, child, D1), (Unit.ChildDetached, child, D2)]


def test_a_position_cannot_be_abolished_before_someone_left_it() -> None:
    position, holder = a_position(), uuid4()
    position.add_holder(holder, START, an_act(), AT)
    position.remove_holder(holder, D3, an_act(), AT)
    position.collect_events()

    with pytest.raises(OutOfOrderFact) as refused:
        position.abolish(effective_on=D2, act=an_act(), at=AT)

    assert refused.value.field == "effectiveOn" and D3.isoformat() in refused.value.message
    assert position.collect_events() == []
    position.abolish(effective_on=D3, act=an_act(), at=AT)
    assert [type(e) for e in position.collect_events()] == [Position.Abolished]


def test_a_position_learning_of_a_longer_holder_stay_keeps_its_holders_and_its_last_day() -> None:
    position, holder, gone = a_position(), uuid4(), uuid4()
    position.add_holder(holder, D3, an_act(), AT)
    position.collect_events()

    position.record_holder_stay(holder, Stay(position.id, START, D2), D3, an_act(), AT)  # known: nothing
    position.record_holder_stay(gone, Stay(position.id, START, D4), None, an_act(), AT)

    assert [(type(e), e.person_id, e.effective_on) for e in position.collect_events()] == [
        (Position.HolderAdded, gone, START), (Position.HolderRemoved, gone, D4)]
    assert position.holder_ids == {holder} and position.holders_changed_on == D4


@pytest.mark.parametrize(("until", "refused"), [(D2, False), (D3, True), (None, True)])
def test_nobody_holds_a_position_past_its_abolition(until: date | None, refused: bool) -> None:
    position = a_position()
    position.abolish(effective_on=D2, act=an_act(), at=AT)

    if not refused:
        position.require_held_within(Stay(position.id, START, until), "Nguyễn Thị Hoa", "factId")
        return
    with pytest.raises(PositionUnavailable) as refusal:
        position.require_held_within(Stay(position.id, START, until), "Nguyễn Thị Hoa", "factId")
    assert refusal.value.field == "factId" and "abolished on 2022-01-01" in refusal.value.message
    assert "Nguyễn Thị Hoa" in refusal.value.message


def test_a_position_from_a_snapshot_older_than_its_holder_dates_counts_from_the_events_after_it() -> None:
    position, holder = a_position(), uuid4()
    del position.holders_changed_on  # the state a snapshot taken before the attribute existed restores

    position.abolish(effective_on=D1, act=an_act(), at=AT)  # nothing known: abolished as before
    assert [type(e) for e in position.collect_events()] == [Position.Abolished]
    older = a_position()
    del older.holders_changed_on
    older.add_holder(holder, START, an_act(), AT)
    older.remove_holder(holder, D3, an_act(), AT)
    with pytest.raises(OutOfOrderFact):
        older.abolish(effective_on=D2, act=an_act(), at=AT)
