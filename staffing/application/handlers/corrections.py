"""Handler for corrections: retract a person or quota fact entered in error (never deleted)."""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from staffing.application.commands import RetractFact
from staffing.application.handlers.common import fact_of, latest_fact, parse_fact_id, settle_person
from staffing.application.handlers.quota import settle_quota
from staffing.application.registry import handles
from staffing.application.results import Retraction
from staffing.application.work import Work
from staffing.domain.errors import NotRetractable
from staffing.domain.person import Person
from staffing.domain.quota import StaffingQuota

__all__: list[str] = []


@handles(RetractFact, Retraction)
def retract_fact(cmd: RetractFact, work: Work) -> Retraction:
    """The fact stops counting from now on; answers known at earlier moments keep it."""
    aggregate_id, version = parse_fact_id(cmd.fact_id)
    agg = work.get(aggregate_id, Aggregate, "factId", "fact")
    if isinstance(agg, Person):
        before, _ = agg.retract(fact_version=version, reason=cmd.reason, act=cmd.act, at=work.at)
        retraction = fact_of(agg, Person.FactRetracted)
        settle_person(work, agg, before, agg.last_fact_on, cmd.act, cmd.split_parts, field="factId")
        return Retraction(fact_id=retraction, retracted_fact_id=cmd.fact_id, person_id=str(agg.id))
    if isinstance(agg, StaffingQuota):
        agg.retract(fact_version=version, reason=cmd.reason, act=cmd.act, at=work.at)
        retraction = latest_fact(agg)
        settle_quota(work, [agg.unit_id])
        return Retraction(fact_id=retraction, retracted_fact_id=cmd.fact_id, unit_id=str(agg.unit_id))
    raise NotRetractable("factId", "only facts about people and quota can be retracted; reorganisations "
                                   "and unit or position facts are reversed by new acts")
