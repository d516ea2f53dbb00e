"""An import's transaction committed on a thread while it decides the next one (issue 9: bulk import).

A national import on SQLite spent a fifth of its time in the event store's commits: each of its
transactions dirties thousands of random pages of the library's index of events by aggregate, and
the library's durability (``synchronous=FULL``) writes them to the write-ahead log, syncs it, and
checkpoints them into the file. SQLite does all of that without Python's interpreter lock, so the
import hands the commit to a thread (``write``) and goes on parsing and deciding its next lines on
the other core.

What keeps it exact:

- **One commit in flight, in order.** ``write`` (the next transaction) and ``settle`` wait for the
  commit in flight first; its failure is raised there as ``CommitFailed``, before anything else is
  written, so a transaction decided on top of one that did not commit is never recorded (the import
  stops; running the same file again resumes after what did commit).
- **Nothing decided on stale state.** A read from the store of an aggregate the transaction in
  flight wrote waits for its commit first (``wait_for``; the caller mostly finds those in its own
  map, ``Warm``, and never asks). The check that nobody else wrote in between moves into the write:
  the next transaction's first event must follow the last one of our own (``expect_head``); if
  another writer recorded anything meanwhile, the write is rolled back and ``HeadMoved`` (an
  ``IntegrityError``) sends the caller back to decide it again from fresh state, as any
  concurrency conflict does.
- **Snapshots after their events.** Snapshots are a cache written once their events are committed;
  those due from a transaction still committing run when it has (``after_commit``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteConnection, SQLiteTransaction

__all__ = ["CommitBehind", "CommitFailed", "HeadMoved"]


class HeadMoved(IntegrityError):
    """Another writer recorded events after our own last transaction: decide again from fresh state."""


class CommitFailed(RuntimeError):
    """A transaction handed to the commit thread did not commit (nothing after it was written)."""


class _LeftOpen(SQLiteTransaction):
    """The library's transaction (``BEGIN``; on an error: rollback and the library's error type), left
    open when its block succeeds, for the commit thread to finish."""

    def __exit__(self, exc_type: type[BaseException] | None, exc_val: BaseException | None,
                 exc_tb: TracebackType | None) -> None:
        if exc_val is not None:
            super().__exit__(exc_type, exc_val, exc_tb)


class CommitBehind:
    """Transactions of one SQLite recorder whose commits run on a thread, one at a time."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self._thread: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None
        self._after: list[Callable[[], None]] = []
        self._in_flight: set[Any] = set()  # the aggregates the transaction in flight wrote

    @property
    def pending(self) -> bool:
        return self._pending is not None

    def write(self, stored_events: Sequence[StoredEvent], expect_head: int | None) -> list[int]:
        """Insert ``stored_events`` in a new transaction (the recorder's own insert, chain included) and
        hand its commit to the thread; their log positions. ``expect_head``: the position our own last
        transaction ended at, which the first new event must follow (None: not checked)."""
        self.settle()
        pool = self.recorder.datastore.pool
        connection: SQLiteConnection = pool.get_connection(is_writer=True)
        try:
            with _LeftOpen(connection, commit=True) as cursor:
                ids = list(self.recorder._insert_events(cursor, stored_events) or ())
                if expect_head is not None and ids and ids[0] != expect_head + 1:
                    raise HeadMoved(f"the log's head moved from {expect_head} to {ids[0] - 1} since our last commit")
        except BaseException:
            pool.put_connection(connection)
            raise
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="store-commit")
        self._in_flight = {stored.originator_id for stored in stored_events}
        self._pending = self._thread.submit(self._commit, connection)
        return ids

    def wait_for(self, aggregate_ids: Iterable[Any]) -> None:
        """Settle first if the transaction in flight wrote any of ``aggregate_ids`` (about to be read)."""
        if self._pending is not None and not self._in_flight.isdisjoint(aggregate_ids):
            self.settle()

    def _commit(self, connection: SQLiteConnection) -> None:
        try:
            SQLiteTransaction(connection, commit=True).__exit__(None, None, None)  # the library's commit
        except BaseException:
            connection.rollback()
            raise
        finally:
            self.recorder.datastore.pool.put_connection(connection)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the transaction in flight has committed (now, if none is)."""
        if self._pending is None:
            action()
        else:
            self._after.append(action)

    def settle(self) -> None:
        """Wait for the commit in flight; raise ``CommitFailed`` if it failed, else run what waited for it."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        actions, self._after, self._in_flight = self._after, [], set()
        try:
            pending.result()
        except Exception as failure:
            raise CommitFailed("the import's previous transaction failed to commit, and nothing after it was "
                               f"written ({failure}); run the same file again to resume after what was "
                               "recorded") from failure
        for action in actions:
            action()

    def close(self) -> None:
        """Settle and stop the thread."""
        try:
            self.settle()
        finally:
            if self._thread is not None:
                self._thread.shutdown()
                self._thread = None
