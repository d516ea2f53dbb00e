"""The base every ledger aggregate shares.

Rule (ENGINEERING.md §4): every business fact carries its valid time (``effective_on``, from the
legal act) and its legal basis (``act``). The recording moment is the event's own ``timestamp``,
which the application passes in (no clock inside the domain), and its position in the log.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from staffing.domain.errors import InvalidInput, OutOfOrderFact
from staffing.domain.snapshot import LedgerSnapshot
from staffing.domain.values import LegalAct

__all__ = ["EARLIEST_DATE", "END_OF_TIME", "LedgerAggregate", "check_amount", "check_as_of", "check_effective_on",
           "check_text"]

#: no fact of this ledger takes effect before the state it records existed (the 1945 Declaration)
EARLIEST_DATE = date(1945, 1, 1)
#: the internal "still holds" end of an interval: never a date a fact or a question may name
END_OF_TIME = date(9999, 12, 31)
#: how far ahead of its recording a fact may take effect
HORIZON_YEARS = 10


def check_effective_on(effective_on: date, recorded_at: datetime, field: str = "effectiveOn") -> date:
    """Effective dates lie between 1945 and ten years after the moment of recording.

    A mistyped year (2205 for 2025) would otherwise become a fact every later one must follow.
    """
    latest = date(min(recorded_at.year + HORIZON_YEARS, END_OF_TIME.year - 1), recorded_at.month,
                  min(recorded_at.day, 28))
    if effective_on < EARLIEST_DATE or effective_on > latest:
        raise InvalidInput(field, f"{effective_on.isoformat()} is outside the dates this ledger accepts "
                                  f"({EARLIEST_DATE.isoformat()} to {latest.isoformat()}); check the year")
    return effective_on


def check_as_of(as_of: date, field: str = "asOf") -> date:
    """A question may be asked about any real date, not about the internal end of time."""
    if as_of >= END_OF_TIME:
        raise InvalidInput(field, f"{as_of.isoformat()} is the ledger's internal end of time; ask about a real date")
    return as_of


class LedgerAggregate(Aggregate):
    """An aggregate whose every event is a dated fact with a legal basis."""

    class Event(Aggregate.Event):
        effective_on: date
        act: LegalAct

    class Created(Event, Aggregate.Created):
        pass

    Snapshot = LedgerSnapshot

    if TYPE_CHECKING:
        #: the latest effective date among this aggregate's facts still on record; a new fact
        #: dated earlier is refused (OutOfOrderFact) so that derived moves stay consistent.
        last_fact_on: date

    def _emit(self, event_class: type[Aggregate.Event], at: datetime, **kwargs: Any) -> None:
        self.trigger_event(event_class, timestamp=at, **kwargs)

    def _check_in_order(self, effective_on: date, what: str) -> None:
        if effective_on < self.last_fact_on:
            raise OutOfOrderFact(
                "effectiveOn",
                f"{what} already has a fact effective on {self.last_fact_on.isoformat()}; "
                f"a fact dated {effective_on.isoformat()} would rewrite what follows it. "
                "Record it with a date on or after that, or retract the later fact first.",
            )


def check_text(value: str, field: str, what: str) -> str:
    value = value.strip() if isinstance(value, str) else value
    if not isinstance(value, str) or not value:
        raise InvalidInput(field, f"{what} must be a non-empty text")
    if len(value) > 500:
        raise InvalidInput(field, f"{what} is longer than 500 characters")
    return value


def check_amount(value: object, field: str) -> int:
    """Quota amounts are non-negative whole numbers of posts (biên chế)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, f"the amount must be a whole number of posts, got {value!r}")
    if value < 0:
        raise InvalidInput(field, f"the amount must not be negative, got {value}")
    if value > 10_000_000:
        raise InvalidInput(field, f"the amount {value} is implausibly large (over 10,000,000 posts)")
    return value


def as_uuid(value: object, field: str) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a valid id (expected a UUID)") from None
