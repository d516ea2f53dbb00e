"""A PostgreSQL rebuild target is loaded with its commits not waited for and handed back with the
server's defaults (issue 9).

PostgreSQL only: the settings are the server's (``synchronous_commit``, ``maintenance_work_mem``);
SQLite's counterpart (no journal) is ``test_rebuild_sqlite``.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, event

from staffing.bootstrap import Ledger
from staffing.projections import rebuild as rebuild_module
from staffing.projections.projector import Projector
from staffing.projections.rebuild import rebuild
from tests.projections.history import generate_history
from tests.projections.test_rebuild import contents, fresh_target  # noqa: F401 (a fixture)
from tests.support import FakeClock

BACKENDS = ("postgres",)


def _settings(conn: Connection) -> tuple[str, str]:
    return (str(conn.exec_driver_sql("SHOW synchronous_commit").scalar()),
            str(conn.exec_driver_sql("SHOW maintenance_work_mem").scalar()))


def test_a_postgres_rebuild_loads_without_waiting_for_commits_and_hands_its_connections_back_with_defaults(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Every batch of the load and every finisher's index and ``ANALYZE`` run with commits not waited
    for and 256 MB to sort (``TARGET_SETTINGS``: the target is disposable until the swap's own
    synchronous commit); afterwards the target's pooled connections have the server's defaults
    again, so the projector's later commits are waited for, and the rebuilt read models equal the
    ledger's."""
    generate_history(ledger, clock, seed=13, steps=40)
    target = fresh_target()
    with target.write.connect() as conn:
        defaults = _settings(conn)
    assert defaults[0] == "on"
    during_load: list[tuple[str, str]] = []
    real_apply = Projector._apply_decoded

    def apply(self: Projector, conn: Any, *args: Any, **kwargs: Any) -> tuple[int, int]:
        during_load.append(_settings(conn))
        return real_apply(self, conn, *args, **kwargs)

    analyzed: list[tuple[str, str]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.startswith("ANALYZE"):
            cursor.execute("SHOW synchronous_commit")
            commit = cursor.fetchone()[0]
            cursor.execute("SHOW maintenance_work_mem")
            analyzed.append((commit, cursor.fetchone()[0]))

    monkeypatch.setattr(Projector, "_apply_decoded", apply)
    event.listen(target.write, "before_cursor_execute", before)
    try:
        rebuild(ledger.store, target)
    finally:
        event.remove(target.write, "before_cursor_execute", before)
    assert during_load and set(during_load) == {("off", "256MB")}
    assert analyzed and set(analyzed) == {("off", "256MB")}
    assert len(analyzed) >= rebuild_module.FINISHERS  # (every table analyzed: more tables than finishers)
    held = [target.write.connect() for _ in range(1 + rebuild_module.FINISHERS)]  # every pooled connection
    try:
        assert [_settings(conn) for conn in held] == [defaults] * len(held)
    finally:
        for conn in held:
            conn.close()
    assert contents(target) == contents(ledger.engines)


def test_closing_a_person_row_stays_on_its_page(ledger: Ledger) -> None:
    """Migration 0010's premise (issue 9): with a tenth of each page free (``fillfactor`` 90) and no
    index on ``rec_to``, closing rows writes their new versions on their own pages without index
    entries (HOT updates), where a full page sends every one to another page and into each index."""
    from datetime import date

    from sqlalchemy import text

    from staffing.projections.bulk import close_rows, insert_tuples
    from staffing.projections.tables import END_OF_TIME, OPEN_POSITION, person_versions

    columns = ("row_id", "valid_from", "valid_to", "rec_from", "rec_to", "person_id", "unit_id", "position_id",
               "category", "rank", "status", "cause", "fact_id")
    rows = [(5_000_000 + i, date(2020, 1, 1), END_OF_TIME, 7, OPEN_POSITION, f"{i:036d}", "u" * 36, None,
             "CIVIL_SERVANT", "Chuyên viên", "ACTIVE", "RECRUITED", f"fact:{i}") for i in range(4000)]
    closed = [(9, 5_000_000 + i) for i in range(0, 4000, 20)]  # two or three rows a page
    hot = text("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
               "WHERE schemaname = current_schema() AND relname = :t")
    with ledger.engines.write.connect() as conn:
        for fillfactor in (90, 100):
            with conn.begin() as transaction:
                conn.exec_driver_sql(f"ALTER TABLE person_versions SET (fillfactor = {fillfactor})")
                insert_tuples(conn, person_versions, columns, rows)
                before = conn.execute(hot, {"t": "person_versions"}).one()  # (counts not yet flushed add up)
                close_rows(conn, person_versions, closed)
                after = conn.execute(hot, {"t": "person_versions"}).one()
                transaction.rollback()
            updated, in_place = after[0] - before[0], after[1] - before[1]
            assert updated == len(closed)
            if fillfactor == 90:
                assert in_place == len(closed)
            else:  # (only the last page, filled in part, has room)
                assert in_place <= len(closed) // 10, in_place
    with ledger.engines.read.connect() as conn:
        options = conn.execute(text("SELECT reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                    "WHERE n.nspname = current_schema() AND c.relname = 'person_versions'")).scalar()
    assert options == ["fillfactor=90"]  # (what the ledger's migrations left, the test's changes rolled back)


def test_a_bounded_memory_load_keeps_rec_to_out_of_the_figure_rows_indexes_until_its_finish(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Issue 9 (``rebuild.STAND_INS``, ``LOAD_FILLFACTOR``): while a PostgreSQL load reads figure rows
    back, their table has room on its pages and no index naming ``rec_to`` (the stand-in
    ``ix_unit_figures_loading`` serves the read-backs), so closing a figure row can stay on its page;
    after the finish the stand-in is gone, the real indexes are there, the table's ``fillfactor`` is
    the default again, and the rebuilt read models equal the ledger's."""
    from sqlalchemy import text

    generate_history(ledger, clock, seed=9, steps=160)
    target = fresh_target()
    seen: list[tuple[list[str], str | None]] = []  # after each batch: unit_figures' indexes, its options
    catalog = text("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'unit_figures'")
    options = text("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = 'unit_figures'::regclass")
    real_end = rebuild_module._end_batch

    def end_batch(conn: Any, *args: Any, **kwargs: Any) -> None:
        real_end(conn, *args, **kwargs)
        with target.read.connect() as other:
            seen.append(([str(d) for d in other.execute(catalog).scalars()], other.execute(options).scalar()))

    monkeypatch.setattr(rebuild_module, "_end_batch", end_batch)
    assert rebuild(ledger.store, target, batch_size=25, max_states=3, unlogged=True) == \
        ledger.store.recorder.max_notification_id()
    loading = [indexes for indexes, _ in seen if any("ix_unit_figures_loading" in d for d in indexes)]
    assert len(loading) > 10  # the stand-in served many batches' read-backs
    assert all("rec_to" not in d.split("USING btree")[1] for indexes, _ in seen for d in indexes
               if "_pkey" not in d and "pk_" not in d), seen
    assert {fill for _, fill in seen} == {"fillfactor=90"}
    with target.read.connect() as conn:
        after = [str(d) for d in conn.execute(catalog).scalars()]
        assert conn.execute(options).scalar() is None
        logged = conn.execute(text("SELECT relpersistence FROM pg_class WHERE oid = 'unit_figures'::regclass")).scalar()
    assert logged == "p"
    assert not any("ix_unit_figures_loading" in d for d in after)
    assert any("ix_unit_figures_open" in d and "rec_to" in d for d in after)
    assert any("ix_unit_figures_unit" in d for d in after)
    assert contents(target) == contents(ledger.engines)
