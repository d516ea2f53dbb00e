"""A SQLite rebuild's bulk writes made by a child process (``projections.writeprocess``, issue 9):
every statement on the connection waits until the child has made and committed the writes queued
before it, so reads see them; a commit is queued without waiting; a failed write, or a child that
died, is raised where the queue is next synced and nothing after it is made; the connection holds
no transaction meanwhile and is itself again after the block; the child ends with the block."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from staffing.bootstrap import build, migrate
from staffing.projections import bulk, writeprocess
from staffing.projections import rebuild as rebuild_module
from staffing.projections import tables as t
from staffing.projections.bulk import close_rows, insert_tuples, update_rows
from staffing.projections.db import ViewEngines, make_engines
from staffing.projections.projector import PROJECTION_NAME
from staffing.projections.tables import END_OF_TIME, OPEN_POSITION, unit_roots
from staffing.projections.writeprocess import WriterEnded, written_by_process
from tests.projections.history import generate_history
from tests.projections.test_rebuild import contents
from tests.support import FakeClock, settings_for

COLUMNS = ("row_id", "unit_id", "root_id", "valid_from", "valid_to", "rec_from", "rec_to")


def _rows(first: int, n: int) -> list[tuple[Any, ...]]:
    return [(first + i, f"u{i}", "root", date(2020, 1, 1), END_OF_TIME, 5, OPEN_POSITION) for i in range(n)]


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[ViewEngines]:
    made = make_engines(make_url(f"sqlite:///{tmp_path / 'target.sqlite'}"))
    migrate(made)
    yield made
    made.dispose()


def _ended(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_writes_are_made_by_a_child_process_and_seen_by_every_later_read(
        engines: ViewEngines, monkeypatch: pytest.MonkeyPatch) -> None:
    def not_here(*_args: Any) -> None:
        raise AssertionError("a write was made by the parent process")

    monkeypatch.setattr(bulk, "_execute_many", not_here)
    monkeypatch.setattr(bulk, "_execute", not_here)
    count = select(func.count()).select_from(unit_roots)
    with engines.write.connect() as conn:
        with written_by_process(conn) as queue:
            assert queue.pid != os.getpid() and not _ended(queue.pid)
            insert_tuples(conn, unit_roots, COLUMNS, _rows(1, 300))
            close_rows(conn, unit_roots, [(9, 1)])
            assert conn.execute(count).scalar_one() == 300  # a read waits for them
            assert not conn.connection.dbapi_connection.in_transaction  # the parent holds no transaction
            update_rows(conn, t.tracking, ("position", "recorded_us"), ("name",), [(7, 70, PROJECTION_NAME)])
            insert_tuples(conn, unit_roots, COLUMNS, _rows(301, 5))
            conn.commit()  # queued behind them: the block's end waits
        assert _ended(queue.pid)
        conn.begin()  # the connection begins its own transactions again
        assert conn.connection.dbapi_connection.in_transaction
        conn.rollback()
    with engines.read.connect() as other:
        assert other.execute(count).scalar_one() == 305
        assert other.execute(select(unit_roots.c.rec_to).where(unit_roots.c.row_id == 1)).scalar_one() == 9
        assert other.execute(select(t.tracking.c.position, t.tracking.c.recorded_us)).one() == (7, 70)
        assert other.execute(select(unit_roots.c.valid_from).where(unit_roots.c.row_id == 2)).scalar_one() == \
            date(2020, 1, 1)  # dates stored as the parent's own writes store them


def test_a_failed_write_is_raised_at_the_next_read_and_nothing_after_it_is_made(engines: ViewEngines) -> None:
    count = select(func.count()).select_from(unit_roots).where(unit_roots.c.row_id >= 100)
    with engines.write.connect() as conn:
        with pytest.raises(Exception) as raised, written_by_process(conn) as queue:
            insert_tuples(conn, unit_roots, COLUMNS, _rows(1, 3))
            conn.commit()
            insert_tuples(conn, unit_roots, COLUMNS, _rows(1, 1))  # the same key again
            insert_tuples(conn, unit_roots, COLUMNS, _rows(100, 2))  # not made after the failure
            conn.commit()  # nor committed
            conn.execute(count)
        assert type(raised.value).__name__ == "IntegrityError" and "unique" in str(raised.value).lower()
        assert _ended(queue.pid)
    with engines.read.connect() as other:
        assert other.execute(select(func.count()).select_from(unit_roots)).scalar_one() == 3  # the first commit's


def test_the_block_waits_for_its_last_writes_and_raises_their_failure(engines: ViewEngines) -> None:
    with engines.write.connect() as conn, pytest.raises(Exception, match="(?i)unique"), written_by_process(conn):
        insert_tuples(conn, unit_roots, COLUMNS, _rows(1, 2) + _rows(1, 1))
        conn.commit()  # returns at once: the failure comes at the block's end


def test_a_child_that_died_is_said_plainly(engines: ViewEngines) -> None:
    died = r"ended with exit code -9 before it answered; .* rebuild again"
    with engines.write.connect() as conn, pytest.raises(WriterEnded, match=died), written_by_process(conn) as queue:
        os.kill(queue.pid, signal.SIGKILL)
        insert_tuples(conn, unit_roots, COLUMNS, _rows(1, 3))
        conn.execute(select(func.count()).select_from(unit_roots))


def test_an_in_memory_database_is_refused(tmp_path: Path) -> None:
    memory = make_engines(make_url("sqlite://"))
    try:
        with memory.write.connect() as conn, pytest.raises(ValueError, match="in-memory database has none"), \
                written_by_process(conn):
            pass
    finally:
        memory.dispose()


def test_a_commit_is_queued_once_the_commit_before_it_is_made(engines: ViewEngines) -> None:
    """At most one commit behind: once a second commit is queued, another connection sees the first's
    rows (what the rebuild's read-backs on a second connection rely on, ``SeriesBatch.read_back_on``)."""
    count = select(func.count()).select_from(unit_roots)
    with engines.write.connect() as conn, written_by_process(conn), engines.read.connect() as other:
        insert_tuples(conn, unit_roots, COLUMNS, _rows(1, 200))
        conn.commit()
        insert_tuples(conn, unit_roots, COLUMNS, _rows(201, 100))
        conn.commit()  # (no statement on ``conn`` in between: nothing else waited for the child)
        assert other.execute(count).scalar_one() in (200, 300)
        other.rollback()
    with engines.read.connect() as other:
        assert other.execute(count).scalar_one() == 300


def test_a_rebuild_whose_writer_spills_mid_batch_still_reads_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A national batch's writes outgrow the writer's page cache, so SQLite spills them into the file
    mid-transaction and holds its exclusive lock until the commit. The rebuild reads forgotten series
    back on a second connection in the middle of the next batch's flush; with the batch's writes in
    one transaction that read waited for a commit queued only after the flush (a deadlock ended by the
    busy timeout: "database is locked", the whole national history). Here the writer's cache is a few
    pages, so every write spills, and a read-back gives up after 2 s: the rows are still the
    in-memory rebuild's."""
    monkeypatch.setattr(writeprocess, "CHILD_CACHE_KIB", 40)
    monkeypatch.setattr(rebuild_module, "READ_BACK_TIMEOUT", 2.0)
    clock = FakeClock()
    settings, _ = settings_for("sqlite", tmp_path)
    ledger = build(settings, clock=clock)
    try:
        generate_history(ledger, clock, seed=9, steps=160)
        target = make_engines(make_url(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}"))
        try:
            assert rebuild_module.rebuild(ledger.store, target, batch_size=25, max_states=3, spill_bytes=0,
                                          overlaps=("write-process",)) == ledger.store.recorder.max_notification_id()
            assert contents(target) == contents(ledger.engines)
        finally:
            target.dispose()
    finally:
        ledger.close()
