"""Recording that a bulk load started and finished (``domain.journal``), and asking which did not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from staffing.domain.journal import JOURNAL_ID, LoadJournal
from staffing.persistence import EventStore

__all__ = ["finished", "interrupted", "started"]


def _journal(store: EventStore, at: datetime) -> LoadJournal:
    try:
        found: Any = store.repository.get(JOURNAL_ID)
    except AggregateNotFoundError:
        return LoadJournal.opened(at)
    assert isinstance(found, LoadJournal)
    return found


def _now() -> datetime:
    return datetime.now(UTC)


def _change(store: EventStore, change: Callable[[LoadJournal, datetime], None],
            clock: Callable[[], datetime] = _now) -> None:
    """``clock``: the recording moment (the service's clock: a load that records history at past moments,
    as the demo does, must not stamp its journal with today, which would push the whole log to today)."""
    for _ in range(20):  # two loads starting at once collide on the journal's version: read again
        at = clock()
        journal = _journal(store, at)
        change(journal, at)
        events = journal.collect_events()
        if not events:
            return
        try:
            store.save_events(events)
            return
        except IntegrityError:
            continue
    raise RuntimeError("the load journal kept colliding with concurrent loads")


def started(store: EventStore, name: str, clock: Callable[[], datetime] = _now) -> None:
    _change(store, lambda journal, at: journal.start(name, at), clock)


def finished(store: EventStore, name: str, clock: Callable[[], datetime] = _now) -> None:
    _change(store, lambda journal, at: journal.finish(name, at), clock)


def interrupted(store: EventStore) -> dict[str, str]:
    """Loads started and not finished: name -> the moment they started."""
    try:
        found: Any = store.repository.get(JOURNAL_ID)
    except AggregateNotFoundError:
        return {}
    return found.interrupted()  # type: ignore[no-any-return]
