"""Rebuilding the read models from the log gives exactly what incremental projection gave.

The comparison covers every read-model table, row by row, ordered on every column but the
surrogate ``row_id`` (the only thing allowed to differ between a one-pass rebuild and a history of
small incremental batches).
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.engine import make_url

from staffing import acts as acts_module
from staffing.application import EstablishUnit, Item, Mode, RecruitPerson
from staffing.bootstrap import Ledger
from staffing.chain import sqlite_rows
from staffing.projections import figures as figures_module
from staffing.projections import projector as projector_module
from staffing.projections import rebuild as rebuild_module
from staffing.projections import tables as t
from staffing.projections.db import ViewEngines, make_engines
from staffing.projections.figures import FigureBatch
from staffing.projections.projector import Projector, to_us
from staffing.projections.queries import from_us
from staffing.projections.rebuild import NotFresh, SwapRefused, rebuild, swap_in
from staffing.projections.series import SeriesBatch, _Spilled
from staffing.projections.writebehind import WriteQueue
from staffing.projections.writeprocess import ProcessQueue
from tests.builders import assign_quota, establish, recruit
from tests.projections.history import generate_history
from tests.support import FakeClock, act, drop_pg_schema, new_pg_schema

TABLES = [table for table in t.metadata.sorted_tables]


def contents(engines: ViewEngines) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model table's rows, without ``row_id`` and the tracking row's ``writer`` token, in a total order."""
    out = {}
    with engines.read.connect() as conn:
        for table in TABLES:
            columns = [c for c in table.columns if c.name not in ("row_id", "writer")]
            out[table.name] = [tuple(r) for r in conn.execute(select(*columns).order_by(*columns))]
    return out


@pytest.fixture
def fresh_target(ledger: Ledger, tmp_path: Path) -> Iterator[Any]:
    """A factory of empty read-model databases on the ledger's backend."""
    made: list[tuple[ViewEngines, str | None]] = []

    def make() -> ViewEngines:
        if ledger.engines.is_sqlite:
            engines = make_engines(make_url(f"sqlite:///{tmp_path / f'rebuilt-{len(made)}.sqlite'}"))
            made.append((engines, None))
        else:
            schema = new_pg_schema()
            engines = make_engines(ledger.settings.views_url, schema)
            made.append((engines, schema))
        return engines

    yield make
    for engines, schema in made:
        engines.dispose()
        if schema:
            drop_pg_schema(schema)


def test_a_rebuild_reproduces_the_incrementally_maintained_read_models(ledger: Ledger, clock: FakeClock,
                                                                      fresh_target: Any) -> None:
    generate_history(ledger, clock, seed=5, steps=160)
    expected = contents(ledger.engines)
    assert all(expected[name] for name in ("unit_versions", "person_versions", "quota_versions", "facts"))
    last = ledger.store.recorder.max_notification_id()
    for batch_size in (37, 10_000):  # many batches sharing one in-memory series state, and one batch
        target = fresh_target()
        assert rebuild(ledger.store, target, batch_size=batch_size) == last
        assert Projector(ledger.store, target).position() == last
        rebuilt = contents(target)
        for table in TABLES:
            assert rebuilt[table.name] == expected[table.name], f"{table.name} differs (batch size {batch_size})"


def test_a_rebuild_of_an_empty_log_leaves_empty_read_models(ledger: Ledger, fresh_target: Any) -> None:
    target = fresh_target()
    assert rebuild(ledger.store, target) == 0
    assert Projector(ledger.store, target).position() == 0
    assert contents(target)["facts"] == []


def test_a_rebuild_refuses_a_target_that_already_holds_events(ledger: Ledger, clock: FakeClock) -> None:
    generate_history(ledger, clock, seed=2, steps=5)
    with pytest.raises(NotFresh):
        rebuild(ledger.store, ledger.engines)


def test_catching_up_again_never_applies_an_event_twice(ledger: Ledger, clock: FakeClock) -> None:
    generate_history(ledger, clock, seed=3, steps=60)
    before = contents(ledger.engines)
    assert ledger.projector.catch_up() == 0
    assert ledger.projector.catch_up() == 0
    second = Projector(ledger.store, ledger.engines, batch_size=7)
    assert second.catch_up() == 0
    assert contents(ledger.engines) == before
    assert second.position() == ledger.store.recorder.max_notification_id()


def test_a_second_projector_continues_where_the_first_stopped(ledger: Ledger, clock: FakeClock,
                                                             fresh_target: Any) -> None:
    """Projectors on the same read models share one tracking position: whichever runs next
    applies only what the others have not."""
    ledger.service.on_commit.clear()  # no inline projection: the log runs ahead of the read models
    generate_history(ledger, clock, seed=4, steps=40)
    first, second = ledger.projector, Projector(ledger.store, ledger.engines, batch_size=5)
    seen = first.catch_up()
    assert seen == ledger.store.recorder.max_notification_id()
    unit = ledger.service.execute(EstablishUnit(code="MOI", name="Xã Mới", kind="PROVINCE", parent_id=None, effective_on=date(2025, 7, 1), act=act())).unit_id
    ledger.service.execute(RecruitPerson(full_name="Trần Văn Bảo", birth_date=date(1990, 3, 3), gender="MALE", category="CIVIL_SERVANT", unit_id=unit, effective_on=date(2025, 7, 1), act=act()))
    total = ledger.store.recorder.max_notification_id() or 0
    assert second.catch_up() == total - seen
    assert first.catch_up() == 0 and second.catch_up() == 0
    target = fresh_target()
    rebuild(ledger.store, target)
    assert contents(ledger.engines) == contents(target)


# ---------------------------------------------------------------------- swapping in
def _tamper(ledger: Ledger) -> None:
    """Damage the live read models so that a swap visibly replaces them."""
    with ledger.engines.write.begin() as conn:
        conn.execute(delete(t.unit_versions))
        conn.execute(delete(t.facts))


def _count(ledger: Ledger, table: Any) -> int:
    with ledger.engines.read.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_swap_in_replaces_the_live_read_models_with_a_rebuild(ledger: Ledger, clock: FakeClock) -> None:
    generate_history(ledger, clock, seed=6, steps=60)
    expected = contents(ledger.engines)
    _tamper(ledger)
    assert _count(ledger, t.facts) == 0
    if ledger.engines.is_sqlite:
        ledger.engines.dispose()  # SQLite: the server stops (or disposes its engines) first
    applied = swap_in(ledger.settings, store=ledger.store)
    assert applied == ledger.store.recorder.max_notification_id()
    assert contents(ledger.engines) == expected
    # the ledger carries on: new facts land in the swapped-in read models
    unit = ledger.service.execute(EstablishUnit(code="SAU-SWAP", name="Xã Sau Hoán Đổi", kind="PROVINCE", parent_id=None, effective_on=date(2025, 7, 1), act=act())).unit_id
    with ledger.queries.connect() as conn:
        view = ledger.queries.unit(conn, unit, date(2025, 7, 1), ledger.queries.knowledge_position(conn, None))
    assert view is not None and view.name == "Xã Sau Hoán Đổi"
    assert ledger.projector.position() == ledger.store.recorder.max_notification_id()


def test_swap_in_while_the_read_models_are_open_is_refused_on_sqlite_and_seen_at_once_on_postgres(
        ledger: Ledger, clock: FakeClock) -> None:
    generate_history(ledger, clock, seed=7, steps=10)
    expected = contents(ledger.engines)
    query = select(func.count()).select_from(t.facts)
    with ledger.engines.read.connect() as conn:  # a server still holding a connection
        for _ in range(8):  # often enough for psycopg to prepare the statement server-side
            count = conn.execute(query).scalar_one()
            conn.commit()
        if ledger.engines.is_sqlite:
            with pytest.raises(SwapRefused):
                swap_in(ledger.settings, store=ledger.store)
            assert contents(ledger.engines) == expected
            return
        _tamper(ledger)
        assert conn.execute(query).scalar_one() == 0
        conn.commit()
        swap_in(ledger.settings, store=ledger.store)
        assert conn.execute(query).scalar_one() == count  # the same connection reads the rebuilt tables
    assert contents(ledger.engines) == expected


def test_swap_in_can_keep_the_previous_read_models(ledger: Ledger, clock: FakeClock) -> None:
    generate_history(ledger, clock, seed=8, steps=20)
    _tamper(ledger)
    if ledger.engines.is_sqlite:
        ledger.engines.dispose()
        swap_in(ledger.settings, store=ledger.store, keep_previous=True)
        views = Path(str(ledger.settings.views_url.database))
        previous = make_engines(make_url(f"sqlite:///{views.with_name(views.name + '.previous')}"))
    else:
        swap_in(ledger.settings, store=ledger.store, keep_previous=True)
        previous = make_engines(ledger.settings.views_url, f"{ledger.settings.schema}_previous")
    try:
        with previous.read.connect() as conn:
            assert conn.execute(select(func.count()).select_from(t.facts)).scalar_one() == 0  # the tampered copy
    finally:
        previous.dispose()
        if not ledger.engines.is_sqlite:
            drop_pg_schema(f"{ledger.settings.schema}_previous")
    assert _count(ledger, t.facts) > 0


def test_a_deferred_catch_up_reads_the_series_of_each_batch_together_and_agrees_with_a_rebuild(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each batch names the series its events will read (``SeriesBatch.preload``): one read per 500
    keys instead of two per series. The hint must never change what is projected."""
    ledger.service.on_commit.clear()
    generate_history(ledger, clock, seed=8, steps=160)
    singles: list[str] = []
    together: list[int] = []
    real_load, real_many = SeriesBatch._load, SeriesBatch._load_many
    monkeypatch.setattr(SeriesBatch, "_load", lambda self, series, key: singles.append(f"{series}:{key}") or real_load(self, series, key))
    monkeypatch.setattr(SeriesBatch, "_load_many",
                        lambda self, series, keys: together.append(len(keys)) or real_many(self, series, keys))

    assert Projector(ledger.store, ledger.engines, batch_size=40).catch_up() > 0

    assert sum(together) > 5 * max(1, len(singles))  # nearly every series a batch read was loaded together
    target = fresh_target()
    rebuild(ledger.store, target)
    assert contents(ledger.engines) == contents(target)


#: the two threads, which either backend can run (commit-behind is PostgreSQL's only)
BOTH = ("read-ahead", "write-behind")


@pytest.mark.parametrize(("spill_bytes", "overlaps"), [
    (0, ()), (4_000, ()), (1 << 30, ()), (0, ("read-ahead",)), (0, ("write-behind",)), (0, BOTH), (4_000, BOTH),
    (0, (*BOTH, "commit-behind")), (0, ("write-process",)), (4_000, ("read-ahead", "write-process"))],
    ids=["read-back", "part-packed", "packed", "read-back-read-ahead", "read-back-write-behind", "read-back-both",
         "part-packed-both", "read-back-commit-behind", "read-back-write-process", "part-packed-read-ahead-process"])
def test_a_rebuild_with_bounded_memory_reads_series_back_and_gives_the_same_read_models(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, spill_bytes: int, overlaps: tuple[str, ...]) -> None:
    """A national log does not fit in memory: past ``max_states`` the rebuild forgets what it holds
    after each batch and reads it back when touched again, or unpacks what it packed within
    ``spill_bytes`` (all of it, some of it, none). Same rows as the in-memory rebuild, whichever
    threads run beside the load (``overlaps``: a write still queued must be seen by the read-back
    after it)."""
    generate_history(ledger, clock, seed=9, steps=160)
    expected = contents(ledger.engines)
    target = fresh_target()
    refused = ("choose write-behind with it, on PostgreSQL" if "commit-behind" in overlaps and target.is_sqlite
               else "choose it on a SQLite file target" if "write-process" in overlaps and not target.is_sqlite
               else None)  # (each backend's own only: refused before any write)
    if refused:
        with pytest.raises(ValueError, match=refused):
            rebuild(ledger.store, target, overlaps=overlaps)
        with target.read.connect() as conn:
            assert conn.execute(select(t.tracking.c.position)).scalar_one() == 0
        return
    assert rebuild(ledger.store, target, batch_size=25, max_states=3, spill_bytes=spill_bytes,
                   overlaps=overlaps) == ledger.store.recorder.max_notification_id()
    assert contents(target) == expected


def test_a_rebuild_reads_series_back_without_waiting_for_its_queued_writes(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``max_states`` a rebuild reads forgotten series back on a second connection
    (``SeriesBatch.read_back_on``), never waiting for the previous batch's writes and commit still
    queued behind it (issue 9: the yearly flow's process and server took turns there; on SQLite the
    writer process, ``writeprocess``); the same for a unit's older figure rows. It keeps every series
    and every figure row of the units the last batch wrote, so what it reads back is committed: with
    every queued write slowed down (PostgreSQL's thread, or the pipe to SQLite's writer process), the
    rows are still the in-memory rebuild's."""
    generate_history(ledger, clock, seed=9, steps=160)
    expected = contents(ledger.engines)
    make, settle = WriteQueue._make, WriteQueue.settle
    send, process_settle = ProcessQueue._send, ProcessQueue.settle
    load, load_many, read_rows = SeriesBatch._load, SeriesBatch._load_many, FigureBatch._read_believed
    reading: list[bool] = []  # (set while a series or figure rows are read back)
    waits: list[str] = []  # the queue waited for, by whom
    loads: list[bool] = []  # per series read back: whether it went to a second connection
    figure_reads: list[bool] = []  # the same per read of a unit's older figure rows

    def slow(self: WriteQueue, write: Any) -> None:
        time.sleep(0.003)  # (a server behind: reads that waited for nothing would miss what is queued)
        make(self, write)

    def watched_settle(self: WriteQueue) -> None:
        waits.append("read-back" if reading else "other")
        settle(self)

    def slow_send(fd: int, data: bytes) -> None:  # (the writer process is sent each write late)
        time.sleep(0.003)
        send(fd, data)

    def watched_process_settle(self: ProcessQueue) -> None:
        waits.append("read-back" if reading else "other")
        process_settle(self)

    def read_back(real: Any, seen: list[bool]) -> Any:
        def called(self: Any, *args: Any) -> Any:
            seen.append(self.reader is not None and self.reader is not self.conn)
            reading.append(True)
            try:  # (a generator's reads run as it is consumed: consumed here, inside the flag)
                found = real(self, *args)
                return list(found) if inspect.isgeneratorfunction(real) else found
            finally:
                reading.pop()
        return called

    monkeypatch.setattr(WriteQueue, "_make", slow)
    monkeypatch.setattr(WriteQueue, "settle", watched_settle)
    monkeypatch.setattr(ProcessQueue, "_send", staticmethod(slow_send))
    monkeypatch.setattr(ProcessQueue, "settle", watched_process_settle)
    monkeypatch.setattr(SeriesBatch, "_load", read_back(load, loads))
    monkeypatch.setattr(SeriesBatch, "_load_many", read_back(load_many, loads))
    monkeypatch.setattr(FigureBatch, "_read_believed", read_back(read_rows, figure_reads))
    target = fresh_target()
    rebuild(ledger.store, target, batch_size=25, max_states=3, spill_bytes=0)  # (read back, not unpacked)
    assert contents(target) == expected
    assert len(loads) > 20 and figure_reads  # series and figure rows forgotten and read back
    assert all(loads) and all(figure_reads) and "read-back" not in waits and "other" in waits


def test_a_rebuild_refuses_a_thread_it_does_not_know_before_writing(ledger: Ledger, fresh_target: Any) -> None:
    """A misspelt overlap is refused by name (with the ones there are), before any row is written."""
    target = fresh_target()
    with pytest.raises(ValueError, match=r"unknown overlaps \['read-behind'\]: choose among "
                                         r"\['commit-behind', 'read-ahead', 'write-behind', 'write-process'\]"):
        rebuild(ledger.store, target, overlaps={"read-behind"})
    with target.read.connect() as conn:
        assert conn.execute(select(t.tracking.c.position)).scalar_one() == 0


def test_a_postgres_rebuild_plans_each_read_back_for_its_keys_and_gives_its_connections_back_as_they_were(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild's read-backs send their keys as one array (``bulk.key_in``), and a generic plan
    cached for such a statement guesses ten keys and the tables as they were when it was cached: on
    the national history, sequential scans of a table planned while it was empty. So every
    connection a PostgreSQL rebuild reads back on plans each statement for its values
    (``READ_SETTINGS``), and the connections go back to the pool at the server's default. (SQLite
    plans each statement as it is prepared: nothing to set.)"""
    generate_history(ledger, clock, seed=5, steps=60)
    target = fresh_target()
    modes: list[str | None] = []
    load_many = SeriesBatch._load_many

    def watched(self: SeriesBatch, series: str, keys: list[str]) -> int:
        # (the load's own connection belongs to the write queue meanwhile: read on the reader)
        modes.append(None if self.reader is None or self.conn.dialect.name == "sqlite"
                     else self.reader.exec_driver_sql("SHOW plan_cache_mode").scalar_one())
        return load_many(self, series, keys)

    monkeypatch.setattr(SeriesBatch, "_load_many", watched)
    rebuild(ledger.store, target, batch_size=25, max_states=3, spill_bytes=0)
    assert contents(target) == contents(ledger.engines)
    assert len(modes) > 10 and set(modes) == ({None} if target.is_sqlite else {"force_custom_plan"})
    if target.is_sqlite:
        return
    pooled = target.write.pool.checkedin()  # type: ignore[attr-defined]
    with contextlib.ExitStack() as stack:
        connections = [stack.enter_context(target.write.connect()) for _ in range(pooled)]
        assert {c.exec_driver_sql("SHOW plan_cache_mode").scalar_one() for c in connections} == {"auto"}


def test_a_rebuild_runs_threads_on_postgres_and_a_writer_process_on_sqlite(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """By default (``OVERLAPS``) a PostgreSQL rebuild reads ahead, writes behind and commits behind,
    where it waits on the server; a SQLite one runs no thread (its database work is the process's
    own: both threads measured slower there) but has its writes made by a child process."""
    generate_history(ledger, clock, seed=3, steps=40)
    used: list[str] = []
    real_reading, real_queued, real_commit, real_process = Projector.reading_ahead, rebuild_module.queued_writes, \
        rebuild_module.commit_behind, rebuild_module.written_by_process

    def reading(self: Projector) -> Any:
        used.append("read-ahead")
        return real_reading(self)

    def queued(conn: Any) -> Any:
        used.append("write-behind")
        return real_queued(conn)

    def commit(conn: Any) -> None:
        used.append("commit-behind")
        real_commit(conn)

    def process(conn: Any) -> Any:
        used.append("write-process")
        return real_process(conn)

    monkeypatch.setattr(Projector, "reading_ahead", reading)
    monkeypatch.setattr(rebuild_module, "queued_writes", queued)
    monkeypatch.setattr(rebuild_module, "commit_behind", commit)
    monkeypatch.setattr(rebuild_module, "written_by_process", process)
    target = fresh_target()
    rebuild(ledger.store, target)
    assert sorted(set(used)) == (["write-process"] if target.is_sqlite
                                 else ["commit-behind", "read-ahead", "write-behind"])
    assert contents(target) == contents(ledger.engines)


@pytest.mark.parametrize("max_cached", [None, 40])
def test_a_sqlite_rebuild_reads_its_acts_forwards_in_stored_order_and_gives_the_same_read_models(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch,
        max_cached: int | None) -> None:
    """Issue 9 (``acts.ActStream``): a SQLite rebuild reads the acts each batch lacks as the next rows
    of the acts table, not one key at a time. A history recorded in order needs no act looked up by
    key; with a cache that keeps starting over (``max_cached``), the acts cited again are looked up
    by key. Either way the read models are the incrementally maintained ones. A PostgreSQL rebuild
    reads its acts on the read-ahead thread, by key, as before."""
    generate_history(ledger, clock, seed=5, steps=160)
    if max_cached is not None:
        monkeypatch.setattr(acts_module, "MAX_CACHED", max_cached)
    streams: list[Any] = []
    real_stream = rebuild_module.act_stream
    monkeypatch.setattr(rebuild_module, "act_stream", lambda recorder: streams.append(real_stream(recorder))
                        or streams[-1])
    acts = ledger.store.acts
    looked_up: list[str] = []
    real_loader = acts.bulk_loader
    assert real_loader is not None
    monkeypatch.setattr(acts, "bulk_loader", lambda keys: looked_up.extend(keys) or real_loader(keys))
    acts._start_again()  # (cold, as in a rebuild's own process)
    target = fresh_target()
    rebuild(ledger.store, target, batch_size=37)
    assert contents(target) == contents(ledger.engines)
    if not target.is_sqlite:
        assert streams == [] and looked_up
        return
    (stream,) = streams
    stored = sum(1 for _ in sqlite_rows(ledger.store.recorder, "SELECT key FROM legal_acts"))
    assert stream.looked_up == len(looked_up)
    if max_cached is None:
        assert looked_up == [] and stream.read == stored
    else:
        assert 0 < len(looked_up) < stored and stream.read > stored // 2


def test_a_sqlite_rebuild_sorts_its_last_indexes_on_helper_threads_and_gives_its_connection_back_as_it_was(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 9 (``rebuild._sorting_on_threads``): the indexes only queries need are made once the
    whole log is applied; on SQLite, sorting on SQLite's helper threads in runs smaller than the
    page cache (``FINISH_PRAGMAS``), and the connection then goes back to the pool as every other
    one: no helper threads, its page cache as before. PostgreSQL makes its last indexes on two
    connections of its own, as before."""
    generate_history(ledger, clock, seed=5, steps=60)
    seen: list[tuple[int, int]] = []
    real_make = rebuild_module._make_indexes

    def make(conn: Any, names: Any, made: set[str]) -> None:
        names = set(names)
        if "ix_facts_type" in names and conn.dialect.name == "sqlite":  # (an index only queries need)
            seen.append((conn.exec_driver_sql("PRAGMA threads").scalar_one(),
                         conn.exec_driver_sql("PRAGMA cache_size").scalar_one()))
        real_make(conn, names, made)

    monkeypatch.setattr(rebuild_module, "_make_indexes", make)
    target = fresh_target()
    rebuild(ledger.store, target, batch_size=37)
    assert contents(target) == contents(ledger.engines)
    if not target.is_sqlite:
        assert seen == []
        return
    wanted = dict(pragma.split("=") for pragma in rebuild_module.FINISH_PRAGMAS)
    assert int(wanted["threads"]) >= 2 and -65536 < int(wanted["cache_size"]) < 0  # (runs smaller than 64 MiB)
    assert seen == [(int(wanted["threads"]), int(wanted["cache_size"]))]
    pooled = target.write.pool.checkedin()  # type: ignore[attr-defined]
    with contextlib.ExitStack() as stack:
        connections = [stack.enter_context(target.write.connect()) for _ in range(max(pooled, 1))]
        assert {(c.exec_driver_sql("PRAGMA threads").scalar_one(), c.exec_driver_sql("PRAGMA cache_size").scalar_one())
                for c in connections} == {(0, -65536)}
    with target.read.connect() as conn:
        names = {row[0] for row in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {str(index.name) for index in rebuild_module._secondary_indexes()} <= names


def _persistence(engines: ViewEngines) -> dict[str, str]:
    """Each table's and sequence's persistence in a PostgreSQL target's schema ('u' unlogged, 'p' logged)."""
    with engines.read.connect() as conn:
        return {str(name): str(mode) for name, mode in conn.exec_driver_sql(
            "SELECT relname, relpersistence FROM pg_class WHERE relkind IN ('r', 'S') "
            "AND relnamespace = current_schema()::regnamespace")}


@pytest.mark.parametrize(("asked", "unlogged_from", "unlogged"), [
    (True, None, True), (False, None, False), (None, 1, True), (None, None, False)],
    ids=["unlogged", "logged", "default-large-log", "default-small-log"])
def test_a_postgres_rebuild_loads_its_tables_unlogged_and_leaves_them_logged(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch, asked: bool | None,
        unlogged_from: int | None, unlogged: bool) -> None:
    """Asked to, or by default (``UNLOGGED``) for a log of ``UNLOGGED_FROM`` entries or more (this small
    history is one only where the threshold is lowered), a PostgreSQL rebuild loads every read-model
    table but the tracking row's without the write-ahead log, and the finish makes each logged again
    (a table left unlogged would be emptied by the server's crash recovery after the swap): the same
    rows either way, also with bounded memory (read-backs of unlogged rows). SQLite has no such tables."""
    if unlogged_from is not None:
        monkeypatch.setattr(rebuild_module, "UNLOGGED_FROM", unlogged_from)
    generate_history(ledger, clock, seed=5, steps=80)
    expected = contents(ledger.engines)
    if ledger.engines.is_sqlite:  # (no such tables: asked for, refused before any write; else loaded logged)
        target = fresh_target()
        if asked:
            with pytest.raises(ValueError, match="unlogged tables are PostgreSQL's"):
                rebuild(ledger.store, target, unlogged=True)
            with target.read.connect() as conn:
                assert conn.execute(select(t.tracking.c.position)).scalar_one() == 0
        else:
            rebuild(ledger.store, target, batch_size=40, max_states=3, unlogged=asked, spill_bytes=0)
            assert contents(target) == expected
        return
    seen: list[dict[str, str]] = []
    real_end = rebuild_module._end_batch

    def end_batch(conn: Any, *args: Any) -> None:
        real_end(conn, *args)
        seen.append(_persistence(target))  # (committed: seen from another connection)

    monkeypatch.setattr(rebuild_module, "_end_batch", end_batch)
    target = fresh_target()
    rebuild(ledger.store, target, batch_size=40, max_states=3, unlogged=asked, spill_bytes=0)
    assert contents(target) == expected
    loaded = {name: mode for name, mode in seen[0].items() if name != "alembic_version"}
    assert loaded[t.tracking.name] == "p"
    assert set(loaded.values()) == ({"u", "p"} if unlogged else {"p"})
    if unlogged:  # every read-model table, and the sequences of their row ids, went without the log
        assert {name for name, mode in loaded.items() if mode == "p"} == {t.tracking.name}
        assert {table.name for table in TABLES} <= set(loaded)
        assert any(name.endswith("_seq") for name in loaded)
    assert set(_persistence(target).values()) == {"p"}


def test_a_rebuild_that_keeps_some_kinds_of_series_reads_only_the_others_back(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forgetting with ``keep_series``: the units' and quotas' series (few, touched again and again)
    stay held, so none of them is read back; the people's are, and the rows are the same. (The
    batches keep one size: where a batch grows, a unit first seen after forgetting began is looked
    up once, as a new quota ledger's is.)"""
    monkeypatch.setattr(rebuild_module, "LATE_WIDENING", 1)
    generate_history(ledger, clock, seed=9, steps=160)
    expected = contents(ledger.engines)
    loaded: list[str] = []
    load_many, load = SeriesBatch._load_many, SeriesBatch._load

    def counted_many(self: SeriesBatch, series: str, keys: list[str]) -> int:
        loaded.extend([series] * len(keys))
        return load_many(self, series, keys)

    def counted(self: SeriesBatch, series: str, key: str) -> Any:
        loaded.append(series)
        return load(self, series, key)

    monkeypatch.setattr(SeriesBatch, "_load_many", counted_many)
    monkeypatch.setattr(SeriesBatch, "_load", counted)
    rebuild(ledger.store, fresh_target(), batch_size=25, max_states=3, keep_series=(), spill_bytes=0)
    forgetting = Counter(loaded)
    assert forgetting["unit"] and forgetting["quota"] and forgetting["person"]  # every kind read back
    loaded.clear()
    target = fresh_target()
    rebuild(ledger.store, target, batch_size=25, max_states=3, keep_series={"unit", "quota"}, spill_bytes=0)
    keeping = Counter(loaded)
    assert keeping["person"] == forgetting["person"] and keeping["unit"] == 0
    assert keeping["quota"] < forgetting["quota"]  # (a new ledger's series is still looked up once)
    assert contents(target) == expected


def test_a_rebuild_unpacks_the_series_it_forgot_instead_of_reading_them_back(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within its ``spill_bytes`` a rebuild past ``max_states`` reads no series back from the tables:
    each one forgotten is unpacked when next touched (issue 9: ~67 µs a read-back on PostgreSQL)."""
    generate_history(ledger, clock, seed=9, steps=160)
    read_back = _count_stored_reads(monkeypatch)
    unpacked = []
    take = _Spilled.take

    def counted_take(self: _Spilled, key: tuple[str, str]) -> Any:
        found = take(self, key)
        unpacked.extend([key] if found is not None else [])
        return found

    monkeypatch.setattr(_Spilled, "take", counted_take)
    target = fresh_target()
    rebuild(ledger.store, target, batch_size=25, max_states=3, spill_bytes=1 << 30)
    assert len(unpacked) > 20  # series were forgotten and used again
    assert read_back == []  # not one load from the tables
    rebuild(ledger.store, fresh_target(), batch_size=25, max_states=3, spill_bytes=0)
    assert len(read_back) > 5 and sum(read_back) > 20  # loads that read facts back


def test_a_rebuild_doubles_its_batches_once_it_has_begun_forgetting(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``max_states`` a rebuild's batches hold ``LATE_WIDENING`` times ``batch_size`` entries
    (its read-backs and marks paid for more entries at a time), read ahead at that size too; before,
    ``batch_size``; and the rows are the same."""
    generate_history(ledger, clock, seed=9, steps=160)
    expected = contents(ledger.engines)
    sizes: list[tuple[int, int | None]] = []  # (the batch's size, the read-ahead's) as each batch is read
    forgot: list[int] = []  # the number of batches read when each forgetting began
    real_apply, real_forget = Projector.apply_next, SeriesBatch.forget

    def apply_next(self: Projector, *args: Any, **kwargs: Any) -> Any:
        reader = self._reader
        sizes.append((self.batch_size, None if reader is None else reader.size))
        return real_apply(self, *args, **kwargs)

    def forget(self: SeriesBatch, *args: Any) -> None:
        forgot.append(len(sizes))
        real_forget(self, *args)

    monkeypatch.setattr(Projector, "apply_next", apply_next)
    monkeypatch.setattr(SeriesBatch, "forget", forget)
    monkeypatch.setattr(rebuild_module, "LATE_WIDENING", 3)
    target = fresh_target()
    assert rebuild(ledger.store, target, batch_size=10, max_states=40, spill_bytes=0,
                   overlaps=("read-ahead",)) == ledger.store.recorder.max_notification_id()
    assert contents(target) == expected
    # a batch ends (and first forgets) while the next is being read: the one after that is the first wider
    first = forgot[0]
    assert 1 < first < len(sizes) - 2
    assert sizes == [(10, 10)] * first + [(30, 30)] * (len(sizes) - first)


def test_a_rebuild_runs_with_the_collector_off_and_collects_in_full_every_so_many_entries(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No automatic collection runs during a rebuild (the young ones walked every batch's survivors
    again); a full collection runs each time ``COLLECT_EVERY`` more entries have been applied and
    freezes what survives it (the next walks only what was made since), the collector is running
    again afterwards with nothing left frozen, and what is rebuilt is unchanged."""
    generate_history(ledger, clock, seed=4, steps=60)
    expected = contents(ledger.engines)
    last = ledger.store.recorder.max_notification_id()
    monkeypatch.setattr(rebuild_module, "COLLECT_EVERY", 50)
    collections: list[int] = []
    loading = [False]
    load = rebuild_module._load

    def watched_load(*args: Any) -> int:  # the load only: migrating the target runs as usual before it
        loading[0] = True
        try:
            return load(*args)
        finally:
            loading[0] = False

    frozen_before: list[int] = []  # the objects frozen when each collection starts

    def seen(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and loading[0]:
            collections.append(info["generation"])
            frozen_before.append(gc.get_freeze_count())

    monkeypatch.setattr(rebuild_module, "_load", watched_load)

    target = fresh_target()
    assert gc.isenabled()
    gc.callbacks.append(seen)
    try:
        assert rebuild(ledger.store, target, batch_size=20) == last
    finally:
        gc.callbacks.remove(seen)
    assert gc.isenabled()
    full_batches = last // 20  # every batch but the last counts towards COLLECT_EVERY
    assert collections == [2] * (full_batches // 3)  # 60 entries a collection: 20 at a time, at least 50
    assert len(collections) >= 2 and frozen_before[0] == 0 and all(n > 0 for n in frozen_before[1:])
    assert gc.get_freeze_count() == 0
    assert contents(target) == expected


def test_a_long_catch_up_runs_with_the_collector_off_and_collects_in_full_every_so_many_entries(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A catch-up keeps the collector off from its first batch to its last (between batches too,
    where the young collections walked the held series again), collects in full each time
    ``COLLECT_EVERY`` more entries have been applied, and leaves the collector running after."""
    from staffing.bootstrap import migrate

    ledger.service.on_commit.clear()
    generate_history(ledger, clock, seed=4, steps=60)
    ledger.projector.catch_up()
    last = ledger.store.recorder.max_notification_id()
    target = fresh_target()
    migrate(target)
    projector = Projector(ledger.store, target, batch_size=40)
    monkeypatch.setattr(projector_module, "COLLECT_EVERY", 100)
    between: list[bool] = []  # whether the collector ran, looked at after each batch
    due = projector.pacer.due
    monkeypatch.setattr(projector.pacer, "due", lambda rows: between.append(gc.isenabled()) or due(rows))
    explicit: list[int] = []

    def seen(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and not gc.isenabled():  # an automatic collection runs only while enabled
            explicit.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        assert projector.catch_up(check=False) == last
    finally:
        gc.callbacks.remove(seen)
    assert gc.isenabled()
    assert len(between) == last // 40 + 1 and not any(between)
    assert explicit == [2] * (last // 40 // 3)  # 120 entries a collection: 40 at a time, at least 100
    assert contents(target) == contents(ledger.engines)


def test_a_new_projector_process_finds_the_units_of_quota_ledgers_opened_before_it_started(
        ledger: Ledger, fresh_target: Any) -> None:
    """A catch-up in a new process knows no quota ledger yet: their units are looked up together
    (one read per 500 ledgers, by the partial index ``ix_facts_ledger``) before the batch is applied."""
    ledger.service.on_commit.clear()
    communes = [establish(ledger.service, code=f"X{i}", name=f"Xã {i}", kind="PROVINCE") for i in range(3)]
    for commune in communes:
        assign_quota(ledger.service, commune, 10)
    assert ledger.projector.catch_up() > 0
    for commune in communes:  # new figures on ledgers opened (and projected) earlier
        assign_quota(ledger.service, commune, 12, effective_on=date(2021, 1, 1))
    new_process = Projector(ledger.store, ledger.engines)
    assert new_process.catch_up() > 0
    assert set(new_process._ledger_units.values()) == set(communes)
    with ledger.engines.read.connect() as conn:
        amounts = {r.unit_id: r.amount for r in conn.execute(select(t.quota_versions).where(
            t.quota_versions.c.valid_from == date(2021, 1, 1), t.quota_versions.c.rec_to == t.OPEN_POSITION))}
    assert amounts == dict.fromkeys(communes, 12)
    target = fresh_target()
    rebuild(ledger.store, target)
    assert contents(ledger.engines) == contents(target)


# ---------------------------------------------------------------------- series carried between batches
def _count_stored_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Facts read back from the tables by ``SeriesBatch`` loads (one entry per load)."""
    read: list[int] = []
    real_load, real_many = SeriesBatch._load, SeriesBatch._load_many

    def load(self: SeriesBatch, series: str, key: str) -> Any:
        state = real_load(self, series, key)
        read.append(len(state.facts))
        return state

    def load_many(self: SeriesBatch, series: str, keys: list[str]) -> int:
        loaded = real_many(self, series, keys)
        read.append(sum(len(self.states[(series, key)].facts) for key in keys))
        return loaded

    monkeypatch.setattr(SeriesBatch, "_load", load)
    monkeypatch.setattr(SeriesBatch, "_load_many", load_many)
    return read


def test_a_projector_carries_its_series_from_one_batch_to_the_next_and_reads_none_back(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A long catch-up keeps the series it wrote in memory (issue 9: reading them back was most of
    a batch): a projector alone on its read models reads back no fact it wrote itself."""
    ledger.service.on_commit.clear()
    generate_history(ledger, clock, seed=11, steps=160)
    read = _count_stored_reads(monkeypatch)
    target = fresh_target()
    from staffing.bootstrap import migrate

    migrate(target)
    alone = Projector(ledger.store, target, batch_size=40)
    assert alone.catch_up() == ledger.store.recorder.max_notification_id()
    assert read and sum(read) == 0
    # the same run with the token taken away before each batch reads its series back, and agrees
    ledger.projector.batch_size = 40
    real = Projector._run_batch

    def forgetful(self: Projector) -> int:
        self._carried = None
        return real(self)

    monkeypatch.setattr(Projector, "_run_batch", forgetful)
    assert ledger.projector.catch_up() > 0
    assert sum(read) > 0
    assert contents(ledger.engines) == contents(target)


def test_a_projector_past_its_held_limit_keeps_going_from_what_it_keeps_and_agrees_with_a_rebuild(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``MAX_HELD`` a projector forgets its series after each batch but keeps each unit's last
    figure rows (``ROWS_KEPT``, one here so that older rows are read back often) and every root row
    it holds (``FigureBatch.forget``, ``Rollup.roots``); the next batches change those, read older
    rows back where a late fact reaches them, and end with the rows a rebuild derives."""
    ledger.service.on_commit.clear()
    generate_history(ledger, clock, seed=13, steps=160)
    monkeypatch.setattr(projector_module, "MAX_HELD", 2)
    monkeypatch.setattr(figures_module, "ROWS_KEPT", 1)
    target = fresh_target()
    from staffing.bootstrap import migrate

    migrate(target)
    forgetful = Projector(ledger.store, target, batch_size=15)
    kept: list[int] = []
    real_forget = SeriesBatch.forget

    def watched(self: SeriesBatch) -> None:
        real_forget(self)
        kept.append(len(self.figures.units))
        assert all(len(rows) <= 1 for rows in self.figures.units.values())

    monkeypatch.setattr(SeriesBatch, "forget", watched)
    assert forgetful.catch_up() == ledger.store.recorder.max_notification_id()
    assert len(kept) > 5 and max(kept) > 0
    rebuilt = fresh_target()
    rebuild(ledger.store, rebuilt)
    assert contents(target) == contents(rebuilt)


def test_a_projector_reads_back_what_another_process_wrote_since_its_last_batch(
        ledger: Ledger, clock: FakeClock, fresh_target: Any) -> None:
    """Two projectors on one read model take turns; each finds the other's token in the tracking
    row and reads the series back instead of trusting what it held (else the person's stale
    state would lose the transfer, and row ids would collide)."""
    from staffing.application import RetirePerson, TransferPerson

    ledger.service.on_commit.clear()
    first, second = ledger.projector, Projector(ledger.store, ledger.engines)
    units = [establish(ledger.service, code=f"T{i}", name=f"Tỉnh {i}") for i in range(2)]
    person = recruit(ledger.service, units[0])
    assert first.catch_up() > 0
    ledger.service.execute(TransferPerson(person_id=person, to_unit_id=units[1], effective_on=date(2022, 1, 1),
                                          act=act()))
    assert second.catch_up() > 0
    ledger.service.execute(RetirePerson(person_id=person, effective_on=date(2024, 1, 1), act=act()))
    assert first.catch_up() > 0
    target = fresh_target()
    rebuild(ledger.store, target)
    assert contents(ledger.engines) == contents(target)
    with ledger.engines.read.connect() as conn:
        moved = conn.execute(select(t.facts.c.other_unit_id).where(t.facts.c.type == "PersonRetired")).scalar_one()
        assert moved is None
        where = conn.execute(select(t.facts.c.unit_id).where(t.facts.c.type == "PersonRetired")).scalar_one()
    assert where == units[1]  # the retiring projector knew of the transfer the other one applied


def test_a_failed_batch_leaves_nothing_held_and_the_retry_projects_exactly_once(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The failed batch's transaction rolls back; the states it changed in memory must go too."""
    ledger.service.on_commit.clear()
    generate_history(ledger, clock, seed=12, steps=120)
    projector = Projector(ledger.store, ledger.engines, batch_size=30)
    real_flush, calls, ends = Projector._flush, [], []

    def failing(self: Projector, batch: Any, *args: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        real_flush(self, batch, *args)
        ends.append(batch.clock[-1][0])  # the batch's last position (a batch ends where a run ends)

    monkeypatch.setattr(Projector, "_flush", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        projector.catch_up()
    assert projector._carried is None
    assert projector.position() == ends[-1] >= 50  # two batches of ~30 entries committed, the third not
    assert projector.catch_up() > 0
    target = fresh_target()
    rebuild(ledger.store, target)
    assert contents(ledger.engines) == contents(target)


def test_the_log_clock_keeps_one_row_per_recording_moment_wherever_batches_are_cut(
        ledger: Ledger, clock: FakeClock, fresh_target: Any) -> None:
    """The clock stores only the last position of each run recorded at one moment; a run cut by a
    batch boundary still ends on one row (moved forward), and "the last position recorded by T" is
    what the log itself says: the largest position whose running-maximum timestamp is <= T."""
    ledger.service.on_commit.clear()  # projected later, in small batches that cut the runs
    unit = establish(ledger.service, kind="COMMUNE", effective_on=date(2020, 1, 1))
    for size in (30, 1, 12, 25):  # one transaction, one recording moment, ~2 log entries per command
        ledger.service.run([Item(RecruitPerson(full_name=f"Người {size}-{i}", birth_date=date(1990, 1, 1),
                                               gender="FEMALE", category="CADRE", unit_id=unit,
                                               effective_on=date(2021, 1, 1), act=act()))
                            for i in range(size)], Mode.ATOMIC)
        clock.now -= timedelta(seconds=5)  # the next writer's clock lags: its entries join this moment's run
    establish(ledger.service, kind="COMMUNE", effective_on=date(2020, 1, 1))
    notifications = ledger.store.recorder.select_notifications(start=1, limit=10_000)
    running, moment_of = 0, {}  # the oracle: each position's running-maximum recording moment
    for n in notifications:
        running = max(running, to_us(ledger.store.mapper.to_domain_event(n).timestamp))
        moment_of[n.id] = running
    runs = len(set(moment_of.values()))
    assert len(notifications) > 3 * runs  # there are long runs to cut

    projector = Projector(ledger.store, ledger.engines, batch_size=7)
    assert projector.catch_up() == len(notifications)
    target = fresh_target()
    rebuild(ledger.store, target, batch_size=10_000)
    ordered = list(moment_of.items())
    ends = [(p, m) for i, (p, m) in enumerate(ordered) if i + 1 == len(ordered) or ordered[i + 1][1] != m]
    for engines in (ledger.engines, target):
        with engines.read.connect() as conn:
            rows = conn.execute(select(t.log_clock.c.position, t.log_clock.c.recorded_us)
                                .order_by(t.log_clock.c.position)).all()
            assert [tuple(r) for r in rows] == ends, "one row per run of one moment, at the run's end"
            for moment in sorted({m + d for m in moment_of.values() for d in (-1, 0, 1)}):
                expected = max((p for p, m in moment_of.items() if m <= moment), default=0)
                assert ledger.queries.knowledge_position(conn, from_us(moment)) == expected
