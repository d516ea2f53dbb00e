"""The event store: an eventsourcing ``Application`` configured for SQLite or PostgreSQL.

Who creates the event-store tables: the eventsourcing recorder does (``CREATE_TABLE``), because
its schema belongs to the library and changes with it. Alembic owns only the read-model tables
and is told to ignore the event-store ones (see ``staffing/migrations/env.py``). The recorder is
the library's, extended to write the hash chain in the same transaction (``staffing.chain``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple
from uuid import UUID

import psycopg
from eventsourcing.application import Application, ProcessingEvent, Repository
from eventsourcing.persistence import JSONTranscoder, StoredEvent, Transcoder
from eventsourcing.persistence import ProgrammingError as LibraryProgrammingError
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteApplicationRecorder
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from staffing import commit_process
from staffing.acts import ActStore, LegalActByReference
from staffing.chain import ChainedSQLiteRecorder, load_act, load_acts, sqlite_rows
from staffing.commit_behind import CommitBehind
from staffing.commit_process import CommitProcess
from staffing.config import ConfigurationError, Settings
from staffing.domain.person import Person
from staffing.domain.position import Position
from staffing.domain.quota import StaffingQuota
from staffing.domain.unit import Unit
from staffing.planner import Pacer, analyze_stale
from staffing.transcoding import DateAsISO, LegalActAsDict, OrjsonTranscoder

__all__ = ["Entry", "EventStore", "event_store_env", "select_entries"]

logger = logging.getLogger(__name__)


def fold(aggregate: Any, events: Iterable[Any]) -> Any:
    """An aggregate from its events: the library's ``project_aggregate`` without its per-event
    ``isinstance`` check against a runtime ``Protocol``. Why (issue 9): on Python 3.11 each such check
    collects the protocol's attributes again; reading people back cold in the national flow's import,
    the check alone was ~5% of the importer's samples (``benchmarks/RESULTS.md`` section 62). Every
    stored event is one of the ledger's own classes, each with a ``mutate``."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class _Repository(Repository[Any]):
    """The library's repository (cache, snapshots, fast-forward, as configured), reconstructing with
    ``fold`` unless a caller passes its own projector."""

    def get(self, aggregate_id: Any, *, version: int | None = None, projector_func: Any = fold,
            fastforward_skipping: bool = False, deepcopy_from_cache: bool = True) -> Any:
        return super().get(aggregate_id, version=version, projector_func=projector_func,
                           fastforward_skipping=fastforward_skipping, deepcopy_from_cache=deepcopy_from_cache)


class EventStore(Application[Any]):
    """The log of every fact.

    Units carry their rosters, so a big unit gains an event per person who joins or leaves;
    snapshots every few hundred events keep loading it (and so every command on it) constant-time.
    Snapshots are a cache: they are written after the events commit and never replace them.
    """

    name = "StaffingLedger"
    is_snapshotting_enabled = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.acts = ActStore()  # the transcoder (built by the library's __init__) needs it
        #: a bulk writer's writes behind (``save_events(behind=True)``; SQLite only); set before the
        #: library's __init__, which may fail and leave ``close`` to run on a half-built store
        self.behind: CommitBehind | CommitProcess | None = None
        self.pacer = Pacer()  # when to look at PostgreSQL's planner statistics again (``refresh_statistics``)
        _check_reachable(kwargs.get("env") or {})
        try:
            super().__init__(*args, **kwargs)
        except LibraryProgrammingError:
            _explain_schema(kwargs.get("env") or {})
            raise
        recorder: Any = self.recorder
        recorder.acts = self.acts  # the chained recorders write the acts the inserted events cite
        self.acts.loader = functools.partial(load_act, recorder)
        self.acts.bulk_loader = functools.partial(load_acts, recorder)
        self.behind = commit_process.for_recorder(recorder) if isinstance(recorder, ChainedSQLiteRecorder) else None
    #: events between snapshots, per aggregate class. Not the library's ``snapshotting_intervals``:
    #: that takes snapshots inside ``save`` and an error there would surface after the events had
    #: committed, inviting a retry of a command that already happened. ``snapshot_if_due`` runs
    #: after a successful save and only logs failures.
    SNAPSHOT_EVERY: ClassVar[dict[type[Any], int]] = {Unit: 200, Position: 200, Person: 50, StaffingQuota: 100}

    def snapshot_if_due(self, aggregate_id: Any, aggregate_type: type[Any], first_new: int, last_new: int) -> None:
        interval = self.SNAPSHOT_EVERY.get(aggregate_type)
        if not interval or last_new // interval == (first_new - 1) // interval:
            return
        if self.behind is not None and self.behind.pending:  # its events are still being committed
            self.behind.after_commit(lambda: self.snapshot_if_due(aggregate_id, aggregate_type, first_new, last_new))
            return
        try:
            self.take_snapshot(aggregate_id, version=last_new)
        except Exception:  # a snapshot is only a cache; the events are already safe
            logger.exception("snapshot of %s at version %s failed", aggregate_id, last_new)

    def save_events(self, events: Sequence[Any], behind: bool = False, expect_head: int | None = None) -> int | None:
        """Record ``events`` in the given order, in one transaction (all or nothing); returns the log
        position of the last one.

        ``behind`` (a bulk writer, SQLite): the transaction is inserted and committed by a child process
        (``staffing.commit_process``; on a thread, only its commit, where the store has no file:
        ``staffing.commit_behind``) while the caller goes on; the next save (or ``settle``) waits for
        it and raises its failure; ``expect_head``: where the caller's own last transaction left the
        log, checked before it is handed over and inside it. Elsewhere ``behind`` saves as usual.

        The unit of work orders the events by command, so it hands over events, not aggregates.
        ``Application.save`` would accept them too, but checks each object against a runtime
        protocol, which costs more than the insert itself for an import of thousands of events.
        (Uses the library's ``_record``/``_notify`` steps of ``save``; pinned to eventsourcing 9.5.)
        """
        if behind and self.behind is not None:
            ids = self.behind.write(list(map(self.mapper.to_stored_event, events)), expect_head)
            return ids[-1] if ids else None
        self.settle()
        processing_event: ProcessingEvent[Any] = ProcessingEvent()
        processing_event.events.extend(events)
        recordings = self._record(processing_event)
        self._notify(recordings)
        if self.pacer.due(len(recordings)):
            self.refresh_statistics()
        return recordings[-1].notification.id if recordings else None

    def wait_for(self, aggregate_ids: Collection[UUID]) -> None:
        """Before reading ``aggregate_ids``: wait for a commit running behind that wrote any of them."""
        if self.behind is not None:
            self.behind.wait_for(aggregate_ids)

    def settle(self) -> None:
        """Wait for a commit running behind (``save_events(behind=True)``); raise its failure."""
        if self.behind is not None:
            self.behind.settle()

    def close(self) -> None:
        """Close the store, after any commit running behind (a failure is logged: the caller is closing)."""
        try:
            if self.behind is not None:
                self.behind.close()
        except Exception:  # noqa: BLE001 - closing; the failure was or will be the caller's error
            logger.exception("a commit running behind failed")
        finally:
            super().close()

    def refresh_statistics(self) -> list[str]:
        """On PostgreSQL, ``ANALYZE`` the store's tables whose planner statistics are stale
        (``staffing.planner``: a large event table never analyzed is read by sequential scans);
        returns their names. Nothing on SQLite. A failure is logged, not raised: it comes after the
        events committed, and a caller must not retry a command that happened."""
        recorder: Any = self.recorder
        if not isinstance(recorder, PostgresAggregateRecorder):
            return []
        try:
            with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
                return analyze_stale(cursor, recorder.datastore.schema or None)
        except Exception:  # noqa: BLE001 - any failure: the events are committed, the caller must not see it
            logger.exception("refreshing the event store's planner statistics failed")
            return []

    def exists(self, aggregate_id: Any) -> bool:
        """Whether anything was ever recorded for this id (one indexed read, no snapshot look-up)."""
        self.wait_for((aggregate_id,))
        return next(iter(self.events.get(aggregate_id, limit=1)), None) is not None

    def existing(self, ids: Collection[UUID]) -> set[UUID]:
        """Which of ``ids`` have anything recorded: one read per 500 ids instead of one per id.

        An import batch asks this once for its request keys and chosen ids, which are nearly
        always new (issue 9: the per-id reads were a third of an import's statements).
        """
        self.wait_for(ids)
        if not isinstance(self.recorder, SQLiteAggregateRecorder | PostgresAggregateRecorder):
            return {u for u in dict.fromkeys(ids) if self.exists(u)}  # the in-memory recorder of the fast tier
        return {row[0] for row in _rows_of(self.recorder, ("originator_id",), ids, distinct=True)}

    def load_many(self, ids: Collection[UUID]) -> dict[UUID, Any]:
        """The aggregates recorded under ``ids`` (absent ids are left out), each reconstructed from all its
        events as ``repository.get`` would, their events read together: one read per 500 ids.

        Why (issue 9): at national size an import's transfers and departures name people picked
        among 2.2 million, whom no cache holds; read one by one, each cost a snapshot look-up, an
        events read and a deep copy of the cached result (~280 µs at province size). An aggregate
        with a snapshot is read by ``repository.get`` (from its snapshot), as before.
        """
        self.wait_for(ids)
        recorder: Any = self.recorder
        if not isinstance(recorder, SQLiteAggregateRecorder | PostgresAggregateRecorder):
            return {u: self.repository.get(u) for u in self.existing(ids)}
        wanted = list(dict.fromkeys(ids))
        snapshotted = {row[0] for row in _rows_of(self.snapshots.recorder, ("originator_id",),  # type: ignore[union-attr]
                                                  wanted, distinct=True)}
        rows = _rows_of(recorder, ("originator_id", "originator_version", "topic", "state"),
                        [u for u in wanted if u not in snapshotted], order=True)
        self.acts.prefetch(bytes(row[3]) for row in rows)
        by_id: dict[UUID, list[Any]] = {}
        for originator_id, version, topic, state in rows:
            stored = StoredEvent(originator_id=originator_id, originator_version=version, topic=topic,
                                 state=bytes(state))
            by_id.setdefault(originator_id, []).append(self.mapper.to_domain_event(stored))
        found = {u: fold(None, events) for u, events in by_id.items()}
        found.update({u: self.repository.get(u) for u in snapshotted})
        return found

    def construct_repository(self) -> Repository[Any]:
        """The library's repository, built from the environment as the library builds it, given
        ``fold`` as its default projector (``_Repository`` only changes ``get``'s default)."""
        repository = super().construct_repository()
        repository.__class__ = _Repository
        return repository

    def construct_transcoder(self) -> Transcoder:
        transcoder = OrjsonTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(LegalActAsDict())  # decodes events stored before acts were stored once
        transcoder.register(LegalActByReference(self.acts))  # encodes (the last registration for a type wins)


def _connect(env: Mapping[str, str]) -> psycopg.Connection[Any]:
    """A direct connection to the PostgreSQL database the library's ``env`` names (5 s to connect)."""
    return psycopg.connect(host=env.get("POSTGRES_HOST", "127.0.0.1"), port=env.get("POSTGRES_PORT", "5432"),
                           dbname=env.get("POSTGRES_DBNAME", "postgres"), user=env.get("POSTGRES_USER", "postgres"),
                           password=env.get("POSTGRES_PASSWORD") or None, connect_timeout=5)


def _check_reachable(env: Mapping[str, str]) -> None:
    """Raise ``ConfigurationError`` at once when the PostgreSQL database ``env`` names cannot be reached.

    Without this the library's connection pool retries for 30 s and the operator gets its traceback
    ("couldn't get a connection after 30.00 sec"), which hides the driver's reason: the server is not
    running, the port is wrong, the database does not exist, the user is refused. One connection,
    opened and closed before the library's pool starts; nothing for SQLite."""
    if "POSTGRES_DBNAME" not in env:
        return
    try:
        with _connect(env):
            pass
    except psycopg.Error as error:
        where = f"{env.get('POSTGRES_HOST', '127.0.0.1')}:{env.get('POSTGRES_PORT', '5432')}"
        reason = " ".join(str(error).split())  # the driver's reason, on one line (it never shows the password)
        reason = reason if reason.endswith((".", "?")) else reason + "."
        raise ConfigurationError(
            f"STAFFING_DATABASE_URL: cannot connect to the PostgreSQL database {env.get('POSTGRES_DBNAME')!r} at "
            f"{where} as {env.get('POSTGRES_USER', 'postgres')!r}: {reason} Check that the server is running and "
            "that the URL's host, port, database and user are right (the database must exist: CREATE DATABASE)"
        ) from error


def _explain_schema(env: Mapping[str, str]) -> None:
    """Raise ``ConfigurationError`` when the PostgreSQL schema setting is why the library failed.

    The library writes the schema unquoted into the names of its types, so a name PostgreSQL
    reserves (e.g. ``national``, a keyword of ``NATIONAL CHARACTER``) fails there with a syntax
    error about a type; a schema that does not exist fails with the driver's message. Either way
    the operator sees which setting is wrong and what to do instead of a traceback.
    """
    schema = env.get("POSTGRES_SCHEMA")
    if not schema:
        return
    try:
        with _connect(env) as conn:
            keyword = conn.execute("SELECT catdesc FROM pg_get_keywords() WHERE word = %s AND catcode IN ('R', 'C')",
                                   (schema,)).fetchone()
            exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    except psycopg.Error:
        return  # the library's own error says more than a second failure would
    if keyword is not None:
        raise ConfigurationError(
            f"STAFFING_DB_SCHEMA {schema!r} is a PostgreSQL keyword ({keyword[0]}), which the event store's "
            f"library cannot use as a schema name: choose another name, e.g. '{schema}_ledger'")
    if exists is None:
        raise ConfigurationError(
            f"STAFFING_DB_SCHEMA {schema!r} does not exist in the database: create it (CREATE SCHEMA {schema}) or "
            "name an existing one")


def _rows_of(recorder: Any, columns: Sequence[str], ids: Collection[UUID], distinct: bool = False,
             order: bool = False) -> list[tuple[Any, ...]]:
    """``columns`` of the recorder's rows whose ``originator_id`` is one of ``ids``, read 500 ids at a time
    (ids come back as UUIDs on both backends; ``order``: by id and version)."""
    wanted = list(dict.fromkeys(ids))
    found: list[tuple[Any, ...]] = []
    head = "SELECT DISTINCT " if distinct else "SELECT "
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        if isinstance(recorder, SQLiteAggregateRecorder):
            statement = (f"{head}{', '.join(columns)} FROM {recorder.events_table_name} "
                         f"WHERE originator_id IN ({', '.join('?' * len(chunk))})"
                         + (" ORDER BY originator_id, originator_version" if order else ""))
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(statement, [u.hex for u in chunk])
                found.extend((UUID(row[0]), *tuple(row)[1:]) for row in cursor.fetchall())
        else:
            query = SQL(head + "{columns} FROM {schema}.{table} WHERE originator_id = ANY(%s)"
                        + (" ORDER BY originator_id, originator_version" if order else "")).format(
                columns=SQL(", ").join(Identifier(c) for c in columns), schema=Identifier(recorder.datastore.schema),
                table=Identifier(recorder.events_table_name))
            with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
                cursor.execute(query, [chunk])
                found.extend(tuple(row[c] for c in columns) for row in cursor.fetchall())
    return found


class Entry(NamedTuple):
    """One stored event as the projector reads it from the log: the fields of the library's
    ``Notification``, the originator's id as the database gives it as text (the mapper makes it a
    UUID for the events it decodes: ``find_id_convertor``)."""

    id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes


@retry((psycopg.InterfaceError, psycopg.OperationalError), max_attempts=10, wait=0.2)  # as the library's read
def select_entries(recorder: Any, start: int, limit: int) -> Sequence[Any]:
    """The log's entries from position ``start`` on, at most ``limit``, in position order: what the
    recorder's ``select_notifications(start=start, limit=limit)`` gives, read leaner (issue 9).

    Why: the library builds a frozen ``Notification`` dataclass per entry from a dictionary row and
    a ``UUID`` of its originator's id, which a projector needs for none of the ~65% of entries no
    read model uses (requests, memberships, codes) and gets again from the mapper for the rest.
    Plain rows into a named tuple, the id left as text, read the province log in ~0.45x the time on
    SQLite and ~0.55x on PostgreSQL (``benchmarks/RESULTS.md`` section 35). On PostgreSQL the rows
    come in the binary format: each stored state as its bytes, not as hex text the server writes
    and the driver decodes again (~0.6x the time and the process's CPU of the text format, section
    36). Same statement, same order and bounds as the library's; a recorder of another kind is asked
    as before.
    """
    if isinstance(recorder, SQLiteApplicationRecorder):
        return list(map(Entry._make, sqlite_rows(recorder, f"SELECT rowid, originator_id, originator_version, topic, "
                                                           f"state FROM {recorder.events_table_name} WHERE rowid>=? "
                                                           "ORDER BY rowid LIMIT ?", (start, limit))))
    if isinstance(recorder, PostgresApplicationRecorder):
        statement = SQL("SELECT notification_id, originator_id::text, originator_version, topic, state "
                        "FROM {schema}.{table} WHERE notification_id>=%s ORDER BY notification_id LIMIT %s").format(
            schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name))
        with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row, binary=True) as rows:
            rows.execute(statement, (start, limit), prepare=True)
            return [Entry(i, o, v, t, s if type(s) is bytes else bytes(s)) for i, o, v, t, s in rows.fetchall()]
    return recorder.select_notifications(start=start, limit=limit)


#: aggregates kept decoded between commands (the library's cache: each hit is brought up to date
#: from the store — "fast-forwarded" — and handed out as a copy, so a refused or retried command
#: never changes the cached one). Replaying a unit with a large roster on every command otherwise
#: dominates the cost of an import.
CACHE = {"AGGREGATE_CACHE_MAXSIZE": "20000", "AGGREGATE_CACHE_FASTFORWARD": "y", "DEEPCOPY_FROM_AGGREGATE_CACHE": "y"}


def event_store_env(settings: Settings) -> dict[str, str]:
    """Translate our one database setting into the eventsourcing library's environment."""
    url = settings.database_url
    if url.get_backend_name() == "sqlite":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "APPLICATION_RECORDER_TOPIC": "staffing.chain:ChainedSQLiteRecorder",
            "SQLITE_DBNAME": url.database or ":memory:",
            "SQLITE_LOCK_TIMEOUT": "30",
            **CACHE,
        }
    env = {
        **CACHE,
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": "staffing.chain:ChainedPostgresRecorder",
        "POSTGRES_DBNAME": url.database or "postgres",
        "POSTGRES_HOST": url.host or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_PASSWORD": url.password or "",
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "10",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "30",
    }
    if settings.schema:
        env["POSTGRES_SCHEMA"] = settings.schema
    return env
