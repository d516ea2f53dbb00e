"""Rules that span several aggregates, as pure functions over plain values.

The aggregates each guard their own invariants (a unit cannot end while it holds people, a
person cannot be transferred after leaving). The rules here need facts from more than one
aggregate at once — the units of a merge, the roster of a unit being split, two quota ledgers —
so the command handlers gather those facts and ask these functions, which decide without a
database (tests/domain/test_reorganisation.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from staffing.domain.errors import (
    AllocationIncomplete,
    DuplicateCode,
    HierarchyCycle,
    InvalidInput,
    PositionUnavailable,
)

__all__ = [
    "Allocation",
    "check_allocation",
    "check_consolidation_sources",
    "check_distinct_units",
    "check_merge_target",
    "check_positions_follow_people",
    "check_quota_sufficient",
    "check_code_free",
]


def check_distinct_units(unit_ids: Sequence[UUID], field: str) -> None:
    """A reorganisation names each unit once, and at least one."""
    if not unit_ids:
        raise InvalidInput(field, "give at least one unit")
    if len(set(unit_ids)) != len(unit_ids):
        raise InvalidInput(field, "a unit is listed twice")


def check_consolidation_sources(has_target: bool, has_new_unit: bool, source_count: int) -> None:
    """Sáp nhập names the unit that continues; hợp nhất names the new unit and needs ≥ 2 sources."""
    if has_target == has_new_unit:
        raise InvalidInput("intoUnitId", "give exactly one of intoUnitId (absorb) or newUnit (consolidate)")
    if has_new_unit and source_count < 2:
        raise InvalidInput("sourceUnitIds", "a consolidation needs at least two units")


def check_merge_target(target_id: UUID, target_code: str, target_and_ancestors: Collection[UUID],
                       source_ids: Sequence[UUID], field: str) -> None:
    """No merge into one of the merged units, nor into anything below them (on any date on record).

    ``target_and_ancestors`` is the target and every unit above it on the effective date or any
    later date on record: were a source among them, the successor would sit under a unit that
    ends, or be its own ancestor.
    """
    if target_id in source_ids:
        raise InvalidInput(field, "a unit cannot be merged into itself")
    if any(s in target_and_ancestors for s in source_ids):
        raise HierarchyCycle(field, f"unit {target_code} lies under one of the merged units; "
                                    "a unit cannot merge into itself or into one of its own descendants")


@dataclass(frozen=True)
class Allocation:
    """What one new unit of a split or separation takes from the original."""

    person_ids: Sequence[UUID] = ()
    position_ids: Sequence[UUID] = ()
    child_unit_ids: Sequence[UUID] = ()


def check_allocation(original_code: str, held: Mapping[str, Collection[UUID]], parts: Sequence[Allocation],
                     complete: bool, field: str = "parts") -> None:
    """Chia allocates everything the original holds; tách allocates a part of it.

    ``held`` maps ``personIds`` / ``positionIds`` / ``childUnitIds`` to what the original holds on
    the effective date. Each item goes to at most one part and must be held by the original; a
    split (``complete``) must leave nothing behind, and the error lists what is left.
    """
    pickers = {"personIds": lambda p: p.person_ids, "positionIds": lambda p: p.position_ids,
               "childUnitIds": lambda p: p.child_unit_ids}
    for label, pick in pickers.items():
        have = set(held.get(label, ()))
        seen: set[UUID] = set()
        for i, part in enumerate(parts):
            path = f"{field}[{i}].{label}" if field == "parts" else f"{field}.{label}"
            for item in pick(part):
                if item not in have:
                    raise InvalidInput(path, f"{item} is not in unit {original_code}")
                if item in seen:
                    raise InvalidInput(path, f"{item} is allocated twice")
                seen.add(item)
        if complete and seen != have:
            left = sorted(str(i) for i in have - seen)
            shown = ", ".join(left[:20]) + (f" and {len(left) - 20} more" if len(left) > 20 else "")
            raise AllocationIncomplete(
                f"{field}.{label}", f"{len(left)} of unit {original_code}'s {label[:-3]}s are not allocated to any "
                                    f"new unit ({shown}); allocate every one of them")


def check_positions_follow_people(person_positions: Iterable[tuple[str, UUID | None]],
                                  allocated_positions: Collection[UUID], field: str) -> None:
    """A person allocated to a new unit takes their position along: it must go to the same unit."""
    for name, position_id in person_positions:
        if position_id is not None and position_id not in allocated_positions:
            raise PositionUnavailable(field, f"{name}'s position is not allocated to the same new unit; "
                                             "allocate it there too")


def check_quota_sufficient(unit_code: str, have: int, amount: int, what: str, field: str) -> None:
    """Quota can only be moved (transferred, separated) out of a unit that holds that much."""
    if amount > have:
        raise InvalidInput(field, f"unit {unit_code} has only {have} {what} posts; cannot move {amount}")


def check_code_free(code: str, holder_name: str | None, holder_is_claimant: bool, holder_live_and_using: bool) -> None:
    """Unit codes are unique among live units: the holder keeps a code while it is live and still uses it.

    A unit that ended, or was renamed to another code, frees its old code for a new unit.
    """
    if holder_is_claimant or not holder_live_and_using:
        return
    raise DuplicateCode("code", f"code {code!r} is held by the live unit '{holder_name}'; choose another")
