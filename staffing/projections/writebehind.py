"""Make one batch's writes on a thread while the next batch is read and decoded (a rebuild, issue 9).

Why: on PostgreSQL a national rebuild's process waits on the server about half its time, most of it
in the batch's writes (COPY of its rows, the closings of rows it ended, its commit: ~35% of the
yearly flow, ``benchmarks/RESULTS.md`` section 36), while decoding the next window needs nothing
from the database. A driver waiting on its socket releases the interpreter's lock, so the server
writes one batch while the process decodes the next.

Sound because the two never share anything: the thread alone uses the target connection and the
series the batch wrote, from the moment its writes are handed over until ``settle`` returns, and
the projector calls ``settle`` (its ``ready``) before it touches either again (``Projector.apply_next``).
Each batch still commits with its tracking row, in log order, one at a time: the target holds a
consistent prefix of the log whenever a batch has committed. A failed write is raised by the next
``settle``; ``close`` waits for a write under way (the connection is not closed under it) without
raising its error over the one that is already being raised.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["WriteBehind"]


class WriteBehind:
    """At most one batch's writes under way, on one thread."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="staffing-write-behind")
        self._pending: Future[None] | None = None

    def submit(self, writes: Callable[[], None]) -> None:
        """Start ``writes`` once the writes before them are made."""
        self.settle()
        self._pending = self._pool.submit(writes)

    def settle(self) -> None:
        """Wait until the writes under way are made; raise their error, if any."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def close(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.exception()  # waited for, not raised (see the module's docstring)
        self._pool.shutdown(wait=True)
