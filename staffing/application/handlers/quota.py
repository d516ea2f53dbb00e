"""Handlers for quota (biên chế): assign a figure, transfer posts between units, allow excess."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import date
from uuid import UUID

from staffing.application.commands import AllowExcess, AssignQuota, SetReductionTarget, TransferQuota
from staffing.application.handlers.common import latest_fact
from staffing.application.registry import handles
from staffing.application.results import UnitRecorded
from staffing.application.work import Work
from staffing.domain import reorganisation as rules
from staffing.domain.base import check_amount
from staffing.domain.errors import InvalidInput
from staffing.domain.quota import QuotaFactReason, StaffingQuota, quota_ledger_id
from staffing.domain.unit import Unit
from staffing.domain.values import ChangeKind, PersonnelCategory, QuotaKind

__all__ = ["settle_quota"]


def settle_quota(work: Work, unit_ids: Iterable[UUID]) -> None:
    """Make the derived figures of these units again, and of every unit that inherited from them by a
    merger (and so on down the lineage), from the figures as now recorded."""

    def figure_of(unit_id: UUID, category: PersonnelCategory, kind: QuotaKind, day: date) -> int:
        ledger = work.find(quota_ledger_id(unit_id), StaffingQuota)
        return ledger.figure_before(category, kind, day) if ledger else 0

    def heirs(unit_id: UUID) -> list[UUID]:
        unit = work.find(unit_id, Unit)
        if unit is None:
            return []
        return [s for _, change, successors, _, _ in unit.reorganisations()
                if change in (ChangeKind.ABSORB, ChangeKind.CONSOLIDATE) for s in successors]

    queue = deque((u, True) for u in unit_ids)
    for _ in range(10_000):  # a lineage is a DAG; the bound only guards against a corrupt one
        if not queue:
            return
        unit_id, changed = queue.popleft()
        ledger = work.find(quota_ledger_id(unit_id), StaffingQuota)
        if ledger is not None and ledger.rederive(figure_of, work.at):
            changed = True
        if changed:
            queue.extend((heir, False) for heir in heirs(unit_id))


@handles(AssignQuota, UnitRecorded)
def assign_quota(cmd: AssignQuota, work: Work) -> UnitRecorded:
    """Sets the figure for (unit, category, kind) from the effective date, replacing the previous one."""
    check_amount(cmd.amount, "amount")
    unit = work.unit(cmd.unit_id)
    unit.require_active_on(cmd.effective_on, "unitId")
    ledger = work.ledger(unit, cmd.effective_on, cmd.act)
    ledger.set_figure(category=cmd.category, kind=cmd.kind, amount=cmd.amount, reason=QuotaFactReason.ASSIGN,
                      effective_on=cmd.effective_on, act=cmd.act, at=work.at)
    fact = latest_fact(ledger)
    settle_quota(work, [unit.id])
    return UnitRecorded(unit_id=str(unit.id), fact_id=fact)


@handles(TransferQuota, UnitRecorded)
def transfer_quota(cmd: TransferQuota, work: Work) -> UnitRecorded:
    check_amount(cmd.amount, "amount")
    on, act, cat, kind = cmd.effective_on, cmd.act, cmd.category, cmd.kind
    source, target = work.unit(cmd.from_unit_id, "fromUnitId"), work.unit(cmd.to_unit_id, "toUnitId")
    if source.id == target.id:
        raise InvalidInput("toUnitId", "quota cannot be transferred to the same unit")
    source.require_active_on(on, "fromUnitId")
    target.require_active_on(on, "toUnitId")
    src, dst = work.ledger(source, on, act), work.ledger(target, on, act)
    have = src.figure_before(cat, kind, on, before_version=src.version + 1)
    rules.check_quota_sufficient(source.code, have, cmd.amount, f"{cat.value}/{kind.value}", "amount")
    src.set_figure(category=cat, kind=kind, amount=have - cmd.amount, reason=QuotaFactReason.TRANSFER_OUT,
                   effective_on=on, act=act, at=work.at, delta=-cmd.amount)
    dst.set_figure(category=cat, kind=kind,
                   amount=dst.figure_before(cat, kind, on, before_version=dst.version + 1) + cmd.amount,
                   reason=QuotaFactReason.TRANSFER_IN, effective_on=on, act=act, at=work.at, delta=cmd.amount)
    fact = latest_fact(dst)
    settle_quota(work, [source.id, target.id])
    return UnitRecorded(unit_id=str(target.id), fact_id=fact)


@handles(AllowExcess, UnitRecorded)
def allow_excess(cmd: AllowExcess, work: Work) -> UnitRecorded:
    unit = work.unit(cmd.unit_id)
    unit.require_active_on(cmd.effective_on, "unitId")
    ledger = work.ledger(unit, cmd.effective_on, cmd.act)
    ledger.allow_excess(until=cmd.until, reason=cmd.reason, effective_on=cmd.effective_on, act=cmd.act, at=work.at)
    return UnitRecorded(unit_id=str(unit.id), fact_id=latest_fact(ledger))


@handles(SetReductionTarget, UnitRecorded)
def set_reduction_target(cmd: SetReductionTarget, work: Work) -> UnitRecorded:
    unit = work.unit(cmd.unit_id)
    unit.require_active_on(cmd.effective_on, "unitId")
    ledger = work.ledger(unit, cmd.effective_on, cmd.act)
    ledger.set_target(category=cmd.category.value if cmd.category else None, percent=cmd.percent,
                      baseline_on=cmd.baseline_on, due_on=cmd.due_on, effective_on=cmd.effective_on, act=cmd.act,
                      at=work.at)
    return UnitRecorded(unit_id=str(unit.id), fact_id=latest_fact(ledger))
