"""Query depth and alias limits hold on every request, also when the parsed and validated query
comes from the caches (the same text asked twice)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from staffing.bootstrap import Ledger
from staffing.graphql.app import create_app
from staffing.graphql.schema import MAX_ALIASES, MAX_DEPTH
from tests.support import ledger_bearer

BACKENDS = ("sqlite",)


@pytest.fixture
def client(ledger: Ledger) -> Iterator[TestClient]:
    client = TestClient(create_app(ledger), headers=ledger_bearer(ledger))
    yield client
    client.close()


def _deep(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"children {{ {inner} }}"
    return f'{{ units(asOf: "2025-07-31") {{ edges {{ node {{ {inner} }} }} }} }}'


def test_a_query_deeper_than_the_limit_is_refused_every_time(client: TestClient) -> None:
    for _ in range(2):
        body = client.post("/graphql", json={"query": _deep(MAX_DEPTH + 2)}).json()
        assert body.get("data") is None and "depth" in body["errors"][0]["message"].lower(), body
    allowed = client.post("/graphql", json={"query": _deep(2)}).json()
    assert "errors" not in allowed, allowed


def test_more_aliases_than_the_limit_are_refused_every_time(client: TestClient) -> None:
    many = "{ " + " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES + 1)) + " }"
    for _ in range(2):
        body = client.post("/graphql", json={"query": many}).json()
        assert body.get("data") is None and "alias" in body["errors"][0]["message"].lower(), body
    few = "{ " + " ".join(f"a{i}: __typename" for i in range(3)) + " }"
    assert client.post("/graphql", json={"query": few}).json()["data"]["a0"] == "Query"
