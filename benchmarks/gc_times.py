"""Run another benchmark module and report the time CPython's collector took, by generation.

Why: a sampling profiler attributes a collection to whatever line allocated next, and a whole
process timing mixes it with everything else; ``gc.callbacks`` is told when each collection
starts and stops, and which generation it collects. Used for the full collections of the import
and the rebuild (``staffing/pause.py``, benchmarks/RESULTS.md sections 22 and 23). To compare two
checkouts, run this file from each (copy it into the older one: it measures, it changes nothing):

    python -m benchmarks.gc_times benchmarks.bench_projection DATA --mode rebuild

The report goes to standard error after the module's own output, and to ``--gc-out FILE`` if given
(an argument of this wrapper, taken off before the module sees its arguments).
"""

from __future__ import annotations

import gc
import runpy
import sys
import time
from collections import Counter, defaultdict
from typing import Any


class CollectorClock:
    """Seconds and count of the collections of each generation, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds: defaultdict[int, float] = defaultdict(float)
        self.count: Counter[int] = Counter()
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds[info["generation"]] += time.perf_counter() - self._started
            self.count[info["generation"]] += 1

    def report(self, wall: float) -> str:
        parts = [f"generation {g}: {self.count[g]:,} collections, {self.seconds[g]:,.2f} s "
                 f"({self.seconds[g] / wall:.1%})" for g in sorted(self.count)]
        total = sum(self.seconds.values())
        return f"collector over {wall:,.1f} s: {total:,.2f} s ({total / wall:.1%}); " + "; ".join(parts)


def main(argv: list[str]) -> None:
    out = None
    if "--gc-out" in argv:
        at = argv.index("--gc-out")
        out = argv[at + 1]
        del argv[at:at + 2]
    module, arguments = argv[0], argv[1:]
    clock = CollectorClock()
    gc.callbacks.append(clock)
    sys.argv = [module, *arguments]
    started = time.perf_counter()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        gc.callbacks.remove(clock)
        line = clock.report(time.perf_counter() - started)
        print(line, file=sys.stderr, flush=True)
        if out is not None:
            with open(out, "w", encoding="utf-8") as f:
                f.write(line + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
