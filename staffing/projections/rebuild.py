"""Rebuild the read models from the whole event log, and swap a rebuilt copy in for the live one.

Why a separate path from ``Projector.catch_up``: catching up re-loads every touched series from
the database at each batch (it cannot know what an earlier batch left behind), while a rebuild
starts from empty tables. So ``rebuild`` keeps *one* ``SeriesBatch(fresh=True)`` in memory across
all batches — nothing is ever read back — decodes large batches of notifications straight into
rows, and creates the secondary indexes only after the load (ENGINEERING.md: rebuilds go fastest
that way). A log too large to hold every series in memory (a national history: ~1 KB per event,
~17 GB) is rebuilt with bounded memory: once more than ``max_states`` series are held, the indexes
its read-backs go through are created (``LOAD_INDEXES``; the query-only ones still after the load)
and the series are forgotten after each batch, to be read back (together, a batch at a time)
when next touched — the catch-up's way, at the catch-up's speed — or, with ``spill_bytes`` (off by
default, ``SPILL_BYTES``), packed in memory and unpacked instead. Each unit's last figure rows
(``figures.ROWS_KEPT``) and root rows stay held throughout (``SeriesBatch.forget``); on PostgreSQL the
figure rows' load index leaves out ``rec_to`` and their pages keep room, so closing one stays on its
page (``STAND_INS``, ``LOAD_FILLFACTOR``). PostgreSQL's planner
statistics (``staffing.planner``) are gathered during the load only from then on: while every
series is held nothing is read back, so nothing needs planning; after the load, the last indexes
and the statistics of every table are made on two connections at once (``_finish_in_parallel``:
the server's work, on the core the rebuild's process leaves idle while it waits). On PostgreSQL the
process and the server also overlap during the load (``OVERLAPS``): the next window of the log and
the acts it cites are read on a thread while a batch is applied (``readahead``), and a batch's bulk
writes are made on a thread while the process computes the rest of it and decodes the next window
(``writebehind``; with ``"commit-behind"``, its tracking row and commit too), and forgotten series
are read back on a second connection that does not wait for those writes (``_reading_back``). A PostgreSQL
target's tables are loaded without the write-ahead log and made logged at the finish
(``UNLOGGED``). Each batch commits together with the tracking row, so the target always holds a
consistent prefix of the log; a rebuild that fails part-way is simply started again on a fresh
target (it is never swapped in).

``swap_in`` builds beside the live read models and then replaces them in one step:

- SQLite: the rebuilt file is checkpointed into a single self-contained file (journal mode
  DELETE, no ``-wal``) and moved over the live views file with ``os.replace`` (atomic on POSIX).
  **The server must be stopped, or every engine on the views file disposed, first**: an open
  connection keeps reading the old inode, and a live ``-wal`` belongs to the old file. ``swap_in``
  checks this by switching the live file out of WAL mode, which SQLite refuses while another
  connection has it open, and it then gives up without touching anything.
- PostgreSQL: the rebuild goes into a fresh schema ``<live>_rebuild``. The event-store tables
  share the live schema with the read models (one ``STAFFING_DB_SCHEMA``, or ``public``), so
  renaming whole schemas (``ALTER SCHEMA ... RENAME``) would carry the event store away with the
  old read models. Instead, one transaction locks the live read-model tables (tracking row first,
  the order the projector takes them, so the swap queues behind a running batch instead of
  deadlocking), moves each of them to ``<live>_previous`` and each rebuilt table into the live
  schema (``ALTER TABLE ... SET SCHEMA``: indexes, constraints and owned sequences go along), and
  commits. Readers and the projector see the old tables until the commit and the new ones after
  it; nothing has to stop. Events appended meanwhile are picked up by the next ``catch_up``, from
  the rebuilt tracking position. ``<live>_previous`` is dropped unless ``keep_previous``.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Index, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from staffing.chain import act_stream
from staffing.config import Settings
from staffing.pause import CollectEvery, collection_paused
from staffing.planner import FRACTION, Pacer
from staffing.projections import tables as t
from staffing.projections.bulk import refresh_statistics, update_rows
from staffing.projections.db import WRITER_CACHE, ViewEngines, make_engines
from staffing.projections.projector import BATCH_SIZE, COLLECT_EVERY, PROJECTION_NAME, SERIES, Projector
from staffing.projections.series import SeriesBatch
from staffing.projections.writebehind import commit_behind, queued_writes
from staffing.projections.writeprocess import file_of, written_by_process

__all__ = ["NotFresh", "SwapRefused", "TamperDetected", "rebuild", "swap_in"]

ALEMBIC_TABLE = "alembic_version"


class NotFresh(RuntimeError):
    """The rebuild target already holds projected events."""


class SwapRefused(RuntimeError):
    """The live read models are in use (SQLite): stop the server or dispose its engines first."""


class TamperDetected(RuntimeError):
    """The event log's hash chain is broken: a rebuild would serve edited history as if it were true."""


def _secondary_indexes() -> list[Index]:
    """The indexes a rebuild drops first: every index that is neither primary nor unique."""
    return [ix for table in t.metadata.sorted_tables for ix in sorted(table.indexes, key=lambda i: str(i.name))
            if not ix.unique]


#: the secondary indexes a rebuild with bounded memory reads back through once it forgets what it
#: holds (``max_states``): series by their key, a unit's open figure and roll-up rows, a unit's
#: children, the roll-up's deltas and checkpoints since its last mark. (A rebuild's projector sees
#: each quota ledger opened before its figures, so it never looks a ledger's unit up by aggregate.)
#: Made as soon as the rebuild starts forgetting; every other secondary index only serves queries
#: and is made after the whole load, so the load never maintains it (ENGINEERING.md: indexes after
#: the load). On a national log the load goes on for millions of entries after the first
#: forgetting; measured on its first 6.8 M entries the split was neither faster nor slower while the
#: tables fit in memory (benchmarks/RESULTS.md section 20); beyond memory, each index maintained
#: takes random page writes (facts alone has four query-only indexes, ~10 M rows nationally). A
#: read-back made without its index here is caught by
#: ``test_a_bounded_memory_rebuild_reads_back_only_through_indexes``.
LOAD_INDEXES = frozenset({
    "ix_unit_versions_unit", "ix_person_versions_person", "ix_position_versions_position",
    "ix_quota_versions_unit", "ix_excess_versions_unit",  # series by key (``SeriesBatch._load_many``)
    "ix_unit_figures_open",  # a unit's open figure rows (``FigureBatch``)
    "ix_unit_roots_unit", "ix_unit_versions_parent",  # a unit's roots and children (``Rollup``)
    "ix_root_deltas_position", "ix_root_checkpoints_bound",  # the roll-up's marks (``_Marks``)
})

#: of ``LOAD_INDEXES``, those a load reads back through while it has packed every series it forgot
#: (``SeriesBatch.fresh``, ``spill_bytes``): it then reads back no series and no roll-up row (those
#: hold everything they wrote), only a unit's figure rows older than those it holds. Why (issue 9):
#: each index made at the first forgetting is maintained through the whole yearly flow, a random
#: page write per row (the people's ~10 M rows keyed by id), for read-backs that never come; made
#: after the load instead, each is one sort. Should the packing run out of budget, the others are
#: made before the next batch reads anything back (``_end_batch``).
PACKED_LOAD_INDEXES = frozenset({"ix_unit_figures_open"})

#: the secondary index a rebuild keeps through its load: it holds only the facts that open a quota
#: ledger (a few per unit, so keeping it costs nothing), and the look-up of a ledger's unit names it
#: (``projector.ledger_units``: SQLite's ``INDEXED BY``, which fails where the index is missing)
KEPT_INDEXES = frozenset({"ix_facts_ledger"})

#: PostgreSQL: the load index that stands in for each of ``LOAD_INDEXES`` named here, by (its name,
#: its columns). Why (issue 9): a unit's figure row is closed by an UPDATE of its ``rec_to``, and
#: ``ix_unit_figures_open`` names ``rec_to``, so no closing could stay on its page (HOT): each wrote
#: a new version elsewhere and an entry into both indexes, 3.4 M closings of the national load and
#: the largest statement of its server (16 µs each, ``benchmarks/server_statements``, RESULTS.md
#: section 44). Without ``rec_to`` in any index, and with room left on the table's pages
#: (``LOAD_FILLFACTOR``), they can. The stand-in still finds a unit's believed rows
#: (``FigureBatch._read_believed``: by unit and ``valid_to``, ``rec_to`` checked on the row), at the
#: cost of reading its closed rows too; a load reads figure rows back rarely (a unit's last rows stay
#: held, ``figures.ROWS_KEPT``). At the finish the stand-in is dropped and the real index made
#: (``_finish_in_parallel``); a live catch-up, which reads figure rows back every batch, keeps it.
STAND_INS: dict[str, tuple[str, tuple[str, ...]]] = {"ix_unit_figures_open": ("ix_unit_figures_loading",
                                                                              ("unit_id", "valid_to"))}
#: PostgreSQL: the tables given room on each page for their closings during the load only, and how
#: full their pages are filled (``fillfactor``): the figure rows (see ``STAND_INS``). Reset at the
#: finish before the table is made logged (``SET LOGGED`` rewrites it, then compact): the live
#: table's closings cannot stay on their page, ``ix_unit_figures_open`` names ``rec_to`` (the series
#: tables keep their room for good: migration 0010)
LOAD_FILLFACTOR: dict[str, int] = {"unit_figures": 90}

#: series held in memory by a rebuild before it starts reading them back (a few hundred MB)
MAX_STATES = 200_000

#: how many times ``batch_size`` entries a rebuild's batch holds once it has begun forgetting (more
#: than ``max_states`` series held; 1: no change). Issue 9: batches of 50,000 from the first were
#: slower in the setup and faster once the load forgets, where each batch pays its forget, its
#: read-backs and its marks (``benchmarks/RESULTS.md`` section 49); doubling only from there measured
#: 1.003x, 1.100x and 1.023x the national rebuild on PostgreSQL in three rounds (section 50), +110 MiB
LATE_WIDENING = 2

#: the kinds of series a rebuild keeps holding when it forgets the others (``SeriesBatch.forget``).
#: None by default: keeping the quotas' (~645,000 of a national rebuild's read-backs) measured
#: 1.095x once on the whole national history (PostgreSQL) and 1.00x in a second run, at +0.13 GB
#: peak memory (benchmarks/RESULTS.md section 37): no gain shown until alternating pairs show one
KEEP_SERIES: frozenset[str] = frozenset()

#: the threads a rebuild's load runs beside the process, by backend: ``"read-ahead"`` (the next window
#: of the log and its acts, ``Projector.reading_ahead``) and ``"write-behind"`` (the batches' bulk
#: writes, ``writebehind``). On PostgreSQL the process waits on the server about half its time and
#: the writes overlap it; on SQLite the database is the process's own work, and both threads only
#: take turns with it on the interpreter's lock: measured in alternating province pairs, SQLite
#: 0.93x with both, PostgreSQL 1.06x (write-behind alone 1.07x, read-ahead alone 1.00x; the national
#: setup waits on the log and acts a sixth of its time: benchmarks/RESULTS.md sections 36, 37)
#: ``"commit-behind"`` (with write-behind, PostgreSQL only): a batch's tracking row, statistics and
#: commit queued behind its writes too, the process going on into the next batch unless a read-back
#: needs the rows (``writebehind.commit_behind``): with unlogged tables, the whole national history
#: 1.10x the logged rebuild without it in two pairs, of which unlogged tables alone 1.03x (section 38)
#: ``"write-process"`` (SQLite only, instead of write-behind): the batches' bulk writes, tracking rows
#: and commits made by a child process on the other core (``writeprocess``): where a thread only takes
#: turns, a process computes beside the load: the province rebuild 1.19–1.24x in alternating rounds,
#: 1.22x forgetting every batch, the first 7.57 M national entries 1.29x and 1.44x (section 51)
THREADS = frozenset({"read-ahead", "write-behind", "commit-behind"})
PROCESS = "write-process"
OVERLAPS: dict[str, frozenset[str]] = {"sqlite": frozenset({PROCESS}), "postgresql": THREADS}

#: the bytes of forgotten series a rebuild keeps packed in memory instead of reading them back
#: (``SeriesBatch.forget``). Off: measured twice on the whole national history (PostgreSQL), it
#: costs the process more than the read-backs it saves. Section 31 packed whole states (1 GiB): the
#: yearly flow 1.14x, the setup, which packs ~2.2 million new people few of whom come back soon,
#: 0.85x, 1.00x in all. Section 42 packed them lean (rows and the fold's tail without the facts,
#: as a read-back takes them: ~350 bytes and ~6 µs a person instead of ~675 bytes and ~8 µs) in
#: 2 GiB, enough for every series: the rebuild read no series back and its load maintained one
#: index instead of ten (``PACKED_LOAD_INDEXES``), the server's CPU -14–17%, but the process's
#: +10–15% (packing and unpacking; the setup slower as in section 31, the flow no faster): 0.96x and
#: 0.99x in two alternating pairs, at 3.5 GB peak memory against 1.5 GB
SPILL_BYTES = 0

#: whether a rebuild's load writes its tables without the write-ahead log, by backend (PostgreSQL's
#: ``UNLOGGED``; a SQLite target already goes without its journal, ``_unjournalled``): the tables
#: are made logged again at the finish (``_finish_in_parallel``), before their last indexes, so a
#: rebuilt target is as durable as any other. Why: nationally the server's inserts are the
#: rebuild's critical path (section 37), and a logged load also writes every row and index entry to
#: the log, and a whole page after each checkpoint (every 1 GB of log by default) — where making a
#: table logged writes each page once. Measured on the whole national history (section 38): the
#: load 1.11x faster, the finish ~55 s longer (``SET LOGGED`` rewrites each table), 1.03x in all
#: alone and 1.10x with ``"commit-behind"`` (``OVERLAPS``); on the province's (77,000 entries: no
#: checkpoint during the load, so little log to spare) it only adds the tables' two rewrites, 0.93x.
#: Hence only for a log of ``UNLOGGED_FROM`` entries or more; and every table (unlogging only those
#: whose rows the load closes was inconclusive in one national run). A server crash during the load
#: empties unlogged tables: the target is disposable until it is swapped in, as ``_unjournalled`` says
UNLOGGED: dict[str, bool] = {"sqlite": False, "postgresql": True}
#: how much a table grows (rows written since its last analysis, as a share of its rows) before a
#: rebuild that reads back analyzes it again (``staffing.planner``; the ledger's writers use
#: ``planner.FRACTION``)
STATISTICS_FRACTION = FRACTION
#: the log's size from which a rebuild loads unlogged where its backend can (between the sizes
#: measured, 77,000 entries 0.93x and 13.8 M 1.03x: about where a load's log outgrows ``max_wal_size``)
UNLOGGED_FROM = 1_000_000


def rebuild(store: Any, target: ViewEngines, batch_size: int = BATCH_SIZE, max_states: int = MAX_STATES,
            spill_bytes: int = SPILL_BYTES, keep_series: Collection[str] = KEEP_SERIES,
            overlaps: Collection[str] | None = None, unlogged: bool | None = None) -> int:
    """Project the whole notification log of ``store`` into the fresh read models ``target``.

    Migrates ``target`` to the newest revision first; refuses (``NotFresh``) a target whose
    tracking position is not 0. Returns the number of notifications applied; afterwards the
    target's tracking position is the last notification id. ``overlaps``: the threads the load
    runs (``OVERLAPS``; None: the backend's own); the rows are the same whichever run. ``unlogged``:
    whether the load's tables go without PostgreSQL's write-ahead log until the finish (None: the
    backend's own, ``UNLOGGED``, for a log of ``UNLOGGED_FROM`` entries or more; refused on SQLite,
    which has no such tables).
    """
    from staffing.bootstrap import migrate  # the composition root owns migrations

    migrate(target)
    projector = Projector(store, target, batch_size=batch_size)
    with target.write.connect() as conn:
        with conn.begin():
            tracked = conn.execute(select(t.tracking.c.position, t.tracking.c.recorded_us)
                                   .where(t.tracking.c.name == PROJECTION_NAME)).one()
            if tracked.position != 0:
                raise NotFresh(f"the target already holds {tracked.position} projected events; rebuild into empty "
                               "read models")
        chosen = _overlaps(conn, overlaps)
        if unlogged is None:
            unlogged = UNLOGGED[conn.dialect.name] and (store.recorder.max_notification_id() or 0) >= UNLOGGED_FROM
        if unlogged and target.is_sqlite:
            raise ValueError("unlogged tables are PostgreSQL's: a SQLite target is written without its journal anyway")
        # the log's acts read forwards in stored order where the log is read on this thread (with the
        # read-ahead, its thread reads the acts of each window by key, off the critical path)
        reading = (projector.reading_ahead() if "read-ahead" in chosen
                   else projector.streaming_acts(act_stream(store.recorder)))
        with _unjournalled(conn, target.is_sqlite), collection_paused(), reading:  # the whole load
            return _load(conn, projector, int(tracked.recorded_us), max_states, spill_bytes, keep_series,
                         "write-behind" in chosen, unlogged, "commit-behind" in chosen, PROCESS in chosen)


def _overlaps(conn: Connection, overlaps: Collection[str] | None) -> frozenset[str]:
    """The overlaps asked for (None: the backend's own, ``OVERLAPS``), or ``ValueError`` saying why not."""
    sqlite = conn.dialect.name == "sqlite"
    if overlaps is None:
        chosen = OVERLAPS[conn.dialect.name]
        return chosen - {PROCESS} if file_of(conn) is None else chosen  # (an in-memory target: none)
    chosen = frozenset(overlaps)
    if unknown := chosen - THREADS - {PROCESS}:
        raise ValueError(f"unknown overlaps {sorted(unknown)}: choose among {sorted(THREADS | {PROCESS})}")
    if "commit-behind" in chosen and ("write-behind" not in chosen or sqlite):
        raise ValueError("commit-behind queues the commit behind the writes: choose write-behind with it, "
                         "on PostgreSQL (SQLite's driver would not begin the next transaction itself)")
    if PROCESS in chosen and (not sqlite or "write-behind" in chosen or file_of(conn) is None):
        raise ValueError("write-process makes a SQLite file's writes in a child process: choose it on a SQLite "
                         "file target, without write-behind (a PostgreSQL server makes its writes in its own "
                         "process already: choose write-behind there)")
    return chosen


def _load(conn: Connection, projector: Projector, recorded_us: int, max_states: int, spill_bytes: int,
          keep_series: Collection[str] = (), write_behind: bool = False, unlogged: bool = False,
          committing_behind: bool = False, write_process: bool = False) -> int:
    """Apply the whole log in batches to the empty tables of ``conn`` (indexes dropped, then made;
    with ``unlogged``, every table but the tracking row's unlogged until the finish, ``UNLOGGED``).

    A batch's tracking row and commit come just before the next batch is applied, once the next
    window is decoded (``Projector.apply_next``'s ``ready``): with ``write_behind``, the batches'
    bulk writes are queued and made on a thread (``writebehind``) meanwhile, and the commit waits
    for them — or, with ``committing_behind``, is queued behind them too (``_end_batch``). With
    ``write_process`` (SQLite), a child process makes the writes and the commits (``writeprocess``).
    """
    applied, sqlite = 0, conn.dialect.name == "sqlite"
    relogged = [table.name for table in t.metadata.sorted_tables if unlogged and table is not t.tracking]
    with conn.begin():
        for index in _secondary_indexes():
            if index.name not in KEPT_INDEXES:
                index.drop(conn)
        for name in relogged:  # (empty tables: nothing to rewrite)
            conn.exec_driver_sql(f"ALTER TABLE {conn.dialect.identifier_preparer.quote(name)} SET UNLOGGED")
        for name, fill in (LOAD_FILLFACTOR.items() if not sqlite else ()):
            conn.exec_driver_sql(f"ALTER TABLE {conn.dialect.identifier_preparer.quote(name)} SET (fillfactor = {fill})")
    series = SeriesBatch(conn, SERIES, fresh=True, spill_bytes=spill_bytes)
    position = 0
    made: set[str] = set(KEPT_INDEXES)
    pacer = Pacer()
    collections = CollectEvery(COLLECT_EVERY, freeze=True)
    ending: list[Callable[[], bool]] = []  # the end of the batch applied last, once the next is decoded
    narrow = projector.batch_size

    def end_previous() -> None:
        if ending and ending.pop()() and projector.batch_size == narrow:  # (it forgot: ``_end_batch``)
            projector.widen(narrow * LATE_WIDENING)  # (from the batch after the one being read: it is decoded)

    writes = written_by_process(conn) if write_process else queued_writes(conn) if write_behind else nullcontext()
    with writes, _reading_back(conn, series, write_behind, write_process), closing(collections):
        while True:
            recorded_us, last, done, more = projector.apply_next(conn, position + 1, recorded_us, True, series,
                                                                 ready=end_previous)
            end_previous()  # (where nothing was applied, ``ready`` was not called)
            if done:  # (a batch ends where a run of one recording moment ends: ``Projector.apply_runs``)
                position = last
                applied += done
            ending.append(functools.partial(_end_batch, conn, position if done else None, recorded_us, series, made,
                                            max_states, pacer, done, not more and sqlite, keep_series,
                                            committing_behind))
            if not more:
                end_previous()
                break
            collections.applied(done)
        if committing_behind:  # SQLAlchemy's transaction, open across the commits made behind it; its
            conn.commit()  # commit waits for the queue: a failed write is raised before the queue goes
    if not sqlite:
        _finish_in_parallel(conn.engine, made, relogged)
    return applied


@contextmanager
def _reading_back(conn: Connection, series: SeriesBatch, write_behind: bool,
                  write_process: bool = False) -> Iterator[None]:
    """With the writes queued behind the process on PostgreSQL, or made by a child process on SQLite,
    forgotten series read back on a second connection of the target, each read its own transaction
    (``SeriesBatch.read_back_on``: the process no longer waits for the previous batch's writes
    before the next batch's read-backs; no lock is held between reads, so neither the finish's
    ``SET LOGGED`` nor the child's commits wait on it)."""
    if write_process:  # (not from the target's pool: its connections put the file in WAL mode, where
        # the load writes it without a journal; a plain one, each read committed on its own)
        engine = create_engine(conn.engine.url, poolclass=NullPool, connect_args={"timeout": READ_BACK_TIMEOUT})
        try:
            with engine.connect() as reader:
                series.read_back_on(reader.execution_options(isolation_level="AUTOCOMMIT"))
                yield
        finally:
            engine.dispose()
        return
    if not write_behind or conn.dialect.name != "postgresql":
        yield
        return
    with conn.engine.connect() as reader:
        reader = reader.execution_options(isolation_level="AUTOCOMMIT")
        for setting in READ_SETTINGS:
            reader.exec_driver_sql(f"SET {setting}")
        series.read_back_on(reader)
        try:
            yield
        finally:
            try:
                for setting in READ_SETTINGS:
                    reader.exec_driver_sql(f"RESET {setting.split()[0]}")
            except Exception:  # (the load's own outcome stands: the connection is only thrown away)
                reader.invalidate()


def _end_batch(conn: Connection, position: int | None, recorded_us: int, series: SeriesBatch, made: set[str],
               max_states: int, pacer: Pacer, done: int, last_on_sqlite: bool, keep_series: Collection[str],
               committing_behind: bool = False) -> bool:
    """A batch's tracking row and its commit (after its queued writes); whether it forgot. When more than
    ``max_states`` series are held, forgetting them first, and, once forgetting has begun, the
    indexes the next batches' read-backs need (fewer while every series forgotten is packed:
    ``PACKED_LOAD_INDEXES``), made and committed before the next batch reads anything.

    ``committing_behind``: where no index is made, the statistics' refresh (in the batch's
    transaction) and the commit are queued behind the batch's writes and its tracking row
    (``writebehind.commit_behind``) instead of waited for."""
    too_many = len(series.states) > max_states
    if too_many:  # (first: whether the next batch reads series back depends on what it could pack)
        series.forget(keep_series)
    # the indexes the read-backs after ``forget`` go through, once it has begun
    wanted = (PACKED_LOAD_INDEXES if series.fresh else LOAD_INDEXES) if too_many or made & LOAD_INDEXES else frozenset()
    indexing = not made >= wanted
    if position is not None:  # (queued with the batch's writes, where they are: ``bulk.update_rows``)
        update_rows(conn, t.tracking, ("position", "recorded_us"), ("name",),
                    [(position, recorded_us, PROJECTION_NAME)])
    if indexing:
        _make_indexes(conn, wanted, made)
        refresh_statistics(conn, everything=True)  # ... planned from the rows loaded so far
    if last_on_sqlite:  # every other index once the rows are in
        with _sorting_on_threads(conn):
            _make_indexes(conn, {str(index.name) for index in _secondary_indexes()}, made)
    analyzing = bool(wanted) and pacer.due(done)  # only read-backs need statistics
    if committing_behind and not indexing and not last_on_sqlite:
        if analyzing:
            refresh_statistics(conn, behind=True, fraction=STATISTICS_FRACTION)
        commit_behind(conn)
    else:
        conn.commit()
        if analyzing:
            refresh_statistics(conn, fraction=STATISTICS_FRACTION)
            conn.commit()
    return too_many


#: a SQLite rebuild's connection's settings while it makes its last indexes (``_sorting_on_threads``):
#: two helper threads, sorting in runs of 16 MiB; and what they go back to after (SQLite's default of
#: no helper threads; the page cache every writing connection has, ``db.WRITER_CACHE``)
FINISH_PRAGMAS = ("threads=2", "cache_size=-16384")
AFTER_FINISH_PRAGMAS = ("threads=0", WRITER_CACHE)


@contextmanager
def _sorting_on_threads(conn: Connection) -> Iterator[None]:
    """SQLite sorts the keys of the rebuild's last indexes on helper threads, in smaller runs.

    Why (issue 9): SQLite builds an index by sorting its keys in runs the size of the page cache,
    spilled to temporary files and merged; with helper threads (``PRAGMA threads``) it sorts and
    merges the runs beside the connection's own thread, which goes on reading the table. The
    finish's indexes (every index only queries need: not ``LOAD_INDEXES``) were 8.1% of a national
    rebuild, made on one connection while the other core idled, the writer process having nothing
    left to write. Measured on the national read models (``benchmarks/bench_finish_indexes.py``,
    ``benchmarks/RESULTS.md`` section 54): two threads 1.18x, four 1.14x; two threads with runs of
    16 MiB instead of the page cache's 64 MiB 1.41-1.44x (runs of 4 MiB 1.38x; 16 MiB without
    threads 1.02x; a 1 GiB cache slower, 0.89-0.91x, and 1.3 GB more at the peak). The settings go
    back after, so the connection returns to the pool as every other one."""
    for pragma in FINISH_PRAGMAS:
        conn.exec_driver_sql(f"PRAGMA {pragma}")
    try:
        yield
    finally:
        for pragma in AFTER_FINISH_PRAGMAS:
            conn.exec_driver_sql(f"PRAGMA {pragma}")


def _make_indexes(conn: Connection, names: Iterable[str], made: set[str]) -> None:
    """Create the secondary indexes named in ``names`` that are not yet in ``made``; add them to it.
    On PostgreSQL an index with a stand-in (``STAND_INS``) is made as its stand-in, and its name goes
    into ``made`` with the stand-in's: the finish then drops the one and makes the other."""
    wanted = set(names) - made
    for index in _secondary_indexes():
        if index.name in wanted:
            stand_in = STAND_INS.get(str(index.name)) if conn.dialect.name == "postgresql" else None
            if stand_in is None:
                index.create(conn)
            else:
                quote = conn.dialect.identifier_preparer.quote
                conn.exec_driver_sql(f"CREATE INDEX {quote(stand_in[0])} ON {quote(index.table.name)} "  # type: ignore[union-attr]
                                     f"({', '.join(quote(c) for c in stand_in[1])})")
                made.add(stand_in[0])
            made.add(str(index.name))


#: seconds a SQLite read-back waits for the file's lock (held by the writer process a statement at a time)
READ_BACK_TIMEOUT = 60.0

#: connections that make a PostgreSQL target's last indexes and statistics at once (one per core here)
FINISHERS = 2

#: a PostgreSQL rebuild's settings on every connection it reads back on (its load's and the reader,
#: ``_reading_back``): each statement planned for the values it is sent. Why (issue 9): psycopg
#: prepares a statement run five times, and the server then keeps one generic plan for it while
#: that looks no dearer; a read-back's keys go as one array (``bulk.key_in``), whose generic plan
#: guesses ten keys, and a plan cached while a table was still empty scanned it whole: the national
#: quota read-backs went by sequential scans of 125-215 ms each (``auto_explain``,
#: ``benchmarks/RESULTS.md`` section 46). Not measured alone: the whole national rebuild with it and
#: the array parameter ran even with the code before (0.996x, one pair).
READ_SETTINGS = ("plan_cache_mode TO force_custom_plan",)

#: a PostgreSQL rebuild's settings, on its load's connection and in each finisher's transaction: its
#: commits not waited for (``_unjournalled``: the swap's synchronous commit flushes them), and each
#: index sorted in memory up to 256 MB (the server's default, 64 MB, sorts a national table's ~10 M
#: keys on disk; the load and two finishers hold at most 768 MB of the server's memory at once, none
#: of the rebuild's process)
TARGET_SETTINGS = ("synchronous_commit TO off", "maintenance_work_mem TO '256MB'", *READ_SETTINGS)


def _finish_in_parallel(engine: Engine, made: set[str], relogged: Collection[str] = ()) -> None:
    """The tables named in ``relogged`` made logged, every secondary index not in ``made``, then fresh
    planner statistics of every table, on ``FINISHERS`` connections of ``engine`` at once, a table at
    a time (PostgreSQL, the load committed).

    Why: each ``CREATE INDEX`` and ``ANALYZE`` runs in the server's backend of the connection that
    sends it while the rebuild's process only waits, so one connection leaves the second core idle
    for the whole finish: ~1.2 s of a ~5.5 s province rebuild (``benchmarks/RESULTS.md`` section 29).
    A table goes to one connection only (its indexes, then ``ANALYZE`` with them in place), so the
    two never wait on each other's locks; the largest tables go first so neither is left with one
    long table at the end. Safe after the load's commit: a target is swapped in only once
    ``rebuild`` has returned, and the tables' rows do not depend on their indexes. A table is made
    logged before its last indexes are created (``SET LOGGED`` rewrites the table and rebuilds the
    indexes it has; the ones created after it are logged as they are built). Before that, its load
    indexes' stand-ins are dropped (their real indexes are made with the others, ``STAND_INS``) and
    its load-time ``fillfactor`` reset, so the rewrite packs its pages full (``LOAD_FILLFACTOR``).
    """
    with engine.connect() as conn:
        sizes = {str(name): int(size) for name, size in conn.execute(text(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "WHERE c.relnamespace = current_schema()::regnamespace"))}
    tables: dict[str, list[Index]] = {table.name: [] for table in t.metadata.sorted_tables}
    tables[ALEMBIC_TABLE] = []  # migrated into the target: analyzed too, as every table of its schema
    stood_in: dict[str, list[str]] = {}  # table -> the stand-ins it has (``STAND_INS``)
    for index in _secondary_indexes():
        stand_in = STAND_INS.get(str(index.name), ("",))[0]
        if stand_in in made:  # (made as its stand-in: dropped, then the real one made)
            stood_in.setdefault(index.table.name, []).append(stand_in)  # type: ignore[union-attr]
        if index.name not in made or stand_in in made:
            tables[index.table.name].append(index)  # type: ignore[union-attr]
    pending = deque(sorted(tables.items(), key=lambda item: -int(sizes.get(item[0], 0))))

    def finish() -> None:
        with engine.connect() as conn:
            while pending:
                try:
                    name, indexes = pending.popleft()
                except IndexError:  # the other connection took the last one
                    return
                with conn.begin():
                    for setting in TARGET_SETTINGS:
                        conn.exec_driver_sql(f"SET LOCAL {setting}")
                    quote = conn.dialect.identifier_preparer.quote
                    for stand_in in stood_in.get(name, ()):  # (before the rewrite: it would rebuild them)
                        conn.exec_driver_sql(f"DROP INDEX {quote(stand_in)}")
                    if name in LOAD_FILLFACTOR:
                        conn.exec_driver_sql(f"ALTER TABLE {quote(name)} RESET (fillfactor)")
                    if name in relogged:
                        conn.exec_driver_sql(f"ALTER TABLE {quote(name)} SET LOGGED")
                    for index in indexes:
                        index.create(conn)
                    conn.exec_driver_sql(f"ANALYZE {quote(name)}")

    with ThreadPoolExecutor(FINISHERS) as pool:
        for done in [pool.submit(finish) for _ in range(FINISHERS)]:
            done.result()


@contextmanager
def _unjournalled(conn: Connection, sqlite: bool) -> Iterator[None]:
    """A rebuild target is written without waiting for the disk: SQLite without a journal or syncs
    (each page once, straight to the file), PostgreSQL with its commits not waited for.

    Safe because a rebuild target is disposable: it is swapped in only after the whole log is
    applied (``swap_in``), and a rebuild that fails part-way is started again on a fresh target
    (``NotFresh`` refuses to continue one), so no crash-consistent prefix is ever needed. Entered
    only once ``NotFresh`` is ruled out.

    SQLite: if another connection has the file open (SQLite then refuses to leave WAL mode), the
    rebuild goes on journalled: slower, never unsafe. PostgreSQL (``synchronous_commit`` off, the
    server's documented setting for bulk loads): each batch's commit returns without waiting for its
    write-ahead log to reach the disk; a server crash may lose the last batches, never half of one,
    and the swap's own commit (``_swap_postgres``, synchronous) flushes the log up to itself, so
    every batch before it is on disk once the rebuilt tables are live. Either way the connection goes
    back to the pool as every other one is (WAL mode and normal syncs; commits waited for; the
    server's default sort memory). PostgreSQL's settings: ``TARGET_SETTINGS``.
    """
    raw: Any = conn.connection.driver_connection if sqlite else None  # outside any transaction
    try:
        if raw is not None:
            raw.execute("PRAGMA journal_mode=OFF")
            raw.execute("PRAGMA synchronous=OFF")
    except sqlite3.OperationalError:
        raw = None
    if not sqlite:
        for setting in TARGET_SETTINGS:
            conn.exec_driver_sql(f"SET {setting}")
        conn.commit()  # (SQLAlchemy began a transaction for the SETs: a session setting outlives it)
    try:
        yield
    finally:
        if raw is not None:
            try:
                raw.execute("PRAGMA synchronous=NORMAL")
                raw.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError:
                conn.invalidate()  # never back to the pool unjournalled
        if not sqlite:
            try:
                if conn.in_transaction():
                    conn.rollback()
                for setting in TARGET_SETTINGS:
                    conn.exec_driver_sql(f"RESET {setting.split()[0]}")
                conn.commit()
            except Exception:  # (the load's own outcome stands: the connection is only thrown away)
                conn.invalidate()  # never back to the pool with commits not waited for


# ====================================================================== swapping in
def swap_in(settings: Settings, *, store: Any | None = None, batch_size: int = BATCH_SIZE,
            keep_previous: bool = False, check_chain: bool = True) -> int:
    """Rebuild the read models of ``settings`` beside the live ones and swap them in.

    ``store``: the event store to read (default: one opened from ``settings``). Returns the
    number of notifications applied. See the module docstring for what each backend does and
    what it requires (SQLite: the server stopped or its engines disposed). The event chain is
    verified first (``check_chain``): an edited log is refused (``TamperDetected``) instead of
    being served, also in answers known at earlier moments (issue 10).
    """
    own_store = store is None
    if store is None:
        from staffing.persistence import EventStore, event_store_env

        store = EventStore(env=event_store_env(settings))
    try:
        if check_chain:
            from staffing.chain import verify

            report = verify(store.recorder)
            if report.first_break is not None:
                raise TamperDetected(f"refusing to rebuild from a log that was changed after it was recorded: "
                                     f"{report.first_break.message} (python -m staffing verify)")
        if settings.is_sqlite:
            return _swap_sqlite(settings, store, batch_size, keep_previous)
        return _swap_postgres(settings, store, batch_size, keep_previous)
    finally:
        if own_store:
            store.close()


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _leave_wal(path: Path) -> None:
    """Checkpoint a database file into itself and switch it to a rollback journal (no -wal left).

    SQLite refuses to leave WAL mode while another connection has the file open, which is how
    an open server is detected.
    """
    with closing(sqlite3.connect(path, timeout=1)) as db:
        try:
            mode = db.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        except sqlite3.OperationalError as error:
            raise SwapRefused(f"{path} is in use ({error}); stop the server or dispose its engines, then retry") from None
        if str(mode).lower() != "delete":
            raise SwapRefused(f"{path} is in use (journal mode stayed {mode}); stop the server or dispose its "
                              "engines, then retry")


def _swap_sqlite(settings: Settings, store: Any, batch_size: int, keep_previous: bool) -> int:
    live = Path(str(settings.views_url.database))
    building = live.with_name(live.name + ".rebuild")
    for stale in _sqlite_files(building):
        stale.unlink(missing_ok=True)
    engines = make_engines(make_url(f"sqlite:///{building}"))
    try:
        applied = rebuild(store, engines, batch_size)
    finally:
        engines.dispose()
    _leave_wal(building)
    if live.exists():
        _leave_wal(live)  # refuses while the server still has the live file open
        if keep_previous:
            previous = live.with_name(live.name + ".previous")
            previous.unlink(missing_ok=True)
            os.link(live, previous)
    os.replace(building, live)
    return applied


def _swap_postgres(settings: Settings, store: Any, batch_size: int, keep_previous: bool) -> int:
    admin = create_engine(settings.views_url)
    try:
        with admin.connect() as conn:
            live = settings.schema or str(conn.execute(text("SELECT current_schema()")).scalar_one())
        building, previous = f"{live}_rebuild", f"{live}_previous"
        quote = admin.dialect.identifier_preparer.quote
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {quote(building)} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {quote(building)}"))
        engines = make_engines(settings.views_url, building)
        try:
            applied = rebuild(store, engines, batch_size)
        finally:
            engines.dispose()
        names = [t.tracking.name, *(tb.name for tb in t.metadata.sorted_tables if tb is not t.tracking), ALEMBIC_TABLE]
        with admin.begin() as conn:
            present = set(conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": live}).scalars())
            moving = [n for n in names if n in present]
            if moving:
                conn.execute(text("LOCK TABLE " + ", ".join(f"{quote(live)}.{quote(n)}" for n in moving)
                                  + " IN ACCESS EXCLUSIVE MODE"))
            conn.execute(text(f"DROP SCHEMA IF EXISTS {quote(previous)} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {quote(previous)}"))
            for name in names:
                if name in present:
                    conn.execute(text(f"ALTER TABLE {quote(live)}.{quote(name)} SET SCHEMA {quote(previous)}"))
                conn.execute(text(f"ALTER TABLE {quote(building)}.{quote(name)} SET SCHEMA {quote(live)}"))
            conn.execute(text(f"DROP SCHEMA {quote(building)}"))
            if not keep_previous:
                conn.execute(text(f"DROP SCHEMA {quote(previous)} CASCADE"))
        return applied
    finally:
        admin.dispose()
