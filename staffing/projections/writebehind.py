"""Send a rebuild's writes to the database on a thread while the process goes on computing (issue 9).

Why: on PostgreSQL a national rebuild's process waited on the server about half its time, most of
it on the batches' writes (COPY of their rows, the closings of the rows they end: ~35% of the
yearly flow, ``benchmarks/RESULTS.md`` section 36). Those writes return nothing the process needs,
so it need not wait for them: each is queued and made on a thread, in order, while the process
computes the rest of the batch and reads and decodes the next window. A driver waiting on its
socket, or SQLite writing its pages, releases the interpreter's lock. (Making the whole batch's
writing — its Python work too — on a thread overlapped little: the two Python halves took turns on
the interpreter's lock and the server's part was left alone at the end; measured nationally,
section 37.) Only a PostgreSQL rebuild queues its writes (``rebuild.OVERLAPS``): SQLite's writes are
the process's own work, which the thread only takes turns with (measured slower, section 37).

``queued_writes(conn)`` gives ``conn`` a ``WriteQueue``; while it has one, ``bulk.insert_tuples``,
``insert_rows``, ``close_rows``, ``update_rows`` and ``refresh_statistics(behind=True)`` queue their
statement (made on the driver's connection only: the thread never touches SQLAlchemy's connection
object) instead of running it. Anything else that is about to use the connection waits until the
queue is empty first: every statement SQLAlchemy executes on it (a read-back, an index), a commit
or rollback (engine events on ``conn``), ``bulk.driver_cursor`` and ``bulk.refresh_statistics``.
So every read sees every write queued before it, and each commit holds exactly the writes queued
before it, as if they had been made on the spot. A write that fails is raised where the queue is
next waited for; the writes queued after it are not made. The queue is removed (and waited for,
without raising over an error already raised) when the block ends.

``commit_behind(conn)`` queues the commit itself (after the batch's writes and its tracking row,
queued with them): the process then goes on into the next batch at once, and waits only where it
reads (a read-back of a forgotten series sees every write queued before it, committed or not: the
same transaction's or an earlier one's) or where the commit queued before is not yet made — so the
server is at most one batch behind and the rows held in the queue stay bounded. SQLAlchemy's own
transaction stays open across the commits made this way (the driver begins the next one itself):
its own commit or rollback after the block ends settles the last. PostgreSQL only: psycopg begins
the next transaction with the next statement, where SQLite's driver, left to the ledger's own
``BEGIN`` (``projections.db``), would commit each later write on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event

from staffing.projections.bulk import QUEUE_KEY, begun

__all__ = ["WriteQueue", "attached", "commit_behind", "queued_writes"]


class WriteQueue:
    """Writes made one after another, in the order queued, on one thread."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="staffing-write-behind")
        self._queued: list[Future[None]] = []
        self._failed: BaseException | None = None
        self._thread: int | None = None
        self._committing: Future[None] | None = None

    def put(self, write: Callable[[], object]) -> None:
        self._queued.append(self._pool.submit(self._make, write))

    def commit(self, driver_connection: Any) -> None:
        """Queue ``driver_connection``'s commit after the writes queued, once the commit queued
        before it is made (at most one commit behind)."""
        if self._committing is not None:
            self._committing.exception()  # (a failure is raised where the queue is next settled)
        self.put(driver_connection.commit)
        self._committing = self._queued[-1]

    def _make(self, write: Callable[[], object]) -> None:
        self._thread = threading.get_ident()
        if self._failed is None:  # (after a failure the transaction is lost: nothing more is sent)
            try:
                write()
            except BaseException as error:
                self._failed = error
                raise

    def settle(self) -> None:
        """Wait until every write queued is made; raise the first that failed."""
        if threading.get_ident() == self._thread:
            return  # (a write's own statement: it runs in order already)
        self.wait()
        if self._failed is not None:
            raise self._failed

    def wait(self) -> None:
        """Wait until every write queued is made (or skipped), raising nothing."""
        queued, self._queued = self._queued, []
        for future in queued:
            future.exception()

    def close(self) -> None:
        self.wait()  # (not raised: see the module's docstring)
        self._pool.shutdown(wait=True)


def commit_behind(conn: Connection) -> None:
    """Queue the commit of ``conn``'s transaction behind the writes queued on it (see the module's
    docstring); the driver begins the next transaction with the next write."""
    if conn.dialect.name != "postgresql":
        raise ValueError("a commit behind the writes is PostgreSQL's (see staffing.projections.writebehind)")
    queue: WriteQueue = conn.info[QUEUE_KEY]
    queue.commit(begun(conn))


@contextmanager
def queued_writes(conn: Connection) -> Iterator[WriteQueue]:
    """``conn``'s bulk writes queued on a thread inside the block (see the module's docstring)."""
    queue = WriteQueue()
    with attached(conn, queue, on_commit=queue.settle):
        yield queue


@contextmanager
def attached(conn: Connection, queue: Any, on_commit: Callable[[], None], flags: Iterable[str] = ()) -> Iterator[None]:
    """``queue`` made ``conn``'s write queue inside the block (``bulk`` queues on it): every statement
    SQLAlchemy executes on ``conn`` first waits for it (``queue.settle``), a commit calls
    ``on_commit``, a rollback waits without raising (whatever failed is being raised already);
    ``flags`` set in ``conn.info`` meanwhile. The queue is closed when the block ends."""
    hooks: tuple[tuple[str, Callable[..., None]], ...] = (
        ("before_cursor_execute", lambda *_: queue.settle()), ("commit", lambda *_: on_commit()),
        ("rollback", lambda *_: queue.wait()))
    conn.info[QUEUE_KEY] = queue
    for flag in flags:
        conn.info[flag] = True
    for name, hook in hooks:
        event.listen(conn, name, hook)
    try:
        yield
    finally:
        for name, hook in hooks:
            event.remove(conn, name, hook)
        for key in (QUEUE_KEY, *flags):
            conn.info.pop(key, None)
        queue.close()
