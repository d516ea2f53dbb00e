"""Steps several handlers share: creating a unit, claiming its code, moving what a unit holds,
keeping rosters and position holders in step with a person's placement."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from staffing.application.commands import NewUnit
from staffing.application.work import Work
from staffing.domain.errors import InvalidInput
from staffing.domain.person import Person, Placement
from staffing.domain.position import Position
from staffing.domain.reorganisation import Reorganisation, check_code_free, derive_moves
from staffing.domain.stays import return_day
from staffing.domain.unit import Unit
from staffing.domain.unit_code import UnitCode, unit_code_id
from staffing.domain.values import ChangeKind, LegalAct, PersonStatus, UnitStatus

__all__ = ["claim_code", "establish", "fact_id", "fact_of", "follow", "latest_fact", "move_items", "parse_fact_id",
           "reorganisations_of", "settle_person", "settle_position"]


def fact_id(aggregate_id: UUID, version: int) -> str:
    """A recorded fact is named by its aggregate and version: stable, opaque, never reused."""
    return f"{aggregate_id}:{version}"


def latest_fact(agg: Aggregate) -> str:
    return fact_id(agg.id, agg.version)


def fact_of(agg: Aggregate, event_class: type) -> str:
    """The fact id of the last pending event of ``event_class`` (the one the command is about)."""
    for event in reversed(agg.pending_events):
        if isinstance(event, event_class):
            return fact_id(agg.id, event.originator_version)
    return latest_fact(agg)


def parse_fact_id(value: str) -> tuple[UUID, int]:
    try:
        aggregate, version = str(value).rsplit(":", 1)
        return UUID(aggregate), int(version)
    except ValueError:
        raise InvalidInput("factId", f"{value!r} is not a fact id (take it from `history`)") from None


def establish(work: Work, spec: NewUnit, change: ChangeKind, predecessor_ids: list[UUID], effective_on: date,
              act: LegalAct, field: str, claim: bool = True) -> Unit:
    """Create a unit; ``claim=False`` when its code is claimed after the predecessors end
    (a consolidated or split unit may keep a predecessor's code)."""
    unit_id = work.fresh_id(spec.id, f"{field}.id" if field else "id")
    parent = work.unit(spec.parent_id, f"{field}.parentId" if field else "parentId") if spec.parent_id else None
    unit = work.add(Unit.establish(
        unit_id=unit_id, code=spec.code, name=spec.name, kind=spec.kind, autonomy=spec.autonomy, parent=parent,
        change=change, predecessor_ids=predecessor_ids, effective_on=effective_on, act=act, at=work.at,
    ))
    if claim:
        claim_code(work, unit.code, unit.id)
    return unit


def claim_code(work: Work, code: str, holder_id: UUID) -> None:
    entry = work.find(unit_code_id(code), UnitCode)
    if entry is None:
        work.add(UnitCode.claim(code, holder_id, work.at))
        return
    holder = work.find(entry.holder_id, Unit)
    check_code_free(code, holder.name if holder else None, holder_is_claimant=entry.holder_id == holder_id,
                    holder_live_and_using=holder is not None and holder.status is UnitStatus.ACTIVE
                    and unit_code_id(holder.code) == entry.id)
    if entry.holder_id != holder_id:
        entry.reassign(holder_id, work.at)


def move_items(work: Work, source: Unit, target: Unit, child_ids: Iterable[UUID], position_ids: Iterable[UUID],
               person_ids: Iterable[UUID], effective_on: date, act: LegalAct) -> None:
    """A reorganisation moves child units, positions and people from ``source`` to ``target`` (read
    together first: ``Work.preload``)."""
    at = work.at
    child_ids, position_ids, person_ids = list(child_ids), list(position_ids), list(person_ids)
    work.preload([*child_ids, *position_ids, *person_ids])
    for child_id in child_ids:
        child = work.unit(child_id, "childUnitIds")
        child.rehome(parent_id=target.id, effective_on=effective_on, act=act, at=at)
        source.detach_child(child_id, effective_on, act, at)
        target.attach_child(child_id, effective_on, act, at)
    for position_id in position_ids:
        position = work.position(position_id)
        position.move(unit_id=target.id, by_reorganisation=True, effective_on=effective_on, act=act, at=at)
        source.close_position(position_id, effective_on, act, at)
        target.open_position(position_id, effective_on, act, at)
    for person_id in person_ids:
        person = work.person(person_id)
        person.transfer(unit_id=target.id, position_id=person.placement.position_id, by_reorganisation=True,
                        effective_on=effective_on, act=act, at=at)
        source.release_member(person_id, effective_on, act, at)
        target.admit_member(person_id, effective_on, act, at)


def reorganisations_of(work: Work) -> Callable[[UUID], list[Reorganisation]]:
    """The lineage look-up ``derive_moves`` needs, from the unit aggregates (loaded once per call)."""
    found: dict[UUID, list[Reorganisation]] = {}

    def lookup(unit_id: UUID) -> list[Reorganisation]:
        if unit_id not in found:
            unit = work.find(unit_id, Unit)
            found[unit_id] = [] if unit is None else [
                Reorganisation(unit.id, unit.code, on, change,
                               tuple((s, work.unit(s).name) for s in successors), act, fact_id(unit.id, version))
                for on, change, successors, act, version in unit.reorganisations()]
        return found[unit_id]

    return lookup


def _chooser(split_parts: Sequence[UUID], earlier: Sequence[tuple[date, UUID]]
             ) -> Callable[[Reorganisation], UUID | None]:
    """The part a split or separation takes someone (or a position) to: the one the command names
    in ``split_parts``, else the one an earlier derivation recorded for that date (``earlier``)."""

    def choose(reorg: Reorganisation) -> UUID | None:
        parts = {uid for uid, _ in reorg.successors}
        chosen = next((p for p in split_parts if p in parts), None)
        if chosen is None:
            chosen = next((unit for on, unit in reversed(earlier) if on == reorg.on and unit in parts), None)
        return chosen

    return choose


def settle_person(work: Work, person: Person, before: Placement, effective_on: date, act: LegalAct,
                  split_parts: Sequence[UUID] = (), field: str = "effectiveOn", changed_on: date | None = None) -> None:
    """Record what the reorganisations of the person's units did to them, as now derived, and keep
    rosters in step. ``split_parts`` names, for a split the person now goes through, their part;
    ``changed_on``: the earliest date the command changed (``effective_on`` unless a retraction)."""
    earlier = [(f["effective_on"], f["changes"]["unit_id"]) for f in person.derived_moves(include_withdrawn=True)]
    moves, problem = derive_moves(person.steps(), reorganisations_of(work), _chooser(split_parts, earlier),
                                  person.full_name, field)
    person.settle(moves, work.at)
    work.defer(person.id, problem)
    follow(work, person.id, before, person.placement, effective_on, act, joined_on=person.entered_on())
    inform_stays(work, person, changed_on or effective_on, act, field)


def inform_stays(work: Work, person: Person, since: date, act: LegalAct, field: str) -> None:
    """Rule (``domain.stays``): no unit ends, and no position is abolished, while someone is still in it.
    ``follow`` keeps the rosters right about where the person ends up; a change dated ``since`` can
    also move the end of an earlier stay (a retracted or late transfer in the middle of their path).
    Every stay ending on or after ``since`` is told to its unit and position: a position abolished
    before the stay ends refuses the command, and each unit and position learns the stay's last day.
    A unit that has ended is left alone: it cannot end again, and a stay past its end is refused by
    ``derive_moves``. A command appending a fact touches only the places ``follow`` just loaded."""
    unit_stays = person.stays("unit_id")
    for stay in unit_stays:
        if stay.until is None or stay.until < since:
            continue
        unit = work.unit(stay.place, field)
        if unit.ended_on is None:
            unit.record_stay("member", person.id, stay, return_day(unit_stays, stay), act, work.at)
    position_stays = person.stays("position_id")
    for stay in position_stays:
        if stay.until is not None and stay.until < since:
            continue
        position = work.position(stay.place, field)
        position.require_held_within(stay, person.full_name, field)
        if stay.until is not None:
            position.record_holder_stay(person.id, stay, return_day(position_stays, stay), act, work.at)


def settle_position(work: Work, position: Position, before_unit: UUID | None, effective_on: date, act: LegalAct,
                    split_parts: Sequence[UUID] = ()) -> None:
    """What reorganisations did to the position, as now derived; the unit rosters follow its final unit."""
    earlier = [(f["effective_on"], f["unit_id"]) for f in position.derived_moves(include_withdrawn=True)]
    moves, problem = derive_moves(position.steps(), reorganisations_of(work), _chooser(split_parts, earlier),
                                  f"position '{position.title}'")
    position.settle(moves, work.at)
    work.defer(position.id, problem)
    now_unit = position.unit_id if position.is_open else None
    if before_unit != now_unit:
        if before_unit is not None:
            work.unit(before_unit).close_position(position.id, effective_on, act, work.at)
        if now_unit is not None:
            entered = max([m.on for m in moves] or [position.opened_on])
            work.unit(now_unit).open_position(position.id, entered, act, work.at)


def follow(work: Work, person_id: UUID, before: Any, after: Any, effective_on: date, act: LegalAct,
           joined_on: date | None = None) -> None:
    """Keep unit rosters and position holders in step with a person's placement.

    A roster holds whoever ends up in the unit as recorded; ``joined_on`` is when they entered it
    (a late fact can place someone in a unit that a reorganisation later led them out of).
    """
    at = work.at
    was_in = before.unit_id if before.status is PersonStatus.ACTIVE else None
    now_in = after.unit_id if after.status is PersonStatus.ACTIVE else None
    if was_in != now_in:
        if was_in is not None:
            work.unit(was_in).release_member(person_id, effective_on, act, at)
        if now_in is not None:
            work.unit(now_in).admit_member(person_id, joined_on or effective_on, act, at, field="factId")
    held = before.position_id if before.status is PersonStatus.ACTIVE else None
    holds = after.position_id if after.status is PersonStatus.ACTIVE else None
    if held != holds:
        if held is not None:
            work.position(held).remove_holder(person_id, effective_on, act, at)
        if holds is not None:
            position = work.position(holds)
            position.require_available_in(after.unit_id, joined_on or effective_on, "factId")
            position.add_holder(person_id, joined_on or effective_on, act, at)
