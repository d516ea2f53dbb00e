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
from staffing.projections.bulk import close_rows, driver_cursor, insert_tuples
from staffing.projections.projector import Projector
from staffing.projections.rebuild import OVERLAPS, rebuild
from staffing.projections.tables import END_OF_TIME, OPEN_POSITION, unit_roots
from staffing.projections.writebehind import queued_writes
from tests.projections.history import generate_history
from tests.projections.test_rebuild import contents, fresh_target  # noqa: F401 - a fixture
from tests.support import FakeClock

#: both threads, whichever the backend runs by default (``rebuild.OVERLAPS``: none on SQLite)
BOTH = OVERLAPS["postgresql"]

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
