"""SIGKILL at random moments (issue 10): a server in the middle of a large reorganisation, and a
projection catch-up, on SQLite and PostgreSQL. After each kill the log holds only whole commands,
its hash chain is intact, and once caught up the read models equal a rebuild from scratch.

CI runs ``STAFFING_CRASH_ITERATIONS`` (default 2) kills of each; the long run documented in the
README sets it to 25.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy.engine import make_url

from staffing.application import Mode
from staffing.application.importer import ImportMode, import_lines
from staffing.bootstrap import Ledger, build
from staffing.chain import verify
from staffing.config import Settings
from staffing.persistence import EventStore, event_store_env
from staffing.projections.db import make_engines
from staffing.projections.rebuild import rebuild
from tests.application.test_import import as_lines, province_file, write
from tests.projections.test_rebuild import TABLES, contents
from tests.support import bearer, drop_pg_schema, new_pg_schema, settings_for

ROOT = Path(__file__).resolve().parents[1]
ITERATIONS = int(os.environ.get("STAFFING_CRASH_ITERATIONS", "2"))
COMMUNES_PER_MERGE = 8
ACT = {"number": "1656/NQ-UBTVQH15", "issuer": "Ủy ban Thường vụ Quốc hội", "signedOn": "2025-06-16"}


def _env(settings: Settings, schema: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}
    env["STAFFING_DATA_DIR"] = str(settings.data_dir)
    if schema:
        env.update(STAFFING_DATABASE_URL=settings.database_url.render_as_string(hide_password=False),
                   STAFFING_DB_SCHEMA=schema)
    return env


def _count(settings: Settings) -> int:
    """Events in the log, read without creating tables: PostgreSQL refuses catalog changes made while
    another process starts up and creates them ("tuple concurrently updated")."""
    store = EventStore(env={**event_store_env(settings), "CREATE_TABLE": "no"})
    try:
        return len(store.recorder.select_notifications(start=1, limit=10**9))
    finally:
        store.close()


def _settle_and_compare(settings: Settings, tmp_path: Path, label: str) -> None:
    """The chain is intact; caught up, the read models equal a rebuild from scratch."""
    ledger = build(settings, inline_projection=False)
    try:
        report = verify(ledger.store.recorder)
        assert report.ok, f"{label}: {report.first_break}"
        ledger.projector.catch_up()
        expected = contents(ledger.engines)
        schema = None
        if ledger.engines.is_sqlite:
            target = make_engines(make_url(f"sqlite:///{tmp_path / f'rebuilt-{uuid4().hex}.sqlite'}"))
        else:
            schema = new_pg_schema()
            target = make_engines(settings.views_url, schema)
        try:
            rebuild(ledger.store, target)
            rebuilt = contents(target)
        finally:
            target.dispose()
            if schema:
                drop_pg_schema(schema)
        for table in TABLES:
            assert rebuilt[table.name] == expected[table.name], f"{label}: {table.name} differs from a rebuild"
    finally:
        ledger.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    settings, schema = settings_for(str(request.param), tmp_path / "store")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    yield settings, schema
    if schema:
        drop_pg_schema(schema)


def _merge(province: str, communes: list[str]) -> dict[str, Any]:
    return {"query": "mutation($input: MergeUnitsInput!) { mergeUnits(input: $input) { errors { code message } } }",
            "variables": {"input": {"sourceUnitIds": communes, "effectiveOn": "2025-07-01", "act": ACT,
                                    "newUnit": {"code": f"M{uuid4().hex[:6]}", "name": "Xã Hợp Nhất",
                                                "kind": "COMMUNE", "parentId": province}}}}


def test_a_server_killed_during_a_large_reorganisation_leaves_whole_commands(store: Any, tmp_path: Path) -> None:
    settings, schema = store
    lines = province_file(communes=COMMUNES_PER_MERGE * ITERATIONS, people=60)
    ledger = build(settings)
    try:
        assert import_lines(ledger.service, as_lines(lines), ImportMode.STOP_AT_FIRST_ERROR).ok
        ledger.projector.catch_up()
    finally:
        ledger.close()
    province = lines[0]["input"]["id"]
    communes = [line["input"]["id"] for line in lines if line["command"] == "establishUnit"][1:]
    rng = random.Random(7)
    for iteration in range(ITERATIONS):
        chosen = communes[iteration * COMMUNES_PER_MERGE:(iteration + 1) * COMMUNES_PER_MERGE]
        size = _events_of_merge(settings, province, chosen)
        before = _count(settings)
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "staffing", "serve", "--port", str(port)], cwd=ROOT,
                                  env=_env(settings, schema), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(functools.partial(_healthy, base), 30)
            request = threading.Thread(target=_post, args=(base, bearer(settings.data_dir), _merge(province, chosen)))
            request.start()
            time.sleep(rng.uniform(0.0, 1.2))
            os.kill(server.pid, signal.SIGKILL)
            request.join(30)
        finally:
            server.kill()
            server.wait(30)
        after = _count(settings)
        assert after in (before, before + size), f"kill {iteration}: {after - before} of {size} events recorded"
        _settle_and_compare(settings, tmp_path, f"kill {iteration} ({'whole' if after > before else 'none'})")


def _events_of_merge(settings: Settings, province: str, communes: list[str]) -> int:
    """How many events the merge writes, decided without writing (a dry run)."""
    from staffing.application import MergeUnits, NewUnit
    from staffing.application.service import Item
    from staffing.domain.values import LegalAct

    ledger: Ledger = build(settings, inline_projection=False)
    try:
        outcome = ledger.service.run([Item(MergeUnits(
            source_unit_ids=tuple(UUID(c) for c in communes), effective_on=date(2025, 7, 1),
            act=LegalAct(ACT["number"], ACT["issuer"], date(2025, 6, 16)),
            new_unit=NewUnit(code="DRY", name="Xã Hợp Nhất", kind="COMMUNE", parent_id=UUID(province))))],
            Mode.DRY_RUN)
        assert not outcome.errors, outcome.errors
        return len(outcome.events)
    finally:
        ledger.close()


def _healthy(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _post(base: str, headers: dict[str, str], body: dict[str, Any]) -> None:
    with contextlib.suppress(httpx.TransportError):  # killed mid-request: a client would retry with its key
        httpx.post(base + "/graphql", json=body, headers=headers, timeout=60)


def _wait(condition: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_catch_up_killed_again_and_again_ends_equal_to_a_rebuild(store: Any, tmp_path: Path) -> None:
    settings, schema = store
    ledger = build(settings, inline_projection=False)
    try:
        assert import_lines(ledger.service, as_lines(province_file(communes=30, people=60)),
                            ImportMode.STOP_AT_FIRST_ERROR).ok
        total = ledger.store.recorder.max_notification_id()
    finally:
        ledger.close()
    rng = random.Random(11)
    positions = []
    for _ in range(ITERATIONS):
        process = subprocess.Popen([sys.executable, "-m", "staffing", "catch-up"], cwd=ROOT,
                                   env=_env(settings, schema), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 2.0))
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
        ledger = build(settings, inline_projection=False)
        try:
            positions.append(ledger.projector.position())
        finally:
            ledger.close()
    assert positions == sorted(positions) and positions[-1] <= total
    _settle_and_compare(settings, tmp_path, f"after {ITERATIONS} killed catch-ups (at {positions})")


def _cli(settings: Settings, schema: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "staffing", *args], cwd=ROOT, env=_env(settings, schema),
                          capture_output=True, text=True, timeout=600)


def _kill_midway(command: list[str], settings: Settings, schema: str | None, events: int) -> None:
    """Start ``command`` and SIGKILL it once the log holds more than ``events`` events."""
    process = subprocess.Popen(command, cwd=ROOT, env=_env(settings, schema), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: _count(settings) > events or process.poll() is not None, 120)
        assert process.poll() is None, f"{command[3]} finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(30)


def test_a_demo_killed_midway_says_so_on_the_next_start_and_is_completed(store: Any) -> None:
    settings, schema = store
    build(settings).close()  # the stores exist before the demo process opens them
    _kill_midway([sys.executable, "-m", "staffing", "demo", "--load-only"], settings, schema, 300)
    status = _cli(settings, schema, "status")
    assert "WARNING: the load 'demo'" in status.stderr and "did not finish" in status.stderr, status.stderr
    again = _cli(settings, schema, "demo", "--load-only")
    assert again.returncode == 0, again.stderr
    assert "the demo load was interrupted" in again.stdout and "demo loaded" in again.stdout
    assert "WARNING" not in _cli(settings, schema, "status").stderr
    ledger = build(settings, inline_projection=False)
    try:
        assert verify(ledger.store.recorder).ok
    finally:
        ledger.close()


def test_an_import_killed_midway_is_reported_until_it_is_run_again(store: Any, tmp_path: Path) -> None:
    settings, schema = store
    build(settings).close()
    path = write(tmp_path / "province.jsonl", province_file(communes=40, people=60))
    command = [sys.executable, "-m", "staffing", "import", str(path), "--batch", "10"]
    _kill_midway(command, settings, schema, 200)
    warned = _cli(settings, schema, "status").stderr
    assert "WARNING: the load 'import province.jsonl" in warned, warned
    resumed = _cli(settings, schema, *command[3:])
    assert resumed.returncode == 0, resumed.stderr
    assert "WARNING" not in _cli(settings, schema, "status").stderr
