"""A command lands whole or not at all: a refusal or a crash midway writes nothing.

The crash is simulated with a fake of the infrastructure (the event store's ``save``), never of
our own code.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest

from staffing.application import MergeUnits, NewUnit
from staffing.bootstrap import Ledger
from staffing.domain.errors import OutOfOrderFact
from staffing.domain.person import Person
from staffing.domain.position import Position
from staffing.domain.quota import StaffingQuota
from staffing.domain.unit import Unit
from staffing.domain.unit_code import UnitCode
from staffing.domain.values import UnitKind, UnitStatus
from tests.application.helpers import last_position, unit
from tests.builders import Province, an_act, establish_province, recruit

pytestmark = pytest.mark.usefixtures("write_side_only")

MERGED_ON = date(2025, 7, 1)


class DiskFull(Exception):
    pass


def versions(ledger: Ledger, aggregate_ids: list[str]) -> dict[str, int]:
    return {i: ledger.store.repository.get(UUID(i)).version for i in aggregate_ids}


def everything_in(province: Province) -> list[str]:
    return [province.id, *[i for c in province.communes for i in (c.id, *c.position_ids, *c.person_ids)]]


def consolidate_communes(ledger: Ledger, province: Province) -> dict[str, Any]:
    return ledger.service.execute(MergeUnits(source_unit_ids=province.commune_ids, effective_on=MERGED_ON, act=an_act(signed_on=date(2025, 6, 12)), new_unit=NewUnit(code="X-NEW", name="Xã Minh Thanh", kind=UnitKind.COMMUNE, parent_id=UUID(province.id)), excess_allowed_until=date(2030, 7, 1)))


def test_consolidation_refused_midway_by_an_out_of_order_fact_lands_nothing(ledger: Ledger) -> None:
    province = establish_province(ledger.service, communes=2)
    # the second commune's newcomer was recruited after the merger's effective date: moving them
    # fails only after the first commune's contents have been moved in memory
    late = recruit(ledger.service, province.communes[1].id, effective_on=date(2025, 8, 1))
    watched = [*everything_in(province), late]
    before_versions, before_position = versions(ledger, watched), last_position(ledger)

    with pytest.raises(OutOfOrderFact) as refused:
        consolidate_communes(ledger, province)

    assert refused.value.field == "effectiveOn"
    assert last_position(ledger) == before_position
    assert versions(ledger, watched) == before_versions
    assert all(unit(ledger, c).status is UnitStatus.ACTIVE for c in province.commune_ids)


def test_crash_while_saving_a_consolidation_lands_nothing(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    province = establish_province(ledger.service, communes=2, people_per_commune=2)
    before_versions, before_position = versions(ledger, everything_in(province)), last_position(ledger)
    handed_over: list[tuple[Any, ...]] = []

    def crashing_save(events: Any) -> None:
        handed_over.append(tuple(events))
        raise DiskFull("no space left on device")

    monkeypatch.setattr(ledger.store, "save_events", crashing_save)

    with pytest.raises(DiskFull):
        consolidate_communes(ledger, province)

    (events,) = handed_over  # every event of the whole reorganisation was handed to the store as one save
    kinds = {type(e).__qualname__.split(".")[0] for e in events}
    assert {k.__name__ for k in (Unit, Person, Position, StaffingQuota, UnitCode)} <= kinds
    assert {str(e.originator_id) for e in events} >= set(everything_in(province))
    assert last_position(ledger) == before_position
    assert versions(ledger, everything_in(province)) == before_versions


def test_command_that_crashed_while_saving_can_simply_be_submitted_again(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    province = establish_province(ledger.service, communes=2)

    def crashing_save(*_: Any, **__: Any) -> None:
        raise DiskFull("no space left on device")

    monkeypatch.setattr(ledger.store, "save_events", crashing_save)
    with pytest.raises(DiskFull):
        consolidate_communes(ledger, province)
    monkeypatch.undo()

    result = consolidate_communes(ledger, province)

    successor = unit(ledger, result.unit_id)
    assert {str(p) for p in successor.member_ids} == {p for c in province.communes for p in c.person_ids}
