"""Handler for corrections: retract a person or quota fact entered in error (never deleted)."""

from __future__ import annotations

from datetime import date

from eventsourcing.domain import Aggregate

from staffing.application.commands import RetractFact
from staffing.application.handlers.common import claim_code, fact_of, latest_fact, parse_fact_id, settle_person
from staffing.application.handlers.quota import settle_quota
from staffing.application.registry import handles
from staffing.application.results import Retraction
from staffing.application.work import Work
from staffing.domain.errors import HierarchyCycle, NotRetractable, RuleViolation, UnitEnded
from staffing.domain.person import Person
from staffing.domain.quota import StaffingQuota, quota_ledger_id
from staffing.domain.stays import return_day
from staffing.domain.unit import Unit
from staffing.domain.values import UnitStatus

__all__: list[str] = []


@handles(RetractFact, Retraction)
def retract_fact(cmd: RetractFact, work: Work) -> Retraction:
    """The fact stops counting from now on; answers known at earlier moments keep it."""
    aggregate_id, version = parse_fact_id(cmd.fact_id)
    agg = work.get(aggregate_id, Aggregate, "factId", "fact")
    if isinstance(agg, Person):
        before, _ = agg.retract(fact_version=version, reason=cmd.reason, act=cmd.act, at=work.at)
        retraction = fact_of(agg, Person.FactRetracted)
        retracted_on = next(f["effective_on"] for f in agg.facts if f["version"] == version)
        settle_person(work, agg, before, agg.last_fact_on, cmd.act, cmd.split_parts, field="factId",
                      changed_on=retracted_on)
        return Retraction(fact_id=retraction, retracted_fact_id=cmd.fact_id, person_id=str(agg.id))
    if isinstance(agg, StaffingQuota):
        agg.retract(fact_version=version, reason=cmd.reason, act=cmd.act, at=work.at)
        retraction = latest_fact(agg)
        settle_quota(work, [agg.unit_id])
        return Retraction(fact_id=retraction, retracted_fact_id=cmd.fact_id, unit_id=str(agg.unit_id))
    if isinstance(agg, Unit):
        return _retract_unit_fact(work, agg, version, cmd)
    raise NotRetractable("factId", "only facts about people, quota and units (rename, move, model, functions, "
                                   "establishment) can be retracted; reorganisations are reversed by new acts")


def _retract_unit_fact(work: Work, unit: Unit, version: int, cmd: RetractFact) -> Retraction:
    """A unit fact entered in error: what it changed falls back; rosters and code claims follow."""
    fact = unit.retractable_fact(version)
    if fact["kind"] == "ESTABLISHED" and work.find(quota_ledger_id(unit.id), StaffingQuota) is not None:
        raise RuleViolation("factId", f"unit {unit.code} has quota on record; retract its quota facts before its "
                                      "establishment")
    before = unit.parent_id
    unit.retract(fact_version=version, reason=cmd.reason, act=cmd.act, at=work.at)
    retraction = latest_fact(unit)
    after = unit.parent_id if unit.status is UnitStatus.ACTIVE else None
    on = fact["effective_on"]
    if before != after:
        if after is not None:
            parent = work.unit(after, "factId")
            parent.require_active_on(on, "factId")
            if unit.id in {parent.id, *work.ancestor_ids(parent, on)}:
                raise HierarchyCycle("factId", f"without this move unit {unit.code} would sit under its own "
                                               "descendant; retract the later moves first")
            parent.attach_child(unit.id, on, cmd.act, work.at)
        if before is not None:
            work.unit(before).detach_child(unit.id, on, cmd.act, work.at)
    if fact["kind"] == "MOVED":
        _inform_parents(work, unit, on, cmd)
    if fact["kind"] == "RENAMED" and unit.status is UnitStatus.ACTIVE:
        claim_code(work, unit.code, unit.id)  # the code it goes back to must still be free
    return Retraction(fact_id=retraction, retracted_fact_id=cmd.fact_id, unit_id=str(unit.id))


def _inform_parents(work: Work, unit: Unit, since: date, cmd: RetractFact) -> None:
    """Without a move in the middle of its path the unit stays longer under an earlier parent
    (``domain.stays``): that parent must not have ended meanwhile, and learns the stay's last day,
    so it cannot be dissolved while the unit still sits under it."""
    parent_stays = unit.parent_stays()
    for stay in parent_stays:
        if stay.until is None or stay.until < since:
            continue
        parent = work.unit(stay.place, "factId")
        if parent.ended_on is None:
            parent.record_stay("child", unit.id, stay, return_day(parent_stays, stay), cmd.act, work.at)
        elif parent.ended_on < stay.until:
            raise UnitEnded("factId", f"without this move unit {unit.code} would sit under unit {parent.code} until "
                                      f"{stay.until.isoformat()}, but {parent.code} ended on "
                                      f"{parent.ended_on.isoformat()}; retract the later moves first")
