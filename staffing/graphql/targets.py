"""GraphQL types for reduction targets and expiring exceptions (issue 11); the rules are in
``staffing.reports.targets``."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

import strawberry

from staffing.graphql.types import PersonnelCategory, Unit, unit_from
from staffing.reports.targets import Expiring, Progress, Target

__all__ = ["ExpiringException", "ReductionTarget", "TargetProgress", "TargetProgressRow", "expiring_from",
           "progress_from", "target_from"]


@strawberry.enum(description="How a subtree stands against its reduction target on the date.")
class TargetStatus(Enum):
    MET = "MET"
    ON_TRACK = "ON_TRACK"
    BEHIND = "BEHIND"
    MISSED = "MISSED"


@strawberry.type(description="A reduction target: `percent` fewer posts by `dueOn` than on `baselineOn`.")
class ReductionTarget:
    id: strawberry.ID
    unit_id: strawberry.ID
    category: PersonnelCategory | None  # type: ignore[valid-type]
    percent: int
    baseline_on: date
    due_on: date
    act_number: str
    act_issuer: str


@strawberry.type(description="Progress of one unit (its subtree) against a target: quota then, the goal, quota now.")
class TargetProgressRow:
    unit: Unit
    baseline: int
    target: int
    current: int
    achieved_percent: float
    status: TargetStatus


@strawberry.type(description="A target's progress on a date: rolled up over the subtree and unit by unit.")
class TargetProgress:
    target: ReductionTarget
    as_of: date
    total: TargetProgressRow | None
    units: list[TargetProgressRow]


@strawberry.type(description="Someone present in a unit, by id and name.")
class PersonRef:
    id: strawberry.ID
    full_name: str


@strawberry.type(description="A unit whose post-merger exception runs out within the horizon while it is over quota.")
class ExpiringException:
    unit: Unit
    deadline: date
    surplus: int
    people: list[PersonRef]


def target_from(goal: Target) -> ReductionTarget:
    return ReductionTarget(id=strawberry.ID(goal.fact_id), unit_id=strawberry.ID(goal.unit_id),
                           category=PersonnelCategory(goal.category) if goal.category else None, percent=goal.percent,
                           baseline_on=goal.baseline_on, due_on=goal.due_on, act_number=goal.act_number,
                           act_issuer=goal.act_issuer)


def _row(row: Progress, goal: Target, as_of: date) -> TargetProgressRow:
    return TargetProgressRow(unit=unit_from(row.unit), baseline=row.baseline, target=row.target, current=row.current,
                             achieved_percent=row.achieved_percent, status=TargetStatus(row.status(goal, as_of)))


def progress_from(goal: Target, as_of: date, total: Progress | None, rows: list[Progress]) -> TargetProgress:
    return TargetProgress(target=target_from(goal), as_of=as_of,
                          total=_row(total, goal, as_of) if total else None,
                          units=[_row(r, goal, as_of) for r in rows])


def expiring_from(found: Expiring) -> ExpiringException:
    return ExpiringException(unit=unit_from(found.unit), deadline=found.deadline, surplus=found.surplus,
                             people=[PersonRef(id=strawberry.ID(i), full_name=n) for i, n in found.people])


@strawberry.type(description="Units that ended (or were created) in the period, of one kind, by one kind of change.")
class UnitChangeCount:
    kind: str
    change: str
    units: int


@strawberry.type(description="People downsized in the period under one policy and one decree.")
class DownsizedCount:
    policy: str
    decree: str
    central: bool
    people: int


@strawberry.type(description="Quota in force for one category at the start and at the end of the period.")
class QuotaChange:
    category: PersonnelCategory  # type: ignore[valid-type]
    before: int
    after: int
    change: int


@strawberry.type(description="What the ministry publishes about a period: units removed and created, people "
                             "downsized, quota change, and the targets set on the root with their progress.")
class ReformStatistics:
    start: date
    end: date
    log_position: int
    units_removed: list[UnitChangeCount]
    units_created: list[UnitChangeCount]
    downsized: list[DownsizedCount]
    downsized_total: int
    downsized_central: int
    quota: list[QuotaChange]
    targets: list[TargetProgressRow]


def statistics_from(stats: Any) -> ReformStatistics:
    return ReformStatistics(
        start=stats.start, end=stats.end, log_position=stats.position,
        units_removed=[UnitChangeCount(kind=k, change=c, units=n) for (k, c), n in sorted(stats.removed.items())],
        units_created=[UnitChangeCount(kind=k, change=c, units=n) for (k, c), n in sorted(stats.created.items())],
        downsized=[DownsizedCount(policy=p, decree=d, central=central, people=n)
                   for (p, d, central), n in sorted(stats.downsized.items())],
        downsized_total=stats.downsized_total, downsized_central=stats.downsized_central,
        quota=[QuotaChange(category=PersonnelCategory(c), before=stats.quota_before[c], after=stats.quota_after[c],
                           change=stats.quota_after[c] - stats.quota_before[c]) for c in stats.quota_before],
        targets=[_row(total, goal, stats.end) for goal, total in stats.targets if total is not None])
