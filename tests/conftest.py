"""Fixtures: every integration test runs on SQLite and on PostgreSQL (a fresh schema each)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from staffing.bootstrap import Ledger, build
from tests.support import FakeClock, drop_pg_schema, settings_for


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ledger(backend: str, tmp_path: Path, clock: FakeClock) -> Iterator[Ledger]:
    settings, schema = settings_for(backend, tmp_path)
    built = build(settings, clock=clock)
    try:
        yield built
    finally:
        built.close()
        if schema:
            drop_pg_schema(schema)
