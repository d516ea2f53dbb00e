"""A rebuild's acts read by key against read forwards in stored order (issue 9, ``acts.ActStream``).

A SQLite rebuild decodes the log in order and, per batch, reads the acts its entries cite that the
cache lacks. Looked up by key (``chain.load_acts``, one ``IN`` read per 500 sorted keys, as
``ActStore.prefetch`` did) each act costs a descent of the key's index and one of the table; read
as the next rows of the acts table (``chain.act_stream``), a window of acts is one forward range.
This takes the configured SQLite ledger's first ``--acts`` acts in stored order, cut in windows of
``--window`` (a national batch lacks a few thousand), and reads every window both ways in
alternating rounds (the same rows either way, checked), then reports the medians per act and their
ratio. The keys themselves are read once beforehand, untimed: a rebuild finds them in the events.

Usage: STAFFING_DATA_DIR=... python -m benchmarks.bench_act_reads [--acts N] [--window N]
       [--rounds 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_rebuild_floor import configured_ledger, print_report
from staffing.acts import ACTS_TABLE
from staffing.chain import act_stream, load_acts, sqlite_rows


def _by_key(recorder: Any, windows: list[list[str]]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for keys in windows:
        rows += load_acts(recorder, sorted(keys))
    return rows


def _forwards(recorder: Any, windows: list[list[str]], after: int) -> list[tuple[str, str, str, str]]:
    stream = act_stream(recorder)
    assert stream is not None
    stream.after = after
    rows: list[tuple[str, str, str, str]] = []
    for keys in windows:
        rows += stream.next_rows(len(keys))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--acts", type=int, default=1_000_000, help="how many acts, the first in stored order")
    parser.add_argument("--window", type=int, default=3_000, help="acts per batch")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    backend, _, store = configured_ledger()
    if backend != "sqlite":
        raise SystemExit("the acts are read forwards on SQLite only (a PostgreSQL table keeps no stored order)")
    try:
        recorder = store.recorder
        found = list(sqlite_rows(recorder, f"SELECT rowid, key FROM {ACTS_TABLE} ORDER BY rowid LIMIT ?", (args.acts,)))
        if not found:
            raise SystemExit("the ledger holds no acts")
        after = int(found[0][0]) - 1
        keys = [str(key) for _, key in found]
        windows = [keys[i:i + args.window] for i in range(0, len(keys), args.window)]
        times: dict[str, list[float]] = {"by key": [], "forwards": []}
        ways = {"by key": lambda: _by_key(recorder, windows), "forwards": lambda: _forwards(recorder, windows, after)}
        for round_ in range(args.rounds):
            results = {}
            for name in (list(ways) if round_ % 2 == 0 else list(ways)[::-1]):
                started = time.perf_counter()
                results[name] = ways[name]()
                times[name].append((time.perf_counter() - started) / len(keys))
            assert sorted(results["by key"]) == sorted(results["forwards"]), "the two ways read different rows"
    finally:
        store.close()
    us = {name: statistics.median(values) * 1e6 for name, values in times.items()}
    print_report([
        f"{backend}: the first {len(keys):,} acts in stored order, windows of {args.window:,}, "
        f"{args.rounds} alternating rounds (medians)",
        f"by key (load_acts, IN lists of 500 sorted keys): {us['by key']:.2f} us per act",
        f"forwards (ActStream, the next rows by row id): {us['forwards']:.2f} us per act",
        f"forwards against by key: {us['by key'] / us['forwards']:.2f}x faster"], args.out)


if __name__ == "__main__":
    main()
