"""Rules spanning several aggregates (staffing.domain.reorganisation), decided without a database."""

from __future__ import annotations

from uuid import uuid4

import pytest

from staffing.domain.errors import (
    AllocationIncomplete,
    DuplicateCode,
    HierarchyCycle,
    InvalidInput,
    PositionUnavailable,
)
from staffing.domain.reorganisation import (
    Allocation,
    check_allocation,
    check_code_free,
    check_consolidation_sources,
    check_distinct_units,
    check_merge_target,
    check_positions_follow_people,
    check_quota_sufficient,
)

A, B, C, P1, P2, POS = (uuid4() for _ in range(6))


def test_a_consolidation_needs_at_least_two_units() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_consolidation_sources(has_target=False, has_new_unit=True, source_count=1)
    assert refused.value.field == "sourceUnitIds"
    check_consolidation_sources(has_target=False, has_new_unit=True, source_count=2)
    check_consolidation_sources(has_target=True, has_new_unit=False, source_count=1)  # an absorption of one unit


@pytest.mark.parametrize(("target", "new_unit"), [(True, True), (False, False)])
def test_a_merge_names_exactly_one_of_a_receiving_unit_or_a_new_unit(target: bool, new_unit: bool) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_consolidation_sources(has_target=target, has_new_unit=new_unit, source_count=2)
    assert refused.value.field == "intoUnitId"


def test_a_unit_listed_twice_or_no_unit_is_refused() -> None:
    with pytest.raises(InvalidInput, match="twice"):
        check_distinct_units([A, A], "sourceUnitIds")
    with pytest.raises(InvalidInput, match="at least one"):
        check_distinct_units([], "sourceUnitIds")


def test_no_merge_into_one_of_the_merged_units() -> None:
    with pytest.raises(InvalidInput, match="itself"):
        check_merge_target(A, "A", {A}, [A, B], "intoUnitId")


def test_no_merge_into_a_descendant_of_a_merged_unit() -> None:
    with pytest.raises(HierarchyCycle) as refused:
        check_merge_target(C, "C", {C, A}, [A, B], "intoUnitId")  # C sits under A
    assert refused.value.field == "intoUnitId"
    check_merge_target(C, "C", {C}, [A, B], "intoUnitId")


def test_a_split_must_allocate_everything_and_the_refusal_lists_what_is_left() -> None:
    held = {"personIds": {P1, P2}, "positionIds": set(), "childUnitIds": set()}
    with pytest.raises(AllocationIncomplete) as refused:
        check_allocation("X01", held, [Allocation(person_ids=[P1]), Allocation()], complete=True)
    assert refused.value.field == "parts.personIds" and str(P2) in refused.value.message
    check_allocation("X01", held, [Allocation(person_ids=[P1]), Allocation(person_ids=[P2])], complete=True)


def test_a_separation_may_take_a_part_but_nothing_twice_and_nothing_foreign() -> None:
    held = {"personIds": {P1, P2}}
    check_allocation("X01", held, [Allocation(person_ids=[P1])], complete=False, field="part")
    with pytest.raises(InvalidInput, match="twice"):
        check_allocation("X01", held, [Allocation(person_ids=[P1]), Allocation(person_ids=[P1])], complete=False)
    with pytest.raises(InvalidInput, match="not in unit X01") as refused:
        check_allocation("X01", held, [Allocation(person_ids=[A])], complete=False, field="part")
    assert refused.value.field == "part.personIds"


def test_a_person_moves_with_their_position_or_not_at_all() -> None:
    check_positions_follow_people([("Lò Văn A", POS), ("Hà Thị B", None)], {POS}, "parts[0].personIds")
    with pytest.raises(PositionUnavailable, match="Lò Văn A"):
        check_positions_follow_people([("Lò Văn A", POS)], set(), "parts[0].personIds")


def test_quota_cannot_be_moved_out_of_a_unit_that_holds_less() -> None:
    check_quota_sufficient("X01", have=5, amount=5, what="CIVIL_SERVANT/ASSIGNED", field="amount")
    with pytest.raises(InvalidInput, match="only 5") as refused:
        check_quota_sufficient("X01", have=5, amount=6, what="CIVIL_SERVANT/ASSIGNED", field="amount")
    assert refused.value.field == "amount"


def test_a_code_is_free_unless_a_live_unit_still_uses_it() -> None:
    check_code_free("01", "Tỉnh Hà Giang", holder_is_claimant=True, holder_live_and_using=True)
    check_code_free("01", "Tỉnh Hà Giang", holder_is_claimant=False, holder_live_and_using=False)
    with pytest.raises(DuplicateCode, match="Tỉnh Hà Giang"):
        check_code_free("01", "Tỉnh Hà Giang", holder_is_claimant=False, holder_live_and_using=True)
