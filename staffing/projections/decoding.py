"""The projector's decoding of stored events: their JSON straight into the event's class, ids as text (issue 9).

Why: the read models store every id as text (``str(uuid)``), so the projector's handlers turn each
id they meet into text again — the library's mapper had parsed each stored hex id into a ``UUID``
only for that, and walked every tagged value through its generic ``_decode_obj``. On the province
log that decoding was ~16–20% of a rebuild (the issue's design note: a rebuild goes fastest when
stored events are decoded straight into rows). Here each value the domain's events hold at their
top level — an id, a date, a moment, a legal act, or a list of them — is decoded by its tag's own
function, an id into the text ``str(UUID(hex))`` gives; the event object is made as the library's
mapper makes it (its class's upcasters run first; ``object.__new__`` and its ``__dict__``).

So an event decoded here equals the mapper's but for its ids, which are the same ids as text: the
handlers only ever take ``str()`` of them (``str`` of a text is itself), and ``event_data`` writes
the same JSON for either (``test_decoding``). Anything not in that shape — a float, a nested list,
an object holding more than plain values, a tag without a function here, a document orjson
refuses, a store that compresses or encrypts its events — sends the whole event to the store's
own mapper (``OrjsonTranscoder``, which falls back to the library's parser), ids as ``UUID``s.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.utils import resolve_topic

from staffing.acts import stored_day
from staffing.transcoding import PLAIN

__all__ = ["LeanDecoder", "id_text"]


def id_text(value: Any) -> str:
    """An id stored as hex (or any form ``UUID()`` reads) as ``str(UUID(value))`` writes it."""
    if type(value) is str and len(value) == 32:
        value = value.lower()
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    if type(value) is str and len(value) == 36 and value[8] == "-":
        return value.lower()
    return str(value if isinstance(value, UUID) else UUID(value))


@functools.lru_cache(maxsize=4096)
def _moment(data: str) -> datetime:
    """A stored moment (the entries of one writer's transaction share it: parsed once)."""
    return datetime.fromisoformat(data)


class _NotLean(Exception):
    """A value this module does not decode itself: the store's transcoder decodes it."""


class LeanDecoder:
    """Stored entries (``persistence.Entry`` or the library's notifications) into domain events."""

    def __init__(self, mapper: Any) -> None:
        self.mapper = mapper
        by_name = mapper.transcoder.names
        self._by_tag: dict[str, Callable[[Any], Any]] = {
            "uuid_hex": id_text, "date_iso": stored_day, "datetime_iso": _moment}
        if "legal_act_ref" in by_name:
            self._by_tag["legal_act_ref"] = by_name["legal_act_ref"].decode
        self._classes: dict[str, tuple[type, int]] = {}
        #: stored states that are JSON as written (not compressed or encrypted by the mapper)
        self._plain_json = not (getattr(mapper, "cipher", None) or getattr(mapper, "compressor", None))

    def event(self, entry: Any) -> Any:
        """The domain event stored in ``entry``."""
        if not self._plain_json:
            return self.mapper.to_domain_event(entry)
        try:
            state = orjson.loads(entry.state)
        except orjson.JSONDecodeError:
            return self.mapper.to_domain_event(entry)
        if type(state) is not dict:
            return self.mapper.to_domain_event(entry)
        try:
            for key, value in state.items():
                kind = type(value)
                if kind is dict:
                    state[key] = self._value(value)
                elif kind is list:
                    state[key] = [self._value(item) if type(item) is dict else self._plain(item) for item in value]
                elif kind is float:
                    raise _NotLean
        except _NotLean:
            return self.mapper.to_domain_event(entry)
        topic = entry.topic
        found = self._classes.get(topic)
        if found is None:
            cls = resolve_topic(topic)
            found = self._classes[topic] = (cls, getattr(cls, "class_version", 1))
        cls, class_version = found
        state["originator_id"] = id_text(entry.originator_id)
        state["originator_version"] = entry.originator_version
        version = state.pop("class_version", 1)
        while version < class_version:  # the library's upcasting, as ``Mapper.to_domain_event`` does it
            getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
            version += 1
        event: Any = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event

    def _value(self, value: dict[str, Any]) -> Any:
        if len(value) == 2 and "_type_" in value:
            data = value.get("_data_")
            decode = self._by_tag.get(value["_type_"])
            if decode is not None and type(data) is str:
                return decode(data)
        elif "_type_" not in value and all(type(item) in PLAIN or item is None for item in value.values()):
            return value  # (an object of plain values is kept as it is read, as the library's parser keeps it)
        raise _NotLean  # (nested, or a tag without a function here: the whole event goes to the store's mapper)

    @staticmethod
    def _plain(item: Any) -> Any:
        if type(item) in PLAIN or item is None:
            return item
        raise _NotLean
