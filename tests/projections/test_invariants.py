"""Stays past an end (staffing.projections.invariants): what stores written before the stays rule
may hold, found in the read models and by ``python -m staffing check-stays``.

A store like that is made here the way it was made before 2026-12-07: the handlers' ``inform_stays``
switched off, a transfer in the middle of someone's path retracted, then the unit they are now
recorded in for longer dissolved during that stay (accepted then).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from staffing.application import AbolishPosition, DissolveUnit, RegradePerson, RetractFact
from staffing.application.handlers import common
from staffing.bootstrap import Ledger
from staffing.domain.unit import Unit
from staffing.graphql.app import create_app
from staffing.projections.invariants import StayPastEnd, stays_past_ends
from tests.builders import START, an_act, create_position, establish, recruit, transfer
from tests.projections.history import generate_history
from tests.support import FakeClock, ledger_bearer

SINCE, MIDDLE, DISSOLVED, LAST = date(2020, 1, 1), date(2024, 1, 1), date(2025, 3, 1), date(2026, 1, 1)
REGRADED = date(2025, 6, 1)


def _found(ledger: Ledger, known_at_position: int | None = None) -> list[StayPastEnd]:
    ledger.projector.catch_up()
    with ledger.queries.connect() as conn:
        position = known_at_position if known_at_position is not None else ledger.queries.knowledge_position(conn, None)
        return stays_past_ends(conn, position)


def _broken_store(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """P holds someone (and a post they hold) from SINCE; they move to R on MIDDLE and Q on LAST;
    with the stays rule off, the move to R is retracted and P dissolved and its post abolished on
    DISSOLVED, while the record now keeps them in P, on the post, until LAST (regraded on REGRADED
    there: one stay in two versions)."""
    province = establish(ledger.service)
    p, r, q = (establish(ledger.service, parent_id=province, kind="COMMUNE") for _ in range(3))
    post = create_position(ledger.service, p, effective_on=SINCE)
    someone = recruit(ledger.service, p, position_id=post, effective_on=SINCE)
    middle = transfer(ledger.service, someone, r, MIDDLE)
    transfer(ledger.service, someone, q, LAST)
    ledger.projector.catch_up()
    with ledger.queries.connect() as conn:
        clean = ledger.queries.knowledge_position(conn, None)
    monkeypatch.setattr(common, "inform_stays", lambda *args, **kwargs: None)  # the code before the rule
    ledger.service.execute(RetractFact(fact_id=middle, reason="nhập nhầm", act=an_act()))
    ledger.service.execute(AbolishPosition(position_id=post, effective_on=DISSOLVED, act=an_act()))  # type: ignore[arg-type]
    ledger.service.execute(DissolveUnit(unit_id=p, effective_on=DISSOLVED, act=an_act()))  # type: ignore[arg-type]
    ledger.service.execute(RegradePerson(person_id=someone, rank="Chuyên viên chính", effective_on=REGRADED,  # type: ignore[arg-type]
                                         act=an_act()))  # a second version of the same stay, after the end
    monkeypatch.undo()
    return {"p": p, "post": post, "someone": someone, "clean": clean}


def test_a_unit_dissolved_and_a_post_abolished_while_someone_stays_are_both_found(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    made = _broken_store(ledger, monkeypatch)

    found = _found(ledger)

    assert [(s.kind, s.subject_id, s.place_id, s.ended_on, s.until) for s in found] == sorted([
        ("member", made["someone"], made["p"], DISSOLVED, LAST),
        ("holder", made["someone"], made["post"], DISSOLVED, LAST),
    ], key=lambda s: (s[2], s[3], s[0], s[1]))
    assert all(s.since == SINCE and s.fact_id and s.fact_id.startswith(made["someone"]) for s in found)
    member = next(s for s in found if s.kind == "member")
    assert "ended on 2025-03-01" in member.describe() and "until 2026-01-01" in member.describe()


def test_the_check_answers_as_known_at_a_past_position(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    made = _broken_store(ledger, monkeypatch)

    assert _found(ledger, made["clean"]) == []  # before the retraction nothing had ended
    assert len(_found(ledger)) == 2


def test_an_open_position_and_a_child_unit_left_in_an_ended_unit_are_found(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    province = establish(ledger.service)
    district = establish(ledger.service, parent_id=province, kind="DISTRICT")
    commune = establish(ledger.service, parent_id=district, kind="COMMUNE")
    post = create_position(ledger.service, district, effective_on=SINCE)
    assert _found(ledger) == []
    ending = Unit.end

    def careless_end(self: Unit, **kwargs: Any) -> None:  # the emptiness guard blind to posts and children
        self.position_ids, self.child_ids = set(), set()
        ending(self, **kwargs)

    monkeypatch.setattr(Unit, "end", careless_end)
    ledger.service.execute(DissolveUnit(unit_id=district, effective_on=DISSOLVED, act=an_act()))  # type: ignore[arg-type]
    monkeypatch.undo()

    found = {(s.kind, s.subject_id, s.place_id, s.ended_on, s.since, s.until) for s in _found(ledger)}
    assert found == {("position", post, district, DISSOLVED, SINCE, None),
                     ("child", commune, district, DISSOLVED, START, None)}


def test_histories_recorded_under_the_rule_hold_no_stay_past_an_end(ledger: Ledger, clock: FakeClock) -> None:
    history = generate_history(ledger, clock, seed=11, steps=220)
    assert history.refused["dissolve_during_a_stay"] > 0

    assert _found(ledger) == []


def test_the_command_lists_them_and_exits_non_zero(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ledger.settings
    env = {"STAFFING_DATA_DIR": str(settings.data_dir), "PATH": "/usr/bin:/bin"}
    if not settings.is_sqlite:
        env.update(STAFFING_DATABASE_URL=settings.database_url.render_as_string(hide_password=False),
                   STAFFING_DB_SCHEMA=settings.schema or "")

    def run(*options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "staffing", "check-stays", *options], env=env,
                              capture_output=True, text=True, timeout=120)

    establish(ledger.service)
    naive = run("--known-at", "2026-01-01T00:00:00")  # a moment without its offset: the option's error
    assert naive.returncode == 2 and "Traceback" not in naive.stderr, naive.stdout + naive.stderr
    assert "give the moment with its UTC offset" in naive.stderr
    clean = run()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no stay past an end" in clean.stdout
    made = _broken_store(ledger, monkeypatch)
    broken = run()
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"person {made['someone']} is recorded in unit {made['p']}" in broken.stdout
    assert "2 stays past an end" in broken.stdout


_STAYS = ('query($k: DateTime) { staysPastEnds(knownAt: $k) { kind subjectId placeId endedOn since until factId '
          'description } }')


def test_auditors_ask_for_them_over_graphql_and_personnel_may_not(ledger: Ledger,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    made = _broken_store(ledger, monkeypatch)
    client = TestClient(create_app(ledger))

    def ask(role: str, known_at: str | None = None) -> dict[str, Any]:
        unit = UUID(made["p"]) if role == "personnel" else None
        response = client.post("/graphql", json={"query": _STAYS, "variables": {"k": known_at}},
                               headers=ledger_bearer(ledger, role, unit))
        return response.json()  # type: ignore[no-any-return]

    try:
        found = ask("auditor")["data"]["staysPastEnds"]
        assert sorted((s["kind"], s["placeId"], s["endedOn"], s["since"], s["until"]) for s in found) == [
            ("HOLDER", made["post"], "2025-03-01", "2020-01-01", "2026-01-01"),
            ("MEMBER", made["p"], "2025-03-01", "2020-01-01", "2026-01-01")]
        assert {s["subjectId"] for s in found} == {made["someone"]}
        assert all(s["factId"].startswith(made["someone"]) for s in found)
        described = {s["kind"]: s["description"] for s in found}
        assert "ended on 2025-03-01" in described["MEMBER"] and "abolished on 2025-03-01" in described["HOLDER"]
        assert ask("admin")["data"]["staysPastEnds"] == found
        refused = ask("personnel")
        assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        ministry = ask("ministry")
        assert ministry["data"] is None and ministry["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        naive = ask("auditor", "2026-01-01T00:00:00")
        assert naive["data"] is None and naive["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", naive
    finally:
        client.close()
