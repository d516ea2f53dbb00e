"""Is the read model level with the log? The check every GraphQL request makes first.

Why (issue 9): a request catches the read models up before it reads (read your writes, also for
writes made by other processes), so this check runs on every request, and a mutation made it three
times. Through the libraries it took ~240 µs here: the event store's pool (reader-writer interlock,
``BEGIN``, ``SELECT``, ``COMMIT``) and a SQLAlchemy connection (checkout, ``BEGIN``, ``SELECT``,
rollback) for two one-row reads.

On SQLite the two reads go to two plain connections of their own, in autocommit: each ``SELECT``
is its own read transaction on the current state of its file, and ends when its one row is
fetched (no snapshot is held between checks, so checkpoints are never held back). The log's head
is read first, then the tracked position: tracking only moves forward, so a "level" answer means
the read models had reached at least the head as it stood when the check began. On PostgreSQL
(and an in-memory SQLite) the libraries' own reads are used, as before.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy import select

from staffing.projections import tables as t
from staffing.projections.db import ViewEngines

__all__ = ["Freshness"]


class Freshness:
    """``level()``: True when the read models have applied every event the log holds."""

    def __init__(self, store: Any, engines: ViewEngines, tracked_name: str) -> None:
        self.store, self.engines, self.name = store, engines, tracked_name
        self._lock = threading.Lock()
        self._connections: tuple[sqlite3.Connection, sqlite3.Connection] | None = None
        self._files = self._sqlite_files()
        self._head_sql = f"SELECT MAX(rowid) FROM {getattr(store.recorder, 'events_table_name', 'stored_events')}"

    def _sqlite_files(self) -> tuple[str, str] | None:
        """(event store file, read-model file), when both are SQLite files; else None."""
        pool = getattr(getattr(self.store.recorder, "datastore", None), "pool", None)
        events = getattr(pool, "db_name", None)
        if getattr(pool, "is_sqlite_memory_mode", True):
            return None
        views = self.engines.read.url.database if self.engines.is_sqlite else None
        if not isinstance(events, str) or not views or ":memory:" in views or "mode=memory" in views:
            return None
        return events, views

    def level(self) -> bool:
        if self._files is None:
            return self._level_through_libraries()
        with self._lock:
            if self._connections is None:
                self._connections = (self._open(self._files[0]), self._open(self._files[1]))
            events, views = self._connections
            head = events.execute(self._head_sql).fetchall()[0][0] or 0
            found = views.execute("SELECT position FROM projection_tracking WHERE name = ?", (self.name,)).fetchall()
        return bool(found) and int(found[0][0]) >= head

    @staticmethod
    def _open(path: str) -> sqlite3.Connection:
        uri = path.startswith("file:")
        return sqlite3.connect(path, uri=uri, isolation_level=None, check_same_thread=False, timeout=60)

    def _level_through_libraries(self) -> bool:
        latest = self.store.recorder.max_notification_id() or 0
        with self.engines.read.connect() as conn:
            tracked = conn.execute(select(t.tracking.c.position).where(t.tracking.c.name == self.name)).scalar()
        return tracked is not None and int(tracked) >= latest

    def close(self) -> None:
        with self._lock:
            if self._connections is not None:
                for connection in self._connections:
                    connection.close()
                self._connections = None
