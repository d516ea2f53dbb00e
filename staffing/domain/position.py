"""Position (vị trí việc làm): a job position of a unit (Decree 62/2020 for CC, 106/2020 for VC).

A position keeps the people holding it, so abolishing a held position is refused consistently.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from staffing.domain.base import LedgerAggregate, check_text
from staffing.domain.errors import EffectiveBeforeStart, PositionUnavailable, UnitNotEmpty
from staffing.domain.values import LegalAct, PositionGroup

__all__ = ["Position"]


class Position(LedgerAggregate):
    if TYPE_CHECKING:  # state set by events; not dataclass fields of the aggregate
        unit_id: UUID
        title: str
        group: PositionGroup
        rank: str
        is_open: bool
        opened_on: date
        holder_ids: set[UUID]

    class Created(LedgerAggregate.Created):
        unit_id: UUID
        title: str
        group: str
        rank: str

        def apply(self, position: Position) -> None:
            position.unit_id = self.unit_id
            position.title, position.rank = self.title, self.rank
            position.group = PositionGroup(self.group)
            position.is_open = True
            position.opened_on = position.last_fact_on = self.effective_on
            position.holder_ids = set()

    class Regraded(LedgerAggregate.Event):
        title: str
        group: str
        rank: str

        def apply(self, position: Position) -> None:
            position.title, position.rank = self.title, self.rank
            position.group = PositionGroup(self.group)
            position.last_fact_on = self.effective_on

    class Moved(LedgerAggregate.Event):
        unit_id: UUID
        by_reorganisation: bool

        def apply(self, position: Position) -> None:
            position.unit_id = self.unit_id
            position.last_fact_on = self.effective_on

    class Abolished(LedgerAggregate.Event):
        def apply(self, position: Position) -> None:
            position.is_open = False
            position.last_fact_on = self.effective_on

    class HolderAdded(LedgerAggregate.Event):
        person_id: UUID

        def apply(self, position: Position) -> None:
            position.holder_ids.add(self.person_id)

    class HolderRemoved(LedgerAggregate.Event):
        person_id: UUID

        def apply(self, position: Position) -> None:
            position.holder_ids.discard(self.person_id)

    @classmethod
    def create(
        cls, *, position_id: UUID, unit_id: UUID, title: str, group: PositionGroup, rank: str,
        effective_on: date, act: LegalAct, at: datetime,
    ) -> Position:
        return cls._create(
            cls.Created, id=position_id, timestamp=at, effective_on=effective_on, act=act, unit_id=unit_id,
            title=check_text(title, "title", "the position title"), group=group.value,
            rank=check_text(rank, "rank", "the rank or grade (ngạch/hạng)"),
        )

    def _require_open(self, effective_on: date, field: str) -> None:
        if not self.is_open:
            raise PositionUnavailable(field, f"position '{self.title}' was abolished on {self.last_fact_on}")
        if effective_on < self.opened_on:
            raise EffectiveBeforeStart(
                "effectiveOn", f"position '{self.title}' was created on {self.opened_on}, after {effective_on}"
            )

    def regrade(self, *, title: str | None, group: PositionGroup | None, rank: str | None,
                effective_on: date, act: LegalAct, at: datetime) -> None:
        self._require_open(effective_on, "positionId")
        self._check_in_order(effective_on, f"position '{self.title}'")
        self._emit(
            Position.Regraded, at, effective_on=effective_on, act=act,
            title=check_text(title, "title", "the position title") if title is not None else self.title,
            group=(group or self.group).value,
            rank=check_text(rank, "rank", "the rank") if rank is not None else self.rank,
        )

    def move(self, *, unit_id: UUID, by_reorganisation: bool, effective_on: date, act: LegalAct, at: datetime) -> None:
        self._require_open(effective_on, "positionId")
        self._check_in_order(effective_on, f"position '{self.title}'")
        self._emit(Position.Moved, at, effective_on=effective_on, act=act, unit_id=unit_id,
                   by_reorganisation=by_reorganisation)

    def abolish(self, *, effective_on: date, act: LegalAct, at: datetime) -> None:
        self._require_open(effective_on, "positionId")
        self._check_in_order(effective_on, f"position '{self.title}'")
        if self.holder_ids:
            raise UnitNotEmpty(
                "positionId",
                f"position '{self.title}' is still held by {len(self.holder_ids)} people; transfer them first",
            )
        self._emit(Position.Abolished, at, effective_on=effective_on, act=act)

    def require_available_in(self, unit_id: UUID, effective_on: date, field: str = "positionId") -> None:
        """A person can be appointed only to an open position of the unit they are assigned to."""
        self._require_open(effective_on, field)
        if self.unit_id != unit_id:
            raise PositionUnavailable(field, f"position '{self.title}' belongs to another unit")

    def add_holder(self, person_id: UUID, effective_on: date, act: LegalAct, at: datetime) -> None:
        self._emit(Position.HolderAdded, at, effective_on=effective_on, act=act, person_id=person_id)

    def remove_holder(self, person_id: UUID, effective_on: date, act: LegalAct, at: datetime) -> None:
        self._emit(Position.HolderRemoved, at, effective_on=effective_on, act=act, person_id=person_id)
