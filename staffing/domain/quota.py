"""StaffingQuota (biên chế): the quota ledger of one unit.

One series per (personnel category, quota kind). Each fact *sets* the figure from its effective
date, replacing the previous one ("assignQuota ... replacing the previous one"); a cut is a lower
figure, a transfer lowers one ledger and raises another in the same save. Figures may be recorded
at any date (a 2023 figure entered after the 2025 one holds until it). Figures made from others —
a transfer's, a separation's, a merger's inherited sum — remember how they were made and are made
again (``rederive``) when a figure they depend on arrives late or is retracted. Time-bound
exceptions ("may exceed its quota until <date>", the post-merger 5-year rule) live here too.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from staffing.domain.base import LedgerAggregate, check_amount, check_text
from staffing.domain.errors import InvalidInput, NotFound, NotRetractable, RuleViolation
from staffing.domain.values import LegalAct, PersonnelCategory, QuotaKind

__all__ = ["QuotaFactReason", "StaffingQuota", "quota_ledger_id"]

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:staffing-ledger:quota")


def quota_ledger_id(unit_id: UUID) -> UUID:
    """Each unit has exactly one ledger, found from the unit id (no look-up table needed)."""
    return uuid5(_NAMESPACE, str(unit_id))


class QuotaFactReason:
    ASSIGN = "ASSIGN"
    TRANSFER_IN = "TRANSFER_IN"
    TRANSFER_OUT = "TRANSFER_OUT"
    REORGANISATION = "REORGANISATION"


Series = tuple[PersonnelCategory, QuotaKind]


class StaffingQuota(LedgerAggregate):
    if TYPE_CHECKING:  # state set by events; not dataclass fields of the aggregate
        unit_id: UUID
        series: dict[Series, list[dict[str, Any]]]
        exceptions: list[dict[str, Any]]

    class Opened(LedgerAggregate.Created):
        unit_id: UUID

        def apply(self, ledger: StaffingQuota) -> None:
            ledger.unit_id = self.unit_id
            ledger.series = {}
            ledger.exceptions = []
            ledger.last_fact_on = self.effective_on

    class FigureSet(LedgerAggregate.Event):
        """The figure of one series from a date. Version 2 records how a *derived* figure was made, so
        it can be made again when an earlier figure it depends on arrives late or is retracted:
        ``delta`` (a transfer, or what a separation took) is added to the figure in force the day
        before; ``inherits`` (a merger) sums the figures of those units the day before."""

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("delta", None)
            state.setdefault("inherits", [])

        category: str
        kind: str
        amount: int
        reason: str
        delta: int | None
        inherits: list[UUID]

        def apply(self, ledger: StaffingQuota) -> None:
            key = (PersonnelCategory(self.category), QuotaKind(self.kind))
            ledger.series.setdefault(key, []).append(
                {"version": self.originator_version, "effective_on": self.effective_on, "amount": self.amount,
                 "reason": self.reason, "delta": self.delta, "inherits": list(self.inherits), "act": self.act,
                 "retractable": self.reason != QuotaFactReason.REORGANISATION, "retracted": False}
            )

    class ExcessAllowed(LedgerAggregate.Event):
        """The unit may exceed its quota until ``until`` (e.g. 5 years after a merger)."""

        until: date
        reason: str

        def apply(self, ledger: StaffingQuota) -> None:
            ledger.exceptions.append(
                {"version": self.originator_version, "effective_on": self.effective_on, "until": self.until,
                 "retracted": False}
            )

    class TargetSet(LedgerAggregate.Event):
        """A reduction target for the unit's subtree (``set_target``); it changes no figure."""

        category: str | None
        percent: int
        baseline_on: date
        due_on: date

        def apply(self, ledger: StaffingQuota) -> None:
            ledger.reduction_targets.append({"version": self.originator_version, "retracted": False,
                                             "effective_on": self.effective_on, "retractable": True})

    class FactRetracted(LedgerAggregate.Event):
        fact_version: int
        reason: str

        def apply(self, ledger: StaffingQuota) -> None:
            for facts in [*ledger.series.values(), ledger.exceptions, ledger.reduction_targets]:
                for fact in facts:
                    if fact["version"] == self.fact_version:
                        fact["retracted"] = True

    @classmethod
    def open(cls, *, unit_id: UUID, effective_on: date, act: LegalAct, at: datetime) -> StaffingQuota:
        return cls._create(cls.Opened, id=quota_ledger_id(unit_id), timestamp=at, effective_on=effective_on,
                           act=act, unit_id=unit_id)

    def active(self, category: PersonnelCategory, kind: QuotaKind) -> list[dict[str, Any]]:
        """The series' facts still on record, in (effective date, recording order)."""
        return sorted((f for f in self.series.get((category, kind), []) if not f["retracted"]),
                      key=lambda f: (f["effective_on"], f["version"]))

    def current(self, category: PersonnelCategory, kind: QuotaKind) -> int:
        """The figure of the latest-dated fact still on record."""
        active = self.active(category, kind)
        return int(active[-1]["amount"]) if active else 0

    def figure_before(self, category: PersonnelCategory, kind: QuotaKind, day: date,
                      before_version: int | None = None) -> int:
        """The figure in force the day before ``day`` (and, with ``before_version``, also counting
        facts of ``day`` itself recorded before that version)."""
        found = 0
        for fact in self.active(category, kind):
            earlier = fact["effective_on"] < day or (before_version is not None and fact["effective_on"] == day
                                                     and fact["version"] < before_version)
            if earlier:
                found = int(fact["amount"])
        return found

    def current_figures(self) -> dict[Series, int]:
        return {key: self.current(*key) for key in self.series if self.current(*key)}

    def series_keys(self) -> list[Series]:
        return sorted(key for key in self.series if self.active(*key))

    def set_figure(
        self, *, category: PersonnelCategory, kind: QuotaKind, amount: int, reason: str,
        effective_on: date, act: LegalAct, at: datetime, delta: int | None = None,
        inherits: list[UUID] | None = None,
    ) -> None:
        """Record a figure at any date: a figure dated before later ones holds until the next of them."""
        amount = check_amount(amount, "amount")
        self._emit(StaffingQuota.FigureSet, at, effective_on=effective_on, act=act, category=category.value,
                   kind=kind.value, amount=amount, reason=reason, delta=delta, inherits=list(inherits or []))

    def rederive(self, figure_of: Any, at: datetime) -> list[tuple[PersonnelCategory, QuotaKind, date]]:
        """Make every derived figure again from the figures it depends on, as now recorded.

        ``figure_of(unit_id, category, kind, day)`` gives another unit's figure the day before ``day``.
        A derived figure that comes out different is withdrawn (a retraction, kept on record) and
        recorded anew; returns the (series, date) of each figure that changed, for the units that
        inherit from this one. A transfer that would leave a negative figure is refused, naming it.
        """
        changed = []
        for (category, kind) in sorted(self.series):
            for fact in self.active(category, kind):
                if fact["delta"] is None and not fact["inherits"]:
                    continue
                day = fact["effective_on"]
                if fact["inherits"]:
                    wanted = sum(self.figure_before(category, kind, day) if u == self.unit_id
                                 else figure_of(u, category, kind, day) for u in fact["inherits"])
                else:
                    wanted = self.figure_before(category, kind, day, fact["version"]) + int(fact["delta"])
                if wanted < 0:
                    raise InvalidInput("amount", (
                        f"the {category.value}/{kind.value} quota would fall to {wanted} on {day} by the "
                        f"{fact['reason'].lower().replace('_', ' ')} recorded as fact {self.id}:{fact['version']} "
                        f"(act {fact['act'].number}); record a figure that leaves enough posts for it, or retract it"))
                if wanted == fact["amount"]:
                    continue
                self._emit(StaffingQuota.FactRetracted, at, effective_on=day, act=fact["act"],
                           fact_version=fact["version"],
                           reason="re-derived: a figure it depends on was recorded late or corrected")
                self.set_figure(category=category, kind=kind, amount=wanted, reason=fact["reason"], effective_on=day,
                                act=fact["act"], at=at, delta=fact["delta"], inherits=fact["inherits"])
                changed.append((category, kind, day))
        return changed

    def set_target(self, *, category: str | None, percent: int, baseline_on: date, due_on: date,
                   effective_on: date, act: LegalAct, at: datetime) -> None:
        """A reduction target for this unit's subtree: ``percent`` fewer posts (of ``category``, or of
        every category) by ``due_on`` than the quota in force on ``baseline_on`` (e.g. −5% civil
        servants by 31/12/2026 against 31/12/2021; DOMAIN.md)."""
        if not 1 <= percent <= 100:
            raise InvalidInput("percent", f"a reduction target is 1 to 100 percent, got {percent}")
        if not baseline_on < due_on:
            raise InvalidInput("dueOn", f"the target falls due on {due_on}, not after its baseline date {baseline_on}")
        self._emit(StaffingQuota.TargetSet, at, effective_on=effective_on, act=act, category=category,
                   percent=percent, baseline_on=baseline_on, due_on=due_on)

    def exception_on(self, day: date) -> date | None:
        """The deadline of the exception in force on ``day`` (the latest one recorded that has started and
        not yet ended), or None."""
        running = [f for f in self.exceptions if not f["retracted"] and f["effective_on"] <= day <= f["until"]]
        return max(running, key=lambda f: (f["effective_on"], f["version"]))["until"] if running else None

    def allow_excess(self, *, until: date, reason: str, effective_on: date, act: LegalAct, at: datetime) -> None:
        if until < effective_on:
            raise InvalidInput("excessAllowedUntil", f"the exception ends on {until}, before it starts on {effective_on}")
        self._emit(StaffingQuota.ExcessAllowed, at, effective_on=effective_on, act=act, until=until,
                   reason=check_text(reason, "reason", "the reason"))

    @property
    def reduction_targets(self) -> list[dict[str, Any]]:
        """The targets set on this ledger (``TargetSet``), so one can be retracted like a figure. A
        snapshot taken before targets were kept has none: targets set before it cannot be retracted
        (a clear NOT_FOUND), which a rebuild of the ledger without that snapshot lifts."""
        return self.__dict__.setdefault("_reduction_targets", [])

    def retract(self, *, fact_version: int, reason: str, act: LegalAct, at: datetime) -> None:
        """A figure, an exception or a target entered in error stops counting from now; earlier
        knowledge keeps it."""
        reason = check_text(reason, "reason", "the reason for the retraction")
        for facts in [*self.series.values(), self.exceptions, self.reduction_targets]:
            for fact in facts:
                if fact["version"] == fact_version:
                    if fact["retracted"]:
                        raise RuleViolation("factId", "this fact has already been retracted")
                    if not fact.get("retractable", True):
                        raise NotRetractable(
                            "factId", "this figure was set by a reorganisation; reverse it with a new act instead"
                        )
                    self._emit(StaffingQuota.FactRetracted, at, effective_on=fact["effective_on"], act=act,
                               fact_version=fact_version, reason=reason)
                    return
        raise NotFound("factId", "no quota fact with that id on this ledger")
