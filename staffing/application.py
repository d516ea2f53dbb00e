"""The write side: one method per use case, and the only way anything enters the log.

Every command runs as *load → decide → save* inside ``_execute``:

- all aggregates a command touches are loaded into one identity map and saved together with a
  single ``Application.save`` call — one transaction, all or nothing (a reorganisation moving
  hundreds of people lands whole or not at all);
- a concurrent writer makes the save fail with ``IntegrityError`` (optimistic concurrency); the
  whole decide step is then re-run against fresh state, so no update is ever lost;
- a request key makes a command idempotent: the key's ``Request`` record is saved in the same
  transaction, and a repeat returns the first result instead of acting twice;
- after a commit, ``on_commit`` listeners run (the projections catch up: read your writes).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from staffing.domain.base import as_uuid, check_amount
from staffing.domain.errors import (
    AllocationIncomplete,
    ConcurrencyConflict,
    DuplicateCode,
    HierarchyCycle,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    NotRetractable,
    PositionUnavailable,
    StaffingError,
)
from staffing.domain.person import Person
from staffing.domain.position import Position
from staffing.domain.quota import QuotaFactReason, StaffingQuota, quota_ledger_id
from staffing.domain.request import Request, request_id
from staffing.domain.unit import Unit
from staffing.domain.unit_code import UnitCode, unit_code_id
from staffing.domain.values import (
    ChangeKind,
    DownsizingPolicy,
    FinancialAutonomy,
    Gender,
    LegalAct,
    PersonnelCategory,
    PersonStatus,
    PositionGroup,
    QuotaKind,
    UnitKind,
    parse_enum,
)
from staffing.persistence import EventStore

__all__ = ["NewUnit", "QuotaFigure", "SplitPart", "StaffingService", "fact_id", "parse_fact_id"]

A = TypeVar("A", bound=Aggregate)
MAX_ATTEMPTS = 20


def fact_id(aggregate_id: UUID, version: int) -> str:
    """A recorded fact is named by its aggregate and version: stable, opaque, never reused."""
    return f"{aggregate_id}:{version}"


def parse_fact_id(value: str) -> tuple[UUID, int]:
    try:
        aggregate, version = str(value).rsplit(":", 1)
        return UUID(aggregate), int(version)
    except ValueError:
        raise InvalidInput("factId", f"{value!r} is not a fact id (take it from `history`)") from None


@dataclass(frozen=True)
class QuotaFigure:
    category: PersonnelCategory
    kind: QuotaKind
    amount: int


@dataclass(frozen=True)
class NewUnit:
    code: str
    name: str
    kind: UnitKind
    parent_id: UUID | None = None
    autonomy: FinancialAutonomy | None = None


@dataclass(frozen=True)
class SplitPart:
    """One new unit of a split (chia) or separation (tách), with what the caller allocates to it."""

    unit: NewUnit
    person_ids: Sequence[UUID] = ()
    position_ids: Sequence[UUID] = ()
    child_unit_ids: Sequence[UUID] = ()
    quota: Sequence[QuotaFigure] = ()


@dataclass
class _Work:
    """One attempt's identity map: every aggregate loaded or created, saved together."""

    service: StaffingService
    at: datetime
    loaded: dict[UUID, Aggregate] = field(default_factory=dict)

    def get(self, aggregate_id: UUID, kind: type[A], field_name: str, what: str) -> A:
        if aggregate_id in self.loaded:
            agg = self.loaded[aggregate_id]
        else:
            try:
                agg = self.service.store.repository.get(aggregate_id)
            except AggregateNotFoundError:
                raise NotFound(field_name, f"no {what} with id {aggregate_id}") from None
            self.loaded[aggregate_id] = agg
        if not isinstance(agg, kind):
            raise NotFound(field_name, f"id {aggregate_id} names something that is not a {what}")
        return agg

    def find(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        try:
            return self.get(aggregate_id, kind, "", "")
        except NotFound:
            return None

    def add(self, agg: A) -> A:
        self.loaded[agg.id] = agg
        return agg

    def unit(self, unit_id: UUID | str, field_name: str = "unitId") -> Unit:
        return self.get(as_uuid(unit_id, field_name), Unit, field_name, "unit")

    def person(self, person_id: UUID | str, field_name: str = "personId") -> Person:
        return self.get(as_uuid(person_id, field_name), Person, field_name, "person")

    def position(self, position_id: UUID | str, field_name: str = "positionId") -> Position:
        return self.get(as_uuid(position_id, field_name), Position, field_name, "position")

    def ledger(self, unit: Unit, effective_on: date, act: LegalAct) -> StaffingQuota:
        existing = self.find(quota_ledger_id(unit.id), StaffingQuota)
        if existing is not None:
            return existing
        return self.add(StaffingQuota.open(unit_id=unit.id, effective_on=effective_on, act=act, at=self.at))

    def ancestor_ids(self, unit: Unit, day: date) -> set[UUID]:
        """Every unit that is above ``unit`` on ``day`` or on any later date on record.

        Parent changes can be recorded out of order across units (B's move in 2028 may be on
        record before A's move in 2026), so the current tree alone cannot rule out a cycle on some
        future date; this over-approximates the ancestors over all dates from ``day`` on.
        """
        found: set[UUID] = set()
        frontier = [unit]
        while frontier and len(found) < 10_000:
            current = frontier.pop()
            for parent_id in current.parents_from(day):
                if parent_id not in found:
                    found.add(parent_id)
                    frontier.append(self.unit(parent_id, "parentId"))
        return found

    def pending(self) -> list[Aggregate]:
        return [a for a in self.loaded.values() if a.pending_events]


class StaffingService:
    """The application service. Takes plain values; returns ids; raises ``StaffingError``."""

    def __init__(
        self,
        store: EventStore,
        clock: Callable[[], datetime] | None = None,
        id_factory: Callable[[], UUID] = uuid.uuid4,
    ) -> None:
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))
        self.new_id = id_factory
        self.on_commit: list[Callable[[], None]] = []

    # ================================================================== the one write path
    def _execute(
        self,
        command: str,
        payload: dict[str, Any],
        request_key: str | None,
        decide: Callable[[_Work], dict[str, Any]],
    ) -> dict[str, Any]:
        fingerprint = hashlib.sha256(json.dumps([command, payload], default=str, sort_keys=True).encode()).hexdigest()
        for attempt in range(MAX_ATTEMPTS):
            work = _Work(self, self.clock())
            if request_key is not None:
                previous = work.find(request_id(request_key), Request)
                if previous is not None:
                    return self._replay(previous, command, fingerprint)
            try:
                result = decide(work)
            except StaffingError:
                # a concurrent repeat of this very request may have committed after we looked for
                # it; its effects then refuse ours (e.g. DuplicateCode): answer with its result
                if request_key is not None:
                    previous = _Work(self, work.at).find(request_id(request_key), Request)
                    if previous is not None:
                        return self._replay(previous, command, fingerprint)
                raise
            aggregates = work.pending()
            if request_key is not None:
                aggregates.append(Request.handled(key=request_key, command=command, fingerprint=fingerprint,
                                                  result=result, at=work.at))
            if not aggregates:
                return result
            versions = [(a.id, type(a), a.pending_events[0].originator_version, a.pending_events[-1].originator_version)
                        for a in aggregates]
            try:
                self.store.save(*aggregates)
            except IntegrityError:
                time.sleep(min(0.002 * (2**attempt), 0.1) * (0.5 + uuid.uuid4().int % 100 / 100))
                continue
            for aggregate_id, kind, first_new, last_new in versions:
                self.store.snapshot_if_due(aggregate_id, kind, first_new, last_new)
            for listener in self.on_commit:
                listener()
            return result
        raise ConcurrencyConflict(None, f"{command} kept colliding with concurrent changes; submit it again")

    @staticmethod
    def _replay(previous: Request, command: str, fingerprint: str) -> dict[str, Any]:
        if previous.command != command or previous.fingerprint != fingerprint:
            raise IdempotencyConflict(
                "requestKey", "this request key was already used for a different command; use a fresh key"
            )
        return dict(previous.result)

    # ================================================================== units
    def establish_unit(
        self, *, code: str, name: str, kind: UnitKind | str, parent_id: UUID | str | None,
        effective_on: date, act: LegalAct, autonomy: FinancialAutonomy | str | None = None,
        request_key: str | None = None,
    ) -> dict[str, Any]:
        spec = NewUnit(code, name, _enum(UnitKind, kind, "kind"),
                       as_uuid(parent_id, "parentId") if parent_id else None,
                       _enum(FinancialAutonomy, autonomy, "autonomy") if autonomy else None)
        new_id = self.new_id()

        def decide(work: _Work) -> dict[str, Any]:
            unit = self._establish(work, new_id, spec, ChangeKind.ESTABLISH, [], effective_on, act)
            return {"unitId": str(unit.id), "factId": fact_id(unit.id, 1)}

        return self._execute("establish_unit", _payload(spec, effective_on, act), request_key, decide)

    def _establish(self, work: _Work, unit_id: UUID, spec: NewUnit, change: ChangeKind,
                   predecessor_ids: list[UUID], effective_on: date, act: LegalAct, claim: bool = True) -> Unit:
        """Create a unit; ``claim=False`` when its code is claimed after the predecessors end
        (a consolidated or split unit may keep a predecessor's code)."""
        parent = work.unit(spec.parent_id, "parentId") if spec.parent_id else None
        unit = work.add(Unit.establish(
            unit_id=unit_id, code=spec.code, name=spec.name, kind=spec.kind, autonomy=spec.autonomy,
            parent=parent, change=change, predecessor_ids=predecessor_ids, effective_on=effective_on,
            act=act, at=work.at,
        ))
        if claim:
            self._claim_code(work, unit.code, unit.id)
        return unit

    def _claim_code(self, work: _Work, code: str, holder_id: UUID) -> None:
        entry = work.find(unit_code_id(code), UnitCode)
        if entry is None:
            work.add(UnitCode.claim(code, holder_id, work.at))
            return
        if entry.holder_id == holder_id:
            return
        holder = work.find(entry.holder_id, Unit)
        # the holder keeps the code only while it is live *and* still uses it (a rename frees it)
        if holder is not None and holder.status.value == "ACTIVE" and unit_code_id(holder.code) == entry.id:
            raise DuplicateCode("code", f"code {code!r} is held by the live unit '{holder.name}'; choose another")
        entry.reassign(holder_id, work.at)

    def rename_unit(self, *, unit_id: UUID | str, name: str, effective_on: date, act: LegalAct,
                    code: str | None = None, request_key: str | None = None) -> dict[str, Any]:
        def decide(work: _Work) -> dict[str, Any]:
            unit = work.unit(unit_id)
            unit.rename(name=name, code=code, effective_on=effective_on, act=act, at=work.at)
            if code is not None:
                self._claim_code(work, unit.code, unit.id)
            return {"unitId": str(unit.id), "factId": fact_id(unit.id, unit.version)}

        return self._execute("rename_unit", _payload(unit_id, name, code, effective_on, act), request_key, decide)

    def move_unit(self, *, unit_id: UUID | str, new_parent_id: UUID | str | None, effective_on: date,
                  act: LegalAct, request_key: str | None = None) -> dict[str, Any]:
        def decide(work: _Work) -> dict[str, Any]:
            unit = work.unit(unit_id)
            new_parent = work.unit(new_parent_id, "newParentId") if new_parent_id else None
            old_parent = work.unit(unit.parent_id, "parentId") if unit.parent_id else None
            ancestors = sorted(work.ancestor_ids(new_parent, effective_on)) if new_parent else []
            unit.move(old_parent=old_parent, new_parent=new_parent, new_parent_ancestor_ids=ancestors,
                      effective_on=effective_on, act=act, at=work.at)
            return {"unitId": str(unit.id), "factId": _fact_of(unit, Unit.Moved)}

        return self._execute("move_unit", _payload(unit_id, new_parent_id, effective_on, act), request_key, decide)

    def change_unit_model(self, *, unit_id: UUID | str, kind: UnitKind | str, effective_on: date, act: LegalAct,
                          autonomy: FinancialAutonomy | str | None = None,
                          request_key: str | None = None) -> dict[str, Any]:
        new_kind = _enum(UnitKind, kind, "kind")
        new_autonomy = _enum(FinancialAutonomy, autonomy, "autonomy") if autonomy else None

        def decide(work: _Work) -> dict[str, Any]:
            unit = work.unit(unit_id)
            unit.change_model(kind=new_kind, autonomy=new_autonomy, effective_on=effective_on, act=act, at=work.at)
            return {"unitId": str(unit.id), "factId": fact_id(unit.id, unit.version)}

        return self._execute("change_unit_model", _payload(unit_id, new_kind, new_autonomy, effective_on, act),
                             request_key, decide)

    def adjust_unit_functions(self, *, unit_id: UUID | str, functions: str, effective_on: date, act: LegalAct,
                              request_key: str | None = None) -> dict[str, Any]:
        def decide(work: _Work) -> dict[str, Any]:
            unit = work.unit(unit_id)
            unit.adjust_functions(functions=functions, effective_on=effective_on, act=act, at=work.at)
            return {"unitId": str(unit.id), "factId": fact_id(unit.id, unit.version)}

        return self._execute("adjust_unit_functions", _payload(unit_id, functions, effective_on, act),
                             request_key, decide)

    # ------------------------------------------------------------------ reorganisations
    def merge_units(
        self, *, source_unit_ids: Sequence[UUID | str], effective_on: date, act: LegalAct,
        into_unit_id: UUID | str | None = None, new_unit: NewUnit | None = None,
        excess_allowed_until: date | None = None, request_key: str | None = None,
    ) -> dict[str, Any]:
        """Absorb (sáp nhập, ``into_unit_id``) or consolidate (hợp nhất, ``new_unit``) in one save.

        Child units, positions, people and quota of every source move to the successor; the
        sources end; the lineage is recorded on both sides; optionally the successor may exceed
        its quota until ``excess_allowed_until`` (the post-merger 5-year rule).
        """
        if (into_unit_id is None) == (new_unit is None):
            raise InvalidInput("intoUnitId", "give exactly one of intoUnitId (absorb) or newUnit (consolidate)")
        source_ids = _unique_ids(source_unit_ids, "sourceUnitIds")
        new_unit = _normalise(new_unit, "newUnit") if new_unit is not None else None
        if into_unit_id is None and len(source_ids) < 2:
            raise InvalidInput("sourceUnitIds", "a consolidation needs at least two units")
        new_id = self.new_id()

        def decide(work: _Work) -> dict[str, Any]:
            sources = [work.unit(s, "sourceUnitIds") for s in source_ids]
            if into_unit_id is not None:
                target = work.unit(into_unit_id, "intoUnitId")
                if target.id in source_ids:
                    raise InvalidInput("intoUnitId", "a unit cannot be merged into itself")
                target.require_active_on(effective_on, "intoUnitId")
                change = ChangeKind.ABSORB
                self._refuse_descendant(work, target, source_ids, "intoUnitId", effective_on)
            else:
                assert new_unit is not None
                if new_unit.parent_id is not None:
                    self._refuse_descendant(work, work.unit(new_unit.parent_id, "newUnit.parentId"), source_ids,
                                            "newUnit.parentId", effective_on)
                for source in sources:
                    source.check_can_end(effective_on)
                change = ChangeKind.CONSOLIDATE
                target = self._establish(work, new_id, new_unit, change, list(source_ids), effective_on, act,
                                         claim=False)
            for source in sources:
                source.check_can_end(effective_on)
                self._move_contents(work, source, target, effective_on, act, move_quota=True)
                parent = work.unit(source.parent_id, "parentId") if source.parent_id else None
                source.end(change=change, successor_ids=[target.id], parent=parent, effective_on=effective_on,
                           act=act, at=work.at)
            if change is ChangeKind.CONSOLIDATE:
                self._claim_code(work, target.code, target.id)
            if change is ChangeKind.ABSORB:
                target.receive_predecessors(predecessor_ids=list(source_ids), effective_on=effective_on, act=act,
                                            at=work.at)
            if excess_allowed_until is not None:
                work.ledger(target, effective_on, act).allow_excess(
                    until=excess_allowed_until, reason=f"{change.value.lower()} of {len(sources)} units",
                    effective_on=effective_on, act=act, at=work.at)
            return {"unitId": str(target.id), "factId": _fact_of(target, Unit.PredecessorsReceived)
                    if change is ChangeKind.ABSORB else fact_id(target.id, 1)}

        return self._execute("merge_units", _payload(source_ids, into_unit_id, new_unit, excess_allowed_until,
                                                     effective_on, act), request_key, decide)

    def split_unit(self, *, unit_id: UUID | str, parts: Sequence[SplitPart], effective_on: date, act: LegalAct,
                   request_key: str | None = None) -> dict[str, Any]:
        """Chia: the original ends; every person, position and child unit must go to a new unit."""
        if len(parts) < 2:
            raise InvalidInput("parts", "a split creates at least two units; use separateUnit for one")
        parts = [_normalise_part(p, f"parts[{i}]") for i, p in enumerate(parts)]
        new_ids = [self.new_id() for _ in parts]

        def decide(work: _Work) -> dict[str, Any]:
            original = work.unit(unit_id)
            original.check_can_end(effective_on)
            self._check_allocation(original, parts, complete=True)
            successors = self._create_parts(work, original, parts, new_ids, ChangeKind.SPLIT, effective_on, act)
            parent = work.unit(original.parent_id, "parentId") if original.parent_id else None
            original.end(change=ChangeKind.SPLIT, successor_ids=[s.id for s in successors], parent=parent,
                         effective_on=effective_on, act=act, at=work.at)
            for successor in successors:
                self._claim_code(work, successor.code, successor.id)
            return {"unitIds": [str(s.id) for s in successors], "factId": _fact_of(original, Unit.Ended)}

        return self._execute("split_unit", _payload(unit_id, parts, effective_on, act), request_key, decide)

    def separate_unit(self, *, unit_id: UUID | str, part: SplitPart, effective_on: date, act: LegalAct,
                      request_key: str | None = None) -> dict[str, Any]:
        """Tách: the original continues; the new unit takes what the caller allocates to it."""
        part = _normalise_part(part, "part")
        new_id = self.new_id()

        def decide(work: _Work) -> dict[str, Any]:
            original = work.unit(unit_id)
            original.check_can_end(effective_on)
            self._check_allocation(original, [part], complete=False)
            ledger = work.find(quota_ledger_id(original.id), StaffingQuota)
            for i, figure in enumerate(part.quota):
                have = ledger.current(figure.category, figure.kind) if ledger else 0
                if figure.amount > have:
                    raise InvalidInput(f"part.quota[{i}].amount",
                                       f"cannot separate {figure.amount} {figure.category.value}/{figure.kind.value} "
                                       f"posts: the unit has {have}")
            (successor,) = self._create_parts(work, original, [part], [new_id], ChangeKind.SEPARATE,
                                              effective_on, act)
            if part.quota:
                assert ledger is not None
                for figure in part.quota:
                    ledger.set_figure(category=figure.category, kind=figure.kind,
                                      amount=ledger.current(figure.category, figure.kind) - figure.amount,
                                      reason=QuotaFactReason.REORGANISATION, effective_on=effective_on, act=act,
                                      at=work.at)
            original.record_separation(successor_ids=[successor.id], effective_on=effective_on, act=act, at=work.at)
            self._claim_code(work, successor.code, successor.id)
            return {"unitId": str(successor.id), "factId": fact_id(successor.id, 1)}

        return self._execute("separate_unit", _payload(unit_id, part, effective_on, act), request_key, decide)

    def dissolve_unit(self, *, unit_id: UUID | str, effective_on: date, act: LegalAct,
                      request_key: str | None = None) -> dict[str, Any]:
        """Giải thể: refused while the unit still has people, open positions or child units."""
        def decide(work: _Work) -> dict[str, Any]:
            unit = work.unit(unit_id)
            parent = work.unit(unit.parent_id, "parentId") if unit.parent_id else None
            unit.end(change=ChangeKind.DISSOLVE, successor_ids=[], parent=parent, effective_on=effective_on,
                     act=act, at=work.at)
            return {"unitId": str(unit.id), "factId": _fact_of(unit, Unit.Ended)}

        return self._execute("dissolve_unit", _payload(unit_id, effective_on, act), request_key, decide)

    def _refuse_descendant(self, work: _Work, target: Unit, source_ids: Sequence[UUID], field_name: str,
                           effective_on: date) -> None:
        chain = {target.id, *work.ancestor_ids(target, effective_on)}
        if any(s in chain for s in source_ids):
            raise HierarchyCycle(field_name, f"unit {target.code} lies under one of the merged units; "
                                             "a unit cannot merge into itself or into one of its own descendants")

    def _check_allocation(self, original: Unit, parts: Sequence[SplitPart], complete: bool) -> None:
        for label, held, pick in (
            ("personIds", original.member_ids, lambda p: p.person_ids),
            ("positionIds", original.position_ids, lambda p: p.position_ids),
            ("childUnitIds", original.child_ids, lambda p: p.child_unit_ids),
        ):
            seen: set[UUID] = set()
            for i, part in enumerate(parts):
                for raw in pick(part):
                    item = as_uuid(raw, f"parts[{i}].{label}")
                    if item not in held:
                        raise InvalidInput(f"parts[{i}].{label}", f"{item} is not in unit {original.code}")
                    if item in seen:
                        raise InvalidInput(f"parts[{i}].{label}", f"{item} is allocated twice")
                    seen.add(item)
            if complete and seen != held:
                raise AllocationIncomplete(
                    f"parts.{label}", f"{len(held - seen)} of unit {original.code}'s {label[:-3]}s are not allocated "
                                      "to any new unit; allocate every one of them")

    def _create_parts(self, work: _Work, original: Unit, parts: Sequence[SplitPart], new_ids: Sequence[UUID],
                      change: ChangeKind, effective_on: date, act: LegalAct) -> list[Unit]:
        successors = []
        for part, new_id in zip(parts, new_ids, strict=True):
            spec = part.unit if part.unit.parent_id else NewUnit(part.unit.code, part.unit.name, part.unit.kind,
                                                                original.parent_id, part.unit.autonomy)
            successor = self._establish(work, new_id, spec, change, [original.id], effective_on, act, claim=False)
            successors.append(successor)
            positions = {as_uuid(p, "positionIds") for p in part.position_ids}
            for person_id in part.person_ids:
                person = work.person(person_id)
                pos = person.placement.position_id
                if pos is not None and pos not in positions:
                    raise PositionUnavailable("parts.personIds", f"{person.full_name}'s position is not allocated "
                                                                 "to the same new unit; allocate it there too")
            self._move_items(work, original, successor, [as_uuid(c, "childUnitIds") for c in part.child_unit_ids],
                             list(positions), [as_uuid(p, "personIds") for p in part.person_ids], effective_on, act)
            if part.quota:
                ledger = work.ledger(successor, effective_on, act)
                for figure in part.quota:
                    ledger.set_figure(category=figure.category, kind=figure.kind,
                                      amount=check_amount(figure.amount, "quota.amount"),
                                      reason=QuotaFactReason.REORGANISATION, effective_on=effective_on, act=act,
                                      at=work.at)
        return successors

    def _move_contents(self, work: _Work, source: Unit, target: Unit, effective_on: date, act: LegalAct,
                       move_quota: bool) -> None:
        self._move_items(work, source, target, sorted(source.child_ids), sorted(source.position_ids),
                         sorted(source.member_ids), effective_on, act)
        if move_quota:
            source_ledger = work.find(quota_ledger_id(source.id), StaffingQuota)
            if source_ledger is not None and source_ledger.current_figures():
                target_ledger = work.ledger(target, effective_on, act)
                for (category, kind), amount in sorted(source_ledger.current_figures().items()):
                    target_ledger.set_figure(category=category, kind=kind,
                                             amount=target_ledger.current(category, kind) + amount,
                                             reason=QuotaFactReason.REORGANISATION, effective_on=effective_on,
                                             act=act, at=work.at)

    def _move_items(self, work: _Work, source: Unit, target: Unit, child_ids: Iterable[UUID],
                    position_ids: Iterable[UUID], person_ids: Iterable[UUID], effective_on: date,
                    act: LegalAct) -> None:
        at = work.at
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

    # ================================================================== quota
    def assign_quota(self, *, unit_id: UUID | str, category: PersonnelCategory | str, kind: QuotaKind | str,
                     amount: int, effective_on: date, act: LegalAct,
                     request_key: str | None = None) -> dict[str, Any]:
        """Sets the figure for (unit, category, kind) from ``effective_on``, replacing the previous one."""
        cat, knd = _enum(PersonnelCategory, category, "category"), _enum(QuotaKind, kind, "kind")
        check_amount(amount, "amount")

        def decide(work: _Work) -> dict[str, Any]:
            unit = work.unit(unit_id)
            unit.require_active_on(effective_on, "unitId")
            ledger = work.ledger(unit, effective_on, act)
            ledger.set_figure(category=cat, kind=knd, amount=amount, reason=QuotaFactReason.ASSIGN,
                              effective_on=effective_on, act=act, at=work.at)
            return {"unitId": str(unit.id), "factId": fact_id(ledger.id, ledger.version)}

        return self._execute("assign_quota", _payload(unit_id, cat, knd, amount, effective_on, act),
                             request_key, decide)

    def transfer_quota(self, *, from_unit_id: UUID | str, to_unit_id: UUID | str,
                       category: PersonnelCategory | str, kind: QuotaKind | str, amount: int,
                       effective_on: date, act: LegalAct, request_key: str | None = None) -> dict[str, Any]:
        cat, knd = _enum(PersonnelCategory, category, "category"), _enum(QuotaKind, kind, "kind")
        check_amount(amount, "amount")

        def decide(work: _Work) -> dict[str, Any]:
            source, target = work.unit(from_unit_id, "fromUnitId"), work.unit(to_unit_id, "toUnitId")
            if source.id == target.id:
                raise InvalidInput("toUnitId", "quota cannot be transferred to the same unit")
            source.require_active_on(effective_on, "fromUnitId")
            target.require_active_on(effective_on, "toUnitId")
            src, dst = work.ledger(source, effective_on, act), work.ledger(target, effective_on, act)
            if src.current(cat, knd) < amount:
                raise InvalidInput("amount", f"unit {source.code} has only {src.current(cat, knd)} "
                                             f"{cat.value}/{knd.value} posts to transfer")
            src.set_figure(category=cat, kind=knd, amount=src.current(cat, knd) - amount,
                           reason=QuotaFactReason.TRANSFER_OUT, effective_on=effective_on, act=act, at=work.at)
            dst.set_figure(category=cat, kind=knd, amount=dst.current(cat, knd) + amount,
                           reason=QuotaFactReason.TRANSFER_IN, effective_on=effective_on, act=act, at=work.at)
            return {"unitId": str(target.id), "factId": fact_id(dst.id, dst.version)}

        return self._execute("transfer_quota", _payload(from_unit_id, to_unit_id, cat, knd, amount, effective_on,
                                                        act), request_key, decide)

    def allow_excess(self, *, unit_id: UUID | str, until: date, reason: str, effective_on: date, act: LegalAct,
                     request_key: str | None = None) -> dict[str, Any]:
        def decide(work: _Work) -> dict[str, Any]:
            unit = work.unit(unit_id)
            unit.require_active_on(effective_on, "unitId")
            ledger = work.ledger(unit, effective_on, act)
            ledger.allow_excess(until=until, reason=reason, effective_on=effective_on, act=act, at=work.at)
            return {"unitId": str(unit.id), "factId": fact_id(ledger.id, ledger.version)}

        return self._execute("allow_excess", _payload(unit_id, until, reason, effective_on, act), request_key, decide)

    # ================================================================== positions
    def create_position(self, *, unit_id: UUID | str, title: str, group: PositionGroup | str, rank: str,
                        effective_on: date, act: LegalAct, request_key: str | None = None) -> dict[str, Any]:
        grp = _enum(PositionGroup, group, "group")
        new_id = self.new_id()

        def decide(work: _Work) -> dict[str, Any]:
            unit = work.unit(unit_id)
            unit.require_active_on(effective_on, "unitId")
            position = work.add(Position.create(position_id=new_id, unit_id=unit.id, title=title, group=grp,
                                                rank=rank, effective_on=effective_on, act=act, at=work.at))
            unit.open_position(position.id, effective_on, act, work.at)
            return {"positionId": str(position.id), "factId": fact_id(position.id, 1)}

        return self._execute("create_position", _payload(unit_id, title, grp, rank, effective_on, act),
                             request_key, decide)

    def abolish_position(self, *, position_id: UUID | str, effective_on: date, act: LegalAct,
                         request_key: str | None = None) -> dict[str, Any]:
        def decide(work: _Work) -> dict[str, Any]:
            position = work.position(position_id)
            position.abolish(effective_on=effective_on, act=act, at=work.at)
            unit = work.unit(position.unit_id)
            unit.close_position(position.id, effective_on, act, work.at)
            return {"positionId": str(position.id), "factId": fact_id(position.id, position.version)}

        return self._execute("abolish_position", _payload(position_id, effective_on, act), request_key, decide)

    # ================================================================== people
    def recruit_person(
        self, *, full_name: str, birth_date: date, gender: Gender | str, category: PersonnelCategory | str,
        unit_id: UUID | str, effective_on: date, act: LegalAct, position_id: UUID | str | None = None,
        rank: str = "", request_key: str | None = None,
    ) -> dict[str, Any]:
        gen, cat = _enum(Gender, gender, "gender"), _enum(PersonnelCategory, category, "category")
        new_id = self.new_id()

        def decide(work: _Work) -> dict[str, Any]:
            unit = work.unit(unit_id)
            unit.require_active_on(effective_on, "unitId")
            position = work.position(position_id) if position_id else None
            if position is not None:
                position.require_available_in(unit.id, effective_on)
            person = work.add(Person.recruit(
                person_id=new_id, full_name=full_name, birth_date=birth_date, gender=gen, category=cat,
                rank=rank or (position.rank if position else ""), unit_id=unit.id,
                position_id=position.id if position else None, effective_on=effective_on, act=act, at=work.at))
            unit.admit_member(person.id, effective_on, act, work.at)
            if position is not None:
                position.add_holder(person.id, effective_on, act, work.at)
            return {"personId": str(person.id), "factId": fact_id(person.id, 1)}

        return self._execute("recruit_person", _payload(full_name, birth_date, gen, cat, unit_id, position_id, rank,
                                                        effective_on, act), request_key, decide)

    def transfer_person(self, *, person_id: UUID | str, to_unit_id: UUID | str, effective_on: date,
                        act: LegalAct, to_position_id: UUID | str | None = None,
                        request_key: str | None = None) -> dict[str, Any]:
        def decide(work: _Work) -> dict[str, Any]:
            person = work.person(person_id)
            target = work.unit(to_unit_id, "toUnitId")
            target.require_active_on(effective_on, "toUnitId")
            position = work.position(to_position_id, "toPositionId") if to_position_id else None
            if position is not None:
                position.require_available_in(target.id, effective_on, "toPositionId")
            before = person.placement
            person.transfer(unit_id=target.id, position_id=position.id if position else None,
                            by_reorganisation=False, effective_on=effective_on, act=act, at=work.at)
            self._follow(work, person.id, before, person.placement, effective_on, act)
            return {"personId": str(person.id), "factId": fact_id(person.id, person.version)}

        return self._execute("transfer_person", _payload(person_id, to_unit_id, to_position_id, effective_on, act),
                             request_key, decide)

    def regrade_person(self, *, person_id: UUID | str, effective_on: date, act: LegalAct,
                       category: PersonnelCategory | str | None = None, rank: str | None = None,
                       request_key: str | None = None) -> dict[str, Any]:
        cat = _enum(PersonnelCategory, category, "category") if category else None

        def decide(work: _Work) -> dict[str, Any]:
            person = work.person(person_id)
            person.regrade(category=cat, rank=rank, effective_on=effective_on, act=act, at=work.at)
            return {"personId": str(person.id), "factId": fact_id(person.id, person.version)}

        return self._execute("regrade_person", _payload(person_id, cat, rank, effective_on, act), request_key, decide)

    def retire_person(self, *, person_id: UUID | str, effective_on: date, act: LegalAct,
                      request_key: str | None = None) -> dict[str, Any]:
        return self._leave("retire_person", person_id, PersonStatus.RETIRED, effective_on, act, request_key)

    def resign_person(self, *, person_id: UUID | str, effective_on: date, act: LegalAct,
                      request_key: str | None = None) -> dict[str, Any]:
        return self._leave("resign_person", person_id, PersonStatus.RESIGNED, effective_on, act, request_key)

    def dismiss_person(self, *, person_id: UUID | str, effective_on: date, act: LegalAct,
                       request_key: str | None = None) -> dict[str, Any]:
        return self._leave("dismiss_person", person_id, PersonStatus.DISMISSED, effective_on, act, request_key)

    def _leave(self, command: str, person_id: UUID | str, status: PersonStatus, effective_on: date, act: LegalAct,
               request_key: str | None) -> dict[str, Any]:
        def decide(work: _Work) -> dict[str, Any]:
            person = work.person(person_id)
            before = person.placement
            person.leave(status=status, effective_on=effective_on, act=act, at=work.at)
            self._follow(work, person.id, before, person.placement, effective_on, act)
            return {"personId": str(person.id), "factId": fact_id(person.id, person.version)}

        return self._execute(command, _payload(person_id, effective_on, act), request_key, decide)

    def downsize_person(self, *, person_id: UUID | str, policy: DownsizingPolicy | str, effective_on: date,
                        act: LegalAct, monthly_salary: int | None = None, insured_years: int | None = None,
                        affected_by_restructuring: bool = False, request_key: str | None = None) -> dict[str, Any]:
        pol = _enum(DownsizingPolicy, policy, "policy")

        def decide(work: _Work) -> dict[str, Any]:
            person = work.person(person_id)
            before = person.placement
            decree = person.downsize(policy=pol, monthly_salary=monthly_salary, insured_years=insured_years,
                                     affected_by_restructuring=affected_by_restructuring,
                                     effective_on=effective_on, act=act, at=work.at)
            self._follow(work, person.id, before, person.placement, effective_on, act)
            return {"personId": str(person.id), "factId": fact_id(person.id, person.version),
                    "decree": decree.value}

        return self._execute("downsize_person", _payload(person_id, pol, monthly_salary, insured_years,
                                                         affected_by_restructuring, effective_on, act),
                             request_key, decide)

    def _follow(self, work: _Work, person_id: UUID, before: Any, after: Any, effective_on: date,
                act: LegalAct) -> None:
        """Keep unit rosters and position holders in step with a person's placement."""
        at = work.at
        was_in = before.unit_id if before.status is PersonStatus.ACTIVE else None
        now_in = after.unit_id if after.status is PersonStatus.ACTIVE else None
        if was_in != now_in:
            if was_in is not None:
                work.unit(was_in).release_member(person_id, effective_on, act, at)
            if now_in is not None:
                work.unit(now_in).admit_member(person_id, effective_on, act, at, field="factId")
        held = before.position_id if before.status is PersonStatus.ACTIVE else None
        holds = after.position_id if after.status is PersonStatus.ACTIVE else None
        if held != holds:
            if held is not None:
                work.position(held).remove_holder(person_id, effective_on, act, at)
            if holds is not None:
                position = work.position(holds)
                position.require_available_in(after.unit_id, effective_on, "factId")
                position.add_holder(person_id, effective_on, act, at)

    # ================================================================== corrections
    def retract_fact(self, *, fact_id: str, reason: str, act: LegalAct,
                     request_key: str | None = None) -> dict[str, Any]:
        """A person or quota fact entered in error stops counting from now on (never deleted)."""
        aggregate_id, version = parse_fact_id(fact_id)

        def decide(work: _Work) -> dict[str, Any]:
            agg = work.get(aggregate_id, Aggregate, "factId", "fact")
            if isinstance(agg, Person):
                before, after = agg.retract(fact_version=version, reason=reason, act=act, at=work.at)
                self._follow(work, agg.id, before, after, agg.last_fact_on, act)
                return {"personId": str(agg.id), "factId": fact_id_of(agg)}
            if isinstance(agg, StaffingQuota):
                agg.retract(fact_version=version, reason=reason, act=act, at=work.at)
                return {"unitId": str(agg.unit_id), "factId": fact_id_of(agg)}
            raise NotRetractable("factId", "only facts about people and quota can be retracted; reorganisations "
                                           "and unit or position facts are reversed by new acts")

        return self._execute("retract_fact", _payload(fact_id, reason, act), request_key, decide)


def fact_id_of(agg: Aggregate) -> str:
    return fact_id(agg.id, agg.version)


def _fact_of(agg: Aggregate, event_class: type) -> str:
    for event in reversed(agg.pending_events):
        if isinstance(event, event_class):
            return fact_id(agg.id, event.originator_version)
    return fact_id(agg.id, agg.version)


def _normalise(spec: NewUnit, field_name: str) -> NewUnit:
    """Accept enum names as plain strings (as GraphQL and scripts send them), refusing bad ones by field."""
    return NewUnit(
        spec.code, spec.name, _enum(UnitKind, spec.kind, f"{field_name}.kind"),
        as_uuid(spec.parent_id, f"{field_name}.parentId") if spec.parent_id else None,
        _enum(FinancialAutonomy, spec.autonomy, f"{field_name}.autonomy") if spec.autonomy else None,
    )


def _normalise_part(part: SplitPart, field_name: str) -> SplitPart:
    return SplitPart(unit=_normalise(part.unit, f"{field_name}.unit"), person_ids=part.person_ids,
                     position_ids=part.position_ids, child_unit_ids=part.child_unit_ids,
                     quota=[QuotaFigure(_enum(PersonnelCategory, q.category, f"{field_name}.quota.category"),
                                        _enum(QuotaKind, q.kind, f"{field_name}.quota.kind"), q.amount)
                            for q in part.quota])


def _unique_ids(values: Sequence[UUID | str], field_name: str) -> list[UUID]:
    ids = [as_uuid(v, field_name) for v in values]
    if not ids:
        raise InvalidInput(field_name, "give at least one unit")
    if len(set(ids)) != len(ids):
        raise InvalidInput(field_name, "a unit is listed twice")
    return ids


def _enum(enum: Any, value: Any, field_name: str) -> Any:
    return parse_enum(enum, value, field_name)


def _payload(*parts: Any) -> dict[str, Any]:
    return {"args": [repr(p) for p in parts]}


