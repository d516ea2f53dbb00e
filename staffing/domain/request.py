"""Request: remembers a command's idempotency key and its result.

Saved in the same transaction as the command's own events, so "done" and "remembered as done"
cannot diverge. Its id derives from the key, so two concurrent repeats collide on version 1 and
the loser reads back the winner's result.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

__all__ = ["Request", "request_id"]

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:staffing-ledger:request")


def request_id(key: str) -> UUID:
    return uuid5(_NAMESPACE, key)


class Request(Aggregate):
    if TYPE_CHECKING:  # state set by events; not dataclass fields of the aggregate
        command: str
        fingerprint: str
        result: dict[str, Any]

    class Handled(Aggregate.Created):
        command: str
        fingerprint: str
        result: dict[str, Any]

        def apply(self, request: Request) -> None:
            request.command, request.fingerprint, request.result = self.command, self.fingerprint, self.result

    @classmethod
    def handled(cls, *, key: str, command: str, fingerprint: str, result: dict[str, Any], at: datetime) -> Request:
        return cls._create(cls.Handled, id=request_id(key), timestamp=at, command=command,
                           fingerprint=fingerprint, result=result)
