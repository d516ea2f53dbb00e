"""Event schema evolution: version-1 events, stored as the first round wrote them, are read through
their upcasters — `Person.Downsized` (before `affected_by_restructuring`), `StaffingQuota.FigureSet`
(before derived figures remembered `delta`/`inherits`) and `Unit.Moved` (before `by_reorganisation`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID

from staffing.application import EstablishUnit, RecruitPerson
from staffing.bootstrap import Ledger
from staffing.domain.person import Person
from staffing.domain.values import DownsizingPolicy
from tests.support import act


def _store_as_version_1(ledger: Ledger, person_id: str, version: int = 1) -> None:
    """Write the person's downsizing as an old client would have: version 1 had no class_version and
    no ``affected_by_restructuring``; version 2 had neither the payout nor its inputs."""
    person = ledger.store.repository.get(UUID(person_id))
    person.downsize(policy=DownsizingPolicy.EARLY_RETIREMENT, monthly_salary=9_000_000, insured_years=25,
                    affected_by_restructuring=False, effective_on=date(2024, 1, 1),
                    act=act("99/QĐ-UBND", date(2023, 12, 20)), at=ledger.service.clock(), months_to_retirement=24)
    (event,) = person.collect_events()
    stored = ledger.store.mapper.to_stored_event(event)
    state = ledger.store.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 3
    for name in ("months_to_retirement", "months_since_reorganisation", "payout"):
        del state[name]
    if version == 1:
        del state["affected_by_restructuring"]
    else:
        state["class_version"] = 2
    ledger.store.recorder.insert_events([replace(stored, state=ledger.store.mapper.transcoder.encode(state))])


def test_version_1_downsizing_event_is_upcast_when_read(ledger: Ledger) -> None:
    unit = ledger.service.execute(EstablishUnit(code="S1", name="Sở Nội vụ", kind="PROVINCE", parent_id=None, effective_on=date(2020, 1, 1), act=act())).unit_id
    person_id = ledger.service.execute(RecruitPerson(full_name="Đỗ Văn Bình", birth_date=date(1966, 4, 1), gender="MALE", category="CIVIL_SERVANT", unit_id=unit, effective_on=date(2020, 1, 1), act=act())).person_id
    _store_as_version_1(ledger, person_id)

    person = ledger.store.repository.get(UUID(person_id))
    assert person.status.value == "DOWNSIZED"
    downsized = [e for e in ledger.store.events.get(UUID(person_id)) if isinstance(e, Person.Downsized)]
    assert len(downsized) == 1 and downsized[0].affected_by_restructuring is False


def test_version_1_event_still_projects_into_the_read_models(ledger: Ledger) -> None:
    unit = ledger.service.execute(EstablishUnit(code="S2", name="Sở Tài chính", kind="PROVINCE", parent_id=None, effective_on=date(2020, 1, 1), act=act())).unit_id
    person_id = ledger.service.execute(RecruitPerson(full_name="Vũ Thị Lan", birth_date=date(1968, 9, 9), gender="FEMALE", category="CIVIL_SERVANT", unit_id=unit, effective_on=date(2020, 1, 1), act=act())).person_id
    _store_as_version_1(ledger, person_id)
    ledger.projector.catch_up()
    with ledger.queries.connect() as conn:
        position = ledger.queries.knowledge_position(conn, None)
        before = ledger.queries.staffing(conn, unit, date(2023, 12, 31), position)
        after = ledger.queries.staffing(conn, unit, date(2024, 1, 1), position)
        moves = ledger.queries.movements(conn, unit, date(2024, 1, 1), date(2024, 1, 1), position)
    assert before is not None and after is not None
    assert (before.total_headcount, after.total_headcount) == (1, 0)
    assert [m.kind for m in moves] == ["DOWNSIZED"]


def _as_version_1(ledger: Ledger, event: object, drop: tuple[str, ...]) -> None:
    """Store ``event`` as the first round wrote it: no class_version, without the fields named."""
    stored = ledger.store.mapper.to_stored_event(event)  # type: ignore[arg-type]
    state = ledger.store.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    for name in drop:
        del state[name]
    ledger.store.recorder.insert_events([replace(stored, state=ledger.store.mapper.transcoder.encode(state))])


def test_version_1_quota_figure_is_read_as_a_plain_figure_and_later_figures_still_derive(ledger: Ledger) -> None:
    from staffing.application import AssignQuota
    from staffing.domain.quota import QuotaFactReason, StaffingQuota, quota_ledger_id
    from staffing.domain.values import PersonnelCategory, QuotaKind

    unit = ledger.service.execute(EstablishUnit(code="Q1", name="Sở Y tế", kind="PROVINCE", effective_on=date(2020, 1, 1), act=act())).unit_id
    ledger.service.execute(AssignQuota(unit_id=unit, category="CIVIL_SERVANT", kind="ASSIGNED", amount=10, effective_on=date(2020, 1, 1), act=act()))  # type: ignore[arg-type]
    figures: StaffingQuota = ledger.store.repository.get(quota_ledger_id(UUID(unit)))
    figures.set_figure(category=PersonnelCategory.CIVIL_SERVANT, kind=QuotaKind.ASSIGNED, amount=7,
                       reason=QuotaFactReason.TRANSFER_OUT, effective_on=date(2022, 1, 1), act=act(),
                       at=ledger.service.clock(), delta=-3)
    (event,) = figures.collect_events()
    _as_version_1(ledger, event, ("delta", "inherits"))

    loaded: StaffingQuota = ledger.store.repository.get(quota_ledger_id(UUID(unit)))
    (old,) = [f for f in loaded.active(PersonnelCategory.CIVIL_SERVANT, QuotaKind.ASSIGNED) if f["effective_on"] == date(2022, 1, 1)]
    assert (old["amount"], old["delta"], old["inherits"]) == (7, None, [])  # a legacy figure is taken as set
    ledger.service.execute(AssignQuota(unit_id=unit, category="CIVIL_SERVANT", kind="ASSIGNED", amount=20, effective_on=date(2021, 1, 1), act=act()))  # type: ignore[arg-type]
    assert ledger.store.repository.get(quota_ledger_id(UUID(unit))).current(PersonnelCategory.CIVIL_SERVANT, QuotaKind.ASSIGNED) == 7


def test_version_1_unit_move_is_read_as_an_own_move_that_can_be_retracted(ledger: Ledger) -> None:
    from staffing.application import RetractFact
    from staffing.domain.unit import Unit

    first = ledger.service.execute(EstablishUnit(code="M1", name="Tỉnh A", kind="PROVINCE", effective_on=date(2020, 1, 1), act=act())).unit_id
    second = ledger.service.execute(EstablishUnit(code="M2", name="Tỉnh B", kind="PROVINCE", effective_on=date(2020, 1, 1), act=act())).unit_id
    child = ledger.service.execute(EstablishUnit(code="M3", name="Sở C", kind="PROVINCIAL_DEPARTMENT", parent_id=first, effective_on=date(2020, 1, 1), act=act())).unit_id
    unit: Unit = ledger.store.repository.get(UUID(child))
    old_parent: Unit = ledger.store.repository.get(UUID(first))
    new_parent: Unit = ledger.store.repository.get(UUID(second))
    unit.move(old_parent=old_parent, new_parent=new_parent, new_parent_ancestor_ids=[], effective_on=date(2021, 1, 1),
              act=act(), at=ledger.service.clock())
    moved, *rosters = unit.collect_events() + old_parent.collect_events() + new_parent.collect_events()
    _as_version_1(ledger, moved, ("by_reorganisation",))
    ledger.store.save_events(rosters)

    loaded: Unit = ledger.store.repository.get(UUID(child))
    assert loaded.parent_id == UUID(second) and loaded.facts[-1]["kind"] == "MOVED"
    ledger.service.execute(RetractFact(fact_id=f"{child}:{loaded.version}", reason="nhầm", act=act()))
    assert ledger.store.repository.get(UUID(child)).parent_id == UUID(first)


def test_version_2_downsizing_event_is_read_with_no_payout(ledger: Ledger) -> None:
    unit = ledger.service.execute(EstablishUnit(code="S2", name="Sở Nội vụ", kind="PROVINCE", parent_id=None,
                                                effective_on=date(2020, 1, 1), act=act())).unit_id
    person_id = ledger.service.execute(RecruitPerson(
        full_name="Đỗ Thị Lan", birth_date=date(1967, 4, 1), gender="FEMALE", category="CIVIL_SERVANT", unit_id=unit,
        effective_on=date(2020, 1, 1), act=act())).person_id
    _store_as_version_1(ledger, person_id, version=2)
    downsized = [e for e in ledger.store.events.get(UUID(person_id)) if isinstance(e, Person.Downsized)]
    assert len(downsized) == 1 and downsized[0].payout is None and downsized[0].months_to_retirement is None
    ledger.projector.catch_up()  # and it still projects
