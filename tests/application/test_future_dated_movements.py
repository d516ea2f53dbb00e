"""A reorganisation may not end a unit before a movement already on record for a later date:
otherwise that person would sit, still active, in a unit that no longer exists."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from staffing.application import (
    DissolveUnit,
    MergeUnits,
    MoveUnit,
    NewUnit,
    RetirePerson,
    SplitPart,
    SplitUnit,
    TransferPerson,
)
from staffing.application.values import from_data
from staffing.bootstrap import Ledger
from staffing.domain.errors import InvalidInput, OutOfOrderFact
from tests.builders import an_act, establish, recruit

BACKENDS = ("memory",)  # the fast tier: handlers on the in-memory event store

def test_merge_is_refused_when_a_member_leaves_after_the_merge_date(ledger: Ledger) -> None:
    svc = ledger.service
    province = establish(svc)
    a, b = establish(svc, parent_id=province, kind="COMMUNE"), establish(svc, parent_id=province, kind="COMMUNE")
    person = recruit(svc, a)
    svc.execute(RetirePerson(person_id=person, effective_on=date(2025, 8, 1), act=an_act()))
    before = ledger.store.recorder.max_notification_id()

    with pytest.raises(OutOfOrderFact) as refused:
        svc.execute(MergeUnits(source_unit_ids=[a, b], new_unit=NewUnit(code="C", name="Xã C", kind="COMMUNE", parent_id=province), effective_on=date(2025, 7, 1), act=an_act()))

    assert refused.value.field == "effectiveOn" and "2025-08-01" in refused.value.message
    assert ledger.store.recorder.max_notification_id() == before


def test_dissolution_is_refused_before_a_recorded_later_departure(ledger: Ledger) -> None:
    svc = ledger.service
    unit, other = establish(svc), establish(svc)
    person = recruit(svc, unit)
    svc.execute(TransferPerson(person_id=person, to_unit_id=other, effective_on=date(2025, 8, 1), act=an_act()))

    with pytest.raises(OutOfOrderFact):
        svc.execute(DissolveUnit(unit_id=unit, effective_on=date(2025, 7, 1), act=an_act()))
    svc.execute(DissolveUnit(unit_id=unit, effective_on=date(2025, 8, 1), act=an_act()))
    assert ledger.store.repository.get(UUID(unit)).status.value == "ENDED"


def test_new_units_accept_kind_names_as_text_and_refuse_unknown_ones_by_field(ledger: Ledger) -> None:
    svc = ledger.service
    a, b = establish(svc, kind="COMMUNE"), establish(svc, kind="COMMUNE")
    with pytest.raises(InvalidInput) as refused:
        svc.execute(from_data(MergeUnits, {"sourceUnitIds": [a, b], "newUnit": {"code": "C", "name": "Xã C", "kind": "HAMLET"},
                                           "effectiveOn": "2025-07-01", "act": an_act()}))
    assert refused.value.field == "newUnit.kind"
    merged = svc.execute(MergeUnits(source_unit_ids=[a, b], new_unit=NewUnit(code="C", name="Xã C", kind="COMMUNE"), effective_on=date(2025, 7, 1), act=an_act()))
    parts = [SplitPart(unit=NewUnit(code=f"S{i}", name=f"Xã S{i}", kind="WARD")) for i in range(2)]  # type: ignore[arg-type]
    split = svc.execute(SplitUnit(unit_id=merged.unit_id, parts=parts, effective_on=date(2025, 9, 1), act=an_act()))
    assert {ledger.store.repository.get(UUID(u)).kind.value for u in split.unit_ids} == {"WARD"}


def test_move_is_refused_when_it_would_make_a_cycle_on_a_later_date_already_on_record(ledger: Ledger) -> None:
    """B goes under A for 2025-2027 (its move back is recorded first); A may not go under B in 2026."""
    from staffing.domain.errors import HierarchyCycle

    svc = ledger.service
    root = establish(svc)
    a, b = establish(svc, parent_id=root, kind="DEPARTMENT"), establish(svc, parent_id=root, kind="DEPARTMENT")
    svc.execute(MoveUnit(unit_id=b, new_parent_id=a, effective_on=date(2025, 1, 1), act=an_act()))
    svc.execute(MoveUnit(unit_id=b, new_parent_id=root, effective_on=date(2028, 1, 1), act=an_act()))
    before = ledger.store.recorder.max_notification_id()

    with pytest.raises(HierarchyCycle) as refused:
        svc.execute(MoveUnit(unit_id=a, new_parent_id=b, effective_on=date(2026, 1, 1), act=an_act()))

    assert refused.value.field == "newParentId"
    assert ledger.store.recorder.max_notification_id() == before
    svc.execute(MoveUnit(unit_id=a, new_parent_id=b, effective_on=date(2028, 1, 1), act=an_act()))  # no overlap: allowed
