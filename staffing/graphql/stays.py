"""GraphQL types for stays past an end (``staffing.projections.invariants``): what an auditor asks to
find records a store written before the stays rule may hold, and what each needs recorded."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from staffing.projections.invariants import StayPastEnd as StayView

__all__ = ["StayKind", "StayPastEnd", "stay_from"]


@strawberry.enum(description="What stayed past an end.")
class StayKind(Enum):
    MEMBER = "member"  # a person in a unit after the unit ended
    HOLDER = "holder"  # a person on a position after it was abolished
    POSITION = "position"  # an open position in a unit after the unit ended
    CHILD = "child"  # a unit under a parent after the parent ended


@strawberry.type(description="Someone or something recorded in a place after the place ended: a person in an "
                             "ended unit or on an abolished position, an open position or a child unit left in an "
                             "ended unit. Commands refuse this (the stays rule); a store written before the rule "
                             "may hold it, and `description` says what to record to mend it.")
class StayPastEnd:
    kind: StayKind
    subject_id: strawberry.ID = strawberry.field(description="The person, position or child unit.")
    place_id: strawberry.ID = strawberry.field(description="The unit (or, for HOLDER, the position) that ended.")
    ended_on: date
    since: date = strawberry.field(description="The first day of the recorded stay.")
    until: date | None = strawberry.field(description="The first day no longer there; null: still there.")
    fact_id: strawberry.ID | None = strawberry.field(description="The person's fact the stay comes from.")
    description: str


def stay_from(view: StayView) -> StayPastEnd:
    return StayPastEnd(kind=StayKind(view.kind), subject_id=strawberry.ID(view.subject_id),
                       place_id=strawberry.ID(view.place_id), ended_on=view.ended_on, since=view.since,
                       until=view.until, fact_id=strawberry.ID(view.fact_id) if view.fact_id else None,
                       description=view.describe())
