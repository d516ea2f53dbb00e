"""The command line as an operator uses it (embedded SQLite default)."""

from __future__ import annotations

import os
import subprocess
import sys
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


def test_schema_command_prints_the_committed_sdl(tmp_path: Path) -> None:
    printed = _run(tmp_path, "schema")
    assert printed == (ROOT / "staffing" / "graphql" / "schema.graphql").read_text(encoding="utf-8")
