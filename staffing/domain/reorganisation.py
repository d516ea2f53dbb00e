"""Rules that span several aggregates, as pure functions over plain values.

The aggregates each guard their own invariants (a unit cannot end while it holds people, a
person cannot be transferred after leaving). The rules here need facts from more than one
aggregate at once — the units of a merge, the roster of a unit being split, two quota ledgers —
so the command handlers gather those facts and ask these functions, which decide without a
database (tests/domain/test_reorganisation.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from staffing.domain.errors import (
    AllocationIncomplete,
    DuplicateCode,
    HierarchyCycle,
    InvalidInput,
    PositionUnavailable,
    UnitEnded,
)
from staffing.domain.values import LegalAct

__all__ = [
    "Allocation",
    "DerivedMove",
    "Reorganisation",
    "Step",
    "StuckInEndedUnit",
    "derive_moves",
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


def complete_allocation(held: Mapping[str, Collection[UUID]], holders: Mapping[UUID, UUID | None],
                        parts: Sequence[Allocation], rest: Sequence[bool], field: str = "parts") -> list[Allocation]:
    """Allocation by position and by remainder (issue 12: a split in one call, not a list of every id).

    - A position allocated to a part takes the people holding it along (``holders``: person ->
      the position they hold), unless the caller allocated such a person elsewhere (then
      ``check_positions_follow_people`` refuses: a person goes with their post).
    - At most one part may take ``rest``: every person, position and child unit that no other part
      takes (its holders follow the positions it gets, as above).
    """
    if sum(rest) > 1:
        raise InvalidInput(field, "only one part can take the rest")
    named = {p for part in parts for p in part.person_ids}
    out = []
    for part in parts:
        follow = [person for person, post in holders.items()
                  if post is not None and post in set(part.position_ids) and person not in named]
        out.append(Allocation((*part.person_ids, *follow), part.position_ids, part.child_unit_ids))
    if any(rest):
        i = list(rest).index(True)
        taken = {label: {item for part in out for item in _pick(label, part)} for label in _LABELS}
        left = {label: [item for item in sorted(held.get(label, ()), key=str) if item not in taken[label]]
                for label in _LABELS}
        out[i] = Allocation((*out[i].person_ids, *left["personIds"]), (*out[i].position_ids, *left["positionIds"]),
                            (*out[i].child_unit_ids, *left["childUnitIds"]))
    return out


_LABELS = ("personIds", "positionIds", "childUnitIds")


def _pick(label: str, part: Allocation) -> Sequence[UUID]:
    return {"personIds": part.person_ids, "positionIds": part.position_ids, "childUnitIds": part.child_unit_ids}[label]


def check_allocation(original_code: str, held: Mapping[str, Collection[UUID]], parts: Sequence[Allocation],
                     complete: bool, field: str = "parts",
                     describe: Callable[[str, list[UUID]], list[str]] | None = None) -> None:
    """Chia allocates everything the original holds; tách allocates a part of it.

    ``held`` maps ``personIds`` / ``positionIds`` / ``childUnitIds`` to what the original holds on
    the effective date. Each item goes to at most one part and must be held by the original; a
    split (``complete``) must leave nothing behind, and the refusal lists everything left, people,
    positions and child units together, each as ``describe`` names it (name and id).
    """
    left: dict[str, list[UUID]] = {}
    for label in _LABELS:
        have = set(held.get(label, ()))
        seen: set[UUID] = set()
        for i, part in enumerate(parts):
            path = f"{field}[{i}].{label}" if field == "parts" else f"{field}.{label}"
            for item in _pick(label, part):
                if item not in have:
                    raise InvalidInput(path, f"{item} is not in unit {original_code}")
                if item in seen:
                    raise InvalidInput(path, f"{item} is allocated twice")
                seen.add(item)
        if complete and seen != have:
            left[label] = sorted(have - seen, key=str)
    if left:
        nouns = {"personIds": "people", "positionIds": "positions", "childUnitIds": "child units"}
        listed = []
        for label, items in left.items():
            names = describe(label, items[:50]) if describe else [str(i) for i in items[:50]]
            more = f" and {len(items) - 50} more" if len(items) > 50 else ""
            listed.append(f"{len(items)} {nouns[label]}: " + "; ".join(names) + more)
        first = next(iter(left))
        raise AllocationIncomplete(
            f"{field}.{first}", f"unit {original_code} still holds what no new unit takes — " + " | ".join(listed)
            + " — allocate each of them (a position takes its holders along; one part may take the rest)")


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


# ====================================================================== derived moves
@dataclass(frozen=True)
class Reorganisation:
    """What happened to a unit on a date: it ended into successors, was dissolved, or had a part separated."""

    unit_id: UUID
    unit_code: str
    on: date
    change: str  # ChangeKind value
    successors: tuple[tuple[UUID, str], ...]  # (id, name) of each successor or separated part
    act: LegalAct
    fact_id: str

    def describe(self) -> str:
        return f"{self.act.number} ({self.act.issuer}, fact {self.fact_id})"


@dataclass(frozen=True)
class Step:
    """One fact of the person's (or position's) own, in date order: where it puts them and whether active."""

    on: date
    unit_id: UUID | None  # None: the fact leaves the unit as it was
    active: bool | None = None  # None: leaves the status as it was


@dataclass(frozen=True)
class DerivedMove:
    on: date
    unit_id: UUID
    reorganisation: Reorganisation


class StuckInEndedUnit(UnitEnded):
    """A late fact would leave someone (or a position) in a unit that was dissolved afterwards."""


def derive_moves(steps: Sequence[Step], reorganisations_of: Callable[[UUID], Sequence[Reorganisation]],
                 choose: Callable[[Reorganisation], UUID | None], who: str, field: str = "effectiveOn"
                 ) -> tuple[list[DerivedMove], StuckInEndedUnit | None]:
    """What the reorganisations of their units did to someone, given their own facts as known.

    Rule (DOMAIN.md, kinds of change): a reorganisation is a fact about units. Whoever is in a unit
    when it is absorbed or consolidated is in its successor from that day; when it is split, in the
    part allocated to them (``choose``); a separation moves only those allocated to the new unit.
    Own facts dated on the day of a reorganisation come first (a transfer out on that day escapes
    it). Nobody may remain in a dissolved unit: the moves up to that point are returned with the
    problem, which the unit of work refuses unless a later command of the same decision resolves it
    (a late recruitment together with the transfer or exit that preceded the dissolution). A split
    with no part chosen is refused at once: the command must say which part.
    """
    moves: list[DerivedMove] = []
    unit: UUID | None = None
    active, after = False, date.min  # reorganisations on or after the day they entered the unit apply
    done: set[tuple[UUID, date, str]] = set()
    i = 0
    while True:
        upcoming = steps[i].on if i < len(steps) else None
        reorg = None
        if active and unit is not None:
            reorg = next((r for r in reorganisations_of(unit)
                          if r.on >= after and (r.unit_id, r.on, r.change) not in done
                          and (upcoming is None or r.on < upcoming)), None)
        if reorg is None:
            if upcoming is None:
                return moves, None
            while i < len(steps) and steps[i].on == upcoming:
                step = steps[i]
                if step.unit_id is not None and step.unit_id != unit:
                    unit, after = step.unit_id, step.on
                if step.active is not None:
                    active = step.active
                i += 1
            continue
        done.add((reorg.unit_id, reorg.on, reorg.change))
        try:
            target = _target(reorg, choose, who, field)
        except StuckInEndedUnit as stuck:
            return moves, stuck
        after = reorg.on
        if target is not None:
            moves.append(DerivedMove(reorg.on, target, reorg))
            unit = target


def _target(reorg: Reorganisation, choose: Callable[[Reorganisation], UUID | None], who: str,
            field: str) -> UUID | None:
    parts = ", ".join(f"{name} ({uid})" for uid, name in reorg.successors)
    if reorg.change in ("ABSORB", "CONSOLIDATE"):
        return reorg.successors[0][0]
    if reorg.change == "SEPARATE":
        chosen = choose(reorg)
        return chosen if chosen in {uid for uid, _ in reorg.successors} else None
    if reorg.change == "SPLIT":
        chosen = choose(reorg)
        if chosen not in {uid for uid, _ in reorg.successors}:
            raise AllocationIncomplete(
                "splitParts", f"unit {reorg.unit_code} was split on {reorg.on.isoformat()} by act {reorg.describe()} "
                              f"into {parts}; {who} was in it then: say which part they went to by giving its id in "
                              "splitParts")
        return chosen
    raise StuckInEndedUnit(
        field, f"unit {reorg.unit_code} was dissolved on {reorg.on.isoformat()} by act {reorg.describe()} and "
                       f"{who} would still be in it: record their transfer or exit effective on or before "
                       f"{reorg.on.isoformat()} together with this fact (in the same plan or import file)")
