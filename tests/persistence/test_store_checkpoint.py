"""The event store's write-ahead log is checkpointed by a thread, not by its commits (SQLite; issue 9).

Without it, the commit that takes the log past SQLite's default 1,000 pages copies the log back
into the file while the writer waits (at national size the store's commit was 14% of an import's
samples). SQLite only: write-ahead logs and checkpoints are SQLite's.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from staffing.application.importer import ImportMode, import_lines, read_lines
from staffing.bootstrap import Ledger, build
from staffing.config import Settings
from staffing.generator import SCALES, generate
from staffing.persistence import EventStore, event_store_env
from staffing.projections.checkpoint import BACKSTOP
from tests.projections.history import generate_history
from tests.support import FakeClock

BACKENDS = ("sqlite",)


def _wait_for(condition: Any, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _store_path(ledger: Ledger) -> str:
    return str(ledger.store.recorder.datastore.pool.db_name)  # type: ignore[attr-defined]


def test_the_store_checkpoints_its_log_in_a_thread_after_commits(ledger: Ledger, clock: FakeClock) -> None:
    recorder: Any = ledger.store.recorder
    checkpointer = recorder.checkpointer
    assert checkpointer is not None and checkpointer.path == _store_path(ledger)
    generate_history(ledger, clock, seed=3, steps=30)
    with recorder.datastore.get_connection(commit=True) as connection:  # the writers checkpoint past the backstop
        assert connection._sqlite_conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == BACKSTOP
    assert _wait_for(lambda: checkpointer.rounds > 0 and checkpointer.copied > 0)
    with closing(sqlite3.connect(_store_path(ledger))) as db:  # every committed frame reaches the file
        assert _wait_for(lambda: (lambda r: r[1] == r[2])(db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()))


def test_without_the_thread_the_commits_leave_the_log_to_grow(tmp_path: Path) -> None:
    """What the thread takes off the commits: with it stopped, a small import (ten commands per
    transaction) grows the log past SQLite's default of 1,000 pages, where one of its commits would
    have copied the log back into the file, and it stays under the backstop."""
    ledger = build(Settings.from_env({"STAFFING_DATA_DIR": str(tmp_path / "data")}), inline_projection=False)
    try:
        recorder: Any = ledger.store.recorder
        recorder.checkpointer.close()
        history = tmp_path / "history.jsonl"
        generate(history, SCALES["tiny"], 1)
        report = import_lines(ledger.service, read_lines(history), ImportMode.STOP_AT_FIRST_ERROR, batch=10)
        assert report.ok
        with closing(sqlite3.connect(_store_path(ledger))) as db:
            page = int(db.execute("PRAGMA page_size").fetchone()[0])
        frames = (Path(_store_path(ledger) + "-wal").stat().st_size - 32) // (page + 24)
        assert 1_100 < frames < BACKSTOP, frames
    finally:
        ledger.close()


def test_closing_the_store_stops_the_thread(tmp_path: Path) -> None:
    settings = Settings.from_env({"STAFFING_DATA_DIR": str(tmp_path)})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = EventStore(env=event_store_env(settings))
    checkpointer: Any = store.recorder.checkpointer  # type: ignore[attr-defined]
    checkpointer.poke()
    assert _wait_for(lambda: checkpointer._thread is not None and checkpointer._thread.is_alive())
    thread = checkpointer._thread
    store.close()
    assert not thread.is_alive()


def test_a_store_in_memory_has_no_checkpointer() -> None:
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                            "APPLICATION_RECORDER_TOPIC": "staffing.chain:ChainedSQLiteRecorder",
                            "SQLITE_DBNAME": ":memory:"})
    try:
        assert store.recorder.checkpointer is None  # type: ignore[attr-defined]
    finally:
        store.close()
