"""A change in the middle of someone's path tells every unit and position on it (domain.stays).

Found by the grouped differential test (tests/projections/test_differential_groups.py, CI of
2026-12-07): a transfer P → R retracted while a later transfer R → Q stood left the person in P
until the Q transfer, but P's roster had only heard of the departure to R, so P could be dissolved
in between with the person still in it. The same held for a late transfer slipped into the middle
of a path, for a child unit whose middle move was retracted, and for a position abolished before
its holder's recorded departure.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from staffing.application import (
    AbolishPosition,
    DissolveUnit,
    MoveUnit,
    RetractFact,
)
from staffing.bootstrap import Ledger
from staffing.domain.errors import OutOfOrderFact, PositionUnavailable, UnitEnded
from staffing.domain.reorganisation import StuckInEndedUnit
from staffing.domain.unit import Unit
from tests.application.helpers import events, last_position, person, unit
from tests.builders import an_act, create_position, establish, recruit, transfer

BACKENDS = ("memory",)  # the fast tier: handlers on the in-memory event store

SINCE, MIDDLE, DISSOLVED, LAST = date(2020, 1, 1), date(2024, 1, 1), date(2025, 3, 1), date(2026, 1, 1)


def _three_communes(ledger: Ledger, kind: str = "COMMUNE") -> tuple[str, str, str]:
    province = establish(ledger.service)
    return tuple(establish(ledger.service, parent_id=province, kind=kind) for _ in range(3))  # type: ignore[return-value]


def _dissolve(ledger: Ledger, unit_id: str, on: date = DISSOLVED) -> None:
    ledger.service.execute(DissolveUnit(unit_id=unit_id, effective_on=on, act=an_act()))  # type: ignore[arg-type]


def test_retracting_a_middle_transfer_keeps_the_unit_before_it_from_ending_while_the_person_is_still_there(
        ledger: Ledger) -> None:
    p, r, q = _three_communes(ledger)
    someone = recruit(ledger.service, p, effective_on=SINCE)
    middle = transfer(ledger.service, someone, r, MIDDLE)
    transfer(ledger.service, someone, q, LAST)

    ledger.service.execute(RetractFact(fact_id=middle, reason="nhập nhầm", act=an_act()))

    assert unit(ledger, p).roster_changed_on == LAST  # P learnt the person stayed until the Q transfer
    learnt = [(type(e), e.effective_on) for e in events(ledger, p)[-2:]]
    assert learnt == [(Unit.MemberJoined, SINCE), (Unit.MemberLeft, LAST)]
    head = last_position(ledger)
    with pytest.raises(OutOfOrderFact) as refused:
        _dissolve(ledger, p)
    assert refused.value.field == "effectiveOn" and LAST.isoformat() in refused.value.message
    assert last_position(ledger) == head
    _dissolve(ledger, p, LAST)  # on the day they left, it may end
    assert unit(ledger, p).ended_on == LAST


def test_a_unit_dissolved_before_the_retraction_makes_the_retraction_refused(ledger: Ledger) -> None:
    p, r, q = _three_communes(ledger)
    someone = recruit(ledger.service, p, effective_on=SINCE)
    middle = transfer(ledger.service, someone, r, MIDDLE)
    transfer(ledger.service, someone, q, LAST)
    _dissolve(ledger, p)
    head = last_position(ledger)

    with pytest.raises(StuckInEndedUnit) as refused:
        ledger.service.execute(RetractFact(fact_id=middle, reason="nhập nhầm", act=an_act()))

    assert refused.value.field == "factId" and "dissolved on 2025-03-01" in refused.value.message
    assert last_position(ledger) == head


def test_a_late_transfer_into_the_middle_of_a_path_keeps_that_unit_from_ending_during_the_stay(
        ledger: Ledger) -> None:
    p, r, q = _three_communes(ledger)
    someone = recruit(ledger.service, p, effective_on=SINCE)
    transfer(ledger.service, someone, q, LAST)

    transfer(ledger.service, someone, r, MIDDLE)  # late: before the Q transfer on record

    assert [person(ledger, someone).placement_on(d).unit_id for d in (SINCE, DISSOLVED, LAST)] == [  # type: ignore[union-attr]
        UUID(p), UUID(r), UUID(q)]
    assert unit(ledger, r).roster_changed_on == LAST and UUID(someone) not in unit(ledger, r).member_ids
    with pytest.raises(OutOfOrderFact):
        _dissolve(ledger, r)


def test_the_unit_the_person_ends_up_in_keeps_them_on_its_roster_when_it_learns_of_an_earlier_stay(
        ledger: Ledger) -> None:
    p, r, _ = _three_communes(ledger)
    someone = recruit(ledger.service, p, effective_on=SINCE)
    post = create_position(ledger.service, p, effective_on=SINCE)
    transfer(ledger.service, someone, p, LAST, position_id=post)  # P, then another post in P from LAST
    transfer(ledger.service, someone, r, MIDDLE)  # late: P → R → P

    assert UUID(someone) in unit(ledger, p).member_ids and unit(ledger, p).roster_changed_on == LAST
    assert UUID(someone) not in unit(ledger, r).member_ids and unit(ledger, r).roster_changed_on == LAST


def test_a_position_cannot_be_abolished_before_its_holder_leaves_it(ledger: Ledger) -> None:
    p, _, _ = _three_communes(ledger)
    first, second = (create_position(ledger.service, p, effective_on=SINCE) for _ in range(2))
    someone = recruit(ledger.service, p, position_id=first, effective_on=SINCE)
    transfer(ledger.service, someone, p, LAST, position_id=second)
    head = last_position(ledger)

    with pytest.raises(OutOfOrderFact) as refused:
        ledger.service.execute(AbolishPosition(position_id=first, effective_on=DISSOLVED, act=an_act()))  # type: ignore[arg-type]

    assert LAST.isoformat() in refused.value.message and last_position(ledger) == head


def test_a_late_fact_that_would_keep_someone_in_a_position_after_its_abolition_is_refused(ledger: Ledger) -> None:
    p, r, q = _three_communes(ledger)
    post = create_position(ledger.service, r, effective_on=SINCE)
    ledger.service.execute(AbolishPosition(position_id=post, effective_on=DISSOLVED, act=an_act()))  # type: ignore[arg-type]
    someone = recruit(ledger.service, p, effective_on=SINCE)
    transfer(ledger.service, someone, q, LAST)
    head = last_position(ledger)

    with pytest.raises(PositionUnavailable) as refused:
        transfer(ledger.service, someone, r, MIDDLE, position_id=post)  # would hold it until LAST

    assert "abolished on 2025-03-01" in refused.value.message and last_position(ledger) == head
    transfer(ledger.service, someone, r, DISSOLVED)  # in R without the post from the day it goes
    transfer(ledger.service, someone, r, MIDDLE, position_id=post)
    assert person(ledger, someone).placement_on(MIDDLE).position_id == UUID(post)  # type: ignore[union-attr]


def test_retracting_a_middle_move_of_a_child_unit_keeps_its_earlier_parent_from_ending_under_it(
        ledger: Ledger) -> None:
    p, r, q = _three_communes(ledger, kind="DISTRICT")
    child = establish(ledger.service, parent_id=p, kind="COMMUNE", effective_on=SINCE)
    middle = ledger.service.execute(MoveUnit(unit_id=child, new_parent_id=r, effective_on=MIDDLE, act=an_act()))  # type: ignore[arg-type]
    ledger.service.execute(MoveUnit(unit_id=child, new_parent_id=q, effective_on=LAST, act=an_act()))  # type: ignore[arg-type]

    ledger.service.execute(RetractFact(fact_id=middle.fact_id, reason="nhầm đơn vị", act=an_act()))

    assert unit(ledger, p).roster_changed_on == LAST and UUID(child) not in unit(ledger, p).child_ids
    with pytest.raises(OutOfOrderFact):
        _dissolve(ledger, p)


def test_retracting_a_middle_move_is_refused_when_the_earlier_parent_has_ended_meanwhile(ledger: Ledger) -> None:
    p, r, q = _three_communes(ledger, kind="DISTRICT")
    child = establish(ledger.service, parent_id=p, kind="COMMUNE", effective_on=SINCE)
    middle = ledger.service.execute(MoveUnit(unit_id=child, new_parent_id=r, effective_on=MIDDLE, act=an_act()))  # type: ignore[arg-type]
    ledger.service.execute(MoveUnit(unit_id=child, new_parent_id=q, effective_on=LAST, act=an_act()))  # type: ignore[arg-type]
    _dissolve(ledger, p)
    head = last_position(ledger)

    with pytest.raises(UnitEnded) as refused:
        ledger.service.execute(RetractFact(fact_id=middle.fact_id, reason="nhầm đơn vị", act=an_act()))

    assert refused.value.field == "factId" and "ended on 2025-03-01" in refused.value.message
    assert last_position(ledger) == head
