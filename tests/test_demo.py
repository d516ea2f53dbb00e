"""The demo dataset: what auditors and the Ministry of Home Affairs must see in it.

Expected figures come from the plan (``build_plan()``), never from the loader's output. The demo is
loaded once per backend (module scope): SQLite with the read models caught up after every command,
PostgreSQL with the catch-up deferred to the end, so both loading paths are exercised.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from staffing.bootstrap import Ledger, build
from staffing.demo import (
    LOCAL_REFORM,
    MINISTRY_MERGER,
    PROVINCE_MERGER,
    DemoClock,
    DemoPlan,
    DemoSummary,
    build_plan,
    load_demo,
)
from staffing.domain.values import UnitKind
from staffing.projections import tables as t
from staffing.projections.queries import NOW_POSITION
from tests.support import drop_pg_schema, settings_for

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LOCAL = {"HG", "TQ"}
CENTRAL = {"BTC", "BKHDT"}


@dataclass
class Demo:
    ledger: Ledger
    clock: DemoClock
    summary: DemoSummary
    plan: DemoPlan

    def id(self, key: str) -> str:
        return self.summary.unit_ids[key]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    backend = str(request.param)
    settings, schema = settings_for(backend, tmp_path_factory.mktemp(f"demo-{backend}"))
    clock = DemoClock()
    ledger = build(settings, clock=clock)
    try:
        summary = load_demo(ledger.service, clock, defer_projection=backend == "postgres")
        yield Demo(ledger, clock, summary, build_plan())
    finally:
        ledger.close()
        if schema:
            drop_pg_schema(schema)


@pytest.fixture
def conn(demo: Demo) -> Iterator[Connection]:
    with demo.ledger.queries.connect() as connection:
        yield connection


def name_on(demo: Demo, conn: Connection, key: str, day: date) -> str | None:
    unit = demo.ledger.queries.unit(conn, demo.id(key), day, NOW_POSITION)
    return unit.name if unit else None


def headcount(demo: Demo, conn: Connection, key: str, day: date, position: int = NOW_POSITION) -> int:
    figures = demo.ledger.queries.staffing(conn, demo.id(key), day, position, include_descendants=True)
    assert figures is not None, f"{key} does not exist on {day}"
    return figures.total_headcount


# ------------------------------------------------------------------ the clock
def test_pinned_clock_returns_the_moment_then_strictly_later_moments() -> None:
    clock = DemoClock()
    moment = datetime(2025, 6, 16, 9, 0, tzinfo=timezone(timedelta(hours=7)))
    clock.at(moment)
    first, second = clock(), clock()
    assert first == moment and second == moment + timedelta(microseconds=1)
    assert first.tzinfo is not None and first.utcoffset() == timedelta(0)


def test_clock_never_goes_backwards_when_pinned_in_the_past_or_released() -> None:
    clock = DemoClock()
    clock.at(datetime(2030, 1, 1, tzinfo=UTC))
    late = clock()
    clock.at(datetime(2020, 1, 1, tzinfo=UTC))
    assert clock() > late
    clock.release()
    released = clock()
    assert released > late and not clock.pinned


def test_released_clock_follows_real_time() -> None:
    clock = DemoClock()
    before = datetime.now(UTC)
    assert before <= clock() <= datetime.now(UTC)


def test_clock_refuses_a_naive_moment() -> None:
    with pytest.raises(ValueError):
        DemoClock().at(datetime(2025, 1, 1))


# ------------------------------------------------------------------ the plan
def test_plan_is_the_same_on_every_build() -> None:
    first, second = build_plan(), build_plan()
    assert [(p.full_name, p.birth_date, p.unit, p.left_on) for p in first.people.values()] == \
           [(p.full_name, p.birth_date, p.unit, p.left_on) for p in second.people.values()]
    assert [(s.key, s.at) for s in first.ordered_steps()] == [(s.key, s.at) for s in second.ordered_steps()]


def test_plan_has_a_few_hundred_people_of_every_category_with_vietnamese_names() -> None:
    plan = build_plan()
    people = list(plan.people.values())
    assert 300 <= len(people) <= 500
    assert {p.category.value for p in people} == {"CADRE", "CIVIL_SERVANT", "PUBLIC_EMPLOYEE", "CONTRACT_WORKER"}
    assert all(1965 <= p.birth_date.year <= 2000 for p in people)
    assert sum(not p.full_name.isascii() for p in people) > 0.9 * len(people)
    assert any(p.recruited_on.year > 2020 for p in people)
    assert {p.exit for p in people} >= {"RETIRED", "DOWNSIZED:EARLY_RETIREMENT", "DOWNSIZED:RESIGNATION"}


def test_every_command_is_recorded_in_time_order_with_a_demo_request_key() -> None:
    steps = build_plan().ordered_steps()
    assert len({s.key for s in steps}) == len(steps)
    assert all(s.key.startswith("demo:") for s in steps)
    assert all(a.at <= b.at for a, b in zip(steps, steps[1:], strict=False))


# ------------------------------------------------------------------ what the ledger shows
def test_summary_counts_match_the_plan_and_the_read_models(demo: Demo, conn: Connection) -> None:
    assert (demo.summary.units, demo.summary.people, demo.summary.positions) == (
        len(demo.plan.units), len(demo.plan.people), len(demo.plan.positions))
    assert demo.summary.events_written > len(demo.plan.steps)
    assert conn.execute(select(func.count()).select_from(t.persons)).scalar_one() == len(demo.plan.people)
    assert demo.summary.tuyen_quang_id == demo.id("TQ25") and demo.summary.bo_tai_chinh_id == demo.id("BTC")


def test_both_provinces_exist_on_30_june_2025_with_their_districts(demo: Demo, conn: Connection) -> None:
    q, day = demo.ledger.queries, date(2025, 6, 30)
    assert name_on(demo, conn, "HG", day) == "Tỉnh Hà Giang"
    assert name_on(demo, conn, "TQ", day) == "Tỉnh Tuyên Quang"
    districts = {u.name for u, _, _ in q.subtree(conn, demo.id("HG"), day, NOW_POSITION) if u.kind == "DISTRICT"}
    planned = {u.name for u in demo.plan.units.values() if u.kind is UnitKind.DISTRICT and u.region == "HG"}
    assert districts == planned == {"Thành phố Hà Giang", "Huyện Đồng Văn"}


def test_from_1_july_2025_only_the_new_tuyen_quang_exists_and_no_district(demo: Demo, conn: Connection) -> None:
    q = demo.ledger.queries
    country = [u for u, _, _ in q.subtree(conn, None, LOCAL_REFORM, NOW_POSITION)]
    provinces = [u for u in country if u.kind == "PROVINCE"]
    assert [(u.id, u.code, u.name) for u in provinces] == [(demo.id("TQ25"), "08", "Tỉnh Tuyên Quang")]
    assert not [u for u in country if u.kind == "DISTRICT"]
    assert q.unit(conn, demo.id("HG"), LOCAL_REFORM, NOW_POSITION) is None
    assert q.unit(conn, demo.id("TQ"), LOCAL_REFORM, NOW_POSITION) is None
    communes = {u.name for u in q.children(conn, demo.id("TQ25"), LOCAL_REFORM, NOW_POSITION)
                if u.kind in ("COMMUNE", "WARD")}
    assert communes == {u.name for k, u in demo.plan.units.items()
                        if k.startswith("TQ25.") and u.kind in (UnitKind.COMMUNE, UnitKind.WARD)}
    assert len(communes) == 4


def test_new_province_keeps_everyone_but_those_who_left_on_1_july(demo: Demo, conn: Connection) -> None:
    before = headcount(demo, conn, "HG", date(2025, 6, 30)) + headcount(demo, conn, "TQ", date(2025, 6, 30))
    after = headcount(demo, conn, "TQ25", LOCAL_REFORM)
    left = demo.plan.leavers(LOCAL, LOCAL_REFORM)
    assert before == demo.plan.headcount(LOCAL, date(2025, 6, 30))
    assert left > 0
    assert after == before - left == demo.plan.headcount(LOCAL, LOCAL_REFORM)


def test_new_province_lineage_lists_both_predecessors_as_consolidated(demo: Demo, conn: Connection) -> None:
    q = demo.ledger.queries
    predecessors, successors = q.lineage(conn, demo.id("TQ25"), NOW_POSITION)
    assert successors == []
    assert {e.unit_id for e in predecessors} == {demo.id("HG"), demo.id("TQ")}
    assert {(e.change, e.effective_on) for e in predecessors} == {("CONSOLIDATE", LOCAL_REFORM)}
    names = [q.last_known_unit(conn, e.unit_id, NOW_POSITION) for e in predecessors]
    assert sorted(u.name for u in names if u) == sorted(f"Tỉnh {n}" for n in PROVINCE_MERGER[2])
    for key in ("HG", "TQ"):
        _, after = q.lineage(conn, demo.id(key), NOW_POSITION)
        assert [(e.unit_id, e.change) for e in after] == [(demo.id("TQ25"), "CONSOLIDATE")]
    figures = q.staffing(conn, demo.id("TQ25"), LOCAL_REFORM, NOW_POSITION)
    assert figures is not None and figures.excess_allowed_until == date(2030, 7, 1)


def test_ministry_of_planning_and_investment_is_absorbed_on_1_march_2025(demo: Demo, conn: Connection) -> None:
    q = demo.ledger.queries
    assert name_on(demo, conn, "BKHDT", date(2025, 2, 28)) == MINISTRY_MERGER[2][0]
    assert name_on(demo, conn, "BKHDT", date(2025, 3, 1)) is None
    assert name_on(demo, conn, "BTC", date(2025, 3, 1)) == MINISTRY_MERGER[0]
    predecessors, _ = q.lineage(conn, demo.id("BTC"), NOW_POSITION)
    assert [(e.unit_id, e.change) for e in predecessors] == [(demo.id("BKHDT"), "ABSORB")]
    assert headcount(demo, conn, "BTC", date(2025, 2, 28)) == demo.plan.headcount({"BTC"}, date(2025, 2, 28))
    assert headcount(demo, conn, "BTC", date(2025, 3, 1)) == demo.plan.headcount(CENTRAL, date(2025, 3, 1))
    figures = q.staffing(conn, demo.id("BTC"), date(2025, 3, 1), NOW_POSITION)
    assert figures is not None and figures.excess_allowed_until == date(2030, 3, 1)


def test_lineage_honours_the_reference_tables() -> None:
    files = {"ministries-2025.csv": MINISTRY_MERGER, "provinces-2025.csv": PROVINCE_MERGER}
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    for name, (successor, change, predecessors) in files.items():
        with (SHARED_DATA / name).open(encoding="utf-8") as handle:
            rows = {row[0]: row for row in csv.reader(handle)}
        assert rows[successor][1:] == [change, ";".join(predecessors)]


def test_retracted_quota_figure_is_known_only_between_its_entry_and_its_retraction(demo: Demo,
                                                                                   conn: Connection) -> None:
    q, fix = demo.ledger.queries, demo.plan.correction

    def quota_known_at(moment: datetime | None) -> tuple[int, set[str]]:
        figures = q.staffing(conn, demo.id(fix.unit), fix.effective_on, q.knowledge_position(conn, moment))
        assert figures is not None
        line = next(x for x in figures.lines if x.category == fix.category.value)
        return line.quota_of(fix.kind.value), {e.fact_id for e in line.entries if e.kind == fix.kind.value}

    retracted = demo.summary.retracted_fact_id
    tick = timedelta(microseconds=1)
    assert quota_known_at(fix.entered_at - tick)[0] == fix.previous
    assert quota_known_at(fix.retracted_at - tick) == (fix.wrong, {retracted})
    amount, facts = quota_known_at(fix.retracted_at + timedelta(minutes=1))
    assert amount == fix.previous and retracted not in facts
    amount, facts = quota_known_at(None)
    assert amount == fix.right and retracted not in facts
    history, _ = q.history(conn, unit_id=demo.id(fix.unit), person_id=None, first=1000, after=None)
    entry = next(f for f in history if f.id == retracted)
    assert entry.retracted_by is not None and f"{fix.wrong}" in entry.data


def test_late_transfer_shows_only_once_recorded(demo: Demo, conn: Connection) -> None:
    q, late = demo.ledger.queries, demo.plan.late_transfer
    person = demo.summary.person_ids[late.person]
    day = date(2025, 7, 15)
    before = q.person(conn, person, day, q.knowledge_position(conn, late.recorded_at - timedelta(seconds=1)))
    now = q.person(conn, person, day, NOW_POSITION)
    assert before is not None and before.unit_id == demo.id(late.from_unit)
    assert now is not None and now.unit_id == demo.id(late.to_unit)
    assert now.full_name == demo.plan.people[late.person].full_name


def test_new_ward_received_its_wards_staff_by_reorganisation_and_district_staff_by_transfer(
        demo: Demo, conn: Connection) -> None:
    q, plan, ward = demo.ledger.queries, demo.plan, "TQ25.00691"
    old_wards = {k for k in plan.units[ward].predecessors}
    moved = sum(1 for p in plan.people.values() if p.unit in old_wards and p.active_on(LOCAL_REFORM))
    transferred = sum(1 for p in plan.people.values() for on, unit in p.transfers if unit == ward and on == LOCAL_REFORM)
    kinds = [m.kind for m in q.movements(conn, demo.id(ward), LOCAL_REFORM, LOCAL_REFORM, NOW_POSITION)]
    assert kinds.count("REORGANISED_IN") == moved > 0
    assert kinds.count("TRANSFERRED_IN") == transferred > 1
    known_before = q.knowledge_position(conn, plan.late_transfer.recorded_at - timedelta(seconds=1))
    kinds = [m.kind for m in q.movements(conn, demo.id(ward), LOCAL_REFORM, LOCAL_REFORM, known_before)]
    assert kinds.count("TRANSFERRED_IN") == transferred - 1


def test_downsizing_in_2025_is_governed_by_decree_178(demo: Demo, conn: Connection) -> None:
    q = demo.ledger.queries
    downsized = [k for k, p in demo.plan.people.items() if p.exit and p.exit.startswith("DOWNSIZED")]
    assert downsized
    for key in downsized[:3]:
        history, _ = q.history(conn, unit_id=None, person_id=demo.summary.person_ids[key], first=50, after=None)
        fact = next(f for f in history if f.type == "PersonDownsized")
        assert "178/2024/NĐ-CP" in fact.data and '"affected_by_restructuring":true' in fact.data
        assert fact.effective_on == demo.plan.people[key].left_on


def test_names_round_trip_unchanged(demo: Demo, conn: Connection) -> None:
    q = demo.ledger.queries
    for key, person in list(demo.plan.people.items())[::37]:
        view = q.person(conn, demo.summary.person_ids[key], person.recruited_on, NOW_POSITION)
        assert view is not None and view.full_name == person.full_name
    unit = q.unit(conn, demo.id("TQ25.00715"), date(2025, 8, 1), NOW_POSITION)
    assert unit is not None and unit.name == "Xã Lũng Cú"


def test_loading_twice_writes_nothing_new(demo: Demo) -> None:
    recorder = demo.ledger.store.recorder
    before = recorder.max_notification_id()
    again = load_demo(demo.ledger.service, demo.clock)
    assert recorder.max_notification_id() == before
    assert again.events_written == 0
    assert again.unit_ids == demo.summary.unit_ids and again.person_ids == demo.summary.person_ids
    assert again.retracted_fact_id == demo.summary.retracted_fact_id


def _report(ledger: Ledger, day: date) -> list[tuple[object, ...]]:
    with ledger.queries.connect() as c:
        rows = ledger.queries.staffing_report(c, None, day, ledger.queries.knowledge_position(c, None),
                                              include_descendants=True)
    return [(r.unit_id, r.unit.code, r.unit.name, r.level, r.unit.parent_id, r.excess_allowed_until,
             tuple((x.category, x.quota, x.headcount, tuple(sorted((e.kind, e.amount, e.act_number, e.effective_from)
                                                                   for e in x.entries))) for x in r.lines))
            for r in rows if r.unit]


def test_exported_commands_imported_into_an_empty_ledger_give_the_same_reports_on_every_date(
    demo: Demo, tmp_path: Path
) -> None:
    from staffing.application.importer import ImportMode, import_lines
    from staffing.projections.export import export_commands

    demo.ledger.projector.catch_up()
    with demo.ledger.queries.connect() as c:
        exported = list(export_commands(c))
    backend = "postgres" if not demo.ledger.settings.is_sqlite else "sqlite"
    settings, schema = settings_for(backend, tmp_path)
    copy = build(settings, inline_projection=False)
    try:
        report = import_lines(copy.service, enumerate(exported, start=1), ImportMode.ATOMIC)
        copy.projector.catch_up()
        assert report.ok and report.recorded == len(exported), report.errors[:3]
        for day in (date(2015, 6, 1), date(2024, 12, 31), date(2025, 2, 28), date(2025, 3, 1), date(2025, 6, 30),
                    date(2025, 7, 1), date(2025, 7, 31), date(2025, 12, 31), date(2030, 7, 1)):
            assert _report(copy, day) == _report(demo.ledger, day), day
    finally:
        copy.close()
        if schema:
            drop_pg_schema(schema)
