"""Authentication and authorisation failures are GraphQL errors with UNAUTHENTICATED / FORBIDDEN."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from staffing.bootstrap import Ledger
from staffing.graphql.app import create_app

ADMIN = "a" * 24
AUDITOR = "b" * 24
ESTABLISH = ('mutation { establishUnit(input: {code: "01", name: "Tỉnh Lào Cai", kind: PROVINCE, '
             'effectiveOn: "2020-01-01", act: {number: "1/QĐ", issuer: "Chính phủ", signedOn: "2019-12-01"}}) '
             '{ unit { id } errors { code } } }')


@pytest.fixture
def guarded(ledger: Ledger) -> Iterator[TestClient]:
    ledger.settings = replace(ledger.settings, api_tokens=f"{ADMIN}:admin,{AUDITOR}:auditor")
    client = TestClient(create_app(ledger))
    yield client
    client.close()


def _post(client: TestClient, query: str, token: str | None = None) -> dict:  # type: ignore[type-arg]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/graphql", json={"query": query}, headers=headers).json()  # type: ignore[no-any-return]


def test_a_request_without_a_valid_token_is_unauthenticated(guarded: TestClient, ledger: Ledger) -> None:
    for token in (None, "wrong-token-wrong-token"):
        body = _post(guarded, '{ units { edges { cursor } } }', token)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        body = _post(guarded, ESTABLISH, token)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (ledger.store.recorder.max_notification_id() or 0) == 0


def test_an_auditor_may_read_but_not_record(guarded: TestClient, ledger: Ledger) -> None:
    assert "errors" not in _post(guarded, '{ units { edges { cursor } } }', AUDITOR)
    body = _post(guarded, ESTABLISH, AUDITOR)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (ledger.store.recorder.max_notification_id() or 0) == 0


def test_an_administrator_records(guarded: TestClient) -> None:
    body = _post(guarded, ESTABLISH, ADMIN)
    assert body["data"]["establishUnit"]["errors"] == [] and body["data"]["establishUnit"]["unit"]["id"]
