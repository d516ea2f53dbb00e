"""Unit use cases through the service: establish, rename, move, change model, adjust functions, dissolve."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from staffing.application import AdjustUnitFunctions, ChangeUnitModel, DissolveUnit, EstablishUnit, MoveUnit, RenameUnit
from staffing.bootstrap import Ledger
from staffing.domain.errors import (
    DuplicateCode,
    HierarchyCycle,
    InvalidInput,
    NotFound,
    UnitEnded,
    UnitNotEmpty,
)
from staffing.domain.unit import Unit
from staffing.domain.values import FinancialAutonomy, UnitKind, UnitStatus
from tests.application.helpers import events, ids, last_position, unit
from tests.builders import START, an_act, create_position, establish, recruit

pytestmark = pytest.mark.usefixtures("write_side_only")
BACKENDS = ("memory",)  # the fast tier: handlers on the in-memory event store

LATER = date(2021, 6, 1)


# ====================================================================== establish
def test_established_unit_is_stored_with_its_code_name_kind_and_legal_basis(ledger: Ledger) -> None:
    act = an_act("123/QĐ-TTg", date(2019, 12, 1), "Thủ tướng Chính phủ")

    result = ledger.service.execute(EstablishUnit(code="T08", name="Ủy ban nhân dân tỉnh Tuyên Quang", kind="PROVINCE", parent_id=None, effective_on=START, act=act))

    stored = unit(ledger, result.unit_id)
    assert (stored.code, stored.name, stored.kind, stored.status) == (
        "T08", "Ủy ban nhân dân tỉnh Tuyên Quang", UnitKind.PROVINCE, UnitStatus.ACTIVE)
    (established,) = events(ledger, result.unit_id)
    assert (established.act, established.effective_on) == (act, START)
    assert result.fact_id == f"{result.unit_id}:1"



def test_unit_established_under_a_parent_is_among_the_parents_children(ledger: Ledger) -> None:
    province = establish(ledger.service)

    commune = establish(ledger.service, parent_id=province, kind="COMMUNE")

    assert unit(ledger, province).child_ids == {unit(ledger, commune).id}
    assert str(unit(ledger, commune).parent_id) == province


def test_unit_cannot_be_established_under_a_parent_that_does_not_exist(ledger: Ledger) -> None:
    with pytest.raises(NotFound) as refused:
        establish(ledger.service, parent_id=str(uuid4()))

    assert (refused.value.code, refused.value.field) == ("NOT_FOUND", "parentId")




def test_code_held_by_a_live_unit_cannot_be_used_again_in_any_letter_case(ledger: Ledger) -> None:
    establish(ledger.service, code="XÃ-01")
    before = last_position(ledger)

    with pytest.raises(DuplicateCode) as refused:
        establish(ledger.service, code="xã-01")

    assert (refused.value.code, refused.value.field) == ("DUPLICATE_CODE", "code")
    assert last_position(ledger) == before


def test_id_that_names_something_other_than_a_unit_is_not_found(ledger: Ledger) -> None:
    province = establish(ledger.service)
    person_id = recruit(ledger.service, province)

    with pytest.raises(NotFound) as refused:
        ledger.service.execute(RenameUnit(unit_id=person_id, name="Tên mới", effective_on=LATER, act=an_act()))

    assert refused.value.field == "unitId"


def test_malformed_unit_id_is_invalid_input(ledger: Ledger) -> None:
    with pytest.raises(InvalidInput) as refused:
        ledger.service.execute(RenameUnit(unit_id="not-a-uuid", name="Tên mới", effective_on=LATER, act=an_act()))

    assert refused.value.field == "unitId"


# ====================================================================== rename
def test_renaming_a_unit_records_the_new_name_and_code(ledger: Ledger) -> None:
    unit_id = establish(ledger.service, code="H01", name="Huyện Yên Sơn")

    result = ledger.service.execute(RenameUnit(unit_id=unit_id, name="Thị xã Yên Sơn", code="TX01", effective_on=LATER, act=an_act()))

    stored = unit(ledger, unit_id)
    assert (stored.name, stored.code) == ("Thị xã Yên Sơn", "TX01")
    assert result.fact_id == f"{unit_id}:{stored.version}"


def test_code_a_unit_was_renamed_away_from_is_free_for_another_unit(ledger: Ledger) -> None:
    renamed = establish(ledger.service, code="H01")
    ledger.service.execute(RenameUnit(unit_id=renamed, name="Thị xã", code="TX01", effective_on=LATER, act=an_act()))

    newcomer = establish(ledger.service, code="H01")

    assert unit(ledger, newcomer).code == "H01"


def test_unit_cannot_be_renamed_to_the_code_of_another_live_unit(ledger: Ledger) -> None:
    establish(ledger.service, code="H01")
    other = establish(ledger.service, code="H02")

    with pytest.raises(DuplicateCode):
        ledger.service.execute(RenameUnit(unit_id=other, name="Huyện", code="H01", effective_on=LATER, act=an_act()))

    assert unit(ledger, other).code == "H02"



# ====================================================================== move
def test_moving_a_unit_updates_both_parents_children(ledger: Ledger) -> None:
    old_parent, new_parent = establish(ledger.service), establish(ledger.service)
    child = establish(ledger.service, parent_id=old_parent, kind="DISTRICT")

    ledger.service.execute(MoveUnit(unit_id=child, new_parent_id=new_parent, effective_on=LATER, act=an_act()))

    assert str(unit(ledger, child).parent_id) == new_parent
    assert ids(unit(ledger, old_parent).child_ids) == set()
    assert ids(unit(ledger, new_parent).child_ids) == {child}


def test_unit_cannot_be_moved_under_its_own_grandchild(ledger: Ledger) -> None:
    province = establish(ledger.service)
    district = establish(ledger.service, parent_id=province, kind="DISTRICT")
    commune = establish(ledger.service, parent_id=district, kind="COMMUNE")
    before = last_position(ledger)

    with pytest.raises(HierarchyCycle) as refused:
        ledger.service.execute(MoveUnit(unit_id=province, new_parent_id=commune, effective_on=LATER, act=an_act()))

    assert refused.value.field == "newParentId"
    assert last_position(ledger) == before


# ====================================================================== change model, functions
def test_changing_a_units_model_records_the_new_kind_and_autonomy(ledger: Ledger) -> None:
    unit_id = establish(ledger.service, kind="DIVISION")

    ledger.service.execute(ChangeUnitModel(unit_id=unit_id, kind="PUBLIC_SERVICE_UNIT", autonomy="FULLY_BUDGET_FUNDED", effective_on=LATER, act=an_act()))

    stored = unit(ledger, unit_id)
    assert (stored.kind, stored.autonomy) == (UnitKind.PUBLIC_SERVICE_UNIT, FinancialAutonomy.FULLY_BUDGET_FUNDED)


def test_changing_a_model_to_a_non_public_service_unit_with_autonomy_is_refused(ledger: Ledger) -> None:
    unit_id = establish(ledger.service, kind="DIVISION")

    with pytest.raises(InvalidInput) as refused:
        ledger.service.execute(ChangeUnitModel(unit_id=unit_id, kind="BUREAU", autonomy="FULLY_BUDGET_FUNDED", effective_on=LATER, act=an_act()))

    assert refused.value.field == "autonomy"


def test_adjusting_a_units_functions_records_them(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)

    ledger.service.execute(AdjustUnitFunctions(unit_id=unit_id, functions="Quản lý nhà nước về nội vụ", effective_on=LATER, act=an_act()))

    assert unit(ledger, unit_id).functions == "Quản lý nhà nước về nội vụ"


def test_functions_of_a_dissolved_unit_cannot_be_adjusted(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    ledger.service.execute(DissolveUnit(unit_id=unit_id, effective_on=LATER, act=an_act()))

    with pytest.raises(UnitEnded) as refused:
        ledger.service.execute(AdjustUnitFunctions(unit_id=unit_id, functions="Mới", effective_on=date(2022, 1, 1), act=an_act()))

    assert refused.value.field == "unitId"
    assert unit(ledger, unit_id).functions == ""


# ====================================================================== dissolve
def test_dissolving_an_empty_unit_ends_it_and_removes_it_from_its_parent(ledger: Ledger) -> None:
    province = establish(ledger.service)
    commune = establish(ledger.service, parent_id=province, kind="COMMUNE")

    result = ledger.service.execute(DissolveUnit(unit_id=commune, effective_on=LATER, act=an_act()))

    stored = unit(ledger, commune)
    assert (stored.status, stored.ended_on) == (UnitStatus.ENDED, LATER)
    assert unit(ledger, province).child_ids == set()
    assert isinstance(events(ledger, commune)[-1], Unit.Ended)
    assert result.fact_id == f"{commune}:{stored.version}"


@pytest.mark.parametrize("holding", ["person", "position", "child unit"])
def test_unit_that_still_holds_something_cannot_be_dissolved(ledger: Ledger, holding: str) -> None:
    unit_id = establish(ledger.service)
    if holding == "person":
        recruit(ledger.service, unit_id)
    elif holding == "position":
        create_position(ledger.service, unit_id)
    else:
        establish(ledger.service, parent_id=unit_id, kind="COMMUNE")
    before = last_position(ledger)

    with pytest.raises(UnitNotEmpty) as refused:
        ledger.service.execute(DissolveUnit(unit_id=unit_id, effective_on=LATER, act=an_act()))

    assert refused.value.code == "UNIT_NOT_EMPTY"
    assert unit(ledger, unit_id).status is UnitStatus.ACTIVE
    assert last_position(ledger) == before


def test_code_of_a_dissolved_unit_is_free_again(ledger: Ledger) -> None:
    old = establish(ledger.service, code="P07")
    ledger.service.execute(DissolveUnit(unit_id=old, effective_on=LATER, act=an_act()))

    new = establish(ledger.service, code="P07", effective_on=LATER)

    assert unit(ledger, new).code == "P07" and new != old
