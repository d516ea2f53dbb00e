"""Read the event log ahead of a rebuild: the next window's entries, and the acts they cite, are
read on a thread while the current window is applied (issue 9).

Why: on PostgreSQL a national rebuild's process waits on the server about half its time, and a
sixth of its setup waits on reading the log and the legal acts its events cite
(``benchmarks/RESULTS.md`` section 36). Those reads depend on nothing the rebuild writes (stored
entries and acts never change), so they can run while the process decodes and applies the
window before: a driver waiting on its socket, or SQLite stepping through pages, releases the
interpreter's lock. The read starts as soon as the window before it is handed out — the whole
apply, not only the commit, overlaps it (an earlier reader, started after each batch and decoding
on its thread, overlapped little and competed for the lock: 0.98x, section 34). Only a PostgreSQL
rebuild runs it (``rebuild.OVERLAPS``): SQLite's reads are the process's own work, so on SQLite the
thread only takes turns with the process (measured slower, section 37).

What is read ahead is only a warm cache: ``entries(start, limit)`` gives exactly what
``select_entries(recorder, start, limit)`` gives when asked then. Stored entries never change, so a
window read ahead is that answer; where a read ahead found the end of the log, the end is read
again (entries may have been appended since). The acts every entry handed out cites (those read
ahead and those read when asked) are in the store's cache when it is handed out
(``ActStore.remember_rows``; where the bounded cache starts again, the acts of the entries still
held are read again), so the projector decodes a window read here without looking for its acts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from staffing.persistence import select_entries

__all__ = ["ReadAhead"]

_Read = tuple[list[Any], list[tuple[str, str, str, str]]]


class ReadAhead:
    """A window of ``size`` entries read ahead of the one handed out; ``close()`` when done."""

    def __init__(self, store: Any, size: int, wanted: Callable[[str], bool] | None = None) -> None:
        """``wanted(topic)``: whether entries of ``topic`` are decoded (only their acts are read ahead)."""
        self.store = store
        self.size = size
        self.wanted = wanted or (lambda _topic: True)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="staffing-read-ahead")
        self._next = 0  # the position the buffer begins at (0: nothing read yet)
        self._buffer: list[Any] = []  # entries read, from ``_next`` on
        self._pending: tuple[int, Future[_Read]] | None = None  # (start, the read under way)

    def entries(self, start: int, limit: int) -> Sequence[Any]:
        """The log's entries from ``start`` on, at most ``limit`` (``select_entries``'s answer)."""
        if start != self._next:  # not where the last window ended: nothing read ahead is of use
            self._drop()
            self._next = start
        found_end = False
        while len(self._buffer) < limit and not found_end:
            read, acts = self._take() if self._pending and self._pending[0] == self._read_from() else ([], [])
            if not read:  # (a read ahead that found the end is not trusted: the log may have grown since)
                read, acts = self._read_with_acts(self._read_from(), max(self.size, limit - len(self._buffer)))
            self._buffer += read
            self._remember(acts)
            found_end = not read
        given, self._buffer = self._buffer[:limit], self._buffer[limit:]
        if given:
            self._next = given[-1].id + 1
        if not found_end and self._pending is None:
            self._pending = (self._read_from(), self._pool.submit(self._read_with_acts, self._read_from(), self.size))
        return given

    def close(self) -> None:
        self._drop()
        self._pool.shutdown(wait=True)

    def _read_from(self) -> int:
        return self._buffer[-1].id + 1 if self._buffer else self._next

    def _take(self) -> _Read:
        assert self._pending is not None
        future, self._pending = self._pending[1], None
        return future.result()

    def _remember(self, rows: list[tuple[str, str, str, str]]) -> None:
        """Cache the acts read; where the cache had to start again for them, the acts of the other
        entries held are read again (they were cached, and are needed when those are decoded)."""
        acts = getattr(self.store, "acts", None)
        if acts is not None and rows and acts.remember_rows(rows):
            acts.prefetch(e.state for e in self._buffer if self.wanted(e.topic))

    def _drop(self) -> None:
        if self._pending is not None:
            future, self._pending = self._pending[1], None
            future.exception()  # waited for, not raised: nothing is handed out from it (and a
            # rebuild that fails meanwhile raises its own error, not this one)
        self._buffer = []

    def _read(self, start: int, limit: int) -> list[Any]:
        return list(select_entries(self.store.recorder, start, limit))

    def _read_with_acts(self, start: int, limit: int) -> _Read:
        """On the thread: the entries, and the acts they cite that the cache lacks."""
        entries = self._read(start, limit)
        acts = getattr(self.store, "acts", None)
        if acts is None:
            return entries, []
        return entries, acts.read_missing(e.state for e in entries if self.wanted(e.topic))
