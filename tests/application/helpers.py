"""Small read helpers for application tests: load aggregates and events back from the real store."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from staffing.bootstrap import Ledger
from staffing.domain.person import Person
from staffing.domain.position import Position
from staffing.domain.quota import StaffingQuota, quota_ledger_id
from staffing.domain.unit import Unit


def unit(ledger: Ledger, unit_id: str | UUID) -> Unit:
    agg: object = ledger.store.repository.get(UUID(str(unit_id)))
    assert isinstance(agg, Unit)
    return agg


def person(ledger: Ledger, person_id: str | UUID) -> Person:
    agg: object = ledger.store.repository.get(UUID(str(person_id)))
    assert isinstance(agg, Person)
    return agg


def position(ledger: Ledger, position_id: str | UUID) -> Position:
    agg: object = ledger.store.repository.get(UUID(str(position_id)))
    assert isinstance(agg, Position)
    return agg


def quota(ledger: Ledger, unit_id: str | UUID) -> StaffingQuota:
    agg: object = ledger.store.repository.get(quota_ledger_id(UUID(str(unit_id))))
    assert isinstance(agg, StaffingQuota)
    return agg


def events(ledger: Ledger, aggregate_id: str | UUID) -> list[Any]:
    return list(ledger.store.events.get(UUID(str(aggregate_id))))


def ids(values: Any) -> set[str]:
    return {str(v) for v in values}


def last_position(ledger: Ledger) -> int:
    """The notification log's head: unchanged means nothing at all was written."""
    return ledger.store.recorder.max_notification_id() or 0
