"""End to end over real HTTP: the 2025 consolidation Hà Giang + Tuyên Quang → Tuyên Quang."""

from __future__ import annotations

from typing import Any

from tests.graphql_client import ACT, GraphQLClient

EARLY_ACT = {"number": "01/2019/QĐ-UBND", "issuer": "UBND tỉnh", "signedOn": "2019-12-20"}

STAFFING = """query($id: ID!, $asOf: Date!, $all: Boolean!) {
  staffing(unitId: $id, asOf: $asOf, includeDescendants: $all) {
    unit { id name } totalQuota totalHeadcount excessAllowedUntil
    lines { category quota headcount vacancy surplus entries { kind amount act { number } } }
  }
}"""


def _province(gql: GraphQLClient, code: str, name: str, communes: list[str], people: int, quota: int) -> str:
    province = gql.mutate("establishUnit", {"code": code, "name": name, "kind": "PROVINCE",
                                            "effectiveOn": "2020-01-01", "act": EARLY_ACT})["unit"]["id"]
    gql.mutate("assignQuota", {"unitId": province, "category": "CIVIL_SERVANT", "kind": "ASSIGNED",
                               "amount": quota, "effectiveOn": "2020-01-01", "act": EARLY_ACT})
    for i, commune in enumerate(communes):
        unit = gql.mutate("establishUnit", {"code": f"{code}-{i}", "name": commune, "kind": "COMMUNE",
                                            "parentId": province, "effectiveOn": "2020-01-01",
                                            "act": EARLY_ACT})["unit"]["id"]
        gql.mutate("recruitPerson", {"fullName": f"Nguyễn Thị {commune}", "birthDate": "1985-05-05",
                                     "gender": "FEMALE", "category": "CADRE", "unitId": unit,
                                     "effectiveOn": "2020-02-01", "act": EARLY_ACT}, "person { id }")
    for i in range(people):
        gql.mutate("recruitPerson", {"fullName": f"Trần Văn {name} {i}", "birthDate": "1980-01-01",
                                     "gender": "MALE", "category": "CIVIL_SERVANT", "unitId": province,
                                     "effectiveOn": "2020-02-01", "act": EARLY_ACT}, "person { id }")
    return province


def _staffing(gql: GraphQLClient, unit: str, as_of: str, everything: bool = True) -> dict[str, Any] | None:
    return gql(STAFFING, {"id": unit, "asOf": as_of, "all": everything})["staffing"]  # type: ignore[no-any-return]


def test_consolidating_two_provinces_over_http_moves_people_quota_and_communes(gql: GraphQLClient) -> None:
    ha_giang = _province(gql, "02", "Tỉnh Hà Giang", ["Xã Lũng Cú", "Phường Minh Khai"], people=3, quota=2)
    tuyen_quang = _province(gql, "08", "Tỉnh Tuyên Quang", ["Phường Phan Thiết"], people=2, quota=4)

    before_hg = _staffing(gql, ha_giang, "2025-06-30")
    before_tq = _staffing(gql, tuyen_quang, "2025-06-30")
    assert before_hg is not None and before_tq is not None
    assert (before_hg["totalHeadcount"], before_hg["totalQuota"]) == (3 + 2, 2)
    assert (before_tq["totalHeadcount"], before_tq["totalQuota"]) == (2 + 1, 4)

    merged = gql.mutate("mergeUnits", {
        "sourceUnitIds": [ha_giang, tuyen_quang],
        "newUnit": {"code": "08", "name": "Tỉnh Tuyên Quang", "kind": "PROVINCE"},
        "excessAllowedUntil": "2030-07-01", "effectiveOn": "2025-07-01", "act": ACT,
    }, "unit { id name predecessors { unit { id name } change effectiveOn } }")
    new_id = merged["unit"]["id"]
    assert {(p["unit"]["name"], p["change"]) for p in merged["unit"]["predecessors"]} == {
        ("Tỉnh Hà Giang", "CONSOLIDATE"), ("Tỉnh Tuyên Quang", "CONSOLIDATE")}

    # the day before, the record is unchanged: both old provinces with their own figures
    assert _staffing(gql, ha_giang, "2025-06-30") == before_hg
    assert _staffing(gql, new_id, "2025-06-30") is None
    # from 01/07/2025 only the new province exists, with everyone, all communes and the summed quota
    ended = _staffing(gql, ha_giang, "2025-07-01")  # answered with its status, not a bare null (issue 12)
    assert ended is not None and (ended["totalQuota"], ended["totalHeadcount"]) == (0, 0)
    after = _staffing(gql, new_id, "2025-07-01")
    assert after is not None
    assert after["totalHeadcount"] == before_hg["totalHeadcount"] + before_tq["totalHeadcount"]
    assert after["totalQuota"] == 2 + 4
    assert after["excessAllowedUntil"] == "2030-07-01"
    civil = next(line for line in after["lines"] if line["category"] == "CIVIL_SERVANT")
    assert (civil["quota"], civil["headcount"], civil["surplus"], civil["vacancy"]) == (6, 5, 0, 1)
    assert {e["act"]["number"] for e in civil["entries"]} == {ACT["number"]}

    children = gql("query($id: ID!) { unit(id: $id, asOf: \"2025-07-01\") { children { name } } }",
                   {"id": new_id})["unit"]["children"]
    assert sorted(c["name"] for c in children) == ["Phường Minh Khai", "Phường Phan Thiết", "Xã Lũng Cú"]

    report = gql("{ staffingReport(asOf: \"2025-07-01\", depth: 1, includeDescendants: true) "
                  "{ level unit { name } totalHeadcount } }")["staffingReport"]
    assert [(r["level"], r["unit"]["name"], r["totalHeadcount"]) for r in report] == [
        (1, "Tỉnh Tuyên Quang", after["totalHeadcount"])]


def test_refused_mutation_over_http_names_the_field_and_writes_nothing(gql: GraphQLClient) -> None:
    unit = gql.mutate("establishUnit", {"code": "X1", "name": "Xã Một", "kind": "COMMUNE",
                                        "effectiveOn": "2020-01-01", "act": EARLY_ACT})["unit"]["id"]
    gql.mutate("dissolveUnit", {"unitId": unit, "effectiveOn": "2025-07-01", "act": ACT})
    before = gql("{ history(first: 100) { edges { node { id } } } }")["history"]["edges"]
    errors = gql.refused("renameUnit", {"unitId": unit, "name": "Xã Hai", "effectiveOn": "2025-08-01", "act": ACT})
    assert errors[0]["code"] == "UNIT_ENDED" and errors[0]["field"] == "unitId"
    assert "ended on 2025-07-01" in errors[0]["message"]
    assert gql("{ history(first: 100) { edges { node { id } } } }")["history"]["edges"] == before
