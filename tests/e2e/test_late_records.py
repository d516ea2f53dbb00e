"""The measured dead ends of late and out-of-order records, replayed over real HTTP on the demo.

Each was refused (or corrupted the history) before: a recruitment into a commune that the
01/07/2025 reform has since consolidated, a retirement before the reform of someone it moved, a
quota figure entered after a later one, a transfer dated before a transfer on record, a retraction
of a transfer a later split relied on, a mistyped far-future date. Every one now works (or is
refused with a clear error), and answers known at a moment before it stay what they were.

The tests share one demo server per backend (``shared_demo``): each writes to units of its own or
compares figures it reads itself just before and after its write.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.graphql_client import GraphQLClient

ACT = {"number": "77/QĐ-UBND", "issuer": "UBND tỉnh Tuyên Quang", "signedOn": "2025-09-01"}
REFORM = "2025-07-01"

COMMUNES = """query { units(asOf: "2025-06-30", kind: COMMUNE, first: 200) { edges { node {
  id code name successors { change effectiveOn unit { id name } } } } } }"""
STAFFING = """query($id: ID!, $asOf: Date!, $knownAt: DateTime) {
  staffing(unitId: $id, asOf: $asOf, knownAt: $knownAt) { totalQuota totalHeadcount
    lines { category quota headcount } } }"""
PERSON = """query($id: ID!, $asOf: Date) { person(id: $id, asOf: $asOf) { fullName
  assignment { unitId status since } } }"""
HISTORY = """query($id: ID!) { history(unitId: $id, first: 500) { edges { node { id type personId effectiveOn } } } }"""
MOVEMENTS = """query($id: ID!, $from: Date!, $to: Date!) { movements(unitId: $id, from: $from, to: $to) {
  personId kind effectiveOn } }"""


@pytest.fixture
def demo(shared_demo: GraphQLClient) -> GraphQLClient:
    return shared_demo


def _consolidated_commune(demo: GraphQLClient) -> tuple[dict[str, Any], str]:
    """A Hà Giang or Tuyên Quang commune the reform consolidated on 01/07/2025, and its successor."""
    for edge in demo(COMMUNES)["units"]["edges"]:
        node = edge["node"]
        for successor in node["successors"]:
            if successor["change"] == "CONSOLIDATE" and successor["effectiveOn"] == REFORM:
                return node, successor["unit"]["id"]
    raise AssertionError("the demo has no commune consolidated on 01/07/2025")


def _headcount(demo: GraphQLClient, unit_id: str, as_of: str, known_at: str | None = None) -> int:
    found = demo(STAFFING, {"id": unit_id, "asOf": as_of, "knownAt": known_at})["staffing"]
    return int(found["totalHeadcount"])


def _resident(demo: GraphQLClient, commune: str) -> str:
    """Someone in the commune on 30/06/2025 whom the reform moved."""
    for edge in demo(HISTORY, {"id": commune})["history"]["edges"]:
        person_id = edge["node"]["personId"]
        if not person_id:
            continue
        before = demo(PERSON, {"id": person_id, "asOf": "2025-06-30"})["person"]
        after = demo(PERSON, {"id": person_id, "asOf": REFORM})["person"]
        if before and before["assignment"]["unitId"] == commune and before["assignment"]["status"] == "ACTIVE" \
                and after and after["assignment"]["status"] == "ACTIVE":
            return str(person_id)
    raise AssertionError("nobody the reform moved")


def test_a_late_recruitment_into_a_consolidated_commune_counts_there_then_in_its_successor(demo: GraphQLClient) -> None:
    commune, successor = _consolidated_commune(demo)
    before = datetime.now(UTC).isoformat()
    then, after = _headcount(demo, commune["id"], "2024-06-01"), _headcount(demo, successor, "2025-07-31")

    hired = demo.mutate("recruitPerson", {"fullName": "Hoàng Thị Mai", "birthDate": "1994-02-03", "gender": "FEMALE",
                                          "category": "CIVIL_SERVANT", "unitId": commune["id"],
                                          "effectiveOn": "2024-03-15", "act": ACT}, "person { id }")

    assert _headcount(demo, commune["id"], "2024-06-01") == then + 1
    assert _headcount(demo, successor, "2025-07-31") == after + 1
    moved = demo(PERSON, {"id": hired["person"]["id"], "asOf": "2025-07-31"})["person"]["assignment"]
    assert moved["unitId"] == successor
    assert _headcount(demo, successor, "2025-07-31", before) == after  # known before the entry: unchanged


def test_a_retirement_before_the_reform_takes_the_person_out_of_those_it_moved(demo: GraphQLClient) -> None:
    commune, successor = _consolidated_commune(demo)
    person = _resident(demo, commune["id"])
    after = _headcount(demo, successor, "2025-07-31")

    demo.mutate("retirePerson", {"personId": person, "effectiveOn": "2024-12-01", "act": ACT}, "person { id }")

    assert _headcount(demo, successor, "2025-07-31") == after - 1
    retired = demo(PERSON, {"id": person, "asOf": "2025-07-31"})["person"]["assignment"]
    assert retired["status"] == "RETIRED" and retired["unitId"] == commune["id"]


def test_a_quota_figure_entered_after_a_later_one_holds_until_it(demo: GraphQLClient) -> None:
    commune, _ = _consolidated_commune(demo)
    figure = {"unitId": commune["id"], "category": "CADRE", "kind": "TEMPORARY", "effectiveOn": "2025-01-01",
              "amount": 4, "act": ACT}
    demo.mutate("assignQuota", figure)

    demo.mutate("assignQuota", {**figure, "effectiveOn": "2023-01-01", "amount": 2})

    def cadre(as_of: str) -> int:
        lines = demo(STAFFING, {"id": commune["id"], "asOf": as_of})["staffing"]["lines"]
        return int(next(line["quota"] for line in lines if line["category"] == "CADRE"))

    base = cadre("2022-12-31")
    assert (cadre("2023-06-01"), cadre("2025-02-01")) == (base + 2, base + 4)


def _unit(demo: GraphQLClient, code: str, name: str, kind: str = "COMMUNE", parent: str | None = None) -> str:
    return demo.mutate("establishUnit", {"code": code, "name": name, "kind": kind, "parentId": parent,
                                         "effectiveOn": "2020-01-01", "act": ACT})["unit"]["id"]


def test_a_transfer_dated_before_a_transfer_on_record_holds_until_it(demo: GraphQLClient) -> None:
    x, y, z = (_unit(demo, f"LT-{c}", f"Xã Thử {c}") for c in "XYZ")
    person = demo.mutate("recruitPerson", {"fullName": "Lò Văn Pao", "birthDate": "1990-01-01", "gender": "MALE",
                                           "category": "CIVIL_SERVANT", "unitId": x, "effectiveOn": "2021-01-01",
                                           "act": ACT}, "person { id }")["person"]["id"]
    demo.mutate("transferPerson", {"personId": person, "toUnitId": z, "effectiveOn": "2023-01-01", "act": ACT},
                "person { id }")

    demo.mutate("transferPerson", {"personId": person, "toUnitId": y, "effectiveOn": "2022-01-01", "act": ACT},
                "person { id }")

    where = [demo(PERSON, {"id": person, "asOf": d})["person"]["assignment"]["unitId"]
             for d in ("2021-06-01", "2022-06-01", "2023-06-01")]
    assert where == [x, y, z]


def test_retracting_a_transfer_a_later_split_relied_on_leaves_no_phantom_movement(demo: GraphQLClient) -> None:
    home, original = _unit(demo, "RS-H", "Xã Nhà"), _unit(demo, "RS-O", "Xã Gốc")
    person = demo.mutate("recruitPerson", {"fullName": "Vàng Thị Dua", "birthDate": "1990-01-01", "gender": "FEMALE",
                                           "category": "CIVIL_SERVANT", "unitId": home, "effectiveOn": "2021-01-01",
                                           "act": ACT}, "person { id }")["person"]["id"]
    transfer = demo.mutate("transferPerson", {"personId": person, "toUnitId": original, "effectiveOn": "2023-01-01",
                                              "act": ACT}, "factId")["factId"]
    split = demo.mutate("splitUnit", {"unitId": original, "effectiveOn": "2024-01-01", "act": ACT, "parts": [
        {"unit": {"code": "RS-1", "name": "Phường Một", "kind": "WARD"}, "personIds": [person]},
        {"unit": {"code": "RS-2", "name": "Phường Hai", "kind": "WARD"}}]}, "units { id }")
    part = split["units"][0]["id"]

    demo.mutate("retractFact", {"factId": transfer, "reason": "nhập nhầm", "act": ACT}, "retractionId")

    assert demo(PERSON, {"id": person, "asOf": "2024-06-01"})["person"]["assignment"]["unitId"] == home
    for unit in (original, part):
        movements = demo(MOVEMENTS, {"id": unit, "from": "2020-01-01", "to": "2026-01-01"})["movements"]
        assert [m for m in movements if m["personId"] == person] == []
    assert _headcount(demo, part, "2024-06-01") == 0 and _headcount(demo, home, "2024-06-01") == 1


def test_a_far_future_typo_is_refused_and_a_wrong_rename_can_be_retracted(demo: GraphQLClient) -> None:
    unit = _unit(demo, "TY-1", "Xã Đúng Tên")
    errors = demo.refused("renameUnit", {"unitId": unit, "name": "Xã Sai", "effectiveOn": "2205-07-01", "act": ACT})
    assert (errors[0]["code"], errors[0]["field"]) == ("INVALID_INPUT", "effectiveOn")

    wrong = demo.mutate("renameUnit", {"unitId": unit, "name": "Xã Sai Năm", "effectiveOn": "2030-07-01",
                                       "act": ACT}, "factId")["factId"]
    demo.mutate("retractFact", {"factId": wrong, "reason": "gõ nhầm năm", "act": ACT}, "retractionId")
    renamed = demo.mutate("renameUnit", {"unitId": unit, "name": "Xã Tên Mới", "effectiveOn": "2026-01-01",
                                         "act": ACT}, "unit { name }")
    assert renamed["unit"]["name"] == "Xã Tên Mới"


def test_the_end_of_time_is_not_a_date_one_can_ask_about(demo: GraphQLClient) -> None:
    commune, _ = _consolidated_commune(demo)
    body = demo.raw(STAFFING, {"id": commune["id"], "asOf": "9999-12-31"})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "end of time" in error["message"]
