"""A SQLite rebuild target is built without a journal and handed back journalled (issue 9).

SQLite only: a PostgreSQL target is a fresh schema swapped in by ``swap_in``; journal modes are
SQLite's.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Engine, event

from staffing.bootstrap import Ledger, migrate
from staffing.projections import rebuild as rebuild_module
from staffing.projections.projector import Projector
from staffing.projections.rebuild import LOAD_INDEXES, _secondary_indexes, rebuild
from staffing.projections.series import SeriesBatch, _Spilled
from tests.projections.history import generate_history
from tests.projections.test_rebuild import contents, fresh_target  # noqa: F401 (a fixture)
from tests.support import FakeClock

BACKENDS = ("sqlite",)


def test_a_sqlite_rebuild_target_is_written_unjournalled_and_handed_back_journalled(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The disposable target skips the journal while it is built (issue 9: each page written once);
    afterwards its connections are in WAL mode with normal syncs like every other, so later writes
    through them can roll back."""
    generate_history(ledger, clock, seed=13, steps=40)
    seen: list[str] = []
    real_apply = Projector._apply_decoded

    def apply(self: Projector, conn: Any, *args: Any, **kwargs: Any) -> tuple[int, int]:
        seen.append(str(conn.exec_driver_sql("PRAGMA journal_mode").scalar()))
        return real_apply(self, conn, *args, **kwargs)

    monkeypatch.setattr(Projector, "_apply_decoded", apply)
    target = fresh_target()
    rebuild(ledger.store, target)
    assert seen and set(seen) == {"off"}
    with target.write.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    assert contents(target) == contents(ledger.engines)


@pytest.mark.parametrize("spill_bytes", [0, 1 << 30, 20_000], ids=["none packed", "all packed", "budget runs out"])
def test_a_bounded_memory_rebuild_reads_back_only_through_indexes(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, spill_bytes: int,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``max_states`` (with nothing packed, ``spill_bytes=0``) a rebuild reads series, figure
    and roll-up rows back while the query-only indexes do not exist yet (they are made after the
    load, ``LOAD_INDEXES``): every read-back must still go through an index, or each batch would scan
    tables of millions of rows at national size. With every series packed it makes only the figure
    rows' index (``PACKED_LOAD_INDEXES``), and when the packing's budget runs out, the others before
    the next read-back. Checked with SQLite's own plan of every SELECT the load runs."""
    monkeypatch.setattr(rebuild_module, "LATE_WIDENING", 1)  # (as many read-backs as small batches make)
    generate_history(ledger, clock, seed=9, steps=160)
    target = fresh_target()
    scans: list[str] = []
    selects = 0

    def plan(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        nonlocal selects
        if executemany or not statement.lstrip().upper().startswith("SELECT"):
            return
        selects += 1
        raw = conn.connection.dbapi_connection
        # (EXPLAIN plans on the schema the connection last read, without checking it: the reader's may
        # predate an index the load's connection made since; a read of the schema brings it up to date,
        # as the statement's own execution would)
        raw.execute("SELECT count(*) FROM sqlite_master").fetchone()
        for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters or ()):
            detail = str(row[-1])
            # a full pass over a table or one of its indexes (but the one-row bookkeeping tables)
            if detail.startswith("SCAN ") and not any(
                    small in detail for small in ("tracking", "rollup_marks", "alembic_version")):
                scans.append(f"{detail}: {statement}")

    read_back: list[str] = []
    load_many = SeriesBatch._load_many

    def counted(self: SeriesBatch, series: str, keys: list[str]) -> int:
        read_back.extend(keys)
        return load_many(self, series, keys)

    monkeypatch.setattr(SeriesBatch, "_load_many", counted)
    packing = _Spilled.add
    packed = Counter[bool]()  # what each attempt to pack a forgotten series gave

    def pack(self: _Spilled, *args: Any, **kwargs: Any) -> bool:
        done = packing(self, *args, **kwargs)
        packed[done] += 1
        return done

    monkeypatch.setattr(_Spilled, "add", pack)
    migrate(target)  # first: its data migrations read whole (empty) tables, the load is what is checked
    # (every engine: the load reads back on a connection of its own, ``rebuild._reading_back``)
    event.listen(Engine, "before_cursor_execute", plan)
    try:
        assert rebuild(ledger.store, target, batch_size=25, max_states=3,
                       spill_bytes=spill_bytes) == ledger.store.recorder.max_notification_id()
    finally:
        event.remove(Engine, "before_cursor_execute", plan)
    assert selects > 20  # the read-backs ran (and were checked)
    assert bool(read_back) == (spill_bytes != 1 << 30)  # series read back unless every one was packed
    # (the history must be large enough for each case: some packed and then the budget spent)
    assert (packed[True] > 0, packed[False] > 0) == {0: (False, True), 1 << 30: (True, False)}.get(
        spill_bytes, (True, True))
    assert scans == []
    assert contents(target) == contents(ledger.engines)
    with target.read.connect() as conn:  # and every secondary index exists once the load is over
        made = {name for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
    secondary = {str(ix.name) for ix in _secondary_indexes()}
    assert secondary <= made
    assert secondary >= LOAD_INDEXES  # no name here that no table has
