"""Importing a JSON Lines file of commands: batched, refusals named by line, atomic, dry run, resumable."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest

from staffing.application import importer
from staffing.application.importer import ImportMode, import_lines, read_lines
from staffing.bootstrap import Ledger, build
from staffing.domain.person import Person
from staffing.domain.request import request_id
from staffing.pause import FullCollections
from staffing.persistence import EventStore, event_store_env
from tests.application.helpers import last_position
from tests.support import FakeClock, drop_pg_schema, memory_ledger, settings_for

ROOT = Path(__file__).resolve().parents[2]
ACT = {"number": "15/QĐ-UBND", "issuer": "UBND tỉnh Tuyên Quang", "signedOn": "2020-01-02"}


def line(command: str, **input: Any) -> dict[str, Any]:
    return {"command": command, "input": {"effectiveOn": "2020-01-02", "act": ACT, **input}}


def province_file(communes: int, people: int) -> list[dict[str, Any]]:
    """A province, its communes with quota, and people recruited into them (ids chosen in the file)."""
    province = str(uuid4())
    lines = [line("establishUnit", id=province, code="08", name="Tỉnh Tuyên Quang", kind="PROVINCE")]
    for c in range(communes):
        commune = str(uuid4())
        lines.append(line("establishUnit", id=commune, code=f"08-{c:03d}", name=f"Xã Số {c}", kind="COMMUNE",
                          parentId=province))
        lines.append(line("assignQuota", unitId=commune, category="CIVIL_SERVANT", kind="ASSIGNED", amount=people))
        lines.extend(line("recruitPerson", id=str(uuid4()), fullName=f"Nguyễn Thị Ánh {c}-{p}",
                          birthDate="1991-05-06", gender="FEMALE", category="CIVIL_SERVANT", unitId=commune)
                     for p in range(people))
    return lines


def as_lines(lines: list[dict[str, Any] | bytes]) -> list[tuple[int, bytes]]:
    return [(n, raw if isinstance(raw, bytes) else orjson.dumps(raw)) for n, raw in enumerate(lines, start=1)]


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in lines))
    return path


def recruited(ledger: Any) -> int:
    return sum(1 for n in ledger.store.recorder.select_notifications(start=1, limit=10**9)
               if n.topic.endswith("Person.Recruited"))


def test_a_clean_file_is_recorded_through_the_handlers_many_lines_per_transaction(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = province_file(communes=3, people=4)
    saves: list[int] = []
    real_save = ledger.store.save_events
    monkeypatch.setattr(ledger.store, "save_events", lambda events: saves.append(len(events)) or real_save(events))

    report = import_lines(ledger.service, as_lines(lines), ImportMode.STOP_AT_FIRST_ERROR, batch=10)

    assert report.ok and report.lines == report.recorded == len(lines) == 19
    assert len(saves) == 2  # 19 lines in transactions of 10, not one transaction per line
    assert recruited(ledger) == 12
    assert report.events == last_position(ledger) - len(lines)  # every event but the lines' request keys


def test_a_refused_line_is_named_by_number_and_field_and_the_lines_before_it_are_recorded(ledger: Ledger) -> None:
    lines: list[Any] = province_file(communes=1, people=2)
    lines.insert(4, line("recruitPerson", fullName="Lò Văn Páo", birthDate="1990-01-01", gender="MALE",
                         category="CIVIL_SERVANT", unitId=str(uuid4())))

    report = import_lines(ledger.service, as_lines(lines), ImportMode.STOP_AT_FIRST_ERROR)

    assert [(e.line, e.code, e.field) for e in report.errors] == [(5, "NOT_FOUND", "input.unitId")]
    assert "line 5, field input.unitId: no unit with id" in str(report.errors[0])
    assert report.recorded == 4 and recruited(ledger) == 1  # lines 1-4; nothing of line 5, nothing after it


@pytest.mark.parametrize(("bad", "field", "words"), [
    (b"{not json", None, "not valid JSON"),
    (b'{"command": "hireEveryone", "input": {}}', "command", "unknown command 'hireEveryone'"),
    (orjson.dumps(line("assignQuota", unitId="x", category="CADRE", kind="ASSIGNED", amount=1, colour="red")),
     "input.colour", "no field 'colour'"),
    (orjson.dumps(line("assignQuota", category="CADRE", kind="ASSIGNED", amount=1)), "input.unitId", "required"),
    (orjson.dumps(line("assignQuota", unitId=str(uuid4()), category="CADRE", kind="ASSIGNED", amount="7")),
     "input.amount", "whole number"),
])
def test_a_malformed_line_is_refused_with_its_number_and_what_is_wrong(ledger: Ledger, bad: bytes,
                                                                        field: str | None, words: str) -> None:
    lines: list[Any] = [*province_file(communes=1, people=1), bad]

    report = import_lines(ledger.service, as_lines(lines), ImportMode.STOP_AT_FIRST_ERROR)

    assert [(e.line, e.field) for e in report.errors] == [(len(lines), field)]
    assert words in report.errors[0].message
    assert report.recorded == len(lines) - 1


def test_an_atomic_import_writes_nothing_when_any_line_is_refused(ledger: Ledger) -> None:
    lines: list[Any] = province_file(communes=2, people=2)
    lines.append(line("dissolveUnit", unitId=lines[1]["input"]["id"]))  # a commune that still has people
    head = last_position(ledger)

    report = import_lines(ledger.service, as_lines(lines), ImportMode.ATOMIC)

    assert [(e.line, e.code) for e in report.errors] == [(len(lines), "UNIT_NOT_EMPTY")]
    assert report.recorded == 0 and last_position(ledger) == head


def test_a_dry_run_decides_every_line_reports_every_refused_one_and_records_nothing(ledger: Ledger) -> None:
    lines: list[Any] = province_file(communes=2, people=2)
    lines.insert(2, b"[]")
    lines.append(line("assignQuota", unitId=str(uuid4()), category="CADRE", kind="ASSIGNED", amount=1))
    head = last_position(ledger)

    report = import_lines(ledger.service, as_lines(lines), ImportMode.DRY_RUN)

    assert [e.line for e in report.errors] == [3, len(lines)]
    assert report.decided == len(lines) - 2 and report.recorded == 0 and report.events > 0
    assert last_position(ledger) == head


def test_running_the_file_again_after_fixing_a_refused_line_writes_nothing_twice(ledger: Ledger,
                                                                                 tmp_path: Path) -> None:
    lines = province_file(communes=2, people=3)
    broken = [*lines[:5], line("assignQuota", unitId=str(uuid4()), category="CADRE", kind="ASSIGNED", amount=1),
              *lines[5:]]
    first = import_lines(ledger.service, read_lines(write(tmp_path / "a.jsonl", broken)),
                         ImportMode.STOP_AT_FIRST_ERROR)
    assert first.recorded == 5 and [e.line for e in first.errors] == [6]

    fixed = [*lines[:5], line("assignQuota", unitId=lines[1]["input"]["id"], category="CADRE", kind="ASSIGNED",
                              amount=1), *lines[5:]]
    again = import_lines(ledger.service, read_lines(write(tmp_path / "a.jsonl", fixed)),
                         ImportMode.STOP_AT_FIRST_ERROR)

    assert again.ok and again.replayed == 5 and again.recorded == len(fixed) - 5
    assert recruited(ledger) == 6


def _events_in(settings: Any) -> int:
    """How many events the log holds (counted: PostgreSQL's ids skip what a killed transaction took).

    Opened without creating tables: the stores exist, and PostgreSQL refuses catalog changes made
    concurrently ("tuple concurrently updated") while the import process starts up and creates them.
    """
    store = EventStore(env={**event_store_env(settings), "CREATE_TABLE": "no"})
    try:  # the load journal's own records (started, finished) are not the file's
        return sum(1 for n in store.recorder.select_notifications(start=1, limit=10**9) if "journal" not in n.topic)
    finally:
        store.close()


def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the import did not get far enough in time"
        time.sleep(0.05)


def test_running_a_file_again_reads_its_recorded_requests_together_not_one_by_one(ledger: Ledger,
                                                                                  tmp_path: Path) -> None:
    """Resuming a national import meets millions of lines already recorded: each batch reads the
    requests it repeats in one go (``load_many``), not one ``repository.get`` per line."""
    path = write(tmp_path / "a.jsonl", province_file(communes=3, people=20))
    first = import_lines(ledger.service, read_lines(path), ImportMode.STOP_AT_FIRST_ERROR, batch=25)
    assert first.ok and first.recorded == 67  # the province, 3 communes and their quota, 60 people
    singles: list[Any] = []
    real = ledger.store.repository.get
    ledger.store.repository.get = lambda *a, **k: singles.append(a[0]) or real(*a, **k)  # type: ignore[method-assign]
    again = import_lines(ledger.service, read_lines(path), ImportMode.STOP_AT_FIRST_ERROR, batch=25)
    assert again.ok and again.replayed == 67 and again.recorded == 0 and recruited(ledger) == 60
    assert singles == []


@pytest.mark.parametrize("store_kind", ["sqlite", "postgres"])
def test_an_import_killed_midway_resumes_where_it_stopped_and_writes_nothing_twice(store_kind: str,
                                                                                    tmp_path: Path) -> None:
    lines = province_file(communes=40, people=60)  # 2,481 lines
    path = write(tmp_path / "province.jsonl", lines)
    settings, schema = settings_for(store_kind, tmp_path / "store")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    build(settings).close()  # the stores exist before two processes open them at once
    env = {**os.environ, "STAFFING_DATA_DIR": str(settings.data_dir)}
    if schema:
        env.update(STAFFING_DATABASE_URL=settings.database_url.render_as_string(hide_password=False),
                   STAFFING_DB_SCHEMA=schema)
    command = [sys.executable, "-m", "staffing", "import", str(path), "--batch", "10"]
    try:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_for(lambda: _events_in(settings) > 200 or process.poll() is not None, 60)
            if process.poll() is not None:
                raise AssertionError("the import ended before it could be killed: "
                                     + (process.stderr.read().decode() if process.stderr else ""))
            os.kill(process.pid, signal.SIGKILL)
        finally:
            process.wait(30)
        written = _events_in(settings)
        reference = memory_ledger(FakeClock())
        total = import_lines(reference.service, as_lines(lines), ImportMode.STOP_AT_FIRST_ERROR)
        expected = len(reference.store.recorder.select_notifications(start=1, limit=10**9))
        assert total.ok and 0 < written < expected, "the kill should land in the middle of the file"

        resumed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

        assert resumed.returncode == 0, resumed.stderr
        assert "already recorded earlier" in resumed.stdout
        assert _events_in(settings) == expected  # the same log as one uninterrupted import: nothing twice
        store = EventStore(env=event_store_env(settings))
        try:
            people = {UUID(p["input"]["id"]) for p in lines if p["command"] == "recruitPerson"}
            assert all(isinstance(store.repository.get(p), Person) for p in people)
        finally:
            store.close()
    finally:
        if schema:
            drop_pg_schema(schema)


def test_a_late_recruitment_and_the_exit_it_needs_may_stand_in_different_transactions(ledger: Ledger) -> None:
    """Someone recorded late in a unit dissolved since needs their exit recorded with them; the import
    carries the lines from the recruitment on into the next transaction until the exit arrives."""
    province, division, person = str(uuid4()), str(uuid4()), str(uuid4())
    lines = [
        line("establishUnit", id=province, code="08", name="Tỉnh Tuyên Quang", kind="PROVINCE"),
        line("establishUnit", id=division, code="08-P", name="Phòng Tổng hợp", kind="DIVISION", parentId=province),
        {"command": "dissolveUnit", "input": {"unitId": division, "effectiveOn": "2025-07-01", "act": ACT}},
        {"command": "recruitPerson", "input": {"id": person, "fullName": "Lò Thị Sen", "birthDate": "1990-01-01",
                                               "gender": "FEMALE", "category": "CIVIL_SERVANT", "unitId": division,
                                               "effectiveOn": "2024-03-01", "act": ACT}},
        line("assignQuota", unitId=province, category="CADRE", kind="ASSIGNED", amount=3),
        line("assignQuota", unitId=province, category="CADRE", kind="TEMPORARY", amount=1),
        {"command": "transferPerson", "input": {"personId": person, "toUnitId": province,
                                                "effectiveOn": "2025-06-01", "act": ACT}},
    ]

    report = import_lines(ledger.service, as_lines(lines), ImportMode.STOP_AT_FIRST_ERROR, batch=3)

    assert report.ok and report.recorded == len(lines), report.errors
    assert recruited(ledger) == 1


def test_a_late_recruitment_whose_exit_never_comes_is_refused_naming_its_line(ledger: Ledger) -> None:
    province, division = str(uuid4()), str(uuid4())
    lines = [
        line("establishUnit", id=province, code="08", name="Tỉnh Tuyên Quang", kind="PROVINCE"),
        line("establishUnit", id=division, code="08-P", name="Phòng Tổng hợp", kind="DIVISION", parentId=province),
        {"command": "dissolveUnit", "input": {"unitId": division, "effectiveOn": "2025-07-01", "act": ACT}},
        {"command": "recruitPerson", "input": {"fullName": "Lò Thị Sen", "birthDate": "1990-01-01",
                                               "gender": "FEMALE", "category": "CIVIL_SERVANT", "unitId": division,
                                               "effectiveOn": "2024-03-01", "act": ACT}},
        *[line("assignQuota", unitId=province, category="CADRE", kind="ASSIGNED", amount=n) for n in range(1, 4)],
    ]

    report = import_lines(ledger.service, as_lines(lines), ImportMode.STOP_AT_FIRST_ERROR, batch=3)

    assert [(e.line, e.code) for e in report.errors] == [(4, "UNIT_ENDED")]
    assert "dissolved" in report.errors[0].message and report.recorded == 3


def test_an_import_runs_with_full_collections_on_a_budget_ticked_after_each_transaction(ledger: Ledger) -> None:
    """With the collector on a budget (the import before RESULTS section 61, now a benchmark setting),
    the import decides its lines with the automatic full collections held off, and ticks the budget
    after each transaction, so its cyclic garbage is still collected in full now and then."""
    seen: list[int] = []
    real_tick = FullCollections.tick

    def tick(self: FullCollections) -> bool:
        seen.append(gc.get_threshold()[2])
        self._last_end = -1e9  # let the budget allow it each time
        return real_tick(self)

    before = gc.get_threshold()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(FullCollections, "tick", tick)
        mp.setattr(importer, "COLLECTOR", "budget")
        report = import_lines(ledger.service, as_lines(province_file(communes=2, people=3)),
                              ImportMode.STOP_AT_FIRST_ERROR, batch=4)
    assert report.ok and len(seen) == 3  # 11 lines in transactions of 4
    assert all(threshold >= 2**30 for threshold in seen)
    assert gc.get_threshold() == before


def _request_ids(ledger: Ledger) -> list[UUID]:
    return [n.originator_id for n in ledger.store.recorder.select_notifications(start=1, limit=10**9)
            if n.topic.endswith("Request.Handled")]


def test_an_imports_request_records_are_named_in_the_order_of_its_lines(ledger: Ledger, tmp_path: Path) -> None:
    """Their ids then grow as the file goes on (``Item.sequence``), so a national import appends to the
    store's index of aggregates instead of dirtying a random leaf of it per line (RESULTS, section 58);
    a line's own ``requestKey`` keeps the id the API gives that key."""
    lines = province_file(communes=3, people=20)
    lines[10]["input"]["requestKey"] = "client-key-1"
    report = import_lines(ledger.service, read_lines(write(tmp_path / "a.jsonl", lines)),
                          ImportMode.STOP_AT_FIRST_ERROR, batch=25)
    assert report.ok and report.recorded == len(lines)
    ids = _request_ids(ledger)
    assert len(ids) == len(lines) and request_id("client-key-1") in ids
    by_line = [i for i in ids if i != request_id("client-key-1")]
    assert by_line == sorted(by_line) and len(set(by_line)) == len(lines) - 1


def test_a_file_imported_before_its_records_were_named_by_line_is_resumed_not_imported_twice(
        ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store written by the code before names an import's requests by key alone: a second run finds
    those records too (``Item.earlier_request_id``) and replays those lines; the rest are recorded
    under the new names, and a third run replays everything."""
    from staffing.application import importer
    lines = province_file(communes=2, people=10)
    path = write(tmp_path / "a.jsonl", lines)
    keyed = importer._keyed
    monkeypatch.setattr(importer, "_keyed", lambda raw: ((n, r, k, None) for n, r, k, _ in keyed(raw)))
    first = import_lines(ledger.service, read_lines(path), ImportMode.STOP_AT_FIRST_ERROR, batch=7)
    assert first.ok
    monkeypatch.undo()
    more = [line("recruitPerson", id=str(uuid4()), fullName=f"Trần Văn Bình {p}", birthDate="1990-01-01",
                 gender="MALE", category="CIVIL_SERVANT", unitId=lines[1]["input"]["id"]) for p in range(6)]
    path_b = write(tmp_path / "b.jsonl", [*lines, *more])
    head = last_position(ledger)

    again = import_lines(ledger.service, read_lines(path), ImportMode.STOP_AT_FIRST_ERROR, batch=7)
    assert again.ok and again.replayed == len(lines) and again.recorded == 0 and last_position(ledger) == head
    longer = import_lines(ledger.service, read_lines(path_b), ImportMode.STOP_AT_FIRST_ERROR, batch=7)
    assert longer.ok and longer.replayed == len(lines) and longer.recorded == 6
    third = import_lines(ledger.service, read_lines(path_b), ImportMode.STOP_AT_FIRST_ERROR, batch=7)
    assert third.ok and third.replayed == len(lines) + 6 and third.recorded == 0
    assert recruited(ledger) == 26
