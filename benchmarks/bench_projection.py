"""Catch-up or rebuild of an existing ledger's whole log into fresh read models, timed in process.

For comparing two versions of the projector on the same log (issue 9): the event store of
``DATA_DIR`` is copied to a temporary directory (the original is never touched), then either the
projector's own ``catch_up`` (``--mode catch-up``) or ``rebuild`` into an empty file
(``--mode rebuild``) projects it, and the rate is printed. ``--mode decode`` is the issue's baseline
for both: every stored event read and decoded into its domain event object, nothing projected. Run it alternately from two
checkouts, e.g. a git worktree of the older commit, to compare them in one sitting:

    python -m staffing generate --scale province --seed 1 --out /tmp/h.jsonl --no-load
    STAFFING_DATA_DIR=/tmp/prov python -m staffing import /tmp/h.jsonl
    cd OLD_CHECKOUT && PYTHONPATH=. python -m benchmarks.bench_projection /tmp/prov --mode catch-up
    cd THIS_CHECKOUT && PYTHONPATH=. python -m benchmarks.bench_projection /tmp/prov --mode catch-up

(each from its own directory: ``python -m`` puts the current directory ahead of ``PYTHONPATH``, so
``PYTHONPATH=OLD_CHECKOUT`` from this checkout would run this checkout's code; RESULTS.md section 34)

``--stop N`` projects (or decodes) only the first N log entries: a slice of a national log, for
two versions side by side in less than a whole run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from staffing.bootstrap import build
from staffing.config import Settings
from staffing.pause import collection_paused
from staffing.projections.db import make_engines
from staffing.projections.rebuild import rebuild


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data_dir", type=Path, help="a SQLite data directory holding ledger.sqlite")
    parser.add_argument("--mode", choices=("catch-up", "rebuild", "decode"), default="catch-up",
                        help="decode: the issue's baseline, every stored event read and decoded into a domain "
                             "event object by the library's mapper, in batches, nothing projected")
    parser.add_argument("--batch", type=int, default=None, help="batch size (default: the projector's own)")
    parser.add_argument("--stop", type=int, default=None, help="only the first STOP log entries")
    parser.add_argument("--max-states", type=int, default=None, metavar="N",
                        help="rebuild only: forget what is held past N series (default: the rebuild's own), so a "
                             "province log reads its state back as a national one does")
    parser.add_argument("--progress", type=int, default=None, metavar="N",
                        help="print the elapsed time each time another N log entries have been read")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(args.data_dir / "ledger.sqlite", Path(tmp) / "ledger.sqlite")
        ledger = build(Settings.from_env({"STAFFING_DATA_DIR": tmp}), inline_projection=False)
        try:
            logged = ledger.store.recorder.max_notification_id() or 0
            if args.stop is not None:
                logged = min(logged, args.stop)
                _stop_at(ledger, logged)
            if args.progress:
                _report_progress(ledger, args.progress)
            if args.mode == "catch-up":
                if args.batch:
                    ledger.projector.batch_size = args.batch
                t0 = time.perf_counter()
                ledger.projector.catch_up()
            elif args.mode == "decode":
                t0 = time.perf_counter()
                decode_all(ledger.store, args.batch or ledger.projector.batch_size)
            else:
                target = make_engines(make_url(f"sqlite:///{tmp}/rebuilt.sqlite"))
                t0 = time.perf_counter()
                options = {"batch_size": args.batch, "max_states": args.max_states}
                rebuild(ledger.store, target, **{k: v for k, v in options.items() if v})
                target.dispose()
            seconds = time.perf_counter() - t0
        finally:
            ledger.close()
    print(f"{args.mode}: {logged:,} log entries in {seconds:.2f} s -> {logged / seconds:,.0f}/s")


def _stop_at(ledger: Any, last: int) -> None:
    """Make the store's log end at ``last`` for everything this run reads (catch-up, rebuild, decode)."""
    recorder = ledger.store.recorder
    select = recorder.select_notifications

    def capped(start: int, limit: int, *args: Any, **kwargs: Any) -> Any:
        return select(start, min(limit, last - start + 1), *args, **kwargs) if start <= last else []

    recorder.select_notifications = capped
    recorder.max_notification_id = lambda: last


def _report_progress(ledger: Any, every: int) -> None:
    """Print to stderr how long the run took to reach each multiple of ``every`` log entries read: where
    along a national log a rebuild or catch-up slows down (the rate of the whole run hides it)."""
    recorder = ledger.store.recorder
    select = recorder.select_notifications
    started, next_mark = time.perf_counter(), every

    def timed(start: int, limit: int, *args: Any, **kwargs: Any) -> Any:
        nonlocal next_mark
        while start > next_mark:
            print(f"  {next_mark:,} entries at {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
            next_mark += every
        return select(start, limit, *args, **kwargs)

    recorder.select_notifications = timed


def decode_all(store: Any, batch: int) -> int:
    """Read every stored event and decode it into its domain event object (the rebuild's floor); the
    acts they cite are read together per batch, and the collector is paused per batch, as the
    projector does (a process holding an import's aggregates otherwise decodes at half the rate)."""
    mapper, position, decoded = store.mapper, 0, 0
    while True:
        with collection_paused():
            notifications = store.recorder.select_notifications(start=position + 1, limit=batch)
            if not notifications:
                return decoded
            store.acts.prefetch(n.state for n in notifications)
            decoded += len([mapper.to_domain_event(n) for n in notifications])
        position = notifications[-1].id


if __name__ == "__main__":
    main()
