"""PostgreSQL's planner statistics, kept fresh by the ledger itself (issue 9: national scale).

PostgreSQL chooses each plan from the statistics ``ANALYZE`` gathers. Autovacuum normally runs it,
but a server may have it off (the CI machines' ``conf.d/90-ci.conf`` does) or reach a table late,
and a table filled by an import or a rebuild and never analyzed is planned blind. Measured on the
national history (``benchmarks/RESULTS.md``, section 21): with the event table at 7 M rows and
never analyzed, reading the events of the 500 aggregates a batch of the import names
(``originator_id = ANY(...)``) was planned as a parallel sequential scan and took 14 s, and the
import crawled at 206 log entries/s; one ``ANALYZE`` (0.3 s) and it ran at 6,072/s, 29x.

So every writer that grows the tables looks now and then (``Pacer``: every ``EVERY`` rows it wrote,
one catalog query) and analyzes the tables of its schema whose statistics are stale by
autovacuum's own rule with a floor: more rows written since the last analysis than ``FRACTION`` of
the table's rows and than ``MINIMUM``. A table never analyzed counts as empty, so the first look
after ``MINIMUM`` rows analyzes it. SQLite is not concerned: its planner uses no statistics unless
asked, and the queries that need a particular index name it (``series._rows_by_key``).

``ANALYZE`` only reads a sample (30,000 rows at the default statistics target) and takes no lock
that blocks readers or writers; a table the ledger's role does not own is skipped by PostgreSQL
with a warning, never an error.
"""

from __future__ import annotations

from typing import Any

from psycopg.sql import SQL, Identifier

__all__ = ["EVERY", "FRACTION", "MINIMUM", "Pacer", "analyze_stale"]

#: a table is analyzed again once the rows written since its last analysis exceed this share of it ...
FRACTION = 0.2
#: ... and this many rows (a small table plans well enough from its size in pages)
MINIMUM = 20_000
#: rows a writer writes between two looks at the statistics
EVERY = 20_000

_STALE = SQL(
    "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
    "WHERE s.schemaname = coalesce(%s, current_schema()) "
    "AND (%s OR s.n_mod_since_analyze > greatest(%s, %s * greatest(c.reltuples, 0))) ORDER BY s.relname")


def analyze_stale(cursor: Any, schema: str | None = None, everything: bool = False,
                  fraction: float = FRACTION) -> list[str]:
    """``ANALYZE`` the tables of ``schema`` (None: the connection's current schema) whose statistics
    are stale by the rule above (``fraction`` in place of ``FRACTION``), or all of them
    (``everything``: tables just filled, whose writes the statistics collector may not have counted
    yet); returns their names. ``cursor``: a psycopg cursor (tuple or dict rows); the statistics are
    stored when its transaction commits."""
    cursor.execute(_STALE, (schema, everything, MINIMUM, fraction))
    names = [str(row["relname"] if isinstance(row, dict) else row[0]) for row in cursor.fetchall()]
    for name in names:
        table = Identifier(name) if schema is None else Identifier(schema, name)
        cursor.execute(SQL("ANALYZE {}").format(table))
    return names


class Pacer:
    """Counts the rows a writer writes and says when it is time to look at the statistics again."""

    def __init__(self, every: int = EVERY) -> None:
        self.every = every
        self.written = 0

    def due(self, rows: int) -> bool:
        """Count ``rows`` more; True (and start counting again) once ``every`` were written since the last look."""
        self.written += rows
        if self.written < self.every:
            return False
        self.written = 0
        return True
