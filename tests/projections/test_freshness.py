"""The check every request makes before it reads: is the read model level with the log?

On SQLite it reads through two plain connections of its own (``Freshness``); these tests hold it
to the libraries' own reads, to writes by another process's ledger, and to never holding a read
snapshot between checks (which would keep a checkpoint from finishing).
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from staffing.bootstrap import Ledger, build
from tests.builders import establish, recruit
from tests.support import FakeClock, drop_pg_schema, settings_for

ON = date(2024, 1, 1)


def test_level_until_a_command_is_recorded_and_again_once_it_is_projected(ledger: Ledger) -> None:
    freshness = ledger.projector.freshness
    unit = establish(ledger.service, effective_on=ON)
    assert freshness.level() and freshness._level_through_libraries()
    ledger.service.on_commit.clear()  # record without projecting, as another process's import would
    recruit(ledger.service, unit, effective_on=ON)
    assert not freshness.level()
    assert not freshness._level_through_libraries()
    assert ledger.projector.catch_up() > 0
    assert freshness.level() and freshness._level_through_libraries()
    assert ledger.projector.catch_up() == 0  # level: nothing is applied, no write transaction opened


def test_a_write_by_another_ledger_on_the_same_files_is_seen(backend: str, tmp_path: Path, clock: FakeClock) -> None:
    settings, schema = settings_for(backend, tmp_path)
    reader = build(settings, clock=clock)
    writer = build(settings, clock=clock, inline_projection=False)  # another process: it never projects
    try:
        assert reader.projector.freshness.level()
        establish(writer.service, effective_on=ON)
        assert not reader.projector.freshness.level()
        reader.queries.refresh()  # what a request does first
        assert reader.projector.freshness.level()
        assert reader.projector.position() == writer.store.recorder.max_notification_id()
    finally:
        writer.close()
        reader.close()
        if schema:
            drop_pg_schema(schema)


def test_the_check_holds_no_read_snapshot_between_calls(tmp_path: Path, clock: FakeClock) -> None:
    settings, _ = settings_for("sqlite", tmp_path)
    ledger = build(settings, clock=clock)
    try:
        unit = establish(ledger.service, effective_on=ON)
        recruit(ledger.service, unit, effective_on=ON)
        freshness = ledger.projector.freshness
        assert freshness._files is not None, "on SQLite files the check has connections of its own"
        assert freshness.level()
        for path in freshness._files:  # a full checkpoint is blocked by any open reader
            probe = sqlite3.connect(path, isolation_level=None)
            busy, _, _ = probe.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            probe.close()
            assert busy == 0, f"the freshness check keeps a read transaction open on {path}"
    finally:
        ledger.close()
    assert freshness._connections is None, "closing the ledger closes the check's connections"
