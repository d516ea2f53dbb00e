"""Where the ledger stands against the national-scale targets (issue 9), on the generated history.

One run on SQLite (or PostgreSQL with ``--backend postgres``: fresh schemas ``bench_scale_*`` at
127.0.0.1:5432, dropped afterwards), each figure with the baseline the issue names, measured in the
same run:

- import through the handlers: batched (500 commands per transaction, the import's own aggregates
  carried from one transaction to the next) vs the same without carrying them vs one transaction
  per command;
- projection: incremental catch-up of the whole log vs rebuild from scratch into fresh tables;
- queries (in process): one unit's staffing (p50 over units), one province rolled up, the national
  summary (depth 1, rolled up) and the full national listing, vs hand-written SQL computing the
  national summary's headcount from the same tables.

Usage: python -m benchmarks.bench_scale [--scale province] [--seed 1] [--backend sqlite] [--out FILE]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from benchmarks.bench_projection import decode_all
from staffing.application.importer import ImportMode, ImportReport, import_lines, read_lines
from staffing.bootstrap import Ledger, build
from staffing.config import Settings
from staffing.generator import SCALES, generate
from staffing.projections.db import ViewEngines, make_engines
from staffing.projections.projector import BATCH_SIZE
from staffing.projections.rebuild import rebuild

AS_OF = date(2025, 7, 31)
NAIVE_SQL = """
SELECT p.unit_id, count(*) FROM person_versions p
WHERE p.valid_from <= :d AND p.valid_to > :d AND p.rec_from <= :p AND p.rec_to > :p AND p.status = 'ACTIVE'
GROUP BY p.unit_id
"""


PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _schema(name: str, create: bool = True, pg_url: str = PG_URL) -> str:
    """A fresh (``create``) or dropped scratch schema ``bench_scale_<name>`` in the database at ``pg_url``."""
    schema = "bench_scale_" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        if create:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def _settings(backend: str, tmp: str, variant: str) -> Settings:
    env = {"STAFFING_DATA_DIR": f"{tmp}/{variant}"}
    if backend == "postgres":
        env.update(STAFFING_DATABASE_URL=PG_URL, STAFFING_DB_SCHEMA=_schema(variant))
    return Settings.from_env(env)


def history_arguments(parser: argparse.ArgumentParser) -> None:
    """``--scale``, ``--seed`` and ``--backend``, as the benchmarks on the generated history take them."""
    parser.add_argument("--scale", default="province", choices=sorted(SCALES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgres"))


def history_file(tmp: str) -> Path:
    """Where the benchmarks on the generated history write it under ``tmp`` (and read it again)."""
    return Path(tmp) / "history.jsonl"


def imported_history(args: argparse.Namespace, tmp: str, variant: str) -> tuple[Ledger, dict[str, int], ImportReport]:
    """The generated history of ``args`` imported through the handlers (500 commands per transaction)
    into a fresh ledger under ``tmp`` whose read models are left unprojected: (ledger, commands by
    name, the import's report)."""
    history = history_file(tmp)
    counts = generate(history, SCALES[args.scale], args.seed)
    ledger = build(_settings(args.backend, tmp, variant), inline_projection=False)
    outcome = import_lines(ledger.service, read_lines(history), ImportMode.STOP_AT_FIRST_ERROR)
    if not outcome.ok:
        ledger.close()
        raise AssertionError(f"the generated history was refused: {outcome.errors[:3]}")
    return ledger, counts, outcome


def scratch_views(backend: str, tmp: str, name: str, pg_url: str = PG_URL) -> ViewEngines:
    """Empty read models named ``name`` to project into: a fresh schema in the database at ``pg_url``
    (``_schema``, dropped by the caller) or a fresh SQLite file under ``tmp``. Not migrated."""
    if backend == "postgres":
        return make_engines(make_url(pg_url).set(drivername="postgresql+psycopg"), _schema(name, pg_url=pg_url))
    path = Path(tmp) / f"{name}.sqlite"
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    return make_engines(make_url(f"sqlite:///{path}"))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="province", choices=sorted(SCALES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    lines: list[str] = []

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory() as tmp:
        history = history_file(tmp)
        counts = generate(history, SCALES[args.scale], args.seed)
        report(f"history: {args.scale} scale, seed {args.seed}, {sum(counts.values()):,} commands; "
               f"backend {args.backend}")
        rates = {}
        variants = (("batched", 500, True), ("batched, no aggregates carried between transactions", 500, False),
                    ("one per transaction", 1, False))
        for variant, batch, carry in variants:
            ledger = build(_settings(args.backend, tmp, variant), inline_projection=False)
            outcome = import_lines(ledger.service, read_lines(history), ImportMode.STOP_AT_FIRST_ERROR, batch=batch,
                                   carry=carry)
            assert outcome.ok, outcome.errors[:3]
            rates[variant] = outcome.events / outcome.seconds
            report(f"import {variant}: {outcome.events:,} events in {outcome.seconds:.1f} s -> "
                   f"{rates[variant]:,.0f} events/s")
            if variant != "batched":
                ledger.close()
                continue
            kept = ledger
        report(f"import ratio batched / one per transaction: {rates['batched'] / rates['one per transaction']:.1f}x; "
               f"carried / not carried: {rates['batched'] / rates[variants[1][0]]:.1f}x (target: >= 50,000 events/s)")
        ledger = kept
        logged = ledger.store.recorder.max_notification_id() or 0
        t0 = time.perf_counter()
        ledger.projector.catch_up()
        catch_up = logged / (time.perf_counter() - t0)
        target = scratch_views(args.backend, tmp, "rebuilt")
        t0 = time.perf_counter()
        rebuild(ledger.store, target)
        rebuilt = logged / (time.perf_counter() - t0)
        target.dispose()
        report(f"projection of {logged:,} log entries: catch-up {catch_up:,.0f}/s, rebuild {rebuilt:,.0f}/s -> "
               f"{rebuilt / catch_up:.1f}x (targets: rebuild >= 100,000/s, catch-up >= 30,000/s)")
        t0 = time.perf_counter()  # last: it leaves the acts it read cached
        decode_all(ledger.store, BATCH_SIZE)
        decoded = logged / (time.perf_counter() - t0)
        report(f"decoding baseline: every stored event read and decoded into its domain event, {decoded:,.0f}/s; "
               f"catch-up {catch_up / decoded:.2f}x of it (the issue's 30,000 against its 120,000: 0.25x), "
               f"rebuild {rebuilt / decoded:.2f}x (100,000 against 120,000: 0.83x)")
        q = ledger.queries
        with q.connect() as conn:
            position = q.knowledge_position(conn, None)
            units = [u.id for u, _, _ in q.subtree(conn, None, AS_OF, position)]
            timings = []
            for unit_id in units[:: max(1, len(units) // 200)]:
                t0 = time.perf_counter()
                q.staffing(conn, unit_id, AS_OF, position)
                timings.append(time.perf_counter() - t0)
            report(f"one unit's staffing: p50 {_ms(statistics.median(timings))} over {len(timings)} units "
                   "(target: <= 1 ms)")
            tops = q.staffing_report(conn, None, AS_OF, position, depth=1, include_descendants=True)
            province = max(tops, key=lambda r: r.total_headcount)
            t0 = time.perf_counter()
            q.staffing(conn, province.unit_id, AS_OF, position, include_descendants=True)
            report(f"largest top-level unit rolled up: {_ms(time.perf_counter() - t0)} (target: <= 50 ms)")
            t0 = time.perf_counter()
            summary = q.staffing_report(conn, None, AS_OF, position, depth=1, include_descendants=True)
            ours = time.perf_counter() - t0
            t0 = time.perf_counter()
            naive = conn.execute(text(NAIVE_SQL), {"d": AS_OF, "p": position}).all()
            sql = time.perf_counter() - t0
            assert sum(n for _, n in naive) == sum(r.total_headcount for r in summary)
            report(f"national summary ({len(summary)} rows): {_ms(ours)} vs the hand-written headcount SQL "
                   f"{_ms(sql)} -> {ours / sql:.1f}x (target: <= 300 ms over HTTP, within 2x of SQL)")
            t0 = time.perf_counter()
            listing = q.staffing_report(conn, None, AS_OF, position)
            report(f"full listing ({len(listing)} units): {_ms(time.perf_counter() - t0)} (target: <= 3 s over HTTP)")
        ledger.close()
    if args.backend == "postgres":
        for variant in (*(v[0] for v in variants), "rebuilt"):
            _schema(variant, create=False)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
