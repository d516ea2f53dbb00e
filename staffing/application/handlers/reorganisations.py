"""Handlers for reorganisations: merge (absorb / consolidate), split, separate, dissolve.

Each is one decision over every unit, person, position and quota ledger it touches; the unit of
work saves them in one transaction. The rules that span those aggregates are in
``staffing.domain.reorganisation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID

from staffing.application.commands import DissolveUnit, MergeUnits, NewUnit, SeparateUnit, SplitPart, SplitUnit
from staffing.application.handlers.common import claim_code, establish, fact_id, fact_of, move_items
from staffing.application.registry import handles
from staffing.application.results import UnitRecorded, UnitsRecorded
from staffing.application.work import Work
from staffing.domain import reorganisation as rules
from staffing.domain.base import check_amount
from staffing.domain.errors import InvalidInput
from staffing.domain.quota import QuotaFactReason, StaffingQuota, quota_ledger_id
from staffing.domain.unit import Unit
from staffing.domain.values import ChangeKind, LegalAct

__all__: list[str] = []


def _parent(work: Work, unit: Unit) -> Unit | None:
    return work.unit(unit.parent_id, "parentId") if unit.parent_id else None


@handles(MergeUnits, UnitRecorded)
def merge_units(cmd: MergeUnits, work: Work) -> UnitRecorded:
    """Child units, positions, people and quota of every source move to the successor; the sources
    end; the lineage is recorded on both sides; optionally the successor may exceed its quota until
    ``excess_allowed_until`` (the post-merger 5-year rule)."""
    rules.check_consolidation_sources(cmd.into_unit_id is not None, cmd.new_unit is not None,
                                      len(cmd.source_unit_ids))
    source_ids = list(cmd.source_unit_ids)
    rules.check_distinct_units(source_ids, "sourceUnitIds")
    on, act = cmd.effective_on, cmd.act
    sources = [work.unit(s, "sourceUnitIds") for s in source_ids]
    if cmd.into_unit_id is not None:
        target = work.unit(cmd.into_unit_id, "intoUnitId")
        rules.check_merge_target(target.id, target.code, {target.id, *work.ancestor_ids(target, on)}, source_ids,
                                 "intoUnitId")
        target.require_active_on(on, "intoUnitId")
        change = ChangeKind.ABSORB
    else:
        assert cmd.new_unit is not None
        if cmd.new_unit.parent_id is not None:
            parent = work.unit(cmd.new_unit.parent_id, "newUnit.parentId")
            rules.check_merge_target(parent.id, parent.code, {parent.id, *work.ancestor_ids(parent, on)},
                                     [s for s in source_ids], "newUnit.parentId")
        for source in sources:
            source.check_can_end(on)
        change = ChangeKind.CONSOLIDATE
        target = establish(work, cmd.new_unit, change, source_ids, on, act, field="newUnit", claim=False)
    for source in sources:
        source.check_can_end(on)
        _move_contents(work, source, target, on, act)
        source.end(change=change, successor_ids=[target.id], parent=_parent(work, source), effective_on=on, act=act,
                   at=work.at)
    _inherit_quota(work, sources, target, change is ChangeKind.ABSORB, on, act)
    if change is ChangeKind.CONSOLIDATE:
        claim_code(work, target.code, target.id)
    else:
        target.receive_predecessors(predecessor_ids=source_ids, effective_on=on, act=act, at=work.at)
    carried = _running_exceptions(work, sources + ([target] if change is ChangeKind.ABSORB else []), on)
    deadlines = [d for d in (cmd.excess_allowed_until, *carried) if d is not None]
    if deadlines:  # an exception a merged unit still had goes to its successor: the earliest deadline holds
        work.ledger(target, on, act).allow_excess(
            until=min(deadlines), reason=f"{change.value.lower()} of {len(sources)} units"
            + (" (carrying the exception of a predecessor)" if carried and min(deadlines) in carried else ""),
            effective_on=on, act=act, at=work.at)
    return UnitRecorded(unit_id=str(target.id), fact_id=fact_of(target, Unit.PredecessorsReceived)
                        if change is ChangeKind.ABSORB else fact_id(target.id, 1))


def _running_exceptions(work: Work, units: Sequence[Unit], on: date) -> list[date]:
    """Deadlines of the post-merger exceptions still running the day before ``on`` (issue 11: a
    split or a further merger must not drop one)."""
    day = on - timedelta(days=1)
    found = []
    for unit in units:
        ledger = work.find(quota_ledger_id(unit.id), StaffingQuota)
        deadline = ledger.exception_on(day) if ledger is not None else None
        if deadline is not None and deadline >= on:
            found.append(deadline)
    return found


def _carry_exception(work: Work, original: Unit, successors: Sequence[Unit], on: date, act: LegalAct) -> None:
    """The parts of a split (or a separated unit) keep the original's running exception."""
    carried = _running_exceptions(work, [original], on)
    for successor in successors if carried else ():
        work.ledger(successor, on, act).allow_excess(
            until=min(carried), reason="carrying the exception of the unit it was split from", effective_on=on,
            act=act, at=work.at)


def _move_contents(work: Work, source: Unit, target: Unit, on: date, act: LegalAct) -> None:
    move_items(work, source, target, sorted(source.child_ids), sorted(source.position_ids), sorted(source.member_ids),
               on, act)


def _inherit_quota(work: Work, sources: list[Unit], target: Unit, absorb: bool, on: date, act: LegalAct) -> None:
    """The successor's figure of each series becomes the sum of the figures in force the day before
    (its own too, when it absorbs): recorded with what it inherits, so a late figure of any of them
    makes it again (``settle_quota``)."""
    ledgers = [(u.id, work.find(quota_ledger_id(u.id), StaffingQuota)) for u in ([target] if absorb else []) + sources]
    keys = sorted({key for unit_id, ledger in ledgers if ledger is not None and unit_id != target.id
                   for key in ledger.series_keys()})
    if not keys:
        return
    target_ledger = work.ledger(target, on, act)
    inherits = [unit_id for unit_id, _ in ledgers]
    for category, kind in keys:
        amount = sum(ledger.figure_before(category, kind, on) for _, ledger in ledgers if ledger is not None)
        target_ledger.set_figure(category=category, kind=kind, amount=amount, reason=QuotaFactReason.REORGANISATION,
                                 effective_on=on, act=act, at=work.at, inherits=inherits)


def _check_parts(work: Work, original: Unit, parts: Sequence[SplitPart], complete: bool, field: str
                 ) -> list[SplitPart]:
    """The parts with their allocation completed (holders follow their positions; one part may take
    the rest), checked: each item once, held by the original, nothing left behind by a split."""
    held = {"personIds": original.member_ids, "positionIds": original.position_ids,
            "childUnitIds": original.child_ids}
    if not complete and any(p.rest for p in parts):
        raise InvalidInput(f"{field}.rest", "a separation keeps the original unit: its new unit cannot take the rest")
    work.preload([*original.member_ids, *(original.position_ids if complete else ())])  # a split moves them all
    holders = {pid: work.person(pid, f"{field}.personIds").placement.position_id for pid in original.member_ids}
    allocated = rules.complete_allocation(
        held, holders, [rules.Allocation(p.person_ids, p.position_ids, p.child_unit_ids) for p in parts],
        [p.rest for p in parts], field)

    def describe(label: str, ids: list[UUID]) -> list[str]:
        if label == "personIds":
            return [f"{work.person(i).full_name} ({i})" for i in ids]
        if label == "positionIds":
            return [f"{work.position(i).title} ({i})" for i in ids]
        return [f"{work.unit(i).code} {work.unit(i).name} ({i})" for i in ids]

    rules.check_allocation(original.code, held, allocated, complete, field, describe)
    return [replace(part, person_ids=tuple(a.person_ids), position_ids=tuple(a.position_ids),
                    child_unit_ids=tuple(a.child_unit_ids), rest=False) for part, a in zip(parts, allocated, strict=True)]


def _create_parts(work: Work, original: Unit, parts: Sequence[SplitPart], change: ChangeKind, on: date,
                  act: LegalAct, field: str) -> list[Unit]:
    successors = []
    for i, part in enumerate(parts):
        path = f"{field}[{i}]" if field == "parts" else field
        spec = part.unit if part.unit.parent_id else NewUnit(
            code=part.unit.code, name=part.unit.name, kind=part.unit.kind, parent_id=original.parent_id,
            autonomy=part.unit.autonomy, id=part.unit.id)
        successor = establish(work, spec, change, [original.id], on, act, field=f"{path}.unit", claim=False)
        successors.append(successor)
        people = [work.person(p, f"{path}.personIds") for p in part.person_ids]
        rules.check_positions_follow_people([(p.full_name, p.placement.position_id) for p in people],
                                            set(part.position_ids), f"{path}.personIds")
        move_items(work, original, successor, part.child_unit_ids, part.position_ids, part.person_ids, on, act)
        if part.quota:
            ledger = work.ledger(successor, on, act)
            for j, figure in enumerate(part.quota):
                ledger.set_figure(category=figure.category, kind=figure.kind,
                                  amount=check_amount(figure.amount, f"{path}.quota[{j}].amount"),
                                  reason=QuotaFactReason.REORGANISATION, effective_on=on, act=act, at=work.at)
    return successors


@handles(SplitUnit, UnitsRecorded)
def split_unit(cmd: SplitUnit, work: Work) -> UnitsRecorded:
    """Chia: the original ends; every person, position and child unit must go to a new unit."""
    if len(cmd.parts) < 2:
        raise InvalidInput("parts", "a split creates at least two units; use separateUnit for one")
    original = work.unit(cmd.unit_id)
    original.check_can_end(cmd.effective_on)
    parts = _check_parts(work, original, cmd.parts, complete=True, field="parts")
    successors = _create_parts(work, original, parts, ChangeKind.SPLIT, cmd.effective_on, cmd.act, "parts")
    _carry_exception(work, original, successors, cmd.effective_on, cmd.act)
    original.end(change=ChangeKind.SPLIT, successor_ids=[s.id for s in successors], parent=_parent(work, original),
                 effective_on=cmd.effective_on, act=cmd.act, at=work.at)
    for successor in successors:
        claim_code(work, successor.code, successor.id)
    return UnitsRecorded(unit_ids=tuple(str(s.id) for s in successors), fact_id=fact_of(original, Unit.Ended))


@handles(SeparateUnit, UnitRecorded)
def separate_unit(cmd: SeparateUnit, work: Work) -> UnitRecorded:
    """Tách: the original continues; the new unit takes what the caller allocates to it."""
    on, act, part = cmd.effective_on, cmd.act, cmd.part
    original = work.unit(cmd.unit_id)
    original.check_can_end(on)
    (part,) = _check_parts(work, original, [part], complete=False, field="part")
    ledger = work.find(quota_ledger_id(original.id), StaffingQuota)
    for i, figure in enumerate(part.quota):
        have = ledger.figure_before(figure.category, figure.kind, on, ledger.version + 1) if ledger else 0
        rules.check_quota_sufficient(original.code, have, figure.amount,
                                     f"{figure.category.value}/{figure.kind.value}", f"part.quota[{i}].amount")
    (successor,) = _create_parts(work, original, [part], ChangeKind.SEPARATE, on, act, "part")
    _carry_exception(work, original, [successor], on, act)
    if part.quota:
        assert ledger is not None
        for figure in part.quota:
            ledger.set_figure(category=figure.category, kind=figure.kind,
                              amount=ledger.figure_before(figure.category, figure.kind, on, ledger.version + 1)
                              - figure.amount, reason=QuotaFactReason.REORGANISATION, effective_on=on, act=act,
                              at=work.at, delta=-figure.amount)
    original.record_separation(successor_ids=[successor.id], effective_on=on, act=act, at=work.at)
    claim_code(work, successor.code, successor.id)
    return UnitRecorded(unit_id=str(successor.id), fact_id=fact_id(successor.id, 1))


@handles(DissolveUnit, UnitRecorded)
def dissolve_unit(cmd: DissolveUnit, work: Work) -> UnitRecorded:
    """Giải thể: refused while the unit still has people, open positions or child units."""
    unit = work.unit(cmd.unit_id)
    unit.end(change=ChangeKind.DISSOLVE, successor_ids=[], parent=_parent(work, unit), effective_on=cmd.effective_on,
             act=cmd.act, at=work.at)
    return UnitRecorded(unit_id=str(unit.id), fact_id=fact_of(unit, Unit.Ended))
