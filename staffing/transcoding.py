"""How stored events become bytes and back: the library's JSON format, written and read with orjson.

The stored format is the library's ``JSONTranscoder``'s, byte for byte: compact separators,
UTF-8 without escapes, and every registered type (UUID, date, datetime, legal act, ...) written as
``{"_type_": name, "_data_": ...}``. Events stored before this module, and any a later version of
the library writes, read the same; the hash chain (``staffing.chain``) covers the same bytes.

Why orjson (issue 9): every write encodes its events and every catch-up, rebuild and aggregate
load decodes them. The standard library's encoder calls a Python hook for each UUID, date and act
and its parser one for every JSON object; on the province log (``benchmarks/bench_codec.py``,
RESULTS section 24) encoding here is 1.7x the library's and decoding 1.2–1.3x. orjson writes UUIDs
and dates natively (a different text), so the registered types are tagged first by a walk in
Python and orjson writes the tagged tree; anything the walk cannot vouch for goes to the
library's own encoder.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding

from staffing.domain.values import LegalAct

__all__ = ["PLAIN", "DateAsISO", "LegalActAsDict", "OrjsonTranscoder"]


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class LegalActAsDict(Transcoding):
    type = LegalAct
    name = "legal_act"

    def encode(self, obj: LegalAct) -> dict[str, Any]:
        return {"number": obj.number, "issuer": obj.issuer, "signed_on": obj.signed_on}

    def decode(self, data: dict[str, Any]) -> LegalAct:
        return LegalAct(data["number"], data["issuer"], data["signed_on"])


class OrjsonTranscoder(JSONTranscoder):
    """The library's JSON transcoder, encoding and decoding with orjson: the same bytes, the same objects.

    Encoding: ``_tagged`` replaces each value of a registered type by the library's tag (recursively,
    as the library's encoder calls its hook again on what a transcoding returns) and orjson writes
    the result. Only exact ``str``, ``int``, ``bool``, ``None``, ``dict`` with string keys, ``list``
    and ``tuple`` pass untouched, because orjson writes those exactly as the standard library does
    (every code point was checked by the tests); a float (the two print some differently), an
    integer beyond 64 bits, a subclass (an enum, say) or an unregistered type sends the whole
    event to the library's encoder, which writes it or refuses it as before.

    Decoding: nested objects are turned into values innermost first, as the library's
    ``object_hook`` does; a document orjson refuses, or one holding any float (orjson rounds
    integers beyond 64 bits to floats instead of refusing them), goes to the library's parser.
    """

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._tagged(obj))
        except (_NotExact, TypeError):  # orjson.JSONEncodeError is a TypeError (e.g. an int beyond 64 bits)
            return super().encode(obj)

    def _tagged(self, value: Any) -> Any:
        kind = type(value)
        if kind in PLAIN or value is None:
            return value
        if kind is dict:
            tagged = {}
            for key, item in value.items():
                if type(key) is not str:
                    raise _NotExact  # the standard library turns some keys into strings; orjson refuses them
                tagged[key] = item if type(item) in PLAIN or item is None else self._tagged(item)
            return tagged
        if kind is list or kind is tuple:
            return [item if type(item) in PLAIN or item is None else self._tagged(item) for item in value]
        transcoding = self.types.get(kind)
        if transcoding is None:
            raise _NotExact
        data = transcoding.encode(value)
        return {"_type_": transcoding.name, "_data_": data if type(data) is str else self._tagged(data)}

    def decode(self, data: bytes) -> Any:
        try:
            return self._typed(orjson.loads(data))
        except (orjson.JSONDecodeError, _NotExact):
            return super().decode(data)

    def _typed(self, value: Any) -> Any:
        kind = type(value)
        if kind is dict:
            for key, item in value.items():
                if type(item) in _WALKED:
                    value[key] = self._typed(item)
            return self._decode_obj(value) if len(value) == 2 else value
        if kind is list:
            return [self._typed(item) if type(item) in _WALKED else item for item in value]
        if kind is float:
            raise _NotExact
        return value


class _NotExact(Exception):
    """A value orjson would not write or read exactly as the library's JSON does (a float, an
    integer beyond 64 bits, a subclass, a non-string key): the library's own code handles it."""


#: what orjson writes exactly as the standard library does (exact types only: a subclass may not be)
PLAIN = frozenset({str, int, bool})
#: what ``_typed`` must look into (objects and arrays) or refuse (floats); anything else is kept as read
_WALKED = frozenset({dict, list, float})
