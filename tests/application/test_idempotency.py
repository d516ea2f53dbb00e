"""Request keys: a repeated command returns its first result and acts only once."""

from __future__ import annotations

from datetime import date

import pytest

from staffing.application import (
    AdjustUnitFunctions,
    AssignQuota,
    CreatePosition,
    DissolveUnit,
    RecruitPerson,
    RenameUnit,
)
from staffing.bootstrap import Ledger
from staffing.domain.errors import IdempotencyConflict, UnitEnded
from tests.application.helpers import last_position, unit
from tests.builders import START, an_act, establish

pytestmark = pytest.mark.usefixtures("write_side_only")

LATER = date(2021, 6, 1)


def test_repeating_a_command_with_its_request_key_returns_the_first_result_and_writes_nothing(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)

    def recruit() -> dict[str, str]:
        return ledger.service.execute(RecruitPerson(full_name="Vũ Thị Mai", birth_date=date(1990, 1, 1), gender="FEMALE", category="CIVIL_SERVANT", unit_id=unit_id, effective_on=START, act=an_act()), request_key="tuyen-dung-0001")

    first = recruit()
    head = last_position(ledger)

    again = recruit()

    assert again == first
    assert last_position(ledger) == head
    assert {str(m) for m in unit(ledger, unit_id).member_ids} == {first.person_id}


def test_request_key_reused_with_different_arguments_is_an_idempotency_conflict(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    ledger.service.execute(AssignQuota(unit_id=unit_id, category="CIVIL_SERVANT", kind="ASSIGNED", amount=40, effective_on=START, act=an_act()), request_key="bien-che-2020")
    head = last_position(ledger)

    with pytest.raises(IdempotencyConflict) as refused:
        ledger.service.execute(AssignQuota(unit_id=unit_id, category="CIVIL_SERVANT", kind="ASSIGNED", amount=45, effective_on=START, act=an_act()), request_key="bien-che-2020")

    assert (refused.value.code, refused.value.field) == ("IDEMPOTENCY_CONFLICT", "requestKey")
    assert last_position(ledger) == head


def test_request_key_reused_for_a_different_command_is_an_idempotency_conflict(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    ledger.service.execute(RenameUnit(unit_id=unit_id, name="Tên mới", effective_on=LATER, act=an_act()), request_key="k-1")

    with pytest.raises(IdempotencyConflict):
        ledger.service.execute(AdjustUnitFunctions(unit_id=unit_id, functions="Tên mới", effective_on=LATER, act=an_act()), request_key="k-1")

    assert unit(ledger, unit_id).functions == ""


def test_repeat_is_answered_from_the_first_result_even_after_the_state_has_moved_on(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    first = ledger.service.execute(RenameUnit(unit_id=unit_id, name="Tên mới", effective_on=LATER, act=an_act()), request_key="doi-ten")
    ledger.service.execute(DissolveUnit(unit_id=unit_id, effective_on=date(2022, 1, 1), act=an_act()))

    again = ledger.service.execute(RenameUnit(unit_id=unit_id, name="Tên mới", effective_on=LATER, act=an_act()), request_key="doi-ten")

    assert again == first


def test_refused_command_does_not_use_up_its_request_key(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    ledger.service.execute(DissolveUnit(unit_id=unit_id, effective_on=LATER, act=an_act()))
    with pytest.raises(UnitEnded):
        ledger.service.execute(CreatePosition(unit_id=unit_id, title="Văn thư", group="SUPPORT", rank="Nhân viên", effective_on=date(2022, 1, 1), act=an_act()), request_key="vtvl-1")
    other = establish(ledger.service)

    result = ledger.service.execute(CreatePosition(unit_id=other, title="Văn thư", group="SUPPORT", rank="Nhân viên", effective_on=date(2022, 1, 1), act=an_act()), request_key="vtvl-1")

    assert result.position_id in {str(p) for p in unit(ledger, other).position_ids}
