"""People and positions for personnel departments (issue 12): connections by unit or subtree, search
without diacritics, vacancies, and the scope of a personnel token."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import event

from staffing.application import RetirePerson
from staffing.bootstrap import Ledger
from tests.builders import an_act, create_position, establish, recruit
from tests.graphql_client import GraphQLClient
from tests.support import ledger_bearer

PEOPLE = ('query($u: ID, $d: Date, $s: String, $sub: Boolean!, $first: Int!, $after: String) { people(unitId: $u, '
          'asOf: $d, search: $s, includeDescendants: $sub, first: $first, after: $after) { edges { cursor node '
          '{ id fullName assignment { unitId status } } } pageInfo { hasNextPage endCursor } } }')


def _world(ledger: Ledger) -> dict[str, Any]:
    s = ledger.service
    p = establish(s, code="P", name="Tỉnh Phú Thọ")
    a = establish(s, parent_id=p, kind="COMMUNE", code="A", name="Xã An")
    b = establish(s, parent_id=p, kind="COMMUNE", code="B", name="Xã Bình")
    post = create_position(s, a, title="Chủ tịch UBND xã")
    empty = create_position(s, a, title="Công chức tư pháp")
    names = ["Nguyễn Thị Hoa", "Trần Văn Đức", "Lê Thị Ánh", "Phạm Văn Nam"]
    people = [recruit(s, a, full_name=names[0], position_id=post), recruit(s, a, full_name=names[1]),
              recruit(s, b, full_name=names[2]), recruit(s, b, full_name=names[3])]
    s.execute(RetirePerson(person_id=people[3], effective_on=date(2024, 1, 1), act=an_act(signed_on=date(2023, 12, 1))))
    return {"P": p, "A": a, "B": b, "post": post, "empty": empty, "people": people, "names": names}


def test_people_of_a_unit_or_a_subtree_by_name_page_by_page(api: GraphQLClient, ledger: Ledger) -> None:
    w = _world(ledger)

    def page(**variables: Any) -> dict[str, Any]:
        return api(PEOPLE, {"u": None, "d": "2024-06-30", "s": None, "sub": False, "first": 50, "after": None,
                            **variables})["people"]

    of_a = page(u=w["A"])
    assert [e["node"]["fullName"] for e in of_a["edges"]] == ["Nguyễn Thị Hoa", "Trần Văn Đức"]
    subtree = page(u=w["P"], sub=True)  # the retired Phạm Văn Nam is not present in 2024
    assert [e["node"]["fullName"] for e in subtree["edges"]] == ["Lê Thị Ánh", "Nguyễn Thị Hoa", "Trần Văn Đức"]
    first = page(u=w["P"], sub=True, first=2)
    assert first["pageInfo"]["hasNextPage"] and len(first["edges"]) == 2
    rest = page(u=w["P"], sub=True, first=2, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["fullName"] for e in rest["edges"]] == ["Trần Văn Đức"] and not rest["pageInfo"]["hasNextPage"]
    found = page(s="tran van duc")  # across the country, without diacritics
    assert [e["node"]["fullName"] for e in found["edges"]] == ["Trần Văn Đức"]
    before = page(u=w["B"], d="2023-06-30")  # Phạm Văn Nam was still there
    assert {e["node"]["fullName"] for e in before["edges"]} == {"Lê Thị Ánh", "Phạm Văn Nam"}


def test_positions_with_their_holders_and_vacancies(api: GraphQLClient, ledger: Ledger) -> None:
    w = _world(ledger)
    query = ('query($u: ID!, $v: Boolean) { positions(unitId: $u, asOf: "2024-06-30", vacant: $v) { edges { node '
             '{ id title vacant holders { fullName } } } } }')
    every = [e["node"] for e in api(query, {"u": w["A"], "v": None})["positions"]["edges"]]
    assert [(p["title"], p["vacant"], [h["fullName"] for h in p["holders"]]) for p in every] == [
        ("Chủ tịch UBND xã", False, ["Nguyễn Thị Hoa"]), ("Công chức tư pháp", True, [])]
    vacant = [e["node"]["id"] for e in api(query, {"u": w["A"], "v": True})["positions"]["edges"]]
    assert vacant == [w["empty"]]


def test_a_personnel_token_lists_people_of_its_subtree_only(api: GraphQLClient, ledger: Ledger) -> None:
    w = _world(ledger)
    headers = ledger_bearer(ledger, "personnel", UUID(w["A"]))
    inside = api.client.post("/graphql", headers=headers, json={"query": PEOPLE, "variables": {
        "u": w["A"], "d": "2024-06-30", "s": None, "sub": False, "first": 50, "after": None}})
    assert inside.status_code == 200 and len(inside.json()["data"]["people"]["edges"]) == 2
    for unit in (w["B"], None):
        outside = api.client.post("/graphql", headers=headers, json={"query": PEOPLE, "variables": {
            "u": unit, "d": "2024-06-30", "s": None, "sub": False, "first": 50, "after": None}})
        assert outside.status_code == 403 and outside.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_an_ended_unit_answers_with_its_status_successors_and_lifetime(api: GraphQLClient, ledger: Ledger) -> None:
    from staffing.application import MergeUnits, NewUnit

    w = _world(ledger)
    merged = ledger.service.execute(MergeUnits(
        source_unit_ids=(UUID(w["A"]), UUID(w["B"])), effective_on=date(2025, 7, 1),
        act=an_act(signed_on=date(2025, 6, 1)),
        new_unit=NewUnit(code="AB", name="Xã An Bình", kind="COMMUNE", parent_id=UUID(w["P"])))).unit_id
    unit = api(f'{{ unit(id: "{w["A"]}", asOf: "2025-08-01") {{ status establishedOn endedOn '
               'successors { change unit { id } } } }')["unit"]
    assert unit["status"] == "ENDED" and unit["endedOn"] == "2025-07-01" and unit["establishedOn"] == "2020-01-01"
    assert [s["unit"]["id"] for s in unit["successors"]] == [str(merged)]
    staffing = api(f'{{ staffing(unitId: "{w["A"]}", asOf: "2025-08-01") {{ totalHeadcount unit {{ status '
                   'successors { unit { code } } } } }')["staffing"]
    assert staffing["totalHeadcount"] == 0 and staffing["unit"]["status"] == "ENDED"
    assert staffing["unit"]["successors"][0]["unit"]["code"] == "AB"
    assert api(f'{{ unit(id: "{w["A"]}", asOf: "2019-01-01") {{ id }} }}')["unit"] is None  # before it existed
    every = api('{ units(includeEnded: true, first: 50) { edges { node { code status endedOn } } } }')
    codes = {e["node"]["code"]: e["node"] for e in every["units"]["edges"]}
    assert codes["A"]["status"] == "ENDED" and codes["AB"]["endedOn"] is None and "P" in codes
    by_code = api('{ units(asOf: "2025-08-01", search: "ab") { edges { node { code } } } }')
    assert [e["node"]["code"] for e in by_code["units"]["edges"]] == ["AB"]  # found by its code


def test_people_reaching_retirement_age_within_a_horizon(api: GraphQLClient, ledger: Ledger) -> None:
    s = ledger.service
    p = establish(s, code="R", name="Tỉnh Hòa Bình")
    soon = recruit(s, p, full_name="Đinh Văn Sơn", birth_date=date(1965, 2, 10), gender="MALE")  # 61y6m: 08/2026
    recruit(s, p, full_name="Bùi Thị Mai", birth_date=date(1990, 5, 5), gender="FEMALE")
    later = recruit(s, p, full_name="Hà Thị Lan", birth_date=date(1971, 3, 1), gender="FEMALE")  # 57y8m: 11/2028
    query = ('query($u: ID!, $h: Date!) { retiringPeople(unitId: $u, asOf: "2026-01-01", horizon: $h) '
             '{ retiresOn person { id fullName } } }')
    within = api(query, {"u": p, "h": "2026-12-31"})["retiringPeople"]
    assert [(r["person"]["id"], r["retiresOn"]) for r in within] == [(soon, "2026-09-01")]
    wider = api(query, {"u": p, "h": "2029-12-31"})["retiringPeople"]
    assert [r["person"]["id"] for r in wider] == [soon, later]


UNITS_WITH_STAFF = ('query { unit(id: "%s", asOf: "2024-06-30") { children { code headcount '
                    'people { fullName assignment { unitId } } positions { title vacant holders { fullName } } } } }')


def _statements(ledger: Ledger) -> list[str]:
    """Every SQL statement the read models run from now on (the engines the queries use)."""
    seen: list[str] = []
    for engine in {ledger.engines.read, ledger.engines.write}:
        event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_a_units_people_positions_and_headcount_resolve_in_bulk(api: GraphQLClient, ledger: Ledger) -> None:
    w = _world(ledger)
    children = api(UNITS_WITH_STAFF % w["P"])["unit"]["children"]
    by_code = {c["code"]: c for c in children}
    assert [p["fullName"] for p in by_code["A"]["people"]] == ["Nguyễn Thị Hoa", "Trần Văn Đức"]
    assert [p["fullName"] for p in by_code["B"]["people"]] == ["Lê Thị Ánh"]  # Phạm Văn Nam retired in 2024
    assert (by_code["A"]["headcount"], by_code["B"]["headcount"]) == (2, 1)
    assert [(p["title"], p["vacant"], [h["fullName"] for h in p["holders"]]) for p in by_code["A"]["positions"]] == [
        ("Chủ tịch UBND xã", False, ["Nguyễn Thị Hoa"]), ("Công chức tư pháp", True, [])]
    for code, unit in by_code.items():  # the same answers as the connections and the figures
        connection = api(PEOPLE, {"u": w[code], "d": "2024-06-30", "s": None, "sub": False, "first": 50,
                                  "after": None})["people"]["edges"]
        assert [e["node"]["fullName"] for e in connection] == [p["fullName"] for p in unit["people"]]
        staffing = api('query($u: ID!) { staffing(unitId: $u, asOf: "2024-06-30") { totalHeadcount } }',
                       {"u": w[code]})["staffing"]
        assert staffing["totalHeadcount"] == unit["headcount"]
    # ten more communes: the number of statements stays the same (one read per field, not per unit)
    few = _statements(ledger)
    api(UNITS_WITH_STAFF % w["P"])
    counted = len(few)
    for i in range(10):
        unit = establish(ledger.service, parent_id=w["P"], kind="COMMUNE", code=f"C{i}", name=f"Xã {i}")
        recruit(ledger.service, unit, full_name=f"Người {i}", position_id=create_position(ledger.service, unit))
    few.clear()
    many = api(UNITS_WITH_STAFF % w["P"])["unit"]["children"]
    assert len(many) == 12 and sum(c["headcount"] for c in many) == 13
    assert len(few) <= counted + 2, few  # a catch-up may add its own statements; never one per unit


def test_a_personnel_token_cannot_read_the_people_of_a_unit_above_its_own(api: GraphQLClient,
                                                                          ledger: Ledger) -> None:
    w = _world(ledger)
    headers = ledger_bearer(ledger, "personnel", UUID(w["A"]))
    query = ('query($u: ID!) { unit(id: $u, asOf: "2024-06-30") { headcount people { fullName } '
             'parent { code people { fullName } } } }')
    answer = api.client.post("/graphql", headers=headers, json={"query": query, "variables": {"u": w["A"]}}).json()
    assert answer["data"]["unit"]["headcount"] == 2 and len(answer["data"]["unit"]["people"]) == 2
    assert answer["data"]["unit"]["parent"] is None
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN" and answer["errors"][0]["path"][-1] == "people"


SPLIT = 'mutation($input: SplitUnitInput!) { splitUnit(input: $input) { units { id } errors { code field message } } }'


def test_a_split_in_one_call_by_position_and_rest_or_refused_naming_what_is_left(api: GraphQLClient,
                                                                                 ledger: Ledger) -> None:
    """Splitting commune A (two people, one holding the chairman's post, and an empty post) without
    listing ids one by one: one part takes the chairman's post (its holder follows), the other the rest."""
    w = _world(ledger)

    def split(parts: list[dict[str, Any]]) -> dict[str, Any]:
        return api(SPLIT, {"input": {"unitId": w["A"], "parts": parts, "effectiveOn": "2025-07-01",
                                     "act": {"number": "12/NQ-HĐND", "issuer": "HĐND tỉnh Phú Thọ",
                                             "signedOn": "2025-06-20"}}})["splitUnit"]

    one = {"unit": {"code": "A1", "name": "Xã An Một", "kind": "COMMUNE"}, "positionIds": [w["post"]]}
    refused = split([one, {"unit": {"code": "A2", "name": "Xã An Hai", "kind": "COMMUNE"}}])
    (error,) = refused["errors"]
    assert error["code"] == "ALLOCATION_INCOMPLETE" and refused["units"] is None
    assert f"Trần Văn Đức ({w['people'][1]})" in error["message"]  # who is left, by name and id
    assert f"Công chức tư pháp ({w['empty']})" in error["message"]
    assert "Nguyễn Thị Hoa" not in error["message"]  # she follows her post
    done = split([one, {"unit": {"code": "A2", "name": "Xã An Hai", "kind": "COMMUNE"}, "rest": True}])
    assert done["errors"] == []
    first, second = (u["id"] for u in done["units"])
    query = 'query($u: ID!) { unit(id: $u, asOf: "2025-07-01") { people { fullName } positions { title } } }'
    assert api(query, {"u": first})["unit"] == {"people": [{"fullName": "Nguyễn Thị Hoa"}],
                                                "positions": [{"title": "Chủ tịch UBND xã"}]}
    assert api(query, {"u": second})["unit"] == {"people": [{"fullName": "Trần Văn Đức"}],
                                                 "positions": [{"title": "Công chức tư pháp"}]}
