"""An import's transactions written and committed by a child process while it decides the next one
(issue 9: bulk import, SQLite).

Why: committing on a thread (``commit_behind``) took the commit off the import, but not the insert:
the driver's ``executemany`` of each transaction's events and links stayed on the import's own
thread (~12% of its samples on a year of the national flow, ``benchmarks/RESULTS.md`` section 62),
and a thread cannot take it off, because the driver holds the interpreter's lock while it binds each
row and gives it up only around each row's step (section 37: threads measured 0.93x). A child
process (``store_writer``) has an interpreter of its own on the machine's other core: the rows cross
a pipe pickled, and it inserts them, chains them and commits them with the recorder's own code
(``ChainedSQLiteRecorder._insert_events``) and the library's durability.

The contract is ``CommitBehind``'s (the same methods; ``EventStore.behind`` is either):

- **One transaction in flight, in order.** ``write`` and ``settle`` first wait for the answer to the
  one in flight; its failure is raised there as ``CommitFailed`` before anything else is written,
  and the child writes nothing after a failure (a transaction decided on top of one that did not
  commit is never recorded; the import stops, and running the same file again resumes).
- **Positions known before the commit.** The caller is told its events' log positions at once:
  the log's head, read when nothing of ours is in flight, plus one onwards; the child checks, inside
  its transaction, that the first event gets exactly that position (``HeadMoved`` otherwise).
- **Nobody else wrote.** ``expect_head`` (the end of our own last transaction) is checked against the
  head before the transaction is sent: another writer in between raises ``HeadMoved`` at once, and
  the caller decides the transaction again from fresh state, as with the thread. A write that lands
  in the instant between that look and the child's transaction is caught by the child instead, and
  surfaces as ``CommitFailed`` (the import stops; nothing of it after the previous commit is kept).
- **Nothing decided on stale state; snapshots after their events**: as ``CommitBehind`` (``wait_for``,
  ``after_commit``).

Where the store has no file a child could open (an in-memory SQLite), the thread commits instead
(``for_recorder``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from staffing.chain import _pending_acts
from staffing.commit_behind import CommitBehind, CommitFailed, HeadMoved
from staffing.projections import sqlite_writer

__all__ = ["WRITER", "CommitProcess", "for_recorder"]

#: who commits an import's transactions on SQLite: "process" (a child process, ``CommitProcess``) or
#: "thread" (``CommitBehind``, as before section 62; a benchmark setting)
WRITER = "process"
#: how long closing waits for the child to end once its input is closed
_END_TIMEOUT = 60.0


def for_recorder(recorder: Any) -> CommitBehind | CommitProcess:
    """The committer ``WRITER`` names for a SQLite ``recorder`` (the thread where there is no file)."""
    pool = recorder.datastore.pool
    if WRITER == "thread" or pool.is_sqlite_memory_mode:
        return CommitBehind(recorder)
    return CommitProcess(recorder, pool.db_name)


class CommitProcess:
    """Transactions of one SQLite recorder inserted and committed by a child process, one at a time."""

    def __init__(self, recorder: Any, path: str) -> None:
        self.recorder = recorder
        self.path = path
        self._child: subprocess.Popen[bytes] | None = None
        self._pending = False
        self._after: list[Callable[[], None]] = []
        self._in_flight: set[Any] = set()  # the aggregates the transaction in flight wrote
        self.written = 0  # transactions the child committed

    @property
    def pending(self) -> bool:
        return self._pending

    @property
    def pid(self) -> int | None:
        return None if self._child is None else self._child.pid

    def write(self, stored_events: Sequence[StoredEvent], expect_head: int | None) -> list[int]:
        """Hand ``stored_events`` to the child as one transaction (the acts they cite with them); their
        log positions. ``expect_head``: where our own last transaction left the log (None: not checked)."""
        self.settle()
        acts = _pending_acts(self.recorder)  # encoded on this thread, as the insert in place takes them
        if not stored_events:
            return []
        head = self.recorder.max_notification_id() or 0  # nothing of ours in flight: the committed head
        if expect_head is not None and head != expect_head:
            raise HeadMoved(f"the log's head moved from {expect_head} to {head} since our last commit")
        rows = [(s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                 s.originator_version, s.topic, s.state) for s in stored_events]
        self._send(sqlite_writer.frame((head, rows, acts)))
        self._pending = True
        self._in_flight = {stored.originator_id for stored in stored_events}
        return list(range(head + 1, head + 1 + len(rows)))

    def _send(self, data: bytes) -> None:
        """The frame, whole, into the child's input (the child is idle: nothing of ours is in flight)."""
        if self._child is None or self._child.poll() is not None:
            self._child = subprocess.Popen(self._command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        fd = self._child.stdin.fileno()  # type: ignore[union-attr]
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view):]
        except OSError:  # (a broken pipe: the child ended; its answer, read next, says so)
            pass

    def _command(self) -> list[str]:
        """The child's command line (``store_writer``)."""
        return [sys.executable, "-m", "staffing.store_writer", self.path, self.recorder.events_table_name]

    def wait_for(self, aggregate_ids: Iterable[Any]) -> None:
        """Settle first if the transaction in flight wrote any of ``aggregate_ids`` (about to be read)."""
        if self._pending and not self._in_flight.isdisjoint(aggregate_ids):
            self.settle()

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the transaction in flight has committed (now, if none is)."""
        if not self._pending:
            action()
        else:
            self._after.append(action)

    def settle(self) -> None:
        """Wait for the child's answer; raise ``CommitFailed`` if the transaction did not commit, else run
        what waited for it."""
        if not self._pending:
            return
        self._pending = False
        actions, self._after, self._in_flight = self._after, [], set()
        failure = self._answer()
        if failure is not None:
            self._stop()  # it writes nothing more; the next write starts a new child
            raise CommitFailed("the import's previous transaction failed to commit, and nothing after it was "
                               f"written ({failure}); run the same file again to resume after what was "
                               "recorded") from failure
        self.written += 1
        for action in actions:
            action()

    def _answer(self) -> BaseException | None:
        child: Any = self._child
        status = sqlite_writer.read_exactly(child.stdout, 1)
        if status == sqlite_writer.OK:
            return None
        if status == sqlite_writer.FAILED:
            error = sqlite_writer.read_frame(child.stdout)
            if error is not sqlite_writer.END:
                return error
        return RuntimeError(f"the store's writer process (pid {child.pid}) ended with exit code {child.wait()} "
                            "before it answered")

    def _stop(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        with contextlib.suppress(OSError):
            child.stdin.close()  # type: ignore[union-attr]
        try:
            child.wait(timeout=_END_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        finally:
            child.stdout.close()  # type: ignore[union-attr]

    def close(self) -> None:
        """Settle and end the child."""
        try:
            self.settle()
        finally:
            self._stop()
