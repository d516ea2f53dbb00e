from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from staffing.bootstrap import Ledger
from staffing.graphql.app import create_app
from tests.graphql_client import GraphQLClient
from tests.support import ledger_bearer


@pytest.fixture
def api(ledger: Ledger) -> Iterator[GraphQLClient]:
    """The real ASGI app in-process (no lifespan: the ledger fixture owns closing)."""
    client = TestClient(create_app(ledger), headers=ledger_bearer(ledger))
    yield GraphQLClient(client)  # type: ignore[arg-type]
    client.close()
