"""An import carries its own aggregates between its transactions (``Warm``) without changing a thing.

The rules (``staffing.application.warm``): an aggregate is handed over, not copied, so an attempt that
is refused never leaves a changed aggregate behind; the map is emptied when anyone else has written
since its own last commit; people are kept most-recently-used first, up to a limit.
"""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import eventsourcing.application
import pytest
from eventsourcing.application import project_aggregate

from staffing.application.commands import AssignQuota, EstablishUnit, RecruitPerson
from staffing.application.importer import ImportMode, import_lines, read_lines
from staffing.application.service import Item, Mode, StaffingService
from staffing.application.warm import Warm
from staffing.bootstrap import Ledger
from staffing.domain.person import Person
from staffing.domain.unit import Unit
from staffing.domain.values import ChangeKind, Gender, PersonnelCategory, QuotaKind, UnitKind
from staffing.generator import SCALES, generate
from staffing.persistence import EventStore, event_store_env
from tests.support import FakeClock, act, settings_for

BACKENDS = ("memory", "sqlite", "postgres")
DAY = date(2020, 3, 1)


def _counter_ids() -> Any:
    counter = itertools.count(1)
    return lambda: UUID(int=next(counter))


def _stored(store: EventStore) -> list[tuple[Any, ...]]:
    return [(n.originator_id, n.originator_version, n.topic, n.state)
            for n in store.recorder.select_notifications(start=1, limit=10**9)]


def _fresh_memory_service() -> StaffingService:
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    return StaffingService(store, clock=FakeClock(), id_factory=_counter_ids())


def test_an_import_carrying_its_aggregates_records_byte_for_byte_what_one_without_them_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tiny.jsonl"
    generate(path, SCALES["tiny"], 3)  # mergers, transfers, retractions, downsizing, late facts
    hits: list[int] = []
    real_take = Warm.take

    def counting_take(self: Warm, aggregate_id: UUID) -> Any:
        found = real_take(self, aggregate_id)
        hits.append(found is not None)
        return found

    monkeypatch.setattr(Warm, "take", counting_take)
    warm_service = _fresh_memory_service()
    warm_report = import_lines(warm_service, read_lines(path), ImportMode.STOP_AT_FIRST_ERROR, batch=50)
    cold_service = _fresh_memory_service()
    cold_report = import_lines(cold_service, read_lines(path), ImportMode.STOP_AT_FIRST_ERROR, batch=50, carry=False)

    assert warm_report.ok and cold_report.ok and warm_report.events == cold_report.events > 1000
    assert sum(hits) > 500  # the aggregates really were carried from one transaction to the next
    assert _stored(warm_service.store) == _stored(cold_service.store)


def test_people_read_together_before_each_batch_record_byte_for_byte_what_one_by_one_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no person kept between transactions, every person a batch names is read by
    ``EventStore.load_many`` (one read for the batch); the log is the one the import without any
    carrying records, on SQLite, where the reads are the store's own statements."""
    path = tmp_path / "tiny.jsonl"
    generate(path, SCALES["tiny"], 3)
    loaded: list[int] = []
    real_load_many = EventStore.load_many

    def counting(self: EventStore, ids: Any) -> dict[UUID, Any]:
        found = real_load_many(self, ids)
        loaded.append(sum(isinstance(a, Person) for a in found.values()))
        return found

    monkeypatch.setattr(EventStore, "load_many", counting)
    services = []
    for name in ("prefetching", "cold"):
        (tmp_path / name).mkdir()
        settings, _ = settings_for("sqlite", tmp_path / name)
        services.append(StaffingService(EventStore(env=event_store_env(settings)), clock=FakeClock(),
                                        id_factory=_counter_ids()))
    prefetching, cold = services
    warm = Warm(max_people=0, prefetch=True)
    ours = import_lines(prefetching, read_lines(path), ImportMode.STOP_AT_FIRST_ERROR, batch=50, warm=warm)
    theirs = import_lines(cold, read_lines(path), ImportMode.STOP_AT_FIRST_ERROR, batch=50, carry=False)
    assert ours.ok and theirs.ok and ours.events == theirs.events > 1000
    assert sum(loaded) > 50  # people were read together, batch by batch (87 in this history)
    assert _stored(prefetching.store) == _stored(cold.store)
    for service in services:
        service.store.close()


def test_load_many_gives_what_the_repository_gives_and_leaves_out_what_is_absent(ledger: Ledger) -> None:
    """Aggregates with and without a snapshot, on every backend; ids never recorded are left out."""
    _, commune = _establish(ledger.service, Warm())
    people = [ledger.service.execute(_recruit(commune, f"Người {i}").command).person_id for i in range(3)]
    ids = [UUID(str(p)) for p in people]
    ledger.store.take_snapshot(ids[0])
    absent = UUID(int=7)
    found = ledger.store.load_many([*ids, commune, absent])
    assert set(found) == {*ids, commune}
    for aggregate_id, aggregate in found.items():
        expected = ledger.store.repository.get(aggregate_id)
        assert type(aggregate) is type(expected) and vars(aggregate) == vars(expected)


def test_aggregates_are_read_back_without_the_library_s_per_event_protocol_check(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """``persistence.fold``: the aggregates the library's ``project_aggregate`` gives, without its
    ``isinstance`` against a runtime ``Protocol`` per event (~5% of the national flow's import on
    Python 3.11, RESULTS.md section 62), read together or one by one, with or without a snapshot."""
    checks: list[object] = []

    class Counting(type):
        def __instancecheck__(cls, instance: object) -> bool:
            checks.append(instance)
            return True

    monkeypatch.setattr(eventsourcing.application, "CanMutateProtocol", Counting("CanMutate", (), {}))
    _, commune = _establish(ledger.service, Warm())
    ids = [UUID(str(ledger.service.execute(_recruit(commune, f"Người {i}").command).person_id)) for i in range(3)]
    ledger.service.execute(_recruit(commune, "Người 4").command)
    ledger.store.take_snapshot(ids[0])  # (the library's snapshot taking: its own projector, not a read back)
    ledger.store.repository.cache = None  # (a fresh process's store: nothing cached)
    checks.clear()
    together = ledger.store.load_many([*ids, commune])
    one_by_one = {u: ledger.store.repository.get(u) for u in [*ids, commune]}
    assert checks == []

    for aggregate_id in [*ids, commune]:
        expected = project_aggregate(None, ledger.store.events.get(aggregate_id))  # the library's own
        for found in (together[aggregate_id], one_by_one[aggregate_id]):
            assert type(found) is type(expected) and vars(found) == vars(expected)
    assert checks  # the library's own projector does check: the counter sees it


def _establish(service: StaffingService, warm: Warm) -> tuple[UUID, UUID]:
    province, commune = UUID(int=10**6), UUID(int=10**6 + 1)
    outcome = service.run([
        Item(EstablishUnit(act=act(), effective_on=DAY, id=province, code="08", name="Tỉnh Tuyên Quang",
                           kind=UnitKind.PROVINCE, parent_id=None)),
        Item(EstablishUnit(act=act(), effective_on=DAY, id=commune, code="08-001", name="Xã Minh Thanh",
                           kind=UnitKind.COMMUNE, parent_id=province)),
        Item(AssignQuota(act=act(), effective_on=DAY, unit_id=commune, category=PersonnelCategory.CIVIL_SERVANT,
                         kind=QuotaKind.ASSIGNED, amount=5)),
    ], Mode.PREFIX, warm=warm)
    assert outcome.recorded and commune in warm
    return province, commune


def _recruit(commune: UUID, name: str = "Nguyễn Thị Ánh") -> Item:
    return Item(RecruitPerson(act=act(), effective_on=DAY, id=None, full_name=name, birth_date=date(1991, 5, 6),
                              gender=Gender.FEMALE, category=PersonnelCategory.CIVIL_SERVANT, unit_id=commune))


def test_a_refused_attempt_leaves_nothing_it_changed_in_the_map(ledger: Ledger) -> None:
    """The first pass recruits into the commune, then a line is refused; the second pass (the lines
    before it) must start from the stored commune, not the one the first pass changed."""
    warm = Warm()
    _, commune = _establish(ledger.service, warm)
    refused = Item(AssignQuota(act=act(), effective_on=DAY, unit_id=UUID(int=404), category=PersonnelCategory.CIVIL_SERVANT,
                               kind=QuotaKind.ASSIGNED, amount=5))

    outcome = ledger.service.run([_recruit(commune), refused], Mode.PREFIX, warm=warm)

    assert outcome.recorded and set(outcome.errors) == {1}
    carried = warm.take(commune)
    stored = ledger.store.repository.get(commune)
    assert isinstance(carried, Unit) and carried.version == stored.version
    assert carried.member_ids == stored.member_ids and len(stored.member_ids) == 1


def test_another_writer_in_between_empties_the_map_and_its_change_is_seen(ledger: Ledger) -> None:
    warm = Warm()
    _, commune = _establish(ledger.service, warm)
    ledger.service.execute(_recruit(commune, "Trần Văn Bình").command)  # not through the map

    outcome = ledger.service.run([_recruit(commune, "Lê Thị Cúc")], Mode.PREFIX, warm=warm)

    assert outcome.recorded and warm.cleared == 1
    carried = warm.take(commune)
    assert isinstance(carried, Unit) and len(carried.member_ids) == 2
    assert carried.version == ledger.store.repository.get(commune).version


def test_a_concurrent_save_that_races_past_the_check_empties_the_map_and_the_command_is_retried(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    warm = Warm()
    _, commune = _establish(ledger.service, warm)
    real_check = Warm.check
    raced: list[bool] = []

    def check_then_race(self: Warm, head: int) -> None:
        real_check(self, head)
        if not raced:  # another writer commits right after the check
            raced.append(True)
            other = StaffingService(ledger.store, clock=FakeClock())
            other.execute(_recruit(commune, "Trần Văn Bình").command)

    monkeypatch.setattr(Warm, "check", check_then_race)
    outcome = ledger.service.run([_recruit(commune, "Lê Thị Cúc")], Mode.PREFIX, warm=warm)

    assert outcome.recorded and warm.cleared >= 1
    assert len(ledger.store.repository.get(commune).member_ids) == 2  # neither recruitment was lost


def test_units_are_always_kept_and_people_only_the_most_recently_used() -> None:
    warm = Warm(max_people=2)
    unit = Unit.establish(unit_id=UUID(int=1), code="08", name="Tỉnh Tuyên Quang", kind=UnitKind.PROVINCE,
                          autonomy=None, parent=None, change=ChangeKind.ESTABLISH, predecessor_ids=[],
                          effective_on=DAY, act=act(), at=FakeClock()())
    people = [Person.recruit(person_id=UUID(int=2 + i), full_name=f"Người {i}", birth_date=date(1990, 1, 1),
                             gender=Gender.MALE, category=PersonnelCategory.CIVIL_SERVANT, rank="", unit_id=unit.id,
                             position_id=None, effective_on=DAY, act=act(), at=FakeClock()()) for i in range(3)]
    warm.keep([unit, *people], position=7)
    assert unit.id in warm and not unit.pending_events  # kept with its events collected
    assert [p.id in warm for p in people] == [False, True, True]
    warm.check(7)
    assert len(warm) == 3
    warm.check(8)  # someone else wrote
    assert len(warm) == 0 and warm.position is None


def test_a_bounded_map_forgets_the_least_recently_used_units_first() -> None:
    warm = Warm(max_people=10, max_structure=2)
    units = [Unit.establish(unit_id=UUID(int=100 + i), code=f"U{i}", name=f"Đơn vị {i}", kind=UnitKind.PROVINCE,
                            autonomy=None, parent=None, change=ChangeKind.ESTABLISH, predecessor_ids=[],
                            effective_on=DAY, act=act(), at=FakeClock()()) for i in range(3)]
    warm.keep(units[:2], position=1)
    assert warm.take(units[0].id) is units[0]
    warm.keep([units[0]], position=2)  # used again: now the most recent
    warm.keep([units[2]], position=3)
    assert [u.id in warm for u in units] == [True, False, True]
    assert Warm().max_structure is None  # an import keeps every unit
