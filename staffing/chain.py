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
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

__all__ = ["GENESIS", "Break", "ChainedPostgresRecorder", "ChainedSQLiteRecorder", "Report", "head", "link",
           "verify"]

CHAIN_TABLE = "event_chain"
GENESIS = hashlib.sha256(b"staffing-ledger event chain, version 1").digest()
BATCH = 20_000


def link(previous: bytes, position: int, originator: str, version: int, topic: str, state: bytes) -> bytes:
    """One link: fixed-width and length-prefixed fields, so no two records hash the same bytes."""
    topic_bytes = topic.encode()
    return hashlib.sha256(b"".join((previous, position.to_bytes(8, "big"), originator.encode(),
                                    version.to_bytes(8, "big"), len(topic_bytes).to_bytes(4, "big"), topic_bytes,
                                    state))).digest()


def _hex(originator: Any) -> str:
    return originator.hex if isinstance(originator, UUID) else str(originator).replace("-", "")


def _chain(rows: Iterable[Sequence[Any]], previous: bytes) -> list[tuple[int, bytes]]:
    out = []
    for position, originator, version, topic, state in rows:
        previous = link(previous, position, _hex(originator), version, topic, bytes(state))
        out.append((position, previous))
    return out


# ====================================================================== recorders
class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(),
                f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} (position INTEGER PRIMARY KEY, hash BLOB NOT NULL)"]

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
                       ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        c.execute(f"SELECT position, hash FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1")
        found = c.fetchone()
        position, previous = (found[0], bytes(found[1])) if found else (0, GENESIS)
        c.execute(f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name} "
                  "WHERE rowid > ? ORDER BY rowid", (position,))
        c.executemany(f"INSERT INTO {CHAIN_TABLE} (position, hash) VALUES (?, ?)", _chain(c.fetchall(), previous))
        return ids


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {schema}.{table} (position bigint PRIMARY KEY, hash bytea NOT NULL)"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(CHAIN_TABLE)))

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super()._insert_stored_events(curs, stored_events, **kwargs)  # takes the table lock, then inserts
        # a cursor of its own: the library reads the insert's returned ids off ``curs`` afterwards
        with curs.connection.cursor(row_factory=tuple_row) as own:
            schema, chain = Identifier(self.datastore.schema), Identifier(CHAIN_TABLE)
            own.execute(SQL("SELECT position, hash FROM {schema}.{chain} ORDER BY position DESC LIMIT 1")
                        .format(schema=schema, chain=chain))
            found = own.fetchone()
            position, previous = (found[0], bytes(found[1])) if found else (0, GENESIS)
            own.execute(SQL("SELECT notification_id, originator_id, originator_version, topic, state "
                            "FROM {schema}.{table} WHERE notification_id > %s ORDER BY notification_id")
                        .format(schema=schema, table=Identifier(self.events_table_name)), (position,))
            links = _chain(own.fetchall(), previous)
            if links:
                own.execute(SQL("INSERT INTO {schema}.{chain} (position, hash) SELECT * FROM unnest(%s::bigint[], "
                                "%s::bytea[])").format(schema=schema, chain=chain),
                            ([p for p, _ in links], [h for _, h in links]))


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


def _sqlite_rows(recorder: Any, sql: str, params: Sequence[Any] = ()) -> Iterator[Sequence[Any]]:
    with recorder.datastore.transaction(commit=False) as wrapped:
        cursor = wrapped.sqlite_cursor  # the driver's own cursor: iterated, not fetched whole
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
    position order (the primary key's order: no sort)."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        yield from _sqlite_rows(recorder, (
            "SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, c.position, c.hash "
            f"FROM {recorder.events_table_name} e LEFT JOIN {CHAIN_TABLE} c ON c.position = e.rowid ORDER BY e.rowid"))
        return
    schema, table = Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
    yield from _postgres_rows(recorder, SQL(
        "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state, c.position, c.hash "
        "FROM {schema}.{table} e LEFT JOIN {schema}.{chain} c ON c.position = e.notification_id "
        "ORDER BY e.notification_id").format(schema=schema, table=table, chain=Identifier(CHAIN_TABLE)))


def _orphan_links(recorder: Any) -> list[int]:
    """Positions that have a link but no event (deleted events), in order."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        rows = _sqlite_rows(recorder, f"SELECT c.position FROM {CHAIN_TABLE} c WHERE NOT EXISTS (SELECT 1 FROM "
                                      f"{recorder.events_table_name} e WHERE e.rowid = c.position) ORDER BY 1")
    else:
        rows = _postgres_rows(recorder, SQL(
            "SELECT c.position FROM {schema}.{chain} c WHERE NOT EXISTS (SELECT 1 FROM {schema}.{table} e "
            "WHERE e.notification_id = c.position) ORDER BY 1").format(
            schema=Identifier(recorder.datastore.schema), chain=Identifier(CHAIN_TABLE),
            table=Identifier(recorder.events_table_name)))
    return [int(r[0]) for r in rows]


def verify(recorder: Any) -> Report:
    """Recompute the chain; the first break, if any (see the module docstring)."""
    started = time.perf_counter()
    orphans = _orphan_links(recorder)
    previous, count, last = GENESIS, 0, 0
    for position, originator, version, topic, state, chained, stored in _rows(recorder):
        if orphans and orphans[0] < position:
            break
        count += 1
        if chained is None:
            return _report(count, last, previous, started, Break(position, "unchained", (
                f"the event at position {position} has no link: it was written outside the ledger")))
        previous = link(previous, position, _hex(originator), version, topic, bytes(state))
        if previous != bytes(stored):
            return _report(count, last, previous, started, Break(position, "altered", (
                f"the event at position {position} does not match its link: it, or the order of the events, "
                "was changed after it was recorded")))
        last = position
    if orphans:
        return _report(count, last, previous, started, Break(orphans[0], "missing", (
            f"the event at position {orphans[0]} is missing: it was deleted after it was recorded")))
    return _report(count, last, previous, started, None)


def _report(count: int, position: int, hash_: bytes, started: float, found: Break | None) -> Report:
    return Report(count, position, hash_.hex(), time.perf_counter() - started, found)


def head(recorder: Any, position: int | None = None) -> tuple[int, str] | None:
    """(position, hash) of the chain's last link at or before ``position`` (None: the whole chain)."""
    bound = position if position is not None else 2**62
    if isinstance(recorder, SQLiteApplicationRecorder):
        row = next(_sqlite_rows(recorder, f"SELECT position, hash FROM {CHAIN_TABLE} WHERE position <= ? "
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
    """The link of each of ``positions`` (a history page's facts)."""
    if not positions:
        return {}
    if isinstance(recorder, SQLiteApplicationRecorder):
        marks = ", ".join("?" * len(positions))
        rows = _sqlite_rows(recorder, f"SELECT position, hash FROM {CHAIN_TABLE} WHERE position IN ({marks})",
                            list(positions))
        return {int(p): bytes(h).hex() for p, h in rows}
    if isinstance(recorder, PostgresApplicationRecorder):
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(SQL("SELECT position, hash FROM {schema}.{chain} WHERE position = ANY(%s)").format(
                schema=Identifier(recorder.datastore.schema), chain=Identifier(CHAIN_TABLE)), (list(positions),))
            return {int(r["position"]): bytes(r["hash"]).hex() for r in cursor.fetchall()}
    return {}
