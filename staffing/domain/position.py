"""Position (vị trí việc làm): a job position of a unit (Decree 62/2020 for CC, 106/2020 for VC).

A position keeps the people holding it, so abolishing a held position is refused consistently.
It also keeps its history (created, moved, abolished, each dated): a position may be created late
in a unit that has since been reorganised, and what the reorganisations did to it is derived from
the units' lineage and settled like a person's (``domain.reorganisation.derive_moves``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from staffing.domain.base import LedgerAggregate, check_text
from staffing.domain.errors import EffectiveBeforeStart, OutOfOrderFact, PositionUnavailable, UnitNotEmpty
from staffing.domain.reorganisation import DerivedMove, Step
from staffing.domain.stays import Stay, bookkeeping
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
        holders_changed_on: date  # latest effective date of anyone taking or leaving it (``domain.stays``)
        history: list[dict[str, Any]]  # dated facts that place or close it: see ``steps``

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
            position.holders_changed_on = self.effective_on
            position.history = [{"version": self.originator_version, "effective_on": self.effective_on,
                                 "unit_id": self.unit_id, "open": True, "derived": False, "retracted": False,
                                 "act": self.act}]

    class Regraded(LedgerAggregate.Event):
        title: str
        group: str
        rank: str

        def apply(self, position: Position) -> None:
            position.title, position.rank = self.title, self.rank
            position.group = PositionGroup(self.group)
            position._note(self)

    class Moved(LedgerAggregate.Event):
        unit_id: UUID
        by_reorganisation: bool

        def apply(self, position: Position) -> None:
            position._note(self, unit_id=self.unit_id, derived=self.by_reorganisation)

    class Abolished(LedgerAggregate.Event):
        def apply(self, position: Position) -> None:
            position._note(self, open=False)

    class MoveWithdrawn(LedgerAggregate.Event):
        """A move made by a reorganisation no longer applies (the position's record changed before it)."""

        fact_version: int

        def apply(self, position: Position) -> None:
            for fact in position.history:
                if fact["version"] == self.fact_version:
                    fact["retracted"] = True
            position._refresh()

    # ----------------------------------------------------------------- history
    def _note(self, event: LedgerAggregate.Event, **changes: Any) -> None:
        if not hasattr(self, "history"):  # loaded from a snapshot taken before positions kept a history
            self.history = [{"version": 0, "effective_on": self.opened_on, "unit_id": self.unit_id, "open": True,
                             "derived": False, "retracted": False, "act": None}]
        self.history.append({"version": event.originator_version, "effective_on": event.effective_on,
                             "derived": False, "retracted": False, "act": event.act, **changes})
        self._refresh()

    def _timeline(self) -> list[dict[str, Any]]:
        return sorted((f for f in self.history if not f["retracted"]), key=lambda f: (f["effective_on"], f["version"]))

    def _refresh(self) -> None:
        timeline = self._timeline()
        self.unit_id = next(f["unit_id"] for f in reversed(timeline) if "unit_id" in f)
        self.is_open = all(f.get("open", True) for f in timeline)
        self.last_fact_on = timeline[-1]["effective_on"]

    def unit_on(self, day: date) -> UUID | None:
        """The unit the position belonged to on ``day`` (None before it was created)."""
        placing = [f for f in self._timeline() if "unit_id" in f and f["effective_on"] <= day]
        return placing[-1]["unit_id"] if placing else None

    def abolished_on(self) -> date | None:
        return next((f["effective_on"] for f in self._timeline() if f.get("open") is False), None)

    def steps(self) -> list[Step]:
        return [Step(f["effective_on"], f.get("unit_id"), f.get("open"))
                for f in self._timeline() if not f["derived"]]

    def derived_moves(self, include_withdrawn: bool = False) -> list[dict[str, Any]]:
        return [f for f in sorted(self.history, key=lambda f: (f["effective_on"], f["version"]))
                if f["derived"] and (include_withdrawn or not f["retracted"])]

    def settle(self, moves: list[DerivedMove], at: datetime) -> None:
        """Record what reorganisations did to the position, as now derived (see ``Person.settle``)."""
        wanted = {(m.on, m.unit_id) for m in moves}
        for fact in self.derived_moves():
            if (fact["effective_on"], fact["unit_id"]) not in wanted:
                self._emit(Position.MoveWithdrawn, at, effective_on=fact["effective_on"], act=fact["act"],
                           fact_version=fact["version"])
        have = {(f["effective_on"], f["unit_id"]) for f in self.derived_moves()}
        for move in moves:
            if (move.on, move.unit_id) not in have:
                self._emit(Position.Moved, at, effective_on=move.on, act=move.reorganisation.act,
                           unit_id=move.unit_id, by_reorganisation=True)

    class HolderAdded(LedgerAggregate.Event):
        person_id: UUID

        def apply(self, position: Position) -> None:
            position.holder_ids.add(self.person_id)
            position._note_holders(self.effective_on)

    class HolderRemoved(LedgerAggregate.Event):
        person_id: UUID

        def apply(self, position: Position) -> None:
            position.holder_ids.discard(self.person_id)
            position._note_holders(self.effective_on)

    def _note_holders(self, day: date) -> None:
        self.holders_changed_on = max(self._held_until(), day)

    def _held_until(self) -> date:
        # a snapshot taken before this date was kept has none: it then counts from the events after it
        return getattr(self, "holders_changed_on", date.min)  # type: ignore[no-any-return]

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
        abolished = self.abolished_on()
        if abolished is not None and effective_on >= abolished:
            raise PositionUnavailable(field, f"position '{self.title}' was abolished on {abolished}")
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
        """Abolish from a date; a move a reorganisation made after it is withdrawn by the application."""
        self._require_open(effective_on, "positionId")
        later = next((f for f in self._timeline() if f["effective_on"] > effective_on and not f["derived"]), None)
        if later is not None:
            raise OutOfOrderFact("effectiveOn", f"position '{self.title}' has a fact effective {later['effective_on']} "
                                                f"(fact {self.id}:{later['version']}); abolish it after that date, or "
                                                "correct that fact first")
        held_until = self._held_until()
        if effective_on < held_until:
            raise OutOfOrderFact("effectiveOn", f"position '{self.title}' has someone taking or leaving it effective "
                                                f"{held_until.isoformat()}; it cannot be abolished on "
                                                f"{effective_on.isoformat()}. Abolish it on or after that date, or "
                                                "correct that movement first")
        if self.holder_ids:
            raise UnitNotEmpty(
                "positionId",
                f"position '{self.title}' is still held by {len(self.holder_ids)} people; transfer them first",
            )
        self._emit(Position.Abolished, at, effective_on=effective_on, act=act)

    def require_available_in(self, unit_id: UUID, effective_on: date, field: str = "positionId") -> None:
        """A person can be appointed only to a position open, on that date, in the unit they are assigned to."""
        self._require_open(effective_on, field)
        if self.unit_on(effective_on) != unit_id:
            raise PositionUnavailable(field, f"position '{self.title}' belongs to another unit on {effective_on}")

    def add_holder(self, person_id: UUID, effective_on: date, act: LegalAct, at: datetime) -> None:
        self._emit(Position.HolderAdded, at, effective_on=effective_on, act=act, person_id=person_id)

    def remove_holder(self, person_id: UUID, effective_on: date, act: LegalAct, at: datetime) -> None:
        self._emit(Position.HolderRemoved, at, effective_on=effective_on, act=act, person_id=person_id)

    def require_held_within(self, stay: Stay, who: str, field: str) -> None:
        """Nobody holds a position past its abolition: ``who``'s stay in it (``domain.stays``) must end by then."""
        abolished = self.abolished_on()
        if abolished is not None and (stay.until is None or stay.until > abolished):
            held = "from then on" if stay.until is None else f"until {stay.until.isoformat()}"
            raise PositionUnavailable(field, f"position '{self.title}' was abolished on {abolished.isoformat()}; "
                                             f"{who} would hold it {held}. Record their move to another position "
                                             f"effective on or before {abolished.isoformat()} with this fact")

    def record_holder_stay(self, person_id: UUID, stay: Stay, back_on: date | None, act: LegalAct,
                           at: datetime) -> None:
        """Holder bookkeeping for a stay whose end the position had not heard of (see ``Unit.record_stay``)."""
        for joins, day in bookkeeping(stay, self._held_until(), person_id in self.holder_ids, back_on):
            (self.add_holder if joins else self.remove_holder)(person_id, day, act, at)
