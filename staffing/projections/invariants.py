"""Stays past an end: what a store written before the stays rule may hold, found in the read models.

Rule (DOMAIN.md, giải thể; ``domain.stays``): a unit may end only when nobody, no open position and
no child unit is left in it, and a position may be abolished only when nobody holds it. Commands
enforce it, but until 2026-12-07 a retraction or a late fact in the *middle* of someone's path did not
tell the places on it (``staffing.application.handlers.common.inform_stays``): a store written before
may hold a unit that ended while, as now recorded, someone was still in it. The record cannot be
rewritten; an operator finds such places here and records what really happened (a transfer dated on
or before the end, under its legal act), or retracts the end and records it again.

The check reads the version tables as known at one log position: a version in force inside the
ended (abolished) stretch of the place it names is a stay past the end. Each kind is one join on
the tables' (id, valid_from) indexes, so the whole country is checked in one pass per kind.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, null, select

from staffing.projections import tables as t
from staffing.projections.queries import known

__all__ = ["StayPastEnd", "stays_past_ends"]


@dataclass(frozen=True)
class StayPastEnd:
    """``subject_id`` (a ``member`` person, a ``holder`` person, an open ``position`` or a ``child``
    unit) is recorded in ``place_id`` from ``since`` to ``until`` (exclusive; None: still), though
    the place ended (was abolished) on ``ended_on``; ``fact_id`` is the version's own fact, where it
    has one (a person's)."""

    kind: str
    subject_id: str
    place_id: str
    ended_on: date
    since: date
    until: date | None
    fact_id: str | None

    def describe(self) -> str:
        """One line for an operator: what is wrong and what to record."""
        place = "position" if self.kind == "holder" else "unit"
        what = {"member": "person", "holder": "person", "position": "open position", "child": "child unit"}[self.kind]
        still = f"until {self.until.isoformat()}" if self.until is not None else "with no end"
        ending = "was abolished" if place == "position" else "ended"
        return (f"{what} {self.subject_id} is recorded in {place} {self.place_id} from {self.since.isoformat()} "
                f"{still}, but the {place} {ending} on {self.ended_on.isoformat()}"
                f"{f' (fact {self.fact_id})' if self.fact_id else ''}: record the {what}'s move out dated on or "
                f"before {self.ended_on.isoformat()}, or retract the end and record it again after the stay")


def _past_end(subject: Any, subject_id: Any, place: Any, ended: Any, ended_id: Any, ended_status: str,
              present: Any, position: int, fact: Any = None) -> Any:
    """Versions of ``subject`` (``present`` ones) placed by ``place`` in a place while a version of
    ``ended`` says that place had ended (``ended_status``), both as known at ``position``; ``fact``:
    the column naming each version's fact, where the subject has one (None: a null ``fact_id``)."""
    return (select(subject_id.label("subject_id"), place.label("place_id"), ended.c.valid_from.label("ended_on"),
                   subject.c.valid_from.label("since"), subject.c.valid_to.label("until"),
                   (fact if fact is not None else null()).label("fact_id"))
            .select_from(subject.join(ended, ended_id == place))
            .where(ended.c.status == ended_status, present, known(subject, position), known(ended, position),
                   subject.c.valid_from < ended.c.valid_to, subject.c.valid_to > ended.c.valid_from))


def stays_past_ends(conn: Connection, position: int) -> list[StayPastEnd]:
    """Every stay past an end as known at log ``position`` (``Queries.knowledge_position``), in the
    order an operator would mend them: by place, then subject."""
    p, u, o = t.person_versions, t.unit_versions, t.position_versions
    held, child = o.alias("open_positions"), u.alias("children")
    kinds = {
        "member": _past_end(p, p.c.person_id, p.c.unit_id, u, u.c.unit_id, "ENDED", p.c.status == "ACTIVE",
                            position, p.c.fact_id),
        "holder": _past_end(p, p.c.person_id, p.c.position_id, o, o.c.position_id, "ABOLISHED",
                            p.c.status == "ACTIVE", position, p.c.fact_id),
        "position": _past_end(held, held.c.position_id, held.c.unit_id, u, u.c.unit_id, "ENDED",
                              held.c.status != "ABOLISHED", position),
        "child": _past_end(child, child.c.unit_id, child.c.parent_id, u, u.c.unit_id, "ENDED",
                           child.c.status == "ACTIVE", position),
    }
    found = []
    for kind, query in kinds.items():
        for row in conn.execute(query):
            found.append(StayPastEnd(kind, row.subject_id, row.place_id, row.ended_on, row.since,
                                     None if row.until >= t.END_OF_TIME else row.until, row.fact_id))
    return _joined(sorted(found, key=lambda s: (s.place_id, s.ended_on, s.kind, s.subject_id, s.since)))


def _joined(found: list[StayPastEnd]) -> list[StayPastEnd]:
    """One line per stay: versions of one subject in one place that follow each other without a gap
    (a regrade while there opens a new version) are one stay, named by the fact that began it."""
    joined: list[StayPastEnd] = []
    for stay in found:
        last = joined[-1] if joined else None
        if (last is not None and (last.kind, last.subject_id, last.place_id, last.ended_on)
                == (stay.kind, stay.subject_id, stay.place_id, stay.ended_on) and last.until == stay.since):
            joined[-1] = replace(last, until=stay.until)
        else:
            joined.append(stay)
    return joined
