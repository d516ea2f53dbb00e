"""Snapshots of ledger aggregates, so a unit with thousands of people loads in constant time.

The library's JSON transcoder writes a ``StrEnum`` as a bare string and cannot write sets, tuples
or dicts with non-string keys, so a naive snapshot would come back with ``kind`` as a plain
``str`` (breaking ``status is UnitStatus.ENDED``) and fail on ``member_ids``. The state is tagged
on the way out and restored on the way in; dates, UUIDs and legal acts are left to the
registered transcodings.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from eventsourcing.domain import Snapshot
from eventsourcing.utils import get_topic, resolve_topic

__all__ = ["LedgerSnapshot", "restore_state", "tag_state"]


def tag_state(value: Any) -> Any:
    if isinstance(value, Enum):
        return {"__enum__": get_topic(type(value)), "value": value.value}
    if isinstance(value, (set, frozenset)):
        return {"__set__": [tag_state(v) for v in sorted(value, key=str)]}
    if isinstance(value, tuple):
        return {"__tuple__": [tag_state(v) for v in value]}
    if isinstance(value, list):
        return [tag_state(v) for v in value]
    if isinstance(value, dict):
        if all(type(k) is str for k in value):
            return {k: tag_state(v) for k, v in value.items()}
        return {"__items__": [[tag_state(k), tag_state(v)] for k, v in value.items()]}
    return value


def restore_state(value: Any) -> Any:
    if isinstance(value, list):
        return [restore_state(v) for v in value]
    if isinstance(value, dict):
        if "__enum__" in value:
            return resolve_topic(value["__enum__"])(value["value"])
        if "__set__" in value:
            return {restore_state(v) for v in value["__set__"]}
        if "__tuple__" in value:
            return tuple(restore_state(v) for v in value["__tuple__"])
        if "__items__" in value:
            return {restore_state(k): restore_state(v) for k, v in value["__items__"]}
        return {k: restore_state(v) for k, v in value.items()}
    return value


class LedgerSnapshot(Snapshot):
    @classmethod
    def take(cls, aggregate: Any) -> LedgerSnapshot:
        snapshot = super().take(aggregate)
        object.__setattr__(snapshot, "state", tag_state(snapshot.state))
        return snapshot

    def mutate(self, _: None) -> Any:
        restored = Snapshot(originator_id=self.originator_id, originator_version=self.originator_version,
                            timestamp=self.timestamp, topic=self.topic, state=restore_state(self.state))
        return restored.mutate(None)
