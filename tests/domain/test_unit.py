"""Unit (đơn vị): establish, rename, move, change model, adjust functions, lineage, end, roster.

Given a unit built by its own commands, when a command runs, then the pending events (or the
named refusal) say what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID, uuid4

import pytest

from staffing.domain.errors import (
    EffectiveBeforeStart,
    HierarchyCycle,
    InvalidInput,
    OutOfOrderFact,
    UnitEnded,
    UnitNotEmpty,
)
from staffing.domain.unit import Unit
from staffing.domain.values import ChangeKind, FinancialAutonomy, UnitKind, UnitStatus
from tests.builders import AT, START, a_unit, an_act, the_event

LATER = date(2021, 6, 1)


def ended(unit: Unit, on: date = LATER) -> Unit:
    unit.end(change=ChangeKind.DISSOLVE, successor_ids=[], parent=None, effective_on=on, act=an_act(), at=AT)
    unit.collect_events()
    return unit


# ====================================================================== establish
def test_establishing_a_unit_records_its_code_name_kind_and_legal_basis() -> None:
    unit_id = uuid4()
    act = an_act("12/QĐ-TTg", date(2019, 12, 20), "Thủ tướng Chính phủ")

    unit = Unit.establish(unit_id=unit_id, code="T08", name="Ủy ban nhân dân tỉnh Tuyên Quang",
                          kind=UnitKind.PROVINCE, autonomy=None, parent=None, change=ChangeKind.ESTABLISH,
                          predecessor_ids=[], effective_on=START, act=act, at=AT)

    event = the_event(unit, Unit.Established)
    assert (event.originator_id, event.code, event.name, event.kind, event.autonomy, event.parent_id) == (
        unit_id, "T08", "Ủy ban nhân dân tỉnh Tuyên Quang", "PROVINCE", None, None)
    assert (event.effective_on, event.act, event.timestamp, event.change) == (START, act, AT, "ESTABLISH")
    assert unit.status is UnitStatus.ACTIVE


def test_establishing_a_unit_under_a_parent_attaches_it_to_the_parent() -> None:
    province = a_unit()

    commune = Unit.establish(unit_id=uuid4(), code="X001", name="Xã Minh Xuân", kind=UnitKind.COMMUNE,
                             autonomy=None, parent=province, change=ChangeKind.ESTABLISH, predecessor_ids=[],
                             effective_on=LATER, act=an_act(), at=AT)

    attached = the_event(province, Unit.ChildAttached)
    assert (attached.child_id, attached.effective_on) == (commune.id, LATER)
    assert commune.parent_id == province.id
    assert province.child_ids == {commune.id}


def test_new_unit_of_a_reorganisation_records_its_predecessors() -> None:
    old_a, old_b = uuid4(), uuid4()

    unit = Unit.establish(unit_id=uuid4(), code="T08", name="Tỉnh Tuyên Quang", kind=UnitKind.PROVINCE,
                          autonomy=None, parent=None, change=ChangeKind.CONSOLIDATE, predecessor_ids=[old_a, old_b],
                          effective_on=date(2025, 7, 1), act=an_act(), at=AT)

    event = the_event(unit, Unit.Established)
    assert (event.change, event.predecessor_ids) == ("CONSOLIDATE", [old_a, old_b])
    assert [p["unit_id"] for p in unit.predecessors] == [str(old_a), str(old_b)]
    assert {p["change"] for p in unit.predecessors} == {"CONSOLIDATE"}


def test_unit_cannot_be_established_under_an_ended_parent() -> None:
    parent = ended(a_unit())

    with pytest.raises(UnitEnded) as refused:
        a_unit(parent=parent, effective_on=date(2022, 1, 1))

    assert (refused.value.code, refused.value.field) == ("UNIT_ENDED", "parentId")


def test_unit_cannot_take_effect_before_its_parent_was_established() -> None:
    parent = a_unit(effective_on=date(2020, 1, 1))

    with pytest.raises(EffectiveBeforeStart) as refused:
        a_unit(parent=parent, effective_on=date(2019, 12, 31))

    assert (refused.value.code, refused.value.field) == ("EFFECTIVE_BEFORE_START", "effectiveOn")


def test_unit_may_be_established_on_the_same_day_as_its_parent() -> None:
    parent = a_unit(effective_on=START)

    child = a_unit(parent=parent, effective_on=START)

    assert child.parent_id == parent.id and child.established_on == START


def test_financial_autonomy_is_refused_for_a_unit_that_is_not_a_public_service_unit() -> None:
    with pytest.raises(InvalidInput) as refused:
        a_unit(kind=UnitKind.DEPARTMENT, autonomy=FinancialAutonomy.SELF_FUNDED_RECURRENT)

    assert (refused.value.code, refused.value.field) == ("INVALID_INPUT", "autonomy")


def test_public_service_unit_carries_its_financial_autonomy_class() -> None:
    school = Unit.establish(unit_id=uuid4(), code="PSU1", name="Trường THPT Chuyên", kind=UnitKind.PUBLIC_SERVICE_UNIT,
                            autonomy=FinancialAutonomy.PARTLY_BUDGET_FUNDED, parent=None,
                            change=ChangeKind.ESTABLISH, predecessor_ids=[], effective_on=START, act=an_act(), at=AT)

    event = the_event(school, Unit.Established)
    assert event.autonomy == "PARTLY_BUDGET_FUNDED"
    assert school.autonomy is FinancialAutonomy.PARTLY_BUDGET_FUNDED


@pytest.mark.parametrize(("code", "name", "field"), [("", "Tỉnh A", "code"), ("T1", "   ", "name")])
def test_unit_code_and_name_must_not_be_blank(code: str, name: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        a_unit(code=code or " ", name=name)

    assert refused.value.field == field


# ====================================================================== rename
def test_renaming_a_unit_keeps_its_code_when_no_new_code_is_given() -> None:
    unit = a_unit(code="H01", name="Huyện Yên Sơn")

    unit.rename(name="Huyện Yên Sơn mới", code=None, effective_on=LATER, act=an_act(), at=AT)

    event = the_event(unit, Unit.Renamed)
    assert (event.name, event.code, event.effective_on) == ("Huyện Yên Sơn mới", "H01", LATER)


def test_renaming_a_unit_with_a_code_records_the_new_code() -> None:
    unit = a_unit(code="H01")

    unit.rename(name="Phường Minh Xuân", code="P77", effective_on=LATER, act=an_act(), at=AT)

    event = the_event(unit, Unit.Renamed)
    assert event.code == "P77" and unit.code == "P77"


def test_ended_unit_cannot_be_renamed() -> None:
    unit = ended(a_unit())

    with pytest.raises(UnitEnded) as refused:
        unit.rename(name="Tên mới", code=None, effective_on=date(2022, 1, 1), act=an_act(), at=AT)

    assert (refused.value.code, refused.value.field) == ("UNIT_ENDED", "unitId")


def test_rename_cannot_take_effect_before_the_unit_was_established() -> None:
    unit = a_unit(effective_on=START)

    with pytest.raises(EffectiveBeforeStart) as refused:
        unit.rename(name="Tên mới", code=None, effective_on=date(2019, 1, 1), act=an_act(), at=AT)

    assert refused.value.field == "effectiveOn"


def test_rename_dated_before_the_units_latest_fact_is_refused_as_out_of_order() -> None:
    unit = a_unit()
    unit.adjust_functions(functions="Quản lý nhà nước", effective_on=date(2022, 1, 1), act=an_act(), at=AT)
    unit.collect_events()

    with pytest.raises(OutOfOrderFact) as refused:
        unit.rename(name="Tên mới", code=None, effective_on=date(2021, 12, 31), act=an_act(), at=AT)

    assert (refused.value.code, refused.value.field) == ("OUT_OF_ORDER_FACT", "effectiveOn")


def test_rename_on_the_same_day_as_the_latest_fact_is_in_order() -> None:
    unit = a_unit()
    unit.rename(name="Tên thứ nhất", code=None, effective_on=LATER, act=an_act(), at=AT)
    unit.collect_events()

    unit.rename(name="Tên thứ hai", code=None, effective_on=LATER, act=an_act(), at=AT)

    assert [type(e) for e in unit.collect_events()] == [Unit.Renamed]
    assert unit.name == "Tên thứ hai"


def test_roster_bookkeeping_does_not_count_as_a_later_fact_of_the_unit() -> None:
    unit = a_unit()
    unit.admit_member(uuid4(), date(2024, 1, 1), an_act(), AT)
    unit.collect_events()

    unit.rename(name="Tên mới", code=None, effective_on=LATER, act=an_act(), at=AT)

    assert [type(e) for e in unit.collect_events()] == [Unit.Renamed]


# ====================================================================== move
def test_moving_a_unit_records_its_new_parent_on_all_three_units() -> None:
    old_parent, new_parent = a_unit(), a_unit()
    unit = a_unit(parent=old_parent)

    unit.move(old_parent=old_parent, new_parent=new_parent, new_parent_ancestor_ids=[], effective_on=LATER,
              act=an_act(), at=AT)

    moved = the_event(unit, Unit.Moved)
    (detached,) = old_parent.collect_events()
    (attached,) = new_parent.collect_events()
    assert moved.parent_id == new_parent.id
    assert isinstance(detached, Unit.ChildDetached) and detached.child_id == unit.id
    assert isinstance(attached, Unit.ChildAttached) and attached.child_id == unit.id
    assert (old_parent.child_ids, new_parent.child_ids) == (set(), {unit.id})


def test_moving_a_unit_to_the_top_level_detaches_it_from_its_parent() -> None:
    parent = a_unit()
    unit = a_unit(parent=parent)

    unit.move(old_parent=parent, new_parent=None, new_parent_ancestor_ids=[], effective_on=LATER, act=an_act(), at=AT)

    moved = the_event(unit, Unit.Moved)
    assert moved.parent_id is None
    assert [type(e) for e in parent.collect_events()] == [Unit.ChildDetached]


def test_unit_cannot_be_moved_under_itself() -> None:
    unit = a_unit()

    with pytest.raises(HierarchyCycle) as refused:
        unit.move(old_parent=None, new_parent=unit, new_parent_ancestor_ids=[], effective_on=LATER, act=an_act(),
                  at=AT)

    assert (refused.value.code, refused.value.field) == ("HIERARCHY_CYCLE", "newParentId")
    assert unit.collect_events() == []


def test_unit_cannot_be_moved_under_one_of_its_descendants() -> None:
    province = a_unit()
    district = a_unit(parent=province, kind=UnitKind.DISTRICT)
    commune = a_unit(parent=district, kind=UnitKind.COMMUNE)

    with pytest.raises(HierarchyCycle) as refused:
        province.move(old_parent=None, new_parent=commune, new_parent_ancestor_ids=[district.id, province.id],
                      effective_on=LATER, act=an_act(), at=AT)

    assert refused.value.field == "newParentId"


def test_unit_cannot_be_moved_under_an_ended_unit() -> None:
    unit, target = a_unit(), ended(a_unit())

    with pytest.raises(UnitEnded) as refused:
        unit.move(old_parent=None, new_parent=target, new_parent_ancestor_ids=[], effective_on=date(2022, 1, 1),
                  act=an_act(), at=AT)

    assert refused.value.field == "newParentId"


def test_unit_cannot_be_moved_under_a_unit_before_that_unit_existed() -> None:
    unit, target = a_unit(effective_on=START), a_unit(effective_on=date(2023, 1, 1))

    with pytest.raises(EffectiveBeforeStart) as refused:
        unit.move(old_parent=None, new_parent=target, new_parent_ancestor_ids=[], effective_on=date(2022, 1, 1),
                  act=an_act(), at=AT)

    assert refused.value.field == "effectiveOn"
    assert unit.collect_events() == []


def test_moving_a_unit_under_its_current_parent_is_refused() -> None:
    parent = a_unit()
    unit = a_unit(parent=parent)

    with pytest.raises(InvalidInput) as refused:
        unit.move(old_parent=parent, new_parent=parent, new_parent_ancestor_ids=[], effective_on=LATER,
                  act=an_act(), at=AT)

    assert refused.value.field == "newParentId"


def test_move_dated_before_the_units_latest_fact_is_refused_as_out_of_order() -> None:
    unit, target = a_unit(), a_unit()
    unit.rename(name="Tên mới", code=None, effective_on=date(2023, 1, 1), act=an_act(), at=AT)
    unit.collect_events()

    with pytest.raises(OutOfOrderFact) as refused:
        unit.move(old_parent=None, new_parent=target, new_parent_ancestor_ids=[], effective_on=date(2022, 1, 1),
                  act=an_act(), at=AT)

    assert refused.value.field == "effectiveOn"
    assert unit.collect_events() == []


def test_rehoming_a_child_by_reorganisation_records_the_move() -> None:
    child, successor_id = a_unit(), uuid4()

    child.rehome(parent_id=successor_id, effective_on=LATER, act=an_act(), at=AT)

    moved = the_event(child, Unit.Moved)
    assert moved.parent_id == successor_id
    assert child.last_fact_on == LATER


def test_rehoming_a_child_dated_before_its_latest_fact_is_refused() -> None:
    child = a_unit()
    child.rename(name="Tên mới", code=None, effective_on=date(2023, 1, 1), act=an_act(), at=AT)
    child.collect_events()

    with pytest.raises(OutOfOrderFact) as refused:
        child.rehome(parent_id=uuid4(), effective_on=date(2022, 1, 1), act=an_act(), at=AT)

    assert refused.value.field == "effectiveOn"
    assert child.collect_events() == []


# ====================================================================== change model, adjust functions
def test_changing_the_model_records_the_new_kind_and_autonomy() -> None:
    unit = a_unit(kind=UnitKind.DIVISION)

    unit.change_model(kind=UnitKind.PUBLIC_SERVICE_UNIT, autonomy=FinancialAutonomy.SELF_FUNDED_RECURRENT,
                      effective_on=LATER, act=an_act(), at=AT)

    event = the_event(unit, Unit.ModelChanged)
    assert (event.kind, event.autonomy) == ("PUBLIC_SERVICE_UNIT", "SELF_FUNDED_RECURRENT")
    assert unit.kind is UnitKind.PUBLIC_SERVICE_UNIT


def test_changing_the_model_refuses_autonomy_for_a_unit_that_is_not_a_public_service_unit() -> None:
    unit = a_unit(kind=UnitKind.PUBLIC_SERVICE_UNIT)

    with pytest.raises(InvalidInput) as refused:
        unit.change_model(kind=UnitKind.BUREAU, autonomy=FinancialAutonomy.FULLY_BUDGET_FUNDED, effective_on=LATER,
                          act=an_act(), at=AT)

    assert refused.value.field == "autonomy"


def test_ended_unit_cannot_change_its_model() -> None:
    unit = ended(a_unit())

    with pytest.raises(UnitEnded) as refused:
        unit.change_model(kind=UnitKind.BUREAU, autonomy=None, effective_on=date(2022, 1, 1), act=an_act(), at=AT)

    assert refused.value.field == "unitId"
    assert unit.collect_events() == []


def test_adjusting_functions_records_the_new_description() -> None:
    unit = a_unit()

    unit.adjust_functions(functions="Tham mưu về tổ chức bộ máy", effective_on=LATER, act=an_act(), at=AT)

    event = the_event(unit, Unit.FunctionsAdjusted)
    assert (event.functions, unit.functions) == ("Tham mưu về tổ chức bộ máy", "Tham mưu về tổ chức bộ máy")


def test_adjusting_functions_to_a_blank_description_is_refused() -> None:
    unit = a_unit()

    with pytest.raises(InvalidInput) as refused:
        unit.adjust_functions(functions="  ", effective_on=LATER, act=an_act(), at=AT)

    assert refused.value.field == "functions"


def test_adjusting_functions_dated_before_the_latest_fact_is_refused() -> None:
    unit = a_unit()
    unit.change_model(kind=UnitKind.BUREAU, autonomy=None, effective_on=date(2023, 1, 1), act=an_act(), at=AT)
    unit.collect_events()

    with pytest.raises(OutOfOrderFact) as refused:
        unit.adjust_functions(functions="Mới", effective_on=date(2022, 1, 1), act=an_act(), at=AT)

    assert refused.value.field == "effectiveOn"
    assert unit.collect_events() == []


# ====================================================================== lineage on a continuing unit
def test_absorbing_unit_records_its_predecessors() -> None:
    unit, absorbed = a_unit(), uuid4()

    unit.receive_predecessors(predecessor_ids=[absorbed], effective_on=LATER, act=an_act(), at=AT)

    the_event(unit, Unit.PredecessorsReceived)
    assert unit.predecessors == [{"unit_id": str(absorbed), "change": "ABSORB", "effective_on": "2021-06-01"}]


def test_unit_a_part_was_separated_from_records_the_new_unit_as_successor() -> None:
    unit, separated = a_unit(), uuid4()

    unit.record_separation(successor_ids=[separated], effective_on=LATER, act=an_act(), at=AT)

    the_event(unit, Unit.PartSeparated)
    assert [{k: e[k] for k in ("unit_id", "change", "effective_on")} for e in unit.successors] == [
        {"unit_id": str(separated), "change": "SEPARATE", "effective_on": "2021-06-01"}]
    assert unit.status is UnitStatus.ACTIVE


# ====================================================================== end
def test_ending_an_empty_unit_records_its_successors_and_detaches_it_from_its_parent() -> None:
    parent = a_unit()
    unit, successor = a_unit(parent=parent), uuid4()

    unit.end(change=ChangeKind.ABSORB, successor_ids=[successor], parent=parent, effective_on=LATER, act=an_act(),
             at=AT)

    event = the_event(unit, Unit.Ended)
    assert (event.change, event.successor_ids, event.effective_on) == ("ABSORB", [successor], LATER)
    assert (unit.status, unit.ended_on) == (UnitStatus.ENDED, LATER)
    assert [{k: e[k] for k in ("unit_id", "change", "effective_on")} for e in unit.successors] == [
        {"unit_id": str(successor), "change": "ABSORB", "effective_on": "2021-06-01"}]
    assert the_event(parent, Unit.ChildDetached).child_id == unit.id


@pytest.mark.parametrize("holding", ["a person", "an open position", "a child unit"])
def test_unit_that_still_holds_something_cannot_end(holding: str) -> None:
    unit = a_unit()
    if holding == "a person":
        unit.admit_member(uuid4(), START, an_act(), AT)
    elif holding == "an open position":
        unit.open_position(uuid4(), START, an_act(), AT)
    else:
        a_unit(parent=unit)
    unit.collect_events()

    with pytest.raises(UnitNotEmpty) as refused:
        unit.end(change=ChangeKind.DISSOLVE, successor_ids=[], parent=None, effective_on=LATER, act=an_act(), at=AT)

    assert (refused.value.code, refused.value.field) == ("UNIT_NOT_EMPTY", "unitId")
    assert unit.collect_events() == []


def test_unit_whose_people_have_left_can_end() -> None:
    unit, person = a_unit(), uuid4()
    unit.admit_member(person, START, an_act(), AT)
    unit.release_member(person, LATER, an_act(), AT)
    unit.collect_events()

    unit.end(change=ChangeKind.DISSOLVE, successor_ids=[], parent=None, effective_on=LATER, act=an_act(), at=AT)

    assert [type(e) for e in unit.collect_events()] == [Unit.Ended]


def test_unit_cannot_end_before_it_was_established() -> None:
    unit = a_unit(effective_on=date(2021, 1, 1))

    with pytest.raises(EffectiveBeforeStart) as refused:
        unit.end(change=ChangeKind.DISSOLVE, successor_ids=[], parent=None, effective_on=date(2020, 12, 31),
                 act=an_act(), at=AT)

    assert refused.value.field == "effectiveOn"
    assert unit.collect_events() == []


def test_unit_cannot_end_before_its_latest_fact() -> None:
    unit = a_unit()
    unit.rename(name="Tên mới", code=None, effective_on=date(2023, 1, 1), act=an_act(), at=AT)
    unit.collect_events()

    with pytest.raises(OutOfOrderFact) as refused:
        unit.end(change=ChangeKind.DISSOLVE, successor_ids=[], parent=None, effective_on=date(2022, 1, 1),
                 act=an_act(), at=AT)

    assert refused.value.field == "effectiveOn"
    assert unit.collect_events() == []


AFTER_END = date(2022, 1, 1)
COMMANDS_ON_AN_ENDED_UNIT: dict[str, Callable[[Unit], None]] = {
    "end": lambda u: u.end(change=ChangeKind.DISSOLVE, successor_ids=[], parent=None, effective_on=AFTER_END,
                           act=an_act(), at=AT),
    "rename": lambda u: u.rename(name="Tên mới", code=None, effective_on=AFTER_END, act=an_act(), at=AT),
    "move": lambda u: u.move(old_parent=None, new_parent=a_unit(), new_parent_ancestor_ids=[],
                             effective_on=AFTER_END, act=an_act(), at=AT),
    "change_model": lambda u: u.change_model(kind=UnitKind.BUREAU, autonomy=None, effective_on=AFTER_END,
                                             act=an_act(), at=AT),
    "adjust_functions": lambda u: u.adjust_functions(functions="Mới", effective_on=AFTER_END, act=an_act(), at=AT),
    "receive_predecessors": lambda u: u.receive_predecessors(predecessor_ids=[uuid4()], effective_on=AFTER_END,
                                                             act=an_act(), at=AT),
    "record_separation": lambda u: u.record_separation(successor_ids=[uuid4()], effective_on=AFTER_END,
                                                       act=an_act(), at=AT),
    "rehome": lambda u: u.rehome(parent_id=uuid4(), effective_on=AFTER_END, act=an_act(), at=AT),
    "admit_member": lambda u: u.admit_member(uuid4(), AFTER_END, an_act(), AT),
    "open_position": lambda u: u.open_position(uuid4(), AFTER_END, an_act(), AT),
    "attach_child": lambda u: u.attach_child(uuid4(), AFTER_END, an_act(), AT),
}


@pytest.mark.parametrize("command", sorted(COMMANDS_ON_AN_ENDED_UNIT))
def test_nothing_can_change_an_ended_unit(command: str) -> None:
    unit = ended(a_unit())

    with pytest.raises(UnitEnded) as refused:
        COMMANDS_ON_AN_ENDED_UNIT[command](unit)

    assert refused.value.code == "UNIT_ENDED"
    assert unit.collect_events() == []


# ====================================================================== roster
def test_admitting_and_releasing_a_member_keeps_the_roster() -> None:
    unit, first, second = a_unit(), uuid4(), uuid4()

    unit.admit_member(first, LATER, an_act(), AT)
    unit.admit_member(second, LATER, an_act(), AT)
    unit.release_member(first, LATER, an_act(), AT)

    events = unit.collect_events()
    assert [(type(e), getattr(e, "person_id", None)) for e in events] == [
        (Unit.MemberJoined, first), (Unit.MemberJoined, second), (Unit.MemberLeft, first)]
    assert unit.member_ids == {second}


def test_member_cannot_join_a_unit_before_it_was_established() -> None:
    unit = a_unit(effective_on=date(2021, 1, 1))

    with pytest.raises(EffectiveBeforeStart) as refused:
        unit.admit_member(uuid4(), date(2020, 6, 1), an_act(), AT)

    assert refused.value.field == "effectiveOn"
    assert unit.collect_events() == []


def test_opening_and_closing_a_position_keeps_the_roster() -> None:
    unit, position = a_unit(), uuid4()

    unit.open_position(position, LATER, an_act(), AT)
    unit.close_position(position, LATER, an_act(), AT)

    assert [type(e) for e in unit.collect_events()] == [Unit.PositionOpened, Unit.PositionClosed]
    assert unit.position_ids == set()


def test_attaching_and_detaching_a_child_keeps_the_roster() -> None:
    unit, child = a_unit(), uuid4()

    unit.attach_child(child, LATER, an_act(), AT)
    unit.detach_child(child, LATER, an_act(), AT)

    assert [type(e) for e in unit.collect_events()] == [Unit.ChildAttached, Unit.ChildDetached]
    assert unit.child_ids == set()


def test_replaying_a_units_events_rebuilds_the_same_state() -> None:
    parent = a_unit()
    unit = Unit.establish(unit_id=uuid4(), code="T1", name="Tỉnh", kind=UnitKind.PROVINCE, autonomy=None,
                          parent=parent, change=ChangeKind.ESTABLISH, predecessor_ids=[], effective_on=START,
                          act=an_act(), at=AT)
    unit.rename(name="Tỉnh mới", code="T2", effective_on=LATER, act=an_act(), at=AT)
    member: UUID = uuid4()
    unit.admit_member(member, LATER, an_act(), AT)
    events = unit.collect_events()

    copy: Unit | None = None
    for event in events:
        copy = event.mutate(copy)

    assert copy is not None
    assert (copy.name, copy.code, copy.member_ids, copy.parent_id) == ("Tỉnh mới", "T2", {member}, parent.id)
