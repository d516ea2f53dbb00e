"""Person: a cadre, civil servant, public employee or contract worker.

The person keeps a timeline of facts, each with what it changed (unit, position, category, rank,
status); the placement on a date is the fold of the facts still on record dated on or before it,
in (effective date, recording order) — as the read model folds them. A fact may be recorded with
any effective date, also before facts already on record, when the timeline that results is valid
(nothing before the recruitment; nothing after leaving the service; no exit before a later own
fact); a refusal names the conflicting fact by id, date and act. A fact entered in error is
retracted, never deleted: what it changed falls back to the latest earlier fact still on record.

Moves made by reorganisations are *derived*: the application works out what the reorganisations of
the person's units did to them (``domain.reorganisation.derive_moves``) and records the difference
with what is on record (``settle``) — new derived moves, and withdrawals of those that no longer
apply (recorded as retractions, so every earlier belief stays answerable). They cannot be retracted
by a user: a reorganisation is reversed by new acts.
National ID numbers are never part of ids or topics.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from staffing.domain.base import LedgerAggregate, check_text
from staffing.domain.downsizing import DecreeVersion, Payout, decree_in_force, payout
from staffing.domain.errors import (
    EffectiveBeforeStart,
    InvalidInput,
    NotFound,
    NotRetractable,
    OutOfOrderFact,
    PersonNotActive,
    RuleViolation,
)
from staffing.domain.reorganisation import DerivedMove, Step
from staffing.domain.stays import Stay, stays
from staffing.domain.values import DownsizingPolicy, Gender, LegalAct, PersonnelCategory, PersonStatus

__all__ = ["Person", "Placement"]

MINIMUM_AGE = 18  # Law on Cadres and Civil Servants, art. 36; Law on Public Employees, art. 22


class Placement(dict[str, Any]):
    """The state a fact leaves behind: unit_id, position_id, category, rank, status."""

    @property
    def unit_id(self) -> UUID:
        return self["unit_id"]  # type: ignore[no-any-return]

    @property
    def position_id(self) -> UUID | None:
        return self["position_id"]  # type: ignore[no-any-return]

    @property
    def status(self) -> PersonStatus:
        return PersonStatus(self["status"])


class Person(LedgerAggregate):
    if TYPE_CHECKING:  # state set by events; not dataclass fields of the aggregate
        full_name: str
        birth_date: date
        gender: Gender
        facts: list[dict[str, Any]]

        # ----------------------------------------------------------------- state helpers
    def _active_facts(self) -> list[dict[str, Any]]:
        """Facts still on record, in (effective date, recording order): the timeline."""
        return sorted((f for f in self.facts if not f["retracted"]), key=lambda f: (f["effective_on"], f["version"]))

    @property
    def placement(self) -> Placement:
        """Where the person stands after every fact on record (the end of the timeline)."""
        active = self._active_facts()
        if not active:
            last = dict(self.facts[0]["changes"])
            last["status"] = PersonStatus.VOID.value
            return Placement(last)
        return self._fold(active)

    def placement_on(self, day: date) -> Placement | None:
        """Where the person stood on ``day`` as recorded; None before the recruitment took effect."""
        facts = [f for f in self._active_facts() if f["effective_on"] <= day]
        return self._fold(facts) if facts else None

    @staticmethod
    def _fold(facts: list[dict[str, Any]]) -> Placement:
        placement = Placement()
        for fact in facts:  # the recruitment (always the first fact) sets every field
            placement.update(fact["changes"])
        return placement

    _NOUNS = {"RECRUITED": "recruitment", "TRANSFERRED": "transfer", "REORGANISED": "move by reorganisation",
              "REGRADED": "regrade", "RETIRED": "retirement", "RESIGNED": "resignation", "DISMISSED": "dismissal",
              "DOWNSIZED": "downsizing"}

    def describe(self, fact: dict[str, Any]) -> str:
        """A fact as a refusal names it: what, when, which fact id and act."""
        act = fact.get("act")
        basis = f", act {act.number} of {act.issuer}" if act is not None else ""
        return (f"{self._NOUNS.get(fact['cause'], fact['cause'].lower())} effective "
                f"{fact['effective_on'].isoformat()} (fact {self.id}:{fact['version']}{basis})")

    def steps(self) -> list[Step]:
        """The person's own facts (not the moves reorganisations made), as derivation input."""
        out = []
        for fact in self._active_facts():
            if fact["cause"] == "REORGANISED":
                continue
            changes = fact["changes"]
            status = changes.get("status")
            out.append(Step(fact["effective_on"], changes.get("unit_id"),
                            None if status is None else status == PersonStatus.ACTIVE.value))
        return out

    def stays(self, where: str = "unit_id") -> list[Stay]:
        """Where the person was while in service, stay by stay, as now recorded (own facts and the moves
        reorganisations made): ``where`` is ``unit_id`` or ``position_id`` (``domain.stays``)."""
        placement = Placement()
        timeline = []
        for fact in self._active_facts():
            placement.update(fact["changes"])
            in_service = placement.get("status") == PersonStatus.ACTIVE.value
            timeline.append((fact["effective_on"], placement.get(where) if in_service else None))
        return stays(timeline)

    def entered_on(self) -> date:
        """When the person entered the unit they end up in (by their own fact or a reorganisation)."""
        placing = [f for f in self._active_facts() if "unit_id" in f["changes"]]
        final = self.placement.get("unit_id")
        entered = placing[0]["effective_on"] if placing else self.facts[0]["effective_on"]
        for fact in placing:
            if fact["changes"]["unit_id"] != final:
                continue
            previous = [f for f in placing if (f["effective_on"], f["version"]) < (fact["effective_on"], fact["version"])]
            if not previous or previous[-1]["changes"]["unit_id"] != final:
                entered = fact["effective_on"]
        return entered

    def derived_moves(self, include_withdrawn: bool = False) -> list[dict[str, Any]]:
        return [f for f in sorted(self.facts, key=lambda f: (f["effective_on"], f["version"]))
                if f["cause"] == "REORGANISED" and (include_withdrawn or not f["retracted"])]

    @property
    def status(self) -> PersonStatus:
        return self.placement.status

    @property
    def category(self) -> PersonnelCategory:
        return PersonnelCategory(self.placement["category"])

    def _record(self, event: LedgerAggregate.Event, cause: str, retractable: bool, **changes: Any) -> None:
        self.facts.append({
            "version": event.originator_version, "effective_on": event.effective_on, "cause": cause,
            "changes": changes, "retractable": retractable, "retracted": False, "act": event.act,
        })
        self._refresh_last_fact_on()

    def _refresh_last_fact_on(self) -> None:
        active = self._active_facts()
        self.last_fact_on = active[-1]["effective_on"] if active else self.facts[0]["effective_on"]

    # ----------------------------------------------------------------- events (stored schema)
    class Recruited(LedgerAggregate.Created):
        full_name: str
        birth_date: date
        gender: str
        category: str
        rank: str
        unit_id: UUID
        position_id: UUID | None

        def apply(self, person: Person) -> None:
            person.full_name, person.birth_date = self.full_name, self.birth_date
            person.gender = Gender(self.gender)
            person.facts = []
            person._record(self, "RECRUITED", True, unit_id=self.unit_id, position_id=self.position_id,
                           category=self.category, rank=self.rank, status=PersonStatus.ACTIVE.value)

    class Transferred(LedgerAggregate.Event):
        unit_id: UUID
        position_id: UUID | None
        by_reorganisation: bool

        def apply(self, person: Person) -> None:
            person._record(self, "REORGANISED" if self.by_reorganisation else "TRANSFERRED",
                           not self.by_reorganisation, unit_id=self.unit_id, position_id=self.position_id)

    class Regraded(LedgerAggregate.Event):
        category: str
        rank: str

        def apply(self, person: Person) -> None:
            person._record(self, "REGRADED", True, category=self.category, rank=self.rank)

    class Left(LedgerAggregate.Event):
        """Retired (nghỉ hưu), resigned (thôi việc) or dismissed (buộc thôi việc)."""

        status: str

        def apply(self, person: Person) -> None:
            person._record(self, self.status, True, status=self.status, position_id=None)

    class Downsized(LedgerAggregate.Event):
        """Tinh giản biên chế, under the decree version in force on the decision date.

        Version 2 added ``affected_by_restructuring`` (Decree 178/2024 runs in parallel with the
        general decree for people affected by the 2025 restructuring). Version-1 events were
        recorded before that distinction existed, so they are read as not affected.
        Version 3 added the payout's inputs (months to retirement, months since the reorganisation)
        and the computed payout (rule, items, total); earlier events have none of them.
        """

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("affected_by_restructuring", False)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state.setdefault("months_to_retirement", None)
            state.setdefault("months_since_reorganisation", None)
            state.setdefault("payout", None)

        policy: str
        decree: str
        monthly_salary: int | None
        insured_years: int | None
        affected_by_restructuring: bool
        months_to_retirement: int | None
        months_since_reorganisation: int | None
        payout: dict[str, Any] | None

        def apply(self, person: Person) -> None:
            person._record(self, PersonStatus.DOWNSIZED.value, True, status=PersonStatus.DOWNSIZED.value,
                           position_id=None)

    class FactRetracted(LedgerAggregate.Event):
        fact_version: int
        reason: str

        def apply(self, person: Person) -> None:
            for fact in person.facts:
                if fact["version"] == self.fact_version:
                    fact["retracted"] = True
            person._refresh_last_fact_on()

    # ----------------------------------------------------------------- commands
    @classmethod
    def recruit(
        cls, *, person_id: UUID, full_name: str, birth_date: date, gender: Gender, category: PersonnelCategory,
        rank: str, unit_id: UUID, position_id: UUID | None, effective_on: date, act: LegalAct, at: datetime,
    ) -> Person:
        full_name = check_text(full_name, "fullName", "the full name")
        age = effective_on.year - birth_date.year - ((effective_on.month, effective_on.day) < (birth_date.month, birth_date.day))
        if age < MINIMUM_AGE:
            raise InvalidInput("birthDate", f"the person would be {age} on {effective_on}; recruitment needs age {MINIMUM_AGE} or over")
        if age > 80:
            raise InvalidInput("birthDate", f"the person would be {age} on {effective_on}; check the birth date")
        return cls._create(
            cls.Recruited, id=person_id, timestamp=at, effective_on=effective_on, act=act, full_name=full_name,
            birth_date=birth_date, gender=gender.value, category=category.value, rank=rank.strip(),
            unit_id=unit_id, position_id=position_id,
        )

    def require_active(self, effective_on: date) -> None:
        """A movement, regrade or exit on ``effective_on`` needs the person in service on that date."""
        recruitment = self._active_facts()[0] if self._active_facts() else self.facts[0]
        if self.status is PersonStatus.VOID:
            raise PersonNotActive("personId", f"{self.full_name}'s recruitment was retracted; record it again first")
        if effective_on < recruitment["effective_on"]:
            raise EffectiveBeforeStart(
                "effectiveOn", f"{self.full_name} came into service by the {self.describe(recruitment)}; nothing about "
                               f"them can take effect on {effective_on.isoformat()}")
        exit_fact = next((f for f in self._active_facts() if f["effective_on"] <= effective_on
                          and f["changes"].get("status") not in (None, PersonStatus.ACTIVE.value)), None)
        if exit_fact is not None:
            raise PersonNotActive(
                "personId", f"{self.full_name} left the service by the {self.describe(exit_fact)}; a fact dated "
                            f"{effective_on.isoformat()} would come after it. Date it before "
                            f"{exit_fact['effective_on'].isoformat()}, or retract that exit first")

    def _require_nothing_after(self, effective_on: date) -> None:
        """An exit is the person's last own fact: a later own fact must be retracted first."""
        later = next((f for f in self._active_facts() if f["effective_on"] > effective_on
                      and f["cause"] != "REORGANISED"), None)
        if later is not None:
            raise OutOfOrderFact(
                "effectiveOn", f"{self.full_name} has a {self.describe(later)}; leaving the service on "
                               f"{effective_on.isoformat()} would come before it. Date the exit after it, or retract "
                               "that fact first")

    def transfer(self, *, unit_id: UUID, position_id: UUID | None, by_reorganisation: bool,
                 effective_on: date, act: LegalAct, at: datetime) -> None:
        self.require_active(effective_on)
        now = self.placement_on(effective_on)
        if now is not None and unit_id == now.unit_id and position_id == now.position_id:
            raise InvalidInput("toUnitId", f"{self.full_name} already holds that assignment on {effective_on}")
        self._emit(Person.Transferred, at, effective_on=effective_on, act=act, unit_id=unit_id,
                   position_id=position_id, by_reorganisation=by_reorganisation)

    def regrade(self, *, category: PersonnelCategory | None, rank: str | None,
                effective_on: date, act: LegalAct, at: datetime) -> None:
        self.require_active(effective_on)
        now = self.placement_on(effective_on) or self.placement
        self._emit(Person.Regraded, at, effective_on=effective_on, act=act,
                   category=(category or PersonnelCategory(now["category"])).value,
                   rank=rank.strip() if rank is not None else now["rank"])

    def leave(self, *, status: PersonStatus, effective_on: date, act: LegalAct, at: datetime) -> None:
        if status not in (PersonStatus.RETIRED, PersonStatus.RESIGNED, PersonStatus.DISMISSED):
            raise InvalidInput("status", "a person leaves by retiring, resigning or being dismissed")
        self.require_active(effective_on)
        self._require_nothing_after(effective_on)
        self._emit(Person.Left, at, effective_on=effective_on, act=act, status=status.value)

    def downsize(self, *, policy: DownsizingPolicy, monthly_salary: int | None, insured_years: int | None,
                 affected_by_restructuring: bool, effective_on: date, act: LegalAct, at: datetime,
                 months_to_retirement: int | None = None, months_since_reorganisation: int | None = None
                 ) -> tuple[DecreeVersion, Payout | None]:
        self.require_active(effective_on)
        self._require_nothing_after(effective_on)
        if monthly_salary is not None and monthly_salary < 0:
            raise InvalidInput("monthlySalary", "the monthly salary must not be negative")
        if insured_years is not None and not 0 <= insured_years <= 60:
            raise InvalidInput("insuredYears", "insured years must be between 0 and 60")
        if months_since_reorganisation is not None and not 0 <= months_since_reorganisation <= 600:
            raise InvalidInput("monthsSinceReorganisation", "months since the reorganisation lie in 0..600")
        decree = decree_in_force(act.signed_on, affected_by_restructuring)
        computed = payout(decree, policy, monthly_salary=monthly_salary, insured_years=insured_years,
                          months_to_retirement=months_to_retirement,
                          months_since_reorganisation=months_since_reorganisation, decision_date=act.signed_on)
        self._emit(Person.Downsized, at, effective_on=effective_on, act=act, policy=policy.value,
                   decree=decree.value, monthly_salary=monthly_salary, insured_years=insured_years,
                   affected_by_restructuring=affected_by_restructuring, months_to_retirement=months_to_retirement,
                   months_since_reorganisation=months_since_reorganisation,
                   payout=computed.as_dict() if computed else None)
        return decree, computed

    def _position_entering(self, day: date) -> UUID | None:
        """The position the person holds when a reorganisation of ``day`` takes them along: after
        every fact before that day and their own facts of that day (which come first)."""
        facts = [f for f in self._active_facts() if f["effective_on"] < day
                 or (f["effective_on"] == day and f["cause"] != "REORGANISED")]
        return self._fold(facts).get("position_id") if facts else None

    def settle(self, moves: list[DerivedMove], at: datetime) -> None:
        """Record what the reorganisations did to the person, as now derived: add the moves that are
        missing, withdraw (retract) those that no longer apply. Each move carries the position the
        person held when it happened (a late change of position makes it again) and the act of the
        reorganisation.

        The record is folded in (effective date, recording order) and a reorganisation applies after
        the person's own facts of its day, so a move still wanted is made again when an own fact
        placing them on that day was recorded after it (it would otherwise overrule the move)."""
        wanted = [(m, self._position_entering(m.on)) for m in moves]
        keys = {(m.on, m.unit_id, position) for m, position in wanted}
        own_last: dict[date, int] = {}  # the last own fact placing the person, per day
        for fact in self._active_facts():
            if fact["cause"] != "REORGANISED" and ("unit_id" in fact["changes"] or "position_id" in fact["changes"]):
                own_last[fact["effective_on"]] = fact["version"]

        def key(fact: dict[str, Any]) -> tuple[date, UUID, UUID | None]:
            return fact["effective_on"], fact["changes"]["unit_id"], fact["changes"]["position_id"]

        for fact in self.derived_moves():
            overruled = own_last.get(fact["effective_on"], 0) > fact["version"]
            if key(fact) not in keys or overruled:
                reason = ("re-derived: made again after the person's own fact of that day, which it follows"
                          if overruled and key(fact) in keys else
                          "re-derived: the reorganisation no longer applies to this person as now recorded")
                self._emit(Person.FactRetracted, at, effective_on=fact["effective_on"], act=fact["act"],
                           fact_version=fact["version"], reason=reason)
        have = {key(f) for f in self.derived_moves()}
        for move, position in wanted:
            if (move.on, move.unit_id, position) not in have:
                self._emit(Person.Transferred, at, effective_on=move.on, act=move.reorganisation.act,
                           unit_id=move.unit_id, position_id=position, by_reorganisation=True)

    def retract(self, *, fact_version: int, reason: str, act: LegalAct, at: datetime) -> tuple[Placement, Placement]:
        """Retract one fact; returns the placement before and after so rosters can follow."""
        reason = check_text(reason, "reason", "the reason for the retraction")
        fact = next((f for f in self.facts if f["version"] == fact_version), None)
        if fact is None:
            raise NotFound("factId", f"{self.full_name} has no fact with that id")
        if fact["retracted"]:
            raise RuleViolation("factId", "this fact has already been retracted")
        if not fact["retractable"]:
            raise NotRetractable("factId", "moves made by a reorganisation are reversed by a new act, not retracted")
        active = self._active_facts()
        later = [f for f in active[1:] if f["cause"] != "REORGANISED"]
        if fact is active[0] and later:
            raise RuleViolation("factId", f"retract the later facts about {self.full_name} (first: the "
                                          f"{self.describe(later[0])}) before the recruitment itself")
        before = self.placement
        self._emit(Person.FactRetracted, at, effective_on=fact["effective_on"], act=act,
                   fact_version=fact_version, reason=reason)
        return before, self.placement
