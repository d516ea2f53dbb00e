"""The streamed CSV listing answers the same figures as the GraphQL report, with the same rules."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace

import orjson
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from staffing.bootstrap import Ledger
from staffing.graphql.app import create_app
from staffing.projections import tables as t
from staffing.projections.queries import from_us
from tests.projections.history import generate_history
from tests.support import FakeClock, ledger_bearer

REPORT = """query($asOf: Date!, $knownAt: DateTime, $rolled: Boolean!) {
  staffingReport(asOf: $asOf, knownAt: $knownAt, includeDescendants: $rolled) {
    level unit { id code } totalQuota totalHeadcount totalVacancy totalSurplus excessAllowedUntil
    lines { category quota headcount vacancy surplus }
  }
}"""


@pytest.fixture
def client(ledger: Ledger) -> Iterator[TestClient]:
    client = TestClient(create_app(ledger), headers=ledger_bearer(ledger))
    yield client
    client.close()


def _graphql_rows(client: TestClient, variables: dict) -> list[dict]:  # type: ignore[type-arg]
    body = client.post("/graphql", json={"query": REPORT, "variables": variables}).json()
    assert "errors" not in body, body
    out = []
    for r in body["data"]["staffingReport"]:
        row = {"level": str(r["level"]), "unit_id": r["unit"]["id"], "code": r["unit"]["code"],
               "total_quota": str(r["totalQuota"]), "total_headcount": str(r["totalHeadcount"]),
               "total_vacancy": str(r["totalVacancy"]), "total_surplus": str(r["totalSurplus"]),
               "excess_allowed_until": r["excessAllowedUntil"] or ""}
        for line in r["lines"]:
            for figure in ("quota", "headcount", "vacancy", "surplus"):
                row[f"{line['category'].lower()}_{figure}"] = str(line[figure])
        out.append(row)
    return out


def _csv_rows(client: TestClient, params: dict) -> list[dict]:  # type: ignore[type-arg]
    response = client.get("/downloads/staffing.csv", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    return [{k: v for k, v in r.items() if k not in ("name", "kind", "parent_id")} for r in rows]


def test_the_csv_listing_equals_the_graphql_report_at_every_knowledge_moment(ledger: Ledger, clock: FakeClock,
                                                                             client: TestClient) -> None:
    generate_history(ledger, clock, seed=11, steps=160)
    ledger.projector.catch_up()
    with ledger.queries.connect() as conn:  # a moment in the middle of the log: known-at is honoured
        middle = conn.execute(select(t.log_clock.c.recorded_us).order_by(t.log_clock.c.position)
                              .offset(conn.execute(select(func.count()).select_from(t.log_clock)).scalar_one() // 2)
                              .limit(1)).scalar_one()
    moments = [None, from_us(middle).isoformat()]
    for as_of in ("2019-06-30", "2021-01-01", "2023-12-31"):
        for known_at in moments:
            for rolled in (False, True):
                want = _graphql_rows(client, {"asOf": as_of, "knownAt": known_at, "rolled": rolled})
                params = {"asOf": as_of, "rolled": str(rolled).lower(), **({"knownAt": known_at} if known_at else {})}
                got = _csv_rows(client, params)
                assert got == want, (as_of, known_at, rolled)
    assert any(int(r["total_headcount"]) > 0 for r in _csv_rows(client, {"asOf": "2023-12-31"}))


def test_the_json_lines_listing_holds_the_csv_figures_as_typed_json(ledger: Ledger, clock: FakeClock,
                                                                     client: TestClient) -> None:
    generate_history(ledger, clock, seed=12, steps=120)
    ledger.projector.catch_up()
    for rolled in (False, True):
        params = {"asOf": "2023-12-31", "rolled": str(rolled).lower()}
        csv_rows = list(csv.DictReader(io.StringIO(client.get("/downloads/staffing.csv", params=params).text)))
        response = client.get("/downloads/staffing.jsonl", params=params)
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/jsonl")
        assert response.headers["x-staffing-log-position"]
        records = [orjson.loads(line) for line in response.text.splitlines()]
        assert len(records) == len(csv_rows) > 5
        for record, row in zip(records, csv_rows, strict=True):
            assert isinstance(record["total_headcount"], int) and isinstance(record["level"], int)
            assert {k: "" if v is None else str(v) for k, v in record.items()} == row
        assert any(r["total_headcount"] > 0 for r in records)
    assert client.get("/downloads/staffing.jsonl", params={"asOf": "31/07/2025"}).json()["field"] == "asOf"


def test_bad_parameters_are_a_400_naming_the_parameter_and_no_token_a_401(ledger: Ledger,
                                                                            client: TestClient) -> None:
    for params, field in (({}, "asOf"), ({"asOf": "31/07/2025"}, "asOf"), ({"asOf": "9999-12-31"}, "asOf"),
                          ({"asOf": "2025-07-31", "rootUnitId": "x"}, "rootUnitId"),
                          ({"asOf": "2025-07-31", "rolled": "maybe"}, "rolled"),
                          ({"asOf": "2025-07-31", "knownAt": "yesterday"}, "knownAt"),
                          ({"asOf": "2025-07-31", "depth": "-1"}, "depth")):
        response = client.get("/downloads/staffing.csv", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["field"] == field and response.json()["message"]
    ledger.settings = replace(ledger.settings, api_tokens=f"{'a' * 24}:auditor")
    guarded = TestClient(create_app(ledger))
    assert guarded.get("/downloads/staffing.csv", params={"asOf": "2025-07-31"}).status_code == 401
    response = guarded.get("/downloads/staffing.csv", params={"asOf": "2025-07-31"},
                           headers={"Authorization": f"Bearer {'a' * 24}"})
    assert response.status_code == 200 and response.text.startswith("level,unit_id,code")
    guarded.close()


PEOPLE = """query($u: ID, $d: Date!, $k: DateTime, $after: String) {
  people(unitId: $u, asOf: $d, knownAt: $k, includeDescendants: true, first: 500, after: $after) {
    edges { node { id fullName birthDate assignment { unitId positionId category rank status since } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def _people_pages(client: TestClient, variables: dict) -> list[dict]:  # type: ignore[type-arg]
    out, after = [], None
    while True:
        body = client.post("/graphql", json={"query": PEOPLE, "variables": {**variables, "after": after}}).json()
        assert "errors" not in body, body
        page = body["data"]["people"]
        out.extend(e["node"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]


def test_the_people_download_equals_every_page_of_the_people_connection(ledger: Ledger, clock: FakeClock,
                                                                        client: TestClient) -> None:
    generate_history(ledger, clock, seed=5, steps=160)
    ledger.projector.catch_up()
    with ledger.queries.connect() as conn:
        last = int(conn.execute(select(func.max(t.log_clock.c.recorded_us))).scalar_one())
        middle = int(conn.execute(select(t.log_clock.c.recorded_us).order_by(t.log_clock.c.position)
                                  .offset(conn.execute(select(func.count()).select_from(t.log_clock)).scalar_one() // 2)
                                  .limit(1)).scalar_one())
        tops = [u.id for u, level, _ in ledger.queries.subtree(conn, None, clock().date(), 2**61) if level == 1]
    checked = 0
    for known_at in (from_us(middle).isoformat(), from_us(last).isoformat()):
        for root in (None, *tops[:2]):
            params = {"asOf": clock().date().isoformat(), "knownAt": known_at, "includeDescendants": "true",
                      **({"rootUnitId": root} if root else {})}
            response = client.get("/downloads/people.csv", params=params)
            assert response.status_code == 200, response.text
            rows = list(csv.DictReader(io.StringIO(response.text)))
            want = _people_pages(client, {"u": root, "d": params["asOf"], "k": known_at})
            assert [(r["person_id"], r["full_name"], r["birth_date"], r["unit_id"], r["position_id"], r["category"],
                     r["rank"], r["status"], r["since"]) for r in rows] == [
                (p["id"], p["fullName"], p["birthDate"], p["assignment"]["unitId"], p["assignment"]["positionId"] or "",
                 p["assignment"]["category"], p["assignment"]["rank"], p["assignment"]["status"],
                 p["assignment"]["since"]) for p in want]
            assert all(r["unit_code"] for r in rows)
            checked += len(rows)
    assert checked > 50
    bad = client.get("/downloads/people.csv", params={"asOf": "31/07/2025"})
    assert bad.status_code == 400 and bad.json()["field"] == "asOf"
