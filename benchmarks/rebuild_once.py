"""One rebuild of the configured ledger's read models, or its decoding baseline, timed in process.

For old-against-new pairs of the rebuild on one ledger (``benchmarks/RESULTS.md`` section 29): the
ledger ``STAFFING_*`` configures (e.g. a history imported with ``python -m staffing import F
--no-follow``) is rebuilt into fresh scratch read models beside it (a SQLite file in a temporary
folder, or a scratch schema in the same PostgreSQL database), which are dropped afterwards. Run it
alternately from a worktree of the older commit (``git worktree add``; ``cd WORKTREE && PYTHONPATH=.
python -m ...``) and from this checkout: ``python -m`` puts the current directory first on
``sys.path``, so ``PYTHONPATH`` set to a worktree from this checkout still runs this checkout's code.
Each run prints one line: entries, seconds, entries/s, the process's user CPU seconds, peak
resident memory and the checkout whose code ran.

Usage: STAFFING_DATA_DIR=... [STAFFING_DATABASE_URL=... STAFFING_DB_SCHEMA=...]
       python -m benchmarks.rebuild_once [rebuild|decode] [--label TEXT] [--overlaps LIST|none]
       [--keep-series KINDS] [--unlogged yes|no] [--statistics-fraction F] [--max-states N]
       [--spill-bytes N] [--collect-every N] [--batch-size N] [--time-collections]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import staffing
import staffing.projections.rebuild as rebuild_module
from benchmarks.bench_projection import decode_all
from benchmarks.bench_rebuild_floor import configured_ledger
from benchmarks.bench_scale import _schema, scratch_views
from staffing.pause import CollectEvery
from staffing.projections.projector import BATCH_SIZE
from staffing.projections.rebuild import rebuild

#: the scratch read models' name (a schema ``bench_scale_rebuild_once`` on PostgreSQL)
SCRATCH = "rebuild_once"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", nargs="?", default="rebuild", choices=("rebuild", "decode"))
    parser.add_argument("--label", default="", help="printed with the figures (e.g. the commit)")
    parser.add_argument("--overlaps", default=None,
                        help="the rebuild's overlaps, comma-separated (read-ahead, write-behind, commit-behind) or 'none'; "
                             "default: the backend's own (rebuild.OVERLAPS); this checkout's code only")
    parser.add_argument("--keep-series", default="",
                        help="kinds of series held when the rebuild forgets (e.g. quota); this checkout's code only")
    parser.add_argument("--unlogged", choices=("yes", "no"), default=None,
                        help="the load's tables unlogged until the finish (PostgreSQL); default: the backend's own "
                             "(rebuild.UNLOGGED); this checkout's code only")
    parser.add_argument("--statistics-fraction", type=float, default=None,
                        help="rebuild.STATISTICS_FRACTION (a table analyzed again once grown by this share); "
                             "this checkout's code only")
    parser.add_argument("--max-states", type=int, default=None,
                        help="series held before the rebuild forgets (rebuild.MAX_STATES): a small figure rebuilds "
                             "a province history the way a national one runs past it (section 41)")
    parser.add_argument("--spill-bytes", type=int, default=None,
                        help="rebuild.SPILL_BYTES: the bytes of forgotten series kept packed in memory instead of read "
                             "back (0: none); this checkout's code only")
    parser.add_argument("--collect-every", type=int, default=None,
                        help="rebuild.COLLECT_EVERY: entries between the load's full collections (0: none); "
                             "this checkout's code only")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="entries per batch (projector.BATCH_SIZE by default): a tiny history in several")
    parser.add_argument("--time-collections", action="store_true",
                        help="print each full collection's seconds and unreachable objects (section 52)")
    args = parser.parse_args(argv)
    if args.collect_every is not None:
        rebuild_module.COLLECT_EVERY = args.collect_every or 1 << 62
    if args.time_collections:
        _time_collections()
    if args.statistics_fraction is not None:
        rebuild_module.STATISTICS_FRACTION = args.statistics_fraction
    options: dict[str, object] = {}  # (passed only when given: an older checkout's rebuild has no such arguments)
    if args.overlaps is not None:
        options["overlaps"] = () if args.overlaps == "none" else tuple(args.overlaps.split(","))
    if args.keep_series:
        options["keep_series"] = frozenset(args.keep_series.split(","))
    if args.unlogged is not None:
        options["unlogged"] = args.unlogged == "yes"
    if args.max_states is not None:
        options["max_states"] = args.max_states
    if args.spill_bytes is not None:
        options["spill_bytes"] = args.spill_bytes
    if args.batch_size is not None:
        options["batch_size"] = args.batch_size
    backend, pg_url, store = configured_ledger()
    try:
        entries = store.recorder.max_notification_id() or 0
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            if args.what == "decode":
                decode_all(store, BATCH_SIZE)
            else:
                target = scratch_views(backend, tmp, SCRATCH, pg_url)
                try:
                    assert rebuild(store, target, **options) == entries  # type: ignore[arg-type]
                finally:
                    target.dispose()
                    if backend == "postgres":
                        _schema(SCRATCH, create=False, pg_url=pg_url)
            seconds = time.perf_counter() - started
    finally:
        store.close()
    usage, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    helpers = (f"; child processes user {children.ru_utime:.1f} s, peak {children.ru_maxrss / 1024:,.0f} MiB"
               if children.ru_utime else "")  # (a writer process, where the rebuild ran one)
    print(f"{args.what} {args.label} ({backend}): {entries:,} entries in {seconds:.2f} s, {entries / seconds:,.0f}/s; "
          f"user {usage.ru_utime:.1f} s, peak {usage.ru_maxrss / 1024:,.0f} MiB{helpers}; code {checkout()}", flush=True)


def _time_collections() -> None:
    """Each of the load's full collections printed as it ends: its seconds and unreachable objects."""
    def observe(found: int, seconds: float) -> None:
        print(f"# full collection: {found:,} unreachable objects in {seconds:.2f} s", flush=True)

    CollectEvery.observer = observe


def checkout() -> str:
    """The directory of the ``staffing`` package this process runs (which code a pair's run measured)."""
    return str(Path(staffing.__file__).resolve().parent.parent)


if __name__ == "__main__":
    main()
