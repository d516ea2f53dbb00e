"""Bulk inserts straight to the driver: the projector's batches without per-row SQLAlchemy processing.

Why (issue 9): a rebuild writes several rows per event; SQLAlchemy's executemany spends ~9 µs per
row binding and type-processing parameters, more than the database spends storing them. Here the
statement is written once per table and the rows go to the driver's ``executemany`` as tuples.
Dates are the one type SQLAlchemy would convert: it stores a SQLite ``Date`` as ISO text
('2025-07-01'), which is what the ``date.isoformat`` adapter registered here gives the driver
(the read models have no DateTime columns); PostgreSQL's driver takes dates as they are.

On PostgreSQL the rows go by ``COPY ... FROM STDIN`` (psycopg's ``copy.write_row``) instead of an
executemany: one statement streaming every row, the bulk path the server is built for.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table

# exact type: datetimes (none in the read models) keep the driver's own handling
sqlite3.register_adapter(date, date.isoformat)

__all__ = ["close_rows", "insert_rows", "insert_tuples"]


def insert_rows(conn: Connection, table: Table, records: Sequence[dict[str, Any]]) -> None:
    """Insert ``records`` (dicts with the same keys) into ``table``: one COPY or one driver executemany."""
    if not records:
        return
    columns = list(records[0])
    first = columns[0]
    getter: Any = itemgetter(*columns) if len(columns) > 1 else (lambda r: (r[first],))
    insert_tuples(conn, table, columns, [getter(r) for r in records])


def insert_tuples(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples of ``columns``' values) into ``table``: one COPY or one driver executemany."""
    if not rows:
        return
    dialect = conn.dialect
    if dialect.name == "postgresql":
        quoted = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
        raw: Any = conn.connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {dialect.identifier_preparer.quote(table.name)} ({quoted}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
        return
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
                 f"VALUES ({', '.join([mark] * len(columns))})")
    conn.exec_driver_sql(statement, rows)


def close_rows(conn: Connection, table: Table, closings: Sequence[tuple[int, int]]) -> None:
    """Set ``rec_to`` of believed rows that stopped being believed: ``closings`` are (rec_to, row_id)
    pairs, sent to the driver's ``executemany`` as they are (SQLAlchemy's executemany of an
    ``update()`` cost ~10 µs a row in binding and type processing, for two integers)."""
    if not closings:
        return
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(f"UPDATE {quote(table.name)} SET rec_to = {mark} WHERE row_id = {mark}", list(closings))
