"""Test support: a controllable clock, act builders and backend settings."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from staffing.application import StaffingService
from staffing.config import Settings
from staffing.domain.values import LegalAct
from staffing.persistence import EventStore

PG_URL = os.environ.get("STAFFING_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


class FakeClock:
    """Recording moments under the test's control; every call moves on by one second."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def set(self, moment: datetime) -> None:
        assert moment >= self.now, "recording time never goes backwards"
        self.now = moment


@dataclass
class MemoryLedger:
    """The write side alone on the library's in-memory event store: the fast test tier.

    Handlers, the unit of work, request keys and snapshots run exactly as in production; only the
    recorder differs (no SQL), so a command costs microseconds instead of a database commit.
    """

    store: EventStore
    service: StaffingService

    def close(self) -> None:
        self.store.close()


def memory_ledger(clock: FakeClock) -> MemoryLedger:
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    return MemoryLedger(store, StaffingService(store, clock=clock))


def act(number: str = "01/QĐ-TEST", signed_on: date = date(2020, 1, 1), issuer: str = "UBND tỉnh") -> LegalAct:
    return LegalAct(number, issuer, signed_on)


_pg_checked: bool | None = None


def postgres_available() -> bool:
    global _pg_checked
    if _pg_checked is None:
        try:
            with psycopg.connect(PG_URL, connect_timeout=3):
                _pg_checked = True
        except psycopg.OperationalError:
            _pg_checked = False
    return _pg_checked


def require_postgres() -> None:
    """In CI a missing PostgreSQL is a failure, never a skip; locally it skips with the reason."""
    if postgres_available():
        return
    message = f"PostgreSQL is not reachable at {PG_URL}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must run the PostgreSQL tests; start the server)", pytrace=False)
    pytest.skip(message)


def new_pg_schema() -> str:
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def drop_pg_schema(schema: str) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


#: starlette's TestClient calls itself "testserver"
TEST_HOSTS = "localhost,127.0.0.1,testserver"


def settings_for(backend: str, tmp_path: object) -> tuple[Settings, str | None]:
    if backend == "sqlite":
        return Settings.from_env({"STAFFING_DATA_DIR": str(tmp_path), "STAFFING_ALLOWED_HOSTS": TEST_HOSTS}), None
    require_postgres()
    schema = new_pg_schema()
    return Settings.from_env({"STAFFING_DATABASE_URL": PG_URL, "STAFFING_DB_SCHEMA": schema,
                              "STAFFING_DATA_DIR": str(tmp_path), "STAFFING_ALLOWED_HOSTS": TEST_HOSTS}), schema


def bearer(data_dir: Path, role: str = "admin", unit_id: UUID | None = None, secret: str | None = None,
           name: str | None = None) -> dict[str, str]:
    """An ``Authorization`` header with a token signed by the data directory's secret."""
    from staffing.tokens import issue, load_secret

    return {"Authorization": f"Bearer {issue(load_secret(data_dir, secret), role, unit_id=unit_id, name=name)}"}


def ledger_bearer(ledger: Any, role: str = "admin", unit_id: UUID | None = None, name: str | None = None
                  ) -> dict[str, str]:
    return bearer(ledger.settings.data_dir, role, unit_id, ledger.settings.token_secret, name)
