"""Late and out-of-order facts about people: the past can always be completed and corrected.

A fact effective before a reorganisation is recorded against the unit as it was then, and what the
reorganisation did to the person is derived again: they follow the unit into its successor, or no
longer do when they had left before it.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from staffing.application import (
    AbolishPosition,
    AssignQuota,
    CreatePosition,
    DissolveUnit,
    Item,
    MergeUnits,
    MoveUnit,
    NewUnit,
    RecruitPerson,
    RenameUnit,
    RetirePerson,
    RetractFact,
    SeparateUnit,
    SplitPart,
    SplitUnit,
    TransferPerson,
    TransferQuota,
)
from staffing.bootstrap import Ledger
from staffing.domain.errors import (
    AllocationIncomplete,
    InvalidInput,
    NotRetractable,
    PersonNotActive,
    RuleViolation,
    UnitEnded,
)
from staffing.domain.person import Person
from staffing.domain.values import PersonnelCategory, PersonStatus, QuotaKind
from tests.application.helpers import events, last_position, person, position, quota, unit
from tests.builders import an_act, establish, recruit

BACKENDS = ("memory",)  # the fast tier: handlers on the in-memory event store

REFORM = date(2025, 7, 1)
LATE = date(2024, 3, 15)


def _consolidated(ledger: Ledger) -> tuple[str, str, str, str]:
    """Province P with communes A and B, consolidated into C on 01/07/2025; one person in A since 2020."""
    province = establish(ledger.service)
    a, b = (establish(ledger.service, parent_id=province, kind="COMMUNE") for _ in range(2))
    resident = recruit(ledger.service, a, full_name="Lý Văn Hùng")
    merged = ledger.service.execute(MergeUnits(
        source_unit_ids=(a, b), effective_on=REFORM, act=an_act("1656/NQ-UBTVQH15", REFORM),  # type: ignore[arg-type]
        new_unit=NewUnit(code="C", name="Xã Hợp Nhất", kind="COMMUNE", parent_id=province)))  # type: ignore[arg-type]
    return a, b, merged.unit_id, resident


def test_a_recruitment_into_a_commune_that_has_since_been_consolidated_is_counted_there_then_in_its_successor(
    ledger: Ledger,
) -> None:
    a, _, c, _ = _consolidated(ledger)

    late = ledger.service.execute(RecruitPerson(full_name="Hoàng Thị Mai", birth_date=date(1994, 2, 3),
                                                gender="FEMALE", category="CIVIL_SERVANT", unit_id=a,  # type: ignore[arg-type]
                                                effective_on=LATE, act=an_act()))

    hired = person(ledger, late.person_id)
    assert hired.placement_on(date(2025, 6, 30)).unit_id == UUID(a)  # type: ignore[union-attr]
    assert hired.placement_on(REFORM).unit_id == UUID(c)  # type: ignore[union-attr]
    (move,) = hired.derived_moves()
    assert (move["effective_on"], move["act"].number) == (REFORM, "1656/NQ-UBTVQH15")
    assert UUID(late.person_id) in unit(ledger, c).member_ids


def test_a_retirement_before_the_reform_takes_the_person_out_of_those_the_reform_moved(ledger: Ledger) -> None:
    _, _, c, resident = _consolidated(ledger)

    ledger.service.execute(RetirePerson(person_id=resident, effective_on=date(2024, 12, 1), act=an_act()))  # type: ignore[arg-type]

    retired = person(ledger, resident)
    assert retired.status is PersonStatus.RETIRED
    assert retired.derived_moves() == []  # the move into C was withdrawn (a retraction, on record)
    assert len(retired.derived_moves(include_withdrawn=True)) == 1
    assert UUID(resident) not in unit(ledger, c).member_ids


def test_a_transfer_dated_before_a_transfer_on_record_holds_until_it(ledger: Ledger) -> None:
    province = establish(ledger.service)
    x, y, z = (establish(ledger.service, parent_id=province, kind="COMMUNE") for _ in range(3))
    someone = recruit(ledger.service, x)
    ledger.service.execute(TransferPerson(person_id=someone, to_unit_id=z, effective_on=date(2023, 1, 1), act=an_act()))  # type: ignore[arg-type]

    ledger.service.execute(TransferPerson(person_id=someone, to_unit_id=y, effective_on=date(2022, 1, 1), act=an_act()))  # type: ignore[arg-type]

    moved = person(ledger, someone)
    assert [moved.placement_on(d).unit_id for d in (date(2021, 1, 1), date(2022, 6, 1), date(2023, 6, 1))] == [  # type: ignore[union-attr]
        UUID(x), UUID(y), UUID(z)]
    assert UUID(someone) in unit(ledger, z).member_ids and UUID(someone) not in unit(ledger, y).member_ids


def _split(ledger: Ledger) -> tuple[str, list[str], str]:
    province = establish(ledger.service)
    original = establish(ledger.service, parent_id=province, kind="COMMUNE")
    stays = recruit(ledger.service, original)
    parts = ledger.service.execute(SplitUnit(unit_id=original, effective_on=REFORM, act=an_act("12/NQ", REFORM),  # type: ignore[arg-type]
                                             parts=(SplitPart(unit=NewUnit(code="S1", name="Phường Một", kind="WARD"),  # type: ignore[arg-type]
                                                              person_ids=(stays,)),  # type: ignore[arg-type]
                                                    SplitPart(unit=NewUnit(code="S2", name="Phường Hai", kind="WARD")))))  # type: ignore[arg-type]
    return original, list(parts.unit_ids), stays


def test_a_late_person_in_a_unit_split_later_must_be_given_a_part_and_the_refusal_lists_the_parts(
    ledger: Ledger,
) -> None:
    original, parts, _ = _split(ledger)
    head = last_position(ledger)
    late = RecruitPerson(full_name="Vàng A Dình", birth_date=date(1990, 1, 1), gender="MALE",  # type: ignore[arg-type]
                         category="CIVIL_SERVANT", unit_id=original, effective_on=LATE, act=an_act())  # type: ignore[arg-type]

    with pytest.raises(AllocationIncomplete) as refused:
        ledger.service.execute(late)

    assert refused.value.field == "splitParts"
    assert all(p in refused.value.message for p in parts) and "Phường Hai" in refused.value.message
    assert last_position(ledger) == head

    placed = ledger.service.execute(RecruitPerson(**{**late.__dict__, "split_parts": (UUID(parts[1]),)}))
    assert person(ledger, placed.person_id).placement.unit_id == UUID(parts[1])


def test_a_late_person_in_a_unit_dissolved_later_needs_their_exit_recorded_with_them(ledger: Ledger) -> None:
    province = establish(ledger.service)
    doomed = establish(ledger.service, parent_id=province, kind="DIVISION")
    ledger.service.execute(DissolveUnit(unit_id=doomed, effective_on=REFORM, act=an_act("5/QĐ", REFORM)))  # type: ignore[arg-type]
    head = last_position(ledger)
    late = RecruitPerson(id=UUID(int=7), full_name="Lò Thị Sen", birth_date=date(1990, 1, 1), gender="FEMALE",  # type: ignore[arg-type]
                         category="CIVIL_SERVANT", unit_id=doomed, effective_on=LATE, act=an_act())  # type: ignore[arg-type]

    with pytest.raises(UnitEnded) as refused:
        ledger.service.execute(late)

    assert "dissolved on 2025-07-01 by act 5/QĐ" in refused.value.message
    assert "record their transfer or exit" in refused.value.message
    assert last_position(ledger) == head

    outcome = ledger.service.run([Item(late), Item(TransferPerson(person_id=UUID(int=7), to_unit_id=province,  # type: ignore[arg-type]
                                                                  effective_on=date(2025, 6, 1), act=an_act()))])
    assert outcome.recorded and outcome.errors == {}
    assert person(ledger, UUID(int=7)).placement.unit_id == UUID(province)


def test_retracting_a_transfer_a_later_split_relied_on_re_derives_the_split_leaving_no_phantom_move(
    ledger: Ledger,
) -> None:
    province = establish(ledger.service)
    home, original = (establish(ledger.service, parent_id=province, kind="COMMUNE") for _ in range(2))
    mover = recruit(ledger.service, home)
    transfer = ledger.service.execute(TransferPerson(person_id=mover, to_unit_id=original,  # type: ignore[arg-type]
                                                     effective_on=date(2023, 1, 1), act=an_act()))
    parts = ledger.service.execute(SplitUnit(unit_id=original, effective_on=REFORM, act=an_act(),  # type: ignore[arg-type]
                                             parts=(SplitPart(unit=NewUnit(code="S1", name="Một", kind="WARD"),  # type: ignore[arg-type]
                                                              person_ids=(mover,)),  # type: ignore[arg-type]
                                                    SplitPart(unit=NewUnit(code="S2", name="Hai", kind="WARD")))))  # type: ignore[arg-type]

    ledger.service.execute(RetractFact(fact_id=transfer.fact_id, reason="nhập nhầm", act=an_act()))

    back = person(ledger, mover)
    assert back.placement.unit_id == UUID(home) and back.derived_moves() == []
    assert UUID(mover) in unit(ledger, home).member_ids
    assert UUID(mover) not in unit(ledger, parts.unit_ids[0]).member_ids


def test_a_fact_after_the_persons_recorded_retirement_is_refused_naming_it(ledger: Ledger) -> None:
    province = establish(ledger.service)
    someone = recruit(ledger.service, province)
    ledger.service.execute(RetirePerson(person_id=someone, effective_on=date(2024, 1, 1), act=an_act("77/QĐ")))  # type: ignore[arg-type]

    with pytest.raises(PersonNotActive) as refused:
        ledger.service.execute(TransferPerson(person_id=someone, to_unit_id=province, effective_on=date(2024, 5, 1),  # type: ignore[arg-type]
                                              act=an_act()))

    assert "retirement effective 2024-01-01" in refused.value.message and "77/QĐ" in refused.value.message


@pytest.mark.parametrize("day", [date(1944, 12, 31), date(2205, 7, 1), date(9999, 12, 31)])
def test_effective_dates_outside_1945_to_ten_years_ahead_are_refused(ledger: Ledger, day: date) -> None:
    someone = establish(ledger.service)

    with pytest.raises(InvalidInput) as refused:
        ledger.service.execute(RenameUnit(unit_id=someone, name="Tên gõ nhầm năm", effective_on=day, act=an_act()))  # type: ignore[arg-type]

    assert refused.value.field == "effectiveOn" and "check the year" in refused.value.message


# ====================================================================== quota
CC, ASSIGNED = PersonnelCategory.CIVIL_SERVANT, QuotaKind.ASSIGNED


def _assign(ledger: Ledger, unit_id: str, amount: int, on: date) -> None:
    ledger.service.execute(AssignQuota(unit_id=unit_id, category=CC, kind=ASSIGNED, amount=amount,  # type: ignore[arg-type]
                                       effective_on=on, act=an_act()))


def test_a_quota_figure_entered_after_a_later_one_holds_until_it(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    _assign(ledger, unit_id, 40, date(2025, 1, 1))

    _assign(ledger, unit_id, 36, date(2023, 1, 1))

    figures = quota(ledger, unit_id)
    assert figures.figure_before(CC, ASSIGNED, date(2024, 1, 1)) == 36
    assert figures.current(CC, ASSIGNED) == 40


def test_a_late_quota_figure_of_a_merged_commune_is_carried_into_its_successor(ledger: Ledger) -> None:
    province = establish(ledger.service)
    a, b = (establish(ledger.service, parent_id=province, kind="COMMUNE") for _ in range(2))
    _assign(ledger, a, 5, date(2020, 1, 1))
    _assign(ledger, b, 7, date(2020, 1, 1))
    merged = ledger.service.execute(MergeUnits(source_unit_ids=(a, b), into_unit_id=None, effective_on=REFORM,  # type: ignore[arg-type]
                                               act=an_act(), new_unit=NewUnit(code="C", name="Xã C", kind="COMMUNE",  # type: ignore[arg-type]
                                                                              parent_id=province)))  # type: ignore[arg-type]
    assert quota(ledger, merged.unit_id).current(CC, ASSIGNED) == 12

    _assign(ledger, a, 9, date(2024, 1, 1))  # a late decision for commune A, before the merger

    assert quota(ledger, merged.unit_id).current(CC, ASSIGNED) == 16
    assert quota(ledger, a).figure_before(CC, ASSIGNED, date(2023, 6, 1)) == 5


def test_a_late_quota_figure_before_a_transfer_makes_the_transfer_again(ledger: Ledger) -> None:
    province = establish(ledger.service)
    a, b = (establish(ledger.service, parent_id=province, kind="COMMUNE") for _ in range(2))
    _assign(ledger, a, 10, date(2020, 1, 1))
    ledger.service.execute(TransferQuota(from_unit_id=a, to_unit_id=b, category=CC, kind=ASSIGNED, amount=4,  # type: ignore[arg-type]
                                         effective_on=date(2024, 1, 1), act=an_act()))

    _assign(ledger, a, 20, date(2023, 1, 1))

    assert quota(ledger, a).current(CC, ASSIGNED) == 16
    assert quota(ledger, b).current(CC, ASSIGNED) == 4


# ====================================================================== positions
def test_a_position_created_late_in_a_consolidated_commune_is_in_its_successor_after_the_merger(
    ledger: Ledger,
) -> None:
    a, _, c, _ = _consolidated(ledger)

    created = ledger.service.execute(CreatePosition(unit_id=a, title="Công chức Văn phòng - Thống kê",  # type: ignore[arg-type]
                                                    group="COMMON_PROFESSIONAL", rank="Chuyên viên",  # type: ignore[arg-type]
                                                    effective_on=LATE, act=an_act()))

    late = position(ledger, created.position_id)
    assert late.unit_on(date(2025, 6, 30)) == UUID(a) and late.unit_on(REFORM) == UUID(c)
    assert UUID(created.position_id) in unit(ledger, c).position_ids
    hired = ledger.service.execute(RecruitPerson(full_name="Đinh Văn Toàn", birth_date=date(1990, 1, 1),
                                                 gender="MALE", category="CIVIL_SERVANT", unit_id=a,  # type: ignore[arg-type]
                                                 position_id=created.position_id, effective_on=date(2024, 6, 1),  # type: ignore[arg-type]
                                                 act=an_act()))
    assert person(ledger, hired.person_id).placement.position_id == UUID(created.position_id)


def test_abolishing_a_position_before_the_merger_withdraws_the_move_the_merger_made(ledger: Ledger) -> None:
    province = establish(ledger.service)
    a = establish(ledger.service, parent_id=province, kind="COMMUNE")
    post = ledger.service.execute(CreatePosition(unit_id=a, title="Văn thư", group="SUPPORT", rank="Nhân viên",  # type: ignore[arg-type]
                                                 effective_on=date(2020, 1, 1), act=an_act()))
    ledger.service.execute(MergeUnits(source_unit_ids=(a,), into_unit_id=province, effective_on=REFORM,  # type: ignore[arg-type]
                                      act=an_act()))
    assert UUID(post.position_id) in unit(ledger, province).position_ids

    ledger.service.execute(AbolishPosition(position_id=post.position_id, effective_on=date(2024, 1, 1),  # type: ignore[arg-type]
                                           act=an_act()))

    abolished = position(ledger, post.position_id)
    assert abolished.derived_moves() == [] and abolished.abolished_on() == date(2024, 1, 1)
    assert UUID(post.position_id) not in unit(ledger, province).position_ids


# ====================================================================== unit corrections
def _fact_of_latest(ledger: Ledger, unit_id: str) -> str:
    return f"{unit_id}:{unit(ledger, unit_id).version}"


def test_a_rename_entered_in_error_is_retracted_and_the_unit_takes_later_facts_again(ledger: Ledger) -> None:
    unit_id = establish(ledger.service, code="TQ", name="Tỉnh Tuyên Quang")
    wrong = ledger.service.execute(RenameUnit(unit_id=unit_id, name="Tỉnh Tuyên Quag", code="TQ2",  # type: ignore[arg-type]
                                              effective_on=date(2030, 7, 1), act=an_act()))

    ledger.service.execute(RetractFact(fact_id=wrong.fact_id, reason="gõ nhầm năm và tên", act=an_act()))

    fixed = unit(ledger, unit_id)
    assert (fixed.name, fixed.code) == ("Tỉnh Tuyên Quang", "TQ")
    ledger.service.execute(RenameUnit(unit_id=unit_id, name="Tỉnh Tuyên Quang mới", effective_on=date(2025, 7, 1),  # type: ignore[arg-type]
                                      act=an_act()))
    assert unit(ledger, unit_id).name == "Tỉnh Tuyên Quang mới"
    establish(ledger.service, code="TQ2", name="Đơn vị khác")  # the code the wrong rename took is free again


def test_a_move_entered_in_error_is_retracted_and_both_parents_rosters_follow(ledger: Ledger) -> None:
    first, second = establish(ledger.service), establish(ledger.service)
    child = establish(ledger.service, parent_id=first, kind="DEPARTMENT")
    moved = ledger.service.execute(MoveUnit(unit_id=child, new_parent_id=second, effective_on=date(2022, 1, 1),  # type: ignore[arg-type]
                                            act=an_act()))

    ledger.service.execute(RetractFact(fact_id=moved.fact_id, reason="nhầm đơn vị", act=an_act()))

    assert unit(ledger, child).parent_id == UUID(first)
    assert UUID(child) in unit(ledger, first).child_ids and UUID(child) not in unit(ledger, second).child_ids


def test_an_establishment_is_retracted_only_while_nothing_depends_on_it(ledger: Ledger) -> None:
    parent = establish(ledger.service)
    empty = establish(ledger.service, parent_id=parent, kind="DIVISION", code="PX")
    staffed = establish(ledger.service, parent_id=parent, kind="DIVISION")
    recruit(ledger.service, staffed)

    with pytest.raises(RuleViolation) as refused:
        ledger.service.execute(RetractFact(fact_id=f"{staffed}:1", reason="lập nhầm", act=an_act()))
    assert "1 people" in refused.value.message

    ledger.service.execute(RetractFact(fact_id=f"{empty}:1", reason="lập nhầm", act=an_act()))
    assert UUID(empty) not in unit(ledger, parent).child_ids
    establish(ledger.service, parent_id=parent, kind="DIVISION", code="PX")  # its code is free again


def test_a_move_made_by_a_reorganisation_is_not_retractable_on_its_own(ledger: Ledger) -> None:
    province = establish(ledger.service)
    district = establish(ledger.service, parent_id=province, kind="DISTRICT")
    commune = establish(ledger.service, parent_id=district, kind="COMMUNE")
    ledger.service.execute(MergeUnits(source_unit_ids=(district,), into_unit_id=province, effective_on=REFORM,  # type: ignore[arg-type]
                                      act=an_act()))

    with pytest.raises(NotRetractable):
        ledger.service.execute(RetractFact(fact_id=_fact_of_latest(ledger, commune), reason="x", act=an_act()))


def test_a_late_change_of_position_before_a_merger_is_carried_through_it(ledger: Ledger) -> None:
    province = establish(ledger.service)
    a = establish(ledger.service, parent_id=province, kind="COMMUNE")
    first, second = (ledger.service.execute(CreatePosition(unit_id=a, title=t, group="SUPPORT", rank="Nhân viên",  # type: ignore[arg-type]
                                                           effective_on=date(2020, 1, 1), act=an_act())).position_id
                     for t in ("Văn thư", "Thủ quỹ"))
    someone = recruit(ledger.service, a, position_id=first)
    ledger.service.execute(MergeUnits(source_unit_ids=(a,), into_unit_id=province, effective_on=REFORM,  # type: ignore[arg-type]
                                      act=an_act()))

    ledger.service.execute(TransferPerson(person_id=someone, to_unit_id=a, to_position_id=second,  # type: ignore[arg-type]
                                          effective_on=date(2024, 1, 1), act=an_act()))

    after = person(ledger, someone).placement
    assert (after.unit_id, after.position_id) == (UUID(province), UUID(second))
    assert position(ledger, second).holder_ids == {UUID(someone)} and position(ledger, first).holder_ids == set()


def test_an_own_fact_recorded_late_on_the_day_of_a_reorganisation_comes_before_it_in_the_record(
        ledger: Ledger) -> None:
    """The derivation applies a reorganisation after the person's own facts of its day, and the
    record is folded in (date, recording order): a move still wanted is made again after a later own
    fact of that day (found by the differential test, seed 1003), or the record would say otherwise."""
    province = establish(ledger.service)
    commune = establish(ledger.service, parent_id=province, kind="COMMUNE")
    someone = recruit(ledger.service, commune, effective_on=date(2021, 6, 5))
    separated = ledger.service.execute(SeparateUnit(
        unit_id=commune, effective_on=date(2021, 7, 5), act=an_act(signed_on=date(2021, 7, 1)),  # type: ignore[arg-type]
        part=SplitPart(unit=NewUnit(code="T", name="Xã Tách", kind="COMMUNE"), person_ids=(someone,))))  # type: ignore[arg-type]

    ledger.service.execute(TransferPerson(person_id=someone, to_unit_id=commune, effective_on=date(2021, 7, 5),  # type: ignore[arg-type]
                                          act=an_act(signed_on=date(2021, 7, 5))))

    moved = person(ledger, someone)
    assert moved.placement_on(date(2021, 7, 5)).unit_id == UUID(separated.unit_id)  # type: ignore[union-attr]
    (move,) = moved.derived_moves()
    transfer = next(f for f in moved.facts if f["cause"] == "TRANSFERRED")
    assert move["version"] > transfer["version"] and move["effective_on"] == transfer["effective_on"]
    withdrawn = [e for e in events(ledger, someone) if isinstance(e, Person.FactRetracted)]
    assert [w.reason for w in withdrawn] == [
        "re-derived: made again after the person's own fact of that day, which it follows"]
    assert UUID(someone) in unit(ledger, separated.unit_id).member_ids
    assert UUID(someone) not in unit(ledger, commune).member_ids
