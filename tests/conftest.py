"""Fixtures: every integration test runs on SQLite and on PostgreSQL (a fresh schema each).

A test module that exercises the write side alone sets ``BACKENDS = ("memory",)``: its tests run
the handlers on the in-memory event store (the fast tier) instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from staffing.bootstrap import Ledger, build
from tests.support import FakeClock, drop_pg_schema, memory_ledger, settings_for


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", getattr(metafunc.module, "BACKENDS", ("sqlite", "postgres")), indirect=True)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ledger(backend: str, tmp_path: Path, clock: FakeClock) -> Iterator[Ledger]:
    if backend == "memory":  # the fast tier: modules that set BACKENDS = ("memory",)
        in_memory = memory_ledger(clock)
        yield in_memory  # type: ignore[misc]
        in_memory.close()
        return
    settings, schema = settings_for(backend, tmp_path)
    built = build(settings, clock=clock)
    try:
        yield built
    finally:
        built.close()
        if schema:
            drop_pg_schema(schema)
