"""The command line as an operator uses it (embedded SQLite default)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, *args: str) -> str:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}, "STAFFING_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "staffing", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_demo_loads_once_then_rebuild_reproduces_the_read_models(tmp_path: Path) -> None:
    first = _run(tmp_path, "demo", "--load-only")
    assert "demo loaded:" in first and "people" in first
    assert "not empty" in _run(tmp_path, "demo", "--load-only")
    status = _run(tmp_path, "status")
    events = int(status.split("events in the log: ")[1].split(";")[0])
    assert events > 1000 and status.strip().endswith(f"applied to read models: {events}")
    assert f"from {events} events" in _run(tmp_path, "rebuild")
    assert _run(tmp_path, "status") == status
    # the demo records its history at past moments (the known-at views depend on it): the load journal's
    # own entry must not stamp the log with today first (it did, and every moment became today)
    cutoff = int(datetime(2025, 8, 10, 2, tzinfo=UTC).timestamp() * 1_000_000)
    with sqlite3.connect(tmp_path / "ledger-views.sqlite") as views:
        (historic,) = views.execute("SELECT max(position) FROM log_clock WHERE recorded_us < ?", (cutoff,)).fetchone()
    assert historic > events // 2, "the demo's facts were recorded at today's moment, not at their own"


def test_schema_command_prints_the_committed_sdl(tmp_path: Path) -> None:
    printed = _run(tmp_path, "schema")
    assert printed == (ROOT / "staffing" / "graphql" / "schema.graphql").read_text(encoding="utf-8")


def _views(tmp_path: Path) -> dict[str, list[tuple[object, ...]]]:
    from sqlalchemy.engine import make_url

    from staffing.projections.db import make_engines
    from tests.projections.test_rebuild import contents

    engines = make_engines(make_url(f"sqlite:///{tmp_path / 'ledger-views.sqlite'}"))
    try:
        return contents(engines)
    finally:
        engines.dispose()


def test_an_import_projected_by_a_second_process_as_it_goes_equals_a_rebuild(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    _run(tmp_path, "generate", "--scale", "tiny", "--out", str(history), "--no-load")
    printed = _run(tmp_path, "import", str(history), "--follow")
    found = re.search(r"read models: (\d+) events projected by a second process, (\d+) after it", printed)
    assert found is not None, printed
    alongside, after = int(found[1]), int(found[2])
    status = _run(tmp_path, "status")
    events = int(status.split("events in the log: ")[1].split(";")[0])
    assert status.strip().endswith(f"applied to read models: {events}")
    assert alongside + after == events and alongside > 0
    followed = _views(tmp_path)
    _run(tmp_path, "rebuild")
    assert _views(tmp_path) == followed


def _process_state(pid: int) -> str | None:
    """The one-letter state of a process (Z: exited, not yet reaped), None when it is gone."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def test_an_import_killed_part_way_leaves_its_follower_to_project_what_was_committed_and_exit(tmp_path: Path) -> None:
    """The follower's lifetime is tied to the importer's by its input: when the importer dies, the
    pipe closes, the follower catches up the committed prefix of the log and exits by itself."""
    import signal
    import time

    history = tmp_path / "history.jsonl"
    _run(tmp_path, "generate", "--scale", "province", "--out", str(history), "--no-load")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}, "STAFFING_DATA_DIR": str(tmp_path)}
    importer = subprocess.Popen([sys.executable, "-m", "staffing", "import", str(history), "--follow"], cwd=ROOT,
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children = Path(f"/proc/{importer.pid}/task/{importer.pid}/children")
    deadline = time.monotonic() + 240
    follower, logged = None, 0
    while time.monotonic() < deadline and importer.poll() is None and logged < 30_000:
        time.sleep(0.2)
        follower = follower or next((int(p) for p in children.read_text().split()), None)
        if (tmp_path / "ledger.sqlite").exists():
            with sqlite3.connect(f"file:{tmp_path / 'ledger.sqlite'}?mode=ro", uri=True, timeout=30) as store:
                tables = [n for (n,) in store.execute("SELECT name FROM sqlite_master WHERE name LIKE '%events'")]
                logged = store.execute(f"SELECT count(*) FROM {tables[0]}").fetchone()[0] if tables else 0
    assert importer.poll() is None, "the import ended before it could be killed part-way"
    assert follower is not None and logged >= 30_000
    importer.send_signal(signal.SIGKILL)
    importer.wait()
    while _process_state(follower) not in (None, "Z") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _process_state(follower) in (None, "Z"), "the follower outlived its importer"
    status = _run(tmp_path, "status")
    events = int(status.split("events in the log: ")[1].split(";")[0])
    assert 30_000 <= events < 76_000 and status.strip().endswith(f"applied to read models: {events}")
