"""Concurrent writers: optimistic concurrency plus re-deciding means no update is ever lost.

Real threads against the real databases (SQLite file and PostgreSQL).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from staffing.application import EstablishUnit, TransferQuota
from staffing.bootstrap import Ledger
from staffing.domain.errors import DuplicateCode
from staffing.domain.quota import StaffingQuota
from staffing.domain.unit import Unit
from staffing.domain.values import PersonnelCategory, QuotaKind
from tests.application.helpers import events, quota, unit
from tests.builders import an_act, assign_quota, establish, recruit

RECRUITERS, RECRUITS_EACH = 8, 10
QUOTA_TRANSFERRERS, TRANSFERS_EACH = 2, 5
CC, ASSIGNED = PersonnelCategory.CIVIL_SERVANT, QuotaKind.ASSIGNED


def run_together(tasks: list[Callable[[], Any]]) -> list[Any]:
    """Start every task at the same moment (a barrier) and return their results, re-raising failures."""
    barrier = threading.Barrier(len(tasks))

    def start(task: Callable[[], Any]) -> Any:
        barrier.wait()
        return task()

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        futures = [pool.submit(start, task) for task in tasks]
        return [f.result() for f in futures]


def test_concurrent_recruitments_and_quota_transfers_into_one_unit_lose_no_update(ledger: Ledger) -> None:
    target, donor = establish(ledger.service), establish(ledger.service)
    assign_quota(ledger.service, target, 100)
    assign_quota(ledger.service, donor, 100)

    def recruiter(n: int) -> list[str]:
        return [recruit(ledger.service, target, full_name=f"Người thứ {n}-{i}") for i in range(RECRUITS_EACH)]

    def transferrer() -> list[str]:
        return [ledger.service.execute(TransferQuota(from_unit_id=donor, to_unit_id=target, category=CC, kind=ASSIGNED, amount=1, effective_on=date(2021, 1, 1), act=an_act())).fact_id
                for _ in range(TRANSFERS_EACH)]

    tasks: list[Callable[[], list[str]]] = [functools.partial(recruiter, n) for n in range(RECRUITERS)]
    tasks += [transferrer for _ in range(QUOTA_TRANSFERRERS)]
    results = run_together(tasks)

    recruited = {p for batch in results[:RECRUITERS] for p in batch}
    assert len(recruited) == RECRUITERS * RECRUITS_EACH
    assert {str(m) for m in unit(ledger, target).member_ids} == recruited
    joined = [e for e in events(ledger, target) if isinstance(e, Unit.MemberJoined)]
    assert len(joined) == RECRUITERS * RECRUITS_EACH
    moved = QUOTA_TRANSFERRERS * TRANSFERS_EACH
    assert quota(ledger, target).current(CC, ASSIGNED) == 100 + moved
    assert quota(ledger, donor).current(CC, ASSIGNED) == 100 - moved
    figures = [e for e in events(ledger, quota(ledger, target).id) if isinstance(e, StaffingQuota.FigureSet)]
    assert len(figures) == 1 + moved


def test_two_units_claiming_one_code_at_the_same_moment_cannot_both_have_it(ledger: Ledger) -> None:
    def claim() -> str:
        try:
            return establish(ledger.service, code="X-RACE")
        except DuplicateCode:
            return "refused"

    outcomes = run_together([claim for _ in range(6)])

    winners = [o for o in outcomes if o != "refused"]
    assert len(winners) == 1
    assert unit(ledger, winners[0]).code == "X-RACE"


def test_repeats_of_one_request_racing_each_other_act_once(ledger: Ledger) -> None:
    def submit() -> dict[str, Any]:
        return ledger.service.execute(EstablishUnit(code="T-ONCE", name="Tỉnh", kind="PROVINCE", parent_id=None, effective_on=date(2020, 1, 1), act=an_act()), request_key="req-race")

    outcomes = run_together([submit for _ in range(8)])

    assert len({o.unit_id for o in outcomes}) == 1
    assert len(events(ledger, outcomes[0].unit_id)) == 1
