"""`executePlan` over GraphQL: all or nothing, dry runs that leave no trace, figures after the plan."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from staffing.bootstrap import Ledger
from staffing.projections import tables as t
from tests.graphql_client import GraphQLClient

ACT = {"number": "1656/NQ-UBTVQH15", "issuer": "Ủy ban Thường vụ Quốc hội", "signedOn": "2025-06-16"}
REFORM = "2025-07-01"

PLAN = """mutation($input: ExecutePlanInput!) { executePlan(input: $input) {
  recorded ids errors { index code field message }
  staffing { unit { id code name } level totalQuota totalHeadcount totalSurplus excessAllowedUntil
             lines { category quota headcount } }
  overQuota { unit { code } totalSurplus }
} }"""


def _establish(api: GraphQLClient, code: str, name: str, kind: str, parent: str | None = None) -> str:
    return api.mutate("establishUnit", {"code": code, "name": name, "kind": kind, "parentId": parent,
                                        "effectiveOn": "2020-01-01", "act": ACT})["unit"]["id"]


@pytest.fixture
def province(api: GraphQLClient) -> dict[str, Any]:
    """Tỉnh Tuyên Quang with two communes, each with 3 civil servants in post against a quota of 3."""
    p = _establish(api, "08", "Tỉnh Tuyên Quang", "PROVINCE")
    communes = [_establish(api, f"08-{i}", f"Xã Số {i}", "COMMUNE", p) for i in (1, 2)]
    for c in communes:
        api.mutate("assignQuota", {"unitId": c, "category": "CIVIL_SERVANT", "kind": "ASSIGNED", "amount": 3,
                                   "effectiveOn": "2020-01-01", "act": ACT})
        for n in range(3):
            api.mutate("recruitPerson", {"fullName": f"Nguyễn Văn {n}", "birthDate": "1990-01-01", "gender": "MALE",
                                         "category": "CIVIL_SERVANT", "unitId": c, "effectiveOn": "2020-01-01",
                                         "act": ACT}, "person { id }")
    return {"id": p, "communes": communes}


def _plan(province: dict[str, Any], new_id: str, quota: int = 4) -> list[dict[str, Any]]:
    """Consolidate the two communes, cut the new commune's quota, recruit one more into it."""
    return [
        {"mergeUnits": {"sourceUnitIds": province["communes"], "effectiveOn": REFORM, "act": ACT,
                        "newUnit": {"id": new_id, "code": "08-M", "name": "Xã Minh Quang", "kind": "COMMUNE",
                                    "parentId": province["id"]}}},
        {"assignQuota": {"unitId": new_id, "category": "CIVIL_SERVANT", "kind": "ASSIGNED", "amount": quota,
                         "effectiveOn": REFORM, "act": ACT}},
        {"recruitPerson": {"fullName": "Hoàng Thị Lan", "birthDate": "1996-02-02", "gender": "FEMALE",
                           "category": "CIVIL_SERVANT", "unitId": new_id, "effectiveOn": REFORM, "act": ACT}},
    ]


def _trace(ledger: Ledger) -> tuple[int, int, int, int]:
    """Everything a dry run must leave alone: the log head, the tracking position, read-model rows."""
    with ledger.engines.read.connect() as conn:
        facts = conn.execute(select(func.count()).select_from(t.facts)).scalar_one()
        people = conn.execute(select(func.count()).select_from(t.person_versions)).scalar_one()
    return ledger.store.recorder.max_notification_id() or 0, ledger.projector.position(), facts, people


def _figures(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["unit"]["code"], r["level"], r["totalQuota"], r["totalHeadcount"], r["totalSurplus"],
             r["excessAllowedUntil"], tuple((x["category"], x["quota"], x["headcount"]) for x in r["lines"]))
            for r in rows]


def test_a_dry_run_shows_the_plans_figures_and_leaves_no_trace(api: GraphQLClient, ledger: Ledger,
                                                                province: dict[str, Any]) -> None:
    new_id = str(uuid4())
    before = _trace(ledger)

    dry = api(PLAN, {"input": {"commands": _plan(province, new_id)}})["executePlan"]

    assert dry["recorded"] is False and dry["errors"] == []
    assert _trace(ledger) == before
    by_code = {r["unit"]["code"]: r for r in dry["staffing"]}
    assert set(by_code) == {"08", "08-M"}  # the new commune and its province (the ended communes are gone)
    assert (by_code["08-M"]["totalQuota"], by_code["08-M"]["totalHeadcount"]) == (4, 7)
    assert [r["unit"]["code"] for r in dry["overQuota"]] == ["08", "08-M"]
    assert dry["ids"][0] == new_id and len(dry["ids"]) == 3

    recorded = api(PLAN, {"input": {"commands": _plan(province, new_id), "dryRun": False}})["executePlan"]

    assert recorded["recorded"] is True and recorded["errors"] == []
    assert _figures(recorded["staffing"]) == _figures(dry["staffing"])
    assert recorded["ids"][:2] == dry["ids"][:2]
    assert _trace(ledger)[0] > before[0]


def test_a_plan_whose_fifth_command_is_refused_records_nothing_and_names_index_4(
    api: GraphQLClient, ledger: Ledger, province: dict[str, Any]
) -> None:
    new_id = str(uuid4())
    commands = _plan(province, new_id) + [
        {"allowExcess": {"unitId": new_id, "until": "2030-07-01", "reason": "hợp nhất", "effectiveOn": REFORM,
                         "act": ACT}},
        {"assignQuota": {"unitId": province["communes"][0], "category": "CADRE", "kind": "ASSIGNED", "amount": 1,
                         "effectiveOn": REFORM, "act": ACT}},
    ]
    before = _trace(ledger)

    result = api(PLAN, {"input": {"commands": commands, "dryRun": False}})["executePlan"]

    assert result["recorded"] is False and result["ids"] == [] and result["staffing"] == []
    assert [(e["index"], e["code"], e["field"]) for e in result["errors"]] == [(4, "UNIT_ENDED", "unitId")]
    assert _trace(ledger) == before


def test_an_exception_in_force_keeps_a_unit_off_the_over_quota_list(api: GraphQLClient,
                                                                     province: dict[str, Any]) -> None:
    new_id = str(uuid4())
    commands = _plan(province, new_id) + [
        {"allowExcess": {"unitId": new_id, "until": "2030-07-01", "reason": "hợp nhất", "effectiveOn": REFORM,
                         "act": ACT}}]

    result = api(PLAN, {"input": {"commands": commands}})["executePlan"]

    assert [r["unit"]["code"] for r in result["overQuota"]] == ["08"]


def test_a_bad_input_inside_a_plan_is_refused_with_its_index_and_field(api: GraphQLClient,
                                                                        province: dict[str, Any]) -> None:
    commands = _plan(province, "not-a-uuid")

    result = api(PLAN, {"input": {"commands": commands}})["executePlan"]

    assert [(e["index"], e["field"]) for e in result["errors"]] == [(0, "newUnit.id"), (1, "unitId"), (2, "unitId")]


def test_a_plan_command_must_name_exactly_one_mutation(api: GraphQLClient, province: dict[str, Any]) -> None:
    first, second = _plan(province, str(uuid4()))[:2]

    body = api.raw(PLAN, {"input": {"commands": [{**first, **second}]}})

    assert body.get("data") is None and "exactly one" in body["errors"][0]["message"].lower()


def test_a_plan_over_the_limit_is_refused_as_a_whole(api: GraphQLClient, province: dict[str, Any],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("staffing.graphql.plans.MAX_COMMANDS", 2)

    result = api(PLAN, {"input": {"commands": _plan(province, str(uuid4()))}})["executePlan"]

    assert [(e["index"], e["code"], e["field"]) for e in result["errors"]] == [(None, "INVALID_INPUT", "commands")]


def test_a_repeated_plan_with_its_request_key_is_recorded_once(api: GraphQLClient, ledger: Ledger,
                                                               province: dict[str, Any]) -> None:
    new_id = str(uuid4())
    variables = {"input": {"commands": _plan(province, new_id), "dryRun": False, "requestKey": "nq-1656"}}
    first = api(PLAN, variables)["executePlan"]
    head = _trace(ledger)

    again = api(PLAN, variables)["executePlan"]

    assert again["recorded"] is True and again["ids"] == first["ids"]
    assert _figures(again["staffing"]) == _figures(first["staffing"])
    assert _trace(ledger) == head
