"""The command line as an operator uses it (embedded SQLite default)."""

from __future__ import annotations

import os
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
    with sqlite3.connect(tmp_path / "ledger-views.sqlite") as views:
        recorded = [moment for (moment,) in views.execute("SELECT recorded_us FROM log_clock ORDER BY position")]
    historic = [m for m in recorded if datetime.fromtimestamp(m / 1e6, UTC) < datetime(2025, 8, 10, 2, tzinfo=UTC)]
    assert len(historic) > events // 2, "the demo's facts were recorded at today's moment, not at their own"


def test_schema_command_prints_the_committed_sdl(tmp_path: Path) -> None:
    printed = _run(tmp_path, "schema")
    assert printed == (ROOT / "staffing" / "graphql" / "schema.graphql").read_text(encoding="utf-8")
