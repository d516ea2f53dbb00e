"""The authorization matrix (issue 10): every role x inside/outside its subtree x read/write, over HTTP.

The tree: province A with district A1 holding commune A1a; province B with commune B1; commune M,
under A until 01/01/2022 and under B from then on (a scope is the subtree *as it stands on the
fact's effective date*). The personnel token is scoped to A. Each refused write must answer
FORBIDDEN with HTTP 403 and leave the log exactly as it was.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from staffing.application import MoveUnit
from staffing.bootstrap import Ledger
from staffing.graphql.app import create_app
from staffing.tokens import issue, load_secret
from tests.builders import an_act, establish, recruit
from tests.support import ledger_bearer

ACT = {"number": "12/QĐ-UBND", "issuer": "UBND tỉnh", "signedOn": "2020-01-01"}


@dataclass
class World:
    client: TestClient
    ledger: Ledger
    a: str
    a1: str
    a1a: str
    b: str
    b1: str
    moved: str
    person_a: str
    person_b: str

    def headers(self, role: str) -> dict[str, str]:
        unit = UUID(self.a) if role == "personnel" else None
        return ledger_bearer(self.ledger, role, unit, name=f"{role} of the test")

    def post(self, role: str, query: str, variables: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        response = self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                    headers=self.headers(role))
        return response.status_code, response.json()

    def events(self) -> int:
        return self.ledger.store.recorder.max_notification_id() or 0


@pytest.fixture
def world(ledger: Ledger) -> Iterator[World]:
    service = ledger.service
    a = establish(service, code="A", name="Tỉnh A")
    a1 = establish(service, parent_id=a, kind="DISTRICT", code="A1", name="Huyện A1")
    a1a = establish(service, parent_id=a1, kind="COMMUNE", code="A1a", name="Xã A1a")
    b = establish(service, code="B", name="Tỉnh B")
    b1 = establish(service, parent_id=b, kind="COMMUNE", code="B1", name="Xã B1")
    moved = establish(service, parent_id=a, kind="COMMUNE", code="M", name="Xã M")
    service.execute(MoveUnit(unit_id=moved, new_parent_id=b, effective_on=datetime(2022, 1, 1).date(),
                             act=an_act()))
    person_a = recruit(service, a1a, full_name="Nguyễn Văn An")
    person_b = recruit(service, b1, full_name="Lê Thị Bình")
    client = TestClient(create_app(ledger))
    yield World(client, ledger, a, a1, a1a, b, b1, moved, person_a, person_b)
    client.close()


def _mutation(name: str, input: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    type_name = name[0].upper() + name[1:] + "Input"
    return (f"mutation($input: {type_name}!) {{ {name}(input: $input) {{ errors {{ code field message }} }} }}",
            {"input": {**input, "act": ACT}})


def _writes(w: World) -> dict[str, tuple[bool, str, dict[str, Any]]]:
    """name -> (inside the personnel scope?, mutation name, input)."""
    day = "2021-06-01"
    return {
        "recruit inside": (True, "recruitPerson", {"fullName": "Phạm Văn Cường", "birthDate": "1990-01-01",
                                                   "gender": "MALE", "category": "CIVIL_SERVANT", "unitId": w.a1a,
                                                   "effectiveOn": day}),
        "recruit outside": (False, "recruitPerson", {"fullName": "Phạm Văn Cường", "birthDate": "1990-01-01",
                                                     "gender": "MALE", "category": "CIVIL_SERVANT", "unitId": w.b1,
                                                     "effectiveOn": day}),
        "transfer out of the subtree": (False, "transferPerson", {"personId": w.person_a, "toUnitId": w.b1,
                                                                  "effectiveOn": day}),
        "transfer into the subtree": (False, "transferPerson", {"personId": w.person_b, "toUnitId": w.a1a,
                                                                "effectiveOn": day}),
        "merge into a unit outside": (False, "mergeUnits", {"sourceUnitIds": [w.a1a], "intoUnitId": w.b1,
                                                           "effectiveOn": day}),
        "merge a unit from outside": (False, "mergeUnits", {"sourceUnitIds": [w.b1], "intoUnitId": w.a1,
                                                           "effectiveOn": day}),
        "move a unit out": (False, "moveUnit", {"unitId": w.a1a, "newParentId": w.b, "effectiveOn": day}),
        "pull a unit in": (False, "moveUnit", {"unitId": w.b1, "newParentId": w.a1, "effectiveOn": day}),
        "quota outside": (False, "assignQuota", {"unitId": w.b1, "category": "CIVIL_SERVANT", "kind": "ASSIGNED",
                                                 "amount": 9999, "effectiveOn": day}),
        "establish under a unit outside": (False, "establishUnit", {"code": "X", "name": "Xã X", "kind": "COMMUNE",
                                                                    "parentId": w.b, "effectiveOn": day}),
        "a moved unit, after it left": (False, "assignQuota", {"unitId": w.moved, "category": "CIVIL_SERVANT",
                                                               "kind": "ASSIGNED", "amount": 3,
                                                               "effectiveOn": "2022-06-01"}),
        "quota inside": (True, "assignQuota", {"unitId": w.a1a, "category": "CIVIL_SERVANT", "kind": "ASSIGNED",
                                               "amount": 5, "effectiveOn": day}),
        "establish inside": (True, "establishUnit", {"code": "Y", "name": "Xã Y", "kind": "COMMUNE",
                                                     "parentId": w.a1, "effectiveOn": day}),
        "a moved unit, while it was inside": (True, "assignQuota", {"unitId": w.moved, "category": "CIVIL_SERVANT",
                                                                    "kind": "ASSIGNED", "amount": 2,
                                                                    "effectiveOn": "2021-06-01"}),
    }


@pytest.mark.parametrize("role", ["personnel", "ministry", "auditor", "admin"])
def test_writes_by_role_and_scope(world: World, role: str) -> None:
    for label, (inside, name, input) in _writes(world).items():
        before = world.events()
        status, body = world.post(role, *_mutation(name, input))
        allowed = role == "admin" or (role == "personnel" and inside)
        if role == "admin":  # the writes run one after another, so an earlier merge may make a later one moot
            assert status == 200 and "errors" not in body, (label, body)
            assert all(e["code"] != "FORBIDDEN" for e in body["data"][name]["errors"]), (label, body)
        elif allowed:
            assert status == 200 and "errors" not in body, (label, body)
            assert body["data"][name]["errors"] == [], (label, body)
            assert world.events() > before, label
        else:
            assert status == 403, (label, status, body)
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (label, body)
            assert body["errors"][0]["message"], label
            assert world.events() == before, f"{label}: a refused write wrote events"


def _reads(w: World) -> dict[str, tuple[bool, bool, str]]:
    """name -> (inside the personnel scope?, history?, query)."""
    return {
        "staffing inside": (True, False, f'{{ staffing(unitId: "{w.a1a}", asOf: "2021-01-01") {{ totalHeadcount }} }}'),
        "staffing outside": (False, False, f'{{ staffing(unitId: "{w.b1}", asOf: "2021-01-01") {{ totalHeadcount }} }}'),
        "report of the subtree": (True, False, f'{{ staffingReport(rootUnitId: "{w.a}", asOf: "2021-01-01") '
                                               '{ unit { id } } }'),
        "report of the country": (False, False, '{ staffingReport(asOf: "2021-01-01") { unit { id } } }'),
        "a moved unit while inside": (True, False, f'{{ staffing(unitId: "{w.moved}", asOf: "2021-01-01") '
                                                   '{ totalHeadcount } }'),
        "a moved unit after it left": (False, False, f'{{ staffing(unitId: "{w.moved}", asOf: "2023-01-01") '
                                                     '{ totalHeadcount } }'),
        "person inside": (True, False, f'{{ person(id: "{w.person_a}", asOf: "2021-01-01") {{ fullName }} }}'),
        "person outside": (False, False, f'{{ person(id: "{w.person_b}", asOf: "2021-01-01") {{ fullName }} }}'),
        "movements outside": (False, False, f'{{ movements(unitId: "{w.b1}", from: "2020-01-01", to: "2021-01-01") '
                                            '{ kind } }'),
        "history inside": (True, True, f'{{ history(unitId: "{w.a1a}") {{ edges {{ cursor }} }} }}'),
        "history outside": (False, True, f'{{ history(unitId: "{w.b1}") {{ edges {{ cursor }} }} }}'),
        "history of a person outside": (False, True, f'{{ history(personId: "{w.person_b}") {{ edges {{ cursor }} }} }}'),
        "the whole history": (False, True, '{ history { edges { cursor } } }'),
        "unit inside": (True, False, f'{{ unit(id: "{w.a1a}", asOf: "2021-01-01") {{ name }} }}'),
        "unit outside": (False, False, f'{{ unit(id: "{w.b1}", asOf: "2021-01-01") {{ name }} }}'),
    }


@pytest.mark.parametrize("role", ["personnel", "ministry", "auditor", "admin"])
def test_reads_by_role_and_scope(world: World, role: str) -> None:
    for label, (inside, history, query) in _reads(world).items():
        status, body = world.post(role, query)
        allowed = {"personnel": inside, "ministry": not history, "auditor": True, "admin": True}[role]
        if allowed:
            assert status == 200 and "errors" not in body, (label, body)
        else:
            assert status == 403, (label, status, body)
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (label, body)


def test_the_csv_download_is_scoped(world: World) -> None:
    def get(role: str, **params: str) -> int:
        return world.client.get("/downloads/staffing.csv", params={"asOf": "2021-01-01", **params},
                                headers=world.headers(role)).status_code

    assert get("personnel", rootUnitId=world.a1) == 200
    assert get("personnel", rootUnitId=world.b) == 403
    assert get("personnel") == 403
    assert get("ministry") == 200 and get("auditor", rootUnitId=world.b) == 200


def test_no_bad_or_expired_token_is_unauthenticated_with_401(world: World) -> None:
    secret = load_secret(world.ledger.settings.data_dir, world.ledger.settings.token_secret)
    expired = issue(secret, "admin", lifetime=timedelta(minutes=1), now=datetime.now(UTC) - timedelta(hours=1))
    forged = issue(b"another secret, not the server's one!!", "admin")
    cases = {"no token": {}, "not a bearer token": {"Authorization": "Basic YWRtaW46YWRtaW4="},
             "garbage": {"Authorization": "Bearer not-a-token"}, "expired": {"Authorization": f"Bearer {expired}"},
             "forged": {"Authorization": f"Bearer {forged}"}}
    query, variables = _mutation("establishUnit", {"code": "Z", "name": "Tỉnh Z", "kind": "PROVINCE",
                                                   "effectiveOn": "2021-01-01"})
    for label, headers in cases.items():
        before = world.events()
        for body_json in ({"query": "{ units { edges { cursor } } }"}, {"query": query, "variables": variables}):
            response = world.client.post("/graphql", json=body_json, headers=headers)
            assert response.status_code == 401, (label, response.text)
            error = response.json()["errors"][0]
            assert error["extensions"]["code"] == "UNAUTHENTICATED" and error["message"], label
        assert world.events() == before, label
    response = world.client.post("/graphql", json={"query": "{ units { edges { cursor } } }"},
                                 headers={"Authorization": f"Bearer {expired}"})
    assert "expired" in response.json()["errors"][0]["message"]


def test_every_fact_names_who_recorded_it(world: World) -> None:
    query, variables = _mutation("recruitPerson", {"fullName": "Đỗ Thị Dung", "birthDate": "1992-02-02",
                                                   "gender": "FEMALE", "category": "CIVIL_SERVANT",
                                                   "unitId": world.a1a, "effectiveOn": "2021-03-01"})
    status, body = world.post("personnel", query, variables)
    assert status == 200 and body["data"]["recruitPerson"]["errors"] == []
    status, body = world.post("auditor", f'{{ history(unitId: "{world.a1a}", first: 50) '
                                         '{ edges { node { type recordedBy data } } } }')
    facts = [e["node"] for e in body["data"]["history"]["edges"]]
    by_name = {f["data"].get("full_name"): f["recordedBy"] for f in facts if f["type"] == "PersonRecruited"}
    assert by_name["Đỗ Thị Dung"] == "personnel of the test"
    assert by_name["Nguyễn Văn An"] is None  # recorded by a trusted in-process caller, before any token


def test_a_personnel_caller_lists_only_the_units_of_its_subtree(world: World) -> None:
    query = '{ units(asOf: "%s", first: 100) { edges { node { id } } } }'
    for day, expected in (("2021-01-01", {world.a, world.a1, world.a1a, world.moved}),
                          ("2023-01-01", {world.a, world.a1, world.a1a})):  # M moved to B on 01/01/2022
        status, body = world.post("personnel", query % day)
        assert status == 200 and "errors" not in body, body
        assert {e["node"]["id"] for e in body["data"]["units"]["edges"]} == expected, day
    status, body = world.post("ministry", query % "2021-01-01")
    assert {world.b, world.b1} <= {e["node"]["id"] for e in body["data"]["units"]["edges"]}


# ---------------------------------------------------------------------- remembered signatures
SECRET = b"a secret of at least thirty-two bytes for tests"


def test_a_token_checked_once_is_not_checked_again_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    from staffing.graphql import auth

    checked: list[str] = []
    real = auth.verified

    def counting(secret: bytes, token: str) -> Any:
        checked.append(token)
        return real(secret, token)

    monkeypatch.setattr(auth, "verified", counting)
    token = issue(SECRET, "ministry", name="bo-noi-vu", lifetime=timedelta(minutes=1),
                  now=datetime.now(UTC) - timedelta(seconds=58))  # expires in about two seconds
    caller = auth.Caller(SECRET, {})
    for _ in range(3):
        principal, problem = caller.identify(f"Bearer {token}")
        assert problem is None and principal is not None and principal.name == "bo-noi-vu"
    assert len(checked) == 1

    time.sleep(3)
    principal, problem = caller.identify(f"Bearer {token}")
    assert principal is None and problem is not None and "expired" in problem
    assert len(checked) == 2


def test_a_refused_or_tampered_token_is_never_remembered_and_the_memory_is_bounded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from staffing.graphql import auth

    caller = auth.Caller(SECRET, {})
    good = issue(SECRET, "auditor", name="kiem-toan")
    tampered = good[:-2] + ("A" if good[-2] != "A" else "B") + good[-1]
    for _ in range(2):
        principal, problem = caller.identify(f"Bearer {tampered}")
        assert principal is None and problem is not None
    forged = issue(b"another secret, not the server's one!!", "admin")
    assert caller.identify(f"Bearer {forged}")[0] is None
    assert caller.identify(f"Bearer {good}")[0] is not None
    assert caller.identify(f"Bearer {forged}")[0] is None  # after a good one, still checked

    monkeypatch.setattr(auth, "MAX_VERIFIED", 3)
    tokens = [issue(SECRET, "auditor", name=f"kiem-toan-{n}") for n in range(5)]
    for token in tokens:
        assert caller.identify(f"Bearer {token}")[0] is not None
    assert len(caller._verified) == 3 and tokens[-1] in caller._verified and good not in caller._verified
