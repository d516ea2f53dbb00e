"""One attempt's identity map: every aggregate a batch of commands loads or creates, saved together.

Handlers get and add aggregates only through ``Work``. Commands decided in one ``Work`` see each
other's effects (a plan's third command sees the unit its first command created), and
``end_command`` records the order in which their events happened, so the log keeps the commands'
order even when several of them touch the same aggregates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from staffing.application.warm import Warm
from staffing.domain.errors import InvalidInput, NotFound, StaffingError
from staffing.domain.person import Person
from staffing.domain.position import Position
from staffing.domain.quota import StaffingQuota, quota_ledger_id
from staffing.domain.unit import Unit
from staffing.domain.values import LegalAct
from staffing.persistence import EventStore

__all__ = ["Work"]

A = TypeVar("A", bound=Aggregate)


@dataclass
class Work:
    store: EventStore
    at: datetime
    new_id: Callable[[], UUID]
    loaded: dict[UUID, Aggregate] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)  # in the order the commands produced them
    _seen: dict[UUID, int] = field(default_factory=dict)  # pending events already in ``events``
    _touched: dict[UUID, Aggregate] = field(default_factory=dict)  # accessed by the current command
    index: int = 0  # the position of the command being decided
    #: problems a later command of the same decision may still resolve (someone left in a unit that
    #: was dissolved afterwards): refused at the end, naming the last command that caused them
    problems: dict[UUID, tuple[int, StaffingError]] = field(default_factory=dict)
    #: ids known to have nothing recorded when this attempt began (read in one go for a batch);
    #: a concurrent writer that records one of them meanwhile makes the save fail and the attempt rerun
    absent: set[UUID] = field(default_factory=set)
    #: a bulk writer's aggregates from its own earlier transactions (``warm``), taken before the store
    warm: Warm | None = None

    def defer(self, subject: UUID, problem: StaffingError | None) -> None:
        if problem is None:
            self.problems.pop(subject, None)
        else:
            self.problems[subject] = (self.index, problem)

    # ------------------------------------------------------------------ loading
    def get(self, aggregate_id: UUID, kind: type[A], field_name: str, what: str) -> A:
        if aggregate_id in self.loaded:
            agg = self.loaded[aggregate_id]
            self._touched[aggregate_id] = agg
        else:
            taken = self.warm.take(aggregate_id) if self.warm is not None else None
            if taken is not None:
                agg = taken
            else:
                self.store.wait_for((aggregate_id,))  # an aggregate our own commit running behind wrote
                try:
                    agg = self.store.repository.get(aggregate_id)
                except AggregateNotFoundError:
                    raise NotFound(field_name, f"no {what} with id {aggregate_id}") from None
            self.loaded[aggregate_id] = self._touched[aggregate_id] = agg
        if not isinstance(agg, kind):
            raise NotFound(field_name, f"id {aggregate_id} names something that is not a {what}")
        return agg

    def find(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        try:
            return self.get(aggregate_id, kind, "", "")
        except NotFound:
            return None

    def find_new(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """``find`` for ids that are usually absent (request keys, chosen ids): a miss costs one read."""
        if aggregate_id not in self.loaded and (self.warm is None or aggregate_id not in self.warm) and (
                aggregate_id in self.absent or not self.store.exists(aggregate_id)):
            return None
        return self.find(aggregate_id, kind)

    def preload(self, ids: Iterable[UUID]) -> None:
        """Read together the aggregates a step is about to get one by one, so that each ``get`` then
        finds them loaded. Why (issue 9): a reorganisation moves every person, position and child unit
        of a unit, and each read alone is a query of its own; sampled in the national import's
        yearly flow, those reads were ~15% of the importer's time. Only ids neither loaded nor carried
        (``warm``) are read — those the library's cache holds too: read together they cost less than
        one by one, brought up to date from the cache and deep-copied (a year of the national flow
        1.125x reading them too, 1.071x leaving them to the cache, against no preload: RESULTS.md
        section 60).
        Absent ids are left for ``get`` to refuse as it would."""
        wanted = [u for u in ids if u not in self.loaded and (self.warm is None or u not in self.warm)]
        if len(wanted) > 1:
            self.loaded.update(self.store.load_many(wanted))

    def add(self, agg: A) -> A:
        self.loaded[agg.id] = self._touched[agg.id] = agg
        return agg

    def unit(self, unit_id: UUID, field_name: str = "unitId") -> Unit:
        return self.get(unit_id, Unit, field_name, "unit")

    def person(self, person_id: UUID, field_name: str = "personId") -> Person:
        return self.get(person_id, Person, field_name, "person")

    def position(self, position_id: UUID, field_name: str = "positionId") -> Position:
        return self.get(position_id, Position, field_name, "position")

    def ledger(self, unit: Unit, effective_on: date, act: LegalAct) -> StaffingQuota:
        existing = self.find(quota_ledger_id(unit.id), StaffingQuota)
        if existing is not None:
            return existing
        return self.add(StaffingQuota.open(unit_id=unit.id, effective_on=effective_on, act=act, at=self.at))

    def fresh_id(self, wanted: UUID | None, field_name: str) -> UUID:
        """The id for something a command creates: the client's choice (refused if taken), or a new one."""
        if wanted is None:
            return self.new_id()
        if wanted in self.loaded or self.find_new(wanted, Aggregate) is not None:
            raise InvalidInput(field_name, f"the id {wanted} is already in use; choose another or leave it out")
        return wanted

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

    # ------------------------------------------------------------------ ordering
    def end_command(self) -> None:
        """Append the events the last command produced, aggregate by aggregate, after earlier ones.

        Only the aggregates the command accessed can have new events, so a long batch does not
        rescan everything it loaded before."""
        for agg in self._touched.values():
            pending = agg.pending_events
            seen = self._seen.get(agg.id, 0)
            if len(pending) > seen:
                self.events.extend(pending[seen:])
                self._seen[agg.id] = len(pending)
        self._touched.clear()

    def versions(self) -> list[tuple[UUID, type, int, int]]:
        """(id, type, first new version, last new version) of every aggregate with new events."""
        return [(a.id, type(a), a.pending_events[0].originator_version, a.pending_events[-1].originator_version)
                for a in self.loaded.values() if a.pending_events]
