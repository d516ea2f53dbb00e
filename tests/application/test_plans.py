"""Several commands as one decision: atomic plans, the import's prefix mode, dry runs, request keys."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from staffing.application import (
    AllowExcess,
    AssignQuota,
    EstablishUnit,
    Item,
    MergeUnits,
    Mode,
    NewUnit,
    RecruitPerson,
    TransferPerson,
)
from staffing.application.service import MAX_COMMANDS
from staffing.bootstrap import Ledger
from staffing.domain.errors import IdempotencyConflict, InvalidInput, NotFound, UnitEnded
from staffing.domain.unit import Unit
from staffing.domain.values import PersonnelCategory, QuotaKind
from tests.application.helpers import last_position, person, quota, unit
from tests.builders import an_act, establish, establish_province

BACKENDS = ("memory",)  # the fast tier: handlers on the in-memory event store

REFORM = date(2025, 7, 1)


def _consolidation_plan(province: Any, new_id: UUID, person_id: UUID) -> list[Item]:
    """Hợp nhất two communes, set the new commune's quota and exception, recruit into it, transfer there."""
    act = an_act("1656/NQ-UBTVQH15", REFORM)
    return [Item(c) for c in (
        MergeUnits(source_unit_ids=province.commune_ids, effective_on=REFORM, act=act,
                   new_unit=NewUnit(code="X-MOI", name="Xã Minh Tân", kind="COMMUNE", parent_id=province.id,
                                    id=new_id)),
        AssignQuota(unit_id=new_id, category="CIVIL_SERVANT", kind="ASSIGNED", amount=12, effective_on=REFORM, act=act),
        AllowExcess(unit_id=new_id, until=date(2030, 7, 1), reason="hợp nhất", effective_on=REFORM, act=act),
        RecruitPerson(id=person_id, full_name="Lò Thị Hoa", birth_date=date(1995, 4, 1), gender="FEMALE",
                      category="CIVIL_SERVANT", unit_id=new_id, effective_on=REFORM, act=act),
        TransferPerson(person_id=person_id, to_unit_id=province.id, effective_on=date(2025, 9, 1), act=act),
    )]


def test_a_plan_mixing_a_consolidation_quota_and_recruitment_into_the_new_unit_lands_in_one_save(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    province = establish_province(ledger.service, communes=2, people_per_commune=2)
    new_id, person_id = uuid4(), uuid4()
    saves: list[int] = []
    real_save = ledger.store.save_events
    monkeypatch.setattr(ledger.store, "save_events", lambda events: saves.append(len(events)) or real_save(events))

    outcome = ledger.service.run(_consolidation_plan(province, new_id, person_id), Mode.ATOMIC)

    assert outcome.recorded and outcome.errors == {}
    assert len(saves) == 1
    assert unit(ledger, new_id).code == "X-MOI"
    assert quota(ledger, new_id).current(PersonnelCategory.CIVIL_SERVANT, QuotaKind.ASSIGNED) == 12
    assert person(ledger, person_id).placement.unit_id == UUID(province.id)
    assert outcome.ids == [str(new_id), str(new_id), str(new_id), str(person_id), str(person_id)]
    assert str(new_id) in outcome.touched_units and province.id in outcome.touched_units


def test_a_plan_whose_fifth_command_is_refused_writes_nothing_and_names_index_4(ledger: Ledger) -> None:
    province = establish_province(ledger.service, communes=2)
    plan = _consolidation_plan(province, uuid4(), uuid4())[:4]
    plan.append(Item(RecruitPerson(full_name="Hà Văn Sơn", birth_date=date(1990, 1, 1), gender="MALE",
                                   category="CIVIL_SERVANT", unit_id=province.commune_ids[0], effective_on=REFORM,
                                   act=an_act())))  # into a commune the plan's first command ended
    head = last_position(ledger)

    outcome = ledger.service.run(plan, Mode.ATOMIC)

    assert not outcome.recorded
    assert list(outcome.errors) == [4] and isinstance(outcome.errors[4], UnitEnded)
    assert last_position(ledger) == head
    assert unit(ledger, province.commune_ids[0]).status.value == "ACTIVE"


def test_prefix_mode_records_the_commands_before_the_first_refused_one(ledger: Ledger) -> None:
    items = [Item(EstablishUnit(code=f"T{i}", name=f"Tỉnh {i}", kind="PROVINCE", effective_on=date(2020, 1, 1),
                                act=an_act())) for i in range(3)]
    items.insert(2, Item(AssignQuota(unit_id=uuid4(), category="CADRE", kind="ASSIGNED", amount=1,
                                     effective_on=date(2020, 1, 1), act=an_act())))

    outcome = ledger.service.run(items, Mode.PREFIX)

    assert outcome.recorded and list(outcome.errors) == [2] and isinstance(outcome.errors[2], NotFound)
    assert [r is not None for r in outcome.results] == [True, True, False, False]
    assert sum(isinstance(e, Unit.Established) for e in outcome.events) == 2


def test_a_dry_run_records_nothing_and_reports_every_refused_command(ledger: Ledger) -> None:
    province = establish_province(ledger.service, communes=2)
    plan = _consolidation_plan(province, uuid4(), uuid4())
    plan.insert(1, Item(AssignQuota(unit_id=uuid4(), category="CADRE", kind="ASSIGNED", amount=1,
                                    effective_on=REFORM, act=an_act())))
    plan.append(Item(AssignQuota(unit_id=province.commune_ids[1], category="CADRE", kind="ASSIGNED", amount=1,
                                 effective_on=REFORM, act=an_act())))
    head = last_position(ledger)

    outcome = ledger.service.run(plan, Mode.DRY_RUN)

    assert not outcome.recorded
    assert sorted(outcome.errors) == [1, 6]
    assert [r is not None for r in outcome.results] == [True, False, True, True, True, True, False]
    assert any(isinstance(e, Unit.Ended) for e in outcome.events)  # what would have been written
    assert last_position(ledger) == head


def test_a_created_id_the_ledger_already_uses_is_refused(ledger: Ledger) -> None:
    existing = establish(ledger.service)

    with pytest.raises(InvalidInput) as refused:
        ledger.service.execute(EstablishUnit(id=existing, code="NEW", name="Tỉnh mới", kind="PROVINCE",
                                             effective_on=date(2020, 1, 1), act=an_act()))

    assert refused.value.field == "id"


def test_the_same_command_with_ids_as_text_or_as_uuids_has_one_fingerprint() -> None:
    unit_id = uuid4()
    as_text = AssignQuota(unit_id=str(unit_id), category="CADRE", kind="ASSIGNED", amount=3,  # type: ignore[arg-type]
                          effective_on="2021-01-01", act={"number": "1", "issuer": "x", "signedOn": "2021-01-01"})  # type: ignore[arg-type]
    as_values = AssignQuota(unit_id=unit_id, category="CADRE", kind="ASSIGNED", amount=3,  # type: ignore[arg-type]
                            effective_on=date(2021, 1, 1), act=an_act("1", date(2021, 1, 1), "x"))
    assert as_text == as_values and as_text.fingerprint() == as_values.fingerprint()
    assert as_text.fingerprint() != AssignQuota(**{**as_values.__dict__, "amount": 4}).fingerprint()


def test_a_plan_with_a_request_key_is_recorded_once_and_a_different_plan_under_it_is_refused(ledger: Ledger) -> None:
    province = establish_province(ledger.service, communes=2)
    plan = _consolidation_plan(province, uuid4(), uuid4())
    first = ledger.service.run(plan, Mode.ATOMIC, request_key="plan-1656")
    head = last_position(ledger)

    again = ledger.service.run(plan, Mode.ATOMIC, request_key="plan-1656")

    assert again.recorded and again.ids == first.ids and again.replayed == len(plan)
    assert last_position(ledger) == head
    with pytest.raises(IdempotencyConflict):
        ledger.service.run(plan[:2], Mode.ATOMIC, request_key="plan-1656")


def test_more_commands_than_the_limit_are_refused_before_anything_is_decided(ledger: Ledger) -> None:
    item = Item(EstablishUnit(code="X", name="X", kind="PROVINCE", effective_on=date(2020, 1, 1), act=an_act()))

    with pytest.raises(InvalidInput) as refused:
        ledger.service.run([item] * (MAX_COMMANDS + 1), Mode.DRY_RUN)

    assert refused.value.field == "commands" and str(MAX_COMMANDS) in refused.value.message


def test_a_request_key_recorded_before_commands_were_typed_still_answers_with_its_first_result(
    ledger: Ledger,
) -> None:
    """Keys stored by the first round (snake_case command names, camelCase result keys) replay as typed results."""
    from staffing.application import UnitRecorded
    from staffing.domain.request import Request

    unit_id = establish(ledger.service)
    ledger.store.save(Request.handled(key="bien-che-2020", command="assign_quota", fingerprint="positional-args",
                                      result={"unitId": unit_id, "factId": f"{unit_id}:7"}, at=ledger.service.clock()))
    head = last_position(ledger)

    again = ledger.service.execute(AssignQuota(unit_id=unit_id, category="CADRE", kind="ASSIGNED", amount=3,  # type: ignore[arg-type]
                                               effective_on=date(2020, 1, 1), act=an_act()), "bien-che-2020")

    assert again == UnitRecorded(unit_id=unit_id, fact_id=f"{unit_id}:7")
    assert last_position(ledger) == head
    with pytest.raises(IdempotencyConflict):
        ledger.service.execute(EstablishUnit(code="Z", name="Z", kind="PROVINCE", effective_on=date(2020, 1, 1),
                                             act=an_act()), "bien-che-2020")
