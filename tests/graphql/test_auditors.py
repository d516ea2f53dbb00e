"""For auditors (issue 12): history filters, everything recorded under one act, and diffs between two
snapshots that name the facts behind each difference."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from staffing.application import RetractFact, TransferPerson
from staffing.bootstrap import Ledger
from tests.builders import an_act, assign_quota, establish, recruit
from tests.graphql_client import GraphQLClient
from tests.support import FakeClock

LATE_ACT = an_act("77/QĐ-UBND", date(2026, 2, 1), "UBND tỉnh Phú Thọ")
#: a province's diff between two knowledge moments (FACT_FIELDS: what each explaining fact shows)
_DIFF = ('query($r: ID, $b: SnapshotInput!, $a: SnapshotInput!) { staffingDiff(rootUnitId: $r, before: $b, '
         'after: $a) { rows { unit { code } category quotaBefore quotaAfter headcountBefore headcountAfter '
         'facts { FACT_FIELDS } } } }')
#: the snapshot as the record stood before the late facts were filed
FILED = {"asOf": "2025-12-31", "knownAt": "2026-02-01T00:00:00+00:00"}


def _world(ledger: Ledger, clock: FakeClock) -> dict[str, str]:
    """Recorded on 01/01/2026: province P, communes A and B, A with 5 posts and 3 people. On 01/03/2026
    a transfer from A to B dated 01/07/2025 is recorded late, and a quota figure is retracted."""
    s = ledger.service
    p = establish(s, code="P", name="Tỉnh Phú Thọ")
    a = establish(s, parent_id=p, kind="COMMUNE", code="A", name="Xã An")
    b = establish(s, parent_id=p, kind="COMMUNE", code="B", name="Xã Bình")
    assign_quota(s, a, 5)
    mistaken = assign_quota(s, b, 7)
    people = [recruit(s, a, full_name=f"Người {i}") for i in range(3)]
    clock.set(datetime(2026, 3, 1, tzinfo=UTC))
    moved = s.execute(TransferPerson(person_id=people[0], to_unit_id=b, effective_on=date(2025, 7, 1),
                                     act=LATE_ACT)).fact_id
    retraction = s.execute(RetractFact(fact_id=mistaken, reason="nhập nhầm", act=LATE_ACT)).fact_id
    return {"P": p, "A": a, "B": b, "moved": moved, "mistaken": mistaken, "retraction": retraction}


def _history(api: GraphQLClient, unit: str, filter: dict[str, Any]) -> list[dict[str, Any]]:
    query = ('query($u: ID, $f: HistoryFilterInput) { history(unitId: $u, filter: $f, first: 200) '
             '{ edges { node { id type effectiveOn act { number } recordedBy hash } } } }')
    return [e["node"] for e in api(query, {"u": unit, "f": filter})["history"]["edges"]]


def test_history_filters_by_type_act_dates_lateness(api: GraphQLClient, ledger: Ledger, clock: FakeClock) -> None:
    ids = _world(ledger, clock)
    transfers = _history(api, ids["B"], {"types": ["PersonTransferred"]})
    assert [f["id"] for f in transfers] == [ids["moved"]]
    by_act = _history(api, ids["B"], {"actNumber": "77/QĐ-UBND", "actIssuer": "UBND tỉnh Phú Thọ"})
    assert {f["id"] for f in by_act} >= {ids["moved"], ids["retraction"]}
    late = _history(api, ids["B"], {"recordedLateByDays": 30})
    assert ids["moved"] in {f["id"] for f in late}  # dated 01/07/2025, recorded 01/03/2026
    assert all(f["effectiveOn"] < "2026-02-01" for f in late)
    recent = _history(api, ids["A"], {"recordedFrom": "2026-02-01T00:00:00+00:00"})
    assert {f["type"] for f in recent} >= {"PersonTransferred"}
    window = _history(api, ids["A"], {"effectiveFrom": "2025-06-01", "effectiveTo": "2025-12-31"})
    assert [f["id"] for f in window] == [ids["moved"]]
    assert all(f["hash"] and len(f["hash"]) == 64 for f in window)


def test_act_lists_every_fact_recorded_under_it(api: GraphQLClient, ledger: Ledger, clock: FakeClock) -> None:
    ids = _world(ledger, clock)
    found = api('{ act(number: "77/QĐ-UBND", issuer: "UBND tỉnh Phú Thọ") { number issuer signedOn '
                'facts { edges { node { id type } } } } }')["act"]
    assert (found["number"], found["signedOn"]) == ("77/QĐ-UBND", "2026-02-01")
    assert {e["node"]["id"] for e in found["facts"]["edges"]} == {ids["moved"], ids["retraction"]}
    assert api('{ act(number: "no such act") { number } }')["act"] is None


def test_a_diff_between_two_knowledge_moments_names_the_late_facts(api: GraphQLClient, ledger: Ledger,
                                                                   clock: FakeClock) -> None:
    ids = _world(ledger, clock)
    query = _DIFF.replace("FACT_FIELDS", "id type")
    rows = api(query, {"r": ids["P"], "b": FILED, "a": {"asOf": "2025-12-31"}})["staffingDiff"]["rows"]
    by_unit = {(r["unit"]["code"], r["category"]): r for r in rows}
    a, b = by_unit[("A", "CIVIL_SERVANT")], by_unit[("B", "CIVIL_SERVANT")]
    assert (a["headcountBefore"], a["headcountAfter"]) == (3, 2)
    assert (b["headcountBefore"], b["headcountAfter"], b["quotaBefore"], b["quotaAfter"]) == (0, 1, 7, 0)
    assert ids["moved"] in {f["id"] for f in a["facts"]}
    assert {ids["moved"], ids["retraction"]} <= {f["id"] for f in b["facts"]}
    same = api(query, {"r": ids["P"], "b": {"asOf": "2025-12-31"}, "a": {"asOf": "2025-12-31"}})
    assert same["staffingDiff"]["rows"] == []


def test_a_diff_names_a_retracted_person_fact_at_both_units_it_touched(api: GraphQLClient, ledger: Ledger,
                                                                       clock: FakeClock) -> None:
    """A transfer from A to B is recorded, then withdrawn: both communes' headcounts change between
    the two knowledge moments, and each row names the withdrawn transfer and its retraction (the
    retraction names only the person's unit at the time, and takes effect on its own date)."""
    s = ledger.service
    p = establish(s, code="P", name="Tỉnh Phú Thọ")
    a = establish(s, parent_id=p, kind="COMMUNE", code="A", name="Xã An")
    b = establish(s, parent_id=p, kind="COMMUNE", code="B", name="Xã Bình")
    person = recruit(s, a, full_name="Người chuyển")
    moved = s.execute(TransferPerson(person_id=person, to_unit_id=b, effective_on=date(2025, 7, 1),
                                     act=an_act("5/QĐ-UBND", date(2025, 6, 20), "UBND tỉnh Phú Thọ"))).fact_id
    clock.set(datetime(2026, 3, 1, tzinfo=UTC))
    withdrawn = s.execute(RetractFact(fact_id=moved, reason="chuyển nhầm người", act=LATE_ACT)).fact_id
    query = ('query($r: ID, $b: SnapshotInput!, $a: SnapshotInput!) { staffingDiff(rootUnitId: $r, before: $b, '
             'after: $a) { rows { unit { code } headcountBefore headcountAfter facts { id type } } } }')
    rows = api(query, {"r": p, "b": {"asOf": "2025-12-31", "knownAt": "2026-02-01T00:00:00+00:00"},
                       "a": {"asOf": "2025-12-31"}})["staffingDiff"]["rows"]
    by_unit = {r["unit"]["code"]: r for r in rows}
    assert (by_unit["A"]["headcountBefore"], by_unit["A"]["headcountAfter"]) == (0, 1)
    assert (by_unit["B"]["headcountBefore"], by_unit["B"]["headcountAfter"]) == (1, 0)
    for code in ("A", "B"):
        assert {moved, withdrawn} <= {f["id"] for f in by_unit[code]["facts"]}, code


def test_history_reads_with_named_fields_and_names_resolved(api: GraphQLClient, ledger: Ledger,
                                                            clock: FakeClock) -> None:
    ids = _world(ledger, clock)
    query = ('query($u: ID) { history(unitId: $u, first: 200) { edges { node { id type unitName personName '
             'details data } } } }')
    nodes = {e["node"]["id"]: e["node"] for e in api(query, {"u": ids["B"]})["history"]["edges"]}
    moved = nodes[ids["moved"]]
    assert moved["type"] == "PersonTransferred" and moved["personName"] == "Người 0" and moved["unitName"] == "Xã Bình"
    assert moved["data"]["unit_id"] == ids["B"]  # the stored form is kept
    assert moved["details"]["unit"] == {"id": ids["B"], "code": "B", "name": "Xã Bình"}
    assert moved["details"]["byReorganisation"] is False and "unit_id" not in moved["details"]
    established = next(n for n in nodes.values() if n["type"] == "UnitEstablished")
    assert established["details"]["parent"] == {"id": ids["P"], "code": "P", "name": "Tỉnh Phú Thọ"}
    assert established["details"]["predecessors"] == [] and established["details"]["name"] == "Xã Bình"


def test_a_report_states_the_knowledge_it_reflects_like_a_staffing_answer(api: GraphQLClient, ledger: Ledger,
                                                                          clock: FakeClock) -> None:
    ids = _world(ledger, clock)
    for known_at in ("2026-02-01T00:00:00+00:00", None):
        one = api('query($u: ID!, $k: DateTime) { staffing(unitId: $u, asOf: "2025-12-31", knownAt: $k) '
                  '{ logPosition headHash } }', {"u": ids["P"], "k": known_at})["staffing"]
        rows = api('query($u: ID!, $k: DateTime) { staffingReport(rootUnitId: $u, asOf: "2025-12-31", knownAt: $k) '
                   '{ logPosition headHash } }', {"u": ids["P"], "k": known_at})["staffingReport"]
        assert len(rows) == 3 and all(row == one for row in rows) and one["headHash"], known_at
    early = api('{ staffingReport(asOf: "2025-12-31", knownAt: "2026-02-01T00:00:00+00:00") { logPosition } }')
    late = api('{ staffingReport(asOf: "2025-12-31") { logPosition } }')
    assert early["staffingReport"][0]["logPosition"] < late["staffingReport"][0]["logPosition"]


def test_a_diff_gives_each_explaining_fact_its_chain_link_when_asked(api: GraphQLClient, ledger: Ledger,
                                                                     clock: FakeClock) -> None:
    ids = _world(ledger, clock)
    variables = {"r": ids["P"], "b": {"asOf": "2025-12-31", "knownAt": "2026-02-01T00:00:00+00:00"},
                 "a": {"asOf": "2025-12-31"}}
    linked = api('query($r: ID, $b: SnapshotInput!, $a: SnapshotInput!) { staffingDiff(rootUnitId: $r, before: $b, '
                 'after: $a) { rows { ... on StaffingDiffRow { facts { id hash } } } } }', variables)
    facts = [f for row in linked["staffingDiff"]["rows"] for f in row["facts"]]
    assert facts and all(len(f["hash"]) == 64 for f in facts)
    history = api('query($u: ID) { history(unitId: $u, first: 50) { edges { node { id hash } } } }', {"u": ids["B"]})
    hashes = {e["node"]["id"]: e["node"]["hash"] for e in history["history"]["edges"]}
    assert all(hashes[f["id"]] == f["hash"] for f in facts if f["id"] in hashes)


def test_the_diff_downloads_as_csv_with_the_same_rows_and_facts(api: GraphQLClient, ledger: Ledger,
                                                                clock: FakeClock) -> None:
    import csv
    import io

    from tests.support import ledger_bearer

    ids = _world(ledger, clock)
    rows = api(_DIFF.replace("FACT_FIELDS", "id"),
               {"r": ids["P"], "b": FILED, "a": {"asOf": "2025-12-31"}})["staffingDiff"]["rows"]
    params = {"rootUnitId": ids["P"], "beforeAsOf": "2025-12-31", "beforeKnownAt": FILED["knownAt"],
              "afterAsOf": "2025-12-31"}
    response = api.client.get("/downloads/staffing-diff.csv", params=params)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.text)))
    body = lines[lines.index(next(line for line in lines if line and line[0] == "Mã")) + 1:]
    assert [(line[0], line[3], line[4], line[5], line[6]) for line in body] == [
        (r["unit"]["code"], str(r["quotaBefore"]), str(r["quotaAfter"]), str(r["headcountBefore"]),
         str(r["headcountAfter"])) for r in rows]
    for line, row in zip(body, rows, strict=True):
        assert all(f["id"] in line[7] for f in row["facts"])
    ministry = api.client.get("/downloads/staffing-diff.csv", params=params,
                              headers=ledger_bearer(ledger, "ministry"))
    assert ministry.status_code == 403
    bad = api.client.get("/downloads/staffing-diff.csv", params={**params, "afterAsOf": "31/12/2025"})
    assert bad.status_code == 400 and bad.json()["field"] == "afterAsOf"
