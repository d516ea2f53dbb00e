"""A small run of the read benchmark, so the harness cannot rot between real runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from tests.support import PG_URL, drop_pg_schema, new_pg_schema, require_postgres

ROOT = Path(__file__).resolve().parents[1]


def _report(tmp_path: Path, module: str, *arguments: str, env: dict[str, str] | None = None, timeout: int = 300
            ) -> str:
    """Run ``python -m benchmarks.<module> <arguments> --out FILE`` from the checkout; its report (it must succeed)."""
    return _report_and_output(tmp_path, module, *arguments, env=env, timeout=timeout)[0]


def _report_and_output(tmp_path: Path, module: str, *arguments: str, env: dict[str, str] | None = None,
                       timeout: int = 300) -> tuple[str, str]:
    """``_report``'s run; its report and what it printed."""
    out = tmp_path / f"{module}.md"
    done = subprocess.run([sys.executable, "-m", f"benchmarks.{module}", *arguments, "--out", str(out)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return out.read_text(encoding="utf-8"), done.stdout


@contextmanager
def _on_backend(env: dict[str, str], backend: str) -> Iterator[dict[str, str]]:
    """``env`` as it is on SQLite; on PostgreSQL pointed at a fresh schema, dropped afterwards."""
    if backend != "postgres":
        yield env
        return
    require_postgres()
    schema = new_pg_schema()
    try:
        yield {**env, "STAFFING_DATABASE_URL": PG_URL, "STAFFING_DB_SCHEMA": schema}
    finally:
        drop_pg_schema(schema)


@contextmanager
def _tiny_ledger(tmp_path: Path, backend: str) -> Iterator[dict[str, str]]:
    """The environment of a tiny generated ledger (seed 2) in ``tmp_path`` on ``backend``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}
    env["STAFFING_DATA_DIR"] = str(tmp_path)
    with _on_backend(env, backend) as env:
        _staffing(env, "generate", "--scale", "tiny", "--seed", "2")
        yield env


def _dialect(backend: str) -> str:
    """The database's name for ``backend`` as the benchmarks print it."""
    return "postgresql" if backend == "postgres" else backend


def _staffing(env: dict[str, str] | None, *arguments: str) -> None:
    """Run ``python -m staffing <arguments>`` from the checkout (it must succeed)."""
    done = subprocess.run([sys.executable, "-m", "staffing", *arguments], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_read_benchmark_runs_on_a_tiny_dataset(tmp_path: Path) -> None:
    text = _report(tmp_path, "bench_read", "--provinces", "2", "--communes", "4", "--people", "3")
    assert "national staffingReport: 10 rows" in text
    assert "ratio" in text


def test_import_benchmark_runs_on_a_tiny_dataset_on_sqlite(tmp_path: Path) -> None:
    text = _report(tmp_path, "bench_import", "--backends", "sqlite", "--provinces", "2", "--communes", "3",
                   "--people", "4", "--positions", "2", timeout=120)
    people = 2 * 3 * 4
    # units, quotas, positions, recruitments, transfers (10 %), retirements (5 %), one merger per province
    commands = (2 + 2 * 3) + 2 * 3 + 2 * 3 * 2 + people + people // 10 + people // 20 + 2
    assert f"| batched | 500 | {commands} |" in text
    assert f"| baseline | 1 | {commands} |" in text
    assert "sqlite: batched " in text and "one transaction per command" in text and "-> ratio " in text
    assert "PostgreSQL" not in text


def test_scale_benchmark_runs_on_the_tiny_history(tmp_path: Path) -> None:
    text = _report(tmp_path, "bench_scale", "--scale", "tiny")
    assert "history: tiny scale" in text and "import ratio batched" in text and "national summary" in text
    assert "decoding baseline" in text and "catch-up" in text


def test_commands_benchmark_runs_a_few_commands(tmp_path: Path) -> None:
    text = _report(tmp_path, "bench_commands", "--commands", "40", "--callers", "4", "--more-callers", "8")
    assert "40 commands (SQLite)" in text and "4 callers at once (group commit)" in text
    assert "8 callers at once (group commit)" in text
    assert "4 clients at once" in text and "over HTTP, one uvicorn worker, one client" in text
    assert "two uvicorn workers" in text


def test_partner_benchmark_answers_every_mode_with_the_same_figures(tmp_path: Path) -> None:
    """``bench_partner`` runs the plan inline and with a partner process projecting; each run ends with
    the read models caught up and the same headcount in every mode (the benchmark checks both)."""
    text = _report(tmp_path, "bench_partner", "--commands", "60", "--callers", "4", "--rounds", "1")
    for mode in ("inline", "partner", "relay", "relay-pinned"):
        assert re.search(rf"round 1, 4 callers, {mode}: [\d,]+ commands/s", text), text
    assert "read models caught up, communes' headcount 45 in each mode" in text
    assert re.search(r"4 callers, relay: [\d,]+ commands/s \([\d.]+x inline\)", text)


def test_group_io_benchmark_counts_each_commits_pages_by_table(tmp_path: Path) -> None:
    text = _report(tmp_path, "bench_group_io", "--commands", "60", "--group", "6")
    assert "60 commands (SQLite) in groups of 6" in text and "watched run:" in text and "10 groups" in text
    pages = re.search(r"read models commits: .* \(([\d.]+) per command\)", text)
    assert pages is not None and float(pages.group(1)) > 1  # a recruitment writes rows into several tables
    assert "    facts: " in text or "ix_facts_" in text  # the pages are named by the table or index they belong to
    assert "sqlite_autoindex_stored_events_1" in text


def test_group_samples_split_a_sampled_group_path_by_stage(tmp_path: Path) -> None:
    """``bench_group_io --sampled`` runs the group path once; ``group_samples`` counts each sample of
    the groups in the first stage on its stack (the ledger's setup left out), and says so when a file
    holds no sample of the groups."""
    from benchmarks.group_samples import split

    sampled = _report(tmp_path, "bench_group_io", "--commands", "30", "--group", "6", "--sampled")
    assert "30 commands (SQLite) in groups of 6, decided, saved and projected once: " in sampled
    root = "<module> (benchmarks/bench_group_io.py:1);main (benchmarks/bench_group_io.py:2);run_groups (b.py:3)"
    raw = [f"{root};_ledger (b.py:4);StaffingService.execute (s.py:1) 50",  # setup: not counted
           f"{root};StaffingService._decide_group (s.py:2);StaffingService._decide (s.py:3);recruit (h.py:1) 6",
           f"{root};StaffingService._publish (s.py:4);Projector._run_batch (p.py:1);Projector.apply (p.py:2);"
           "Mapper.to_domain_event (m.py:1);OrjsonTranscoder.decode (t.py:1) 3",
           f"{root};StaffingService._publish (s.py:4);Projector._run_batch (p.py:1);_GeneratorContextManager.__exit__"
           " (c.py:1);DefaultDialect.do_commit (d.py:1) 4",
           f"{root};StaffingService._decide_group (s.py:2);EventStore.save_events (e.py:1);"
           "SQLiteConnection.commit (q.py:1) 2",
           f"{root};<listcomp> (b.py:5);_command (b.py:6) 5",
           "<module> (other.py:1);main (other.py:2) 9"]
    total, stages = split(raw)
    assert total == 20
    assert stages == {"decide: the domain's rules": 6, "project: decode them": 3,
                      "project: the read models' commit": 4, "save: the event store's commit": 2,
                      "the benchmark building its commands and tickets": 5}
    empty = tmp_path / "empty.txt"
    empty.write_text(raw[-1] + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "benchmarks.group_samples", str(empty)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "no sample of run_groups" in done.stderr


def test_rebuild_samples_split_each_thread_by_stage_and_waiting() -> None:
    """``rebuild_samples`` counts the main thread's samples in the first stage on their stack, waiting
    or not by the innermost frame, and the other threads by thread (a pool's idle worker waits)."""
    from benchmarks.rebuild_samples import tally

    main = "thread (1): MainThread;rebuild (r.py:1);_load (r.py:2);Projector.apply_next (p.py:1)"
    raw = [f"{main};Projector._apply_decoded (p.py:2);SeriesBatch.preload (s.py:1);Connection.wait (c.py:1) 4",
           f"{main};Projector._apply_decoded (p.py:2);SeriesBatch.flush (s.py:2);Rollup.flush (u.py:1);"
           "_deltas (u.py:2) 3",
           f"{main};Projector._decode (p.py:3);LeanDecoder.event (d.py:1) 2",
           f"{main};Projector._apply_decoded (p.py:2);SeriesBatch.flush (s.py:2);insert_rows (b.py:1) 1",
           "thread (2): staffing-read-back_0;_bootstrap (t.py:1);_worker (t.py:2) 5",
           "thread (2): staffing-read-back_0;_bootstrap (t.py:1);_worker (t.py:2);SeriesBatch._believed (s.py:3) 1",
           "not a sample line"]
    counted = tally(raw)
    assert counted["MainThread"] == {"series read back: waiting": 4, "roll-up: Python": 3, "decoding: Python": 2,
                                     "writing rows (queued): Python": 1}
    assert counted["staffing-read-back"] == {"all: waiting": 5, "all: Python": 1}


def test_rebuild_samples_by_line_counts_the_main_threads_innermost_frame_of_one_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``rebuild_samples --within FILE`` counts the main thread's samples by the innermost frame of that
    file (function and line), naming what it called when it was not the leaf; other threads' and
    samples outside the file are not counted."""
    from benchmarks.rebuild_samples import by_line, main

    main_thread = "thread (1): MainThread;rebuild (/x/r.py:1);Rollup.flush (/x/projections/rollup.py:180)"
    raw = [f"{main_thread};_corners (/x/projections/rollup.py:300) 4",
           f"{main_thread};_corners (/x/projections/rollup.py:300);dict.get (<builtin>:0) 2",
           f"{main_thread} 3",
           "thread (1): MainThread;rebuild (/x/r.py:1);Projector._decode (/x/p.py:3) 5",
           "thread (2): staffing-write-behind_0;Rollup.flush (/x/projections/rollup.py:180) 7",
           "not a sample line"]
    assert by_line(raw, "rollup.py") == {"_corners (rollup.py:300)": 4, "_corners (rollup.py:300) -> dict.get": 2,
                                         "Rollup.flush (rollup.py:180)": 3}
    assert by_line(raw, "series.py") == {}
    (tmp_path / "r.raw").write_text("\n".join(raw), encoding="utf-8")
    main(["--within", "rollup.py", str(tmp_path / "r.raw")])
    shown = capsys.readouterr().out.splitlines()
    assert shown[1] == "rollup.py: 9 of the main thread's 14 samples"
    assert shown[2].split() == ["28.6%", "_corners", "(rollup.py:300)"]


def test_the_wal_index_reader_names_the_pages_a_commit_wrote(tmp_path: Path) -> None:
    """``Commits.around`` reads the new frames' page numbers from the ``-shm`` file: a commit filling
    one table is counted as that table's pages, past the index's first block of page numbers (4,062
    frames) too, and a commit after the log restarted (a checkpoint copied it all) from frame 1."""
    import sqlite3

    from benchmarks.bench_group_io import Commits

    path = str(tmp_path / "x.sqlite")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE big (a INTEGER PRIMARY KEY, b TEXT)")
    db.execute("CREATE TABLE small (a INTEGER PRIMARY KEY)")
    commits = Commits(path)
    for rows in (500, 25_000, 0):  # ~100 pages; ~4,900 (past the first block; its commit checkpoints); a restart
        db.execute("BEGIN")
        db.executemany("INSERT INTO big (b) VALUES (?)", [("x" * 800,) for _ in range(rows)])
        db.execute("INSERT INTO small (a) VALUES (?)", (rows,))
        commits.around(lambda: db.execute("COMMIT"))
    owners = commits.owners()
    db.close()
    pages = [len(p) for p in commits.pages]
    assert 500 * 800 // 4096 <= pages[0] < 150 and 25_000 * 800 // 4096 <= pages[1] < 5_500
    assert 1 <= pages[2] <= 3  # the restarted log's frames, not nothing
    assert owners["big"] >= sum(pages) - 8 and 3 <= owners["small"] <= 6


def test_gc_times_reports_the_collections_of_the_module_it_runs(tmp_path: Path) -> None:
    """The wrapper runs the module with its own arguments and counts the collections it made: one
    explicit full collection is generation 2's, and the module's output is untouched."""
    out = tmp_path / "gc.txt"
    done = subprocess.run([sys.executable, "-m", "benchmarks.gc_times", "timeit", "-n", "3", "-r", "1",
                           "import gc; gc.collect()", "--gc-out", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "3 loops" in done.stdout
    line = out.read_text(encoding="utf-8")
    full = re.search(r"generation 2: (\d+) collections", line)
    assert line.startswith("collector over ") and full is not None and int(full.group(1)) >= 3


def test_queries_benchmark_runs_on_a_tiny_generated_ledger(tmp_path: Path, backend: str) -> None:
    """Generate → serve → query over HTTP and in process, every figure checked against hand-written SQL
    (on PostgreSQL in the forms its planner needs: a LATERAL seek, the roots as an anti-join)."""
    with _tiny_ledger(tmp_path, backend) as env:
        text = _report(tmp_path, "bench_queries", "--http", "--units", "20", env=env)
    assert f"; backend {_dialect(backend)}" in text
    assert text.count("national summary (") == 6 and "HTTP full listing as CSV" in text
    # the listing beside SQL giving the same cells in the same order (checked equal cell by cell)
    assert text.count("every cell in the listing's order") == 6
    # the national summary from the roll-up beside the tree walk (checked equal row by row)
    assert text.count("national summary from the roll-up") == 6
    assert "server peak resident memory" in text


def test_personnel_benchmark_runs_on_a_tiny_generated_ledger(tmp_path: Path, backend: str) -> None:
    """A province's people, a diff between two knowledge moments and a unit's late facts over HTTP, each
    list checked against the others and a hand-written SQL count (which had never run on PostgreSQL:
    its recursive term's type did not match there)."""
    with _tiny_ledger(tmp_path, backend) as env:
        text = _report(tmp_path, "bench_personnel", env=env)
    assert f"; backend {_dialect(backend)}" in text
    assert re.search(r"a province's people \([\d,]+\): CSV download [\d,]+ ms", text), text
    assert "diff of the province between two knowledge moments" in text and "recorded more than 60 days late" in text


def test_verify_benchmark_runs_on_a_few_thousand_events(tmp_path: Path) -> None:
    text = _report(tmp_path, "bench_verify", "--events", "6000", "--repeat", "1")
    assert "6,000 events written through the chained recorder" in text and "verify, one process" in text
    assert "baseline: read and hash each row" in text


def test_check_stays_benchmark_runs_on_a_tiny_generated_ledger(tmp_path: Path) -> None:
    """``bench_check_stays``: the check and its baseline at the log's head and middle, with their ratio
    and what was found (nothing, in a history written under the stays rule)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}
    env["STAFFING_DATA_DIR"] = str(tmp_path)
    _staffing(env, "generate", "--scale", "tiny", "--seed", "3")
    text = _report(tmp_path, "bench_check_stays", "--repeat", "1", env=env)
    for label in ("the log's head", "its middle"):
        found = re.search(rf"as known at {re.escape(label)} \(log position ([\d,]+); ([\d,]+) version rows believed\): "
                          r"check-stays [\d,.]+ ms, 0 found; baseline, those rows counted [\d,.]+ ms; "
                          r"check-stays [\d.]+x the baseline", text)
        assert found and int(found[1].replace(",", "")) > 0 and int(found[2].replace(",", "")) > 0, text


def test_fairness_benchmark_runs_briefly(tmp_path: Path) -> None:
    text = _report(tmp_path, "bench_fairness", "--seconds", "1")
    assert "this round, one worker:" in text and "serve --workers 2:" in text and "beside 8 heavy clients" in text


def test_reports_benchmark_runs_on_a_tiny_generated_ledger(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}
    env["STAFFING_DATA_DIR"] = str(tmp_path)
    _staffing(env, "generate", "--scale", "tiny", "--seed", "3")
    text = _report(tmp_path, "bench_reports", "--repeat", "1", env=env)
    assert "staffing report of the whole country as CSV" in text and "reform statistics 2015-2023" in text


def test_projection_and_codec_benchmarks_run_on_a_tiny_ledger(tmp_path: Path) -> None:
    history, data = tmp_path / "history.jsonl", tmp_path / "data"
    for step in (["generate", "--scale", "tiny", "--seed", "1", "--out", str(history), "--no-load"],
                 ["import", str(history)]):
        _staffing({**os.environ, "STAFFING_DATA_DIR": str(data)}, *step)
    for mode in ("catch-up", "rebuild", "decode"):
        done = subprocess.run([sys.executable, "-m", "benchmarks.bench_projection", str(data), "--mode", mode],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"{mode}: ") and "log entries in" in done.stdout and "/s" in done.stdout
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_projection", str(data), "--mode", "rebuild",
                           "--stop", "100"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("rebuild: 100 log entries in"), done.stdout
    codec = _report(tmp_path, "bench_codec", str(data), "--rounds", "1")  # checks the same bytes before timing
    assert re.search(r"encode: library [\d.]+ µs an event, ours [\d.]+ µs \([\d.]+x\)", codec), codec
    assert re.search(r"decode: library [\d.]+ µs an event, ours [\d.]+ µs \([\d.]+x\)", codec), codec


def test_national_tables_and_the_listing_benchmark_run_small(tmp_path: Path) -> None:
    """``national_tables`` (a country's shape on a map of four provinces, few people) and ``bench_listing``
    (this checkout against itself over HTTP, on a tiny generated ledger): the harnesses of RESULTS
    section 15."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}
    tables = subprocess.run([sys.executable, "-m", "benchmarks.national_tables", "--out", str(tmp_path / "tables"),
                             "--people", "2000", "--provinces", "4"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600)
    assert tables.returncode == 0, tables.stderr
    assert " units, " in tables.stdout and " person rows, " in tables.stdout
    env["STAFFING_DATA_DIR"] = str(tmp_path / "tiny")
    _staffing(env, "generate", "--scale", "tiny", "--seed", "2")
    text = _report(tmp_path, "bench_listing", "--baseline", str(ROOT), "--rounds", "1", "--repeat", "1", "--units",
                   "5", env=env)
    assert "round 1: listing (" in text and "listing: median ratio" in text and "unit p95: median ratio" in text
    assert "round 1: csv (" in text and "csv: median ratio" in text


def test_import_slice_benchmark_runs_on_the_tiny_history(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}
    history = tmp_path / "tiny.jsonl"
    _staffing(env, "generate", "--scale", "tiny", "--seed", "2", "--out", str(history), "--no-load")
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_import_slice", str(history), "--lines", "600",
                           "--flow-from", "300", "--data", str(tmp_path / "data")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "600 commands" in done.stdout and "setup 500 lines" in done.stdout and "flow 100 lines" in done.stdout


def test_baselines_benchmark_runs_the_library_runner_and_the_naive_replay(tmp_path: Path) -> None:
    """On PostgreSQL, the only backend whose library recorder can subscribe: the runner's projection
    of the first entries matches the projector's (the benchmark asserts it), and every figure of the
    naive replay equals the read models' (asserted too, before anything is timed). The library's
    batched save stores every entry of the log again (asserted by the benchmark) before its rate
    and the raw insert's are reported."""
    text = _report(tmp_path, "bench_baselines", "--scale", "tiny", "--backend", "postgres", "--entries", "300",
                   "--units", "10")
    assert "first 300 log entries, library runner: " in text and "catch-up / the library's projection runner" in text
    assert "every figure equal): Queries p50" in text and "naive replay with repository.get" in text
    assert "the library's batched save of the same" in text and "raw executemany of its rows" in text
    assert "import ratio ours / the library's batched save: " in text
    assert "our event store's save alone of the same" in text and "the ceiling of an import" in text
    assert "our import with nothing written" in text and "the ceiling of any import deciding" in text
    assert "the national summary" in text and "the largest top-level unit rolled up" in text


def test_rebuild_floor_benchmark_times_every_part_on_postgres(tmp_path: Path) -> None:
    """The floor's rows are the rebuild's (the benchmark asserts the rows written again equal the
    rebuilt ones before reporting), and every part of the floor is reported with the ratios."""
    text = _report(tmp_path, "bench_rebuild_floor", "--scale", "tiny", "--backend", "postgres", "--repeat",
                   "1")
    assert "decoding baseline: every entry read and decoded" in text
    assert "x the decoding baseline (the issue's target on postgres: 0.42x)" in text
    assert "floor of this rebuild: reading every entry" in text and "creating the secondary indexes" in text
    assert "the rebuild's own work beyond the floor" in text
    assert re.search(r"the stored JSON parsed raw \(.*\): [\d.]+ s, [\d,]+/s -> [\d.]+x the decoding baseline", text)
    assert re.search(r"the target leaves -?[\d.]+ s for the folds, .* µs per entry a read model needs", text)


def test_baselines_benchmark_saves_the_log_again_through_both_stores_on_sqlite(tmp_path: Path) -> None:
    """On SQLite: the library's save and our store's save each store every entry of the log again
    (the benchmark asserts both counts) before their rates and the import's ratios are reported; the
    import with nothing written decides every line and encodes as many entries as the log holds
    (asserted too)."""
    text = _report(tmp_path, "bench_baselines", "--scale", "tiny", "--entries", "100", "--units", "5")
    assert "backend sqlite" in text and "the library's batched save of the same" in text
    assert "our event store's save alone of the same" in text and "x the library's save: the ceiling" in text
    assert re.search(r"our import with nothing written \(.*; [\d,]+ entries dropped\): .* the ceiling of any "
                     r"import deciding through the aggregates", text)
    assert "not measurable on SQLite (its recorder cannot subscribe)" in text


def test_rebuild_floor_benchmark_measures_a_configured_ledger(tmp_path: Path, backend: str) -> None:
    """``--configured`` measures the ledger STAFFING_* names (as for a national history imported
    beforehand): the rebuild against the decoding baseline and the reading part of the floor. On
    PostgreSQL its scratch schema goes into the configured database and is dropped afterwards."""
    env = {**os.environ, "STAFFING_DATA_DIR": str(tmp_path / "data")}
    env.pop("STAFFING_DATABASE_URL", None)
    with _on_backend(env, backend) as env:
        history = tmp_path / "history.jsonl"
        _staffing(env, "generate", "--scale", "tiny", "--out", str(history), "--no-load")
        _staffing(env, "import", str(history), "--no-follow")
        text = _report(tmp_path, "bench_rebuild_floor", "--configured", "--repeat", "1", env=env)
    found = re.search(rf"the configured ledger: ([\d,]+) log entries; backend {backend}", text)
    assert found is not None and int(found.group(1).replace(",", "")) > 2000  # the tiny history's log
    assert f"over {found.group(1)} log entries" in text
    target = "0.83x" if backend == "sqlite" else "0.42x"
    assert f"x the decoding baseline (the issue's target on {backend}: {target})" in text
    assert "part of the floor (the rows not written again): reading every entry" in text
    # every stored row parsed raw by the backend's own plain statement (the benchmark asserts the count)
    assert re.search(r"the stored JSON parsed raw \(.*\): [\d.]+ s, [\d,]+/s -> [\d.]+x the decoding baseline", text)
    if backend == "postgres":
        with psycopg.connect(PG_URL) as conn:
            left = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'bench_scale_floor_rebuilt'")
            assert left.fetchone() == (0,)  # the scratch schema did not outlive the run


def test_rebuild_once_rebuilds_and_decodes_the_configured_ledger(tmp_path: Path, backend: str) -> None:
    """``rebuild_once`` (old-against-new pairs, section 29): one line per run with every entry of the
    configured ledger, also with the rebuild's options chosen, and its scratch read models dropped
    afterwards."""
    with _tiny_ledger(tmp_path, backend) as env:
        lines = []
        runs = (["rebuild"], ["decode"],
                ["rebuild", "--overlaps", "write-behind", "--keep-series", "quota", "--unlogged", "no"],
                ["rebuild", "--max-states", "50"])
        for what in runs:
            done = subprocess.run([sys.executable, "-m", "benchmarks.rebuild_once", *what, "--label", "smoke"],
                                  cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
            lines.append(done.stdout.strip())
        if backend == "postgres":
            with psycopg.connect(PG_URL) as conn:
                left = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'bench_scale_rebuild_once'")
                assert left.fetchone() == (0,)
    pattern = rf"(rebuild|decode) smoke \({backend}\): ([\d,]+) entries in [\d.]+ s, [\d,]+/s; user [\d.]+ s, peak"
    found = [re.match(pattern, line) for line in lines]
    assert all(found), lines
    counts = {int(m.group(2).replace(",", "")) for m in found if m}
    assert len(counts) == 1 and counts.pop() > 2000  # both read the whole tiny log
    # each line names the checkout whose code ran: an old-against-new pair shows it measured two codes
    assert all(line.endswith(f"; code {ROOT.resolve()}") for line in lines), lines


def test_rebuild_once_times_the_loads_full_collections(tmp_path: Path) -> None:
    """``--time-collections`` prints each of the load's full collections (section 52) as it ends, as
    many as ``--collect-every`` asks for (counted per batch: batches of 200 here); ``--collect-every 0``
    makes none."""
    with _tiny_ledger(tmp_path, "sqlite") as env:
        outputs = []
        for every in ("500", "0"):
            done = subprocess.run([sys.executable, "-m", "benchmarks.rebuild_once", "rebuild", "--label", "smoke",
                                   "--batch-size", "200", "--collect-every", every, "--time-collections"],
                                  cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
            outputs.append(done.stdout.splitlines())
    timed, untimed = outputs
    entries = int(re.search(r"([\d,]+) entries", timed[-1]).group(1).replace(",", ""))  # type: ignore[union-attr]
    collections = [line for line in timed if line.startswith("# full collection:")]
    assert all(re.fullmatch(r"# full collection: [\d,]+ unreachable objects in [\d.]+ s", c) for c in collections)
    # (one per 500 entries applied, counted per batch: at least one, at most one per 500)
    assert 1 <= len(collections) <= entries // 500, timed
    assert not any(line.startswith("# full collection:") for line in untimed), untimed


def test_decode_transfer_benchmark_runs_on_a_tiny_ledger(tmp_path: Path, backend: str) -> None:
    """``bench_decode_transfer``: reading, decoding, pickling and unpickling the tiny ledger's events
    (the benchmark checks the unpickled events equal the decoded ones), per event."""
    with _tiny_ledger(tmp_path, backend) as env:
        done = subprocess.run([sys.executable, "-m", "benchmarks.bench_decode_transfer", "--rounds", "1"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    first = re.match(rf"{backend}: ([\d,]+) log entries, ([\d,]+) decoded", done.stdout)
    assert first is not None and 0 < int(first.group(2).replace(",", "")) < int(first.group(1).replace(",", ""))
    assert re.search(r"unpickling them \(the load's side\): [\d.]+ us per event, [\d.]+x decoding", done.stdout)


def test_act_reads_benchmark_reads_the_same_acts_both_ways_on_a_tiny_ledger(tmp_path: Path) -> None:
    """``bench_act_reads``: the tiny ledger's acts by key and forwards in stored order, in windows
    smaller than the ledger (the benchmark checks both ways read the same rows), per act and as a
    ratio (SQLite only: a PostgreSQL table keeps no stored order)."""
    with _tiny_ledger(tmp_path, "sqlite") as env:
        done = subprocess.run([sys.executable, "-m", "benchmarks.bench_act_reads", "--rounds", "2", "--window", "7"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    first = re.match(r"sqlite: the first ([\d,]+) acts in stored order, windows of 7", done.stdout)
    assert first is not None and int(first.group(1).replace(",", "")) > 7, done.stdout
    assert re.search(r"forwards against by key: [\d.]+x faster", done.stdout)


def test_finish_indexes_benchmark_makes_the_last_indexes_again_under_each_setting_on_a_tiny_ledger(
        tmp_path: Path) -> None:
    """``bench_finish_indexes``: on a copy of the tiny ledger's read models, the indexes a SQLite
    rebuild makes at its end dropped and made again under each setting (the benchmark checks them
    made), with each setting's ratio to the settings before; the copy is removed after."""
    with _tiny_ledger(tmp_path, "sqlite") as env:
        scratch = tmp_path / "scratch"
        done = subprocess.run([sys.executable, "-m", "benchmarks.bench_finish_indexes", "--rounds", "2",
                               "--scratch", str(scratch)], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300)
    assert done.returncode == 0, done.stderr
    assert re.search(r"the (\d+) indexes a SQLite rebuild makes at its end", done.stdout), done.stdout
    for setting in ("before", "threads 2", "cache 1 GiB", "threads 2, cache 1 GiB"):
        assert re.search(rf"^{re.escape(setting)} \(.*\): [\d.]+ s, [\d.]+x before", done.stdout, re.M), setting
    assert done.stdout.count("(the rebuild now)") == 1
    assert list(scratch.iterdir()) == []


def test_copy_benchmark_compares_both_formats_and_checks_the_rows(tmp_path: Path) -> None:
    """Both COPY formats insert the same rows and both result formats read the same log rows (the
    benchmark asserts them equal before it reports, the log read across two windows), and the
    ratios are printed (PostgreSQL only: the formats are its wire protocol's)."""
    require_postgres()
    text = _report(tmp_path, "bench_copy", "--rows", "2000", "--entries", "30000", "--repeat", "1")
    assert "COPY, text format: wall" in text and "COPY, binary format: wall" in text
    assert re.search(r"binary / text: wall [\d.]+x .*process CPU [\d.]+x .*every row read back equal", text)
    assert "results in the text format: wall" in text and "results in the binary format: wall" in text
    assert re.search(r"binary / text read: wall [\d.]+x .*every row equal", text)


def test_server_memory_pairs_script_parses_and_restores_the_default() -> None:
    """``server_memory_pairs.sh`` restarts the machine's PostgreSQL, so CI never runs it (section 40);
    what CI can hold it to: it parses, it resets the server's setting whatever happens, that setting
    is shared_buffers unless SETTING names another, and a SETTING that is not a name is refused."""
    script = ROOT / "benchmarks" / "server_memory_pairs.sh"
    done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    source = script.read_text(encoding="utf-8")
    assert "trap 'kill $(jobs -p) 2>/dev/null || true; restart_with default' EXIT" in source
    assert 'ALTER SYSTEM RESET $setting' in source and "setting=${SETTING:-shared_buffers}" in source
    refused = subprocess.run(["bash", str(script), "/nonexistent-out"], env=os.environ | {"SETTING": "x; DROP"},
                             capture_output=True, text=True, timeout=30)
    assert refused.returncode == 2 and "SETTING must be a server setting's name" in refused.stderr


def test_code_pairs_script_alternates_two_checkouts_and_reports_each_run(tmp_path: Path) -> None:
    """``code_pairs.sh`` (old code against new on one PostgreSQL ledger, section 41) on a tiny
    ledger, with this checkout as both: a rebuild from each checkout per pair, in the order asked,
    then the decoding baseline, each run's line naming the code that ran and the server's CPU; the
    scratch schema dropped and no watcher left running."""
    with _tiny_ledger(tmp_path, "postgres") as env:
        out = tmp_path / "pairs"
        done = subprocess.run(["bash", str(ROOT / "benchmarks" / "code_pairs.sh"), str(out), str(ROOT), str(ROOT),
                               "1", "old"], cwd=tmp_path, env=env | {"PYTHON": sys.executable},
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        with psycopg.connect(PG_URL) as conn:
            left = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'bench_scale_rebuild_once'")
            assert left.fetchone() == (0,)
    runs = (out / "runs.log").read_text(encoding="utf-8")
    lines = re.findall(r"^(rebuild|decode) (\w+) \(postgres\): ([\d,]+) entries in [\d.]+ s.*; code (.+)$", runs, re.M)
    assert [(what, label) for what, label, _, _ in lines] == [("rebuild", "O1"), ("rebuild", "N1"), ("decode", "D")]
    assert {code for *_, code in lines} == {str(ROOT.resolve())}
    assert len({entries for _, _, entries, _ in lines}) == 1  # every run read the whole log
    assert re.findall(r"^# (\w+) server CPU \d+ s$", runs, re.M) == ["O1", "N1", "D"]
    assert (out / "positions.txt").exists()
    # (the watcher is a fork of the script: its command line names the output directory)
    watchers = subprocess.run(["pgrep", "-f", str(out)], capture_output=True)
    assert watchers.stdout == b""


def test_code_rounds_script_reverses_its_order_each_round_and_reports_each_run(tmp_path: Path) -> None:
    """``code_rounds.sh`` (several checkouts on one PostgreSQL ledger, section 48) on a tiny ledger,
    with this checkout as three: one rebuild from each per round, in the order given and then
    reversed, then the decoding baseline, each with its server CPU and its positions; no watcher
    left running; fewer than two checkouts refused."""
    with _tiny_ledger(tmp_path, "postgres") as env:
        out = tmp_path / "rounds"
        script = str(ROOT / "benchmarks" / "code_rounds.sh")
        run_env = env | {"PYTHON": sys.executable}
        done = subprocess.run(["bash", script, str(out), "2", str(ROOT), str(ROOT), str(ROOT)], cwd=tmp_path,
                              env=run_env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr
        refused = subprocess.run(["bash", script, str(tmp_path / "one"), "1", str(ROOT)], cwd=tmp_path, env=run_env,
                                 capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2 and "two checkouts or more" in refused.stderr
    runs = (out / "runs.log").read_text(encoding="utf-8")
    lines = re.findall(r"^(rebuild|decode) (\w+) \(postgres\): ([\d,]+) entries in [\d.]+ s.*; code (.+)$", runs, re.M)
    assert [label for _, label, _, _ in lines] == ["A1", "B1", "C1", "C2", "B2", "A2", "X"]
    assert len({entries for _, _, entries, _ in lines}) == 1  # every run read the whole log
    assert re.findall(r"^# (\w+) server CPU \d+ s$", runs, re.M) == ["A1", "B1", "C1", "C2", "B2", "A2", "X"]
    assert {p.name for p in out.glob("positions-*.log")} == {f"positions-{label}.log" for _, label, _, _ in lines}
    assert (out / "positions.txt").exists()  # (a tiny ledger's runs end before their first position is seen)
    watchers = subprocess.run(["pgrep", "-f", str(out)], capture_output=True)
    assert watchers.stdout == b""


def test_collation_benchmark_builds_each_text_index_both_ways_and_leaves_none(tmp_path: Path) -> None:
    """``bench_collation`` (section 40) times every text-keyed index of a configured PostgreSQL
    ledger built as it is and in "C", prints a line per index and the totals, and drops what it
    built; on SQLite it refuses, saying why."""
    with _tiny_ledger(tmp_path, "postgres") as env:
        done = subprocess.run([sys.executable, "-m", "benchmarks.bench_collation", "--rounds", "1"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        schema = env["STAFFING_DB_SCHEMA"]
        with psycopg.connect(PG_URL) as conn:
            left = conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = %s AND indexname = %s",
                                (schema, "bench_collation_scratch")).fetchone()
            real = conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = %s AND indexname LIKE 'ix\\_%%'",
                                (schema,)).fetchone()
    assert left == (0,)
    line = r"\s+as is\s+[\d.]+ s\s+C\s+[\d.]+ s\s+[\d.]+x"
    assert re.search(r"ix_person_versions_person" + line, done.stdout), done.stdout
    assert re.search(r"all these indexes" + line, done.stdout), done.stdout
    measured = [row for row in done.stdout.splitlines() if row.startswith("ix_")]
    assert real is not None and 0 < len(measured) <= real[0]  # only the real indexes, the text-keyed ones
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")} | {"STAFFING_DATA_DIR": str(tmp_path)}
    refused = subprocess.run([sys.executable, "-m", "benchmarks.bench_collation"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "collations are PostgreSQL's" in refused.stderr


@pytest.mark.parametrize("late", ["0", "0.3"])
def test_flush_benchmark_drives_the_figures_and_the_roll_up_without_a_database(late: str) -> None:
    """``bench_flush`` (RESULTS sections 43 and 48): one line with the seconds spent in each flush,
    naming the checkout whose code ran (old-against-new pairs run it from a worktree too); with a
    share of the contributions dated late too."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_flush", "--batches", "12", "--units", "300",
                           "--roots", "5", "--per-batch", "400", "--late", late, "--label", "smoke"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    found = re.fullmatch(r"flush smoke: 4,800 contributions; figures ([\d.]+) s, roll-up ([\d.]+) s, "
                         r"both ([\d.]+) s; code (.+)", line)
    assert found, line
    assert float(found.group(1)) > 0 and float(found.group(2)) > 0 and found.group(4) == str(ROOT.resolve())


def test_closings_benchmark_closes_rows_at_both_fills_and_counts_those_left_on_their_page(tmp_path: Path) -> None:
    """``bench_closings`` (section 44, migration 0010): rows loaded by the rebuild's COPY and a share of
    them closed, at fillfactor 90 and 100, in one statement: at 90 most closings stay on their page (HOT),
    at 100 almost none (a full page has room only once pruned); the scratch schema is dropped."""
    require_postgres()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")} | {
        "STAFFING_DATA_DIR": str(tmp_path), "STAFFING_DATABASE_URL": PG_URL}
    text = _report(tmp_path, "bench_closings", "--rows", "6000", "--share", "0.1", "--batch", "600", "--rounds", "1",
                   env=env)
    hot = {int(fill): int(count.replace(",", "")) for fill, count in
           re.findall(r"^fillfactor (\d+): load [\d.]+ s, close [\d.]+ s, ([\d,]+) of 600 closings", text, re.M)}
    assert set(hot) == {90, 100} and hot[90] >= 450 and hot[100] <= 60, text  # (one statement: no page pruned between)
    assert re.search(r"^close: fillfactor 90 median [\d.]+ s, 100 median [\d.]+ s, [\d.]+x$", text, re.M)
    with psycopg.connect(PG_URL) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'bench_closings'").fetchone() == (0,)


def test_server_statements_reports_the_servers_statements_or_says_how_to_load_them() -> None:
    """``server_statements`` (section 44) needs ``pg_stat_statements`` loaded by the server, which
    takes a restart (never done by CI): loaded, it reports each statement's calls and time; not
    loaded, it refuses and says how to load it."""
    require_postgres()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")} | {"STAFFING_DATABASE_URL": PG_URL}
    with psycopg.connect(PG_URL) as conn:
        loaded = "pg_stat_statements" in str(conn.execute("SHOW shared_preload_libraries").fetchone())
    done = subprocess.run([sys.executable, "-m", "benchmarks.server_statements", "report", "--top", "3"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    if loaded:
        assert done.returncode == 0, done.stderr
        assert re.search(r"^\d+ statements, [\d,.]+ s of execution in all$", done.stdout, re.M), done.stdout
        assert len(done.stdout.splitlines()) <= 5
    else:
        assert done.returncode != 0 and "shared_preload_libraries = 'pg_stat_statements'" in done.stderr


def test_store_writes_benchmark_imports_the_next_lines_into_copies_under_each_setting(tmp_path: Path) -> None:
    """``bench_store_writes``: a tiny history cut in two, its first part imported, its second imported
    into a fresh copy of that event store under each setting (page cache, commits behind) in a process
    of its own (its first lines untimed; every line, the same events each time, or the benchmark
    fails), with each setting's ratio; the copies removed after."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}
    env["STAFFING_DATA_DIR"] = str(tmp_path / "ledger")
    history, first, rest = tmp_path / "history.jsonl", tmp_path / "first.jsonl", tmp_path / "rest.jsonl"
    _staffing(env, "generate", "--scale", "tiny", "--seed", "2", "--out", str(history), "--no-load")
    lines = history.read_bytes().splitlines(keepends=True)
    first.write_bytes(b"".join(lines[: len(lines) * 2 // 3]))
    rest.write_bytes(b"".join(lines[len(lines) * 2 // 3:]))
    _staffing(env, "import", str(first), "--no-follow")
    scratch = tmp_path / "scratch"
    text = _report(tmp_path, "bench_store_writes", "--file", str(rest), "--scratch", str(scratch), "--rounds", "1",
                   "--warm-up", "5", "--only", "before;cache 64 MiB;commits behind", env=env)
    found = re.search(r"rest\.jsonl its lines after the first 5 \(([\d,]+) events\) imported into a copy", text)
    assert found and int(found[1].replace(",", "")) > 0, text
    for setting in ("before", "cache 64 MiB", "commits behind"):
        assert re.search(rf"^{re.escape(setting)} \(.*\): [\d.]+ s, [\d,]+ events/s, [\d.]+x before", text, re.M), text
    assert text.count("(the store now)") == 1
    assert list(scratch.iterdir()) == []


def test_store_writes_benchmark_imports_a_whole_history_into_empty_ledgers(tmp_path: Path) -> None:
    """``bench_store_writes --from-empty``: a whole (tiny) history imported into an empty ledger under
    each setting, each in a process of its own, with the elapsed time at every ``--marks`` lines; no
    configured store needed, the scratch directory emptied after."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}
    history, scratch = tmp_path / "history.jsonl", tmp_path / "scratch"
    _staffing({**env, "STAFFING_DATA_DIR": str(tmp_path / "generated")}, "generate", "--scale", "tiny", "--seed", "2",
              "--out", str(history), "--no-load")
    env["STAFFING_DATA_DIR"] = str(tmp_path / "nowhere")  # never opened: the runs start from empty ledgers
    lines = len(history.read_bytes().splitlines())
    text, printed = _report_and_output(tmp_path, "bench_store_writes", "--from-empty", "--file", str(history),
                                       "--scratch", str(scratch), "--rounds", "1", "--marks", "20",
                                       "--only", "before;commits behind;no preload;preload, not what is cached;"
                                       "collections on a budget;collections on a budget, frozen;commits on a thread",
                                       env=env)
    found = re.search(r"history\.jsonl \(([\d,]+) events\) imported into an empty ledger, 1 rotating rounds", text)
    assert found and int(found[1].replace(",", "")) > 0, text
    assert re.search(r"^commits behind \(.*\): [\d.]+ s, [\d,]+ events/s, [\d.]+x before \(the store now\)", text, re.M)
    for setting, what in (("no preload", "preload: none"), ("preload, not what is cached", "preload: uncached"),
                          ("collections on a budget", "collector: budget"),
                          ("collections on a budget, frozen", "collector: budget, frozen"),
                          ("commits on a thread", "writer: thread")):  # sections 60, 61 and 62
        assert re.search(rf"^{setting} \(.*, {what}\): [\d.]+ s, [\d,]+ events/s, [\d.]+x before$", text,
                         re.M), text
    for setting in ("before", "commits behind", "commits on a thread"):
        marks = re.search(rf"^round 1 {setting}: [\d.]+ s, \d+ events, peak [\d,]+ MiB, \d+ full collections "
                          r"[\d.]+ s, \d+ young [\d.]+ s, CPU [\d.]+ s \+ writer ([\d.]+) s, at every 20 lines: "
                          r"\[([\d., ]+)\]", printed, re.M)
        assert marks and len(marks[2].split(",")) == lines // 20, printed
        assert (float(marks[1]) > 0) == (setting == "commits behind"), printed  # only the store now has a writer
    assert not (tmp_path / "nowhere").exists()
    assert list(scratch.iterdir()) == []


def test_store_writes_benchmark_compares_the_ids_an_import_creates(tmp_path: Path) -> None:
    """``bench_store_writes --lines N --baseline ...``: the settings of section 58 (request records by
    key, the file's ids made random) import the same first lines into empty ledgers, the same events
    each, compared with the chosen baseline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}
    history, scratch = tmp_path / "history.jsonl", tmp_path / "scratch"
    _staffing({**env, "STAFFING_DATA_DIR": str(tmp_path / "generated")}, "generate", "--scale", "tiny", "--seed", "2",
              "--out", str(history), "--no-load")
    baseline = "random ids, requests by key"
    text, _ = _report_and_output(tmp_path, "bench_store_writes", "--from-empty", "--file", str(history),
                                 "--scratch", str(scratch), "--rounds", "1", "--lines", "150", "--baseline", baseline,
                                 "--only", f"{baseline};requests by key;commits behind", env=env)
    assert re.search(r"^requests by key \(.*requests by key\): [\d.]+ s, [\d,]+ events/s, [\d.]+x random ids, "
                     r"requests by key$", text, re.M), text
    assert re.search(r"^commits behind \(SQLite defaults, commits behind\): .*x random ids, requests by key "
                     r"\(the store now\)", text, re.M), text


def test_the_store_writes_benchmark_makes_ids_random_consistently_and_requests_named_by_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import bench_store_writes
    from staffing.application import importer
    from staffing.domain.request import request_id

    first, second = "0190a1b2-0000-7000-8000-000000000001", "0190a1b2-0000-7000-8000-000000000002"
    lines = [(1, f'{{"id":"{first}","x":"{second}"}}'.encode()), (2, f'{{"id":"{second}"}}'.encode())]
    swapped = bench_store_writes._random_ids(lines)
    ids = [UUID(m.decode()) for _, raw in swapped for m in bench_store_writes._UUID.findall(raw)]
    assert len(ids) == 3 and ids[1] == ids[2] != ids[0] and {i.version for i in ids} == {4}
    assert str(ids[0]) not in (first, second)

    monkeypatch.setattr(importer, "_keyed", importer._keyed)  # restored after the test
    bench_store_writes._requests_by_key()
    (_, _, key, sequence), = importer._keyed([(1, b"{}")])
    assert sequence is None and request_id(key, sequence) == request_id(key)  # named as before section 58


def test_fold_benchmark_rebuilds_the_ledger_s_people_with_both_functions(tmp_path: Path) -> None:
    """``bench_fold``: people of a (tiny) imported ledger rebuilt from their events by the library's
    ``project_aggregate`` and by ``fold`` in rotating rounds, the same aggregates from both (or it fails)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}
    env["STAFFING_DATA_DIR"] = str(tmp_path / "ledger")
    history = tmp_path / "history.jsonl"
    _staffing(env, "generate", "--scale", "tiny", "--seed", "2", "--out", str(history), "--no-load")
    _staffing(env, "import", str(history), "--no-follow")
    text = _report(tmp_path, "bench_fold", "--people", "40", "--rounds", "2", env=env)
    found = re.search(r"^(\d+) people \(([\d,]+) events\) rebuilt from their events, 2 rotating rounds", text, re.M)
    assert found and 0 < int(found[1]) <= 40 and int(found[2].replace(",", "")) >= int(found[1]), text
    for name in ("project_aggregate", "fold"):
        assert re.search(rf"^{name}: [\d.]+ ms, [\d.]+ µs an event, [\d.]+x project_aggregate$", text, re.M), text
