"""How far the rebuild stands from its decoding baseline, and how much of that any rebuild must pay.

Issue 9's rebuild target is a ratio to a decoding baseline: 100,000 events/s on SQLite and 50,000 on
PostgreSQL against "reading and decoding stored events into domain event objects ~120,000/s", i.e.
0.83x and 0.42x of it. This measures, in the same run and alternating, on the generated history:

- **the decoding baseline**: every stored event read and decoded into its domain event object
  (``bench_projection.decode_all``, as ``bench_scale`` measures it);
- **the rebuild** (``staffing.projections.rebuild.rebuild``) into fresh read models;
- **the floor of that rebuild**: what any rebuild producing the same read models on the same
  backend must do, each part timed on its own — reading every stored entry (the log's recording
  moments come from all of them), decoding the entries a read model needs into domain events,
  writing the rows the rebuild produced again into empty tables (its secondary indexes dropped, one
  transaction, the driver's executemany on SQLite without a journal, COPY on PostgreSQL: the
  rebuild's own write path), and creating those indexes. No folding, no figures, no roll-up;
- **the stored JSON parsed raw**: every stored row read by one plain statement per batch and its
  JSON parsed with orjson into dicts, nothing typed (no notification objects, no UUIDs, no dates,
  no domain events). Not part of the floor: it is what decoding would cost a rebuild computing its
  rows straight from the stored JSON instead of through the library's mapper, i.e. how much of the
  floor (and of the baseline itself) is the mapper's typing rather than the data.

The floor's ratio to the decoding baseline bounds what any rebuild of these read models can reach
on this machine however its folds are computed; the rest of the rebuild's time is its own work
(folding facts into bitemporal rows, figures, the roll-up, building the rows).

Usage: python -m benchmarks.bench_rebuild_floor [--scale province] [--seed 1] [--backend sqlite]
       [--repeat 3] [--out FILE]
       STAFFING_DATA_DIR=... python -m benchmarks.bench_rebuild_floor --configured [--repeat 1]
       (a ledger already imported, e.g. a national history: the rows are not written again, so
       only the reading and decoding part of the floor is reported)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from eventsourcing.sqlite import SQLiteAggregateRecorder
from psycopg.sql import SQL, Identifier
from sqlalchemy import select

from benchmarks.bench_projection import decode_all
from benchmarks.bench_scale import PG_URL, _schema, history_arguments, imported_history, scratch_views
from benchmarks.timing import Report
from staffing.bootstrap import migrate
from staffing.config import Settings
from staffing.pause import collection_paused
from staffing.persistence import EventStore, event_store_env
from staffing.projections import tables as t
from staffing.projections.bulk import insert_tuples
from staffing.projections.db import ViewEngines
from staffing.projections.projector import BATCH_SIZE, Projector
from staffing.projections.rebuild import _secondary_indexes, _unjournalled, rebuild

#: the issue's rebuild targets as ratios to its decoding baseline (~120,000/s)
TARGETS = {"sqlite": 100_000 / 120_000, "postgres": 50_000 / 120_000}


def _read_all(store: Any) -> float:
    """Every stored entry read as the projector reads them, the collector paused per batch (seconds)."""
    started, position = time.perf_counter(), 0
    while True:
        with collection_paused():
            notifications = store.recorder.select_notifications(start=position + 1, limit=BATCH_SIZE)
        if not notifications:
            return time.perf_counter() - started
        position = notifications[-1].id


def _parse_raw(store: Any) -> float:
    """Every stored row read by a plain statement per batch of ``BATCH_SIZE`` and its JSON parsed with
    orjson, nothing typed (seconds): the decoding a rebuild reading the stored JSON straight would pay."""
    recorder, started, position, seen = store.recorder, time.perf_counter(), 0, 0
    last = recorder.max_notification_id() or 0
    sqlite = isinstance(recorder, SQLiteAggregateRecorder)
    state: Any = 2 if sqlite else "state"  # SQLite's rows index by position, psycopg's dict rows by name
    while position < last:
        stop = position + BATCH_SIZE
        if sqlite:
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(f"SELECT rowid, topic, state FROM {recorder.events_table_name} "
                               "WHERE rowid > ? AND rowid <= ? ORDER BY rowid", (position, stop))
                rows = cursor.fetchall()
        else:
            statement = SQL("SELECT notification_id, topic, state FROM {}.{} WHERE notification_id > %s AND "
                            "notification_id <= %s ORDER BY notification_id").format(
                Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
            with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
                cursor.execute(statement, (position, stop))
                rows = cursor.fetchall()
        with collection_paused():
            parsed = [orjson.loads(row[state]) for row in rows]
        seen = rows[-1][0 if sqlite else "notification_id"] if parsed else seen
        position = stop
    assert seen == last, (seen, last)  # (a log's positions may skip numbers: its last one was read)
    return time.perf_counter() - started


def _decode_needed(store: Any, projector: Projector) -> tuple[float, int]:
    """The entries a read model needs, read and decoded into domain events as the projector does
    (their acts fetched together per batch, the collector paused): (seconds, entries decoded)."""
    mapper, position, decoded = store.mapper, 0, 0
    started = time.perf_counter()
    while True:
        with collection_paused():
            notifications = store.recorder.select_notifications(start=position + 1, limit=BATCH_SIZE)
            if not notifications:
                return time.perf_counter() - started, decoded
            needed = [n for n in notifications if projector._handler_for(n.topic) is not None]
            store.acts.prefetch(n.state for n in needed)
            decoded += len([mapper.to_domain_event(n) for n in needed])
        position = notifications[-1].id


def _rows(engines: ViewEngines) -> dict[Any, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every row of every read-model table of ``engines``, as its columns and tuples."""
    with engines.read.connect() as conn:
        return {table: ([c.name for c in table.columns], [tuple(r) for r in conn.execute(select(table))])
                for table in t.metadata.sorted_tables}


def _same(a: dict[Any, tuple[list[str], list[tuple[Any, ...]]]], b: dict[Any, tuple[list[str], list[tuple[Any, ...]]]]
          ) -> bool:
    """The same rows in every table, in any order (PostgreSQL returns them in no set order)."""
    return a.keys() == b.keys() and all(Counter(a[k][1]) == Counter(b[k][1]) for k in a)


def _write_again(rows: dict[Any, tuple[list[str], list[tuple[Any, ...]]]], target: ViewEngines) -> tuple[float, float]:
    """``rows`` written into the empty tables of ``target`` by the rebuild's own write path, then its
    secondary indexes created: (seconds writing, seconds indexing)."""
    migrate(target)
    with target.write.connect() as conn:
        with conn.begin():
            for index in _secondary_indexes():
                index.drop(conn)
            for table in rows:
                conn.execute(table.delete())  # the tracking row migrate() made
        with _unjournalled(conn, target.is_sqlite):
            started = time.perf_counter()
            with conn.begin():
                for table, (columns, tuples) in rows.items():
                    insert_tuples(conn, table, columns, tuples)
            written = time.perf_counter() - started
            started = time.perf_counter()
            with conn.begin():
                for index in _secondary_indexes():
                    index.create(conn)
            return written, time.perf_counter() - started


def _rounds(store: Any, backend: str, tmp: str, repeat: int, write_again: bool, pg_url: str = PG_URL
            ) -> tuple[dict[str, list[float]], int, int]:
    """``repeat`` alternating rounds of every measurement: (seconds per part, entries decoded, rows).
    On PostgreSQL the scratch targets are schemas in the database at ``pg_url``."""
    entries = store.recorder.max_notification_id() or 0
    times: dict[str, list[float]] = {}
    needed = row_count = 0
    for _ in range(repeat):
        started = time.perf_counter()
        decode_all(store, BATCH_SIZE)
        times.setdefault("decode", []).append(time.perf_counter() - started)
        target = scratch_views(backend, tmp, "floor_rebuilt", pg_url)
        started = time.perf_counter()
        assert rebuild(store, target) == entries
        times.setdefault("rebuild", []).append(time.perf_counter() - started)
        times.setdefault("read", []).append(_read_all(store))
        times.setdefault("raw", []).append(_parse_raw(store))
        seconds, needed = _decode_needed(store, Projector(store, target))
        times.setdefault("decode needed", []).append(seconds)
        if write_again:
            rows = _rows(target)
            row_count = sum(len(tuples) for _, tuples in rows.values())
        target.dispose()
        if write_again:
            again = scratch_views(backend, tmp, "floor_written", pg_url)
            written, indexed = _write_again(rows, again)
            assert _same(_rows(again), rows), "the rows written again differ from the rebuild's"
            again.dispose()
            times.setdefault("write", []).append(written)
            times.setdefault("index", []).append(indexed)
    return times, needed, row_count


def _summary(report: Report, times: dict[str, list[float]], entries: int, needed: int, row_count: int,
             backend: str, repeat: int) -> None:
    m = {name: statistics.median(values) for name, values in times.items()}
    rate = {name: entries / seconds for name, seconds in m.items()}
    target = TARGETS[backend]
    decoding = max(m["decode needed"] - m["read"], 0.0)  # the needed entries' decoding, less reading them
    rows = f"; {row_count:,} read-model rows" if "write" in m else ""
    report(f"medians of {repeat} alternating rounds over {entries:,} log entries ({needed:,} feed a read model{rows})")
    report(f"decoding baseline: every entry read and decoded into its domain event, {m['decode']:.2f} s, "
           f"{rate['decode']:,.0f}/s")
    report(f"rebuild: {m['rebuild']:.2f} s, {rate['rebuild']:,.0f}/s -> {rate['rebuild'] / rate['decode']:.2f}x the "
           f"decoding baseline (the issue's target on {backend}: {target:.2f}x)")
    report(f"the stored JSON parsed raw (every row read by a plain statement, orjson, nothing typed): "
           f"{m['raw']:.2f} s, {rate['raw']:,.0f}/s -> {rate['raw'] / rate['decode']:.2f}x the decoding baseline "
           f"({100 * m['raw'] / m['decode']:.0f}% of it; the rest is the library's notifications and mapper)")
    if "write" not in m:
        part = m["read"] + decoding
        report(f"part of the floor (the rows not written again): reading every entry {m['read']:.2f} s, decoding the "
               f"{needed:,} a read model needs {decoding:.2f} s more: {part:.2f} s, "
               f"{100 * part / m['rebuild']:.0f}% of the rebuild")
        return
    floor = m["read"] + decoding + m["write"] + m["index"]
    report(f"floor of this rebuild: reading every entry {m['read']:.2f} s, decoding the {needed:,} a read model needs "
           f"{decoding:.2f} s more, writing its {row_count:,} rows again "
           f"{m['write']:.2f} s, creating the secondary indexes {m['index']:.2f} s: {floor:.2f} s -> at most "
           f"{entries / floor:,.0f}/s, {m['decode'] / floor:.2f}x the decoding baseline")
    report(f"the rebuild's own work beyond the floor (folds, figures, roll-up, building rows): "
           f"{m['rebuild'] - floor:.2f} s, {100 * (m['rebuild'] - floor) / m['rebuild']:.0f}% of the rebuild; "
           f"the target needs the whole rebuild in {m['decode'] / target:.2f} s, "
           f"{'below' if m['decode'] / target < floor else 'above'} the floor")
    budget = m["decode"] / target - m["raw"] - m["write"] - m["index"]
    report(f"with the JSON parsed raw instead of through the mapper, the target leaves {budget:.2f} s for the folds, "
           f"figures, roll-up and building rows ({1e6 * budget / max(needed, 1):.1f} µs per entry a read model needs); "
           f"this rebuild spends {m['rebuild'] - floor:.2f} s on them")


def print_report(lines: list[str], out: Path | None) -> None:
    """A benchmark's report: printed, and written to ``out`` where given."""
    text = "\n".join(lines)
    print(text)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")


def configured_ledger() -> tuple[str, str, Any]:
    """The ledger ``STAFFING_*`` configures: (its backend, the URL its scratch schemas go into on
    PostgreSQL — its own database, beside the ledger they rebuild —, its event store, to be closed)."""
    settings = Settings.from_env()
    backend = "sqlite" if settings.is_sqlite else "postgres"
    return backend, postgres_url(settings), EventStore(env=event_store_env(settings))


def postgres_url(settings: Settings) -> str:
    """The read models' database of ``settings`` as a plain PostgreSQL URL psycopg connects to."""
    return settings.views_url.set(drivername="postgresql").render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    history_arguments(parser)
    parser.add_argument("--repeat", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument("--configured", action="store_true",
                        help="measure the ledger STAFFING_* configures (e.g. an imported national history; its "
                             "backend, not --backend) instead of a generated one, without writing the rows again")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    report = Report()
    with tempfile.TemporaryDirectory() as tmp:
        if args.configured:
            backend, pg_url, store = configured_ledger()
            try:
                entries = store.recorder.max_notification_id() or 0
                report(f"the configured ledger: {entries:,} log entries; backend {backend}")
                times, needed, row_count = _rounds(store, backend, tmp, args.repeat, write_again=False, pg_url=pg_url)
            finally:
                store.close()
                if backend == "postgres":
                    _schema("floor_rebuilt", create=False, pg_url=pg_url)
        else:
            backend = args.backend
            ledger, counts, _ = imported_history(args, tmp, "floor")
            try:
                entries = ledger.store.recorder.max_notification_id() or 0
                report(f"history: {args.scale} scale, seed {args.seed}, {sum(counts.values()):,} commands, "
                       f"{entries:,} log entries; backend {backend}")
                times, needed, row_count = _rounds(ledger.store, backend, tmp, args.repeat, write_again=True)
            finally:
                ledger.close()
                if backend == "postgres":
                    for name in ("floor", "floor_rebuilt", "floor_written"):
                        _schema(name, create=False)
    _summary(report, times, entries, needed, row_count, backend, args.repeat)
    report.write(args.out)


if __name__ == "__main__":
    main()
