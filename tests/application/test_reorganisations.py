"""Reorganisations through the service: absorb (sáp nhập), consolidate (hợp nhất), split (chia), separate (tách).

Given a province with two communes — each with a position, a person holding it, a child unit and
a civil-servant quota of 5 — when the communes are reorganised, then everything they held goes to
the successors in one save, the lineage is recorded on both sides, and the sources end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from staffing.application import MergeUnits, NewUnit, QuotaFigure, SeparateUnit, SplitPart, SplitUnit
from staffing.bootstrap import Ledger
from staffing.domain.errors import (
    AllocationIncomplete,
    DuplicateCode,
    HierarchyCycle,
    InvalidInput,
    PositionUnavailable,
    UnitEnded,
)
from staffing.domain.quota import QuotaFactReason
from staffing.domain.unit import Unit
from staffing.domain.values import PersonnelCategory, QuotaKind, UnitKind, UnitStatus
from tests.application.helpers import events, ids, last_position, person, position, quota, unit
from tests.builders import an_act, assign_quota, establish, establish_province, recruit

pytestmark = pytest.mark.usefixtures("write_side_only")
BACKENDS = ("memory",)  # the fast tier: handlers on the in-memory event store

CC, VC = PersonnelCategory.CIVIL_SERVANT, PersonnelCategory.PUBLIC_EMPLOYEE
ASSIGNED = QuotaKind.ASSIGNED
MERGED_ON = date(2025, 7, 1)
MERGER_ACT = an_act("202/2025/QH15", date(2025, 6, 12), "Quốc hội")


@dataclass
class Commune:
    id: str
    position_id: str
    person_id: str
    child_id: str


@dataclass
class Given:
    province_id: str
    a: Commune
    b: Commune


@pytest.fixture
def given(ledger: Ledger) -> Given:
    province = establish_province(ledger.service, communes=2, positions_per_commune=1, people_per_commune=1,
                                  quota_per_commune=5)
    communes = []
    for commune in province.communes:
        child = establish(ledger.service, parent_id=commune.id, kind=UnitKind.DIVISION)
        communes.append(Commune(commune.id, commune.position_ids[0], commune.person_ids[0], child))
    return Given(province.id, *communes)


def counting_saves(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """A pass-through fake of the store's save (infrastructure), recording each call's events."""
    calls: list[tuple[Any, ...]] = []
    real_save: Callable[..., Any] = ledger.store.save_events

    def save(events: Any) -> Any:
        calls.append(tuple(events))
        return real_save(events)

    monkeypatch.setattr(ledger.store, "save_events", save)
    return calls


def absorb_a_into_b(ledger: Ledger, given: Given, **options: Any) -> dict[str, Any]:
    return ledger.service.execute(MergeUnits(source_unit_ids=[given.a.id], into_unit_id=given.b.id, effective_on=MERGED_ON, act=MERGER_ACT, **options))


def consolidate(ledger: Ledger, given: Given, code: str = "X-NEW", **options: Any) -> dict[str, Any]:
    return ledger.service.execute(MergeUnits(source_unit_ids=[given.a.id, given.b.id], effective_on=MERGED_ON, act=MERGER_ACT, new_unit=NewUnit(code=code, name="Xã Minh Thanh", kind=UnitKind.COMMUNE, parent_id=UUID(given.province_id)), **options))


def lineage(entries: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(e["unit_id"], e["change"]) for e in entries]


# ====================================================================== absorb (sáp nhập)
def test_absorbing_moves_child_units_positions_and_people_to_the_receiving_unit(ledger: Ledger, given: Given) -> None:
    absorb_a_into_b(ledger, given)

    b = unit(ledger, given.b.id)
    assert ids(b.member_ids) == {given.a.person_id, given.b.person_id}
    assert ids(b.position_ids) == {given.a.position_id, given.b.position_id}
    assert ids(b.child_ids) == {given.a.child_id, given.b.child_id}
    moved = person(ledger, given.a.person_id)
    assert (str(moved.placement.unit_id), str(moved.placement.position_id)) == (given.b.id, given.a.position_id)
    assert str(position(ledger, given.a.position_id).unit_id) == given.b.id
    assert str(unit(ledger, given.a.child_id).parent_id) == given.b.id


def test_absorbing_adds_the_absorbed_units_quota_to_the_receiving_units_quota(ledger: Ledger, given: Given) -> None:
    assign_quota(ledger.service, given.a.id, 3, category=VC)

    absorb_a_into_b(ledger, given)

    assert quota(ledger, given.b.id).current_figures() == {(CC, ASSIGNED): 10, (VC, ASSIGNED): 3}
    reasons = {e.reason for e in events(ledger, quota(ledger, given.b.id).id)[-2:]}
    assert reasons == {QuotaFactReason.REORGANISATION}


def test_absorbing_ends_the_absorbed_unit_and_records_lineage_on_both_sides(ledger: Ledger, given: Given) -> None:
    result = absorb_a_into_b(ledger, given)

    a, b = unit(ledger, given.a.id), unit(ledger, given.b.id)
    assert (a.status, a.ended_on, b.status) == (UnitStatus.ENDED, MERGED_ON, UnitStatus.ACTIVE)
    assert (a.member_ids, a.position_ids, a.child_ids) == (set(), set(), set())
    assert lineage(a.successors) == [(given.b.id, "ABSORB")]
    assert lineage(b.predecessors) == [(given.a.id, "ABSORB")]
    assert ids(unit(ledger, given.province_id).child_ids) == {given.b.id}
    assert result.unit_id == given.b.id


def test_absorption_lands_in_a_single_save(ledger: Ledger, given: Given, monkeypatch: pytest.MonkeyPatch) -> None:
    saves = counting_saves(ledger, monkeypatch)

    absorb_a_into_b(ledger, given)

    (saved,) = saves
    saved_ids = {str(e.originator_id) for e in saved}
    assert {given.a.id, given.b.id, given.province_id, given.a.person_id, given.a.position_id,
            given.a.child_id} <= saved_ids
    assert quota(ledger, given.b.id).id in {e.originator_id for e in saved}


def test_absorbed_unit_cannot_receive_new_quota(ledger: Ledger, given: Given) -> None:
    absorb_a_into_b(ledger, given)

    with pytest.raises(UnitEnded) as refused:
        assign_quota(ledger.service, given.a.id, 7, effective_on=date(2025, 8, 1))

    assert (refused.value.code, refused.value.field) == ("UNIT_ENDED", "unitId")


def test_merger_may_allow_the_successor_to_exceed_its_quota_until_a_deadline(ledger: Ledger, given: Given) -> None:
    absorb_a_into_b(ledger, given, excess_allowed_until=date(2030, 7, 1))

    (exception,) = quota(ledger, given.b.id).exceptions
    assert (exception["until"], exception["effective_on"]) == (date(2030, 7, 1), MERGED_ON)


def test_unit_cannot_be_merged_into_itself(ledger: Ledger) -> None:
    commune = establish(ledger.service, kind=UnitKind.COMMUNE)

    with pytest.raises(InvalidInput) as refused:
        ledger.service.execute(MergeUnits(source_unit_ids=[commune], into_unit_id=commune, effective_on=MERGED_ON, act=MERGER_ACT))

    assert refused.value.field == "intoUnitId"
    assert unit(ledger, commune).status is UnitStatus.ACTIVE


def test_unit_cannot_be_merged_into_its_own_descendant(ledger: Ledger, given: Given) -> None:
    before = last_position(ledger)

    with pytest.raises(HierarchyCycle) as refused:
        ledger.service.execute(MergeUnits(source_unit_ids=[given.province_id], into_unit_id=given.a.child_id, effective_on=MERGED_ON, act=MERGER_ACT))

    assert refused.value.field == "intoUnitId"
    assert last_position(ledger) == before


def test_merger_needs_exactly_one_of_a_receiving_unit_or_a_new_unit(ledger: Ledger) -> None:
    a, b = establish(ledger.service), establish(ledger.service)

    with pytest.raises(InvalidInput) as refused:
        ledger.service.execute(MergeUnits(source_unit_ids=[a], into_unit_id=b, effective_on=MERGED_ON, act=MERGER_ACT, new_unit=NewUnit(code="X9", name="Xã", kind=UnitKind.COMMUNE)))

    assert refused.value.field == "intoUnitId"


# ====================================================================== consolidate (hợp nhất)
def test_consolidation_gives_the_new_unit_everything_its_predecessors_held(ledger: Ledger, given: Given) -> None:
    result = consolidate(ledger, given)

    new = unit(ledger, result.unit_id)
    assert ids(new.member_ids) == {given.a.person_id, given.b.person_id}
    assert ids(new.position_ids) == {given.a.position_id, given.b.position_id}
    assert ids(new.child_ids) == {given.a.child_id, given.b.child_id}
    assert quota(ledger, new.id).current_figures() == {(CC, ASSIGNED): 10}
    assert str(new.parent_id) == given.province_id
    assert ids(unit(ledger, given.province_id).child_ids) == {str(new.id)}


def test_consolidation_ends_every_predecessor_and_records_lineage_on_both_sides(ledger: Ledger, given: Given) -> None:
    result = consolidate(ledger, given)

    new = unit(ledger, result.unit_id)
    assert lineage(new.predecessors) == [(given.a.id, "CONSOLIDATE"), (given.b.id, "CONSOLIDATE")]
    for source_id in (given.a.id, given.b.id):
        source = unit(ledger, source_id)
        assert source.status is UnitStatus.ENDED
        assert lineage(source.successors) == [(str(new.id), "CONSOLIDATE")]
    assert isinstance(events(ledger, new.id)[0], Unit.Established)


def test_consolidated_unit_may_keep_a_predecessors_code(ledger: Ledger) -> None:
    ha_giang = establish(ledger.service, code="02", name="Tỉnh Hà Giang")
    tuyen_quang = establish(ledger.service, code="08", name="Tỉnh Tuyên Quang")

    result = ledger.service.execute(MergeUnits(source_unit_ids=[ha_giang, tuyen_quang], effective_on=MERGED_ON, act=MERGER_ACT, new_unit=NewUnit(code="08", name="Tỉnh Tuyên Quang", kind=UnitKind.PROVINCE)))

    assert unit(ledger, result.unit_id).code == "08"
    with pytest.raises(DuplicateCode):  # and the code now belongs to the new, live unit
        establish(ledger.service, code="08", effective_on=MERGED_ON)


def test_consolidated_unit_cannot_take_the_code_of_another_live_unit(ledger: Ledger, given: Given) -> None:
    establish(ledger.service, code="X-TAKEN")
    before = last_position(ledger)

    with pytest.raises(DuplicateCode) as refused:
        consolidate(ledger, given, code="X-TAKEN")

    assert refused.value.field == "code"
    assert last_position(ledger) == before
    assert unit(ledger, given.a.id).status is UnitStatus.ACTIVE


def test_consolidation_cannot_place_the_new_unit_under_one_of_its_predecessors(ledger: Ledger, given: Given) -> None:
    with pytest.raises(HierarchyCycle) as refused:
        ledger.service.execute(MergeUnits(source_unit_ids=[given.a.id, given.b.id], effective_on=MERGED_ON, act=MERGER_ACT, new_unit=NewUnit(code="X-NEW", name="Xã", kind=UnitKind.COMMUNE, parent_id=UUID(given.a.child_id))))

    assert refused.value.field == "newUnit.parentId"


def test_consolidation_needs_at_least_two_units(ledger: Ledger) -> None:
    commune = establish(ledger.service, kind=UnitKind.COMMUNE)

    with pytest.raises(InvalidInput) as refused:
        ledger.service.execute(MergeUnits(source_unit_ids=[commune], effective_on=MERGED_ON, act=MERGER_ACT, new_unit=NewUnit(code="X-NEW", name="Xã", kind=UnitKind.COMMUNE)))

    assert refused.value.field == "sourceUnitIds"


# ====================================================================== split (chia)
def split_a(ledger: Ledger, given: Given, first: SplitPart | None = None,
            second: SplitPart | None = None) -> dict[str, Any]:
    a = given.a
    first = first or SplitPart(unit=NewUnit(code="X-A1", name="Xã Minh Xuân 1", kind=UnitKind.COMMUNE), person_ids=[UUID(a.person_id)], position_ids=[UUID(a.position_id)], quota=[QuotaFigure(category=CC, kind=ASSIGNED, amount=3)])
    second = second or SplitPart(unit=NewUnit(code="X-A2", name="Xã Minh Xuân 2", kind=UnitKind.COMMUNE), child_unit_ids=[UUID(a.child_id)], quota=[QuotaFigure(category=CC, kind=ASSIGNED, amount=2)])
    return ledger.service.execute(SplitUnit(unit_id=a.id, parts=[first, second], effective_on=MERGED_ON, act=MERGER_ACT))


def test_split_with_everything_allocated_ends_the_original_and_starts_the_parts(ledger: Ledger, given: Given) -> None:
    first_id, second_id = split_a(ledger, given).unit_ids

    first, second, original = unit(ledger, first_id), unit(ledger, second_id), unit(ledger, given.a.id)
    assert (ids(first.member_ids), ids(first.position_ids), first.child_ids) == (
        {given.a.person_id}, {given.a.position_id}, set())
    assert (second.member_ids, second.position_ids, ids(second.child_ids)) == (set(), set(), {given.a.child_id})
    assert original.status is UnitStatus.ENDED
    assert sorted(lineage(original.successors)) == sorted([(first_id, "SPLIT"), (second_id, "SPLIT")])
    assert lineage(first.predecessors) == lineage(second.predecessors) == [(given.a.id, "SPLIT")]
    assert ids(unit(ledger, given.province_id).child_ids) == {given.b.id, first_id, second_id}


def test_split_gives_each_part_the_quota_allocated_to_it(ledger: Ledger, given: Given) -> None:
    first_id, second_id = split_a(ledger, given).unit_ids

    assert quota(ledger, first_id).current(CC, ASSIGNED) == 3
    assert quota(ledger, second_id).current(CC, ASSIGNED) == 2


def test_split_leaving_someone_unallocated_is_refused_naming_them_and_writes_nothing(ledger: Ledger,
                                                                                     given: Given) -> None:
    before = last_position(ledger)
    nothing = SplitPart(unit=NewUnit(code="X-A1", name="Xã 1", kind=UnitKind.COMMUNE))

    with pytest.raises(AllocationIncomplete) as refused:
        split_a(ledger, given, first=nothing)

    assert (refused.value.code, refused.value.field) == ("ALLOCATION_INCOMPLETE", "parts.personIds")
    held_by = person(ledger, given.a.person_id)
    post = position(ledger, given.a.position_id)
    # the refusal lists what is left, people and positions together, by name and id
    assert f"{held_by.full_name} ({given.a.person_id})" in refused.value.message
    assert f"{post.title} ({given.a.position_id})" in refused.value.message
    assert last_position(ledger) == before
    assert unit(ledger, given.a.id).status is UnitStatus.ACTIVE


def test_a_position_allocated_takes_its_holder_along(ledger: Ledger, given: Given) -> None:
    """Allocation by position: the holder is not listed, and goes with the post."""
    a = given.a
    by_post = SplitPart(unit=NewUnit(code="X-A1", name="Xã 1", kind=UnitKind.COMMUNE), position_ids=[UUID(a.position_id)])
    first_id, _ = split_a(ledger, given, first=by_post).unit_ids
    assert ids(unit(ledger, first_id).member_ids) == {a.person_id}
    assert person(ledger, a.person_id).placement.position_id == UUID(a.position_id)


def test_one_part_can_take_the_rest(ledger: Ledger, given: Given) -> None:
    """Allocation in one call: one part names its child unit, the other takes everything else."""
    a = given.a
    named = SplitPart(unit=NewUnit(code="X-A1", name="Xã 1", kind=UnitKind.COMMUNE), child_unit_ids=[UUID(a.child_id)])
    rest = SplitPart(unit=NewUnit(code="X-A2", name="Xã 2", kind=UnitKind.COMMUNE), rest=True)
    first_id, second_id = split_a(ledger, given, first=named, second=rest).unit_ids
    assert ids(unit(ledger, first_id).child_ids) == {a.child_id} and unit(ledger, first_id).member_ids == set()
    second = unit(ledger, second_id)
    assert (ids(second.member_ids), ids(second.position_ids), second.child_ids) == ({a.person_id}, {a.position_id}, set())


def test_two_parts_taking_the_rest_or_a_separation_taking_it_are_refused(ledger: Ledger, given: Given) -> None:
    before = last_position(ledger)
    parts = [SplitPart(unit=NewUnit(code=f"X-A{i}", name=f"Xã {i}", kind=UnitKind.COMMUNE), rest=True) for i in (1, 2)]
    with pytest.raises(InvalidInput) as refused:
        split_a(ledger, given, first=parts[0], second=parts[1])
    assert refused.value.field == "parts" and "only one part" in refused.value.message
    with pytest.raises(InvalidInput) as separated:
        ledger.service.execute(SeparateUnit(unit_id=given.a.id, part=parts[0], effective_on=MERGED_ON, act=MERGER_ACT))
    assert separated.value.field == "part.rest"
    assert last_position(ledger) == before


def test_split_cannot_send_a_person_and_their_position_to_different_parts(ledger: Ledger, given: Given) -> None:
    a = given.a
    person_only = SplitPart(unit=NewUnit(code="X-A1", name="Xã 1", kind=UnitKind.COMMUNE), person_ids=[UUID(a.person_id)])
    the_rest = SplitPart(unit=NewUnit(code="X-A2", name="Xã 2", kind=UnitKind.COMMUNE), position_ids=[UUID(a.position_id)], child_unit_ids=[UUID(a.child_id)])
    before = last_position(ledger)

    with pytest.raises(PositionUnavailable):
        split_a(ledger, given, first=person_only, second=the_rest)

    assert last_position(ledger) == before


def test_split_part_may_keep_the_original_code(ledger: Ledger, given: Given) -> None:
    original_code = unit(ledger, given.a.id).code
    a = given.a
    keeper = SplitPart(unit=NewUnit(code=original_code, name="Xã Minh Xuân", kind=UnitKind.COMMUNE), person_ids=[UUID(a.person_id)], position_ids=[UUID(a.position_id)], child_unit_ids=[UUID(a.child_id)])

    first_id, _ = split_a(ledger, given, first=keeper,
                          second=SplitPart(unit=NewUnit(code="X-A2", name="Xã 2", kind=UnitKind.COMMUNE))).unit_ids

    assert unit(ledger, first_id).code == original_code


def test_split_into_a_single_part_is_refused(ledger: Ledger) -> None:
    commune = establish(ledger.service, kind=UnitKind.COMMUNE)

    with pytest.raises(InvalidInput) as refused:
        ledger.service.execute(SplitUnit(unit_id=commune, parts=[SplitPart(unit=NewUnit(code="X1", name="Xã", kind=UnitKind.COMMUNE))], effective_on=MERGED_ON, act=MERGER_ACT))

    assert refused.value.field == "parts"


# ====================================================================== separate (tách)
def test_separated_part_takes_what_is_allocated_and_the_original_continues(ledger: Ledger, given: Given) -> None:
    extra = recruit(ledger.service, given.a.id)
    part = SplitPart(unit=NewUnit(code="X-SEP", name="Phường Minh Xuân", kind=UnitKind.WARD), person_ids=[UUID(extra)], quota=[QuotaFigure(category=CC, kind=ASSIGNED, amount=2)])

    result = ledger.service.execute(SeparateUnit(unit_id=given.a.id, part=part, effective_on=MERGED_ON, act=MERGER_ACT))

    original, separated = unit(ledger, given.a.id), unit(ledger, result.unit_id)
    assert original.status is UnitStatus.ACTIVE
    assert ids(original.member_ids) == {given.a.person_id} and ids(separated.member_ids) == {extra}
    assert (quota(ledger, given.a.id).current(CC, ASSIGNED), quota(ledger, separated.id).current(CC, ASSIGNED)) == (3, 2)
    assert lineage(original.successors) == [(result.unit_id, "SEPARATE")]
    assert lineage(separated.predecessors) == [(given.a.id, "SEPARATE")]
    assert str(separated.parent_id) == given.province_id


def test_part_cannot_take_more_quota_than_the_unit_has(ledger: Ledger, given: Given) -> None:
    part = SplitPart(unit=NewUnit(code="X-SEP", name="Phường", kind=UnitKind.WARD), quota=[QuotaFigure(category=CC, kind=ASSIGNED, amount=6)])
    before = last_position(ledger)

    with pytest.raises(InvalidInput) as refused:
        ledger.service.execute(SeparateUnit(unit_id=given.a.id, part=part, effective_on=MERGED_ON, act=MERGER_ACT))

    assert refused.value.field == "part.quota[0].amount"
    assert last_position(ledger) == before
