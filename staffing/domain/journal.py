"""LoadJournal: which bulk loads (the demo, an import file) were started and which finished.

Not a fact about the civil service (no effective date, no legal act) but an operational record, kept
in the log like ``Request`` so that it survives a crash with the events it describes: a load that was
killed midway leaves a ``Started`` without its ``Finished``, and the next start of the service (or of
the demo, or of the same import) says so instead of serving a partial dataset as if it were whole.
One journal per ledger (a fixed id); its events carry no personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

__all__ = ["JOURNAL_ID", "LoadJournal"]

JOURNAL_ID: UUID = uuid5(NAMESPACE_URL, "urn:staffing-ledger:load-journal")


class LoadJournal(Aggregate):
    if TYPE_CHECKING:
        open: dict[str, str]  # load name -> ISO moment it started

    class Opened(Aggregate.Created):
        def apply(self, journal: LoadJournal) -> None:
            journal.open = {}

    class Started(Aggregate.Event):
        name: str

        def apply(self, journal: LoadJournal) -> None:
            journal.open[self.name] = self.timestamp.isoformat()

    class Finished(Aggregate.Event):
        name: str

        def apply(self, journal: LoadJournal) -> None:
            journal.open.pop(self.name, None)

    @classmethod
    def opened(cls, at: datetime) -> LoadJournal:
        return cls._create(cls.Opened, id=JOURNAL_ID, timestamp=at)

    def start(self, name: str, at: datetime) -> None:
        self.trigger_event(self.Started, timestamp=at, name=name)

    def finish(self, name: str, at: datetime) -> None:
        if name in self.open:
            self.trigger_event(self.Finished, timestamp=at, name=name)

    def interrupted(self) -> dict[str, Any]:
        return dict(self.open)
