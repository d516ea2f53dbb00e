"""UnitCode: which live unit holds a unit code.

Unit codes are what personnel departments type and what reports print, so two live units must not
share one. The registry entry's id derives from the code, making the check race-free: two
concurrent claims collide on the same aggregate version. A code is free again once its holder ends
(a consolidated province may keep a predecessor's code).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

__all__ = ["UnitCode", "unit_code_id"]

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:staffing-ledger:unit-code")


def unit_code_id(code: str) -> UUID:
    return uuid5(_NAMESPACE, unicodedata.normalize("NFC", code.strip()).casefold())


class UnitCode(Aggregate):
    if TYPE_CHECKING:  # state set by events; not dataclass fields of the aggregate
        holder_id: UUID

    class Claimed(Aggregate.Created):
        holder_id: UUID

        def apply(self, entry: UnitCode) -> None:
            entry.holder_id = self.holder_id

    class Reassigned(Aggregate.Event):
        holder_id: UUID

        def apply(self, entry: UnitCode) -> None:
            entry.holder_id = self.holder_id

    @classmethod
    def claim(cls, code: str, holder_id: UUID, at: datetime) -> UnitCode:
        return cls._create(cls.Claimed, id=unit_code_id(code), timestamp=at, holder_id=holder_id)

    def reassign(self, holder_id: UUID, at: datetime) -> None:
        self.trigger_event(UnitCode.Reassigned, timestamp=at, holder_id=holder_id)
