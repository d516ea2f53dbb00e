"""A small run of the read benchmark, so the harness cannot rot between real runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_read_benchmark_runs_on_a_tiny_dataset(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_read", "--provinces", "2", "--communes", "4",
                           "--people", "3", "--out", str(out)], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert "national staffingReport: 10 rows" in text
    assert "ratio" in text
