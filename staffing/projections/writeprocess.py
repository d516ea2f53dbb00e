"""A SQLite rebuild's writes made by a child process while the process goes on computing (issue 9).

Why: on SQLite the database's work is the process's own. In a province rebuild the driver's
``executemany`` of the batches' rows was 28% of the process's samples (py-spy, ``benchmarks/
RESULTS.md`` section 51), and a thread cannot take it off the process: the driver holds the
interpreter's lock while it binds each row and gives it up only around each row's step, so the
thread and the process took turns (section 37: 0.93x). A child process has an interpreter of its
own, on the machine's other core: the rows cross a pipe pickled (~1.4 µs a row, against ~3.6 µs to
bind and insert them), and a thread of the process feeds the pipe, so the process never waits on
it while the child catches up.

The contract is ``writebehind``'s, as the rebuild sees it. ``written_by_process(conn)`` gives
``conn`` a ``ProcessQueue``; while it has one, ``bulk.insert_tuples``, ``insert_rows``,
``close_rows`` and ``update_rows`` queue their statement for the child instead of running it, and
the child makes them in order, each committed on its own (``sqlite_writer``: so the file's lock is
never held across messages, which a read-back mid-batch would otherwise wait on for good). Anything
else about to use ``conn`` waits until the child has made and committed every write queued (a commit
queued and every commit's answer read, through a second pipe): every statement SQLAlchemy executes
on it (an index, the log's clock, the roll-up's few reads). So every read on ``conn`` sees every
write queued before it. A commit on ``conn`` (the batch's end: the child answers it) is queued
behind the writes once the one before it is answered, without waiting for its own
(``writebehind.commit_behind``'s contract, which SQLite's own driver cannot give a thread: the
batch's writes, its tracking row and its commit go to the child together): so a second connection,
on which the rebuild reads forgotten series back (``rebuild._reading_back``), sees every batch but
the last. ``conn`` itself begins no transaction meanwhile (``db.NO_BEGIN``): its reads see what the
child committed, and it never holds the file's write lock the child needs. A write that fails is
raised where the queue is next waited for; the writes queued after it are not made. On any failure
the target is left part-written, which a rebuild's target may be (``rebuild._unjournalled``: it is
disposable until swapped in).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from queue import SimpleQueue
from typing import Any

from sqlalchemy import Connection

from staffing.projections import sqlite_writer
from staffing.projections.db import NO_BEGIN
from staffing.projections.writebehind import attached

__all__ = ["ProcessQueue", "WriterEnded", "file_of", "written_by_process"]

_COMMIT = sqlite_writer.frame(("commit",))
#: the child's page cache in KiB (``sqlite_writer.CACHE_KIB``; a test makes it small, so that every
#: write spills into the file mid-transaction as a national batch's do)
CHILD_CACHE_KIB = sqlite_writer.CACHE_KIB
#: how long the block's end waits for the child to end, after its last answer
_END_TIMEOUT = 60.0


class WriterEnded(RuntimeError):
    """The child process ended before it answered (killed, or out of memory)."""


def file_of(conn: Connection) -> str | None:
    """The SQLite file ``conn`` is connected to; None for an in-memory database (no child can open it)."""
    database = conn.engine.url.database
    return None if not database or database == ":memory:" or database.startswith("file:") else database


class ProcessQueue:
    """Statements made one after another, in the order queued, by a child process (``sqlite_writer``)."""

    #: ``bulk`` queues statements and their rows here (``put_rows``), not callables as on ``WriteQueue``
    statements = True

    def __init__(self, path: str, cache_kib: int = sqlite_writer.CACHE_KIB) -> None:
        self._child = subprocess.Popen([sys.executable, str(Path(sqlite_writer.__file__)), path, str(cache_kib)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self._frames: SimpleQueue[bytes | None] = SimpleQueue()
        self._feeder = threading.Thread(target=self._feed, name="staffing-write-process", daemon=True)
        self._feeder.start()
        self._unsynced = False  # something was queued since the last commit
        self._due = 0  # commits queued whose answers are not read yet
        self._failed: BaseException | None = None

    @property
    def pid(self) -> int:
        return self._child.pid

    def put_rows(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Queue an executemany of ``statement`` over ``rows``."""
        self._frames.put(sqlite_writer.frame(("rows", statement, rows)))
        self._unsynced = True

    def put(self, write: Callable[[], object]) -> None:
        raise TypeError("the SQLite writer process makes statements (put_rows), not callables")

    def commit(self) -> None:
        """Queue a commit behind the writes queued, once the commit queued before it is made: at most
        one commit behind, as ``WriteQueue.commit``, so a read on another connection sees every batch
        but the last (``SeriesBatch.read_back_on``). A failure is kept for ``settle``."""
        self._collect()
        self._queue_commit()

    def settle(self) -> None:
        """Wait until every write queued is made and committed; raise the first that failed."""
        self.wait()
        if self._failed is not None:
            raise self._failed

    def wait(self) -> None:
        """Wait until every write queued is made and committed (or skipped after a failure), raising
        nothing: a failure is kept for ``settle``."""
        if self._unsynced:
            self._queue_commit()
        self._collect()

    def _queue_commit(self) -> None:
        self._frames.put(_COMMIT)
        self._due += 1
        self._unsynced = False

    def _collect(self) -> None:
        """Read the answers of every commit queued (the first failure kept)."""
        while self._due:
            answer = self._answer()
            self._due -= 1
            if answer is not None and self._failed is None:
                self._failed = answer
            if isinstance(answer, WriterEnded):
                self._due = 0

    def _answer(self) -> BaseException | None:
        stdout: Any = self._child.stdout
        status = sqlite_writer.read_exactly(stdout, 1)
        if status == sqlite_writer.OK:
            return None
        if status == sqlite_writer.FAILED:
            error = sqlite_writer.read_frame(stdout)
            if error is not sqlite_writer.END:
                return error
        code = self._child.wait()
        return WriterEnded(f"the SQLite writer process (pid {self._child.pid}) ended with exit code {code} before "
                           "it answered; the rebuild's target is incomplete: rebuild again into a fresh one")

    def _feed(self) -> None:
        """The feeding thread: each frame queued, whole, into the child's input (a write to a pipe may
        be partial); at the end its input closed. Once the child has gone, frames are dropped (the
        next answer read finds it gone)."""
        fd = self._child.stdin.fileno()  # type: ignore[union-attr]
        gone = False
        while (data := self._frames.get()) is not None:
            if not gone:
                try:
                    self._send(fd, data)
                except OSError:  # (a broken pipe: the child ended)
                    gone = True
        with contextlib.suppress(OSError):
            self._child.stdin.close()  # type: ignore[union-attr]

    @staticmethod
    def _send(fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]

    def close(self) -> None:
        """End the child (its input closed: anything not committed is left) and wait for it."""
        self._frames.put(None)
        self._feeder.join()
        try:
            self._child.wait(timeout=_END_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()
        finally:
            self._child.stdout.close()  # type: ignore[union-attr]


@contextmanager
def written_by_process(conn: Connection) -> Iterator[ProcessQueue]:
    """``conn``'s bulk writes made by a child process inside the block (see the module's docstring);
    the block's end waits for them and raises the first that failed."""
    path = file_of(conn)
    if path is None:
        raise ValueError("a writer process opens the SQLite file: an in-memory database has none")
    if conn.in_transaction():  # (its lock would keep the child from writing)
        conn.commit()
    queue = ProcessQueue(path, CHILD_CACHE_KIB)
    with attached(conn, queue, on_commit=queue.commit, flags=(NO_BEGIN,)):
        yield queue
        queue.settle()
