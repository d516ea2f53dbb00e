"""Tamper evidence (issue 10): a hash chain over the recorded events, in log order.

Each stored event's link is ``SHA-256(previous link ‖ position ‖ originator ‖ version ‖ topic ‖
state)``, kept in ``event_chain (position, hash)`` beside the library's ``stored_events``. The links
are written **in the same transaction as the events** by the event store's recorder (subclasses of
the library's SQLite and PostgreSQL application recorders, chosen through its
``APPLICATION_RECORDER_TOPIC`` setting), after the library has taken its write lock (SQLite's
write transaction; PostgreSQL's EXCLUSIVE table lock), so the chain follows commit order exactly.
Every write path — a mutation, a plan, the import's batches — goes through that one insert.

Each insert chains every stored event after the chain's head, so a store recorded before the
chain existed is sealed by its first write (one pass over its events, once).

``verify`` recomputes the chain and names the first position where it breaks:

- an event row edited (any column) → its link no longer matches: "altered";
- two rows swapped → the links at both positions no longer match (reported at the first);
- an event row deleted → a link with no event: "missing";
- a row inserted behind the ledger's back → an event with no link: "unchained".

What it cannot prove: someone able to rewrite both tables can recompute every link. The head hash
(``head()``, published with every report and CSV) is what closes that gap: a head an auditor
recorded earlier must still be in the chain at its position.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
import struct
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from staffing.acts import ACTS_TABLE, ActStream, altered
from staffing.arrays import key_array

__all__ = ["GENESIS", "Break", "ChainedPostgresRecorder", "ChainedSQLiteRecorder", "Report", "head", "link",
           "verify"]

CHAIN_TABLE = "event_chain"
GENESIS = hashlib.sha256(b"staffing-ledger event chain, version 1").digest()
BATCH = 20_000
#: below this many events one process checks the whole log (starting workers costs more)
PARALLEL_FROM = 200_000


def link(previous: bytes, position: int, originator: str, version: int, topic: str, state: bytes) -> bytes:
    """One link: fixed-width and length-prefixed fields, so no two records hash the same bytes.
    (``_check`` computes the same bytes inline: keep the two in step.)"""
    topic_bytes = topic.encode()
    return hashlib.sha256(b"".join((previous, _NUMBERS.pack(position, version), originator.encode(),
                                    len(topic_bytes).to_bytes(4, "big"), topic_bytes, state))).digest()


_NUMBERS = struct.Struct(">QQ")


def _hex(originator: Any) -> str:
    return originator.hex if isinstance(originator, UUID) else str(originator).replace("-", "")


def _chain(rows: Iterable[Sequence[Any]], previous: bytes) -> list[tuple[int, bytes]]:
    out = []
    for position, originator, version, topic, state in rows:
        previous = link(previous, position, _hex(originator), version, topic, bytes(state))
        out.append((position, previous))
    return out


# ====================================================================== recorders
def _new_links(ids: Sequence[int], stored_events: Sequence[StoredEvent], earlier: list[Sequence[Any]],
               previous: bytes) -> list[tuple[int, bytes]]:
    """Links for ``earlier`` rows not chained yet (a store written before the chain existed), then
    for the events just inserted (from the objects in hand: their rows are not read back)."""
    rows = [*earlier, *((i, e.originator_id, e.originator_version, e.topic, e.state)
                        for i, e in zip(ids, stored_events, strict=True))]
    return _chain(rows, previous)


def _pending_acts(recorder: Any) -> list[tuple[str, str, str, str]]:
    acts = getattr(recorder, "acts", None)
    return acts.take_pending() if acts is not None else []


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    def _insert_rows(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> list[int]:
        """The library's insert (one statement per event, to read each row id) as one statement and one
        executemany: the events of a transaction get consecutive row ids, because no other connection
        can insert while this one holds the write lock its first insert took, and a table without
        AUTOINCREMENT gives each new row the largest row id plus one. Checked, not assumed: the
        transaction fails if the last id is not where that says. (Issue 9: one statement per event
        was ~4% of an import.)"""
        if not stored_events:
            return []
        rows = [(s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id, s.originator_version,
                 s.topic, s.state) for s in stored_events]
        c.execute(self.insert_events_statement, rows[0])
        first = int(c.lastrowid)
        if len(rows) > 1:
            c.executemany(self.insert_events_statement, rows[1:])
            c.execute(f"SELECT max(rowid) FROM {self.events_table_name}")
            last = c.fetchone()[0]
            if last != first + len(rows) - 1:
                raise RuntimeError(f"the events were given row ids up to {last}, expected {first + len(rows) - 1}")
        return list(range(first, first + len(rows)))

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(),
                f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} (position INTEGER PRIMARY KEY, hash BLOB NOT NULL)",
                f"CREATE TABLE IF NOT EXISTS {ACTS_TABLE} (key TEXT PRIMARY KEY, number TEXT NOT NULL, "
                "issuer TEXT NOT NULL, signed_on TEXT NOT NULL)"]

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
                       ) -> Sequence[int] | None:
        ids = self._insert_rows(c, stored_events)
        acts = _pending_acts(self)
        if acts:  # the acts these events cite, in their transaction (staffing.acts)
            c.executemany(f"INSERT OR IGNORE INTO {ACTS_TABLE} (key, number, issuer, signed_on) VALUES (?, ?, ?, ?)",
                          acts)
        if not ids:
            return ids
        c.execute(f"SELECT position, hash FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1")
        found = c.fetchone()
        position, previous = (found[0], bytes(found[1])) if found else (0, GENESIS)
        c.execute(f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name} "
                  "WHERE rowid > ? AND rowid < ? ORDER BY rowid", (position, ids[0]))
        c.executemany(f"INSERT INTO {CHAIN_TABLE} (position, hash) VALUES (?, ?)",
                      _new_links(ids, stored_events, c.fetchall(), previous))
        return ids


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {schema}.{table} (position bigint PRIMARY KEY, hash bytea NOT NULL)"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(CHAIN_TABLE)))
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {schema}.{table} (key text PRIMARY KEY, number text NOT NULL, "
            "issuer text NOT NULL, signed_on text NOT NULL)"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(ACTS_TABLE)))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """The library's insert (table lock, ``NOTIFY``, one ``INSERT ... RETURNING``, the chain below),
        each statement sent and answered in turn instead of in psycopg's pipeline mode.

        Why: on the national import into PostgreSQL a transaction hung for good (found after 9.2 M
        log entries, ~6,500 transactions): the server had run the lock and the ``NOTIFY`` and waited
        to read the next message (``ClientRead``, empty socket queues both ways) while the client
        waited in ``Pipeline.sync`` for results of an ``INSERT`` of ~1,400 events (~1.5 MB) it had
        not sent; the table lock it held would have stopped every other writer too. A flush of a
        large pipelined message lost by psycopg (3.3.9, C implementation; cf. psycopg issue #685).
        Without pipeline mode the same statements cost two more round trips per transaction, on a
        local socket ~0.1 ms each. Errors surface as in the library (a version conflict as
        ``IntegrityError`` from the insert; the transaction rolled back)."""
        with self.datastore.get_connection() as conn, conn.transaction():
            with conn.cursor() as curs:
                self._insert_events(curs, stored_events, **kwargs)
            if not stored_events:
                return None
            with conn.cursor() as curs:
                self._insert_stored_events(curs, stored_events, **kwargs)
                return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
                                       ) -> Sequence[int] | None:
        """After the library has synced the insert (a version conflict has surfaced as IntegrityError by
        now) and read the new ids, still inside its transaction and under its table lock."""
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        acts = _pending_acts(self)
        with curs.connection.cursor(row_factory=tuple_row) as own:
            schema, chain = Identifier(self.datastore.schema), Identifier(CHAIN_TABLE)
            if acts:  # the acts these events cite, in their transaction (staffing.acts)
                own.execute(SQL("INSERT INTO {schema}.{acts} (key, number, issuer, signed_on) SELECT * FROM "
                                "unnest(%s::text[], %s::text[], %s::text[], %s::text[]) ON CONFLICT DO NOTHING")
                            .format(schema=schema, acts=Identifier(ACTS_TABLE)),
                            [list(column) for column in zip(*acts, strict=True)], prepare=False)
            if not ids:
                return ids
            own.execute(SQL("SELECT position, hash FROM {schema}.{chain} ORDER BY position DESC LIMIT 1")
                        .format(schema=schema, chain=chain), prepare=False)
            found = own.fetchone()
            position, previous = (found[0], bytes(found[1])) if found else (0, GENESIS)
            own.execute(SQL("SELECT notification_id, originator_id, originator_version, topic, state "
                            "FROM {schema}.{table} WHERE notification_id > %s AND notification_id < %s "
                            "ORDER BY notification_id").format(schema=schema, table=Identifier(self.events_table_name)),
                        (position, ids[0]), prepare=False)
            earlier = own.fetchall()
            if any(b <= a for a, b in zip(ids, ids[1:], strict=False)):  # not in insert order: read them back
                own.execute(SQL("SELECT notification_id, originator_id, originator_version, topic, state FROM "
                                "{schema}.{table} WHERE notification_id = ANY(%s) ORDER BY notification_id").format(
                    schema=schema, table=Identifier(self.events_table_name)), (list(ids),), prepare=False)
                links = _chain([*earlier, *own.fetchall()], previous)
            else:
                links = _new_links(ids, stored_events, earlier, previous)
            own.execute(SQL("INSERT INTO {schema}.{chain} (position, hash) SELECT * FROM unnest(%s::bigint[], "
                            "%s::bytea[])").format(schema=schema, chain=chain),
                        ([p for p, _ in links], [h for _, h in links]), prepare=False)
        return ids


# ====================================================================== reading and verifying
@dataclass(frozen=True)
class Break:
    position: int
    kind: str  # altered, missing, unchained
    message: str


@dataclass(frozen=True)
class Report:
    events: int
    head_position: int
    head_hash: str
    seconds: float
    first_break: Break | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def sqlite_rows(recorder: Any, sql: str, params: Sequence[Any] = ()) -> Iterator[Sequence[Any]]:
    """The rows of ``sql`` on a SQLite recorder's database, as plain tuples (not the connection's
    ``sqlite3.Row``: built for nothing where columns are read by position), read in a transaction
    of their own."""
    with recorder.datastore.transaction(commit=False) as wrapped:
        cursor = wrapped.sqlite_cursor  # the driver's own cursor: iterated, not fetched whole
        cursor.row_factory = None
        cursor.execute(sql, params)
        yield from cursor


def _postgres_rows(recorder: Any, sql: Any, params: Sequence[Any] = ()) -> Iterator[Sequence[Any]]:
    with recorder.datastore.get_connection() as conn, conn.transaction(), conn.cursor(
            name="staffing_verify", row_factory=lambda _c: tuple) as cursor:  # type: ignore[arg-type]
        cursor.itersize = BATCH
        cursor.execute(sql, params)
        yield from cursor


def _rows(recorder: Any) -> Iterator[Sequence[Any]]:
    """(position, originator, version, topic, state, chained position or None, hash) per event, in
    position order (the primary key's order: no sort); state and hash as ``bytes``."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        path = recorder.datastore.pool.db_name
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            yield from db.execute(
                "SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, c.position, c.hash "
                f"FROM {recorder.events_table_name} e LEFT JOIN {CHAIN_TABLE} c ON c.position = e.rowid "
                "ORDER BY e.rowid")
        return
    schema, table = Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
    for row in _postgres_rows(recorder, SQL(
            "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state, c.position, c.hash "
            "FROM {schema}.{table} e LEFT JOIN {schema}.{chain} c ON c.position = e.notification_id "
            "ORDER BY e.notification_id").format(schema=schema, table=table, chain=Identifier(CHAIN_TABLE))):
        yield (*row[:4], bytes(row[4]), row[5], bytes(row[6]) if row[6] is not None else None)


def _links(recorder: Any) -> int:
    if isinstance(recorder, SQLiteApplicationRecorder):
        return int(next(sqlite_rows(recorder, f"SELECT count(*) FROM {CHAIN_TABLE}"))[0])
    return int(next(_postgres_rows(recorder, SQL("SELECT count(*) FROM {schema}.{chain}").format(
        schema=Identifier(recorder.datastore.schema), chain=Identifier(CHAIN_TABLE))))[0])


def _orphan_links(recorder: Any) -> list[int]:
    """Positions that have a link but no event (deleted events), in order."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        rows = sqlite_rows(recorder, f"SELECT c.position FROM {CHAIN_TABLE} c WHERE NOT EXISTS (SELECT 1 FROM "
                                      f"{recorder.events_table_name} e WHERE e.rowid = c.position) ORDER BY 1")
    else:
        rows = _postgres_rows(recorder, SQL(
            "SELECT c.position FROM {schema}.{chain} c WHERE NOT EXISTS (SELECT 1 FROM {schema}.{table} e "
            "WHERE e.notification_id = c.position) ORDER BY 1").format(
            schema=Identifier(recorder.datastore.schema), chain=Identifier(CHAIN_TABLE),
            table=Identifier(recorder.events_table_name)))
    return [int(r[0]) for r in rows]


def _check(rows: Iterable[Sequence[Any]], previous: bytes) -> tuple[int, int, Break | None]:
    """Check each event against its own link and the stored link before it: (events checked, last
    position, first break). Every link depends only on the one stored before it, so ranges of the
    log can be checked independently (and in parallel) with the same strength as one pass: an edit
    anywhere breaks the link of that event or of the one after it."""
    sha256, pack, join = hashlib.sha256, _NUMBERS.pack, b"".join
    topics: dict[str, bytes] = {}
    count = last = 0
    for position, originator, version, topic, state, chained, stored in rows:
        if chained is None:
            return count + 1, last, Break(position, "unchained", (
                f"the event at position {position} has no link: it was written outside the ledger"))
        prefix = topics.get(topic)
        if prefix is None:
            encoded = topic.encode()
            prefix = topics[topic] = len(encoded).to_bytes(4, "big") + encoded
        if type(originator) is not bytes:
            originator = _hex(originator).encode()
        if sha256(join((previous, pack(position, version), originator, prefix, state))).digest() != stored:
            return count + 1, last, Break(position, "altered", (
                f"the event at position {position} does not match its link: it, or the order of the events, "
                "was changed after it was recorded"))
        previous, last = stored, position
        count += 1
    return count, last, None


def _sqlite_range(path: str, events: str, start: int, stop: int) -> tuple[int, int, Break | None]:
    """Check positions [start, stop) on a read-only connection (the aggregate id read as bytes, as
    it is hashed)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        found = db.execute(f"SELECT hash FROM {CHAIN_TABLE} WHERE position < ? ORDER BY position DESC LIMIT 1",
                           (start,)).fetchone()
        rows = db.execute(
            "SELECT e.rowid, CAST(e.originator_id AS BLOB), e.originator_version, e.topic, e.state, c.position, "
            f"c.hash FROM {events} e LEFT JOIN {CHAIN_TABLE} c ON c.position = e.rowid "
            "WHERE e.rowid >= ? AND e.rowid < ? ORDER BY e.rowid", (start, stop))
        return _check(rows, found[0] if found else GENESIS)


def verify(recorder: Any, workers: int | None = None) -> Report:
    """Recompute the chain; the first break, if any (see the module docstring).

    ``python -m staffing verify`` is asked to check 500,000 events/s (issue 10). On SQLite the log
    is cut into as many position ranges as there are cores, each checked by its own process on a
    read-only connection (``_check`` explains why ranges are independent); PostgreSQL streams
    through one server-side cursor."""
    started = time.perf_counter()
    if isinstance(recorder, SQLiteApplicationRecorder):
        path, events = recorder.datastore.pool.db_name, recorder.events_table_name
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            low, high = db.execute(f"SELECT coalesce(min(rowid), 1), coalesce(max(rowid), 0) FROM {events}").fetchone()
        parts = workers or (os.cpu_count() or 1) if high - low > PARALLEL_FROM else 1
        step = (high - low) // parts + 1
        bounds = [(low + i * step, min(low + (i + 1) * step, high + 1)) for i in range(parts)]
        if parts == 1:
            results = [_sqlite_range(path, events, *bounds[0])]
        else:
            with ProcessPoolExecutor(parts, mp_context=multiprocessing.get_context("fork")) as pool:
                results = list(pool.map(_sqlite_range, [path] * parts, [events] * parts, *zip(*bounds, strict=True)))
    else:
        results = [_check(_rows(recorder), GENESIS)]
    count = sum(r[0] for r in results)
    breaks = [r[2] for r in results if r[2] is not None]
    # a link whose event was deleted: only looked for (one anti-join) when something does not add up
    orphans = _orphan_links(recorder) if breaks or _links(recorder) != count else []
    if orphans:
        breaks.append(Break(orphans[0], "missing", (
            f"the event at position {orphans[0]} is missing: it was deleted after it was recorded")))
    act = _altered_act(recorder)
    if act is not None:
        breaks.append(act)
    first = min(breaks, key=lambda b: b.position) if breaks else None
    last = max((r[1] for r in results), default=0) if first is None else first.position - 1
    found = head(recorder, last)
    return Report(count, found[0] if found else 0, found[1] if found else GENESIS.hex(),
                  time.perf_counter() - started, first)


def head(recorder: Any, position: int | None = None) -> tuple[int, str] | None:
    """(position, hash) of the chain's last link at or before ``position`` (None: the whole chain)."""
    bound = position if position is not None else 2**62
    if isinstance(recorder, SQLiteApplicationRecorder):
        row = next(sqlite_rows(recorder, f"SELECT position, hash FROM {CHAIN_TABLE} WHERE position <= ? "
                                          "ORDER BY position DESC LIMIT 1", (bound,)), None)
    elif isinstance(recorder, PostgresApplicationRecorder):
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(SQL("SELECT position, hash FROM {schema}.{chain} WHERE position <= %s ORDER BY position "
                               "DESC LIMIT 1").format(schema=Identifier(recorder.datastore.schema),
                                                      chain=Identifier(CHAIN_TABLE)), (bound,))
            found = cursor.fetchone()
            row = (found["position"], found["hash"]) if found else None
    else:
        return None
    return (int(row[0]), bytes(row[1]).hex()) if row else None


def hashes(recorder: Any, positions: Sequence[int]) -> dict[int, str]:
    """The link of each of ``positions`` (a history page's facts, a diff's explaining facts)."""
    if not positions:
        return {}
    if isinstance(recorder, SQLiteApplicationRecorder):
        found: dict[int, str] = {}
        ordered = list(positions)
        for i in range(0, len(ordered), 5000):  # SQLite binds at most 32,766 values per statement
            chunk = ordered[i:i + 5000]
            marks = ", ".join("?" * len(chunk))
            found.update({int(p): bytes(h).hex() for p, h in sqlite_rows(
                recorder, f"SELECT position, hash FROM {CHAIN_TABLE} WHERE position IN ({marks})", chunk)})
        return found
    if isinstance(recorder, PostgresApplicationRecorder):
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(SQL("SELECT position, hash FROM {schema}.{chain} WHERE position = ANY(%s)").format(
                schema=Identifier(recorder.datastore.schema), chain=Identifier(CHAIN_TABLE)), (list(positions),))
            return {int(r["position"]): bytes(r["hash"]).hex() for r in cursor.fetchall()}
    return {}


def load_act(recorder: Any, key: str) -> tuple[str, str, str] | None:
    """(number, issuer, signed_on) of a stored act (``staffing.acts``)."""
    found = load_acts(recorder, [key])
    return found[0][1:] if found else None


def load_acts(recorder: Any, keys: list[str]) -> list[tuple[str, str, str, str]]:
    """(key, number, issuer, signed_on) of the stored acts among ``keys``: on SQLite one read per 500
    (a statement's parameters are bounded, 999 in older builds); on PostgreSQL one read of them all,
    as one array parameter (a projector's batch cites ~5,000 acts: one read per 500 took 2.5x as long,
    each a round trip to the server; ``benchmarks/RESULTS.md`` section 29)."""
    found: list[Sequence[Any]] = []
    if isinstance(recorder, SQLiteApplicationRecorder):
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            found.extend(sqlite_rows(recorder, f"SELECT key, number, issuer, signed_on FROM {ACTS_TABLE} "
                                                f"WHERE key IN ({', '.join('?' * len(chunk))})", chunk))
    elif isinstance(recorder, PostgresApplicationRecorder) and keys:
        # (the keys as one array literal, not a list psycopg dumps key by key in Python: ~2% of a
        # national rebuild's samples, on the read-ahead thread, which takes the interpreter from the
        # decoding; section 45). Act keys are hex digests; anything else (a damaged event's reference)
        # goes as a list (``key_array``).
        literal = key_array(keys)
        parameter: Any = keys if literal is None else literal
        with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
            cursor.execute(SQL("SELECT key, number, issuer, signed_on FROM {schema}.{acts} WHERE key = ANY(%s::text[])")
                           .format(schema=Identifier(recorder.datastore.schema), acts=Identifier(ACTS_TABLE)),
                           (parameter,))
            found.extend(cursor.fetchall())
    return [(str(k), str(n), str(i), str(s)) for k, n, i, s in found]


def act_stream(recorder: Any) -> ActStream | None:
    """The acts table of a SQLite store read forwards in stored order (``ActStream``: a rebuild's acts);
    None elsewhere. SQLite keeps the order rows were stored in as row ids; a PostgreSQL table has no
    such order to rely on, and there a rebuild reads its acts on the read-ahead thread anyway."""
    if not isinstance(recorder, SQLiteApplicationRecorder):
        return None

    def after(rowid: int, limit: int) -> list[tuple[int, str, str, str, str]]:
        return [(int(r), str(k), str(n), str(i), str(s)) for r, k, n, i, s in sqlite_rows(
            recorder, f"SELECT rowid, key, number, issuer, signed_on FROM {ACTS_TABLE} WHERE rowid > ? "
                      "ORDER BY rowid LIMIT ?", (rowid, limit))]
    return ActStream(after)


def _altered_act(recorder: Any) -> Break | None:
    """An act whose stored text no longer hashes to its key: edited after it was recorded."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        rows: Iterable[Any] = sqlite_rows(recorder, f"SELECT key, number, issuer, signed_on FROM {ACTS_TABLE}")
    elif isinstance(recorder, PostgresApplicationRecorder):
        rows = _postgres_rows(recorder, SQL("SELECT key, number, issuer, signed_on FROM {schema}.{acts}").format(
            schema=Identifier(recorder.datastore.schema), acts=Identifier(ACTS_TABLE)))
    else:
        return None
    key = altered(rows)
    return Break(0, "act-altered", f"the legal act {key} was edited after it was recorded (its text no longer "
                                   "matches the key the events cite)") if key else None
