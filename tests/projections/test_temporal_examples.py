"""Named temporal examples: what the read models answer "as of" a day and "as known at" a moment.

Each test tells one story from the 2025 restructuring in a few commands and checks the answers a
user would read, on the days either side of the change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from staffing.application import (
    AssignQuota,
    DissolveUnit,
    EstablishUnit,
    MergeUnits,
    MoveUnit,
    NewUnit,
    RecruitPerson,
    RegradePerson,
    RenameUnit,
    RetirePerson,
    RetractFact,
    TransferPerson,
)
from staffing.bootstrap import Ledger
from staffing.domain.errors import HierarchyCycle
from staffing.domain.values import LegalAct, UnitKind
from staffing.projections.queries import StaffingFigures, encode_cursor
from tests.support import FakeClock, act

BEFORE, REFORM = date(2025, 6, 30), date(2025, 7, 1)
LONG_AGO = date(2020, 1, 1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


class Given:
    """Small builders over the one write path, with defaults that keep the stories short."""

    def __init__(self, ledger: Ledger) -> None:
        self.service, self.queries = ledger.service, ledger.queries
        self._n = 0

    def unit(self, name: str, kind: str, parent: str | None = None, on: date = LONG_AGO,
             code: str | None = None) -> str:
        self._n += 1
        return str(self.service.execute(EstablishUnit(code=code or f"U{self._n:03d}", name=name, kind=kind, parent_id=parent, effective_on=on, act=act())).unit_id)

    def person(self, unit: str, on: date = date(2021, 1, 1), category: str = "CIVIL_SERVANT") -> str:
        return str(self.service.execute(RecruitPerson(full_name="Nguyễn Thị Hoa", birth_date=date(1985, 5, 5), gender="FEMALE", category=category, unit_id=unit, effective_on=on, act=act())).person_id)

    def quota(self, unit: str, amount: int, on: date = LONG_AGO, category: str = "CIVIL_SERVANT") -> str:
        return str(self.service.execute(AssignQuota(unit_id=unit, category=category, kind="ASSIGNED", amount=amount, effective_on=on, act=act())).fact_id)

    # ---------------------------------------------------------------- reading
    def ask(self, what: str, *args: Any, known_at: datetime | None = None, **kwargs: Any) -> Any:
        with self.queries.connect() as conn:
            position = self.queries.knowledge_position(conn, known_at)
            return getattr(self.queries, what)(conn, *args, position=position, **kwargs)

    def subtree_ids(self, root: str, as_of: date) -> list[tuple[str, int]]:
        return [(u.id, level) for u, level, _ in self.ask("subtree", root, as_of)]

    def staffing(self, unit: str, as_of: date, known_at: datetime | None = None,
                 descendants: bool = False) -> StaffingFigures:
        figures = self.ask("staffing", unit, as_of, known_at=known_at, include_descendants=descendants)
        assert figures is not None, f"unit {unit} does not exist on {as_of}"
        return figures  # type: ignore[no-any-return]


def line(figures: StaffingFigures, category: str = "CIVIL_SERVANT") -> Any:
    return next(li for li in figures.lines if li.category == category)


@pytest.fixture
def given(ledger: Ledger) -> Given:
    return Given(ledger)


# (a) -------------------------------------------------------------------------------------------
def test_a_province_loses_its_districts_on_1_july_2025_and_keeps_their_communes(given: Given) -> None:
    province = given.unit("Tỉnh Tuyên Quang", "PROVINCE")
    d1 = given.unit("Huyện Yên Sơn", "DISTRICT", province)
    d2 = given.unit("Huyện Sơn Dương", "DISTRICT", province)
    c1 = given.unit("Xã Mỹ Bằng", "COMMUNE", d1)
    c2 = given.unit("Xã Tân Trào", "COMMUNE", d2)
    # one district merged into the province (its communes follow), the other dissolved after
    # its commune was re-homed
    given.service.execute(MergeUnits(source_unit_ids=[d1], into_unit_id=province, effective_on=REFORM, act=act()))
    given.service.execute(MoveUnit(unit_id=c2, new_parent_id=province, effective_on=REFORM, act=act()))
    given.service.execute(DissolveUnit(unit_id=d2, effective_on=REFORM, act=act()))

    before = given.subtree_ids(province, BEFORE)
    assert (d1, 1) in before and (d2, 1) in before and (c1, 2) in before and (c2, 2) in before
    after = given.subtree_ids(province, REFORM)
    assert sorted(after) == sorted([(province, 0), (c1, 1), (c2, 1)])
    assert {u.id for u in given.ask("children", province, REFORM)} == {c1, c2}
    assert {u.id for u in given.ask("children", province, BEFORE)} == {d1, d2}


# (b) -------------------------------------------------------------------------------------------
def test_a_unit_dissolved_on_1_july_exists_on_30_june_and_not_on_1_july(given: Given) -> None:
    province = given.unit("Tỉnh Hà Giang", "PROVINCE")
    district = given.unit("Huyện Bắc Mê", "DISTRICT", province)
    given.service.execute(DissolveUnit(unit_id=district, effective_on=REFORM, act=act()))
    assert given.ask("unit", district, BEFORE) is not None
    assert given.ask("unit", district, REFORM) is None
    assert given.ask("staffing", district, REFORM) is None


def test_a_person_retired_on_a_day_is_counted_the_day_before_and_not_on_that_day(given: Given) -> None:
    unit = given.unit("Sở Nội vụ tỉnh Tuyên Quang", "PROVINCE")
    person = given.person(unit)
    given.person(unit)
    given.service.execute(RetirePerson(person_id=person, effective_on=REFORM, act=act()))
    assert line(given.staffing(unit, BEFORE)).headcount == 2
    assert line(given.staffing(unit, REFORM)).headcount == 1
    movements = given.ask("movements", unit, BEFORE, REFORM)
    assert [(m.kind, m.effective_on, m.person_id) for m in movements] == [("RETIRED", REFORM, person)]


# (c) -------------------------------------------------------------------------------------------
def test_a_transfer_recorded_late_is_invisible_to_what_was_known_before_it_was_recorded(
        given: Given, clock: FakeClock) -> None:
    province = given.unit("Tỉnh Tuyên Quang", "PROVINCE")
    old = given.unit("Xã Mỹ Bằng", "COMMUNE", province)
    new = given.unit("Xã Thái Bình", "COMMUNE", province)
    person = given.person(old)
    clock.set(utc(2026, 8, 10, 9, 0, 0))
    given.service.execute(TransferPerson(person_id=person, to_unit_id=new, effective_on=REFORM, act=act()))

    mid_july = date(2025, 7, 15)
    assert given.ask("person", person, mid_july, known_at=utc(2026, 8, 1)).unit_id == old
    assert given.ask("person", person, mid_july, known_at=utc(2026, 8, 11)).unit_id == new
    assert given.ask("person", person, mid_july).unit_id == new
    assert line(given.staffing(old, mid_july, known_at=utc(2026, 8, 1))).headcount == 1
    assert line(given.staffing(old, mid_july, known_at=utc(2026, 8, 11))).headcount == 0
    assert line(given.staffing(new, mid_july, known_at=utc(2026, 8, 11))).headcount == 1
    assert given.ask("movements", new, REFORM, mid_july, known_at=utc(2026, 8, 1)) == []
    [arrival] = given.ask("movements", new, REFORM, mid_july, known_at=utc(2026, 8, 11))
    assert (arrival.kind, arrival.effective_on) == ("TRANSFERRED_IN", REFORM)


# (d) -------------------------------------------------------------------------------------------
def test_after_a_consolidation_the_surplus_is_allowed_until_the_deadline_and_not_a_day_longer(
        given: Given) -> None:
    deadline = date(2030, 6, 30)
    province = given.unit("Tỉnh Tuyên Quang", "PROVINCE")
    a = given.unit("Sở Tài chính Hà Giang", "PROVINCIAL_DEPARTMENT", province)
    b = given.unit("Sở Tài chính Tuyên Quang", "PROVINCIAL_DEPARTMENT", province)
    for unit in (a, b):
        given.quota(unit, 3)
        for _ in range(4):
            given.person(unit)
    merged = given.service.execute(MergeUnits(source_unit_ids=[a, b], new_unit=NewUnit(code="STC-TQ", name="Sở Tài chính tỉnh Tuyên Quang", kind=UnitKind.PROVINCIAL_DEPARTMENT, parent_id=None), effective_on=REFORM, act=act(), excess_allowed_until=deadline)).unit_id

    on_deadline = given.staffing(merged, deadline)
    assert (line(on_deadline).quota, line(on_deadline).headcount) == (6, 8)
    assert line(on_deadline).surplus == 2 and on_deadline.total_surplus == 2
    assert on_deadline.excess_allowed_until == deadline
    day_after = given.staffing(merged, date(2030, 7, 1))
    assert line(day_after).surplus == 2
    assert day_after.excess_allowed_until is None
    assert given.ask("staffing", merged, BEFORE) is None  # the new unit starts on 1 July


def test_a_person_moved_by_a_merger_and_regraded_the_same_day_shows_as_reorganised(given: Given,
                                                                                  ledger: Ledger) -> None:
    province = given.unit("Tỉnh Tuyên Quang", "PROVINCE")
    source = given.unit("Xã Mỹ Bằng", "COMMUNE", province)
    target = given.unit("Xã Thái Bình", "COMMUNE", province)
    person = given.person(source)
    given.service.execute(MergeUnits(source_unit_ids=[source], into_unit_id=target, effective_on=REFORM, act=act()))
    given.service.execute(RegradePerson(person_id=person, category="CADRE", effective_on=REFORM, act=act()))
    with ledger.queries.connect() as conn:
        facts, _ = ledger.queries.history(conn, unit_id=None, person_id=person, first=10, after=None)
    move = next(f.id for f in facts if f.type == "PersonReorganised")
    [arrival] = given.ask("movements", target, REFORM, REFORM)
    # same-day facts are kept in the order recorded: the move (as a civil servant), then the regrade
    assert (arrival.kind, arrival.fact_id, arrival.category) == ("REORGANISED_IN", move, "CIVIL_SERVANT")
    [departure] = given.ask("movements", source, REFORM, REFORM)
    assert (departure.kind, departure.fact_id) == ("REORGANISED_OUT", move)


# (e) -------------------------------------------------------------------------------------------
def test_a_retracted_quota_figure_counts_for_what_was_known_before_the_retraction_only(
        given: Given, clock: FakeClock) -> None:
    unit = given.unit("Sở Y tế tỉnh Đắk Lắk", "PROVINCIAL_DEPARTMENT")
    given.quota(unit, 50, on=date(2024, 1, 1))
    clock.set(utc(2026, 2, 1))
    mistaken = given.quota(unit, 80, on=date(2025, 1, 1))
    clock.set(utc(2026, 3, 1))
    given.service.execute(RetractFact(fact_id=mistaken, reason="nhập nhầm số liệu", act=act()))

    as_of = date(2025, 1, 15)
    before = given.staffing(unit, as_of, known_at=utc(2026, 2, 15))
    assert line(before).quota == 80 and [e.fact_id for e in line(before).entries] == [mistaken]
    assert line(given.staffing(unit, as_of, known_at=utc(2026, 3, 2))).quota == 50
    assert line(given.staffing(unit, as_of)).quota == 50
    assert line(given.staffing(unit, as_of, known_at=utc(2026, 1, 31))).quota == 50  # not yet recorded


def test_history_shows_the_retraction_of_a_quota_figure(given: Given, ledger: Ledger) -> None:
    unit = given.unit("Sở Y tế tỉnh Đắk Lắk", "PROVINCIAL_DEPARTMENT")
    mistaken = given.quota(unit, 80)
    given.service.execute(RetractFact(fact_id=mistaken, reason="nhập nhầm số liệu", act=act("02/QĐ-SYT")))
    with ledger.queries.connect() as conn:
        facts, _ = ledger.queries.history(conn, unit_id=unit, person_id=None, first=50, after=None)
    by_id = {f.id: f for f in facts}
    retraction = facts[-1]
    assert retraction.type == "FactRetracted" and retraction.act_number == "02/QĐ-SYT"
    assert by_id[mistaken].retracted_by == retraction.id


# (f) -------------------------------------------------------------------------------------------
def test_history_lists_facts_in_log_order_with_their_act_and_recording_moment_page_by_page(
        ledger: Ledger, clock: FakeClock) -> None:
    service = ledger.service
    steps: list[tuple[str, LegalAct, datetime]] = []

    def at(moment: datetime, number: str) -> LegalAct:
        clock.set(moment)
        legal = LegalAct(number, "UBND tỉnh Tuyên Quang", date(2025, 6, 20))
        steps.append((number, legal, moment))
        return legal

    unit = service.execute(EstablishUnit(code="TQ", name="Tỉnh Tuyên Quang", kind="PROVINCE", parent_id=None, effective_on=LONG_AGO, act=at(utc(2026, 2, 1), "01/QĐ-UBND"))).unit_id
    service.execute(RenameUnit(unit_id=unit, name="Tỉnh Tuyên Quang (mới)", effective_on=REFORM, act=at(utc(2026, 3, 1), "02/QĐ-UBND")))
    service.execute(AssignQuota(unit_id=unit, category="CIVIL_SERVANT", kind="ASSIGNED", amount=12, effective_on=REFORM, act=at(utc(2026, 4, 1), "03/QĐ-UBND")))
    person = service.execute(RecruitPerson(full_name="Lê Văn Nam", birth_date=date(1990, 1, 1), gender="MALE", category="CIVIL_SERVANT", unit_id=unit, effective_on=REFORM, act=at(utc(2026, 5, 1), "04/QĐ-UBND"))).person_id
    service.execute(RetirePerson(person_id=person, effective_on=date(2025, 12, 31), act=at(utc(2026, 6, 1), "05/QĐ-UBND")))
    # each command's clock call ticks one second past the moment set
    expected = [
        ("UnitEstablished", "01/QĐ-UBND", utc(2026, 2, 1, 0, 0, 1)),
        ("UnitRenamed", "02/QĐ-UBND", utc(2026, 3, 1, 0, 0, 1)),
        ("QuotaLedgerOpened", "03/QĐ-UBND", utc(2026, 4, 1, 0, 0, 1)),
        ("QuotaSet", "03/QĐ-UBND", utc(2026, 4, 1, 0, 0, 1)),
        ("PersonRecruited", "04/QĐ-UBND", utc(2026, 5, 1, 0, 0, 1)),
        ("PersonRetired", "05/QĐ-UBND", utc(2026, 6, 1, 0, 0, 1)),
    ]
    pages, after = [], None
    with ledger.queries.connect() as conn:
        while True:
            facts, more = ledger.queries.history(conn, unit_id=unit, person_id=None, first=4, after=after)
            pages.append(facts)
            if not more:
                break
            after = encode_cursor(facts[-1].position)
        everything, more = ledger.queries.history(conn, unit_id=unit, person_id=None, first=100, after=None)
        for_person, _ = ledger.queries.history(conn, unit_id=None, person_id=person, first=100, after=None)
    assert [len(p) for p in pages] == [4, 2] and not more
    listed = [f for page in pages for f in page]
    assert listed == everything
    assert [(f.type, f.act_number, f.recorded_at) for f in listed] == expected
    assert [f.position for f in listed] == sorted(f.position for f in listed)
    assert all(f.act_issuer == "UBND tỉnh Tuyên Quang" and f.act_signed_on == date(2025, 6, 20) for f in listed)
    assert [f.type for f in for_person] == ["PersonRecruited", "PersonRetired"]


# (g) -------------------------------------------------------------------------------------------
def test_unit_search_ignores_diacritics_and_case(given: Given) -> None:
    tq = given.unit("Ủy ban nhân dân tỉnh Tuyên Quang", "PROVINCE")
    dl = given.unit("Tỉnh Đắk Lắk", "PROVINCE")
    hg = given.unit("Tỉnh Hà Giang", "PROVINCE")

    def search(text: str) -> list[str]:
        views, _ = given.ask("units", as_of=REFORM, search=text)
        return [v.id for v in views]

    assert search("tuyen quang") == [tq]
    assert search("TUYÊN QUANG") == [tq]
    assert search("dak lak") == [dl]
    assert search("Đắk Lắk") == [dl]
    assert search("ha giang") == [hg]
    assert set(search("tinh")) == {tq, dl, hg}
    views, _ = given.ask("units", as_of=REFORM, search="Tuyên Quang")
    assert views[0].name == "Ủy ban nhân dân tỉnh Tuyên Quang"  # stored and returned unchanged


# a read must never loop, even over a tree the write side should not have let through ---------------
def test_a_unit_tree_that_turns_into_a_cycle_on_some_days_is_refused_or_read_without_looping(
        given: Given) -> None:
    root = given.unit("Tỉnh Lào Cai", "PROVINCE")
    a = given.unit("Huyện A", "DISTRICT", root)
    b = given.unit("Huyện B", "DISTRICT", root)
    given.service.execute(MoveUnit(unit_id=b, new_parent_id=a, effective_on=date(2025, 1, 1), act=act()))
    given.service.execute(MoveUnit(unit_id=b, new_parent_id=root, effective_on=date(2028, 1, 1), act=act()))
    try:
        # from 2026 to 2028, a would sit under b while b sits under a
        given.service.execute(MoveUnit(unit_id=a, new_parent_id=b, effective_on=date(2026, 1, 1), act=act()))
    except HierarchyCycle:
        return  # the write side looks at every day the move covers: nothing more to check
    day = date(2026, 6, 1)
    assert sorted(given.subtree_ids(a, day)) == sorted([(a, 0), (b, 1)])
    assert given.ask("staffing", a, day, include_descendants=True) is not None
    assert len(given.ask("staffing_report", a, day, include_descendants=True)) == 2
