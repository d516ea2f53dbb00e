"""Request: remembers a command's idempotency key and its result.

Saved in the same transaction as the command's own events, so "done" and "remembered as done"
cannot diverge. Its id derives from the key, so two concurrent repeats collide on version 1 and
the loser reads back the winner's result.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from staffing.domain.ids import sequenced

__all__ = ["Request", "request_id"]

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:staffing-ledger:request")


@lru_cache(maxsize=4096)
def request_id(key: str, sequence: int | None = None) -> UUID:
    """The id of the request remembered under ``key`` (a name-based UUID: the same key, the same id).

    With a ``sequence`` (an import names each line's request by the line's place in its file), the
    same name-based UUID with the sequence as its leading bits (``staffing.domain.ids.sequenced``):
    an import's request records then sort in the order of its lines and append to the store's index
    of aggregates instead of landing on a random leaf each (benchmarks/RESULTS.md, section 58).

    Cached because one command asks for it up to four times as it is decided and saved (repeats in
    its batch, its earlier run, its new record, the ids its batch reads together) and each ``uuid5``
    hashes the key again: ~4 µs a time, ~3% of deciding a command in a bulk import."""
    if sequence is None:
        return uuid5(_NAMESPACE, key)
    return sequenced(sequence, request_id(key).int)  # the name-based id, cached: an import asks for both


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
    def handled(cls, *, key: str, command: str, fingerprint: str, result: dict[str, Any], at: datetime,
                sequence: int | None = None) -> Request:
        return cls._create(cls.Handled, id=request_id(key, sequence), timestamp=at, command=command,
                           fingerprint=fingerprint, result=result)
