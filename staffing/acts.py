"""Legal acts stored once (issue 10): an event holds a reference, the act's text lives in ``legal_acts``.

A reorganisation of hundreds of people writes hundreds of events under one act; copying the act
into each was how a 1 MB act number became 128 MB. Now the event store's transcoder writes a
``LegalAct`` as ``{"_type_": "legal_act_ref", "_data_": KEY}``, where KEY is the SHA-256 of the
act's number, issuer and signing date (content-addressed: the same act is one row however many
facts cite it, and ``verify`` proves no row was edited, since an edited row no longer hashes to its
key). The recorder writes the acts the events being inserted refer to in the same transaction
(``chain``'s recorders call ``ActStore.write_pending``), so an event is never stored without its
act. Events stored before this change hold the whole act (``legal_act``) and load as they did.

Decoding looks the key up in a per-store cache, then in the table. A projector decoding thousands
of events first ``prefetch``es the acts they cite, found in the stored bytes, with one read per 500
on SQLite and one in all on PostgreSQL (one read per act was a fifth of a rebuild: most generated
facts cite an act of their own). The cache is bounded (``MAX_CACHED``): a national history cites
millions of acts.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from eventsourcing.persistence import Transcoding

from staffing.domain.values import LegalAct

__all__ = ["ACTS_TABLE", "ActStore", "ActStream", "LegalActByReference", "act_key", "stored_day"]

ACTS_TABLE = "legal_acts"
#: acts kept decoded per store; past it the cache starts again (it is only a cache)
MAX_CACHED = 200_000
_NEW, _SET = object.__new__, object.__setattr__  # (a frozen dataclass's fields, set as its own ``__init__`` does)
_REFERENCE = re.compile(rb'"_type_":"legal_act_ref","_data_":"([0-9a-f]{64})"')


@functools.lru_cache(maxsize=1 << 16)
def stored_day(text: str) -> date:
    """A stored ISO date, parsed once per distinct day: a ledger's days repeat (effective days, acts'
    signing days), and one object per day also pickles once per frame to a SQLite rebuild's writer
    process (``projections.writeprocess``: ~0.8 µs for each distinct date object, a reference after).
    Acts read back and decoded events (``projections.decoding``) share it."""
    return date.fromisoformat(text)


def act_key(number: str, issuer: str, signed_on: str) -> str:
    return hashlib.sha256("\x1f".join((number, issuer, signed_on)).encode()).hexdigest()


class ActStore:
    """Keys ↔ acts for one event store: what encoding produced and must be written, and a cache."""

    def __init__(self) -> None:
        self.by_key: dict[str, LegalAct] = {}
        self.keys: dict[LegalAct, str] = {}
        self._pending = threading.local()  # encoding and inserting happen in the same thread
        self.loader: Callable[[str], tuple[str, str, str] | None] | None = None
        #: (key, number, issuer, signed_on) of many keys at once
        self.bulk_loader: Callable[[list[str]], Iterable[tuple[str, str, str, str]]] | None = None

    def _remember(self, key: str, act: LegalAct) -> None:
        self._make_room()
        self.by_key[key], self.keys[act] = act, key

    def _make_room(self) -> None:
        if len(self.by_key) >= MAX_CACHED:
            self._start_again()

    def _cache_read(self, key: str, number: str, issuer: str, signed_on: str) -> None:
        """Cache an act read from the table for decoding only (``by_key``), made without its checks.

        Why (issue 9): a national rebuild reads ~4.2 million acts, and making each through
        ``LegalAct``'s checks and filing it for encoding too (``keys``, a hash of the act) was 2-3% of
        its process's samples (``benchmarks/RESULTS.md`` section 47). A stored act passed those checks
        when it was recorded, and its row still hashes to its key unless edited (``chain.verify``
        says so); an act written again is filed for encoding when it is (``key_for``)."""
        self._make_room()
        act = _NEW(LegalAct)
        _SET(act, "__dict__", {"number": number, "issuer": issuer, "signed_on": stored_day(signed_on)})
        self.by_key[key] = act

    def _start_again(self) -> None:
        self.by_key.clear()
        self.keys.clear()

    def prefetch(self, states: Iterable[bytes], stream: ActStream | None = None) -> int:
        """Load, in bulk, the acts that the stored event states cite and the cache lacks; returns how many.

        With a ``stream`` (a rebuild reading the log forwards), as many acts as are wanted are first
        read from it, the next ones in stored order, and only those it did not give are looked up
        by key (``ActStream`` says why)."""
        if self.bulk_loader is None:
            return 0
        cited = {m.decode() for state in states for m in _REFERENCE.findall(state)}
        # by look-up, not ``cited - self.by_key.keys()``: a set minus a dict's keys view copies every
        # key cached first (up to MAX_CACHED) at every call (RESULTS section 59)
        wanted = {key for key in cited if key not in self.by_key}
        ahead = 0 if stream is None else stream.ahead(len(wanted))
        if len(self.by_key) + len(wanted) + ahead > MAX_CACHED:
            # start again before the read (and read every act cited), not in the middle of it: that
            # dropped acts just read or held, and each was then read again on its own as its event
            # was decoded (~1.4% of a national rebuild's samples on PostgreSQL, RESULTS.md section 29)
            self._start_again()
            wanted = cited
            ahead = 0 if stream is None else stream.ahead(len(wanted))
        if len(wanted) > MAX_CACHED // 2:
            return 0  # more than the cache holds: leave them to be read one by one
        missing: Iterable[str] = wanted
        if stream is not None and wanted:  # (at most ``ahead`` more: the check above left room for them)
            for row in stream.next_rows(ahead):
                self._cache_read(*row)
            missing = [key for key in wanted if key not in self.by_key]
            stream.looked_up += len(missing)
        for key, number, issuer, signed_on in self.bulk_loader(sorted(missing)):
            self._cache_read(key, number, issuer, signed_on)
        return len(wanted)

    def read_missing(self, states: Iterable[bytes]) -> list[tuple[str, str, str, str]]:
        """(key, number, issuer, signed_on) of the acts the stored event states cite and the cache
        lacks, read but not remembered: safe on another thread (``projections.readahead``), whose
        rows the decoding thread then gives to ``remember_rows``."""
        if self.bulk_loader is None:
            return []
        cited = {m.decode() for state in states for m in _REFERENCE.findall(state)}
        wanted = sorted(key for key in cited if key not in self.by_key)  # (one look-up each: no iteration
        # over a cache the decoding thread may be changing)
        return [] if len(wanted) > MAX_CACHED // 2 else list(self.bulk_loader(wanted))

    def remember_rows(self, rows: list[tuple[str, str, str, str]]) -> bool:
        """Cache the acts ``read_missing`` read (starting again first where they would not fit, as
        ``prefetch`` does, so none of them is dropped as soon as it is remembered); returns whether
        the cache started again (the acts cached before are gone: the caller fetches those it needs)."""
        again = len(self.by_key) + len(rows) > MAX_CACHED
        if again:
            self._start_again()
        for key, number, issuer, signed_on in rows:
            self._cache_read(key, number, issuer, signed_on)
        return again

    def key_for(self, act: LegalAct) -> str:
        key = self.keys.get(act)
        if key is None:
            key = act_key(act.number, act.issuer, act.signed_on.isoformat())
            self._remember(key, act)
        pending: dict[str, LegalAct] = getattr(self._pending, "acts", None) or {}
        pending[key] = act
        self._pending.acts = pending
        return key

    def take_pending(self) -> list[tuple[str, str, str, str]]:
        """(key, number, issuer, signed_on) of the acts encoded in this thread since the last take."""
        pending: dict[str, LegalAct] = getattr(self._pending, "acts", None) or {}
        self._pending.acts = {}
        return [(k, a.number, a.issuer, a.signed_on.isoformat()) for k, a in pending.items()]

    def act(self, key: str) -> LegalAct:
        found = self.by_key.get(key)
        if found is None:
            row = self.loader(key) if self.loader else None
            if row is None:
                raise LookupError(f"the legal act {key} is not in {ACTS_TABLE}")
            found = LegalAct(row[0], row[1], date.fromisoformat(row[2]))
            self._remember(key, found)
        return found


class ActStream:
    """The acts table read forwards in the order its rows were stored, for a rebuild (issue 9).

    Why: a generated national history cites ~4.1 million acts, nearly one per command, and a rebuild
    decodes them in log order. Looked up by key, each act is two random descents of a large file
    (the key's index, then the row): ~10 µs an act, 6.9% of the main thread of the whole national
    rebuild on SQLite (``benchmarks/RESULTS.md`` section 53). But the recorder stores the acts the
    events cite in the events' own transaction (``ActStore.take_pending``), so the table's stored
    order is the log's order of first citation: the acts a batch lacks are, nearly all, the next
    rows after those the previous batch lacked, read in one forward range.

    Only ever a faster way to the same rows: acts are content-addressed and never change, anything
    the stream did not give (an act cited again after the cache started over, one cited out of its
    stored order) is looked up by key as before, and ``looked_up`` counts those. ``loader(after,
    limit)``: (row id, key, number, issuer, signed_on) of the next ``limit`` rows after row id
    ``after``, in stored order (``chain.act_stream``)."""

    #: rows read beyond the acts wanted: one, and a share of them (1/SLACK), so a stream that fell
    #: behind (an act stored but never cited by anything a read model needs) catches up instead of
    #: staying behind, each act after it then looked up by key
    SLACK = 32

    def __init__(self, loader: Callable[[int, int], Iterable[tuple[int, str, str, str, str]]]) -> None:
        self.loader = loader
        self.after = 0
        self.read = 0
        self.looked_up = 0

    def ahead(self, wanted: int) -> int:
        """How many rows to read for ``wanted`` acts lacking."""
        return wanted + wanted // self.SLACK + 1 if wanted else 0

    def next_rows(self, limit: int) -> list[tuple[str, str, str, str]]:
        """(key, number, issuer, signed_on) of the next ``limit`` acts stored (fewer at the table's end)."""
        rows = list(self.loader(self.after, limit)) if limit > 0 else []
        if rows:
            self.after = rows[-1][0]
            self.read += len(rows)
        return [(key, number, issuer, signed_on) for _, key, number, issuer, signed_on in rows]


class LegalActByReference(Transcoding):
    type = LegalAct
    name = "legal_act_ref"

    def __init__(self, acts: ActStore) -> None:
        self.acts = acts

    def encode(self, obj: LegalAct) -> str:
        return self.acts.key_for(obj)

    def decode(self, data: str) -> LegalAct:
        return self.acts.act(data)


def altered(rows: Iterable[Any]) -> str | None:
    """The first key among (key, number, issuer, signed_on) rows whose content no longer hashes to it."""
    for key, number, issuer, signed_on in rows:
        if act_key(number, issuer, str(signed_on)) != key:
            return str(key)
    return None
