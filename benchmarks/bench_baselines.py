"""The issue's remaining named baselines, each measured in the same run as what it is the baseline of.

Issue 9 names four baselines. ``bench_scale`` has one transaction per command (import) and the
decoding floor (projection); ``bench_queries`` and ``bench_listing`` have hand-written SQL. This
measures the others on the generated history:

- **the library's own batched save and a raw batch insert** (the import's two yardsticks in the
  issue's targets: "the library's own batched save, 500 aggregates per call on its SQLite module,
  reaches ~35,000/s; a raw SQLite batch insert, 100,000-200,000 rows/s, is the limit"). The events
  our import recorded, decoded beforehand, are saved again into a fresh store of a plain library
  ``Application`` on the same backend: ``save`` called with the events of 500 aggregates at a time,
  in log order (the library encodes, inserts and commits them; no rules, no hash chain, no request
  records of its own). Then the stored rows it wrote are inserted again, in the same chunks, one
  transaction each, into an empty copy of its table with the driver's ``executemany``: the floor
  of writing those rows at all. Against both: our import of the same history (parsing each line,
  deciding it through the handlers, the hash chain and the request records included). And the
  same events saved through our own ``EventStore`` (its transcoder, hash chain, acts table and
  insert) in the same calls: our import's write path alone, the ceiling of any import through it.
  And the other ceiling: the same history imported with nothing written (each line parsed,
  decided through the handlers, every event encoded, then dropped), which no import deciding
  through the aggregates can outrun however fast it writes.

- **the library's projection runner** (``eventsourcing.projection.ProjectionRunner``): the
  library's subscription reads and decodes the log and calls a projection once per event; the
  projection applies that one event to the same read models through the same ``Projector``, in
  its own transaction together with the tracking row (the library's pattern: a view and its
  tracking written atomically). Against it, on the same first N log entries into fresh read
  models: the projector's catch-up (one batch), and the projector driven one entry per
  transaction by its own loop. The runner hands over decoded events and ``Projector.apply``
  takes stored ones, so the projection encodes each event back first (as ``Projector.preview``
  does): the runner pays one encoding per event more than a runner-native projection would,
  which is a small part of a transaction per event. The library's SQLite recorder cannot
  subscribe (its ``subscribe`` raises ``NotImplementedError``), so the runner is measured on
  PostgreSQL; on SQLite the one-entry-per-transaction loop stands in for it.
- **naive replay with ``repository.get``**: a unit's staffing on a day after every fact, from
  the aggregates (the unit and its roster, each person on the roster, its quota ledger), each
  loaded by the library's ``repository.get`` with no aggregate cache and folded by the domain's
  own methods; each top-level unit rolled up by walking its children the same way; the national
  summary as the sum of those. Against it: ``Queries`` on the read models, same units, same day.
  Both must give the same headcount per category and the same quota per category and kind: a
  disagreement stops the benchmark instead of being timed.

Usage: python -m benchmarks.bench_baselines [--scale province] [--seed 1] [--backend sqlite]
       [--entries 2000] [--units 200] [--out FILE]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import JSONTranscoder, Notification
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from sqlalchemy import func, select

from benchmarks.bench_scale import (
    PG_URL,
    _schema,
    _settings,
    history_arguments,
    history_file,
    imported_history,
    scratch_views,
)
from benchmarks.timing import Report, timed
from staffing.application.importer import ImportMode, import_lines, read_lines
from staffing.application.warm import Warm
from staffing.bootstrap import Ledger, build, migrate
from staffing.domain.quota import quota_ledger_id
from staffing.persistence import CACHE, DateAsISO, EventStore, LegalActAsDict, event_store_env
from staffing.projections import tables as t
from staffing.projections.db import ViewEngines
from staffing.projections.projector import Projector, _read_tracking, _write_tracking

#: headcount per category and quota per (category, kind): what both sides of the replay baseline give
Figures = dict[tuple[str, str], int]


# ====================================================================== the projection runner
class _PlainStore(Application[Any]):
    """The library's ``Application`` with nothing of ours but the two value types events carry."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(LegalActAsDict())


def _plain_env(backend: str, tmp: str, name: str) -> dict[str, str]:
    if backend == "postgres":
        return {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": "test", "POSTGRES_HOST": "127.0.0.1",
                "POSTGRES_PORT": "5432", "POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "",
                "POSTGRES_SCHEMA": _schema(name)}
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{tmp}/{name}.sqlite"}


def _by_aggregates(events: list[Any], per_call: int) -> list[list[Any]]:
    """The events in log order, cut before the event of a 501st aggregate: what ``save(*aggregates)``
    with 500 aggregates per call would be handed."""
    chunks: list[list[Any]] = [[]]
    seen: set[Any] = set()
    for event in events:
        if event.originator_id not in seen and len(seen) == per_call:
            chunks.append([])
            seen = set()
        seen.add(event.originator_id)
        chunks[-1].append(event)
    return [c for c in chunks if c]


def _raw_insert(backend: str, app: Any, chunks: list[list[Any]], tmp: str) -> float:
    """The rows ``app`` stored, inserted again chunk by chunk into an empty copy of its table (seconds)."""
    recorder = app.recorder
    rows = [(e.originator_id if backend == "postgres" else str(e.originator_id), e.originator_version, e.topic, e.state)
            for e in recorder.select_notifications(start=1, limit=10**9)]  # bound as the library's recorder binds them
    sizes = [len(c) for c in chunks]
    table = recorder.events_table_name
    if backend == "postgres":
        schema = recorder.datastore.schema
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"CREATE TABLE {schema}.raw_copy (LIKE {schema}.{table} INCLUDING ALL)")
            insert = (f"INSERT INTO {schema}.raw_copy (originator_id, originator_version, topic, state) "
                      "VALUES (%s, %s, %s, %s)")
            started = time.perf_counter()
            at = 0
            for size in sizes:
                with conn.transaction(), conn.cursor() as cursor:
                    cursor.executemany(insert, rows[at:at + size])
                at += size
            return time.perf_counter() - started
    path = f"{tmp}/raw_copy.sqlite"
    with sqlite3.connect(app.env["SQLITE_DBNAME"]) as source:
        ddl = [sql for (sql,) in source.execute("SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL",
                                                (table,))]
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")  # as the library's recorder writes its file
        for sql in ddl:
            db.execute(sql)
        insert = f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)"
        started = time.perf_counter()
        at = 0
        for size in sizes:
            db.execute("BEGIN")
            db.executemany(insert, rows[at:at + size])
            db.execute("COMMIT")
            at += size
        elapsed = time.perf_counter() - started
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == len(rows)
        return elapsed
    finally:
        db.close()


def _our_save(backend: str, tmp: str, chunks: list[list[Any]]) -> float:
    """The same events saved by our own ``EventStore`` (its transcoder, the hash chain, the acts
    table) into a fresh store, one ``save_events`` per chunk: the write path of our import without
    its parsing and decisions (seconds)."""
    settings = _settings(backend, tmp, "our_save")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = EventStore(env=event_store_env(settings))
    try:
        started = time.perf_counter()
        for chunk in chunks:
            store.save_events(chunk)
        elapsed = time.perf_counter() - started
        assert store.recorder.max_notification_id() == sum(len(c) for c in chunks)
        return elapsed
    finally:
        store.close()


class _Unchecked(Warm):
    """The import's own aggregate map, never emptied for a log head that did not move (nothing is written)."""

    def check(self, head: int | None) -> None:
        return None


def _decided_only(backend: str, tmp: str) -> tuple[int, float]:
    """The same history imported into a fresh ledger whose store writes nothing: each line parsed,
    decided through the handlers and every event encoded by the store's mapper (its transcoder, as a
    save would), then dropped — our import with its storage taken away, the ceiling of any import
    that decides through the aggregates however fast it writes. Every aggregate stays in the import's
    own map (``_Unchecked``, unbounded: none may be evicted and looked for in the empty store), so
    nothing is read back; snapshots are skipped. Returns (log entries that would have been written,
    seconds)."""
    ledger = build(_settings(backend, tmp, "decided_only"), inline_projection=False)
    store: Any = ledger.store
    written = [0]

    def encode_only(events: Any, **_: Any) -> int:  # (a save in place or behind alike)
        for event in events:
            store.mapper.to_stored_event(event)
        written[0] += len(events)
        return written[0]

    store.save_events = encode_only
    store.snapshot_if_due = lambda *args: None
    try:
        started = time.perf_counter()
        outcome = import_lines(ledger.service, read_lines(history_file(tmp)),
                               ImportMode.STOP_AT_FIRST_ERROR, warm=_Unchecked(max_people=10**9, prefetch=True))
        elapsed = time.perf_counter() - started
        assert outcome.ok, outcome.errors[:3]
        return written[0], elapsed
    finally:
        ledger.close()
        if backend == "postgres":
            _schema("decided_only", create=False)


def import_baselines(ledger: Ledger, backend: str, tmp: str, ours: tuple[int, float], report: Report) -> None:
    """Our import's rate against the library's batched save of the same events and a raw insert of its rows."""
    store = ledger.store
    notifications = store.recorder.select_notifications(start=1, limit=10**9)
    events = [store.mapper.to_domain_event(n) for n in notifications]
    chunks = _by_aggregates(events, 500)
    app = _PlainStore(env=_plain_env(backend, tmp, "library_save"))
    try:
        started = time.perf_counter()
        for chunk in chunks:
            app.save(*chunk)
        saved = time.perf_counter() - started
        stored = app.recorder.max_notification_id()
        assert stored == len(events), (stored, len(events))
        raw = _raw_insert(backend, app, chunks, tmp)
    finally:
        app.close()
    ours_saved = _our_save(backend, tmp, chunks)
    recorded, seconds = ours
    entries = len(events)
    ours_rate, library_rate, raw_rate = entries / seconds, entries / saved, entries / raw  # log entries per second
    save_rate = entries / ours_saved
    report(f"import of the history: ours {recorded:,} events in {seconds:.1f} s, {recorded / seconds:,.0f} events/s "
           f"(the whole log: {entries:,} entries with the request records, {ours_rate:,.0f}/s); the library's "
           f"batched save of the same {entries:,} entries, 500 aggregates per call ({len(chunks):,} calls): "
           f"{saved:.1f} s, {library_rate:,.0f}/s; raw executemany of its rows: {raw:.1f} s, {raw_rate:,.0f} rows/s")
    report(f"import ratio ours / the library's batched save: {ours_rate / library_rate:.2f}x of the log "
           f"entries (the target: 50,000 / 35,000 = 1.43x); ours / the raw insert: {ours_rate / raw_rate:.2f}x")
    report(f"our event store's save alone of the same {entries:,} entries in the same calls (encoding, hash chain, "
           f"acts, insert; nothing parsed or decided): {ours_saved:.1f} s, {save_rate:,.0f}/s, "
           f"{save_rate / library_rate:.2f}x the library's save: the ceiling of an import that writes through it "
           f"(the import: {ours_rate / save_rate:.2f}x of it)")
    would_write, decided = _decided_only(backend, tmp)
    assert would_write == entries, (would_write, entries)
    decide_rate = entries / decided
    report(f"our import with nothing written (each line parsed, decided through the handlers, every event "
           f"encoded; {entries:,} entries dropped): {decided:.1f} s, {decide_rate:,.0f}/s, "
           f"{decide_rate / library_rate:.2f}x the library's save: the ceiling of any import deciding through "
           f"the aggregates, however fast it writes (the target: 1.43x)")


def _fresh_views(backend: str, tmp: str, name: str) -> ViewEngines:
    engines = scratch_views(backend, tmp, name)
    migrate(engines)
    return engines


def _facts_upto(engines: ViewEngines, last: int) -> tuple[int, int]:
    """(count, sum of positions) of the facts projected from the first ``last`` entries: equal for equal work."""
    with engines.read.connect() as conn:
        found = conn.execute(select(func.count(), func.coalesce(func.sum(t.facts.c.position), 0))
                             .where(t.facts.c.position <= last)).one()
    return int(found[0]), int(found[1])


def _apply_in_one_transaction(projector: Projector, engines: ViewEngines, notifications: list[Any],
                              writer: str) -> None:
    """``notifications`` applied by the projector in one read-model transaction with its tracking row,
    as ``Projector._run_batch`` applies a batch (which would stretch or cut it to whole runs)."""
    with engines.write.begin() as conn:
        tracked = _read_tracking(conn)
        last = projector.apply(conn, notifications, tracked.recorded_us, fresh=False)
        _write_tracking(conn, notifications[-1].id, last, writer)


def _batched(store: Any, engines: ViewEngines, entries: int) -> float:
    """The projector's catch-up of the first ``entries`` log entries: one batch (seconds)."""
    projector = Projector(store, engines, batch_size=entries)
    started = time.perf_counter()
    notifications = store.recorder.select_notifications(start=1, limit=entries)
    _apply_in_one_transaction(projector, engines, notifications, "batched")
    elapsed = time.perf_counter() - started
    assert len(notifications) == entries, (len(notifications), entries)
    return elapsed


def _one_per_transaction(store: Any, engines: ViewEngines, entries: int) -> float:
    """The same entries, one per transaction with its tracking row, read back each time (seconds)."""
    projector = Projector(store, engines, batch_size=1)
    started = time.perf_counter()
    for position in range(1, entries + 1):
        notifications = store.recorder.select_notifications(start=position, limit=1)
        _apply_in_one_transaction(projector, engines, notifications, "one per transaction")
    return time.perf_counter() - started


class _RunnerProjection(Projection[PostgresTrackingRecorder]):
    """One event per transaction, applied by the projector, tracked in the same transaction."""

    projector: Projector
    engines: ViewEngines
    last: int
    finished: threading.Event
    finished_at: list[float]

    def process_event(self, domain_event: Any, tracking: Any) -> None:  # type: ignore[override]
        stored = self.projector.store.mapper.to_stored_event(domain_event)
        notification = Notification(id=tracking.notification_id, originator_id=stored.originator_id,
                                    originator_version=stored.originator_version, topic=stored.topic,
                                    state=stored.state)
        # the projector's own tracking row, locked as its batches lock it
        _apply_in_one_transaction(self.projector, self.engines, [notification], "library runner")
        if tracking.notification_id >= self.last and not self.finished.is_set():
            self.finished_at.append(time.perf_counter())
            self.finished.set()


def _runner(store: Any, env: dict[str, str], engines: ViewEngines, entries: int) -> float:
    """The library's ``ProjectionRunner`` over the first ``entries`` log entries (seconds)."""
    finished, at = threading.Event(), list[float]()
    projection = type("LibraryRunnerBaseline", (_RunnerProjection,), {
        "projector": Projector(store, engines), "engines": engines, "last": entries, "finished": finished,
        "finished_at": at})
    started = time.perf_counter()
    with ProjectionRunner(application_class=EventStore, projection_class=projection,
                          view_class=PostgresTrackingRecorder, env=env) as runner:
        while not finished.wait(timeout=1.0):
            runner.run_forever(timeout=0.001)  # re-raises an error of the processing thread
    return at[0] - started


def projection_baselines(ledger: Ledger, backend: str, tmp: str, entries: int, report: Report) -> None:
    store = ledger.store
    entries = min(entries, store.recorder.max_notification_id() or 0)
    seconds: dict[str, float] = {}
    checks: dict[str, tuple[int, int]] = {}
    candidates = [("batched", _batched), ("one per transaction", _one_per_transaction)]
    for name, run in candidates:
        engines = _fresh_views(backend, tmp, f"runner_{name}")
        seconds[name] = run(store, engines, entries)
        checks[name] = _facts_upto(engines, entries)
        engines.dispose()
    if backend == "postgres":
        engines = _fresh_views(backend, tmp, "runner_library")
        seconds["library runner"] = _runner(store, event_store_env(ledger.settings), engines, entries)
        checks["library runner"] = _facts_upto(engines, entries)
        engines.dispose()
    assert len(set(checks.values())) == 1, f"the projections of the same entries differ: {checks}"
    rates = {name: entries / s for name, s in seconds.items()}
    for name, rate in rates.items():
        report(f"projection of the first {entries:,} log entries, {name}: {rate:,.0f}/s")
    if "library runner" in rates:
        report(f"catch-up / the library's projection runner: {rates['batched'] / rates['library runner']:.1f}x; "
               f"the projector's own one-per-transaction loop / the runner: "
               f"{rates['one per transaction'] / rates['library runner']:.2f}x")
    else:
        report("the library's projection runner: not measurable on SQLite (its recorder cannot subscribe); "
               f"catch-up / one entry per transaction: {rates['batched'] / rates['one per transaction']:.1f}x")


# ====================================================================== naive replay
class Replay:
    """Figures from the aggregates, loaded one by one by ``repository.get`` (no aggregate cache)."""

    def __init__(self, env: dict[str, str], as_of: date) -> None:
        self.store = EventStore(env={k: v for k, v in env.items() if k not in CACHE})
        self.as_of = as_of

    def close(self) -> None:
        self.store.close()

    def _get(self, aggregate_id: UUID) -> Any | None:
        try:
            return self.store.repository.get(aggregate_id)
        except AggregateNotFoundError:  # no quota ledger for the unit
            return None

    def in_force(self, unit: Any) -> bool:
        return (unit.established_on <= self.as_of and (unit.ended_on is None or unit.ended_on > self.as_of)
                and str(unit.status) == "ACTIVE")

    def unit(self, unit_id: UUID) -> Figures:
        """The unit's own headcount per category and quota per (category, kind) on ``as_of``."""
        unit: Any = self.store.repository.get(unit_id)
        found: Counter[tuple[str, str]] = Counter()
        for person_id in unit.member_ids:
            person: Any = self.store.repository.get(person_id)
            placement = person.placement_on(self.as_of)
            if placement is not None and placement.get("status") == "ACTIVE" and placement.unit_id == unit_id:
                found[("HEADCOUNT", str(placement["category"]))] += 1
        ledger = self._get(quota_ledger_id(unit_id))
        if ledger is not None:
            for category, kind in ledger.series:
                amount = ledger.figure_before(category, kind, self.as_of + timedelta(days=1))
                if amount > 0:
                    found[(str(category), str(kind))] += amount
        return dict(found)

    def subtree(self, root_id: UUID) -> tuple[Figures, int]:
        """The unit's figures summed over its subtree on ``as_of`` (walking children), and its size."""
        total: Counter[tuple[str, str]] = Counter()
        stack, size = [root_id], 0
        while stack:
            unit_id = stack.pop()
            total.update(self.unit(unit_id))
            size += 1
            parent: Any = self.store.repository.get(unit_id)
            for child_id in parent.child_ids:
                child: Any = self.store.repository.get(child_id)
                if self.in_force(child) and child.parent_id == unit_id:
                    stack.append(child_id)
        return {k: v for k, v in total.items() if v}, size


def _from_queries(figures: Any) -> Figures:
    found: dict[tuple[str, str], int] = {}
    for line in figures.lines:
        if line.headcount:
            found[("HEADCOUNT", line.category)] = line.headcount
        for kind, amount in line.by_kind.items():
            if amount:
                found[(line.category, kind)] = amount
    return found


def _p50_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:,.2f} ms"


def replay_baselines(ledger: Ledger, units: int, seed: int, report: Report) -> None:
    ledger.projector.catch_up()
    queries = ledger.queries
    with ledger.engines.read.connect() as conn:
        last_day = conn.execute(select(func.max(t.facts.c.effective_on))).scalar_one()
        position = ledger.projector.position()
        as_of = last_day + timedelta(days=1)  # after every fact: a roster then is the roster on that day
        v = t.unit_versions
        in_force = [(r.unit_id, r.parent_id) for r in conn.execute(
            select(v.c.unit_id, v.c.parent_id).where(v.c.valid_from <= as_of, v.c.valid_to > as_of,
                                                      v.c.rec_to == t.OPEN_POSITION, v.c.status == "ACTIVE"))]
    roots = sorted(u for u, parent in in_force if parent is None)
    sample = random.Random(seed).sample(sorted(u for u, _ in in_force), min(units, len(in_force)))
    replay = Replay(event_store_env(ledger.settings), as_of)
    try:
        naive, ours = [], []
        for unit_id in sample:
            started = time.perf_counter()
            expected = replay.unit(UUID(unit_id))
            naive.append(time.perf_counter() - started)
            with ledger.engines.read.connect() as conn:
                started = time.perf_counter()
                figures = queries.staffing(conn, unit_id, as_of, position)
                ours.append(time.perf_counter() - started)
            assert figures is not None and _from_queries(figures) == expected, (unit_id, expected, figures)
        report(f"one unit's staffing on {as_of} ({len(sample)} units in force, every figure equal): "
               f"Queries p50 {_p50_ms(ours)}, naive replay with repository.get p50 {_p50_ms(naive)} -> "
               f"{statistics.median(naive) / statistics.median(ours):,.0f}x")
        national: Counter[tuple[str, str]] = Counter()
        largest = (0, 0.0, 0.0, "")
        naive_total = 0.0
        for root in roots:
            started = time.perf_counter()
            expected, size = replay.subtree(UUID(root))
            naive_s = time.perf_counter() - started
            naive_total += naive_s
            national.update(expected)
            with ledger.engines.read.connect() as conn:  # a median of three: one call can meet a collector pass
                ours_s, figures = timed(lambda: queries.staffing(conn, root, as_of, position,  # noqa: B023
                                                                 include_descendants=True))
            assert figures is not None and _from_queries(figures) == expected, (root, expected, figures)
            if size > largest[0]:
                largest = (size, naive_s, ours_s, figures.unit.name if figures.unit else root)
        size, naive_s, ours_s, name = largest
        report(f"the largest top-level unit rolled up ({name}, {size:,} units): Queries {ours_s * 1000:,.1f} ms (median of 3), "
               f"naive replay {naive_s * 1000:,.0f} ms -> {naive_s / ours_s:,.0f}x")
        with ledger.engines.read.connect() as conn:
            ours_s, summary = timed(lambda: queries.staffing_report(conn, None, as_of, position, depth=1,
                                                                    include_descendants=True))
        summed: Counter[tuple[str, str]] = Counter()
        for row in summary:
            summed.update(_from_queries(row))
        assert {k: v for k, v in summed.items() if v} == {k: v for k, v in national.items() if v}, "summary differs"
        report(f"the national summary ({len(roots)} top-level units, every figure equal): Queries "
               f"{ours_s * 1000:,.1f} ms (median of 3), naive replay {naive_total:,.2f} s -> {naive_total / ours_s:,.0f}x")
    finally:
        replay.close()


# ====================================================================== the run
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    history_arguments(parser)
    parser.add_argument("--entries", type=int, default=2000, help="log entries projected by each projection baseline")
    parser.add_argument("--units", type=int, default=200, help="units sampled for one unit's staffing")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    report = Report()
    with tempfile.TemporaryDirectory() as tmp:
        ledger, counts, outcome = imported_history(args, tmp, "baselines")
        try:
            report(f"history: {args.scale} scale, seed {args.seed}, {sum(counts.values()):,} commands, "
                   f"{outcome.events:,} events; backend {args.backend}")
            import_baselines(ledger, args.backend, tmp, (outcome.events, outcome.seconds), report)
            projection_baselines(ledger, args.backend, tmp, args.entries, report)
            replay_baselines(ledger, args.units, args.seed, report)
        finally:
            ledger.close()
            if args.backend == "postgres":
                for name in ("baselines", "library_save", "our_save", "runner_batched", "runner_one per transaction", "runner_library"):
                    _schema(name, create=False)
    if args.out:
        report.write(args.out)


if __name__ == "__main__":
    main()
