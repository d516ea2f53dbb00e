"""Person: a cadre, civil servant, public employee or contract worker.

The person keeps a timeline of facts, each with what it changed (unit, position, category, rank,
status); the current placement is the fold of the facts still on record, in order (as the read
model folds them). A fact entered in error is retracted, never deleted: what it changed falls
back to the latest earlier fact still on record, and later facts keep only their own changes.
Moves made by a reorganisation cannot be retracted (a reorganisation is reversed by new acts).
National ID numbers are never part of ids or topics.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from staffing.domain.base import LedgerAggregate, check_text
from staffing.domain.downsizing import DecreeVersion, decree_in_force
from staffing.domain.errors import InvalidInput, NotFound, NotRetractable, PersonNotActive, RuleViolation
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
        return [f for f in self.facts if not f["retracted"]]

    @property
    def placement(self) -> Placement:
        active = self._active_facts()
        if not active:
            last = dict(self.facts[0]["changes"])
            last["status"] = PersonStatus.VOID.value
            return Placement(last)
        placement = Placement()
        for fact in active:  # the recruitment (always the first active fact) sets every field
            placement.update(fact["changes"])
        return placement

    @property
    def status(self) -> PersonStatus:
        return self.placement.status

    @property
    def category(self) -> PersonnelCategory:
        return PersonnelCategory(self.placement["category"])

    def _record(self, event: LedgerAggregate.Event, cause: str, retractable: bool, **changes: Any) -> None:
        self.facts.append({
            "version": event.originator_version, "effective_on": event.effective_on, "cause": cause,
            "changes": changes, "retractable": retractable, "retracted": False,
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
        """

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("affected_by_restructuring", False)

        policy: str
        decree: str
        monthly_salary: int | None
        insured_years: int | None
        affected_by_restructuring: bool

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
        if self.status is not PersonStatus.ACTIVE:
            raise PersonNotActive("personId", f"{self.full_name} is {self.status.value.lower()}; no further movements can be recorded")
        self._check_in_order(effective_on, self.full_name)

    def transfer(self, *, unit_id: UUID, position_id: UUID | None, by_reorganisation: bool,
                 effective_on: date, act: LegalAct, at: datetime) -> None:
        self.require_active(effective_on)
        if unit_id == self.placement.unit_id and position_id == self.placement.position_id:
            raise InvalidInput("toUnitId", f"{self.full_name} already holds that assignment")
        self._emit(Person.Transferred, at, effective_on=effective_on, act=act, unit_id=unit_id,
                   position_id=position_id, by_reorganisation=by_reorganisation)

    def regrade(self, *, category: PersonnelCategory | None, rank: str | None,
                effective_on: date, act: LegalAct, at: datetime) -> None:
        self.require_active(effective_on)
        self._emit(Person.Regraded, at, effective_on=effective_on, act=act,
                   category=(category or self.category).value,
                   rank=rank.strip() if rank is not None else self.placement["rank"])

    def leave(self, *, status: PersonStatus, effective_on: date, act: LegalAct, at: datetime) -> None:
        if status not in (PersonStatus.RETIRED, PersonStatus.RESIGNED, PersonStatus.DISMISSED):
            raise InvalidInput("status", "a person leaves by retiring, resigning or being dismissed")
        self.require_active(effective_on)
        self._emit(Person.Left, at, effective_on=effective_on, act=act, status=status.value)

    def downsize(self, *, policy: DownsizingPolicy, monthly_salary: int | None, insured_years: int | None,
                 affected_by_restructuring: bool, effective_on: date, act: LegalAct, at: datetime) -> DecreeVersion:
        self.require_active(effective_on)
        if monthly_salary is not None and monthly_salary < 0:
            raise InvalidInput("monthlySalary", "the monthly salary must not be negative")
        if insured_years is not None and not 0 <= insured_years <= 60:
            raise InvalidInput("insuredYears", "insured years must be between 0 and 60")
        decree = decree_in_force(act.signed_on, affected_by_restructuring)
        self._emit(Person.Downsized, at, effective_on=effective_on, act=act, policy=policy.value,
                   decree=decree.value, monthly_salary=monthly_salary, insured_years=insured_years,
                   affected_by_restructuring=affected_by_restructuring)
        return decree

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
        if fact is active[0] and len(active) > 1:
            raise RuleViolation("factId", "retract the later facts about this person before the recruitment itself")
        before = self.placement
        self._emit(Person.FactRetracted, at, effective_on=fact["effective_on"], act=act,
                   fact_version=fact_version, reason=reason)
        return before, self.placement
