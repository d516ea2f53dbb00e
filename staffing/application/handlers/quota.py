"""Handlers for quota (biên chế): assign a figure, transfer posts between units, allow excess."""

from __future__ import annotations

from staffing.application.commands import AllowExcess, AssignQuota, TransferQuota
from staffing.application.handlers.common import latest_fact
from staffing.application.registry import handles
from staffing.application.results import UnitRecorded
from staffing.application.work import Work
from staffing.domain import reorganisation as rules
from staffing.domain.base import check_amount
from staffing.domain.errors import InvalidInput
from staffing.domain.quota import QuotaFactReason

__all__: list[str] = []


@handles(AssignQuota, UnitRecorded)
def assign_quota(cmd: AssignQuota, work: Work) -> UnitRecorded:
    """Sets the figure for (unit, category, kind) from the effective date, replacing the previous one."""
    check_amount(cmd.amount, "amount")
    unit = work.unit(cmd.unit_id)
    unit.require_active_on(cmd.effective_on, "unitId")
    ledger = work.ledger(unit, cmd.effective_on, cmd.act)
    ledger.set_figure(category=cmd.category, kind=cmd.kind, amount=cmd.amount, reason=QuotaFactReason.ASSIGN,
                      effective_on=cmd.effective_on, act=cmd.act, at=work.at)
    return UnitRecorded(unit_id=str(unit.id), fact_id=latest_fact(ledger))


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
    rules.check_quota_sufficient(source.code, src.current(cat, kind), cmd.amount, f"{cat.value}/{kind.value}",
                                 "amount")
    src.set_figure(category=cat, kind=kind, amount=src.current(cat, kind) - cmd.amount,
                   reason=QuotaFactReason.TRANSFER_OUT, effective_on=on, act=act, at=work.at)
    dst.set_figure(category=cat, kind=kind, amount=dst.current(cat, kind) + cmd.amount,
                   reason=QuotaFactReason.TRANSFER_IN, effective_on=on, act=act, at=work.at)
    return UnitRecorded(unit_id=str(target.id), fact_id=latest_fact(dst))


@handles(AllowExcess, UnitRecorded)
def allow_excess(cmd: AllowExcess, work: Work) -> UnitRecorded:
    unit = work.unit(cmd.unit_id)
    unit.require_active_on(cmd.effective_on, "unitId")
    ledger = work.ledger(unit, cmd.effective_on, cmd.act)
    ledger.allow_excess(until=cmd.until, reason=cmd.reason, effective_on=cmd.effective_on, act=cmd.act, at=work.at)
    return UnitRecorded(unit_id=str(unit.id), fact_id=latest_fact(ledger))
