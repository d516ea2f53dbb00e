"""Where the interactive group path's CPU samples fall, by stage (issue 9: interactive commands).

``bench_group_io`` times the two commits of a group; this splits a whole sampled run of it by
what the samples were doing, to say how much any one change could gain before it is built
(RESULTS section 25). Sample the group path alone (``--sampled``: one run, read models projected)
with py-spy in its raw (collapsed) format, then:

    py-spy record -r 500 -f raw -o /tmp/groups.txt -- python -m benchmarks.bench_group_io --commands 6000 --sampled
    python -m benchmarks.group_samples /tmp/groups.txt

Only the groups' own samples count (stacks through ``run_groups``, without the ledger's setup in
``_ledger``); the benchmark's building of its commands and tickets is counted apart. Each other
sample goes to the first stage whose frame is on its stack (projecting the
group, saving it, deciding it), and within projecting and saving by its innermost frame: a
commit, an SQLite statement, the read of the group's events back from the log, their decoding,
or Python. The rest is the group's own bookkeeping (the queue, the unit of work, aggregate reads).
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

STATEMENTS = {"_executemany", "SQLiteCursor.execute", "SQLiteCursor.executemany", "SQLiteCursor.fetchall"}


def _frames(stack: str) -> list[str]:
    return [frame.split(" (")[0] for frame in stack.split(";")]


def stage(frames: list[str]) -> str:
    """The stage one sample (its frames, outermost first) is counted in."""
    leaf = frames[-1]
    below = frames[frames.index("run_groups") + 1:][:2]  # the benchmark's own frames, if any
    if "_command" in frames or "Ticket.__init__" in frames or "__create_fn__.<locals>.__init__" in below:
        return "the benchmark building its commands and tickets"
    if "Projector._run_batch" in frames:
        if "SQLiteApplicationRecorder.select_notifications" in frames:
            return "project: read the group's events back from the log"
        if "Mapper.to_domain_event" in frames:
            return "project: decode them"
        if "DefaultDialect.do_commit" in frames:
            return "project: the read models' commit"
        if leaf in STATEMENTS:
            return "project: SQLite statements"
        return "project: Python (handlers, folds, figures, roll-up)"
    if "EventStore.save_events" in frames:
        if leaf == "SQLiteConnection.commit":
            return "save: the event store's commit"
        if leaf in STATEMENTS:
            return "save: SQLite statements"
        return "save: Python (encode, chain, map)"
    if "StaffingService._decide" in frames:
        return "decide: the domain's rules"
    return "the group's bookkeeping (queue, unit of work, aggregate reads)"


def split(lines: Iterable[str]) -> tuple[int, Counter[str]]:
    """Samples of the groups in a py-spy raw file, and how many fall in each stage."""
    total, stages = 0, Counter[str]()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        frames = _frames(stack)
        if not stack or "run_groups" not in frames or "_ledger" in frames:
            continue
        total += int(count)
        stages[stage(frames)] += int(count)
    return total, stages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("raw", type=Path, help="py-spy record -f raw output of bench_group_io")
    args = parser.parse_args(argv)
    total, stages = split(args.raw.read_text(encoding="utf-8").splitlines())
    if not total:
        raise SystemExit(f"{args.raw}: no sample of run_groups (was it bench_group_io, sampled with -f raw?)")
    print(f"{total:,} samples of the groups")
    print("| stage | share of the samples |\n|---|---|")
    for name, count in sorted(stages.items(), key=lambda item: -item[1]):
        print(f"| {name} | {count / total:.1%} |")


if __name__ == "__main__":
    main()
