"""An import's transaction commits while the next is decided: on a child process (``staffing.commit_process``,
the default on a SQLite file) or on a thread (``staffing.commit_behind``); every rule holds for both.

The rules: the log is byte for byte what committing in place records; a read of an aggregate the
transaction in flight wrote waits for its commit; another writer in between is caught before or
inside the next write and that transaction decided again; a commit that fails (or a writer process
that dies) stops the next write, which writes nothing, and leaves nothing carried; snapshots are
taken once their events are committed.
"""

from __future__ import annotations

import gc
import os
import signal
import sqlite3
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from staffing import commit_process, pause
from staffing.application import importer
from staffing.application.commands import AssignQuota, DissolveUnit, EstablishUnit
from staffing.application.importer import ImportMode, import_lines, read_lines
from staffing.application.service import Item, Mode, StaffingService
from staffing.application.warm import Warm
from staffing.bootstrap import Ledger, build
from staffing.chain import verify
from staffing.commit_behind import CommitBehind, CommitFailed
from staffing.commit_process import CommitProcess
from staffing.domain.person import Person
from staffing.domain.unit import Unit
from staffing.domain.values import PersonnelCategory, QuotaKind, UnitKind
from staffing.generator import SCALES, generate
from staffing.pause import FullCollections
from staffing.persistence import EventStore, event_store_env
from tests.application.test_warm import DAY, _counter_ids, _establish, _recruit, _stored
from tests.support import FakeClock, act, settings_for

BACKENDS = ("sqlite",)


@pytest.fixture(params=["process", "thread"])
def writer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Who commits behind (``commit_process.WRITER``), for the stores built in the test."""
    monkeypatch.setattr(commit_process, "WRITER", request.param)
    return str(request.param)


@pytest.fixture
def ledger(writer: str, ledger: Ledger) -> Ledger:
    """The ledger on a SQLite file (``conftest``'s), built once ``writer`` is chosen."""
    assert type(ledger.store.behind) is (CommitProcess if writer == "process" else CommitBehind)
    return ledger


def _service(directory: Path) -> StaffingService:
    directory.mkdir()
    settings, _ = settings_for("sqlite", directory)
    return StaffingService(EventStore(env=event_store_env(settings)), clock=FakeClock(), id_factory=_counter_ids())


def _bulk(ledger: Ledger) -> StaffingService:
    """A service over the ledger's store with no ``on_commit`` listeners, as an import's is (a service
    whose commits must be followed at once by the read models' catch-up never commits behind)."""
    return StaffingService(ledger.store, clock=FakeClock())


def _snapshots(store: EventStore) -> list[tuple[Any, ...]]:
    recorder: Any = store.snapshots.recorder  # type: ignore[union-attr]
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT originator_id, originator_version, topic FROM stored_snapshots "
                       "ORDER BY originator_id, originator_version")
        return [tuple(row) for row in cursor.fetchall()]


def _slow_commits(monkeypatch: pytest.MonkeyPatch, seconds: float, threads: list[str] | None = None,
                  writer: str = "thread") -> None:
    """Each commit behind waits ``seconds`` first (on a thread: noting the thread it runs on; by the
    writer process: before its transaction begins, ``tests.slow_store_writer``)."""
    if writer == "process":
        monkeypatch.setattr(CommitProcess, "_command", lambda self: [
            sys.executable, "-m", "tests.slow_store_writer", str(seconds), self.path, self.recorder.events_table_name])
        return
    real = CommitBehind._commit

    def slow(self: CommitBehind, connection: Any) -> None:
        if threads is not None:
            threads.append(threading.current_thread().name)
        time.sleep(seconds)
        real(self, connection)

    monkeypatch.setattr(CommitBehind, "_commit", slow)


def _slowed(ledger: Ledger, monkeypatch: pytest.MonkeyPatch, seconds: float, writer: str
            ) -> tuple[StaffingService, Warm, UUID]:
    """A bulk service over ``ledger``, its map holding a commune it established and committed, each of
    its commits behind held back ``seconds`` (``_slow_commits``)."""
    _slow_commits(monkeypatch, seconds, writer=writer)
    warm = Warm(prefetch=True)
    _, commune = _establish(service := _bulk(ledger), warm)
    ledger.store.settle()
    return service, warm, commune


def test_an_import_committing_behind_records_byte_for_byte_what_committing_in_place_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str) -> None:
    path = tmp_path / "tiny.jsonl"
    generate(path, SCALES["tiny"], 3)  # mergers, transfers, retractions, downsizing, late facts
    threads: list[str] = []
    _slow_commits(monkeypatch, 0.005, threads, writer)  # the next batch is decided while each commit still runs
    monkeypatch.setitem(EventStore.SNAPSHOT_EVERY, Unit, 5)  # snapshots due in nearly every batch
    monkeypatch.setitem(EventStore.SNAPSHOT_EVERY, Person, 2)
    behind, in_place = _service(tmp_path / "behind"), _service(tmp_path / "in-place")
    ours = import_lines(behind, read_lines(path), ImportMode.STOP_AT_FIRST_ERROR, batch=50)
    theirs = import_lines(in_place, read_lines(path), ImportMode.STOP_AT_FIRST_ERROR, batch=50, carry=False)

    assert ours.ok and theirs.ok and ours.events == theirs.events > 1000
    if writer == "process":  # every transaction went through the child
        assert isinstance(behind.store.behind, CommitProcess) and behind.store.behind.written >= 10
        assert not isinstance(in_place.store.behind, CommitProcess) or in_place.store.behind.written == 0
    else:
        assert len(threads) >= 10 and all(name.startswith("store-commit") for name in threads)
    assert _stored(behind.store) == _stored(in_place.store)  # read after the import returned: all committed
    assert _snapshots(behind.store) == _snapshots(in_place.store) != []
    assert verify(behind.store.recorder).ok
    for service in (behind, in_place):
        service.store.close()


def test_a_read_of_an_aggregate_the_commit_in_flight_wrote_waits_for_that_commit(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch, writer: str) -> None:
    service, warm, commune = _slowed(ledger, monkeypatch, 0.3, writer)
    outcome = service.run([_recruit(commune, "Lê Thị Cúc")], Mode.PREFIX, warm=warm, commit_behind=True)
    assert outcome.recorded and ledger.store.behind is not None and ledger.store.behind.pending

    person = UUID(outcome.ids[0])
    assert ledger.store.existing([person]) == {person}  # waited: the recruitment is committed, not missed
    assert not ledger.store.behind.pending
    unit = ledger.store.load_many([commune])[commune]
    assert isinstance(unit, Unit) and person in unit.member_ids


def test_another_writer_between_two_transactions_is_caught_in_the_write_and_the_second_decided_again(
        ledger: Ledger) -> None:
    """Another writer dissolves a commune our map holds; our next transaction only reads that commune
    (a first quota writes a new ledger, not the unit), so no version conflict would reveal the stale
    copy: the check inside the write must, and the quota must then be refused."""
    warm = Warm(prefetch=True)
    province, _ = _establish(service := _bulk(ledger), warm)
    commune = UUID(int=10**6 + 2)
    service.run([Item(EstablishUnit(act=act(), effective_on=DAY, id=commune, code="08-002", name="Xã Hùng Lợi",
                                    kind=UnitKind.COMMUNE, parent_id=province))], Mode.PREFIX, warm=warm,
                commit_behind=True)
    ledger.store.settle()
    ledger.service.execute(DissolveUnit(act=act(), effective_on=DAY, unit_id=commune))  # not through the map

    quota = AssignQuota(act=act(), effective_on=DAY + timedelta(days=30), unit_id=commune,
                        category=PersonnelCategory.CIVIL_SERVANT, kind=QuotaKind.ASSIGNED, amount=5)
    second = service.run([Item(quota)], Mode.PREFIX, warm=warm, commit_behind=True)
    ledger.store.settle()

    assert warm.cleared == 1 and not second.recorded
    assert set(second.errors) == {0} and second.errors[0].field == "unitId"


@pytest.mark.parametrize("writer", ["thread"], indirect=True)  # the process's: the two tests after this one
def test_a_commit_that_fails_behind_stops_the_next_write_which_writes_nothing(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    warm = Warm(prefetch=True)
    _, commune = _establish(service := _bulk(ledger), warm)
    before = len(_stored(ledger.store))
    failures = ["disk I/O error"]
    real = CommitBehind._commit

    def failing(self: CommitBehind, connection: Any) -> None:
        if failures:  # the commit fails as a full or broken disk makes it fail: the transaction rolls back
            connection.rollback()
            self.recorder.datastore.pool.put_connection(connection)
            raise sqlite3.OperationalError(failures.pop())
        real(self, connection)

    monkeypatch.setattr(CommitBehind, "_commit", failing)
    first = service.run([_recruit(commune, "Lê Thị Cúc")], Mode.PREFIX, warm=warm, commit_behind=True)
    assert first.recorded  # decided and written; its commit fails on the thread
    with pytest.raises(CommitFailed, match="failed to commit.*disk I/O error.*run the same file again"):
        service.run([_recruit(commune, "Trần Văn Bình")], Mode.PREFIX, warm=warm, commit_behind=True)

    assert len(_stored(ledger.store)) == before  # neither the failed transaction nor the next one
    assert len(warm) == 0  # nothing carried that is not on record
    again = service.run([_recruit(commune, "Trần Văn Bình")], Mode.PREFIX, warm=warm, commit_behind=True)
    ledger.store.settle()
    assert again.recorded and len(ledger.store.repository.get(commune).member_ids) == 1


@pytest.mark.parametrize("writer", ["process"], indirect=True)
def test_a_writer_process_that_dies_stops_the_next_write_which_writes_nothing_and_a_new_one_takes_over(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    warm = Warm(prefetch=True)
    _, commune = _establish(service := _bulk(ledger), warm)
    ledger.store.settle()
    before = len(_stored(ledger.store))
    _slow_commits(monkeypatch, 5, writer="process")
    assert isinstance(committer := ledger.store.behind, CommitProcess)
    committer._stop()  # the next write starts a child that holds its transaction back for 5 s
    first = service.run([_recruit(commune, "Lê Thị Cúc")], Mode.PREFIX, warm=warm, commit_behind=True)
    assert first.recorded and committer.pending and committer.pid is not None
    os.kill(committer.pid, signal.SIGKILL)  # killed (out of memory, say) before it began the transaction
    with pytest.raises(CommitFailed, match="failed to commit.*ended with exit code -9.*run the same file again"):
        service.run([_recruit(commune, "Trần Văn Bình")], Mode.PREFIX, warm=warm, commit_behind=True)

    assert len(_stored(ledger.store)) == before  # neither the lost transaction nor the next one
    assert len(warm) == 0  # nothing carried that is not on record
    monkeypatch.undo()
    again = service.run([_recruit(commune, "Trần Văn Bình")], Mode.PREFIX, warm=warm, commit_behind=True)
    ledger.store.settle()  # a new child wrote it
    assert again.recorded and len(ledger.store.repository.get(commune).member_ids) == 1
    assert verify(ledger.store.recorder).ok


@pytest.mark.parametrize("writer", ["process"], indirect=True)
def test_a_write_that_lands_between_the_check_and_the_child_s_transaction_is_refused_by_the_child(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The head is checked before the transaction is handed over; another process that writes in the
    instant after (here: while the child holds the transaction back) is caught inside the child's
    transaction, which then writes nothing: the positions told to the caller are never wrong."""
    warm = Warm(prefetch=True)
    _, commune = _establish(service := _bulk(ledger), warm)
    ledger.store.settle()
    _slow_commits(monkeypatch, 0.5, writer="process")
    assert isinstance(committer := ledger.store.behind, CommitProcess)
    committer._stop()
    mine = service.run([_recruit(commune, "Lê Thị Cúc")], Mode.PREFIX, warm=warm, commit_behind=True)
    assert mine.recorded and committer.pending
    other = build(settings_for("sqlite", tmp_path)[0], clock=FakeClock())  # another process's ledger, same file
    try:
        theirs = other.service.execute(EstablishUnit(act=act(), effective_on=DAY, code="08-099", name="Xã Khác",
                                                     kind=UnitKind.COMMUNE))
    finally:
        other.close()
    with pytest.raises(CommitFailed, match="head moved"):  # raised by the next write, which writes nothing
        service.run([_recruit(commune, "Trần Văn Bình")], Mode.PREFIX, warm=warm, commit_behind=True)

    recorded = {UUID(str(row[0])) for row in _stored(ledger.store)}
    assert UUID(theirs.ids[0]) in recorded and UUID(mine.ids[0]) not in recorded  # theirs is recorded, ours not
    assert len(warm) == 0 and len(ledger.store.repository.get(commune).member_ids) == 0
    assert verify(ledger.store.recorder).ok


def test_a_snapshot_due_from_a_transaction_still_committing_is_taken_once_it_has(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch, writer: str) -> None:
    service, warm, commune = _slowed(ledger, monkeypatch, 0.2, writer)
    monkeypatch.setitem(EventStore.SNAPSHOT_EVERY, Unit, 3)
    outcome = service.run([_recruit(commune, f"Người {i}") for i in range(4)], Mode.PREFIX, warm=warm,
                                 commit_behind=True)
    assert outcome.recorded and _snapshots(ledger.store) == []  # not before its events are committed
    ledger.store.settle()
    version = ledger.store.repository.get(commune).version
    assert [(UUID(str(row[0])), row[1]) for row in _snapshots(ledger.store)] == [(commune, version)]


def _counted_freezes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The freeze count after each ``gc.freeze`` from now on."""
    froze: list[int] = []
    freeze = gc.freeze

    def counted() -> None:
        freeze()
        froze.append(gc.get_freeze_count())

    monkeypatch.setattr(pause.gc, "freeze", counted)
    return froze


def test_an_import_runs_with_the_collector_off_collecting_in_full_every_so_many_lines(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The import runs with CPython's collector off throughout (it makes next to no cycles), collects
    in full every ``COLLECT_EVERY`` lines, freezing what survives (the next walks only what was made
    since, RESULTS section 61), and gives the collector and the frozen objects back when it ends."""
    path = tmp_path / "tiny.jsonl"
    generate(path, SCALES["tiny"], 3)
    monkeypatch.setattr(importer, "COLLECT_EVERY", 100)
    froze = _counted_freezes(monkeypatch)
    enabled: list[bool] = []
    parse = importer._parse

    def watched(*args: Any) -> Any:  # each line parsed between the transactions
        enabled.append(gc.isenabled())
        return parse(*args)

    monkeypatch.setattr(importer, "_parse", watched)
    assert gc.isenabled()
    service = _service(tmp_path / "store")
    try:
        report = import_lines(service, read_lines(path), ImportMode.STOP_AT_FIRST_ERROR, batch=50)
        assert report.ok and report.lines > 600 and report.events > 1000
        assert len(enabled) == report.lines and not any(enabled)  # off between the transactions too
        assert len(froze) == report.lines // 100 and all(count > 0 for count in froze)
        assert gc.isenabled() and gc.get_freeze_count() == 0
    finally:
        service.store.close()


def test_an_import_with_full_collections_on_a_budget_freezes_their_survivors_only_when_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The collector as the import ran it before section 61 (young collections as usual, full ones on a
    time budget), kept as benchmark settings: frozen survivors given back when it ends, or none frozen.
    Every full collection is let run here (no interval, no share, CPython's own count rule due)."""
    path = tmp_path / "tiny.jsonl"
    generate(path, SCALES["tiny"], 3)
    monkeypatch.setattr(FullCollections, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(importer, "FullCollections", lambda freeze: FullCollections(share=1e9, freeze=freeze))
    monkeypatch.setattr(pause.gc, "get_count", lambda: (0, 0, 10**6))
    froze = _counted_freezes(monkeypatch)
    for collector, frozen in (("budget, frozen", True), ("budget", False)):
        monkeypatch.setattr(importer, "COLLECTOR", collector)
        froze.clear()
        service = _service(tmp_path / collector.replace(", ", "-"))
        try:
            assert import_lines(service, read_lines(path), ImportMode.STOP_AT_FIRST_ERROR, batch=50).ok
            assert (len(froze) >= 10) if frozen else (froze == [])
            assert gc.isenabled() and gc.get_freeze_count() == 0
        finally:
            service.store.close()
