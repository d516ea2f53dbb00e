"""A catalogue of hostile and careless requests over HTTP (issue 10), in production mode.

Every entry must be answered with a clear error (a code and a message that says what to fix),
never an HTTP 500 or a masked internal error, and must leave the event count unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from staffing.bootstrap import Ledger
from staffing.graphql.app import create_app
from staffing.graphql.guard import MAX_BODY
from staffing.graphql.hardening import MAX_COST
from tests.builders import establish
from tests.support import ledger_bearer

ACT = {"number": "12/QĐ-UBND", "issuer": "UBND tỉnh", "signedOn": "2020-01-01"}
ESTABLISH = ("mutation($input: EstablishUnitInput!) { establishUnit(input: $input) "
             "{ unit { id } errors { code field message } } }")


@dataclass(frozen=True)
class Case:
    """One hostile request: a raw body (bytes), or a GraphQL query with variables."""

    label: str
    body: bytes | None = None
    query: str | None = None
    variables: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    method: str = "POST"
    status: int = 200
    code: str | None = None  # expected extensions.code / payload error code


def _unit(**changes: Any) -> dict[str, Any]:
    return {"input": {"code": "X1", "name": "Xã Một", "kind": "COMMUNE", "effectiveOn": "2021-01-01", "act": ACT,
                      **changes}}


def _catalogue(parent: str) -> list[Case]:
    deep = b'{"query": "{ __typename }", "variables": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    flood = "a" + "\u0301" * 50
    aliases = " ".join(f"a{i}: units(first: 500) {{ edges {{ node {{ id predecessors {{ change unit {{ id }} }} }} }} }}"
                       for i in range(30))
    return [
        # ---------------------------------------------------------------- the body
        Case("invalid UTF-8", body=b'{"query": "{ __typename \xff\xfe }"}', status=400, code="BAD_REQUEST"),
        Case("JSON null", body=b"null", status=400, code="BAD_REQUEST"),
        Case("JSON string", body=b'"{ __typename }"', status=400, code="BAD_REQUEST"),
        Case("JSON number", body=b"42", status=400, code="BAD_REQUEST"),
        Case("a batch", body=b'[{"query": "{ __typename }"}, {"query": "{ __typename }"}]', status=400,
             code="BAD_REQUEST"),
        Case("JSON nested 100,000 deep", body=deep, status=400, code="BAD_REQUEST"),
        Case("not JSON at all", body=b"query { __typename }", status=400, code="BAD_REQUEST"),
        Case("a body over the limit", body=b'{"query": "' + b" " * (MAX_BODY + 10) + b'{ __typename }"}', status=413,
             code="PAYLOAD_TOO_LARGE"),
        Case("variables not an object", body=b'{"query": "{ __typename }", "variables": [1]}', status=400,
             code="BAD_REQUEST"),
        Case("form-encoded", body=b"query=%7B__typename%7D", headers={"content-type": "application/x-www-form-urlencoded"},
             status=415, code="UNSUPPORTED_MEDIA_TYPE"),
        Case("a query over GET", method="GET", status=405, code="METHOD_NOT_ALLOWED"),
        Case("a foreign Host header", query="{ __typename }", headers={"host": "evil.example"}, status=400),
        # ---------------------------------------------------------------- texts
        Case("a 200 kB act number", query=ESTABLISH,
             variables=_unit(act={**ACT, "number": "1" * 200_000}), code="INVALID_INPUT"),
        Case("a NUL in a code", query=ESTABLISH, variables=_unit(code="X\u00001"), code="INVALID_INPUT"),
        Case("a control character in a name", query=ESTABLISH, variables=_unit(name="Xã\u0007 Một"),
             code="INVALID_INPUT"),
        Case("a bidi override in a code", query=ESTABLISH, variables=_unit(code="X\u202e1"), code="INVALID_INPUT"),
        Case("a flood of combining marks", query=ESTABLISH, variables=_unit(name=flood), code="INVALID_INPUT"),
        Case("a lone surrogate in a variable", body=b'{"query": "mutation($input: EstablishUnitInput!) '
             b'{ establishUnit(input: $input) { errors { code } } }", "variables": {"input": {"code": "\\ud800", '
             b'"name": "x", "kind": "COMMUNE", "effectiveOn": "2021-01-01", "act": {"number": "1", "issuer": "x", '
             b'"signedOn": "2020-01-01"}}}}', status=400, code="BAD_REQUEST"),
        Case("a lone surrogate in a query literal", query='{ units(search: "\\ud800") { edges { cursor } } }',
             status=400, code="BAD_REQUEST"),
        Case("a control character in a request key", query=ESTABLISH,
             variables={"input": {**_unit()["input"], "requestKey": "key\u0000one"}}, code="INVALID_INPUT"),
        Case("a 10 kB request key", query=ESTABLISH, variables={"input": {**_unit()["input"], "requestKey": "k" * 10_000}},
             code="INVALID_INPUT"),
        Case("a very long search", query='{ units(search: "' + "tuyen quang " * 2000 + '") { edges { cursor } } }',
             code="BAD_USER_INPUT"),
        # ---------------------------------------------------------------- dates
        Case("an ISO week date", query=ESTABLISH, variables=_unit(effectiveOn="2021-W01-1"), code="BAD_USER_INPUT"),
        Case("a compact date", query=ESTABLISH, variables=_unit(effectiveOn="20210101"), code="BAD_USER_INPUT"),
        Case("a unit established in year 1", query=ESTABLISH, variables=_unit(effectiveOn="0001-01-01"),
             code="INVALID_INPUT"),
        Case("an act signed in 9999", query=ESTABLISH, variables=_unit(act={**ACT, "signedOn": "9999-01-01"}),
             code="INVALID_INPUT"),
        Case("an act signed after it is recorded", query=ESTABLISH,
             variables=_unit(act={**ACT, "signedOn": "2099-01-01"}), code="INVALID_INPUT"),
        # ---------------------------------------------------------------- queries
        Case("a malformed history cursor", query='{ history(after: "bm90LWEtbnVtYmVy") { edges { cursor } } }',
             code="BAD_USER_INPUT"),
        Case("a cursor that is not base64", query='{ history(after: "%%%ế") { edges { cursor } } }',
             code="BAD_USER_INPUT"),
        Case("30 aliases of a 500-unit page", query="{ " + aliases + " }", code="QUERY_TOO_COSTLY"),
        Case("a query of 6,000 tokens", query="{ " + "__typename " * 6000 + "}", code="GRAPHQL_PARSE_FAILED"),
        Case("a query that does not parse", query="{ units( }", code="GRAPHQL_PARSE_FAILED"),
        Case("a flood of directives", query="query cop { __typename " + "@aa" * 50 + " }", status=400,
             code="TOO_MANY_DIRECTIVES"),
        Case("introspection in production", query="{ __schema { types { name } } }"),
        Case("a misspelt field, no suggestion", query="{ unitz { edges { cursor } } }"),
        Case("a child of a unit that does not exist", query=f'{{ staffing(unitId: "{parent}x", asOf: "2021-01-01") '
                                                           "{ totalHeadcount } }", code="BAD_USER_INPUT"),
    ]


@pytest.fixture
def client(ledger: Ledger) -> Iterator[TestClient]:
    with TestClient(create_app(ledger), headers=ledger_bearer(ledger)) as test_client:
        yield test_client


def _errors(response: Any) -> list[dict[str, Any]]:
    body = response.json()
    errors = list(body.get("errors") or [])
    for payload in (body.get("data") or {}).values():
        if isinstance(payload, dict):
            errors.extend({"message": e["message"], "extensions": {"code": e["code"]}}
                          for e in payload.get("errors") or [])
    return errors


def test_every_hostile_request_gets_a_clear_error_and_writes_nothing(client: TestClient, ledger: Ledger) -> None:
    parent = establish(ledger.service, code="P", name="Tỉnh P")
    before = ledger.store.recorder.max_notification_id()
    for case in _catalogue(parent):
        headers = {"content-type": "application/json", **(case.headers or {})}
        if case.method == "GET":
            response = client.get("/graphql", params={"query": "{ __typename }"}, headers=headers)
        else:
            body = case.body if case.body is not None else json.dumps(
                {"query": case.query, "variables": case.variables or {}}).encode()
            response = client.post("/graphql", content=body, headers=headers)
        assert response.status_code != 500, case.label
        assert response.status_code == case.status, (case.label, response.status_code, response.text[:300])
        if case.label == "a foreign Host header":
            continue  # starlette's plain-text refusal
        errors = _errors(response)
        assert errors, f"{case.label}: no error reported: {response.text[:300]}"
        for error in errors:
            assert error["message"] and "Internal error" not in error["message"], (case.label, error)
        if case.code:
            codes = {e["extensions"].get("code") for e in errors} | {e["extensions"].get("reason") for e in errors}
            assert case.code in codes, (case.label, errors)
        if "suggestion" in case.label:
            assert "Did you mean" not in errors[0]["message"], errors
        assert ledger.store.recorder.max_notification_id() == before, f"{case.label} wrote events"


def test_texts_are_stored_normalised(client: TestClient, ledger: Ledger) -> None:
    decomposed = "Xa\u0303 Mo\u0323\u0302t"  # "Xã Một" typed with combining marks
    body = client.post("/graphql", json={"query": ESTABLISH, "variables": _unit(name=decomposed)}).json()
    assert body["data"]["establishUnit"]["errors"] == []
    unit_id = body["data"]["establishUnit"]["unit"]["id"]
    found = client.post("/graphql", json={"query": f'{{ unit(id: "{unit_id}", asOf: "2021-06-01") {{ name }} }}'})
    assert found.json()["data"]["unit"]["name"] == "Xã Một"  # precomposed (NFC)


def test_the_cost_limit_leaves_ordinary_pages_alone(client: TestClient, ledger: Ledger) -> None:
    establish(ledger.service, code="Q", name="Tỉnh Q")
    body = client.post("/graphql", json={"query": "{ units(first: 500, asOf: \"2021-01-01\") "
                                                  "{ edges { node { id code name predecessors { change unit { id } } } } } }"})
    assert "errors" not in body.json(), body.json()
    assert MAX_COST >= 500 * 15


def test_each_refused_request_is_one_log_line_without_a_traceback(client: TestClient, ledger: Ledger,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    requests = [b"null", json.dumps({"query": "{ unitz { edges { cursor } } }"}).encode(),
                json.dumps({"query": ESTABLISH, "variables": _unit(name="Xã\u0007")}).encode()]
    for body in requests:
        caplog.clear()
        with caplog.at_level("INFO", logger="staffing"):
            client.post("/graphql", content=body, headers={"content-type": "application/json"})
        lines = [r for r in caplog.records if r.name.startswith("staffing")]
        assert len(lines) == 1, [r.getMessage() for r in lines]
        assert lines[0].exc_info is None and "refused" in lines[0].getMessage()
