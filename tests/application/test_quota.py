"""Quota (biên chế) through the service: assign, transfer, time-bound excess exceptions."""

from __future__ import annotations

from datetime import date

import pytest

from staffing.application import AllowExcess, AssignQuota, DissolveUnit, TransferQuota
from staffing.bootstrap import Ledger
from staffing.domain.errors import InvalidInput, UnitEnded
from staffing.domain.quota import StaffingQuota
from staffing.domain.values import PersonnelCategory, QuotaKind
from tests.application.helpers import events, last_position, quota
from tests.builders import START, an_act, assign_quota, establish

pytestmark = pytest.mark.usefixtures("write_side_only")
BACKENDS = ("memory",)  # the fast tier: handlers on the in-memory event store

CC, ASSIGNED = PersonnelCategory.CIVIL_SERVANT, QuotaKind.ASSIGNED
LATER = date(2021, 6, 1)


def test_assigned_quota_replaces_the_previous_figure_of_its_series(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    assign_quota(ledger.service, unit_id, 40)

    result = ledger.service.execute(AssignQuota(unit_id=unit_id, category="CIVIL_SERVANT", kind="ASSIGNED", amount=36, effective_on=LATER, act=an_act()))

    stored = quota(ledger, unit_id)
    assert stored.current(CC, ASSIGNED) == 36
    assert result.fact_id == f"{stored.id}:{stored.version}"


def test_quota_amount_must_be_a_non_negative_whole_number(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    before = last_position(ledger)

    with pytest.raises(InvalidInput) as refused:
        assign_quota(ledger.service, unit_id, -1)

    assert refused.value.field == "amount"
    assert last_position(ledger) == before


def test_quota_cannot_be_assigned_to_a_dissolved_unit(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    ledger.service.execute(DissolveUnit(unit_id=unit_id, effective_on=LATER, act=an_act()))
    before = last_position(ledger)

    with pytest.raises(UnitEnded) as refused:
        assign_quota(ledger.service, unit_id, 10, effective_on=date(2022, 1, 1))

    assert refused.value.field == "unitId"
    assert last_position(ledger) == before


def test_transferring_quota_lowers_one_unit_and_raises_the_other_by_the_same_amount(ledger: Ledger) -> None:
    source, target = establish(ledger.service), establish(ledger.service)
    assign_quota(ledger.service, source, 30)
    assign_quota(ledger.service, target, 10)

    ledger.service.execute(TransferQuota(from_unit_id=source, to_unit_id=target, category="CIVIL_SERVANT", kind="ASSIGNED", amount=4, effective_on=LATER, act=an_act()))

    assert (quota(ledger, source).current(CC, ASSIGNED), quota(ledger, target).current(CC, ASSIGNED)) == (26, 14)
    reasons = [e.reason for e in events(ledger, quota(ledger, target).id) if isinstance(e, StaffingQuota.FigureSet)]
    assert reasons[-1] == "TRANSFER_IN"


def test_unit_cannot_transfer_more_quota_than_it_has(ledger: Ledger) -> None:
    source, target = establish(ledger.service), establish(ledger.service)
    assign_quota(ledger.service, source, 3)
    before = last_position(ledger)

    with pytest.raises(InvalidInput) as refused:
        ledger.service.execute(TransferQuota(from_unit_id=source, to_unit_id=target, category="CIVIL_SERVANT", kind="ASSIGNED", amount=4, effective_on=LATER, act=an_act()))

    assert refused.value.field == "amount"
    assert last_position(ledger) == before


def test_unit_may_be_allowed_to_exceed_its_quota_until_a_deadline(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)

    ledger.service.execute(AllowExcess(unit_id=unit_id, until=date(2030, 7, 1), reason="sắp xếp đơn vị hành chính", effective_on=date(2025, 7, 1), act=an_act()))

    (exception,) = quota(ledger, unit_id).exceptions
    assert (exception["until"], exception["effective_on"]) == (date(2030, 7, 1), date(2025, 7, 1))


def test_excess_exception_ending_before_it_starts_is_refused(ledger: Ledger) -> None:
    unit_id = establish(ledger.service)
    before = last_position(ledger)

    with pytest.raises(InvalidInput) as refused:
        ledger.service.execute(AllowExcess(unit_id=unit_id, until=START, reason="sắp xếp", effective_on=LATER, act=an_act()))

    assert refused.value.field == "excessAllowedUntil"
    assert last_position(ledger) == before
