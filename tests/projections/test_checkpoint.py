"""The read models' write-ahead log is checkpointed by a thread, not by the commits (SQLite; issue 9).

SQLite only: write-ahead logs and checkpoints are SQLite's.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from staffing.bootstrap import Ledger
from staffing.projections.checkpoint import BACKSTOP, Checkpointer
from staffing.projections.db import make_engines
from staffing.projections.rebuild import _leave_wal
from tests.projections.history import generate_history
from tests.support import FakeClock

BACKENDS = ("sqlite",)


def _views_path(ledger: Ledger) -> str:
    return str(ledger.engines.write.url.database)


def _wait_for(condition: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return False


def test_the_live_ledger_checkpoints_its_log_in_a_thread_after_commits(ledger: Ledger, clock: FakeClock) -> None:
    checkpointer = ledger.engines.checkpointer
    assert checkpointer is not None and checkpointer.path == _views_path(ledger)
    with ledger.engines.write.connect() as conn:  # the writers checkpoint only past the backstop
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == BACKSTOP
    generate_history(ledger, clock, seed=3, steps=30)
    assert _wait_for(lambda: checkpointer.rounds > 0 and checkpointer.copied > 0)
    with closing(sqlite3.connect(_views_path(ledger))) as db:  # every committed frame is in the file by now
        assert _wait_for(lambda: (lambda r: r[1] == r[2])(db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()))


def test_without_the_thread_the_commits_let_the_log_grow_past_sqlites_default(ledger: Ledger,
                                                                              clock: FakeClock) -> None:
    """What the thread takes off the commits: with it stopped, ~1,000 pages of log (SQLite's default
    automatic checkpoint, which would have run inside a commit) stay in the log."""
    assert ledger.engines.checkpointer is not None
    ledger.engines.checkpointer.close()
    wal = Path(_views_path(ledger) + "-wal")
    with closing(sqlite3.connect(_views_path(ledger))) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # start from an empty log
        page = int(db.execute("PRAGMA page_size").fetchone()[0])

    def frames() -> int:  # the log's high-water mark: a checkpointed log is reused from its start, not cut
        return max(wal.stat().st_size - 32, 0) // (page + 24)

    steps = 0
    while frames() <= 1_100 and steps < 400:
        generate_history(ledger, clock, seed=100 + steps, steps=10)
        steps += 10
    assert 1_100 < frames() < BACKSTOP, frames()


def test_disposing_the_engines_stops_the_thread_and_lets_go_of_the_file(ledger: Ledger, clock: FakeClock) -> None:
    """``swap_in`` needs the live file free: switching it out of WAL mode fails while any connection,
    the checkpointer's included, has it open."""
    checkpointer = ledger.engines.checkpointer
    assert checkpointer is not None
    generate_history(ledger, clock, seed=5, steps=10)
    assert _wait_for(lambda: checkpointer.rounds > 0)
    thread = checkpointer._thread
    assert thread is not None and thread.is_alive()
    ledger.projector.close()
    ledger.engines.dispose()
    assert not thread.is_alive()
    _leave_wal(Path(_views_path(ledger)))  # raises SwapRefused if anything still holds the file


def test_other_engines_have_no_checkpointer(tmp_path: Path) -> None:
    """A rebuild target must stay free of other connections (it leaves WAL mode while built)."""
    engines = make_engines(make_url(f"sqlite:///{tmp_path / 'target.sqlite'}"))
    assert engines.checkpointer is None
    engines.dispose()
    assert make_engines(make_url("sqlite://"), checkpoint=True).checkpointer is None  # in memory: no file


def test_a_checkpointer_starts_its_thread_on_the_first_poke_and_never_after_close(tmp_path: Path) -> None:
    path = str(tmp_path / "log.sqlite")
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x)")
        db.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(1000)])
        db.commit()
        idle = Checkpointer(path, interval=0.01)
        idle.close()  # never poked: nothing to stop
        idle.poke()
        assert idle._thread is None
        checkpointer = Checkpointer(path, interval=0.01)
        assert checkpointer._thread is None
        checkpointer.poke()
        assert _wait_for(lambda: checkpointer.rounds > 0)
        assert checkpointer.copied > 0
        checkpointer.close()
        checkpointer.close()
        assert checkpointer._thread is not None and not checkpointer._thread.is_alive()


def test_closing_never_waits_forever_whatever_the_thread_is_doing(tmp_path: Path) -> None:
    """``close`` may land as the thread's wait for more commits times out: that wait then reports no
    stop although the stop is set, and the wake ``close`` gave is cleared by the thread. It must see
    the stop anyway (``Ledger.close`` joins the thread; a lost stop hung it)."""
    import threading

    path = str(tmp_path / "log.sqlite")
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
    def churn() -> None:
        for _ in range(50):
            checkpointer = Checkpointer(path, interval=0.002)
            checkpointer.poke()
            while checkpointer.rounds == 0:  # one round done: the thread is back in its waits
                time.sleep(0.001)
            checkpointer.poke()
            time.sleep(0.0005)  # the thread wakes and waits ``interval`` for more commits
            spin_until = time.perf_counter() + 0.004
            while time.perf_counter() < spin_until:  # holding the GIL while the thread's wait times out
                pass
            checkpointer.close()

    switching = sys.getswitchinterval()
    sys.setswitchinterval(0.5)  # the timed-out thread gets the GIL back only once ``close`` has run
    try:
        worker = threading.Thread(target=churn, daemon=True)
        worker.start()
        worker.join(timeout=60)
    finally:
        sys.setswitchinterval(switching)
    assert not worker.is_alive(), "a close waited forever for the checkpoint thread"
