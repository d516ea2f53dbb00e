from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from staffing.bootstrap import Ledger, build
from staffing.demo import DemoClock, load_demo
from staffing.graphql.app import create_app
from tests.graphql_client import GraphQLClient
from tests.support import ledger_bearer, settings_for


@pytest.fixture
def api(ledger: Ledger) -> Iterator[GraphQLClient]:
    """The real ASGI app in-process (no lifespan: the ledger fixture owns closing)."""
    client = TestClient(create_app(ledger), headers=ledger_bearer(ledger))
    yield GraphQLClient(client)  # type: ignore[arg-type]
    client.close()


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """The demo loaded into an SQLite ledger, once per module (for tests that only read it)."""
    settings, _ = settings_for("sqlite", tmp_path_factory.mktemp("demo"))
    clock = DemoClock()
    ledger = build(settings, clock=clock)
    try:
        load_demo(ledger.service, clock)
        yield ledger
    finally:
        ledger.close()
