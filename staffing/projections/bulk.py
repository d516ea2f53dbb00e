"""Bulk inserts straight to the driver: the projector's batches without per-row SQLAlchemy processing.

Why (issue 9): a rebuild writes several rows per event; SQLAlchemy's executemany spends ~9 µs per
row binding and type-processing parameters, more than the database spends storing them. Here the
statement is written once per table and the rows go to the driver's ``executemany`` as tuples.
Dates are the one type SQLAlchemy would convert: it stores a SQLite ``Date`` as ISO text
('2025-07-01'), which is what the ``date.isoformat`` adapter registered here gives the driver
(the read models have no DateTime columns); PostgreSQL's driver takes dates as they are.

On PostgreSQL the rows go by ``COPY ... FROM STDIN`` (psycopg's ``copy.write_row``) instead of an
executemany: one statement streaming every row, the bulk path the server is built for. In COPY's
binary format, each column's type declared from the table (``_copy_types``): psycopg then dumps a
value with the column's dumper, chosen once, instead of finding one by the value's Python type for
each value and writing text the server parses again. Measured on 100,000 person rows: ~0.3x the
process's CPU of the text format; the wall time, set by the server's inserts into the table and its
indexes, ~0.94x (``benchmarks/bench_copy.py``, ``benchmarks/RESULTS.md`` section 36).

On SQLite the executemany goes to the driver's cursor directly, in the transaction the SQLAlchemy
connection opened, and each statement's text is built once per table and columns. Why: a command
projected on its own writes ~8 small statements, and SQLAlchemy's execution path (events, result
set-up, quoting every column name again) cost ~25 µs each, a tenth of projecting the command.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import date
from operator import itemgetter
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Connection, Date, Integer, String, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import UserDefinedType

from staffing.arrays import int_array, key_array
from staffing.planner import FRACTION, analyze_stale

# exact type: datetimes (none in the read models) keep the driver's own handling
sqlite3.register_adapter(date, date.isoformat)

__all__ = ["begun", "chunks", "close_rows", "driver_cursor", "insert_rows", "insert_tuples", "key_in", "mark", "settle",
           "update_rows"]

#: keys per ``IN (...)`` list: well under SQLite's 999 bound parameters of older builds
CHUNK = 500

#: where a connection's write queue is kept (``Connection.info``; ``writebehind.queued_writes``)
QUEUE_KEY = "staffing.write_queue"


def chunks(keys: Iterable[str]) -> Iterator[list[str]]:
    """``keys`` sorted and cut into lists of ``CHUNK``, one ``IN (...)`` read each."""
    ordered = sorted(keys)
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i:i + CHUNK]


class _KeyArrayLiteral(UserDefinedType[str]):
    """A ``VARCHAR[]`` parameter sent as its literal's text (``key_array``) and typed by the parameter
    itself (``%(p)s::VARCHAR[]``): the server reads it as an array when it binds it, so the planner
    sees a constant array of known length, as it does an ``IN`` list. A ``CAST`` of a text parameter
    to an array is not folded (``array_in`` is only stable): the planner then plans for an array of
    unknown length, with its default estimates (``benchmarks/RESULTS.md`` section 46)."""

    cache_ok = True
    render_bind_cast = True

    def get_col_spec(self, **kw: Any) -> str:
        return "VARCHAR[]"

    def bind_processor(self, dialect: Any) -> None:
        return None  # (the literal's text as it is: ``ARRAY``'s own processor would split it)


def key_in(conn: Connection, column: ColumnElement[Any], keys: Sequence[str]) -> ColumnElement[bool]:
    """``column IN keys``; on PostgreSQL ``column = ANY(keys)`` with the keys as one array parameter.

    Why (issue 9): a national rebuild reads ~1.4 million series back 500 keys at a time. Through
    ``IN`` each read cost ~3 ms of the client's CPU (SQLAlchemy expanding 500 bound parameters,
    psycopg dumping each) against ~0.4 ms as one array literal (``staffing.arrays.key_array``), and
    its statement text is the same whatever the number of keys (``benchmarks/RESULTS.md`` section 46).
    So psycopg prepares it, and the server may then keep a generic plan made while a table was
    small: a rebuild, whose tables start empty, plans each read-back for its values
    (``rebuild.READ_SETTINGS``). Keys that are not plain go as a list, still one parameter."""
    if conn.dialect.name != "postgresql":
        return column.in_(keys)
    literal = key_array(keys)
    if literal is not None:
        return column == any_(bindparam(None, literal, type_=_KeyArrayLiteral()))
    return column == any_(bindparam(None, list(keys), type_=ARRAY(String)))


#: statement texts by (dialect, kind, table, columns, keys): built once, not per call
_TEXTS: dict[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], str] = {}


def _text(conn: Connection, kind: str, table: Table, columns: Sequence[str], keys: Sequence[str] = ()) -> str:
    dialect = conn.dialect
    key = (dialect.name, kind, table.name, tuple(columns), tuple(keys))
    found = _TEXTS.get(key)
    if found is None:
        quote, placeholder = dialect.identifier_preparer.quote, mark(conn)
        if kind == "copy":
            found = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
            if _copy_types(table, columns) is not None:
                found += " (FORMAT BINARY)"
        elif kind == "insert":
            found = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
                     f"VALUES ({', '.join([placeholder] * len(columns))})")
        elif kind == "update":  # ``columns`` set where ``keys`` match (``update_rows``)
            found = (f"UPDATE {quote(table.name)} SET {', '.join(f'{quote(c)} = {placeholder}' for c in columns)} "
                     f"WHERE {' AND '.join(f'{quote(k)} = {placeholder}' for k in keys)}")
        elif kind == "close many":  # PostgreSQL: every closing in one statement (``close_rows``)
            found = (f"UPDATE {quote(table.name)} AS t SET rec_to = v.rec_to "
                     "FROM unnest(%s::bigint[], %s::bigint[]) AS v(rec_to, row_id) WHERE t.row_id = v.row_id")
        else:
            found = f"UPDATE {quote(table.name)} SET rec_to = {placeholder} WHERE row_id = {placeholder}"
        _TEXTS[key] = found
    return found


#: the binary COPY type of each SQLAlchemy column type the read models use (checked in this order:
#: ``BigInteger`` is an ``Integer``; ``Text`` is a ``String``, and text and varchar share a binary form)
_BINARY_TYPES: tuple[tuple[type, str], ...] = ((BigInteger, "int8"), (Integer, "int4"), (Date, "date"),
                                               (String, "text"))

#: per (table, columns): the binary COPY types, or None when a column has a type not listed above
_COPY_TYPES: dict[tuple[str, tuple[str, ...]], list[str] | None] = {}


def _copy_types(table: Table, columns: Sequence[str]) -> list[str] | None:
    """The binary COPY types of ``columns`` of ``table`` (None: some column's type has no entry in
    ``_BINARY_TYPES``, so its rows go in COPY's text format, as before)."""
    key = (table.name, tuple(columns))
    if key not in _COPY_TYPES:
        kinds = [next((pg for sa, pg in _BINARY_TYPES if isinstance(table.c[name].type, sa)), None) for name in columns]
        found = [kind for kind in kinds if kind is not None]
        _COPY_TYPES[key] = found if len(found) == len(kinds) else None
    return _COPY_TYPES[key]


def mark(conn: Connection) -> str:
    """The driver's parameter placeholder."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def begun(conn: Connection) -> Any:
    """The driver's connection under ``conn``, with ``conn``'s transaction begun first.

    A write sent straight to the driver goes past SQLAlchemy, whose transaction begins only with
    its own next statement: after a commit, SQLite (driven with ``isolation_level = None`` so the
    ledger issues ``BEGIN`` itself, ``projections.db``) would otherwise commit each such write on
    its own — outside the batch it belongs to, and ~3x slower (measured on a province rebuild)."""
    if not conn.in_transaction():
        conn.begin()
    return conn.connection.dbapi_connection


@contextmanager
def driver_cursor(conn: Connection) -> Iterator[Any]:
    """A cursor of the driver's connection under ``conn``, in the transaction ``conn`` opened (once
    the writes queued on ``conn`` are made: ``writebehind``)."""
    settle(conn)
    cursor: Any = begun(conn).cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def refresh_statistics(conn: Connection, everything: bool = False, behind: bool = False,
                       fraction: float = FRACTION) -> list[str]:
    """On PostgreSQL, ``ANALYZE`` the read-model tables of ``conn``'s schema whose planner statistics
    are stale (``staffing.planner``, with ``fraction``), or all of them (``everything``), in
    ``conn``'s transaction; returns their names. Nothing on SQLite. ``behind``: queued behind the
    writes queued on ``conn`` (``writebehind``; made at once without a queue), its result not waited
    for: returns []."""
    if conn.dialect.name != "postgresql":
        return []
    if behind:
        _send(conn, functools.partial(_analyze, begun(conn), everything, fraction))
        return []
    settle(conn)
    return _analyze(begun(conn), everything, fraction)


def _analyze(driver_connection: Any, everything: bool, fraction: float) -> list[str]:
    with driver_connection.cursor() as cursor:
        return analyze_stale(cursor, everything=everything, fraction=fraction)


def insert_rows(conn: Connection, table: Table, records: Sequence[dict[str, Any]]) -> None:
    """Insert ``records`` (dicts with the same keys) into ``table``: one COPY or one driver executemany."""
    if not records:
        return
    columns = list(records[0])
    first = columns[0]
    getter: Any = itemgetter(*columns) if len(columns) > 1 else (lambda r: (r[first],))
    insert_tuples(conn, table, columns, [getter(r) for r in records])


def insert_tuples(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples of ``columns``' values) into ``table``: one COPY or one driver executemany
    (queued, where ``conn`` has a write queue: ``writebehind``, ``writeprocess``)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _send(conn, functools.partial(_copy, begun(conn), _text(conn, "copy", table, columns),
                                      _copy_types(table, columns), list(rows)))
    else:
        _send_rows(conn, _text(conn, "insert", table, columns), list(rows))


def _copy(raw: Any, statement: str, types: list[str] | None, rows: list[Sequence[Any]]) -> None:
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        if types is not None:  # (the statement says FORMAT BINARY exactly then)
            copy.set_types(types)
        for r in rows:
            copy.write_row(r)


def _execute_many(raw: Any, statement: str, rows: list[Sequence[Any]]) -> None:
    with closing(raw.cursor()) as cursor:
        cursor.executemany(statement, rows)


def _execute(raw: Any, statement: str, parameters: Sequence[Any]) -> None:
    with closing(raw.cursor()) as cursor:
        cursor.execute(statement, parameters)


def _send(conn: Connection, write: Callable[[], object]) -> None:
    """Make ``write`` (the driver's connection only), or queue it where ``conn`` has a write queue."""
    queue = conn.info.get(QUEUE_KEY) if conn.info else None
    if queue is None:
        write()
    else:
        queue.put(write)


def _send_rows(conn: Connection, statement: str, rows: list[Sequence[Any]]) -> None:
    """The driver's executemany of ``statement`` over ``rows``, in ``conn``'s transaction; or queued
    where ``conn`` has a write queue: a thread's (``writebehind``) takes it as a call on the driver's
    connection, a child process's (``writeprocess``) as the statement and its rows."""
    raw = begun(conn)  # (with a child's queue: SQLAlchemy's transaction only, so its commit is queued)
    queue: Any = conn.info.get(QUEUE_KEY) if conn.info else None
    if getattr(queue, "statements", False):
        queue.put_rows(statement, rows)
    else:
        _send(conn, functools.partial(_execute_many, raw, statement, rows))


def settle(conn: Connection) -> None:
    """Wait until the writes queued on ``conn`` are made (nothing to wait for without a queue)."""
    queue = conn.info.get(QUEUE_KEY) if conn.info else None
    if queue is not None:
        queue.settle()


def update_rows(conn: Connection, table: Table, columns: Sequence[str], keys: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """Set ``columns`` of the rows of ``table`` whose ``keys`` match: ``rows`` are tuples of the new
    values, then the keys' values; one driver executemany (queued, where ``conn`` has a write queue:
    ``writebehind``). For the rare changes of rows stored earlier (a retraction's marks)."""
    if not rows:
        return
    _send_rows(conn, _text(conn, "update", table, columns, keys), list(rows))


def close_rows(conn: Connection, table: Table, closings: Sequence[tuple[int, int]]) -> None:
    """Set ``rec_to`` of believed rows that stopped being believed: ``closings`` are (rec_to, row_id)
    pairs, sent to the driver's ``executemany`` as they are (SQLAlchemy's executemany of an
    ``update()`` cost ~10 µs a row in binding and type processing, for two integers). On PostgreSQL
    they go as two arrays in one statement: psycopg's executemany sends one statement per row
    through its pipeline, whose per-statement work in Python was ~10% of a province rebuild. The
    arrays go as array literals (``int_array``), not lists. Queued, where ``conn`` has a write queue
    (``writebehind``)."""
    if not closings:
        return
    raw: Any = begun(conn)
    if conn.dialect.name == "postgresql":
        last = {row_id: rec_to for rec_to, row_id in closings}  # (a row closed twice: the later closing, as
        # one UPDATE after another would leave it)
        _send(conn, functools.partial(_execute, raw, _text(conn, "close many", table, ()),
                                      (int_array(last.values()), int_array(last))))
    else:
        _send_rows(conn, _text(conn, "close", table, ()), list(closings))
