"""StaffingQuota (biên chế): the quota ledger of one unit.

One series per (personnel category, quota kind). Each fact *sets* the figure from its effective
date, replacing the previous one ("assignQuota ... replacing the previous one"); a cut is a lower
figure, a transfer lowers one ledger and raises another in the same save. Time-bound exceptions
("may exceed its quota until <date>", the post-merger 5-year rule) live here too.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import NAMESPACE_URL, UUID, uuid5

from staffing.domain.base import LedgerAggregate, check_amount, check_text
from staffing.domain.errors import InvalidInput, NotFound, NotRetractable, OutOfOrderFact, RuleViolation
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
        series: dict[Series, list[dict[str, object]]]
        exceptions: list[dict[str, object]]

    class Opened(LedgerAggregate.Created):
        unit_id: UUID

        def apply(self, ledger: StaffingQuota) -> None:
            ledger.unit_id = self.unit_id
            ledger.series = {}
            ledger.exceptions = []
            ledger.last_fact_on = self.effective_on

    class FigureSet(LedgerAggregate.Event):
        category: str
        kind: str
        amount: int
        reason: str

        def apply(self, ledger: StaffingQuota) -> None:
            key = (PersonnelCategory(self.category), QuotaKind(self.kind))
            ledger.series.setdefault(key, []).append(
                {"version": self.originator_version, "effective_on": self.effective_on, "amount": self.amount,
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

    class FactRetracted(LedgerAggregate.Event):
        fact_version: int
        reason: str

        def apply(self, ledger: StaffingQuota) -> None:
            for facts in [*ledger.series.values(), ledger.exceptions]:
                for fact in facts:
                    if fact["version"] == self.fact_version:
                        fact["retracted"] = True

    @classmethod
    def open(cls, *, unit_id: UUID, effective_on: date, act: LegalAct, at: datetime) -> StaffingQuota:
        return cls._create(cls.Opened, id=quota_ledger_id(unit_id), timestamp=at, effective_on=effective_on,
                           act=act, unit_id=unit_id)

    def current(self, category: PersonnelCategory, kind: QuotaKind) -> int:
        """The figure of the latest fact still on record (facts are kept in effective-date order)."""
        active = [f for f in self.series.get((category, kind), []) if not f["retracted"]]
        return int(active[-1]["amount"]) if active else 0  # type: ignore[call-overload]

    def current_figures(self) -> dict[Series, int]:
        return {key: self.current(*key) for key in self.series if self.current(*key)}

    def set_figure(
        self, *, category: PersonnelCategory, kind: QuotaKind, amount: int, reason: str,
        effective_on: date, act: LegalAct, at: datetime,
    ) -> None:
        amount = check_amount(amount, "amount")
        active = [f for f in self.series.get((category, kind), []) if not f["retracted"]]
        if active and effective_on < active[-1]["effective_on"]:  # type: ignore[operator]
            raise OutOfOrderFact(
                "effectiveOn",
                f"the {category.value}/{kind.value} quota already has a figure effective on "
                f"{active[-1]['effective_on']}; record this on or after that date, or retract the later figure",
            )
        self._emit(StaffingQuota.FigureSet, at, effective_on=effective_on, act=act, category=category.value,
                   kind=kind.value, amount=amount, reason=reason)

    def allow_excess(self, *, until: date, reason: str, effective_on: date, act: LegalAct, at: datetime) -> None:
        if until < effective_on:
            raise InvalidInput("excessAllowedUntil", f"the exception ends on {until}, before it starts on {effective_on}")
        self._emit(StaffingQuota.ExcessAllowed, at, effective_on=effective_on, act=act, until=until,
                   reason=check_text(reason, "reason", "the reason"))

    def retract(self, *, fact_version: int, reason: str, act: LegalAct, at: datetime) -> None:
        """A figure entered in error stops counting from now; earlier knowledge keeps it."""
        reason = check_text(reason, "reason", "the reason for the retraction")
        for facts in [*self.series.values(), self.exceptions]:
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
