"""Where a rebuild's threads spend their samples, by stage (issue 9: the national rebuild).

Sample a running rebuild with py-spy in its raw (collapsed) format, every thread and idle frames
included, then split each thread's samples by what it was doing:

    py-spy record -d 60 -r 50 --threads --idle --nonblocking -f raw -o /tmp/r.raw --pid PID
    python -m benchmarks.rebuild_samples /tmp/r.raw [more.raw ...]
    python -m benchmarks.rebuild_samples --within rollup.py /tmp/r.raw   # its lines, hottest first

The main thread's samples go to the first stage (``MAIN_STAGES``, in order) whose frame is on
the stack, and, within a stage, to "waiting" where the innermost frame waits (on the server, a
lock, a future) and to "Python" otherwise. The other threads (the read-ahead, the write-behind,
the finishers) are split into waiting on the server and their own Python. Only ratios within one
run mean anything: a share of the samples is a share of that window's wall time.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from benchmarks.group_samples import _frames  # (a stack's function names, outermost first)

#: (stage, frames any of which puts a main-thread sample in it), first match wins
MAIN_STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("migrating and starting", ("migrate", "configured_ledger")),
    ("the finish (indexes, statistics, logged tables)", ("_finish_in_parallel",)),
    ("waiting for the write queue", ("WriteQueue.settle", "WriteQueue.wait", "WriteQueue.commit")),
    ("waiting for the read-ahead", ("ReadAhead._take",)),
    ("reading the log (no read-ahead)", ("ReadAhead._read_with_acts", "select_entries")),
    ("statistics", ("refresh_statistics",)),
    ("indexes", ("_make_indexes",)),
    ("series read back", ("SeriesBatch.preload", "SeriesBatch._load", "SeriesBatch._complete")),
    ("figure rows read back", ("FigureBatch._read_believed",)),
    ("decoding", ("Projector._decode",)),
    ("forgetting", ("SeriesBatch.forget",)),
    ("roll-up", ("Rollup.flush",)),
    ("figure rows", ("FigureBatch.flush",)),
    ("writing rows (queued)", ("insert_tuples", "insert_rows", "close_rows", "update_rows")),
    ("series flush", ("SeriesBatch.flush",)),
    ("applying facts", ("Projector._apply_decoded",)),
    ("garbage collection", ("CollectEvery.applied",)),
    ("caching the acts read ahead", ("ReadAhead._remember",)),
)
#: innermost frames that wait rather than compute (a pool's thread with nothing to do shows its
#: ``_worker`` frame: it waits inside the queue's C code)
WAITS = ("wait (", "_wait", "select (", "poll (", "Future.result", "acquire", "Condition.wait", "Event.wait",
         "_recv", "recv (", "fetch (psycopg", "execute (psycopg", "_fetch_gen", "cursor.execute", "_worker (")


def waiting(stack: str) -> bool:
    leaf = stack.rsplit(";", 1)[-1]
    return any(w in leaf for w in WAITS) or "psycopg" in leaf and "wait" in leaf


def main_stage(frames: list[str]) -> str:
    for stage, names in MAIN_STAGES:
        if any(name in frames for name in names):
            return stage
    return "other"


def thread_name(first: str) -> str:
    """``thread (123): MainThread`` -> ``MainThread``; a thread's pool number dropped."""
    name = first.split(": ", 1)[1] if ": " in first else "unnamed"
    return name.rsplit("_", 1)[0] if name[-1:].isdigit() and "_" in name else name


def samples(lines: list[str]) -> Iterator[tuple[str, str, str, int]]:
    """Each sample line of a raw file as (thread, whole stack, its frames after the thread, count)."""
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if stack and count.isdigit():
            first, _, rest = stack.partition(";")
            yield thread_name(first), stack, rest, int(count)


def tally(lines: list[str]) -> dict[str, Counter[str]]:
    by_thread: dict[str, Counter[str]] = defaultdict(Counter)
    for thread, stack, rest, count in samples(lines):
        how = "waiting" if waiting(stack) else "Python"
        stage = main_stage(_frames(rest)) if thread == "MainThread" else "all"
        by_thread[thread][f"{stage}: {how}"] += count
    return by_thread


def by_line(lines: list[str], within: str) -> Counter[str]:
    """The main thread's samples by the innermost frame of a file whose path ends with ``within``
    (its function and line: py-spy's raw frames are ``function (path:line)``), with what that line
    was calling when it was not the leaf; samples outside the file are not counted."""
    counts: Counter[str] = Counter()
    for thread, _, rest, count in samples(lines):
        if thread != "MainThread":
            continue
        frames = rest.split(";")
        inside = [i for i, frame in enumerate(frames) if frame.rstrip(")").rsplit(":", 1)[0].endswith(within)]
        if inside:
            i = inside[-1]
            callee = f" -> {frames[i + 1].split(' (')[0]}" if i + 1 < len(frames) else ""
            name, where = frames[i].split(" (")[0], frames[i].rsplit("/", 1)[-1].rstrip(")")
            counts[f"{name} ({where}){callee}"] += count
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("raw", nargs="+", type=Path, help="py-spy raw files (--threads --idle)")
    parser.add_argument("--within", help="instead: the main thread's samples by line of this file (e.g. rollup.py)")
    parser.add_argument("--top", type=int, default=40, help="with --within: the lines shown")
    args = parser.parse_args(argv)
    for path in args.raw:
        print(f"## {path}")
        if args.within:
            lines = path.read_text().splitlines()
            main_total = sum(count for thread, _, _, count in samples(lines) if thread == "MainThread")
            found = by_line(lines, args.within)
            print(f"{args.within}: {found.total()} of the main thread's {main_total} samples")
            for what, n in found.most_common(args.top):
                print(f"  {100 * n / max(main_total, 1):5.1f}%  {what}")
            continue
        for thread, counts in sorted(tally(path.read_text().splitlines()).items(), key=lambda x: -sum(x[1].values())):
            total = sum(counts.values())
            print(f"{thread}: {total} samples")
            for what, n in counts.most_common():
                print(f"  {100 * n / total:5.1f}%  {what}")


if __name__ == "__main__":
    main()
