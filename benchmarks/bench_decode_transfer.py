"""Decoding stored events against receiving them decoded from another process (issue 9).

Asks whether a rebuild's reading and decoding could move to a child process on the other core: the
load would then receive each event pickled through a pipe instead of decoding it. That pays only
where unpickling an event costs the load much less than decoding it. This reads the configured
ledger's whole log once (``persistence.select_entries``, as the rebuild reads it), keeps the
entries a read model needs (the projector's handlers), and times, in alternating rounds on the
same entries: the rebuild's decoding (``LeanDecoder.event``, the acts already cached, as the
read-ahead leaves them), pickling the decoded events in frames of 5,000 (the child's side) and
unpickling them (the load's side), and reading the log itself. Per event, medians of the rounds.

Usage: STAFFING_DATA_DIR=... [STAFFING_DATABASE_URL=...] python -m benchmarks.bench_decode_transfer
       [--rounds 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import functools
import gc
import pickle
import statistics
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from benchmarks.bench_rebuild_floor import configured_ledger, print_report
from staffing.persistence import select_entries
from staffing.projections.db import make_engines
from staffing.projections.decoding import LeanDecoder
from staffing.projections.projector import Projector

FRAME = 5_000
WINDOW = 25_000


def _read_all(store: Any) -> list[Any]:
    entries: list[Any] = []
    position = 1
    while got := select_entries(store.recorder, position, WINDOW):
        entries += got
        position = got[-1].id + 1
    return entries


def _pickled(events: list[Any]) -> list[bytes]:
    return [pickle.dumps(events[i:i + FRAME], protocol=pickle.HIGHEST_PROTOCOL) for i in range(0, len(events), FRAME)]


def _unpickled(frames: list[bytes]) -> list[list[Any]]:
    return [pickle.loads(f) for f in frames]


def _timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    backend, _, store = configured_ledger()
    try:
        entries = _read_all(store)
        views = make_engines(make_url("sqlite://"))  # (the projector's handlers by topic: it writes nothing here)
        handled = Projector(store, views)._handler_for
        views.dispose()
        needed = [e for e in entries if handled(e.topic) is not None]
        store.acts.prefetch(e.state for e in needed)
        decoder = LeanDecoder(store.mapper)
        times: dict[str, list[float]] = {"read": [], "decode": [], "pickle": [], "unpickle": []}
        gc.disable()  # (as a rebuild's load runs: ``collection_paused``)
        try:
            for _ in range(args.rounds):
                seconds, _ = _timed(lambda: _read_all(store))
                times["read"].append(seconds / len(entries))
                seconds, events = _timed(lambda: [decoder.event(e) for e in needed])
                times["decode"].append(seconds / len(needed))
                seconds, frames = _timed(functools.partial(_pickled, events))
                times["pickle"].append(seconds / len(needed))
                seconds, back = _timed(functools.partial(_unpickled, frames))
                times["unpickle"].append(seconds / len(needed))
                assert sum(map(len, back)) == len(events)
                assert all(vars(a) == vars(b) for a, b in zip(events, (e for f in back for e in f), strict=True))
        finally:
            gc.enable()
        size = sum(map(len, frames)) / len(needed)
    finally:
        store.close()
    us = {name: statistics.median(values) * 1e6 for name, values in times.items()}
    lines = [f"{backend}: {len(entries):,} log entries, {len(needed):,} decoded ({args.rounds} rounds, medians)",
             f"reading the log: {us['read']:.2f} us per entry",
             f"decoding (LeanDecoder.event): {us['decode']:.2f} us per event",
             f"pickling decoded events (the child's side): {us['pickle']:.2f} us per event, {size:,.0f} bytes",
             f"unpickling them (the load's side): {us['unpickle']:.2f} us per event, "
             f"{us['unpickle'] / us['decode']:.2f}x decoding"]
    print_report(lines, args.out)


if __name__ == "__main__":
    main()
