"""Event schema evolution: a version-1 `Person.Downsized` (before `affected_by_restructuring`
existed) is stored as it was, then read and projected through the v1→v2 upcaster."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID

from staffing.application import EstablishUnit, RecruitPerson
from staffing.bootstrap import Ledger
from staffing.domain.person import Person
from staffing.domain.values import DownsizingPolicy
from tests.support import act


def _store_as_version_1(ledger: Ledger, person_id: str) -> None:
    """Write the person's downsizing as an old client would have: no class_version, no new field."""
    person = ledger.store.repository.get(UUID(person_id))
    person.downsize(policy=DownsizingPolicy.EARLY_RETIREMENT, monthly_salary=9_000_000, insured_years=25,
                    affected_by_restructuring=False, effective_on=date(2024, 1, 1),
                    act=act("99/QĐ-UBND", date(2023, 12, 20)), at=ledger.service.clock())
    (event,) = person.collect_events()
    stored = ledger.store.mapper.to_stored_event(event)
    state = ledger.store.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    del state["affected_by_restructuring"]
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
