"""Interactive commands with the read models projected by a partner process (issue 9: a measured design
alternative, not part of the ledger).

The question (RESULTS section 26): the group path is bound by one interpreter lock (section 25: its
Python is spread over deciding, saving and projecting; handing the lead over after the save, so one
group is projected while the next is decided, measured no gain, section 11). A second process has an
interpreter of its own: could it take the projection (about half of a command's CPU) on the second
core while this process decides and saves the next group, callers still answered only once their
group is projected (read your writes)?

Each round runs the same plan (``bench_commands``' recruitments and transfers into 200 communes)
from ``--callers`` threads of one process, in four ways, each on a fresh ledger:

- ``inline``: the ledger as it is: the group's leader projects it before answering (the baseline);
- ``partner``: the leader saves its group, hands the lead to the next caller at once, pokes a partner
  process (``--child``: ``Projector.catch_up`` on each poke, then the projected position back) and
  answers its group when the partner reports a position at or past the group's;
- ``relay``: the same, but the thread reading the partner's reports answers the group itself (one
  wake-up fewer on the way back);
- ``relay-pinned``: ``relay`` with this process on core 0 and the partner on core 1
  (``sched_setaffinity``), so neither waits for the other's core.

Every run ends with the read models caught up to the log's head (checked) and the communes' total
headcount as of the plan's last day, which must be equal in every mode (checked). Printed per run:
commands/s, the mean group, this process's CPU seconds, the partner's seconds inside ``catch_up``, and
how long a leader waited for the partner's answer (mean).

Usage: python -m benchmarks.bench_partner [--commands 4000] [--callers 64 192] [--rounds 2] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.bench_commands import _ledger, in_lanes, standard_plan
from benchmarks.timing import Report
from staffing.application.group import GroupCommit, Ticket
from staffing.bootstrap import build

MODES = ("inline", "partner", "relay", "relay-pinned")


def _answered(group: list[Ticket]) -> None:
    """Each member of ``group`` answered (its result or error is set): its caller returns."""
    for member in group:
        member.done = True
        member.wake.set()


class Partner:
    """The partner process and a thread reading the positions it reports."""

    def __init__(self, data_dir: str, pinned: bool) -> None:
        env = dict(os.environ, STAFFING_DATA_DIR=data_dir)
        self.process = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_partner", "--child"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=env, bufsize=0)
        pinned = pinned and {0, 1} <= os.sched_getaffinity(0)  # one core: nothing to pin to
        if pinned:
            os.sched_setaffinity(self.process.pid, {1})
            os.sched_setaffinity(0, {0})
        self.pinned = pinned
        self.projected = 0
        self.waited = 0.0
        self.waits = 0
        self._changed = threading.Condition()
        self._pending: list[tuple[int, float, list[Ticket]]] = []  # groups the reader answers (``relay``)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.projected = max(self.projected, int(line))
                self._changed.notify_all()
                answered = [p for p in self._pending if p[0] <= self.projected]
                self._pending = [p for p in self._pending if p[0] > self.projected]
            now = time.perf_counter()
            for _, started, group in answered:
                self.waited += now - started
                self.waits += 1
                _answered(group)

    def relay(self, position: int, group: list[Ticket]) -> None:
        """Poke the partner; its reader thread answers ``group`` once ``position`` is reported projected."""
        assert self.process.stdin is not None
        with self._changed:
            if self.projected < position:
                self._pending.append((position, time.perf_counter(), group))
                group = []
        self.process.stdin.write(b".")
        _answered(group)  # empty unless already projected (a later group's poke got there first)

    def reach(self, position: int) -> None:
        """Poke the partner; return once it reports ``position`` projected."""
        assert self.process.stdin is not None
        started = time.perf_counter()
        self.process.stdin.write(b".")
        with self._changed:
            while self.projected < position:
                if not self._changed.wait(timeout=30):
                    raise RuntimeError(f"the partner never reported position {position}")
        self.waited += time.perf_counter() - started
        self.waits += 1

    def close(self) -> float:
        """Stop the partner; the seconds it spent inside ``catch_up`` (its last line on stderr)."""
        assert self.process.stdin is not None and self.process.stderr is not None
        self.process.stdin.close()
        err = self.process.stderr.read().decode(errors="replace")
        self.process.wait()
        self._reader.join()
        if self.pinned:
            os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        if self.process.returncode != 0:
            raise RuntimeError(f"the partner failed:\n{err}")
        return float(err.split()[-1])


class HandingOver(GroupCommit):
    """The group commit with the lead handed over as soon as a group is saved (``GroupCommit.submit``
    otherwise). ``relay=False``: the leader waits for ``partner.reach`` and answers its group;
    ``relay=True``: the partner's reader thread answers the group itself (one wake-up fewer)."""

    def __init__(self, inner: GroupCommit, head: Any, partner: Partner, relay: bool) -> None:
        super().__init__(inner._decide, inner._publish, inner.max_group)
        self._head = head
        self._partner = partner
        self._relay = relay

    def submit(self, ticket: Ticket) -> Any:
        group = self._join(ticket)
        if group is None:
            return ticket.answer()
        ticket.wake.clear()  # it may have been set to hand the lead over; it is set again when answered
        position = 0
        try:
            if self._decided(group):
                position = self._head()  # no other group is saved before the lead passes on
        finally:
            with self._lock:
                self._leader = None
                if self._queue:
                    self._queue[0].wake.set()
                else:
                    self._leading = False
        if position and self._relay:
            self._partner.relay(position, group)
            if not ticket.wake.wait(timeout=30):
                raise RuntimeError(f"the partner never reported position {position}")
            return ticket.answer()
        try:
            if position:
                self._partner.reach(position)
        except Exception as failure:  # noqa: BLE001 - every caller's answer, as ``publish``'s failure is
            for member in group:
                member.error = failure
        _answered(group)
        return ticket.answer()


def run(plan: list[Any], callers: int, mode: str) -> dict[str, Any]:
    """The plan from ``callers`` threads on a fresh ledger, projected the ``mode`` way."""
    with tempfile.TemporaryDirectory() as tmp:
        ledger, mapping = _ledger(tmp, mode == "inline", 200)
        partner = None
        if mode != "inline":
            ledger.projector.catch_up()
            partner = Partner(tmp, pinned=mode.endswith("pinned"))
            ledger.service.group = HandingOver(ledger.service.group, ledger.store.recorder.max_notification_id,
                                               partner, relay=mode.startswith("relay"))
        groups = ledger.service.group.groups  # the communes' setup, in the inline mode
        cpu = time.process_time()
        seconds = in_lanes(ledger, mapping, plan, callers)
        cpu = time.process_time() - cpu
        result = {"rate": len(plan) / seconds, "group": len(plan) / (ledger.service.group.groups - groups), "cpu": cpu,
                  "seconds": seconds}
        if partner is not None:
            result["wait_ms"] = 1000 * partner.waited / max(partner.waits, 1)
            result["partner_s"] = partner.close()
        behind = (ledger.store.recorder.max_notification_id() or 0) - ledger.projector.position()
        if behind:
            raise AssertionError(f"{mode}: the read models are {behind} entries behind the log")
        result["headcount"] = _headcount(ledger, list(mapping.values()), len(plan))
        ledger.close()
        return result


def _headcount(ledger: Any, communes: list[str], days: int) -> int:
    """The communes' total headcount as of the plan's last day (``bench_commands._command``'s dates)."""
    as_of = date(2021, 1, 1) + timedelta(days=days // 50)
    with ledger.queries.connect() as conn:
        position = ledger.queries.knowledge_position(conn, None)
        return sum(ledger.queries.staffing(conn, c, as_of, position).total_headcount for c in communes)


def child() -> None:
    """The partner: catch the read models up on each poke, then report the projected position."""
    ledger = build(inline_projection=False)
    busy = 0.0
    try:
        while os.read(0, 65536):  # every poke waiting, at once
            started = time.perf_counter()
            ledger.projector.catch_up(check=False)
            busy += time.perf_counter() - started
            sys.stdout.write(f"{ledger.projector.position()}\n")
            sys.stdout.flush()
    finally:
        ledger.close()
        print(f"{busy:.3f}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=4000)
    parser.add_argument("--callers", type=int, nargs="+", default=[64, 192])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.child:
        child()
        return
    plan = standard_plan(args.commands)
    report = Report()
    report(f"{args.commands:,} commands (SQLite), {os.cpu_count()} cores; modes alternated in each round")
    rates: dict[tuple[int, str], list[float]] = {}
    heads: set[int] = set()
    for round_ in range(1, args.rounds + 1):
        for callers in args.callers:
            for mode in args.modes:
                r = run(plan, callers, mode)
                heads.add(r["headcount"])
                rates.setdefault((callers, mode), []).append(r["rate"])
                waited = (f"; partner {r['partner_s']:.2f} s in catch-up; a leader waited {r['wait_ms']:.1f} ms for it "
                          "(mean)") if "wait_ms" in r else ""
                report(f"  round {round_}, {callers} callers, {mode}: {r['rate']:,.0f} commands/s (mean group "
                       f"{r['group']:.1f}; this process {r['cpu']:.2f} s CPU in {r['seconds']:.2f} s{waited})")
    if len(heads) != 1:
        raise AssertionError(f"the modes disagree on the communes' headcount: {sorted(heads)}")
    report(f"every run: read models caught up, communes' headcount {heads.pop():,} in each mode")
    for callers in args.callers:
        base = rates.get((callers, "inline"))
        for mode in args.modes:
            got = rates[(callers, mode)]
            ratio = f" ({sum(got) / sum(base):.2f}x inline)" if base and mode != "inline" else ""
            report(f"{callers} callers, {mode}: " + ", ".join(f"{r:,.0f}" for r in got) + f" commands/s{ratio}")
    report.write(args.out)


if __name__ == "__main__":
    main()
