"""The figures and the roll-up of a national-like flow, in process, without a database.

Why (issue 9, RESULTS section 43): sampled on the national rebuild, ``FigureBatch.flush`` and
``Rollup.flush`` were ~40% of the process's time, and the process is the rebuild's critical path.
This drives the two with a synthetic flow shaped like the national one — many units under ~100
roots, each batch of contributions spread over the country, one transaction per contribution (each
makes a row version), a unit's figure rows forgotten every ten batches — with the writes replaced by
no-ops, and with the cyclic collector paused as a rebuild's load runs (``collection_paused``), so
the figures are the Python per row and nothing else. Run it alternately from a worktree
of an older commit (``cd WORKTREE && PYTHONPATH=. python -m benchmarks.bench_flush``; ``python -m``
puts the current directory first on ``sys.path``) and from this checkout: one line per run.

With ``--late F``, a share F of the contributions is dated up to a year back (records that come
late, a quota act counting from 1 January): each then changes every later checkpoint of its root,
which the roll-up's marks walk (``_Marks._mark``: ~6% of the national rebuild's reform in py-spy's
samples, RESULTS section 48).

Usage: python -m benchmarks.bench_flush [--batches N] [--units N] [--roots N] [--per-batch N] [--seed N]
       [--late F] [--label TEXT]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import staffing
import staffing.projections.figures as figures_module
import staffing.projections.rollup as rollup_module
from staffing.pause import collection_paused
from staffing.projections.series import _Row
from staffing.projections.tables import END_OF_TIME

_WRITES = ("insert_tuples", "close_rows", "insert_rows")


def _no_write(*_: Any, **__: Any) -> None:
    """A bulk write that writes nothing (the benchmark measures the Python that makes the rows)."""


def run(batches: int, units: int, roots: int, per_batch: int, seed: int, late: float = 0.0) -> tuple[float, float]:
    """Seconds in ``FigureBatch.flush`` and in ``Rollup.flush`` over ``batches`` batches."""
    for module in (figures_module, rollup_module):
        for name in _WRITES:
            if hasattr(module, name):
                setattr(module, name, _no_write)
    rnd = random.Random(seed)
    conn: Any = None  # fresh: nothing is read back
    figures = figures_module.FigureBatch(conn, fresh=True)
    rollup = rollup_module.Rollup(conn, fresh=True)
    ids = [f"u{i:06d}" for i in range(units)]
    unit_rows: dict[str, list[_Row]] = {}
    created = []
    for i, unit in enumerate(ids):  # the first ``roots`` units are the top level; each other has one as parent
        row = _Row(i, date(2015, 1, 1), END_OF_TIME, (None,) * 5 + (None if i < roots else ids[i % roots], "ACTIVE"), 1)
        unit_rows[unit] = [row]
        created.append((unit, row))
    rollup.flush(created, [], lambda u: unit_rows.get(u, []), [], [], figures.open_rows)
    position, day = 2, date(2015, 1, 1)
    in_figures = in_rollup = 0.0
    for batch in range(batches):
        for k in range(per_batch):
            unit = ids[rnd.randrange(roots, units)]
            position += 1
            draw = rnd.random()
            on = day
            if late and rnd.random() < late:  # recorded late: dated up to a year back
                on = max(date(2015, 1, 1), day - timedelta(days=rnd.randrange(1, 366)))
            if draw < 0.55:  # a recruitment: one more head from its day
                figures.contribute(unit, rnd.randrange(5), 1, on, END_OF_TIME, position)
            elif draw < 0.8:  # a departure: one fewer
                figures.contribute(unit, rnd.randrange(5), -1, on, END_OF_TIME, position)
            else:  # a quota act
                figures.contribute(unit, 5 + rnd.randrange(10), rnd.randrange(1, 30), on, END_OF_TIME, position)
            if k % 200 == 0:
                day += timedelta(days=1)
        started = time.perf_counter()
        made, closed = figures.flush()
        between = time.perf_counter()
        rollup.flush([], [], lambda u: unit_rows.get(u, []), made, closed, figures.open_rows)
        ended = time.perf_counter()
        in_figures += between - started
        in_rollup += ended - between
        if batch % 10 == 9 and not late:  # (a late one reaches rows forgotten, read back from a database)
            figures.forget()
    return in_figures, in_rollup


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--units", type=int, default=60_000)
    parser.add_argument("--roots", type=int, default=100)
    parser.add_argument("--per-batch", type=int, default=25_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--late", type=float, default=0.0, help="share of contributions dated up to a year back")
    parser.add_argument("--label", default="")
    args = parser.parse_args(argv)
    with collection_paused():
        in_figures, in_rollup = run(args.batches, args.units, args.roots, args.per_batch, args.seed, args.late)
    contributions = args.batches * args.per_batch
    print(f"flush {args.label}: {contributions:,} contributions; figures {in_figures:.2f} s, roll-up "
          f"{in_rollup:.2f} s, both {in_figures + in_rollup:.2f} s; code {Path(staffing.__file__).parents[1]}",
          flush=True)


if __name__ == "__main__":
    main()
