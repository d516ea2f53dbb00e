"""What every benchmark here shares: a median of repeated runs, and the lines of its report."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["Report", "timed"]


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Median seconds of ``repeat`` runs of ``fn``, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


class Report:
    """Lines printed as they come and written to ``--out`` at the end."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        print(line, flush=True)
        self.lines.append(line)

    def write(self, out: Path | None) -> None:
        if out is not None:
            out.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
