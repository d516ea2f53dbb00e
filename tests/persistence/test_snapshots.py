"""Snapshots are a faithful cache: an aggregate loaded from a snapshot equals its full replay,
types included (enums stay enums, sets stay sets)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from staffing.application import AssignQuota, EstablishUnit, RecruitPerson, RenameUnit, RetirePerson, TransferPerson
from staffing.bootstrap import Ledger
from staffing.domain.person import Person
from staffing.domain.quota import StaffingQuota, quota_ledger_id
from staffing.domain.snapshot import restore_state, tag_state
from staffing.domain.unit import Unit
from staffing.domain.values import PersonnelCategory, QuotaKind, UnitKind, UnitStatus
from tests.support import act


def _replayed(ledger: Ledger, aggregate_id: UUID) -> Any:
    aggregate = None
    for event in ledger.store.events.get(aggregate_id):
        aggregate = event.mutate(aggregate)
    return aggregate


def _snapshot_versions(ledger: Ledger, aggregate_id: UUID) -> list[int]:
    assert ledger.store.snapshots is not None
    return [s.originator_version for s in ledger.store.snapshots.get(aggregate_id)]


def test_tagging_round_trips_enums_sets_tuples_and_non_string_keys() -> None:
    state = {"kind": UnitKind.PROVINCE, "ids": {uuid4(), uuid4()}, "history": [(date(2020, 1, 1), None)],
             "series": {(PersonnelCategory.CADRE, QuotaKind.ASSIGNED): [{"amount": 3}]}}
    restored = restore_state(tag_state(state))
    assert restored == state
    assert type(restored["kind"]) is UnitKind and isinstance(restored["ids"], set)


def test_a_unit_with_a_big_roster_loads_from_a_snapshot_equal_to_its_replay(ledger: Ledger) -> None:
    svc = ledger.service
    unit_id = svc.execute(EstablishUnit(code="BTC", name="Bộ Tài chính", kind="MINISTRY", parent_id=None, effective_on=date(2015, 1, 1), act=act())).unit_id
    people = [svc.execute(RecruitPerson(full_name=f"Ngô Văn {i}", birth_date=date(1985, 1, 1), gender="MALE", category="CIVIL_SERVANT", unit_id=unit_id, effective_on=date(2016, 1, 1), act=act())).person_id for i in range(205)]
    svc.execute(AssignQuota(unit_id=unit_id, category="CIVIL_SERVANT", kind="ASSIGNED", amount=300, effective_on=date(2016, 1, 1), act=act()))
    svc.execute(RetirePerson(person_id=people[0], effective_on=date(2024, 1, 1), act=act()))
    uid = UUID(unit_id)

    assert _snapshot_versions(ledger, uid) == [200]
    loaded, replayed = ledger.store.repository.get(uid), _replayed(ledger, uid)
    assert vars(loaded) == vars(replayed)
    assert loaded.status is UnitStatus.ACTIVE and loaded.kind is UnitKind.MINISTRY
    assert len(loaded.member_ids) == 204 and UUID(people[0]) not in loaded.member_ids
    # the snapshot keeps serving commands: the rules still see the right roster and types
    svc.execute(RetirePerson(person_id=people[1], effective_on=date(2024, 2, 1), act=act()))
    assert len(ledger.store.repository.get(uid).member_ids) == 203


def test_person_and_quota_ledger_snapshots_equal_their_replay(ledger: Ledger) -> None:
    svc = ledger.service
    a = svc.execute(EstablishUnit(code="A", name="Sở A", kind="PROVINCE", parent_id=None, effective_on=date(2015, 1, 1), act=act())).unit_id
    b = svc.execute(EstablishUnit(code="B", name="Sở B", kind="PROVINCE", parent_id=None, effective_on=date(2015, 1, 1), act=act())).unit_id
    person = svc.execute(RecruitPerson(full_name="Lý Thị Mai", birth_date=date(1985, 1, 1), gender="FEMALE", category="CIVIL_SERVANT", unit_id=a, effective_on=date(2015, 1, 1), act=act())).person_id
    for i in range(55):  # monthly from 2016 (effective dates stay within ten years of recording)
        svc.execute(TransferPerson(person_id=person, to_unit_id=b if i % 2 == 0 else a, effective_on=date(2016 + i // 12, i % 12 + 1, 1), act=act()))
    for i in range(101):
        svc.execute(AssignQuota(unit_id=a, category="CADRE", kind="TEMPORARY", amount=i + 16, effective_on=date(2016 + i // 12, i % 12 + 1, 1), act=act()))
    pid, lid = UUID(person), quota_ledger_id(UUID(a))
    assert _snapshot_versions(ledger, pid) and _snapshot_versions(ledger, lid)
    for aggregate_id, kind in ((pid, Person), (lid, StaffingQuota)):
        loaded = ledger.store.repository.get(aggregate_id)
        assert isinstance(loaded, kind) and vars(loaded) == vars(_replayed(ledger, aggregate_id))
    ledger_loaded = ledger.store.repository.get(lid)
    assert ledger_loaded.current(PersonnelCategory.CADRE, QuotaKind.TEMPORARY) == 116
    assert isinstance(ledger.store.repository.get(UUID(a)), Unit)


def test_a_failing_snapshot_never_fails_a_command_whose_events_committed(ledger: Ledger, monkeypatch: Any) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ledger.store, "take_snapshot", broken)
    monkeypatch.setitem(ledger.store.SNAPSHOT_EVERY, Unit, 2)
    svc = ledger.service
    unit_id = svc.execute(EstablishUnit(code="Q", name="Sở Q", kind="PROVINCE", parent_id=None, effective_on=date(2015, 1, 1), act=act())).unit_id
    svc.execute(RenameUnit(unit_id=unit_id, name="Sở Q mới", effective_on=date(2016, 1, 1), act=act()))  # version 2: due
    assert ledger.store.repository.get(UUID(unit_id)).name == "Sở Q mới"
    assert _snapshot_versions(ledger, UUID(unit_id)) == []
