"""Stays: the stretches of time someone (or something) spent in one place, read off a dated timeline.

Rule (DOMAIN.md, giải thể): a unit may end only when nobody, no open position and no child unit is
left in it, and a position may be abolished only when nobody holds it. A unit's roster (a position's
holders) answers that for the *end* of the record: who is there after every fact. For an end dated
in the past it keeps the latest date anyone left (``Unit.roster_changed_on``,
``Position.holders_changed_on``): nothing may end before someone's departure already on record.

That date is written when the end of someone's path changes. A late fact or a retraction can change
the *middle* of a path and leave its end where it was: a transfer P → R retracted while a later
transfer R → Q stands keeps the person in P until the Q transfer, and P's roster had only heard of
the departure to R. So after every change to a person (or a unit's parents) the application lists
the stays that end on or after the first date the change touched and tells each place the day the
stay ends (``Unit.record_stay``, ``Position.record_holder_stay``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

__all__ = ["Stay", "bookkeeping", "return_day", "stays"]


@dataclass(frozen=True)
class Stay:
    """In ``place`` from ``start``; ``until`` the first day no longer there (None: still there)."""

    place: UUID
    start: date
    until: date | None


def stays(timeline: Iterable[tuple[date, UUID | None]]) -> list[Stay]:
    """The stays a timeline describes. ``timeline``: (effective date, where from that date on — None
    for nowhere, e.g. out of service) in date order; of several entries on one date the last counts,
    so a move in and out on the same day is no stay at all."""
    by_day: dict[date, UUID | None] = {}
    for day, place in timeline:
        by_day[day] = place
    out: list[Stay] = []
    current: UUID | None = None
    start: date | None = None
    for day, place in by_day.items():
        if place == current:
            continue
        if current is not None and start is not None:
            out.append(Stay(current, start, day))
        current, start = place, day
    if current is not None and start is not None:
        out.append(Stay(current, start, None))
    return out


def return_day(all_stays: Iterable[Stay], stay: Stay) -> date | None:
    """When the subject of ``all_stays`` came back for good to ``stay``'s place (its open stay there), if it did."""
    return next((s.start for s in all_stays if s.place == stay.place and s.until is None), None)


def bookkeeping(stay: Stay, known_until: date, on_roster: bool, back_on: date | None) -> list[tuple[bool, date]]:
    """The roster entries — (joined?, effective date) in order — that tell a place of a stay ending on
    ``stay.until`` when it knows departures only up to ``known_until``: none if it knows; for one
    still on its roster, the departure and the return (``back_on``); else the arrival and the departure."""
    assert stay.until is not None
    if stay.until <= known_until:
        return []
    if on_roster:
        return [(False, stay.until), (True, max(back_on or stay.until, stay.until))]
    return [(True, stay.start), (False, stay.until)]
