"""Aggregates a bulk writer keeps decided between its own transactions (issue 9: import speed).

An import decides its file 500 lines per transaction. Without this, each transaction starts from
the library's aggregate cache, which hands out a *deep copy* of every cached aggregate (so a refused
command cannot corrupt it) and first reads the store for events newer than the cached version —
a third of an import's time went to copying units with their rosters, another sixth to those reads.

``Warm`` hands its aggregates over instead of copying them, under two rules that keep it exact:

- **Ownership.** ``take`` removes an aggregate from the map; only ``keep``, called after the
  transaction that used it has committed, puts it back (with its events collected). An attempt
  that is refused or rolled back therefore never leaves a changed aggregate behind: what it took
  is simply gone, and the next attempt reads it from the store.
- **Nobody else wrote.** The map remembers the log position its own last commit ended at; before
  a transaction, ``check`` compares it with the log's head and empties the map if any other
  writer has recorded anything since (its aggregates could be stale). A concurrent write that
  races past the check is caught as always by optimistic concurrency on the save, and
  ``StaffingService.run`` empties the map on that conflict too.

Units, positions and quota ledgers (tens of thousands in a country) are kept without limit by
default: they are read by nearly every command of an import. A server's ``execute``, which lives
for months, bounds them too (``max_structure``, most-recently-used first). People (millions) are
kept most-recently-used first, up to ``max_people``, so memory stays bounded at national size.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from uuid import UUID

from eventsourcing.domain import Aggregate

from staffing.domain.person import Person
from staffing.domain.position import Position
from staffing.domain.quota import StaffingQuota
from staffing.domain.unit import Unit

__all__ = ["Warm"]

_STRUCTURE = (Unit, Position, StaffingQuota)


class Warm:
    def __init__(self, max_people: int = 300_000, max_structure: int | None = None, prefetch: bool = False) -> None:
        self.max_people = max_people
        self.max_structure = max_structure
        #: read the aggregates a batch names and the map lacks together, before deciding it (``offer``):
        #: an import's batches name hundreds of people no cache holds; a server's small groups find
        #: theirs in the library's cache, so it does not
        self.prefetch = prefetch
        self._structure: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._people: OrderedDict[UUID, Aggregate] = OrderedDict()
        self.position: int | None = None  # the log's head after our own last commit
        self.cleared = 0

    def __len__(self) -> int:
        return len(self._structure) + len(self._people)

    def __contains__(self, aggregate_id: object) -> bool:
        return aggregate_id in self._structure or aggregate_id in self._people

    def take(self, aggregate_id: UUID) -> Aggregate | None:
        """The aggregate, now owned by the caller (removed from the map), or None."""
        found = self._structure.pop(aggregate_id, None)
        if found is None:
            found = self._people.pop(aggregate_id, None)
        return found

    def keep(self, aggregates: Iterable[Aggregate], position: int | None) -> None:
        """Put back what a committed transaction used; ``position``: the log's head after it."""
        for agg in aggregates:
            if agg.pending_events:
                agg.collect_events()
            if isinstance(agg, _STRUCTURE):
                self._structure[agg.id] = agg
                self._structure.move_to_end(agg.id)
            elif isinstance(agg, Person):
                self._people[agg.id] = agg
                self._people.move_to_end(agg.id)
        while len(self._people) > self.max_people:
            self._people.popitem(last=False)
        while self.max_structure is not None and len(self._structure) > self.max_structure:
            self._structure.popitem(last=False)
        self.position = position

    def offer(self, aggregates: Iterable[Aggregate]) -> None:
        """Add aggregates just read from the store (committed state, like everything here), keeping
        any the map already holds; the bound on people applies at the next ``keep``."""
        for agg in aggregates:
            if agg.id in self:
                continue
            if isinstance(agg, _STRUCTURE):
                self._structure[agg.id] = agg
            elif isinstance(agg, Person):
                self._people[agg.id] = agg

    def check(self, head: int | None) -> None:
        """Empty the map if the log's head is not where our own last commit left it."""
        if self.position is not None and head != self.position:
            self.clear()

    def clear(self) -> None:
        if self._structure or self._people:
            self.cleared += 1
        self._structure.clear()
        self._people.clear()
        self.position = None
