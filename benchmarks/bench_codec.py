"""Encoding and decoding stored events: the ledger's transcoder against the library's (issue 9).

Every write encodes its events (``Mapper.to_stored_event``) and every catch-up, rebuild and
aggregate load decodes them. This reads every stored event of a ledger's log once, then times, in
alternating rounds on the same states, the library's ``JSONTranscoder`` (the standard library's
``json`` with a Python hook per registered type) and ``staffing.transcoding.OrjsonTranscoder``
(the same bytes, written and read with orjson), both with the ledger's transcodings registered.
It checks that both give the same bytes and the same values before timing anything.

Usage: python -m benchmarks.bench_codec DATA_DIR [--rounds 5] [--out FILE]
(DATA_DIR holds ledger.sqlite, e.g. ``python -m staffing generate --scale province`` with
``STAFFING_DATA_DIR=DATA_DIR``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from eventsourcing.persistence import JSONTranscoder

from benchmarks.timing import Report
from staffing.bootstrap import build
from staffing.config import Settings


def _seconds(fn: Any, items: list[Any]) -> float:
    started = time.perf_counter()
    for item in items:
        fn(item)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    ledger = build(Settings.from_env({"STAFFING_DATA_DIR": str(args.data_dir)}), inline_projection=False)
    try:  # open until the end: encoding an act asks the ledger's act store for its key
        stored = [n.state for n in ledger.store.recorder.select_notifications(start=1, limit=10**9)]
        ours = ledger.store.mapper.transcoder
        library = JSONTranscoder()
        ledger.store.register_transcodings(library)
        states = [library.decode(data) for data in stored]
        assert all(ours.encode(s) == library.encode(s) == d for s, d in zip(states, stored, strict=True))
        assert all(ours.decode(d) == s for s, d in zip(states, stored, strict=True))
        times: dict[str, list[float]] = {"encode library": [], "encode ours": [], "decode library": [],
                                         "decode ours": []}
        for _ in range(args.rounds):
            times["encode library"].append(_seconds(library.encode, states))
            times["encode ours"].append(_seconds(ours.encode, states))
            times["decode library"].append(_seconds(library.decode, stored))
            times["decode ours"].append(_seconds(ours.decode, stored))
    finally:
        ledger.close()
    median = {name: statistics.median(t) for name, t in times.items()}
    report = Report()
    report(f"{len(stored):,} stored events ({sum(map(len, stored)) / len(stored):.0f} bytes each on average), "
           f"medians of {args.rounds} alternated rounds; the same bytes and values checked first:")
    for verb in ("encode", "decode"):
        base, mine = median[f"{verb} library"], median[f"{verb} ours"]
        report(f"  {verb}: library {base / len(stored) * 1e6:.2f} µs an event, ours {mine / len(stored) * 1e6:.2f} µs "
               f"({base / mine:.2f}x)")
    report.write(args.out)


if __name__ == "__main__":
    main()
