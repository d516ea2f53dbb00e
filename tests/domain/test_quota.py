"""StaffingQuota (biên chế): figures per (category, kind), excess exceptions, retractions."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from staffing.domain.errors import InvalidInput, NotFound, NotRetractable, RuleViolation
from staffing.domain.quota import QuotaFactReason, StaffingQuota, quota_ledger_id
from staffing.domain.values import PersonnelCategory, QuotaKind
from tests.builders import AT, START, a_quota_ledger, an_act, the_event

CC, VC = PersonnelCategory.CIVIL_SERVANT, PersonnelCategory.PUBLIC_EMPLOYEE
ASSIGNED, TEMPORARY = QuotaKind.ASSIGNED, QuotaKind.TEMPORARY


def with_figure(ledger: StaffingQuota, amount: int, on: date, reason: str = QuotaFactReason.ASSIGN,
                category: PersonnelCategory = CC, kind: QuotaKind = ASSIGNED) -> StaffingQuota:
    ledger.set_figure(category=category, kind=kind, amount=amount, reason=reason, effective_on=on, act=an_act(), at=AT)
    ledger.collect_events()
    return ledger


def test_opening_a_ledger_gives_each_unit_exactly_one_ledger_found_from_its_id() -> None:
    unit_id = uuid4()

    ledger = StaffingQuota.open(unit_id=unit_id, effective_on=START, act=an_act(), at=AT)

    event = the_event(ledger, StaffingQuota.Opened)
    assert event.unit_id == unit_id
    assert ledger.id == quota_ledger_id(unit_id) != quota_ledger_id(uuid4())


def test_setting_a_figure_records_category_kind_amount_and_reason() -> None:
    ledger = a_quota_ledger()

    ledger.set_figure(category=CC, kind=TEMPORARY, amount=42, reason=QuotaFactReason.ASSIGN, effective_on=START,
                      act=an_act(), at=AT)

    event = the_event(ledger, StaffingQuota.FigureSet)
    assert (event.category, event.kind, event.amount, event.reason) == ("CIVIL_SERVANT", "TEMPORARY", 42, "ASSIGN")
    assert ledger.current(CC, TEMPORARY) == 42


def test_a_later_figure_replaces_the_previous_one() -> None:
    ledger = with_figure(a_quota_ledger(), 40, START)

    with_figure(ledger, 35, date(2022, 1, 1))

    assert ledger.current(CC, ASSIGNED) == 35


def test_series_are_kept_apart_by_category_and_kind() -> None:
    ledger = with_figure(a_quota_ledger(), 40, START)

    with_figure(ledger, 7, START, kind=TEMPORARY)
    with_figure(ledger, 90, START, category=VC)

    assert ledger.current_figures() == {(CC, ASSIGNED): 40, (CC, TEMPORARY): 7, (VC, ASSIGNED): 90}


def test_figure_of_zero_is_kept_but_not_listed_among_current_figures() -> None:
    ledger = with_figure(a_quota_ledger(), 5, START)

    with_figure(ledger, 0, date(2022, 1, 1))

    assert ledger.current(CC, ASSIGNED) == 0 and ledger.current_figures() == {}


@pytest.mark.parametrize("amount", [-1, 1.5, True, "3", None, 10_000_001])
def test_quota_amount_must_be_a_non_negative_whole_number_of_posts(amount: object) -> None:
    ledger = a_quota_ledger()

    with pytest.raises(InvalidInput) as refused:
        ledger.set_figure(category=CC, kind=ASSIGNED, amount=amount, reason=QuotaFactReason.ASSIGN,  # type: ignore[arg-type]
                          effective_on=START, act=an_act(), at=AT)

    assert (refused.value.code, refused.value.field) == ("INVALID_INPUT", "amount")
    assert ledger.collect_events() == []


def test_a_figure_dated_before_the_latest_one_holds_until_it() -> None:
    ledger = with_figure(a_quota_ledger(), 40, date(2025, 1, 1))

    ledger.set_figure(category=CC, kind=ASSIGNED, amount=30, reason=QuotaFactReason.ASSIGN,
                      effective_on=date(2023, 1, 1), act=an_act(), at=AT)

    assert ledger.figure_before(CC, ASSIGNED, date(2024, 1, 1)) == 30
    assert ledger.figure_before(CC, ASSIGNED, date(2025, 1, 2)) == 40
    assert ledger.current(CC, ASSIGNED) == 40


def test_a_transfer_is_made_again_from_a_figure_inserted_before_it() -> None:
    ledger = with_figure(a_quota_ledger(), 40, date(2022, 1, 1))
    ledger.set_figure(category=CC, kind=ASSIGNED, amount=35, reason=QuotaFactReason.TRANSFER_OUT,
                      effective_on=date(2024, 1, 1), act=an_act(), at=AT, delta=-5)
    ledger.set_figure(category=CC, kind=ASSIGNED, amount=50, reason=QuotaFactReason.ASSIGN,
                      effective_on=date(2023, 1, 1), act=an_act(), at=AT)
    ledger.collect_events()

    changed = ledger.rederive(lambda *_: 0, AT)

    assert changed == [(CC, ASSIGNED, date(2024, 1, 1))]
    assert ledger.current(CC, ASSIGNED) == 45
    events = ledger.collect_events()
    assert [type(e).__name__ for e in events] == ["FactRetracted", "FigureSet"]


def test_a_figure_that_would_leave_a_later_transfer_short_is_refused_naming_it() -> None:
    ledger = with_figure(a_quota_ledger(), 10, date(2022, 1, 1))
    ledger.set_figure(category=CC, kind=ASSIGNED, amount=2, reason=QuotaFactReason.TRANSFER_OUT,
                      effective_on=date(2024, 1, 1), act=an_act("88/QĐ"), at=AT, delta=-8)
    ledger.set_figure(category=CC, kind=ASSIGNED, amount=5, reason=QuotaFactReason.ASSIGN,
                      effective_on=date(2023, 1, 1), act=an_act(), at=AT)

    with pytest.raises(InvalidInput) as refused:
        ledger.rederive(lambda *_: 0, AT)

    assert "fall to -3 on 2024-01-01" in refused.value.message and "88/QĐ" in refused.value.message


def test_order_is_checked_per_series_so_another_series_may_be_dated_earlier() -> None:
    ledger = with_figure(a_quota_ledger(), 40, date(2022, 1, 1))

    ledger.set_figure(category=VC, kind=ASSIGNED, amount=12, reason=QuotaFactReason.ASSIGN,
                      effective_on=date(2021, 1, 1), act=an_act(), at=AT)

    assert [type(e) for e in ledger.collect_events()] == [StaffingQuota.FigureSet]
    assert ledger.current(VC, ASSIGNED) == 12


def test_figure_on_the_same_day_as_the_latest_figure_is_in_order() -> None:
    ledger = with_figure(a_quota_ledger(), 40, date(2022, 1, 1))

    with_figure(ledger, 41, date(2022, 1, 1))

    assert ledger.current(CC, ASSIGNED) == 41


# ====================================================================== excess exceptions
def test_allowing_excess_records_the_deadline_and_reason() -> None:
    ledger = a_quota_ledger()

    ledger.allow_excess(until=date(2030, 7, 1), reason="hợp nhất tỉnh", effective_on=date(2025, 7, 1), act=an_act(),
                        at=AT)

    event = the_event(ledger, StaffingQuota.ExcessAllowed)
    assert (event.until, event.reason, event.effective_on) == (date(2030, 7, 1), "hợp nhất tỉnh", date(2025, 7, 1))


def test_excess_exception_ending_before_it_starts_is_refused() -> None:
    ledger = a_quota_ledger()

    with pytest.raises(InvalidInput) as refused:
        ledger.allow_excess(until=date(2025, 6, 30), reason="hợp nhất", effective_on=date(2025, 7, 1), act=an_act(),
                            at=AT)

    assert refused.value.field == "excessAllowedUntil"


def test_excess_exception_may_end_on_the_day_it_starts() -> None:
    ledger = a_quota_ledger()

    ledger.allow_excess(until=date(2025, 7, 1), reason="hợp nhất", effective_on=date(2025, 7, 1), act=an_act(), at=AT)

    assert len(ledger.collect_events()) == 1


# ====================================================================== retract
def test_retracting_a_figure_falls_back_to_the_previous_figure() -> None:
    ledger = with_figure(with_figure(a_quota_ledger(), 40, START), 400, date(2022, 1, 1))  # versions 2, 3

    ledger.retract(fact_version=3, reason="nhập thừa số 0", act=an_act(), at=AT)

    event = the_event(ledger, StaffingQuota.FactRetracted)
    assert (event.fact_version, event.effective_on) == (3, date(2022, 1, 1))
    assert ledger.current(CC, ASSIGNED) == 40


def test_retracting_the_latest_figure_lets_an_earlier_dated_figure_be_recorded() -> None:
    ledger = with_figure(with_figure(a_quota_ledger(), 40, START), 400, date(2022, 1, 1))
    ledger.retract(fact_version=3, reason="sai ngày", act=an_act(), at=AT)
    ledger.collect_events()

    with_figure(ledger, 45, date(2021, 1, 1))

    assert ledger.current(CC, ASSIGNED) == 45


def test_figure_set_by_a_reorganisation_is_not_retractable() -> None:
    ledger = with_figure(a_quota_ledger(), 40, START, reason=QuotaFactReason.REORGANISATION)

    with pytest.raises(NotRetractable) as refused:
        ledger.retract(fact_version=2, reason="nhập nhầm", act=an_act(), at=AT)

    assert (refused.value.code, refused.value.field) == ("NOT_RETRACTABLE", "factId")
    assert ledger.current(CC, ASSIGNED) == 40


@pytest.mark.parametrize("reason", [QuotaFactReason.TRANSFER_IN, QuotaFactReason.TRANSFER_OUT])
def test_figure_set_by_a_transfer_is_retractable(reason: str) -> None:
    ledger = with_figure(a_quota_ledger(), 40, START, reason=reason)

    ledger.retract(fact_version=2, reason="nhập nhầm", act=an_act(), at=AT)

    assert ledger.current(CC, ASSIGNED) == 0


def test_quota_fact_cannot_be_retracted_twice() -> None:
    ledger = with_figure(a_quota_ledger(), 40, START)
    ledger.retract(fact_version=2, reason="nhập nhầm", act=an_act(), at=AT)
    ledger.collect_events()

    with pytest.raises(RuleViolation) as refused:
        ledger.retract(fact_version=2, reason="nhập nhầm", act=an_act(), at=AT)

    assert refused.value.field == "factId"
    assert ledger.collect_events() == []


def test_excess_exception_can_be_retracted() -> None:
    ledger = a_quota_ledger()
    ledger.allow_excess(until=date(2030, 1, 1), reason="hợp nhất", effective_on=START, act=an_act(), at=AT)
    ledger.collect_events()

    ledger.retract(fact_version=2, reason="không có quyết định", act=an_act(), at=AT)

    assert ledger.exceptions[0]["retracted"] is True


def test_retracting_a_quota_fact_the_ledger_does_not_have_is_not_found() -> None:
    ledger = a_quota_ledger()

    with pytest.raises(NotFound) as refused:
        ledger.retract(fact_version=1, reason="nhập nhầm", act=an_act(), at=AT)  # version 1 opened the ledger

    assert refused.value.field == "factId"
