"""An in-memory oracle for the read models, built only from the raw events in the store.

It shares no code with ``staffing.projections``: it reads the notification log back, decodes each
notification into its domain event, and answers the same temporal questions by brute force, from
the written rules rather than from the projector's tables:

- *known at T*: the prefix of the log whose recording moment is <= T, the recording moment of the
  event at position n being the running maximum of the event timestamps up to n;
- within that prefix a person, quota or unit fact counts unless its ``FactRetracted`` is in the prefix;
- *as of D*: each attribute takes the value of the latest counted fact (by effective date, then log
  position) effective on or before D that sets it;
- headcount counts people whose state on D is ACTIVE in the unit; roll-ups follow the tree as it
  stood on D.

Slow on purpose (every answer re-folds the facts); meant for differential tests of small histories.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any
from uuid import UUID

from staffing.domain.person import Person
from staffing.domain.quota import StaffingQuota
from staffing.domain.unit import Unit

__all__ = ["Knowledge", "Logged", "Oracle", "OracleFigures", "OracleLine", "OracleMovement"]

CATEGORIES = ("CADRE", "CIVIL_SERVANT", "PUBLIC_EMPLOYEE", "CONTRACT_WORKER")
UNIT_FIELDS = ("code", "name", "kind", "autonomy", "parent_id", "status")
PERSON_FIELDS = ("unit_id", "position_id", "category", "rank", "status")


@dataclass(frozen=True)
class Logged:
    """One notification: its log position, its recording moment and the decoded event."""

    position: int
    recorded: datetime
    event: Any

    @property
    def fact_id(self) -> str:
        return f"{self.event.originator_id}:{self.event.originator_version}"


@dataclass(frozen=True)
class _Fact:
    effective_on: date
    position: int
    delta: dict[str, Any]
    fact_id: str
    kind: str  # the event class name
    by_reorganisation: bool = False


@dataclass
class OracleLine:
    category: str
    quota: int = 0
    headcount: int = 0
    entries: list[tuple[str, str, int, str, date]] = field(default_factory=list)  # (unit, kind, amount, fact, from)

    @property
    def vacancy(self) -> int:
        return max(self.quota - self.headcount, 0)

    @property
    def surplus(self) -> int:
        return max(self.headcount - self.quota, 0)


@dataclass
class OracleFigures:
    unit_id: str
    lines: dict[str, OracleLine]
    excess_allowed_until: date | None

    @property
    def total_quota(self) -> int:
        return sum(line.quota for line in self.lines.values())

    @property
    def total_headcount(self) -> int:
        return sum(line.headcount for line in self.lines.values())


@dataclass(frozen=True, order=True)
class OracleMovement:
    effective_on: date
    kind: str
    person_id: str
    category: str
    fact_id: str


def _s(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def _fold(facts: Iterable[_Fact], as_of: date) -> tuple[dict[str, Any], date | None]:
    """The attributes on ``as_of`` and the effective date of the latest fact behind them."""
    state: dict[str, Any] = {}
    since: date | None = None
    for fact in sorted(facts, key=lambda f: (f.effective_on, f.position)):
        if fact.effective_on > as_of:
            break
        state.update(fact.delta)
        since = fact.effective_on
    return state, since


class Knowledge:
    """What the record said once the log prefix up to ``position`` was known."""

    def __init__(self, log: list[Logged], position: int) -> None:
        self.position = position
        prefix = [item for item in log if item.position <= position]
        retracted = {
            (item.event.originator_id, item.event.fact_version)
            for item in prefix
            if isinstance(item.event, (Person.FactRetracted, StaffingQuota.FactRetracted, Unit.FactRetracted))
        }
        self.units: dict[str, list[_Fact]] = defaultdict(list)
        self.people: dict[str, list[_Fact]] = defaultdict(list)
        self.person_info: dict[str, tuple[str, date, str]] = {}
        self.quota: dict[tuple[str, str, str], list[_Fact]] = defaultdict(list)
        self.excess: dict[str, list[_Fact]] = defaultdict(list)
        #: what happened to each unit: (date, change, successors), from its own end and separations
        self.reorganisations: dict[str, list[tuple[date, str, list[str]]]] = defaultdict(list)
        ledger_unit: dict[UUID, str] = {}
        for item in prefix:
            e = item.event
            if isinstance(e, StaffingQuota.Opened):
                ledger_unit[e.originator_id] = str(e.unit_id)
            if (e.originator_id, e.originator_version) in retracted:
                continue
            if isinstance(e, Unit.Ended):
                self.reorganisations[str(e.originator_id)].append(
                    (e.effective_on, e.change, [str(x) for x in e.successor_ids]))
            elif isinstance(e, Unit.PartSeparated):
                self.reorganisations[str(e.originator_id)].append(
                    (e.effective_on, "SEPARATE", [str(x) for x in e.successor_ids]))
            delta = self._delta(e)
            if delta is None:
                continue
            fact = _Fact(e.effective_on, item.position, delta, item.fact_id, type(e).__name__,
                         bool(getattr(e, "by_reorganisation", False)))
            oid = str(e.originator_id)
            if isinstance(e, Unit.Event):
                self.units[oid].append(fact)
            elif isinstance(e, Person.Event):
                self.people[oid].append(fact)
                if isinstance(e, Person.Recruited):
                    self.person_info[oid] = (e.full_name, e.birth_date, e.gender)
            elif isinstance(e, StaffingQuota.FigureSet):
                self.quota[(ledger_unit[e.originator_id], e.category, e.kind)].append(fact)
            elif isinstance(e, StaffingQuota.ExcessAllowed):
                self.excess[ledger_unit[e.originator_id]].append(fact)

    @staticmethod
    def _delta(e: Any) -> dict[str, Any] | None:
        """Which attributes a fact sets (None: the event sets no attribute any read model shows)."""
        if isinstance(e, Unit.Established):
            return {"code": e.code, "name": e.name, "kind": e.kind, "autonomy": e.autonomy,
                    "parent_id": _s(e.parent_id), "status": "ACTIVE"}
        if isinstance(e, Unit.Renamed):
            return {"name": e.name, "code": e.code}
        if isinstance(e, Unit.Moved):
            return {"parent_id": _s(e.parent_id)}
        if isinstance(e, Unit.ModelChanged):
            return {"kind": e.kind, "autonomy": e.autonomy}
        if isinstance(e, Unit.Ended):
            return {"status": "ENDED"}
        if isinstance(e, Person.Recruited):
            return {"unit_id": str(e.unit_id), "position_id": _s(e.position_id), "category": e.category,
                    "rank": e.rank, "status": "ACTIVE"}
        if isinstance(e, Person.Transferred):
            return {"unit_id": str(e.unit_id), "position_id": _s(e.position_id)}
        if isinstance(e, Person.Regraded):
            return {"category": e.category, "rank": e.rank}
        if isinstance(e, Person.Left):
            return {"status": e.status, "position_id": None}
        if isinstance(e, Person.Downsized):
            return {"status": "DOWNSIZED", "position_id": None}
        if isinstance(e, StaffingQuota.FigureSet):
            return {"amount": e.amount}
        if isinstance(e, StaffingQuota.ExcessAllowed):
            return {"until": e.until}
        return None

    # ------------------------------------------------------------------ units
    def unit_at(self, unit_id: str, as_of: date) -> dict[str, Any] | None:
        state, _ = _fold(self.units.get(unit_id, ()), as_of)
        if state.get("status") != "ACTIVE":
            return None
        return {k: state.get(k) for k in UNIT_FIELDS}

    def units_on(self, as_of: date) -> dict[str, dict[str, Any]]:
        out = {}
        for unit_id in self.units:
            state = self.unit_at(unit_id, as_of)
            if state is not None:
                out[unit_id] = state
        return out

    def children(self, unit_id: str, as_of: date) -> list[str]:
        units = self.units_on(as_of)
        kids = [(u["code"], uid) for uid, u in units.items() if u["parent_id"] == unit_id]
        return [uid for _, uid in sorted(kids)]

    def subtree(self, root_id: str | None, as_of: date) -> list[tuple[str, int, str | None]]:
        """(unit, level, parent), parents before children, siblings by (code, id).

        With a root, the root is level 0; without one, the top level (no parent, or a parent that
        does not exist on that date) is level 1. A unit already visited is not visited again, so a
        cycle in the tree (which the write side should never allow) cannot loop forever.
        """
        units = self.units_on(as_of)
        by_parent: dict[str | None, list[str]] = defaultdict(list)
        for uid, u in units.items():
            by_parent[u["parent_id"]].append(uid)
        for siblings in by_parent.values():
            siblings.sort(key=lambda uid: (units[uid]["code"], uid))
        if root_id is None:
            tops = sorted((uid for uid, u in units.items() if u["parent_id"] is None or u["parent_id"] not in units),
                          key=lambda uid: (units[uid]["code"], uid))
            starts = [(uid, 1) for uid in tops]
        elif root_id in units:
            starts = [(root_id, 0)]
        else:
            return []
        out: list[tuple[str, int, str | None]] = []
        seen: set[str] = set()

        def visit(uid: str, level: int) -> None:
            if uid in seen:
                return
            seen.add(uid)
            out.append((uid, level, units[uid]["parent_id"]))
            for child in by_parent.get(uid, []):
                visit(child, level + 1)

        for uid, level in starts:
            visit(uid, level)
        return out

    # ------------------------------------------------------------------ people
    def person_state(self, person_id: str, as_of: date) -> tuple[dict[str, Any], date | None]:
        return _fold(self.people.get(person_id, ()), as_of)

    def person_at(self, person_id: str, as_of: date) -> dict[str, Any] | None:
        state, since = self.person_state(person_id, as_of)
        if since is None:
            return None
        full_name, birth_date, gender = self.person_info[person_id]
        return {**{k: state.get(k) for k in PERSON_FIELDS}, "since": since, "full_name": full_name,
                "birth_date": birth_date, "gender": gender}

    def derived_unit(self, person_id: str, as_of: date) -> str | None:
        """Where an active person is on ``as_of``, worked out from their *own* facts and the units'
        lineage by the written rule — not from the moves the write side recorded — so the oracle checks
        the derivation itself: whoever is in a unit on (or joined it by) the day it is absorbed or
        consolidated is in the successor from that day; a split or separation moves them to the part
        the record allocated them; nobody stays in a dissolved unit (None: the rule is broken)."""
        facts = sorted(self.people.get(person_id, ()), key=lambda f: (f.effective_on, f.position))
        own = [f for f in facts if not f.by_reorganisation and f.effective_on <= as_of]
        placing = [f for f in own if "unit_id" in f.delta]
        if not placing:
            return None
        unit, entered = placing[-1].delta["unit_id"], placing[-1].effective_on
        chosen = {(f.effective_on, f.delta["unit_id"]) for f in facts if f.by_reorganisation}
        # (unit, the reorganisation's place in its log order): one unit may be separated from twice and
        # split on one day; those of one day are taken in the order they were recorded
        seen: set[tuple[str, int]] = set()
        while True:
            later = [(i, r) for i, r in sorted(enumerate(self.reorganisations.get(unit, ())), key=lambda e: e[1][0])
                     if entered <= r[0] <= as_of and (unit, i) not in seen]
            if not later:
                return unit
            index, (on, change, successors) = later[0]
            seen.add((unit, index))
            if change in ("ABSORB", "CONSOLIDATE"):
                unit, entered = successors[0], on
            elif change in ("SPLIT", "SEPARATE"):
                part = next((s for s in successors if (on, s) in chosen), None)
                if part is None and change == "SPLIT":
                    return None
                if part is not None:
                    unit, entered = part, on
            else:
                return None  # dissolved with the person still in it

    def active_people(self, as_of: date) -> int:
        """Everyone in service on ``as_of``, wherever they are (for the conservation check)."""
        return sum(1 for person_id in self.people
                   if (found := self.person_state(person_id, as_of))[1] is not None
                   and found[0].get("status") == "ACTIVE")

    def headcount(self, unit_ids: Iterable[str], as_of: date) -> dict[str, int]:
        wanted = set(unit_ids)
        counts = dict.fromkeys(CATEGORIES, 0)
        for person_id in self.people:
            state, since = self.person_state(person_id, as_of)
            if since is not None and state.get("status") == "ACTIVE" and state.get("unit_id") in wanted:
                counts[state["category"]] += 1
        return counts

    def movements(self, unit_id: str, start: date, end: date) -> list[OracleMovement]:
        """Transitions between consecutive states of each person, one per fact (several facts on one
        day are several movements, in recorded order), seen from ``unit_id``."""
        out: list[OracleMovement] = []
        for person_id, facts in self.people.items():
            state: dict[str, Any] = {}
            previous: dict[str, Any] | None = None
            for fact in sorted(facts, key=lambda f: (f.effective_on, f.position)):
                state.update(fact.delta)
                current = dict(state)
                if start <= fact.effective_on <= end:
                    kind = self._classify(previous, current, fact, unit_id)
                    if kind is not None:
                        out.append(OracleMovement(fact.effective_on, kind, person_id, current["category"],
                                                  fact.fact_id))
                previous = current
        return sorted(out)

    @staticmethod
    def _classify(previous: dict[str, Any] | None, current: dict[str, Any], move: _Fact | None,
                  subject: str) -> str | None:
        was_in = previous["unit_id"] if previous is not None and previous.get("status") == "ACTIVE" else None
        now_in = current["unit_id"] if current.get("status") == "ACTIVE" else None
        if was_in == now_in:
            return None
        if was_in is None:
            return "RECRUITED" if now_in == subject else None
        if now_in is None:
            return str(current["status"]) if was_in == subject else None
        reorganised = move is not None and move.kind == "Transferred" and move.by_reorganisation
        if now_in == subject:
            return "REORGANISED_IN" if reorganised else "TRANSFERRED_IN"
        if was_in == subject:
            return "REORGANISED_OUT" if reorganised else "TRANSFERRED_OUT"
        return None

    # ------------------------------------------------------------------ quota and staffing
    def excess_until(self, unit_id: str, as_of: date) -> date | None:
        state, _ = _fold(self.excess.get(unit_id, ()), as_of)
        until = state.get("until")
        return until if until is not None and until >= as_of else None

    def staffing(self, unit_id: str, as_of: date, include_descendants: bool = False) -> OracleFigures | None:
        if self.unit_at(unit_id, as_of) is None:
            return None
        members = [u for u, _, _ in self.subtree(unit_id, as_of)] if include_descendants else [unit_id]
        return self._figures(unit_id, members, as_of)

    def _figures(self, unit_id: str, members: list[str], as_of: date) -> OracleFigures:
        lines = {c: OracleLine(c) for c in CATEGORIES}
        wanted = set(members)
        for (unit, category, kind), facts in self.quota.items():
            if unit not in wanted:
                continue
            ordered = [f for f in sorted(facts, key=lambda f: (f.effective_on, f.position)) if f.effective_on <= as_of]
            if not ordered:
                continue
            latest = ordered[-1]
            amount = int(latest.delta["amount"])
            lines[category].quota += amount
            if amount > 0:
                lines[category].entries.append((unit, kind, amount, latest.fact_id, latest.effective_on))
        for category, n in self.headcount(members, as_of).items():
            lines[category].headcount = n
        for line in lines.values():
            line.entries.sort()
        return OracleFigures(unit_id, lines, self.excess_until(unit_id, as_of))

    def staffing_report(self, root_id: str | None, as_of: date, depth: int | None = None,
                        include_descendants: bool = False) -> list[tuple[str, int, OracleFigures]]:
        tree = self.subtree(root_id, as_of)
        kids: dict[str | None, list[str]] = defaultdict(list)
        for uid, _, parent in tree:
            kids[parent].append(uid)
        rows = []
        for uid, level, _ in tree:
            if depth is not None and level > depth:
                continue
            members = [uid]
            if include_descendants:
                members, stack = [], [uid]
                while stack:
                    current = stack.pop()
                    if current in members:
                        continue
                    members.append(current)
                    stack.extend(kids.get(current, []))
            rows.append((uid, level, self._figures(uid, members, as_of)))
        return rows


class Oracle:
    """The whole log, decoded once; ``known(at)`` gives the knowledge of any moment (cached)."""

    def __init__(self, log: list[Logged]) -> None:
        self.log = log
        self._cache: dict[int, Knowledge] = {}

    @classmethod
    def from_store(cls, store: Any, page: int = 1000) -> Oracle:
        recorder, mapper = store.recorder, store.mapper
        log: list[Logged] = []
        start, moment = 1, None
        while True:
            notifications = recorder.select_notifications(start, page)
            for n in notifications:
                event = mapper.to_domain_event(n)
                moment = event.timestamp if moment is None else max(moment, event.timestamp)
                log.append(Logged(n.id, moment, event))
            if len(notifications) < page:
                return cls(log)
            start = notifications[-1].id + 1

    @cached_property
    def moments(self) -> list[datetime]:
        """Every distinct recording moment, in order."""
        return sorted({item.recorded for item in self.log})

    @property
    def last_position(self) -> int:
        return self.log[-1].position if self.log else 0

    def position_at(self, known_at: datetime | None) -> int:
        """The last log position recorded by ``known_at`` (0: nothing yet; None: everything)."""
        if known_at is None:
            return self.last_position
        found = 0
        for item in self.log:
            if item.recorded <= known_at:
                found = item.position
        return found

    def known(self, known_at: datetime | None) -> Knowledge:
        position = self.position_at(known_at)
        if position not in self._cache:
            self._cache[position] = Knowledge(self.log, position)
        return self._cache[position]

    # conveniences mirroring the brief's vocabulary
    def unit_at(self, unit_id: str, as_of: date, known_at: datetime | None) -> dict[str, Any] | None:
        return self.known(known_at).unit_at(unit_id, as_of)

    def subtree(self, root_id: str | None, as_of: date, known_at: datetime | None) -> list[tuple[str, int, str | None]]:
        return self.known(known_at).subtree(root_id, as_of)

    def children(self, unit_id: str, as_of: date, known_at: datetime | None) -> list[str]:
        return self.known(known_at).children(unit_id, as_of)

    def staffing(self, unit_id: str, as_of: date, known_at: datetime | None,
                 include_descendants: bool = False) -> OracleFigures | None:
        return self.known(known_at).staffing(unit_id, as_of, include_descendants)

    def person_at(self, person_id: str, as_of: date, known_at: datetime | None) -> dict[str, Any] | None:
        return self.known(known_at).person_at(person_id, as_of)

    def movements(self, unit_id: str, start: date, end: date, known_at: datetime | None) -> list[OracleMovement]:
        return self.known(known_at).movements(unit_id, start, end)

    def unit_ids(self) -> list[str]:
        return sorted({str(i.event.originator_id) for i in self.log if isinstance(i.event, Unit.Established)})

    def person_ids(self) -> list[str]:
        return sorted({str(i.event.originator_id) for i in self.log if isinstance(i.event, Person.Recruited)})
