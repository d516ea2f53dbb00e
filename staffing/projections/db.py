"""Engines for the read models: SQLite (WAL) by default, PostgreSQL by the same one setting.

On SQLite the projector's writes open with ``BEGIN IMMEDIATE`` so two catching-up processes
serialise on the file lock instead of failing on upgrade; readers use a separate engine and never
block the writer (WAL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import URL

from staffing.projections.checkpoint import BACKSTOP, Checkpointer

__all__ = ["NO_BEGIN", "ViewEngines", "make_engines"]

#: a connection whose ``Connection.info`` holds this (true) issues no ``BEGIN``: each statement is its
#: own transaction (a rebuild whose writes a child process makes, ``writeprocess``)
NO_BEGIN = "staffing.no_begin"


def _sqlite_from_hint(self: SQLiteCompiler, table: Any, text: str) -> str:
    return text


#: ``select(...).with_hint(table, "INDEXED BY ix_...", "sqlite")`` renders after the table name. SQLAlchemy's
#: SQLite compiler drops table hints (it renders none), so a query that must not be left to SQLite's
#: planner (``series.believed_rows``, the summary's recent deltas) would silently lose its index.
SQLiteCompiler.get_from_hint_text = _sqlite_from_hint  # type: ignore[method-assign,assignment]


@dataclass(frozen=True)
class ViewEngines:
    write: Engine
    read: Engine
    #: the write-ahead log's checkpoints, run off the committing thread (SQLite, live ledger only)
    checkpointer: Checkpointer | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.write.dialect.name == "sqlite"

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.close()
        self.write.dispose()
        if self.read is not self.write:
            self.read.dispose()


#: the page cache of a SQLite engine's writing connection: 64 MiB instead of SQLite's 2 MiB
WRITER_CACHE = "cache_size=-65536"


def _sqlite_engine(url: URL, immediate: bool, checkpointer: Checkpointer | None = None) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        if immediate:  # the projector's connection: its inserts touch pages of every index of a table
            cursor.execute(f"PRAGMA {WRITER_CACHE}")
        if checkpointer is not None:  # the thread checkpoints; the commits only past the backstop
            cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:  # to the driver directly: a statement through SQLAlchemy costs ~50 µs
        if conn.info.get(NO_BEGIN):
            return
        conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

    if checkpointer is not None:
        event.listen(engine, "commit", lambda _: checkpointer.poke())

    return engine


def make_engines(url: URL, schema: str | None = None, checkpoint: bool = False) -> ViewEngines:
    """The read models' engines. ``checkpoint``: the live ledger's (SQLite: its write-ahead log is
    checkpointed by a thread of its own, ``staffing.projections.checkpoint``)."""
    if url.get_backend_name() == "sqlite":
        path = url.database
        checkpointer = Checkpointer(path) if checkpoint and path and path != ":memory:" else None
        return ViewEngines(write=_sqlite_engine(url, immediate=True, checkpointer=checkpointer),
                           read=_sqlite_engine(url, immediate=False), checkpointer=checkpointer)
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    engine = create_engine(url, connect_args=connect_args, pool_size=5, max_overflow=10, pool_pre_ping=True)
    return ViewEngines(write=engine, read=engine)
