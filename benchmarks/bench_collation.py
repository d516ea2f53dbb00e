"""Each read-model index with a text key built in the database's collation and in "C", alternating.

Why (``benchmarks/RESULTS.md`` section 40): the read models' ids are ``varchar`` in the database's
collation, and PostgreSQL sorts with abbreviated keys and compares with ``memcmp`` only in "C". A
rebuild builds most of its indexes after its load (``rebuild._finish_in_parallel``), so this
measures what ids in "C" would save there, on the tables of the ledger ``STAFFING_*`` configures
(PostgreSQL; e.g. a national history imported and rebuilt): every secondary index (``ix_*``) with a
``varchar`` column is built beside the real one as it is, then with those columns ``COLLATE "C"``,
alternating, and dropped again; the best of the rounds is printed per index with the totals. The
tables are only read; the session's settings are the finish's (``rebuild.TARGET_SETTINGS``: its
sort memory).

Usage: STAFFING_DATABASE_URL=postgresql://... [STAFFING_DB_SCHEMA=...] python -m benchmarks.bench_collation
       [--rounds N]
"""

from __future__ import annotations

import argparse
import re
import time

import psycopg
from psycopg import sql

from benchmarks.bench_rebuild_floor import postgres_url
from staffing.config import Settings
from staffing.projections.rebuild import TARGET_SETTINGS

SCRATCH_INDEX = "bench_collation_scratch"


def _columns(definition: str) -> tuple[list[str], str]:
    """An index definition's key columns and its ``WHERE`` clause (empty for a whole index)."""
    found = re.search(r"USING btree \((?P<columns>[^)]*)\)(?P<rest>.*)$", definition)
    if found is None:
        raise ValueError(f"not a plain btree index: {definition}")
    return [c.strip().strip('"') for c in found["columns"].split(",")], found["rest"].strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2, help="builds of each variant, alternating; the best counts")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if settings.is_sqlite:
        raise SystemExit("collations are PostgreSQL's: configure STAFFING_DATABASE_URL=postgresql://...")
    with psycopg.connect(postgres_url(settings), autocommit=True) as conn:
        schema = settings.schema or str(conn.execute("SELECT current_schema()").fetchone()[0])  # type: ignore[index]
        for setting in TARGET_SETTINGS:  # (the finish's, as it builds these indexes)
            conn.execute(f"SET {setting}")
        texts = {(str(table), str(column)) for table, column in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND data_type = 'character varying'", (schema,))}
        indexes = conn.execute(
            "SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = %s AND indexname LIKE 'ix\\_%%' "
            "ORDER BY pg_relation_size(format('%%I.%%I', schemaname, indexname)::regclass) DESC, indexname",
            (schema,)).fetchall()
        total = {"as is": 0.0, "C": 0.0}
        print(f"schema {schema}; best of {args.rounds} builds of each; maintenance_work_mem "
              f"{conn.execute('SHOW maintenance_work_mem').fetchone()[0]}")  # type: ignore[index]
        for name, table, definition in indexes:
            columns, where = _columns(str(definition))
            if not any((table, column) in texts for column in columns):
                continue
            variants: dict[str, list[sql.Composable]] = {"as is": [sql.Identifier(c) for c in columns],
                        "C": [sql.SQL('{} COLLATE "C"').format(sql.Identifier(c)) if (table, c) in texts
                              else sql.Identifier(c) for c in columns]}
            best: dict[str, float] = {}
            for _ in range(args.rounds):
                for label, keys in variants.items():
                    statement = sql.SQL("CREATE INDEX {} ON {}.{} ({}) {}").format(
                        sql.Identifier(SCRATCH_INDEX), sql.Identifier(schema), sql.Identifier(table),
                        sql.SQL(", ").join(keys), sql.SQL(where))
                    started = time.perf_counter()
                    conn.execute(statement)
                    best[label] = min(best.get(label, float("inf")), time.perf_counter() - started)
                    conn.execute(sql.SQL("DROP INDEX {}.{}").format(sql.Identifier(schema), sql.Identifier(SCRATCH_INDEX)))
            for label in total:
                total[label] += best[label]
            print(f"{name:34} as is {best['as is']:8.3f} s   C {best['C']:8.3f} s   {best['as is'] / best['C']:5.2f}x",
                  flush=True)
        ratio = total["as is"] / total["C"] if total["C"] else float("nan")
        print(f"{'all these indexes':34} as is {total['as is']:8.3f} s   C {total['C']:8.3f} s   {ratio:5.2f}x")


if __name__ == "__main__":
    main()
