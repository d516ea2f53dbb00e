"""Position (vị trí việc làm): create, regrade, move, abolish, holders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import uuid4

import pytest

from staffing.domain.errors import EffectiveBeforeStart, InvalidInput, OutOfOrderFact, PositionUnavailable, UnitNotEmpty
from staffing.domain.position import Position
from staffing.domain.values import PositionGroup
from tests.builders import AT, START, a_position, an_act, the_event

LATER = date(2021, 6, 1)


def abolished(position: Position) -> Position:
    position.abolish(effective_on=LATER, act=an_act(), at=AT)
    position.collect_events()
    return position


def test_creating_a_position_records_its_unit_title_group_and_rank() -> None:
    unit_id, position_id = uuid4(), uuid4()

    position = Position.create(position_id=position_id, unit_id=unit_id, title="Trưởng phòng",
                               group=PositionGroup.LEADERSHIP, rank="Chuyên viên chính", effective_on=START,
                               act=an_act(), at=AT)

    event = the_event(position, Position.Created)
    assert (event.originator_id, event.unit_id, event.title, event.group, event.rank, event.effective_on) == (
        position_id, unit_id, "Trưởng phòng", "LEADERSHIP", "Chuyên viên chính", START)
    assert position.is_open and position.holder_ids == set()


@pytest.mark.parametrize(("title", "rank", "field"), [(" ", "Chuyên viên", "title"), ("Kế toán", "", "rank")])
def test_position_needs_a_title_and_a_rank(title: str, rank: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        a_position(title=title, rank=rank)

    assert refused.value.field == field


def test_regrading_a_position_records_the_new_title_group_and_rank() -> None:
    position = a_position(title="Chuyên viên", group=PositionGroup.SECTOR_PROFESSIONAL, rank="Chuyên viên")

    position.regrade(title="Phó trưởng phòng", group=PositionGroup.LEADERSHIP, rank="Chuyên viên chính",
                     effective_on=LATER, act=an_act(), at=AT)

    event = the_event(position, Position.Regraded)
    assert (event.title, event.group, event.rank) == ("Phó trưởng phòng", "LEADERSHIP", "Chuyên viên chính")


def test_regrading_only_the_rank_keeps_the_title_and_group() -> None:
    position = a_position(title="Văn thư", group=PositionGroup.SUPPORT, rank="Nhân viên")

    position.regrade(title=None, group=None, rank="Cán sự", effective_on=LATER, act=an_act(), at=AT)

    event = the_event(position, Position.Regraded)
    assert (event.title, event.group, event.rank) == ("Văn thư", "SUPPORT", "Cán sự")


def test_moving_a_position_records_its_new_unit_and_whether_a_reorganisation_moved_it() -> None:
    position, new_unit = a_position(), uuid4()

    position.move(unit_id=new_unit, by_reorganisation=True, effective_on=LATER, act=an_act(), at=AT)

    event = the_event(position, Position.Moved)
    assert (event.unit_id, event.by_reorganisation) == (new_unit, True)
    assert position.unit_id == new_unit


def test_abolishing_an_unheld_position_closes_it() -> None:
    position = a_position()

    position.abolish(effective_on=LATER, act=an_act(), at=AT)

    event = the_event(position, Position.Abolished)
    assert event.effective_on == LATER
    assert not position.is_open


def test_held_position_cannot_be_abolished() -> None:
    position = a_position()
    position.add_holder(uuid4(), START, an_act(), AT)
    position.collect_events()

    with pytest.raises(UnitNotEmpty) as refused:
        position.abolish(effective_on=LATER, act=an_act(), at=AT)

    assert (refused.value.code, refused.value.field) == ("UNIT_NOT_EMPTY", "positionId")
    assert position.is_open and position.collect_events() == []


def test_position_can_be_abolished_once_its_holder_has_gone() -> None:
    position, holder = a_position(), uuid4()
    position.add_holder(holder, START, an_act(), AT)
    position.remove_holder(holder, LATER, an_act(), AT)
    position.collect_events()

    position.abolish(effective_on=LATER, act=an_act(), at=AT)

    assert [type(e) for e in position.collect_events()] == [Position.Abolished]


ON_AN_ABOLISHED_POSITION: dict[str, Callable[[Position], None]] = {
    "regrade": lambda p: p.regrade(title="Mới", group=None, rank=None, effective_on=date(2022, 1, 1), act=an_act(),
                                   at=AT),
    "move": lambda p: p.move(unit_id=uuid4(), by_reorganisation=False, effective_on=date(2022, 1, 1), act=an_act(),
                             at=AT),
    "abolish": lambda p: p.abolish(effective_on=date(2022, 1, 1), act=an_act(), at=AT),
    "appoint to it": lambda p: p.require_available_in(p.unit_id, date(2022, 1, 1)),
}


@pytest.mark.parametrize("command", sorted(ON_AN_ABOLISHED_POSITION))
def test_abolished_position_is_unavailable(command: str) -> None:
    position = abolished(a_position())

    with pytest.raises(PositionUnavailable) as refused:
        ON_AN_ABOLISHED_POSITION[command](position)

    assert (refused.value.code, refused.value.field) == ("POSITION_UNAVAILABLE", "positionId")
    assert position.collect_events() == []


def test_position_of_another_unit_is_unavailable_for_appointment() -> None:
    position = a_position(unit_id=uuid4())

    with pytest.raises(PositionUnavailable) as refused:
        position.require_available_in(uuid4(), LATER, "toPositionId")

    assert refused.value.field == "toPositionId"


def test_open_position_of_the_unit_is_available_for_appointment() -> None:
    unit_id = uuid4()
    position = a_position(unit_id=unit_id, effective_on=START)

    position.require_available_in(unit_id, START)

    assert position.is_open


def test_position_cannot_be_used_before_it_was_created() -> None:
    position = a_position(effective_on=date(2021, 1, 1))

    with pytest.raises(EffectiveBeforeStart) as refused:
        position.require_available_in(position.unit_id, date(2020, 12, 31))

    assert refused.value.field == "effectiveOn"


def test_position_fact_dated_before_its_latest_fact_is_refused_as_out_of_order() -> None:
    position = a_position()
    position.regrade(title=None, group=None, rank="Chuyên viên chính", effective_on=date(2023, 1, 1), act=an_act(),
                     at=AT)
    position.collect_events()

    with pytest.raises(OutOfOrderFact) as refused:
        position.abolish(effective_on=date(2022, 1, 1), act=an_act(), at=AT)

    assert refused.value.field == "effectiveOn"
    assert position.collect_events() == []


def test_holders_are_added_and_removed() -> None:
    position, first, second = a_position(), uuid4(), uuid4()

    position.add_holder(first, LATER, an_act(), AT)
    position.add_holder(second, LATER, an_act(), AT)
    position.remove_holder(first, LATER, an_act(), AT)

    assert [type(e) for e in position.collect_events()] == [
        Position.HolderAdded, Position.HolderAdded, Position.HolderRemoved]
    assert position.holder_ids == {second}
