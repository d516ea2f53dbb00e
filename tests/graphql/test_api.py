"""The API's behaviour in-process: refusals, validation, temporal arguments, pagination, limits."""

from __future__ import annotations

from datetime import UTC, datetime

from staffing.bootstrap import Ledger
from tests.graphql_client import GraphQLClient
from tests.support import FakeClock

ACT = {"number": "12/QĐ-UBND", "issuer": "UBND tỉnh Tuyên Quang", "signedOn": "2020-01-01"}


def _unit(api: GraphQLClient, code: str, name: str, kind: str = "PROVINCE", parent: str | None = None,
          on: str = "2020-01-01") -> str:
    return api.mutate("establishUnit", {"code": code, "name": name, "kind": kind, "parentId": parent,
                                        "effectiveOn": on, "act": ACT})["unit"]["id"]


def _event_count(ledger: Ledger) -> int:
    return ledger.store.recorder.max_notification_id() or 0


def test_unknown_id_is_refused_with_the_field_named_and_nothing_written(api: GraphQLClient, ledger: Ledger) -> None:
    before = _event_count(ledger)
    errors = api.refused("assignQuota", {"unitId": "6f1c1f5e-0000-4000-8000-000000000000", "category": "CADRE",
                                         "kind": "ASSIGNED", "amount": 3, "effectiveOn": "2021-01-01", "act": ACT})
    assert errors == [{"code": "NOT_FOUND", "field": "unitId",
                       "message": "no unit with id 6f1c1f5e-0000-4000-8000-000000000000"}]
    assert _event_count(ledger) == before


def test_malformed_id_is_refused_as_invalid_input(api: GraphQLClient) -> None:
    errors = api.refused("dissolveUnit", {"unitId": "not-a-uuid", "effectiveOn": "2021-01-01", "act": ACT})
    assert errors[0]["code"] == "INVALID_INPUT" and errors[0]["field"] == "unitId"


def test_effective_date_before_the_unit_existed_is_refused(api: GraphQLClient) -> None:
    province = _unit(api, "01", "Tỉnh Hà Giang", on="2020-01-01")
    errors = api.refused("establishUnit", {"code": "X", "name": "Xã Lũng Cú", "kind": "COMMUNE", "parentId": province,
                                           "effectiveOn": "2019-06-01", "act": ACT})
    assert errors[0]["code"] == "EFFECTIVE_BEFORE_START" and errors[0]["field"] == "effectiveOn"


def test_exception_ending_before_it_starts_is_refused(api: GraphQLClient) -> None:
    province = _unit(api, "01", "Tỉnh Hà Giang")
    errors = api.refused("allowExcess", {"unitId": province, "until": "2019-01-01", "reason": "sáp nhập",
                                         "effectiveOn": "2020-06-01", "act": ACT})
    assert errors[0]["field"] == "excessAllowedUntil" and "before it starts" in errors[0]["message"]


def test_negative_quota_is_refused(api: GraphQLClient) -> None:
    province = _unit(api, "01", "Tỉnh Hà Giang")
    errors = api.refused("assignQuota", {"unitId": province, "category": "CADRE", "kind": "ASSIGNED", "amount": -1,
                                         "effectiveOn": "2021-01-01", "act": ACT})
    assert errors[0] == {"code": "INVALID_INPUT", "field": "amount",
                         "message": "the amount must not be negative, got -1"}


def test_malformed_scalar_fails_graphql_validation(api: GraphQLClient) -> None:
    body = api.raw('{ unit(id: "x", asOf: "31/12/2025") { id } }')
    assert body["errors"] and "Date" in body["errors"][0]["message"]
    body = api.raw("mutation { establishUnit(input: {code: \"A\"}) { errors { code } } }")
    missing = {e["message"].split("required field '")[1].split("'")[0] for e in body["errors"]}
    assert {"name", "kind", "effectiveOn", "act"} <= missing


def test_unknown_enum_value_fails_validation(api: GraphQLClient) -> None:
    body = api.raw('mutation { assignQuota(input: {unitId: "x", category: SOLDIER, kind: ASSIGNED, amount: 1, '
                   'effectiveOn: "2020-01-01", act: {number: "1", issuer: "x", signedOn: "2020-01-01"}}) '
                   "{ errors { code } } }")
    assert body["errors"] and "SOLDIER" in body["errors"][0]["message"]


def test_query_argument_errors_carry_bad_user_input_code(api: GraphQLClient) -> None:
    body = api.raw('{ units(first: 0) { edges { cursor } } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "first"
    body = api.raw('{ units(after: "garbage!") { edges { cursor } } }')
    assert body["errors"][0]["extensions"]["field"] == "after"


def test_too_deep_queries_are_rejected(api: GraphQLClient) -> None:
    nested = "id " + "children { " * 14 + "id" + " }" * 14
    body = api.raw(f'{{ unit(id: "00000000-0000-4000-8000-000000000000") {{ {nested} }} }}')
    assert body["errors"] and "exceeds maximum operation depth" in body["errors"][0]["message"]


def test_unit_query_answers_as_of_and_known_at(api: GraphQLClient, clock: FakeClock) -> None:
    clock.set(datetime(2026, 6, 15, tzinfo=UTC))
    unit = _unit(api, "02", "Tỉnh Hà Giang")
    clock.set(datetime(2026, 7, 10, tzinfo=UTC))
    api.mutate("renameUnit", {"unitId": unit, "name": "Tỉnh Hà Giang mới", "effectiveOn": "2025-07-01", "act": ACT})
    query = "query($id: ID!, $d: Date, $k: DateTime) { unit(id: $id, asOf: $d, knownAt: $k) { name } }"
    assert api(query, {"id": unit, "d": "2025-06-30"})["unit"]["name"] == "Tỉnh Hà Giang"
    assert api(query, {"id": unit, "d": "2025-07-01"})["unit"]["name"] == "Tỉnh Hà Giang mới"
    # as known on 5 July 2026, the rename (recorded 10 July 2026) was not yet on record
    assert api(query, {"id": unit, "d": "2025-07-01", "k": "2026-07-05T00:00:00+00:00"})["unit"]["name"] == \
        "Tỉnh Hà Giang"
    # before the unit was recorded at all, it is unknown
    assert api(query, {"id": unit, "d": "2025-07-01", "k": "2026-06-01T00:00:00+07:00"})["unit"] is None


def test_units_search_matches_without_diacritics_and_paginates(api: GraphQLClient) -> None:
    for i, name in enumerate(["Tỉnh Tuyên Quang", "Tỉnh Đắk Lắk", "Tỉnh Hà Giang", "Thành phố Tuyên Quang"]):
        _unit(api, f"{i:02d}", name)
    query = "query($s: String, $after: String) { units(asOf: \"2021-01-01\", search: $s, first: 1, after: $after) " \
            "{ edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }"
    first = api(query, {"s": "tuyen quang"})["units"]
    assert [e["node"]["name"] for e in first["edges"]] == ["Tỉnh Tuyên Quang"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = api(query, {"s": "tuyen quang", "after": first["pageInfo"]["endCursor"]})["units"]
    assert [e["node"]["name"] for e in second["edges"]] == ["Thành phố Tuyên Quang"]
    assert second["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["name"] for e in api(query, {"s": "DAK LAK"})["units"]["edges"]] == ["Tỉnh Đắk Lắk"]


def test_history_lists_facts_in_log_order_and_retract_fact_uses_their_ids(api: GraphQLClient) -> None:
    unit = _unit(api, "03", "Tỉnh Tuyên Quang")
    quota = api.mutate("assignQuota", {"unitId": unit, "category": "CIVIL_SERVANT", "kind": "ASSIGNED",
                                       "amount": 90, "effectiveOn": "2021-01-01", "act": ACT}, "factId")["factId"]
    history = api("query($u: ID) { history(unitId: $u) { edges { node { id type effectiveOn recordedAt "
                  "act { number issuer signedOn } data retractedBy } } } }", {"u": unit})["history"]["edges"]
    types = [e["node"]["type"] for e in history]
    assert types == ["UnitEstablished", "QuotaLedgerOpened", "QuotaSet"]
    quota_fact = history[-1]["node"]
    assert quota_fact["id"] == quota and quota_fact["data"]["amount"] == 90
    assert quota_fact["act"] == {"number": "12/QĐ-UBND", "issuer": "UBND tỉnh Tuyên Quang", "signedOn": "2020-01-01"}
    done = api.mutate("retractFact", {"factId": quota, "reason": "nhập sai", "act": ACT},
                      "retractionId retractedFactId unit { id } person { id }")
    assert done["retractedFactId"] == quota
    assert done["unit"] == {"id": unit} and done["person"] is None
    staffing = api("query($u: ID!) { staffing(unitId: $u, asOf: \"2022-01-01\") { totalQuota } }", {"u": unit})
    assert staffing["staffing"]["totalQuota"] == 0
    again = api("query($u: ID) { history(unitId: $u) { edges { node { id retractedBy } } } }", {"u": unit})
    retracted = next(e["node"] for e in again["history"]["edges"] if e["node"]["id"] == quota)
    assert retracted["retractedBy"] == done["retractionId"]


def test_reorganisations_cannot_be_retracted(api: GraphQLClient) -> None:
    unit, absorbed = _unit(api, "04", "Tỉnh Bắc Kạn"), _unit(api, "04B", "Tỉnh Thái Nguyên")
    fact = api.mutate("mergeUnits", {"sourceUnitIds": [absorbed], "intoUnitId": unit, "effectiveOn": "2025-07-01",
                                     "act": ACT}, "factId")["factId"]
    errors = api.refused("retractFact", {"factId": fact, "reason": "x", "act": ACT}, "retractionId")
    assert errors[0]["code"] == "NOT_RETRACTABLE"


def test_person_query_shows_the_assignment_on_the_date(api: GraphQLClient) -> None:
    a = _unit(api, "05", "Sở Nội vụ", kind="PROVINCIAL_DEPARTMENT")
    b = _unit(api, "06", "Sở Tài chính", kind="PROVINCIAL_DEPARTMENT")
    person = api.mutate("recruitPerson", {"fullName": "Lê Thị Hoa", "birthDate": "1990-03-08", "gender": "FEMALE",
                                          "category": "CIVIL_SERVANT", "unitId": a, "effectiveOn": "2021-01-01",
                                          "act": ACT}, "person { id }")["person"]["id"]
    api.mutate("transferPerson", {"personId": person, "toUnitId": b, "effectiveOn": "2023-01-01", "act": ACT},
               "person { id }")
    query = "query($p: ID!, $d: Date) { person(id: $p, asOf: $d) { fullName assignment { unit { name } status } } }"
    assert api(query, {"p": person, "d": "2022-12-31"})["person"]["assignment"]["unit"]["name"] == "Sở Nội vụ"
    got = api(query, {"p": person, "d": "2023-01-01"})["person"]
    assert got["fullName"] == "Lê Thị Hoa" and got["assignment"]["unit"]["name"] == "Sở Tài chính"
    assert api(query, {"p": person, "d": "2020-12-31"})["person"] is None
    moves = api("query($u: ID!) { movements(unitId: $u, from: \"2021-01-01\", to: \"2023-12-31\") { kind } }",
                {"u": a})["movements"]
    assert [m["kind"] for m in moves] == ["RECRUITED", "TRANSFERRED_OUT"]


def test_downsizing_returns_the_decree_in_force_on_the_decision_date(api: GraphQLClient) -> None:
    unit = _unit(api, "07", "Bộ Kế hoạch và Đầu tư", kind="MINISTRY")
    person = api.mutate("recruitPerson", {"fullName": "Phạm Văn Nam", "birthDate": "1970-01-01", "gender": "MALE",
                                          "category": "CIVIL_SERVANT", "unitId": unit, "effectiveOn": "2021-01-01",
                                          "act": ACT}, "person { id }")["person"]["id"]
    payload = api.mutate("downsizePerson", {
        "personId": person, "policy": "RESIGNATION", "effectiveOn": "2025-03-01", "monthlySalary": 10705500,
        "insuredYears": 15, "affectedByRestructuring": True,
        "act": {"number": "45/QĐ-BKHĐT", "issuer": "Bộ Kế hoạch và Đầu tư", "signedOn": "2025-02-20"}},
        "decree person { assignment { status } }")
    assert payload["decree"] == "178/2024/NĐ-CP (67/2025/NĐ-CP)"
    assert payload["person"]["assignment"]["status"] == "DOWNSIZED"


def test_downsizing_returns_its_payout_and_history_keeps_it(api: GraphQLClient) -> None:
    """The worked example of DOMAIN.md over GraphQL: 786,854,250 VND, more than a 32-bit Int holds."""
    unit = _unit(api, "08", "Bộ Tài chính", kind="MINISTRY")
    person = api.mutate("recruitPerson", {"fullName": "Lê Thị Hà", "birthDate": "1972-01-01", "gender": "FEMALE",
                                          "category": "CIVIL_SERVANT", "unitId": unit, "effectiveOn": "2021-01-01",
                                          "act": ACT}, "person { id }")["person"]["id"]
    payload = api.mutate("downsizePerson", {
        "personId": person, "policy": "RESIGNATION", "effectiveOn": "2025-03-01", "monthlySalary": 10705500,
        "insuredYears": 15, "monthsToRetirement": 60, "monthsSinceReorganisation": 1, "affectedByRestructuring": True,
        "act": {"number": "46/QĐ-BTC", "issuer": "Bộ Tài chính", "signedOn": "2025-02-20"}},
        "payout { total rule breakdown { item amount } }")
    assert payload["payout"]["total"] == 786_854_250 and payload["payout"]["rule"].startswith("178/2024")
    assert [i["amount"] for i in payload["payout"]["breakdown"]] == [513_864_000, 240_873_750, 32_116_500]
    facts = api(f'{{ history(personId: "{person}") {{ edges {{ node {{ type data }} }} }} }}')["history"]["edges"]
    downsized = [f["node"]["data"] for f in facts if f["node"]["type"] == "PersonDownsized"]
    assert downsized[0]["payout"]["total"] == 786_854_250 and downsized[0]["months_to_retirement"] == 60


def test_responses_carry_vietnamese_text_as_utf8_unescaped(api: GraphQLClient) -> None:
    _unit(api, "09", "Ủy ban nhân dân tỉnh Tuyên Quang")
    response = api.client.post("/graphql", json={"query": '{ units(asOf: "2021-01-01") { edges { node { name } } } }'})
    assert "Ủy ban nhân dân tỉnh Tuyên Quang".encode() in response.content


def test_staffing_report_levels_depth_and_rollup(api: GraphQLClient) -> None:
    province = _unit(api, "10", "Tỉnh Lào Cai")
    district = _unit(api, "11", "Huyện Bát Xát", kind="DISTRICT", parent=province)
    commune = _unit(api, "12", "Xã A Mú Sung", kind="COMMUNE", parent=district)
    for unit, amount in ((province, 7), (district, 5), (commune, 3)):
        api.mutate("assignQuota", {"unitId": unit, "category": "CIVIL_SERVANT", "kind": "ASSIGNED",
                                   "amount": amount, "effectiveOn": "2021-01-01", "act": ACT})
    query = "query($r: ID, $d: Int, $all: Boolean!) { staffingReport(rootUnitId: $r, asOf: \"2022-01-01\", " \
            "depth: $d, includeDescendants: $all) { level unit { name } totalQuota } }"
    rows = api(query, {"r": province, "d": 1, "all": False})["staffingReport"]
    assert [(r["level"], r["unit"]["name"], r["totalQuota"]) for r in rows] == [
        (0, "Tỉnh Lào Cai", 7), (1, "Huyện Bát Xát", 5)]
    rows = api(query, {"r": province, "d": None, "all": True})["staffingReport"]
    assert [(r["level"], r["totalQuota"]) for r in rows] == [(0, 15), (1, 8), (2, 3)]
    national = api(query, {"r": None, "d": 1, "all": True})["staffingReport"]
    assert [(r["level"], r["unit"]["name"], r["totalQuota"]) for r in national] == [(1, "Tỉnh Lào Cai", 15)]


def test_leaving_mutations_each_take_their_own_input_and_end_the_count(api: GraphQLClient) -> None:
    unit = _unit(api, "13", "Sở Y tế", kind="PROVINCIAL_DEPARTMENT")
    people = [api.mutate("recruitPerson", {"fullName": f"Hoàng Văn {i}", "birthDate": "1970-01-01", "gender": "MALE",
                                           "category": "CIVIL_SERVANT", "unitId": unit, "effectiveOn": "2021-01-01",
                                           "act": ACT}, "person { id }")["person"]["id"] for i in range(3)]
    for person, mutation in zip(people, ("retirePerson", "resignPerson", "dismissPerson"), strict=True):
        payload = api.mutate(mutation, {"personId": person, "effectiveOn": "2024-01-01", "act": ACT},
                             "person { assignment { status } }")
        assert payload["person"]["assignment"]["status"] in {"RETIRED", "RESIGNED", "DISMISSED"}
    count = "query($u: ID!, $d: Date!) { staffing(unitId: $u, asOf: $d) { totalHeadcount } }"
    assert api(count, {"u": unit, "d": "2023-12-31"})["staffing"]["totalHeadcount"] == 3
    assert api(count, {"u": unit, "d": "2024-01-01"})["staffing"]["totalHeadcount"] == 0
    moves = api("query($u: ID!) { movements(unitId: $u, from: \"2024-01-01\", to: \"2024-01-01\") { kind } }",
                {"u": unit})["movements"]
    assert sorted(m["kind"] for m in moves) == ["DISMISSED", "RESIGNED", "RETIRED"]


def test_retracting_a_transfer_returns_the_person_to_where_the_record_now_places_them(api: GraphQLClient) -> None:
    a = _unit(api, "14", "Phòng Tổ chức", kind="DIVISION")
    b = _unit(api, "15", "Phòng Kế hoạch", kind="DIVISION")
    person = api.mutate("recruitPerson", {"fullName": "Trịnh Thu Hà", "birthDate": "1992-02-02", "gender": "FEMALE",
                                          "category": "CIVIL_SERVANT", "unitId": a, "effectiveOn": "2021-01-01",
                                          "act": ACT}, "person { id }")["person"]["id"]
    transfer = api.mutate("transferPerson", {"personId": person, "toUnitId": b, "effectiveOn": "2022-01-01",
                                             "act": ACT}, "factId")["factId"]
    done = api.mutate("retractFact", {"factId": transfer, "reason": "nhập nhầm người", "act": ACT},
                      "person { id assignment { unit { name } } }")
    assert done["person"]["assignment"]["unit"]["name"] == "Phòng Tổ chức"


def test_facts_about_one_person_on_one_day_are_each_a_movement_in_the_order_recorded(api: GraphQLClient) -> None:
    a = _unit(api, "SD-A", "Xã Một Ngày A", kind="COMMUNE")
    b = _unit(api, "SD-B", "Xã Một Ngày B", kind="COMMUNE")
    person = api.mutate("recruitPerson", {"fullName": "Lục Văn Sáng", "birthDate": "1990-01-01", "gender": "MALE",
                                          "category": "CIVIL_SERVANT", "unitId": a, "effectiveOn": "2022-03-01",
                                          "act": ACT}, "person { id }")["person"]["id"]
    api.mutate("transferPerson", {"personId": person, "toUnitId": b, "effectiveOn": "2022-03-01", "act": ACT},
               "person { id }")
    query = "query($u: ID!) { movements(unitId: $u, from: \"2022-03-01\", to: \"2022-03-01\") { kind personId } }"

    assert [m["kind"] for m in api(query, {"u": a})["movements"]] == ["RECRUITED", "TRANSFERRED_OUT"]
    assert [m["kind"] for m in api(query, {"u": b})["movements"]] == ["TRANSFERRED_IN"]
    staffing = "query($u: ID!) { staffing(unitId: $u, asOf: \"2022-03-01\") { totalHeadcount } }"
    assert (api(staffing, {"u": a})["staffing"]["totalHeadcount"], api(staffing, {"u": b})["staffing"]["totalHeadcount"]) == (0, 1)
