"""Differential test through the group commit: many callers at once, then the oracle's answers.

``test_differential`` writes its histories one command at a time. Here several threads execute
commands at once (recruitments dated in the past and out of order, transfers, retirements, quota
acts, retractions, units established and dissolved under a province), so ``StaffingService.execute``
commits them in groups: decided together, saved in one transaction, projected as one batch. The
oracle is then built from the raw events in the store alone and the read models must give its
answers for every unit and person, at as-of dates and known-at moments across the run (moments
inside a group included: a group's facts share one recording moment).
"""

from __future__ import annotations

import random
import threading
from datetime import date, timedelta
from typing import Any

import pytest

from staffing.application import (
    AssignQuota,
    DissolveUnit,
    EstablishUnit,
    RecruitPerson,
    RetirePerson,
    RetractFact,
    TransferPerson,
)
from staffing.bootstrap import Ledger
from staffing.domain.errors import StaffingError
from staffing.domain.values import PersonnelCategory, QuotaKind, UnitKind
from tests.builders import an_act, establish
from tests.projections.history import History
from tests.projections.test_differential import check_agreement
from tests.support import FakeClock

CALLERS, STEPS = 6, 30
#: threads that wait on each other: a lost wake-up fails here with its stack instead of hanging
pytestmark = pytest.mark.timeout(120)
FIRST, LAST = date(2019, 1, 1), date(2026, 6, 30)


class Caller:
    """One thread's commands: its own people and facts, the shared communes (under a lock)."""

    def __init__(self, ledger: Ledger, shared: dict[str, Any], seed: int) -> None:
        self.service, self.shared, self.rng = ledger.service, shared, random.Random(seed)
        self.people: list[tuple[str, date]] = []  # (person, the latest date of a fact about them)
        self.facts: list[str] = []
        self.executed = self.refused = 0

    def day(self, after: date = FIRST) -> date:
        return after + timedelta(days=self.rng.randint(1, max(1, (LAST - after).days)))

    def commune(self) -> str:
        with self.shared["lock"]:
            return self.rng.choice(self.shared["communes"])

    def run(self) -> None:
        self.shared["start"].wait(10)
        for _ in range(STEPS):
            r = self.rng.random()
            try:
                self.step(r)
                self.executed += 1
            except StaffingError:  # refused (a unit dissolved meanwhile, a date before a later fact...)
                self.refused += 1

    def step(self, r: float) -> None:
        act_day = self.day()
        if r < 0.35 or not self.people:
            day = self.day()
            result = self.service.execute(RecruitPerson(
                full_name="Nguyễn Thị Hoà", birth_date=date(1985, 5, 5), gender="FEMALE",
                category=self.rng.choice(list(PersonnelCategory)), unit_id=self.commune(), effective_on=day,
                act=an_act(signed_on=day)))
            self.people.append((str(result.person_id), day))
            self.facts.append(result.fact_id)
        elif r < 0.55:
            i = self.rng.randrange(len(self.people))
            person, after = self.people[i]
            day = self.day(after)
            result = self.service.execute(TransferPerson(person_id=person, to_unit_id=self.commune(),
                                                         effective_on=day, act=an_act(signed_on=day)))
            self.people[i] = (person, day)
            self.facts.append(result.fact_id)
        elif r < 0.65:
            person, after = self.people.pop(self.rng.randrange(len(self.people)))
            day = self.day(after)
            result = self.service.execute(RetirePerson(person_id=person, effective_on=day, act=an_act(signed_on=day)))
            self.facts.append(result.fact_id)
        elif r < 0.8:
            result = self.service.execute(AssignQuota(
                unit_id=self.commune(), category=self.rng.choice(list(PersonnelCategory)), kind=QuotaKind.ASSIGNED,
                amount=self.rng.randint(0, 30), effective_on=act_day, act=an_act(signed_on=act_day)))
            self.facts.append(result.fact_id)
        elif r < 0.88 and self.facts:
            target = self.facts.pop(self.rng.randrange(len(self.facts)))
            self.service.execute(RetractFact(fact_id=target, reason="nhập nhầm", act=an_act()))
        elif r < 0.95:
            result = self.service.execute(EstablishUnit(
                code=f"X{self.rng.randrange(10**6):06d}", name="Xã Hoà Bình", kind=UnitKind.COMMUNE,
                parent_id=self.shared["province"], effective_on=act_day, act=an_act(signed_on=act_day)))
            with self.shared["lock"]:
                self.shared["communes"].append(str(result.unit_id))
        else:
            with self.shared["lock"]:
                victim = self.rng.choice(self.shared["communes"])
            self.service.execute(DissolveUnit(unit_id=victim, effective_on=self.day(date(2025, 1, 1)),
                                              act=an_act()))


def test_histories_written_by_concurrent_callers_in_groups_agree_with_the_oracle(ledger: Ledger,
                                                                                 clock: FakeClock) -> None:
    province = establish(ledger.service, kind=UnitKind.PROVINCE, effective_on=date(2018, 1, 1))
    communes = [establish(ledger.service, parent_id=province, kind=UnitKind.COMMUNE, effective_on=date(2018, 1, 1))
                for _ in range(5)]
    shared: dict[str, Any] = {"province": province, "communes": communes, "lock": threading.Lock(),
                              "start": threading.Barrier(CALLERS)}
    callers = [Caller(ledger, shared, seed) for seed in range(CALLERS)]
    groups_before = ledger.service.group.groups
    threads = [threading.Thread(target=c.run) for c in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    executed = sum(c.executed for c in callers)
    groups = ledger.service.group.groups - groups_before
    # the point of this test: commands were committed in groups, some of them refused
    assert executed > CALLERS * STEPS // 2 and sum(c.refused for c in callers) + executed == CALLERS * STEPS
    assert groups < executed + sum(c.refused for c in callers), "no group of more than one command formed"
    history = History(effective_dates={FIRST + timedelta(days=d) for d in range(0, (LAST - FIRST).days, 97)})
    checks = check_agreement(ledger, history, seed=5, moments=8, dates_per_moment=3)
    assert checks > 1000
