"""Many clients over HTTP issuing conflicting commands on the same units (issue 10).

Eight clients recruit into one commune and move quota between it and its neighbour at the same
time, each request with its own request key; a client that is answered with a conflict (or loses
its connection) sends the same request again, as a client should. Afterwards: every request was
applied exactly once (no lost update, no duplicate), and the figures are what the requests add up to.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import uuid4

import httpx

from tests.e2e.conftest import TOKENS
from tests.graphql_client import GraphQLClient

CLIENTS, REQUESTS_EACH = 8, 6
ACT = {"number": "15/QĐ-UBND", "issuer": "UBND tỉnh Tuyên Quang", "signedOn": "2020-01-01"}
RETRYABLE = {"CONCURRENCY_CONFLICT"}


def _unit(gql: GraphQLClient, code: str, kind: str, parent: str | None = None) -> str:
    payload = gql.mutate("establishUnit", {"code": code, "name": f"Đơn vị {code}", "kind": kind, "parentId": parent,
                                           "effectiveOn": "2020-01-01", "act": ACT})
    return str(payload["unit"]["id"])


def _send(base: str, headers: dict[str, str], name: str, input: dict[str, Any]) -> str:
    """Send until applied; a conflict or a dropped connection is retried with the same request key."""
    type_name = name[0].upper() + name[1:] + "Input"
    query = f"mutation($input: {type_name}!) {{ {name}(input: $input) {{ factId errors {{ code message }} }} }}"
    for _ in range(50):
        try:
            body = httpx.post(base + "/graphql", json={"query": query, "variables": {"input": input}},
                              headers=headers, timeout=60).json()
        except httpx.TransportError:
            continue
        payload = body["data"][name]
        if not payload["errors"]:
            return str(payload["factId"])
        assert payload["errors"][0]["code"] in RETRYABLE, payload["errors"]
    raise AssertionError(f"{name} never got through")


def test_concurrent_clients_lose_no_update_and_apply_each_request_once(server: str, gql: GraphQLClient) -> None:
    province = _unit(gql, "P", "PROVINCE")
    target, neighbour = _unit(gql, "A", "COMMUNE", province), _unit(gql, "B", "COMMUNE", province)
    for unit in (target, neighbour):
        gql.mutate("assignQuota", {"unitId": unit, "category": "CIVIL_SERVANT", "kind": "ASSIGNED", "amount": 100,
                                   "effectiveOn": "2020-01-01", "act": ACT}, "factId")
    headers = TOKENS[server]
    moved = {"to": 0, "back": 0}
    lock = threading.Lock()

    def client(n: int) -> list[str]:
        facts = []
        for i in range(REQUESTS_EACH):
            key = f"client-{n}-{i}-{uuid4()}"
            if i % 3 == 2:  # a quota transfer, one way or the other
                forward = (n + i) % 2 == 0
                facts.append(_send(server, headers, "transferQuota", {
                    "fromUnitId": neighbour if forward else target, "toUnitId": target if forward else neighbour,
                    "category": "CIVIL_SERVANT", "kind": "ASSIGNED", "amount": 1, "effectiveOn": "2021-01-01",
                    "act": ACT, "requestKey": key}))
                with lock:
                    moved["to" if forward else "back"] += 1
            else:
                facts.append(_send(server, headers, "recruitPerson", {
                    "fullName": f"Người {n}-{i}", "birthDate": "1990-01-01", "gender": "FEMALE",
                    "category": "CIVIL_SERVANT", "unitId": target, "effectiveOn": "2021-01-01", "act": ACT,
                    "requestKey": key}))
        return facts

    barrier = threading.Barrier(CLIENTS)

    def start(task: Callable[[], list[str]]) -> list[str]:
        barrier.wait()
        return task()

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = [f.result() for f in [pool.submit(start, lambda n=n: client(n)) for n in range(CLIENTS)]]
    facts = [f for batch in results for f in batch]
    assert len(facts) == len(set(facts)) == CLIENTS * REQUESTS_EACH  # each request applied once, none twice

    recruits = sum(1 for n in range(CLIENTS) for i in range(REQUESTS_EACH) if i % 3 != 2)
    query = ('query($u: ID!) { staffing(unitId: $u, asOf: "2021-06-01") { totalHeadcount totalQuota } }')
    here, there = gql(query, {"u": target})["staffing"], gql(query, {"u": neighbour})["staffing"]
    assert here["totalHeadcount"] == recruits
    assert here["totalQuota"] == 100 + moved["to"] - moved["back"]
    assert there["totalQuota"] == 100 - moved["to"] + moved["back"]
    history = gql(f'{{ history(unitId: "{target}", first: 500) {{ edges {{ node {{ type }} }} }} }}')["history"]
    recruited = [e for e in history["edges"] if e["node"]["type"] == "PersonRecruited"]
    assert len(recruited) == recruits  # no duplicate event behind a retried request
