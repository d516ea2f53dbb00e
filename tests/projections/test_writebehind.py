"""A rebuild's bulk writes are queued and made on a thread (``projections.writebehind``, issue 9):
every statement, commit and driver cursor on the connection waits for the writes queued before it,
so reads see them and commits hold them; a failed write fails where the queue is next waited for
and nothing after it is sent; a rebuild's writes overlap its decoding of the next window."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from staffing.bootstrap import Ledger
from staffing.projections import bulk
from staffing.projections import tables as t
from staffing.projections.bulk import close_rows, driver_cursor, insert_tuples
from staffing.projections.projector import Projector
from staffing.projections.rebuild import rebuild
from staffing.projections.tables import END_OF_TIME, OPEN_POSITION, unit_roots
from staffing.projections.writebehind import commit_behind, queued_writes
from tests.projections.history import generate_history
from tests.projections.test_rebuild import BOTH, contents, fresh_target  # noqa: F401 - a fixture
from tests.support import FakeClock

COLUMNS = ("row_id", "unit_id", "root_id", "valid_from", "valid_to", "rec_from", "rec_to")


def _rows(first: int, n: int) -> list[tuple[Any, ...]]:
    return [(first + i, f"u{i}", "root", date(2020, 1, 1), END_OF_TIME, 5, OPEN_POSITION) for i in range(n)]


def _gated_writes(monkeypatch: Any, gate: Callable[[], bool]) -> list[tuple[int, bool]]:
    """Each write waits on ``gate()`` before it is made; records the thread and what ``gate`` said."""
    made: list[tuple[int, bool]] = []
    for name in ("_copy", "_execute", "_execute_many"):
        real = getattr(bulk, name)

        def gated(*args: Any, _real: Any = real) -> None:
            made.append((threading.get_ident(), gate()))
            _real(*args)

        monkeypatch.setattr(bulk, name, gated)
    return made


def test_queued_writes_are_made_on_a_thread_and_seen_by_every_later_read(ledger: Ledger, monkeypatch: Any) -> None:
    gate = threading.Event()
    made = _gated_writes(monkeypatch, lambda: gate.wait(5))
    count = select(func.count()).select_from(unit_roots).where(unit_roots.c.row_id >= 2_000_000)
    with ledger.engines.write.connect() as conn:
        with queued_writes(conn):
            insert_tuples(conn, unit_roots, COLUMNS, _rows(2_000_000, 300))
            close_rows(conn, unit_roots, [(9, 2_000_000)])
            assert all(not in_time for _, in_time in made)  # queued, not made: the caller went on
            gate.set()
            assert conn.execute(count).scalar_one() == 300  # a read waits for them
            insert_tuples(conn, unit_roots, COLUMNS, _rows(2_000_300, 5))
            with driver_cursor(conn) as cursor:  # so does the driver's own cursor
                cursor.execute("SELECT count(*) FROM unit_roots WHERE row_id >= 2000000")
                assert cursor.fetchone()[0] == 305
            insert_tuples(conn, unit_roots, COLUMNS, _rows(2_000_400, 7))
            conn.commit()  # ... and a commit, which holds them
        assert len(made) == 4 and all(in_time for _, in_time in made)
        assert threading.get_ident() not in {thread for thread, _ in made}
        with ledger.engines.read.connect() as other:
            assert other.execute(count).scalar_one() == 312
            closed = other.execute(select(unit_roots.c.rec_to).where(unit_roots.c.row_id == 2_000_000)).scalar_one()
            assert closed == 9


def test_a_failed_write_is_raised_where_the_queue_is_next_waited_for_and_nothing_after_it_is_sent(
        ledger: Ledger, monkeypatch: Any) -> None:
    made = _gated_writes(monkeypatch, lambda: True)
    count = select(func.count()).select_from(unit_roots).where(unit_roots.c.row_id >= 3_000_000)
    with ledger.engines.write.connect() as conn:
        with pytest.raises(Exception) as raised, queued_writes(conn):
            insert_tuples(conn, unit_roots, COLUMNS, _rows(3_000_000, 3))
            insert_tuples(conn, unit_roots, COLUMNS, _rows(3_000_000, 1))  # the same key again
            insert_tuples(conn, unit_roots, COLUMNS, _rows(3_000_010, 2))  # not sent after the failure
            conn.execute(count)
        assert "unique" in str(raised.value).lower() or "duplicate" in str(raised.value).lower()
        assert len(made) == 2
        conn.rollback()
        assert conn.execute(count).scalar_one() == 0


def test_a_rebuild_decodes_the_next_window_while_its_writes_are_made(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: Any) -> None:  # noqa: F811
    """Each batch's first write waits (a slow server) until the next window is decoded: the rebuild
    goes on to decode it instead of waiting for the write, and ends the batch (tracking row, commit)
    only then. Written on the spot, the write would wait in vain (its caller decodes nothing)."""
    generate_history(ledger, clock, seed=6, steps=120)
    decoded, armed = threading.Event(), threading.Event()

    def gate() -> bool:  # the first write of each batch waits for the next window to be decoded
        if not armed.is_set():
            return True
        armed.clear()
        return decoded.wait(1)

    made = _gated_writes(monkeypatch, gate)
    real_flush, real_decode = Projector._flush, Projector._decode

    def flush(self: Projector, batch: Any, ends: Any = ()) -> None:
        decoded.clear()
        armed.set()
        real_flush(self, batch, ends)

    def decode(self: Projector, notifications: Any, prefetch: bool = True) -> Any:
        decoded.set()
        return real_decode(self, notifications, prefetch)

    monkeypatch.setattr(Projector, "_flush", flush)
    monkeypatch.setattr(Projector, "_decode", decode)
    target = fresh_target()
    assert rebuild(ledger.store, target, batch_size=40, overlaps=BOTH) == ledger.store.recorder.max_notification_id()
    monkeypatch.undo()
    assert len(made) > 10 and threading.get_ident() not in {thread for thread, _ in made}
    late = [in_time for _, in_time in made].count(False)
    assert late <= 1, f"{late} batches' writes were waited for before the next window was decoded"  # (the last)
    assert contents(target) == contents(ledger.engines)


def test_a_commit_queued_behind_the_writes_holds_them_and_the_next_waits_for_it(
        ledger: Ledger, monkeypatch: Any) -> None:
    """``commit_behind`` returns at once; the commit is made after the writes queued before it (another
    connection sees them then, with no commit of SQLAlchemy's), and the next commit queued waits until
    the one before is made (the server at most one batch behind). SQLite: refused, nothing sent."""
    count = select(func.count()).select_from(unit_roots).where(unit_roots.c.row_id >= 4_000_000)
    if ledger.engines.is_sqlite:
        with ledger.engines.write.connect() as conn, queued_writes(conn), pytest.raises(ValueError, match="PostgreSQL's"):
            commit_behind(conn)
        return
    gate, order = threading.Event(), []
    made = _gated_writes(monkeypatch, lambda: gate.wait(5))
    with ledger.engines.write.connect() as conn, ledger.engines.read.connect() as other:
        with queued_writes(conn):
            insert_tuples(conn, unit_roots, COLUMNS, _rows(4_000_000, 30))
            commit_behind(conn)  # queued behind a write still waiting: returns at once
            assert not made or not made[0][1]
            assert other.execute(count).scalar_one() == 0
            other.rollback()
            insert_tuples(conn, unit_roots, COLUMNS, _rows(4_000_100, 4))

            def open_gate() -> None:
                order.append("gate opened")
                gate.set()

            timer = threading.Timer(0.3, open_gate)
            timer.start()
            commit_behind(conn)  # waits for the first commit, made once the gate opens
            order.append("second commit queued")
            timer.join()
            bulk.settle(conn)
            assert other.execute(count).scalar_one() == 34  # both commits made, none of SQLAlchemy's
            other.rollback()
            insert_tuples(conn, unit_roots, COLUMNS, _rows(4_000_200, 2))
            conn.rollback()  # (SQLAlchemy's transaction: rolls back only what followed the last commit)
        assert order == ["gate opened", "second commit queued"]
        assert other.execute(count).scalar_one() == 34


def test_a_rebuild_committing_behind_raises_a_failed_write_and_keeps_a_consistent_prefix(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: Any) -> None:  # noqa: F811
    """With the writes queued, and on PostgreSQL the commits too (``commit-behind``), a write that
    fails part-way is raised by the rebuild — never swallowed when the queue goes — and what the
    target committed is whole batches with their tracking row: a position reached, the log's facts up
    to it and none after."""
    overlaps = ("write-behind",) if ledger.engines.is_sqlite else (*BOTH, "commit-behind")
    generate_history(ledger, clock, seed=7, steps=120)
    name = "_execute_many" if ledger.engines.is_sqlite else "_copy"  # (the inserts)
    real, calls = getattr(bulk, name), [0]

    def counted(*args: Any) -> None:
        calls[0] += 1
        real(*args)

    monkeypatch.setattr(bulk, name, counted)
    rebuild(ledger.store, fresh_target(), batch_size=40, overlaps=overlaps)
    failing_call, calls[0] = calls[0] - 1, 0  # (in the last batches: no read-back comes after it)

    def failing(*args: Any) -> None:
        calls[0] += 1
        if calls[0] == failing_call:
            raise RuntimeError("the server went away")
        real(*args)

    monkeypatch.setattr(bulk, name, failing)
    target = fresh_target()
    with pytest.raises(RuntimeError, match="the server went away"):
        rebuild(ledger.store, target, batch_size=40, overlaps=overlaps)
    with target.read.connect() as conn:
        position = conn.execute(select(t.tracking.c.position)).scalar_one()
        facts = conn.execute(select(func.max(t.facts.c.position), func.count()).select_from(t.facts)).one()
    assert 0 < position < ledger.store.recorder.max_notification_id()
    assert facts[0] <= position and facts[1] > 0
