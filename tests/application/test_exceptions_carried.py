"""A post-merger exception is carried to the parts of a split and to the successor of a further merger,
with the earliest deadline kept (issue 11: "a split drops the predecessor's post-merger exception")."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from staffing.application import MergeUnits, NewUnit, SeparateUnit, SplitPart, SplitUnit
from staffing.bootstrap import Ledger
from staffing.domain.quota import quota_ledger_id
from tests.application.helpers import quota, unit
from tests.builders import an_act, establish, recruit

BACKENDS = ("memory",)  # the fast tier: handlers on the in-memory event store
MERGED = date(2025, 7, 1)
DEADLINE = date(2030, 7, 1)


def _merged(ledger: Ledger, province: str, code: str, until: date | None = DEADLINE) -> str:
    parts = [establish(ledger.service, parent_id=province, kind="COMMUNE", code=f"{code}{i}") for i in range(2)]
    for p in parts:
        recruit(ledger.service, p, full_name=f"Người {p[:4]}")
    return str(ledger.service.execute(MergeUnits(
        source_unit_ids=tuple(parts), effective_on=MERGED, act=an_act(signed_on=date(2025, 6, 1)),
        excess_allowed_until=until, new_unit=NewUnit(code=code, name=f"Xã {code}", kind="COMMUNE",
                                                     parent_id=province))).unit_id)


def test_the_parts_of_a_split_keep_the_exception(ledger: Ledger) -> None:
    province = establish(ledger.service, code="P")
    merged = _merged(ledger, province, "M")
    people = sorted(str(m) for m in unit(ledger, merged).member_ids)
    split = ledger.service.execute(SplitUnit(unit_id=merged, effective_on=date(2026, 1, 1), act=an_act(
        signed_on=date(2025, 12, 1)), parts=(
        SplitPart(unit=NewUnit(code="S1", name="Xã Một", kind="COMMUNE"), person_ids=(people[0],)),
        SplitPart(unit=NewUnit(code="S2", name="Xã Hai", kind="COMMUNE"), person_ids=(people[1],)))))
    for part in split.unit_ids:
        assert quota(ledger, part).exception_on(date(2026, 6, 1)) == DEADLINE
        assert quota(ledger, part).exception_on(date(2031, 1, 1)) is None


def test_a_separated_unit_keeps_the_exception_and_so_does_the_original(ledger: Ledger) -> None:
    province = establish(ledger.service, code="P")
    merged = _merged(ledger, province, "M")
    person = sorted(str(m) for m in unit(ledger, merged).member_ids)[0]
    separated = ledger.service.execute(SeparateUnit(unit_id=merged, effective_on=date(2026, 1, 1), act=an_act(
        signed_on=date(2025, 12, 1)), part=SplitPart(unit=NewUnit(code="S", name="Xã Tách", kind="COMMUNE"),
                                                     person_ids=(person,))))
    assert quota(ledger, separated.unit_id).exception_on(date(2026, 6, 1)) == DEADLINE
    assert quota(ledger, merged).exception_on(date(2026, 6, 1)) == DEADLINE


def test_a_further_merger_keeps_the_earliest_deadline(ledger: Ledger) -> None:
    province = establish(ledger.service, code="P")
    first = _merged(ledger, province, "A")
    second = _merged(ledger, province, "B", until=date(2028, 1, 1))
    again = ledger.service.execute(MergeUnits(
        source_unit_ids=(first, second), effective_on=date(2026, 1, 1), act=an_act(signed_on=date(2025, 12, 1)),
        excess_allowed_until=date(2031, 1, 1), new_unit=NewUnit(code="AB", name="Xã AB", kind="COMMUNE",
                                                               parent_id=province))).unit_id
    assert quota(ledger, again).exception_on(date(2026, 6, 1)) == date(2028, 1, 1)


def test_a_merger_without_its_own_exception_still_carries_a_predecessors(ledger: Ledger) -> None:
    province = establish(ledger.service, code="P")
    first = _merged(ledger, province, "A")
    plain = establish(ledger.service, parent_id=province, kind="COMMUNE", code="C")
    absorbed = ledger.service.execute(MergeUnits(
        source_unit_ids=(plain,), into_unit_id=first, effective_on=date(2026, 1, 1),
        act=an_act(signed_on=date(2025, 12, 1)))).unit_id
    assert quota(ledger, absorbed).exception_on(date(2026, 6, 1)) == DEADLINE
    other = _merged(ledger, province, "D", until=None)
    assert not ledger.store.exists(quota_ledger_id(UUID(other)))  # nothing to carry: no exception is made up
