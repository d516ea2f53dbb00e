"""Reduction targets and expiring exceptions through GraphQL (issue 11)."""

from __future__ import annotations

from datetime import date
from typing import Any

from staffing.application import MergeUnits, NewUnit
from staffing.bootstrap import Ledger
from tests.builders import an_act, assign_quota, establish, recruit
from tests.graphql_client import GraphQLClient

ACT = {"number": "72-NQ/TW", "issuer": "Bộ Chính trị", "signedOn": "2021-12-20"}
PROGRESS = ('query($t: ID!, $d: Date!) { targetProgress(targetId: $t, asOf: $d) { target { percent category } '
            'total { unit { code } baseline target current achievedPercent status } '
            'units { unit { code } baseline target current achievedPercent status } } }')


def _province(ledger: Ledger) -> dict[str, str]:
    s = ledger.service
    p = establish(s, code="P", name="Tỉnh Phú Thọ")
    a = establish(s, parent_id=p, kind="COMMUNE", code="A", name="Xã An")
    b = establish(s, parent_id=p, kind="COMMUNE", code="B", name="Xã Bình")
    c = establish(s, parent_id=p, kind="WARD", code="C", name="Phường Cẩm")
    for unit in (a, b):
        assign_quota(s, unit, 10, effective_on=date(2021, 1, 1))
    assign_quota(s, c, 100, effective_on=date(2021, 1, 1))
    assign_quota(s, a, 9, effective_on=date(2023, 1, 1))  # A cut one post; B and C none
    return {"P": p, "A": a, "B": b, "C": c}


def test_a_target_reports_baseline_goal_current_and_status_rolled_up_and_per_unit(api: GraphQLClient,
                                                                                   ledger: Ledger) -> None:
    ids = _province(ledger)
    payload = api.mutate("setReductionTarget", {
        "unitId": ids["P"], "category": "CIVIL_SERVANT", "percent": 5, "baselineOn": "2021-12-31",
        "dueOn": "2026-12-31", "effectiveOn": "2022-01-01", "act": ACT}, "factId")
    target = payload["factId"]
    listed = api(f'{{ reductionTargets(unitId: "{ids["P"]}") {{ id percent baselineOn dueOn actNumber }} }}')
    assert listed["reductionTargets"] == [{"id": target, "percent": 5, "baselineOn": "2021-12-31",
                                           "dueOn": "2026-12-31", "actNumber": "72-NQ/TW"}]

    def progress(day: str) -> dict[str, Any]:
        return api(PROGRESS, {"t": target, "d": day})["targetProgress"]  # type: ignore[no-any-return]

    mid = progress("2024-06-30")
    # 120 posts on the baseline date, 6 to cut; one cut by mid-2024, about halfway: 3 expected
    assert mid["total"] == {"unit": {"code": "P"}, "baseline": 120, "target": 114, "current": 119,
                            "achievedPercent": 0.8, "status": "BEHIND"}
    units = {u["unit"]["code"]: u for u in mid["units"]}
    assert (units["A"]["target"], units["A"]["current"], units["A"]["status"]) == (9, 9, "MET")
    # B's one post (-5% of 10, rounded up) is not due whole until later: on track at mid-term
    assert (units["B"]["target"], units["B"]["current"], units["B"]["status"]) == (9, 10, "ON_TRACK")
    assert (units["C"]["target"], units["C"]["current"], units["C"]["status"]) == (95, 100, "BEHIND")
    final = {u["unit"]["code"]: u["status"] for u in progress("2027-01-01")["units"]}
    assert final == {"P": "MISSED", "A": "MET", "B": "MISSED", "C": "MISSED"}


def test_a_target_is_refused_when_its_terms_make_no_sense(api: GraphQLClient, ledger: Ledger) -> None:
    ids = _province(ledger)
    errors = api.refused("setReductionTarget", {
        "unitId": ids["P"], "percent": 0, "baselineOn": "2021-12-31", "dueOn": "2026-12-31",
        "effectiveOn": "2022-01-01", "act": ACT}, "factId")
    assert errors[0]["field"] == "percent"
    errors = api.refused("setReductionTarget", {
        "unitId": ids["P"], "percent": 5, "baselineOn": "2026-12-31", "dueOn": "2021-12-31",
        "effectiveOn": "2022-01-01", "act": ACT}, "factId")
    assert errors[0]["field"] == "dueOn"


def test_units_whose_exception_runs_out_are_listed_with_the_surplus_and_the_people(api: GraphQLClient,
                                                                                  ledger: Ledger) -> None:
    s = ledger.service
    p = establish(s, code="P", name="Tỉnh Phú Thọ")
    parts = [establish(s, parent_id=p, kind="COMMUNE", code=f"C{i}", name=f"Xã {i}") for i in range(2)]
    for part in parts:
        assign_quota(s, part, 1)
        for n in range(2):
            recruit(s, part, full_name=f"Người {part[:3]} {n}")
    merged = str(s.execute(MergeUnits(source_unit_ids=tuple(parts), effective_on=date(2025, 7, 1),
                                      act=an_act(signed_on=date(2025, 6, 1)), excess_allowed_until=date(2026, 6, 30),
                                      new_unit=NewUnit(code="M", name="Xã Hợp Nhất", kind="COMMUNE",
                                                       parent_id=p))).unit_id)
    query = ('query($r: ID!, $d: Date!, $h: Date!) { expiringExceptions(rootUnitId: $r, asOf: $d, horizon: $h) '
             '{ unit { id } deadline surplus people { fullName } } }')
    soon = api(query, {"r": p, "d": "2026-01-01", "h": "2026-12-31"})["expiringExceptions"]
    assert len(soon) == 1 and soon[0]["unit"]["id"] == merged and soon[0]["deadline"] == "2026-06-30"
    assert soon[0]["surplus"] == 2 and len(soon[0]["people"]) == 4
    assert api(query, {"r": p, "d": "2026-01-01", "h": "2026-03-31"})["expiringExceptions"] == []


def test_reform_statistics_count_units_people_and_quota_of_the_period(api: GraphQLClient, ledger: Ledger) -> None:
    from staffing.application import DownsizePerson

    s = ledger.service
    ministry = establish(s, code="B01", name="Bộ Tài chính", kind="MINISTRY")
    bureau = establish(s, parent_id=ministry, kind="BUREAU", code="B01.1", name="Cục Thuế")
    province = establish(s, code="P", name="Tỉnh Phú Thọ")
    communes = [establish(s, parent_id=province, kind="COMMUNE", code=f"C{i}", name=f"Xã {i}") for i in range(3)]
    assign_quota(s, communes[0], 10, effective_on=date(2021, 1, 1))
    people = [recruit(s, bureau, full_name="Nguyễn Văn A"), recruit(s, communes[0], full_name="Trần Thị B"),
              recruit(s, communes[1], full_name="Lê Văn C")]
    for person in people:
        s.execute(DownsizePerson(person_id=person, policy="RESIGNATION", effective_on=date(2023, 6, 1),
                                 act=an_act(signed_on=date(2023, 5, 1))))
    s.execute(MergeUnits(source_unit_ids=tuple(communes), effective_on=date(2025, 7, 1),
                         act=an_act(signed_on=date(2025, 6, 1)),
                         new_unit=NewUnit(code="M", name="Xã Hợp Nhất", kind="COMMUNE", parent_id=province)))
    query = ('query($r: ID, $f: Date!, $t: Date!) { reformStatistics(rootUnitId: $r, from: $f, to: $t) { '
             'unitsRemoved { kind change units } unitsCreated { kind change units } downsized { policy decree '
             'central people } downsizedTotal downsizedCentral quota { category before after change } } }')
    country = api(query, {"r": None, "f": "2023-01-01", "t": "2025-12-31"})["reformStatistics"]
    assert country["downsizedTotal"] == 3 and country["downsizedCentral"] == 1
    assert country["downsized"][0]["decree"] == "108/2014/NĐ-CP"  # signed 01/05/2023, before 29/2023 took effect
    assert country["unitsRemoved"] == [{"kind": "COMMUNE", "change": "CONSOLIDATE", "units": 3}]
    assert country["unitsCreated"] == [{"kind": "COMMUNE", "change": "CONSOLIDATE", "units": 1}]
    civil = {q["category"]: q for q in country["quota"]}["CIVIL_SERVANT"]
    assert (civil["before"], civil["after"], civil["change"]) == (10, 10, 0)  # the merged unit inherited the posts
    local = api(query, {"r": province, "f": "2023-01-01", "t": "2025-12-31"})["reformStatistics"]
    assert local["downsizedTotal"] == 2 and local["downsizedCentral"] == 0
    before = api(query, {"r": province, "f": "2023-01-01", "t": "2024-12-31"})["reformStatistics"]
    assert before["unitsRemoved"] == [] and before["downsizedTotal"] == 2


def test_a_target_set_in_error_is_retracted_and_earlier_knowledge_keeps_it(api: GraphQLClient, ledger: Ledger,
                                                                           clock: Any) -> None:
    from datetime import UTC, datetime

    ids = _province(ledger)
    target = api.mutate("setReductionTarget", {
        "unitId": ids["P"], "category": "CIVIL_SERVANT", "percent": 50, "baselineOn": "2021-12-31",
        "dueOn": "2026-12-31", "effectiveOn": "2022-01-01", "act": ACT}, "factId")["factId"]
    clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    retracted = api.mutate("retractFact", {"factId": target, "reason": "nhập nhầm tỷ lệ", "act": {
        "number": "15/QĐ-BNV", "issuer": "Bộ Nội vụ", "signedOn": "2026-01-30"}}, "retractionId")["retractionId"]
    listed = 'query($k: DateTime) { reductionTargets(knownAt: $k) { id } }'
    assert api(listed, {"k": None})["reductionTargets"] == []
    assert api(listed, {"k": "2026-01-15T00:00:00+00:00"})["reductionTargets"] == [{"id": target}]
    refused = api.raw(PROGRESS, {"t": target, "d": "2024-06-30"})
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and "no reduction target" in refused["errors"][0]["message"]
    history = api('query($u: ID) { history(unitId: $u, first: 50) { edges { node { id type retractedBy } } } }',
                  {"u": ids["P"]})["history"]["edges"]
    by_id = {e["node"]["id"]: e["node"] for e in history}
    assert by_id[target]["retractedBy"] == retracted and by_id[retracted]["type"] == "FactRetracted"
    again = api.refused("retractFact", {"factId": target, "reason": "lần nữa", "act": {
        "number": "15/QĐ-BNV", "issuer": "Bộ Nội vụ", "signedOn": "2026-01-30"}}, "retractionId")
    assert again[0]["field"] == "factId"


def test_a_unit_created_after_the_baseline_inherits_its_baseline_through_lineage(api: GraphQLClient,
                                                                                ledger: Ledger) -> None:
    """A and B (10 posts each on the baseline date) are consolidated into AB on 01/07/2025, which gets
    19 posts; C (100) is split into C1 (60) and C2 (38): AB's baseline is 20, and C's 100 is shared by
    what the parts took, C1 61 and C2 39 (the two posts cut at the split count as cut by the parts)."""
    from staffing.application import QuotaFigure, SplitPart, SplitUnit

    ids = _province(ledger)
    s = ledger.service
    act = an_act(signed_on=date(2025, 6, 1))
    ab = str(s.execute(MergeUnits(source_unit_ids=(ids["A"], ids["B"]), effective_on=date(2025, 7, 1), act=act,
                                  new_unit=NewUnit(code="AB", name="Xã An Bình", kind="COMMUNE",
                                                   parent_id=ids["P"]))).unit_id)
    assign_quota(s, ab, 19, effective_on=date(2025, 7, 1))
    c1, c2 = s.execute(SplitUnit(unit_id=ids["C"], effective_on=date(2025, 7, 1), act=act, parts=(
        SplitPart(unit=NewUnit(code="C1", name="Phường Cẩm Một", kind="WARD"),
                  quota=(QuotaFigure(category="CIVIL_SERVANT", kind="ASSIGNED", amount=60),)),
        SplitPart(unit=NewUnit(code="C2", name="Phường Cẩm Hai", kind="WARD"),
                  quota=(QuotaFigure(category="CIVIL_SERVANT", kind="ASSIGNED", amount=38),))))).unit_ids
    target = api.mutate("setReductionTarget", {
        "unitId": ids["P"], "category": "CIVIL_SERVANT", "percent": 5, "baselineOn": "2021-12-31",
        "dueOn": "2026-12-31", "effectiveOn": "2022-01-01", "act": ACT}, "factId")["factId"]
    rows = api(PROGRESS, {"t": target, "d": "2025-12-31"})["targetProgress"]
    units = {u["unit"]["code"]: (u["baseline"], u["target"], u["current"], u["status"]) for u in rows["units"]}
    assert units["AB"] == (20, 19, 19, "MET")
    assert units["C1"] == (61, 57, 60, "BEHIND") and units["C2"] == (39, 37, 38, "ON_TRACK")
    assert (rows["total"]["baseline"], rows["total"]["current"]) == (120, 117)
    assert str(c1) != str(c2)
