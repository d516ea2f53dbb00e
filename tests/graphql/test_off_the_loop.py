"""Blocking work never runs on the event loop (issue 10): every database read, catch-up and command
runs in a worker thread, so one slow report does not stall every other request."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from staffing import chain
from staffing.application import StaffingService
from staffing.bootstrap import Ledger
from staffing.graphql.app import create_app
from staffing.projections.queries import Queries
from tests.builders import establish, recruit
from tests.support import ledger_bearer

ACT = {"number": "12/QĐ-UBND", "issuer": "UBND tỉnh", "signedOn": "2020-01-01"}


def test_no_database_work_runs_on_the_event_loop(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    province = establish(ledger.service, code="P", name="Tỉnh P")
    person = recruit(ledger.service, province, full_name="Nguyễn Văn An")
    on_loop: list[str] = []

    def guarded(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def call(*args: Any, **kwargs: Any) -> Any:
            if asyncio._get_running_loop() is not None:  # noqa: SLF001 - the one way to ask without raising
                on_loop.append(name)
            return original(*args, **kwargs)
        return call

    for owner, name in ((Queries, "connect"), (Queries, "refresh"), (StaffingService, "run")):
        monkeypatch.setattr(owner, name, guarded(f"{owner.__name__}.{name}", getattr(owner, name)))
    monkeypatch.setattr(chain, "head", guarded("chain.head", chain.head))
    monkeypatch.setattr(chain, "hashes", guarded("chain.hashes", chain.hashes))

    with TestClient(create_app(ledger), headers=ledger_bearer(ledger)) as client:
        def gql(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            body = client.post("/graphql", json={"query": query, "variables": variables or {}}).json()
            assert "errors" not in body, body
            return body["data"]  # type: ignore[no-any-return]

        gql(f'{{ unit(id: "{province}", asOf: "2021-01-01") {{ name parent {{ id }} children {{ id }} '
            "predecessors { change } successors { change } } }")
        gql('{ units(asOf: "2021-01-01") { edges { node { id children { id } } } } }')
        gql(f'{{ staffing(unitId: "{province}", asOf: "2021-01-01") {{ totalHeadcount headHash }} }}')
        gql('{ staffingReport(asOf: "2021-01-01", includeDescendants: true) { totalHeadcount } ledgerHead { hash } }')
        gql(f'{{ history(unitId: "{province}") {{ edges {{ node {{ hash recordedBy }} }} }} }}')
        gql(f'{{ person(id: "{person}", asOf: "2021-01-01") {{ fullName }} }}')
        gql(f'{{ movements(unitId: "{province}", from: "2020-01-01", to: "2021-01-01") {{ kind }} }}')
        payload = gql("mutation($i: EstablishUnitInput!) { establishUnit(input: $i) { unit { id } errors { code } } }",
                      {"i": {"code": "C1", "name": "Xã Một", "kind": "COMMUNE", "parentId": province,
                             "effectiveOn": "2021-01-01", "act": ACT}})
        assert payload["establishUnit"]["errors"] == []
        plan = gql("mutation($i: ExecutePlanInput!) { executePlan(input: $i) { recorded errors { code } } }",
                   {"i": {"dryRun": True, "commands": [{"assignQuota": {
                       "unitId": province, "category": "CIVIL_SERVANT", "kind": "ASSIGNED", "amount": 5,
                       "effectiveOn": "2021-01-01", "act": ACT}}]}})
        assert plan["executePlan"]["errors"] == []
        assert client.get("/downloads/staffing.csv", params={"asOf": "2021-01-01"}).status_code == 200
        assert client.get("/healthz").status_code == 200
    assert on_loop == [], f"run on the event loop: {sorted(set(on_loop))}"
