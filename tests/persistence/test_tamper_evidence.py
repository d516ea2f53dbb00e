"""Tamper evidence (issue 10): editing, deleting, reordering or slipping in any stored event row is
detected by ``verify`` on both backends, at the first position where the chain breaks."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from eventsourcing.sqlite import SQLiteApplicationRecorder

from staffing.bootstrap import Ledger
from staffing.chain import head, verify
from tests.builders import establish, recruit


def _execute(ledger: Ledger, sqlite_sql: str, postgres_sql: str, params: tuple[Any, ...] = ()) -> None:
    """Run a statement on the event store's own tables, behind the ledger's back."""
    recorder: Any = ledger.store.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(sqlite_sql.format(events=recorder.events_table_name, key="rowid"), params)
    else:
        table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
        with recorder.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as cursor:
            cursor.execute(postgres_sql.format(events=table, key="notification_id"), params)


def _history(ledger: Ledger) -> None:
    province = establish(ledger.service, code="T", name="Tỉnh Tuyên Quang")
    commune = establish(ledger.service, parent_id=province, kind="COMMUNE", code="T1", name="Xã Minh Thanh")
    for name in ("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"):
        recruit(ledger.service, commune, full_name=name)


TAMPERINGS: dict[str, tuple[str, str, str, int]] = {
    # name: (SQLite statement, PostgreSQL statement, expected kind, expected position)
    "an edited state": ("UPDATE {events} SET state = CAST(CAST(state AS TEXT) || ' ' AS BLOB) WHERE {key} = 4",
                        "UPDATE {events} SET state = state || '\\x20'::bytea WHERE {key} = 4", "altered", 4),
    "an edited version": ("UPDATE {events} SET originator_version = originator_version + 100 WHERE {key} = 5",
                          "UPDATE {events} SET originator_version = originator_version + 100 WHERE {key} = 5",
                          "altered", 5),
    "an edited topic": ("UPDATE {events} SET topic = topic || 'x' WHERE {key} = 2",
                        "UPDATE {events} SET topic = topic || 'x' WHERE {key} = 2", "altered", 2),
    "a deleted row": ("DELETE FROM {events} WHERE {key} = 3", "DELETE FROM {events} WHERE {key} = 3", "missing", 3),
    "the last row deleted": ("DELETE FROM {events} WHERE {key} = (SELECT max({key}) FROM {events})",
                             "DELETE FROM {events} WHERE {key} = (SELECT max({key}) FROM {events})", "missing", -1),
    "two rows swapped": (
        "UPDATE {events} SET state = CASE {key} WHEN 4 THEN (SELECT state FROM {events} WHERE {key} = 5) "
        "ELSE (SELECT state FROM {events} WHERE {key} = 4) END WHERE {key} IN (4, 5)",
        "UPDATE {events} e SET state = o.state FROM {events} o WHERE (e.{key}, o.{key}) IN ((4, 5), (5, 4))",
        "altered", 4),
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_any_change_to_a_stored_event_is_detected_at_its_position(ledger: Ledger, tampering: str) -> None:
    _history(ledger)
    recorder = ledger.store.recorder
    before = verify(recorder)
    assert before.ok and before.events == recorder.max_notification_id() and before.events > 6
    assert verify(recorder, workers=3).ok
    sqlite_sql, postgres_sql, kind, position = TAMPERINGS[tampering]
    last = recorder.max_notification_id()
    _execute(ledger, sqlite_sql, postgres_sql)
    for workers in (1, 3):  # one pass, and the log cut into ranges checked by separate processes (SQLite)
        report = verify(recorder, workers=workers)
        assert report.first_break is not None, tampering
        assert report.first_break.kind == kind
        assert report.first_break.position == (last if position == -1 else position)
        assert str(report.first_break.position) in report.first_break.message


def test_a_row_slipped_in_behind_the_ledgers_back_is_unchained(ledger: Ledger) -> None:
    _history(ledger)
    _execute(ledger, "INSERT INTO {events} (originator_id, originator_version, topic, state) "
                     "SELECT originator_id, 99, topic, state FROM {events} WHERE {key} = 1",
             "INSERT INTO {events} (originator_id, originator_version, topic, state) "
             "SELECT originator_id, 99, topic, state FROM {events} WHERE {key} = 1")
    report = verify(ledger.store.recorder)
    assert report.first_break is not None and report.first_break.kind == "unchained"


def test_the_chain_is_written_with_every_commit_and_its_head_moves_on(ledger: Ledger) -> None:
    _history(ledger)
    recorder = ledger.store.recorder
    first = head(recorder)
    assert first is not None and first[0] == recorder.max_notification_id()
    recruit(ledger.service, establish(ledger.service, code="U", name="Tỉnh U"), full_name="Phạm Thị Dung")
    second = head(recorder)
    assert second is not None and second[0] > first[0] and second[1] != first[1]
    assert head(recorder, first[0]) == first  # an earlier head stays in the chain at its position
    assert verify(recorder).ok


def test_the_verify_command_exits_non_zero_and_names_the_break(ledger: Ledger) -> None:
    _history(ledger)
    settings = ledger.settings
    env = {"STAFFING_DATA_DIR": str(settings.data_dir), "PATH": "/usr/bin:/bin"}
    if not settings.is_sqlite:
        env.update(STAFFING_DATABASE_URL=settings.database_url.render_as_string(hide_password=False),
                   STAFFING_DB_SCHEMA=settings.schema or "")
    run: Callable[[], subprocess.CompletedProcess[str]] = lambda: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "staffing", "verify"], env=env, capture_output=True, text=True, timeout=120)
    ok = run()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "intact" in ok.stdout
    _execute(ledger, *TAMPERINGS["an edited state"][:2])
    broken = run()
    assert broken.returncode == 1
    assert "position 4" in broken.stdout + broken.stderr


def test_a_rebuild_refuses_an_edited_log_instead_of_serving_it(ledger: Ledger) -> None:
    from staffing.projections.rebuild import TamperDetected, swap_in
    from staffing.projections.tables import facts

    _history(ledger)
    ledger.projector.catch_up()
    with ledger.engines.read.connect() as conn:
        before = conn.execute(facts.select().order_by(facts.c.position)).all()
    _execute(ledger, *TAMPERINGS["an edited state"][:2])
    ledger.engines.dispose()  # as a stopped server would (SQLite swaps the file)
    with pytest.raises(TamperDetected, match="position 4"):
        swap_in(ledger.settings, store=ledger.store)
    with ledger.engines.read.connect() as conn:
        assert conn.execute(facts.select().order_by(facts.c.position)).all() == before
