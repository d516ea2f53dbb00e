"""Unit (đơn vị): an organisational unit and its lifecycle.

The unit also keeps its roster (people assigned, open positions, child units). That makes it the
consistency boundary for "a dissolved unit must have no people and no open positions left": a
recruitment racing a dissolution touches the same aggregate, so one of them fails its optimistic
version check and is re-decided against the new state.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from staffing.domain.base import LedgerAggregate, check_text
from staffing.domain.errors import (
    EffectiveBeforeStart,
    HierarchyCycle,
    InvalidInput,
    NotRetractable,
    OutOfOrderFact,
    RuleViolation,
    UnitEnded,
    UnitNotEmpty,
)
from staffing.domain.stays import Stay, bookkeeping, stays
from staffing.domain.values import ChangeKind, FinancialAutonomy, LegalAct, UnitKind, UnitStatus

__all__ = ["Unit"]


class Unit(LedgerAggregate):
    if TYPE_CHECKING:  # state set by events; not dataclass fields of the aggregate
        code: str
        name: str
        kind: UnitKind
        autonomy: FinancialAutonomy | None
        parent_id: UUID | None
        status: UnitStatus
        established_on: date
        ended_on: date | None
        functions: str
        facts: list[dict[str, Any]]  # its own facts (established, renamed, moved ...), for corrections
        predecessors: list[dict[str, str]]
        successors: list[dict[str, Any]]
        child_ids: set[UUID]
        member_ids: set[UUID]
        position_ids: set[UUID]
        roster_changed_on: date  # latest effective date of anyone/anything joining or leaving
        parent_history: list[tuple[date, UUID | None]]  # (effective from, parent), in date order

        # ----------------------------------------------------------------- events (stored schema)
    class Established(LedgerAggregate.Created):
        """A unit begins: thành lập, or the new unit of a hợp nhất / chia / tách."""

        code: str
        name: str
        kind: str
        autonomy: str | None
        parent_id: UUID | None
        change: str
        predecessor_ids: list[UUID]

        def apply(self, unit: Unit) -> None:
            unit.code, unit.name = self.code, self.name
            unit.kind = UnitKind(self.kind)
            unit.autonomy = FinancialAutonomy(self.autonomy) if self.autonomy else None
            unit.parent_id = self.parent_id
            unit.parent_history = [(self.effective_on, self.parent_id)]
            unit.status = UnitStatus.ACTIVE
            unit.established_on = unit.last_fact_on = self.effective_on
            unit.ended_on = None
            unit.functions = ""
            unit.predecessors = [
                {"unit_id": str(p), "change": self.change, "effective_on": self.effective_on.isoformat()}
                for p in self.predecessor_ids
            ]
            unit.successors = []
            unit.child_ids, unit.member_ids, unit.position_ids = set(), set(), set()
            unit.roster_changed_on = self.effective_on
            unit.facts = []
            unit._track(self, "ESTABLISHED", code=self.code, name=self.name, kind=self.kind, autonomy=self.autonomy,
                        parent_id=self.parent_id)

    class Renamed(LedgerAggregate.Event):
        name: str
        code: str

        def apply(self, unit: Unit) -> None:
            unit.name, unit.code = self.name, self.code
            unit.last_fact_on = self.effective_on
            unit._track(self, "RENAMED", name=self.name, code=self.code)

    class Moved(LedgerAggregate.Event):
        """The unit now sits under another parent (also how reorganisations re-home children).

        Version 2 says which: a move re-homing the child of a reorganised unit is part of that
        reorganisation and cannot be retracted on its own. Version-1 events are read as own moves."""

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("by_reorganisation", False)

        parent_id: UUID | None
        by_reorganisation: bool

        def apply(self, unit: Unit) -> None:
            unit.parent_id = self.parent_id
            unit.parent_history.append((self.effective_on, self.parent_id))
            unit.last_fact_on = self.effective_on
            unit._track(self, "REHOMED" if self.by_reorganisation else "MOVED", parent_id=self.parent_id)

    class ModelChanged(LedgerAggregate.Event):
        """chuyển đổi mô hình: same unit, new kind or autonomy class."""

        kind: str
        autonomy: str | None

        def apply(self, unit: Unit) -> None:
            unit.kind = UnitKind(self.kind)
            unit.autonomy = FinancialAutonomy(self.autonomy) if self.autonomy else None
            unit.last_fact_on = self.effective_on
            unit._track(self, "MODEL_CHANGED", kind=self.kind, autonomy=self.autonomy)

    class FunctionsAdjusted(LedgerAggregate.Event):
        functions: str

        def apply(self, unit: Unit) -> None:
            unit.functions = self.functions
            unit.last_fact_on = self.effective_on
            unit._track(self, "FUNCTIONS_ADJUSTED", functions=self.functions)

    class PredecessorsReceived(LedgerAggregate.Event):
        """Lineage on a unit that continues: it absorbed others (sáp nhập)."""

        change: str
        predecessor_ids: list[UUID]

        def apply(self, unit: Unit) -> None:
            unit.predecessors.extend(
                {"unit_id": str(p), "change": self.change, "effective_on": self.effective_on.isoformat()}
                for p in self.predecessor_ids
            )
            unit.last_fact_on = self.effective_on

    class PartSeparated(LedgerAggregate.Event):
        """Lineage on a unit that continues after a part was separated from it (tách)."""

        successor_ids: list[UUID]

        def apply(self, unit: Unit) -> None:
            unit.successors.extend(
                {"unit_id": str(s), "change": ChangeKind.SEPARATE.value, "effective_on": self.effective_on.isoformat(),
                 "act": self.act.as_dict(), "version": self.originator_version}
                for s in self.successor_ids
            )
            unit.last_fact_on = self.effective_on

    class Ended(LedgerAggregate.Event):
        """The unit ends: absorbed, consolidated, split or dissolved. Nothing follows it."""

        change: str
        successor_ids: list[UUID]

        def apply(self, unit: Unit) -> None:
            unit.status = UnitStatus.ENDED
            unit.ended_on = unit.last_fact_on = self.effective_on
            unit.successors.extend(
                {"unit_id": str(s), "change": self.change, "effective_on": self.effective_on.isoformat(),
                 "act": self.act.as_dict(), "version": self.originator_version}
                for s in self.successor_ids
            )
            if not self.successor_ids:  # dissolved: the lineage records the end with no successor
                unit.successors.append({"unit_id": None, "change": self.change,
                                        "effective_on": self.effective_on.isoformat(), "act": self.act.as_dict(),
                                        "version": self.originator_version})

    class FactRetracted(LedgerAggregate.Event):
        """A unit fact entered in error (rename, move, model or functions change, establishment) no
        longer counts; what it changed falls back to the latest earlier fact still on record."""

        fact_version: int
        reason: str

        def apply(self, unit: Unit) -> None:
            for fact in unit.facts:
                if fact["version"] == self.fact_version:
                    fact["retracted"] = True
            unit._refold()

    # ----------------------------------------------------------------- the unit's own facts
    def _track(self, event: LedgerAggregate.Event, fact_kind: str, **changes: Any) -> None:
        if getattr(self, "facts", None) is None:  # loaded from a snapshot older than unit corrections
            return
        self.facts.append({"version": event.originator_version, "effective_on": event.effective_on, "kind": fact_kind,
                           "changes": changes, "retracted": False, "act": event.act})

    def _refold(self) -> None:
        """Name, code, kind, parent and functions from the facts still on record, in date order."""
        state: dict[str, Any] = {"functions": ""}
        history: list[tuple[date, UUID | None]] = []
        active = sorted((f for f in self.facts if not f["retracted"]), key=lambda f: (f["effective_on"], f["version"]))
        for fact in active:
            state.update(fact["changes"])
            if "parent_id" in fact["changes"]:
                history.append((fact["effective_on"], fact["changes"]["parent_id"]))
        if not active:  # the establishment itself was retracted: the unit never existed
            self.status, self.ended_on = UnitStatus.ENDED, self.established_on
            return
        self.code, self.name, self.functions = state["code"], state["name"], state["functions"]
        self.kind = UnitKind(state["kind"])
        self.autonomy = FinancialAutonomy(state["autonomy"]) if state["autonomy"] else None
        self.parent_id, self.parent_history = state["parent_id"], history
        dated = [f["effective_on"] for f in active] + ([self.ended_on] if self.ended_on else [])
        self.last_fact_on = max(dated + [e[0] for e in self.reorganisations()])

    def retractable_fact(self, version: int) -> dict[str, Any]:
        """The unit fact ``version`` if it may be retracted; refuses naming what depends on it."""
        if getattr(self, "facts", None) is None:
            raise NotRetractable("factId", f"unit {self.code}'s record predates unit corrections; correct it with "
                                           "a new act (rename, move ...) instead")
        fact = next((f for f in self.facts if f["version"] == version), None)
        if fact is None:
            raise NotRetractable("factId", f"fact {self.id}:{version} is not a rename, move, model or functions "
                                           "change or establishment of this unit; reorganisations are reversed by new acts")
        if fact["retracted"]:
            raise RuleViolation("factId", "this fact has already been retracted")
        if fact["kind"] == "REHOMED":
            raise NotRetractable("factId", "this move was made by the reorganisation of the unit's parent; it is "
                                           "reversed by a new act, not retracted")
        if fact["kind"] == "ESTABLISHED":
            later = [f for f in self.facts if f["version"] != version and not f["retracted"]]
            depends = []
            if self.member_ids or self.position_ids or self.child_ids:
                depends.append(f"{len(self.member_ids)} people, {len(self.position_ids)} positions and "
                               f"{len(self.child_ids)} child units")
            if later:
                depends.append(f"its {later[0]['kind'].lower().replace('_', ' ')} effective {later[0]['effective_on']} "
                               f"(fact {self.id}:{later[0]['version']})")
            others = self.version - len(self.facts) - self._retractions()  # roster and lineage events
            if self.predecessors or self.successors or others > 0:
                depends.append("movements or reorganisations recorded about it since")
            if depends:
                raise RuleViolation("factId", f"unit {self.code} cannot be un-established while facts depend on it: "
                                              f"{'; '.join(depends)}. Retract or move those first")
        return fact

    def _retractions(self) -> int:
        return sum(1 for f in self.facts if f["retracted"])

    def retract(self, *, fact_version: int, reason: str, act: LegalAct, at: datetime) -> dict[str, Any]:
        fact = self.retractable_fact(fact_version)
        self._emit(Unit.FactRetracted, at, effective_on=fact["effective_on"], act=act, fact_version=fact_version,
                   reason=check_text(reason, "reason", "the reason for the retraction"))
        return fact

    # roster bookkeeping: effective-dated like every fact, but not part of the unit's own timeline
    class MemberJoined(LedgerAggregate.Event):
        person_id: UUID

        def apply(self, unit: Unit) -> None:
            unit.member_ids.add(self.person_id)
            unit.roster_changed_on = max(unit.roster_changed_on, self.effective_on)

    class MemberLeft(LedgerAggregate.Event):
        person_id: UUID

        def apply(self, unit: Unit) -> None:
            unit.member_ids.discard(self.person_id)
            unit.roster_changed_on = max(unit.roster_changed_on, self.effective_on)

    class PositionOpened(LedgerAggregate.Event):
        position_id: UUID

        def apply(self, unit: Unit) -> None:
            unit.position_ids.add(self.position_id)
            unit.roster_changed_on = max(unit.roster_changed_on, self.effective_on)

    class PositionClosed(LedgerAggregate.Event):
        position_id: UUID

        def apply(self, unit: Unit) -> None:
            unit.position_ids.discard(self.position_id)
            unit.roster_changed_on = max(unit.roster_changed_on, self.effective_on)

    class ChildAttached(LedgerAggregate.Event):
        child_id: UUID

        def apply(self, unit: Unit) -> None:
            unit.child_ids.add(self.child_id)
            unit.roster_changed_on = max(unit.roster_changed_on, self.effective_on)

    class ChildDetached(LedgerAggregate.Event):
        child_id: UUID

        def apply(self, unit: Unit) -> None:
            unit.child_ids.discard(self.child_id)
            unit.roster_changed_on = max(unit.roster_changed_on, self.effective_on)

    # ----------------------------------------------------------------- commands
    @classmethod
    def establish(
        cls,
        *,
        unit_id: UUID,
        code: str,
        name: str,
        kind: UnitKind,
        autonomy: FinancialAutonomy | None,
        parent: Unit | None,
        change: ChangeKind,
        predecessor_ids: list[UUID],
        effective_on: date,
        act: LegalAct,
        at: datetime,
    ) -> Unit:
        code = check_text(code, "code", "the unit code")
        name = check_text(name, "name", "the unit name")
        if autonomy is not None and kind is not UnitKind.PUBLIC_SERVICE_UNIT:
            raise InvalidInput("autonomy", "a financial-autonomy class applies only to public service units")
        if parent is not None:
            parent.require_active_on(effective_on, "parentId")
        unit = cls._create(
            cls.Established,
            id=unit_id,
            timestamp=at,
            effective_on=effective_on,
            act=act,
            code=code,
            name=name,
            kind=kind.value,
            autonomy=autonomy.value if autonomy else None,
            parent_id=parent.id if parent else None,
            change=change.value,
            predecessor_ids=list(predecessor_ids),
        )
        if parent is not None:
            parent._emit(Unit.ChildAttached, at, effective_on=effective_on, act=act, child_id=unit.id)
        return unit

    def reorganisations(self) -> list[tuple[date, str, list[UUID], LegalAct, int]]:
        """(date, change, successor ids, act, version) of every end or separation, in date order."""
        grouped: dict[tuple[str, str], dict[str, Any]] = {}
        for entry in self.successors:
            key = (entry["effective_on"], entry["change"])
            found = grouped.setdefault(key, {"ids": [], "act": entry.get("act"), "version": entry.get("version", 0)})
            if entry["unit_id"] is not None:
                found["ids"].append(UUID(entry["unit_id"]))
        out = []
        for (on, change), found in grouped.items():
            day = date.fromisoformat(on)
            act = LegalAct.from_dict(found["act"]) if found["act"] else LegalAct("—", "—", day)
            out.append((day, change, found["ids"], act, found["version"]))
        return sorted(out, key=lambda r: (r[0], r[4]))

    def parents_from(self, day: date) -> set[UUID]:
        """Every parent this unit has on ``day`` or at any later date on record."""
        in_force = [p for d, p in self.parent_history if d <= day][-1:]
        later = [p for d, p in self.parent_history if d > day]
        return {p for p in in_force + later if p is not None}

    def require_active_on(self, effective_on: date, field: str) -> None:
        """A fact may touch this unit only on a date it existed: on or after its start, before its end.

        A unit that has since ended still takes facts dated while it existed (records arrive late);
        what its reorganisation did to them is derived by the application.
        """
        if self.ended_on is not None and effective_on >= self.ended_on:
            successors = ", ".join(s["unit_id"] for s in self.successors
                                   if s["unit_id"] and s["effective_on"] == self.ended_on.isoformat())
            raise UnitEnded(
                field,
                f"unit {self.code} '{self.name}' ended on {self.ended_on}; a fact dated {effective_on} belongs to "
                + (f"its successor ({successors})" if successors else "another unit (it was dissolved)"),
            )
        if effective_on < self.established_on:
            raise EffectiveBeforeStart(
                "effectiveOn",
                f"unit {self.code} '{self.name}' was established on {self.established_on}; "
                f"nothing can take effect there on {effective_on}",
            )

    def _require_own_fact(self, effective_on: date) -> None:
        self.require_active_on(effective_on, "unitId")
        self._check_in_order(effective_on, f"unit {self.code}")

    def rename(self, *, name: str, code: str | None, effective_on: date, act: LegalAct, at: datetime) -> None:
        name = check_text(name, "name", "the unit name")
        code = check_text(code, "code", "the unit code") if code is not None else self.code
        self._require_own_fact(effective_on)
        self._emit(Unit.Renamed, at, effective_on=effective_on, act=act, name=name, code=code)

    def move(
        self,
        *,
        old_parent: Unit | None,
        new_parent: Unit | None,
        new_parent_ancestor_ids: list[UUID],
        effective_on: date,
        act: LegalAct,
        at: datetime,
    ) -> None:
        """Re-home the unit. Refused when the new parent is the unit itself or one of its descendants."""
        self._require_own_fact(effective_on)
        if new_parent is not None:
            if new_parent.id == self.id or self.id in new_parent_ancestor_ids:
                raise HierarchyCycle(
                    "newParentId",
                    f"unit {new_parent.code} is {self.code} itself or lies under it on {effective_on} or on a later "
                    "date already on record; a unit cannot be its own ancestor",
                )
            new_parent.require_active_on(effective_on, "newParentId")
        new_parent_id = new_parent.id if new_parent else None
        if new_parent_id == self.parent_id:
            raise InvalidInput("newParentId", f"unit {self.code} already sits under that parent")
        self._emit(Unit.Moved, at, effective_on=effective_on, act=act, parent_id=new_parent_id, by_reorganisation=False)
        if old_parent is not None:
            old_parent._emit(Unit.ChildDetached, at, effective_on=effective_on, act=act, child_id=self.id)
        if new_parent is not None:
            new_parent._emit(Unit.ChildAttached, at, effective_on=effective_on, act=act, child_id=self.id)

    def change_model(
        self, *, kind: UnitKind, autonomy: FinancialAutonomy | None, effective_on: date, act: LegalAct, at: datetime
    ) -> None:
        self._require_own_fact(effective_on)
        if autonomy is not None and kind is not UnitKind.PUBLIC_SERVICE_UNIT:
            raise InvalidInput("autonomy", "a financial-autonomy class applies only to public service units")
        self._emit(
            Unit.ModelChanged, at, effective_on=effective_on, act=act, kind=kind.value,
            autonomy=autonomy.value if autonomy else None,
        )

    def adjust_functions(self, *, functions: str, effective_on: date, act: LegalAct, at: datetime) -> None:
        functions = check_text(functions, "functions", "the description of functions")
        self._require_own_fact(effective_on)
        self._emit(Unit.FunctionsAdjusted, at, effective_on=effective_on, act=act, functions=functions)

    def receive_predecessors(
        self, *, predecessor_ids: list[UUID], effective_on: date, act: LegalAct, at: datetime
    ) -> None:
        self._require_own_fact(effective_on)
        self._emit(
            Unit.PredecessorsReceived, at, effective_on=effective_on, act=act,
            change=ChangeKind.ABSORB.value, predecessor_ids=list(predecessor_ids),
        )

    def record_separation(self, *, successor_ids: list[UUID], effective_on: date, act: LegalAct, at: datetime) -> None:
        self._require_own_fact(effective_on)
        self._emit(Unit.PartSeparated, at, effective_on=effective_on, act=act, successor_ids=list(successor_ids))

    def check_can_end(self, effective_on: date) -> None:
        """A unit can end (or have a part separated) on a date only if nothing of it is recorded later."""
        self._require_own_fact(effective_on)
        if effective_on < self.roster_changed_on:
            raise OutOfOrderFact(
                "effectiveOn",
                f"unit {self.code} has a movement effective on {self.roster_changed_on} already on record; it "
                f"cannot end on {effective_on}. Retract that later movement, record this change, then record "
                "the movement again against the successor",
            )

    def end(
        self,
        *,
        change: ChangeKind,
        successor_ids: list[UUID],
        parent: Unit | None,
        effective_on: date,
        act: LegalAct,
        at: datetime,
    ) -> None:
        """End the unit. Whatever it held must already have gone elsewhere (giải thể rule).

        Refused when a movement into or out of the unit is already on record with a later
        effective date: ending the unit first would leave that person (or position, or child unit)
        in a unit that no longer exists between the two dates.
        """
        self.check_can_end(effective_on)
        if self.member_ids or self.position_ids or self.child_ids:
            raise UnitNotEmpty(
                "unitId",
                f"unit {self.code} still has {len(self.member_ids)} people, {len(self.position_ids)} open "
                f"positions and {len(self.child_ids)} child units; transfer, retire or abolish them first",
            )
        self._emit(Unit.Ended, at, effective_on=effective_on, act=act, change=change.value, successor_ids=list(successor_ids))
        if parent is not None:
            parent._emit(Unit.ChildDetached, at, effective_on=effective_on, act=act, child_id=self.id)

    def parent_stays(self) -> list[Stay]:
        """Under which parent the unit sat, stay by stay, as now recorded (its end closes the last)."""
        ended = [(self.ended_on, None)] if self.ended_on is not None else []
        return stays([*self.parent_history, *ended])

    def record_stay(self, subject: str, subject_id: UUID, stay: Stay, back_on: date | None, act: LegalAct,
                    at: datetime) -> None:
        """Roster bookkeeping (``domain.stays``): ``subject_id`` (a ``member`` or a ``child`` unit) was here
        until ``stay.until``, a date the roster had not heard of — a late fact or a retraction changed
        the middle of their path. Recorded as their departure on that date (with their arrival on
        ``stay.start``, or, for one still on the roster, their return on ``back_on``), so the unit cannot
        end before it (``check_can_end``) and a concurrent end of the unit collides with this change."""
        joined, left, key, roster = ((Unit.MemberJoined, Unit.MemberLeft, "person_id", self.member_ids)
                                     if subject == "member" else
                                     (Unit.ChildAttached, Unit.ChildDetached, "child_id", self.child_ids))
        for joins, day in bookkeeping(stay, self.roster_changed_on, subject_id in roster, back_on):
            self._emit(joined if joins else left, at, effective_on=day, act=act, **{key: subject_id})

    # roster: called by the application alongside the person/position aggregate's own fact
    def admit_member(self, person_id: UUID, effective_on: date, act: LegalAct, at: datetime, field: str = "unitId") -> None:
        self.require_active_on(effective_on, field)
        self._emit(Unit.MemberJoined, at, effective_on=effective_on, act=act, person_id=person_id)

    def release_member(self, person_id: UUID, effective_on: date, act: LegalAct, at: datetime) -> None:
        self._emit(Unit.MemberLeft, at, effective_on=effective_on, act=act, person_id=person_id)

    def open_position(self, position_id: UUID, effective_on: date, act: LegalAct, at: datetime, field: str = "unitId") -> None:
        self.require_active_on(effective_on, field)
        self._emit(Unit.PositionOpened, at, effective_on=effective_on, act=act, position_id=position_id)

    def close_position(self, position_id: UUID, effective_on: date, act: LegalAct, at: datetime) -> None:
        self._emit(Unit.PositionClosed, at, effective_on=effective_on, act=act, position_id=position_id)

    def attach_child(self, child_id: UUID, effective_on: date, act: LegalAct, at: datetime) -> None:
        self.require_active_on(effective_on, "parentId")
        self._emit(Unit.ChildAttached, at, effective_on=effective_on, act=act, child_id=child_id)

    def detach_child(self, child_id: UUID, effective_on: date, act: LegalAct, at: datetime) -> None:
        self._emit(Unit.ChildDetached, at, effective_on=effective_on, act=act, child_id=child_id)

    def rehome(self, *, parent_id: UUID | None, effective_on: date, act: LegalAct, at: datetime) -> None:
        """Moved by a reorganisation of its parent (the parent ended; the child continues)."""
        self._require_own_fact(effective_on)
        self._emit(Unit.Moved, at, effective_on=effective_on, act=act, parent_id=parent_id, by_reorganisation=True)
