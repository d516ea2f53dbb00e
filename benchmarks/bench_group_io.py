"""Where an interactive group's time goes: its two commits and the pages they write (issue 9).

The interactive target (>= 2,500 commands/s from one process) is met or missed by the group commit
(``staffing.application.group``): a group of commands is decided and saved in one transaction of
the event store, then projected in one transaction of the read models. This benchmark runs that
path in one thread, groups of ``--group`` commands (the mean group of ``bench_commands`` with 32
callers is ~14), the same recruitments and transfers as ``bench_commands``, and reports:

- the rate, against the same groups with the read models not touched (the write side alone);
- each commit's median time and the share of the run spent in the two commits (both release the
  interpreter lock: nothing else of the group runs meanwhile);
- how many pages each commit appends to its write-ahead log, read from the log's index (the
  ``-shm`` file: ``mxFrame`` before and after the commit, and the page number of each new frame),
  and which tables and indexes those pages belong to (SQLite's ``dbstat``).

Every page a commit appends costs two writes (frame header, page) and is copied into the database
file later by the checkpointer thread: a recruitment's rows land in indexes keyed by random ids (a
person's, an event's), so each of them dirties its own leaf page.

``--sampled`` runs the group path once and nothing else, for a sampling profiler
(``benchmarks.group_samples`` splits its samples by stage).

Usage: python -m benchmarks.bench_group_io [--commands 4000] [--group 14] [--sampled] [--out FILE]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from eventsourcing import sqlite as es_sqlite
from sqlalchemy.engine import default

from benchmarks.bench_commands import _command, _ledger, standard_plan
from benchmarks.timing import Report
from staffing.application.group import Ticket
from staffing.application.service import Item

#: the write-ahead log index (``-shm``): header fields and where frame page numbers are kept
#: (https://sqlite.org/walformat.html: 32 KiB blocks; the first holds the 136-byte header and
#: 4,062 page numbers, every later one 4,096)
_MX_FRAME = 16
_SALT = 32  # changes when the log restarts from its first frame
_HEADER = 136
_FIRST = 4062
_BLOCK = 32768
_PER_BLOCK = 4096


class WalIndex:
    """A live SQLite database's write-ahead log index, read as it stands: how many frames the log
    holds, its generation, and the page number of any frame (native byte order: shared memory)."""

    def __init__(self, database: str) -> None:
        self.path = database + "-shm"

    def read(self, size: int | None = None) -> bytes:
        with open(self.path, "rb") as shm:
            return shm.read(size) if size is not None else shm.read()

    @staticmethod
    def field(index: bytes, offset: int) -> int:
        return int.from_bytes(index[offset:offset + 4], sys.byteorder)

    @classmethod
    def page(cls, index: bytes, frame: int) -> int:
        """Page number of ``frame`` (1-based)."""
        if frame <= _FIRST:
            return cls.field(index, _HEADER + (frame - 1) * 4)
        block, slot = divmod(frame - _FIRST - 1, _PER_BLOCK)
        return cls.field(index, (block + 1) * _BLOCK + slot * 4)


class Commits:
    """Time and pages of every commit to one database file: ``around(commit)`` wraps the call."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.index = WalIndex(database)
        self.seconds: list[float] = []
        self.pages: list[list[int]] = []

    def around(self, commit: Callable[[], Any]) -> Any:
        header = self.index.read(_HEADER)
        started = time.perf_counter()
        result = commit()
        self.seconds.append(time.perf_counter() - started)
        index = self.index.read()
        after = WalIndex.field(index, _MX_FRAME)
        restarted = WalIndex.field(index, _SALT) != WalIndex.field(header, _SALT)  # written from frame 1
        first = 1 if restarted else WalIndex.field(header, _MX_FRAME) + 1
        self.pages.append([WalIndex.page(index, frame) for frame in range(first, after + 1)])
        return result

    def owners(self) -> Counter[str]:
        """Pages written, by the table or index they belong to now."""
        with sqlite3.connect(self.database) as db:
            owner = dict(db.execute("SELECT pageno, name FROM dbstat").fetchall())
        return Counter(owner.get(page, "(free or overflow)") for pages in self.pages for page in pages)


@contextmanager
def watched(views: Commits, events: Commits) -> Iterator[None]:
    """Every commit of the read models (SQLAlchemy's dialect) and of the event store (the library's
    SQLite connection) timed and its pages counted, for the block's duration."""
    views_commit, events_commit = default.DefaultDialect.do_commit, es_sqlite.SQLiteConnection.commit

    def do_commit(dialect: Any, connection: Any) -> None:
        views.around(lambda: views_commit(dialect, connection))

    def commit(connection: Any) -> None:
        events.around(lambda: events_commit(connection))

    setattr(default.DefaultDialect, "do_commit", do_commit)  # noqa: B010 - measuring, restored below
    setattr(es_sqlite.SQLiteConnection, "commit", commit)  # noqa: B010
    try:
        yield
    finally:
        setattr(default.DefaultDialect, "do_commit", views_commit)  # noqa: B010
        setattr(es_sqlite.SQLiteConnection, "commit", events_commit)  # noqa: B010


def run_groups(tmp: str, plan: list[Any], group: int, inline: bool,
               watch: bool = False) -> tuple[float, Commits | None, Commits | None]:
    """``plan`` as groups of ``group`` commands through the service's group stages, in one thread:
    commands/s, and the two files' commits when ``watch``."""
    ledger, mapping = _ledger(tmp, inline, 200)
    commands = [_command(day, kind, pid, mapping[target]) for day, (kind, pid, target) in enumerate(plan, start=1)]
    service = ledger.service
    views = Commits(str(ledger.engines.write.url.database)) if watch else None
    events = Commits(str(Path(tmp) / "ledger.sqlite")) if watch else None
    try:
        with watched(views, events) if views is not None and events is not None else nullcontext():
            started = time.perf_counter()
            for first in range(0, len(commands), group):
                tickets = [Ticket(Item(command), None) for command in commands[first:first + group]]
                if service._decide_group(tickets):
                    service._publish()
                for ticket in tickets:
                    ticket.answer()  # a refusal would be raised here: the plan has none
            seconds = time.perf_counter() - started
    finally:
        ledger.close()
    return len(commands) / seconds, views, events


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=4000)
    parser.add_argument("--group", type=int, default=14)
    parser.add_argument("--sampled", action="store_true", help="the group path once, nothing else")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    plan = standard_plan(args.commands)
    report = Report()
    if args.sampled:
        with tempfile.TemporaryDirectory() as tmp:
            rate = run_groups(tmp, plan, args.group, inline=True)[0]
        report(f"{args.commands:,} commands (SQLite) in groups of {args.group}, decided, saved and projected once: "
               f"{rate:,.0f} commands/s")
        report.write(args.out)
        return
    rates: dict[str, list[float]] = {"inline": [], "alone": []}
    for _ in range(3):  # alternated, so a machine that slows down slows both
        for name in rates:
            with tempfile.TemporaryDirectory() as tmp:
                rates[name].append(run_groups(tmp, plan, args.group, inline=name == "inline")[0])
    with tempfile.TemporaryDirectory() as tmp:
        watched_rate, views, events = run_groups(tmp, plan, args.group, inline=True, watch=True)
        assert views is not None and events is not None
        owners = views.owners()
        event_owners = events.owners()
    inline, alone = statistics.median(rates["inline"]), statistics.median(rates["alone"])
    groups = len(views.seconds)
    elapsed = args.commands / watched_rate
    report(f"{args.commands:,} commands (SQLite) in groups of {args.group}, one thread, medians of 3 alternated runs:")
    report(f"  decided, saved and projected: {inline:,.0f} commands/s; write side alone: {alone:,.0f} commands/s "
           f"(projecting is {1 - inline / alone:.0%} of a command)")
    report(f"  watched run: {watched_rate:,.0f} commands/s, {groups} groups")
    for name, commits in (("event store", events), ("read models", views)):
        pages = [len(p) for p in commits.pages]
        report(f"  {name} commits: median {statistics.median(commits.seconds) * 1e3:.2f} ms, "
               f"{sum(commits.seconds) / elapsed:.0%} of the run; pages appended to its log per commit: median "
               f"{statistics.median(pages):.0f}, mean {statistics.mean(pages):.1f} "
               f"({sum(pages) / args.commands:.1f} per command)")
    report("  read-model pages written, by table or index (per command):")
    for name, count in owners.most_common(12):
        report(f"    {name}: {count / args.commands:.2f}")
    report("  event-store pages written, by table or index (per command):")
    for name, count in event_owners.most_common(6):
        report(f"    {name}: {count / args.commands:.2f}")
    report.write(args.out)


if __name__ == "__main__":
    main()
