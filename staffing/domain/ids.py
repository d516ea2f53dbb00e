"""Ids that sort in the order they were made (RFC 9562's version 7 layout).

Why: the event store's index of events by aggregate and version is a B-tree keyed by the aggregate's
id first. A random id (version 4) lands each new aggregate on a random leaf of that index, so a
transaction creating hundreds of aggregates dirties hundreds of leaves scattered over a file of
gigabytes, and SQLite writes each of them to its log and again to the file (~19 bytes written per
byte stored on the national import, benchmarks/RESULTS.md section 56). Ids that grow with time
append at the index's right edge, where one transaction's new entries share a few leaves (section
58 measures both).

``uuid7`` mints such ids for what the service creates without a client's choice; clients that load
in bulk are advised to mint theirs the same way (the generator does). ``sequenced`` makes an id
whose leading bits are a given sequence number, for records whose id must derive from a key (an
import's request records, keyed by their line)."""

from __future__ import annotations

import os
import threading
import time
from uuid import UUID

__all__ = ["sequenced", "uuid7"]

_VERSION_7 = 7 << 76
_VARIANT = 2 << 62
_lock = threading.Lock()
_last = 0  # the last (milliseconds << 12 | counter) handed out, so ids made in one millisecond still increase


def uuid7() -> UUID:
    """A new random id whose first 48 bits are the Unix time in milliseconds and next 12 a counter
    within that millisecond (RFC 9562, section 6.2, method 1): ids made by one process increase."""
    global _last
    with _lock:
        stamp = max(time.time_ns() // 1_000_000 << 12, _last + 1)
        _last = stamp
    return UUID(int=(stamp >> 12) << 80 | _VERSION_7 | (stamp & 0xFFF) << 64 | _VARIANT
                | int.from_bytes(os.urandom(8), "big") >> 2)


def sequenced(sequence: int, tail: int) -> UUID:
    """An id whose first 48 bits are ``sequence`` and whose last 74 bits are ``tail``'s, laid out as a
    version 7 id: ids of increasing sequence numbers sort in that order."""
    if not 0 <= sequence < 1 << 48:
        raise ValueError(f"sequence {sequence} is outside 0 … 2**48 - 1")
    return UUID(int=sequence << 80 | _VERSION_7 | (tail >> 64 & 0xFFF) << 64 | _VARIANT | tail & ((1 << 62) - 1))
