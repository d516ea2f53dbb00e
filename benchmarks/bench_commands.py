"""Interactive commands (issue 9 target: >= 2,500 commands/s from one process, SQLite).

One run, the same recruitments and transfers into 200 communes recorded in several ways:
- in process, one caller: each command its own transaction, read models caught up after each
  (what a GraphQL mutation does: read-your-writes) — the baseline;
- in process, one caller, read models not touched (the write side alone);
- in process, ``--callers`` threads at once (each person's commands in one thread, in order), and
  again with ``--more-callers`` threads (64: the largest group the group commit takes),
  read models caught up before each ``execute`` returns: the group commit (``application/group``)
  decides and saves the commands that arrive together in one transaction and projects them once;
- the same group path with the read models not touched (the write side of the groups alone);
- over HTTP against ``python -m staffing serve``, recruitments as GraphQL mutations: one worker
  with one client, then with ``--callers`` clients at once, then two workers (the README's
  recommended setup on two cores; each process has its own group commit, and they share the
  SQLite writer lock) with ``--callers`` clients at once. The clients run in this process, on the
  same two cores.
Only the ratios travel between machines.

Usage: python -m benchmarks.bench_commands [--commands 2000] [--callers 32] [--more-callers 64] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.serving import served
from staffing.application import EstablishUnit, RecruitPerson, TransferPerson
from staffing.bootstrap import build
from staffing.config import Settings
from staffing.domain.values import LegalAct

ACT = LegalAct("01/2024/QĐ-UBND", "UBND tỉnh Tuyên Quang", date(2024, 1, 2))
RECRUIT = """mutation($i: RecruitPersonInput!) { recruitPerson(input: $i) { person { id } errors { code message } } }"""


def _communes(ledger: Any, n: int) -> list[str]:
    province = ledger.service.execute(EstablishUnit(code="T08", name="Tỉnh Tuyên Quang", kind="PROVINCE",
                                                    parent_id=None, effective_on=date(2020, 1, 1), act=ACT)).unit_id
    return [str(ledger.service.execute(EstablishUnit(code=f"T08-{i:03d}", name=f"Xã Số {i}", kind="COMMUNE",
                                                     parent_id=province, effective_on=date(2020, 1, 1),
                                                     act=ACT)).unit_id) for i in range(n)]


def _commands(rng: random.Random, communes: list[str], n: int) -> list[Any]:
    """Recruitments, then transfers of the recruited: ids chosen here so both runs record the same."""
    out: list[Any] = []
    people: list[str] = []
    where: dict[str, str] = {}
    for i in range(n):
        if people and i % 4 == 3:
            pid = rng.choice(people)
            target = rng.choice([c for c in communes if c != where[pid]])
            where[pid] = target
            out.append(("transfer", pid, target))
        else:
            pid = f"{rng.getrandbits(128):032x}"
            pid = f"{pid[:8]}-{pid[8:12]}-4{pid[13:16]}-8{pid[17:20]}-{pid[20:32]}"
            people.append(pid)
            where[pid] = rng.choice(communes)
            out.append(("recruit", pid, where[pid]))
    return out


def standard_plan(commands: int) -> list[Any]:
    """The benchmark's plan: ``commands`` recruitments and transfers into 200 communes, seed 3."""
    return _commands(random.Random(3), [f"c{i}" for i in range(200)], commands)


def _ledger(tmp: str, inline: bool, communes_n: int) -> tuple[Any, dict[str, str]]:
    """A fresh ledger in ``tmp`` with ``communes_n`` communes, and the plan's names (c0, c1 ...) for their ids."""
    ledger = build(Settings.from_env({"STAFFING_DATA_DIR": tmp}), inline_projection=inline)
    communes = _communes(ledger, communes_n)
    return ledger, dict(zip([f"c{i}" for i in range(communes_n)], communes, strict=True))


def _command(day: int, kind: str, pid: str, target: str) -> Any:
    """The plan's ``day``-th step as a command (``target``: a commune's id)."""
    on = date(2021, 1, 1) + timedelta(days=day // 50)
    if kind == "recruit":
        return RecruitPerson(id=pid, full_name="Nguyễn Văn An", birth_date=date(1990, 1, 1), gender="MALE",
                             category="CADRE", unit_id=target, effective_on=on, act=ACT)
    return TransferPerson(person_id=pid, to_unit_id=target, effective_on=on, act=ACT)


def _in_threads(tasks: list[Any]) -> float:
    """Run each task in its own thread, all at once; the seconds until the last ends (a failure re-raised)."""
    failures: list[BaseException] = []

    def guarded(task: Any) -> None:
        try:
            task()
        except BaseException as error:  # noqa: BLE001 - re-raised below
            failures.append(error)

    threads = [threading.Thread(target=guarded, args=(task,)) for task in tasks]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - t0
    if failures:
        raise failures[0]
    return seconds


def _run_in_process(tmp: str, inline: bool, plan: list[Any], communes_n: int) -> float:
    ledger, mapping = _ledger(tmp, inline, communes_n)
    t0 = time.perf_counter()
    for day, (kind, pid, target) in enumerate(plan, start=1):
        ledger.service.execute(_command(day, kind, pid, mapping[target]))
    seconds = time.perf_counter() - t0
    ledger.close()
    return len(plan) / seconds


def _run_concurrent(tmp: str, plan: list[Any], communes_n: int, callers: int,
                    inline: bool = True) -> tuple[float, float]:
    """The same commands from ``callers`` threads of one process (each person's commands in one
    thread, in order), read models caught up before each returns unless ``inline`` is false: the
    group commit's case. Returns (commands/s, mean group size)."""
    ledger, mapping = _ledger(tmp, inline, communes_n)
    groups_before = ledger.service.group.groups
    try:
        seconds = in_lanes(ledger, mapping, plan, callers)
        groups = ledger.service.group.groups - groups_before
    finally:
        ledger.close()
    return len(plan) / seconds, len(plan) / groups


def in_lanes(ledger: Any, mapping: dict[str, str], plan: list[Any], callers: int) -> float:
    """Execute ``plan`` on ``ledger`` from ``callers`` threads at once, each person's commands in one
    thread and in order; the seconds until the last thread ends."""
    lanes: list[list[tuple[int, Any]]] = [[] for _ in range(callers)]
    for day, step in enumerate(plan, start=1):
        lanes[int(step[1][:8], 16) % callers].append((day, step))

    def lane(steps: list[tuple[int, Any]]) -> None:
        for day, (kind, pid, target) in steps:
            ledger.service.execute(_command(day, kind, pid, mapping[target]))

    return _in_threads([lambda steps=steps: lane(steps) for steps in lanes])


def _run_http(tmp: str, n: int, clients: int = 1, workers: int = 1) -> float:
    """``n`` recruitments as GraphQL mutations from ``clients`` client threads at once, against
    ``workers`` uvicorn worker processes."""
    ledger, mapping = _ledger(tmp, True, 50)
    communes = list(mapping.values())
    ledger.close()
    with served({**os.environ, "STAFFING_DATA_DIR": tmp}, workers) as (client, _):
        def post(indexes: range) -> None:
            for i in indexes:
                body = client.post("/graphql", json={"query": RECRUIT, "variables": {"i": {
                    "fullName": "Trần Thị Bình", "birthDate": "1991-02-03", "gender": "FEMALE",
                    "category": "CADRE", "unitId": communes[i % len(communes)], "effectiveOn": "2021-03-01",
                    "act": {"number": ACT.number, "issuer": ACT.issuer, "signedOn": ACT.signed_on.isoformat()}}}})
                assert body.json()["data"]["recruitPerson"]["errors"] == [], body.text

        seconds = _in_threads([lambda k=k: post(range(k, n, clients)) for k in range(clients)])
    return n / seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--callers", type=int, default=32)
    parser.add_argument("--more-callers", type=int, default=64, metavar="N",
                        help="the group commit again with N callers (0: not); RESULTS section 26: past ~64 callers "
                             "the groups grow but the rate does not")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    plan = standard_plan(args.commands)
    lines = []
    runs: dict[str, Any] = {}
    for name, run in (("inline", lambda d: _run_in_process(d, True, plan, 200)),
                      ("alone", lambda d: _run_in_process(d, False, plan, 200)),
                      ("group", lambda d: _run_concurrent(d, plan, 200, args.callers)),
                      ("group_alone", lambda d: _run_concurrent(d, plan, 200, args.callers, inline=False)),
                      ("group_more", lambda d: _run_concurrent(d, plan, 200, args.more_callers)
                       if args.more_callers else None),
                      ("http", lambda d: _run_http(d, max(200, args.commands // 4))),
                      ("http_many", lambda d: _run_http(d, max(400, args.commands // 2), args.callers)),
                      ("http_two", lambda d: _run_http(d, max(400, args.commands // 2), args.callers, workers=2))):
        with tempfile.TemporaryDirectory() as tmp:
            runs[name] = run(tmp)
    inline, alone, http, http_many, http_two = (runs["inline"], runs["alone"], runs["http"], runs["http_many"],
                                                runs["http_two"])
    (group, size), (group_alone, size_alone) = runs["group"], runs["group_alone"]
    lines.append(f"{args.commands:,} commands (SQLite):")
    lines.append(f"  in process, one caller, read models caught up after each: {inline:,.0f} commands/s (baseline)")
    lines.append(f"  in process, one caller, write side alone: {alone:,.0f} commands/s -> projection share "
                 f"{1 - inline / alone:.0%} of a command")
    lines.append(f"  in process, {args.callers} callers at once (group commit), read models caught up before each "
                 f"returns: {group:,.0f} commands/s ({group / inline:.2f}x the baseline; mean group {size:.1f}; "
                 f"target: >= 2,500)")
    if runs["group_more"] is not None:
        more, more_size = runs["group_more"]
        lines.append(f"  in process, {args.more_callers} callers at once (group commit), read models caught up before "
                     f"each returns: {more:,.0f} commands/s ({more / inline:.2f}x the baseline; mean group "
                     f"{more_size:.1f}; target: >= 2,500)")
    lines.append(f"  in process, {args.callers} callers at once, write side alone: {group_alone:,.0f} commands/s "
                 f"({group_alone / alone:.2f}x one caller's write side; mean group {size_alone:.1f})")
    lines.append(f"  over HTTP, one uvicorn worker, one client: {http:,.0f} recruitments/s "
                 f"({http / inline:.2f}x in process)")
    lines.append(f"  over HTTP, one uvicorn worker, {args.callers} clients at once: {http_many:,.0f} recruitments/s "
                 f"({http_many / http:.2f}x one client)")
    lines.append(f"  over HTTP, two uvicorn workers (the README's recommended setup on 2 cores), {args.callers} clients "
                 f"at once: {http_two:,.0f} recruitments/s ({http_two / http_many:.2f}x one worker)")
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
