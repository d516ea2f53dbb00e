"""A random-history generator: drives the one write path with random, mostly valid commands.

The generator keeps a rough model of its own (which units it believes alive, under which parent;
which people it believes active) only to pick plausible arguments; where it needs exact contents
(a split must allocate every person, position and child) it loads the aggregate from the
repository. Refusals (``StaffingError``) are expected for random commands: they are counted, and
each one is checked to have written nothing to the log.

The recording clock advances irregularly (seconds to weeks, now and then a few seconds
*backwards*, as a writer with a lagging clock would) and effective dates mix current,
retroactive (well before the recording moment), future-dated and shared "key" dates, so that
known-at probes and same-day collisions are meaningful.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from staffing.application import (
    AllowExcess,
    AssignQuota,
    ChangeUnitModel,
    CreatePosition,
    DismissPerson,
    DissolveUnit,
    DownsizePerson,
    EstablishUnit,
    Item,
    MergeUnits,
    Mode,
    MoveUnit,
    NewUnit,
    QuotaFigure,
    RecruitPerson,
    RegradePerson,
    RenameUnit,
    ResignPerson,
    RetirePerson,
    RetractFact,
    SeparateUnit,
    SplitPart,
    SplitUnit,
    TransferPerson,
    TransferQuota,
)
from staffing.bootstrap import Ledger
from staffing.domain.errors import StaffingError
from staffing.domain.person import Person
from staffing.domain.quota import StaffingQuota, quota_ledger_id
from staffing.domain.unit import Unit
from staffing.domain.values import LegalAct, PersonnelCategory, QuotaKind, UnitKind
from tests.support import FakeClock

__all__ = ["History", "HistoryGenerator", "generate_history"]

PLACES = ("Tuyên Quang", "Hà Giang", "Đắk Lắk", "Lào Cai", "Yên Bái", "Thái Nguyên", "Bắc Kạn", "Phú Thọ",
          "Hòa Bình", "Vĩnh Phúc", "Quảng Ngãi", "Kon Tum")
GIVEN = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thu Dung", "Hoàng Minh Đức", "Vũ Thị Hà",
         "Đặng Quốc Huy", "Bùi Thị Lan", "Đỗ Mạnh Hùng", "Ngô Thị Mai")
KEY_DATES = (date(2024, 1, 1), date(2025, 1, 1), date(2025, 3, 1), date(2025, 6, 30), date(2025, 7, 1),
             date(2025, 12, 31), date(2026, 1, 1))
CATEGORIES = tuple(PersonnelCategory)
KINDS = tuple(QuotaKind)
RANKS = ("chuyên viên cao cấp", "chuyên viên chính", "chuyên viên", "cán sự", "nhân viên", "hạng I", "hạng III")
GROUPS = ("LEADERSHIP", "SECTOR_PROFESSIONAL", "COMMON_PROFESSIONAL", "SUPPORT")
AUTONOMY = ("SELF_FUNDED_RECURRENT_AND_INVESTMENT", "SELF_FUNDED_RECURRENT", "PARTLY_BUDGET_FUNDED",
            "FULLY_BUDGET_FUNDED")


@dataclass
class _UnitModel:
    kind: str
    parent: str | None
    code: str
    alive: bool = True


@dataclass
class History:
    """What the generator did: ids it created, dates it used, and the tally of outcomes."""

    units: dict[str, _UnitModel] = field(default_factory=dict)
    people: list[str] = field(default_factory=list)
    positions: dict[str, str] = field(default_factory=dict)  # position -> unit when created
    gone: set[str] = field(default_factory=set)  # people believed to have left
    person_facts: list[str] = field(default_factory=list)
    quota_facts: list[str] = field(default_factory=list)
    effective_dates: set[date] = field(default_factory=set)
    applied: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)


class HistoryGenerator:
    def __init__(self, ledger: Ledger, clock: FakeClock, rng: random.Random) -> None:
        self.ledger, self.clock, self.rng = ledger, clock, rng
        self.service = ledger.service
        self.history = History()
        self._codes = 0
        self._acts = 0

    # ------------------------------------------------------------------ plumbing
    def _last_position(self) -> int:
        return int(self.ledger.store.recorder.max_notification_id() or 0)

    def attempt(self, name: str, command: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
        before = self._last_position()
        try:
            result = command()
        except StaffingError:
            after = self._last_position()
            assert after == before, f"refused {name} wrote to the log ({before} -> {after})"
            self.history.refused[name] += 1
            return None
        self.history.applied[name] += 1
        return result

    def today(self) -> date:
        return self.clock.now.date()

    def effective(self, after: date | None = None) -> date:
        """An effective date; given the subject's latest fact, usually on or soon after it
        (often the very same day), since facts dated before it are refused."""
        r, today = self.rng.random(), self.today()
        if after is not None and self.rng.random() < 0.6:
            return after + timedelta(days=self.rng.choice([0, 0, 1, 7, 30, 90, 200]))
        if r < 0.40:
            day = today + timedelta(days=self.rng.randint(-30, 30))
        elif r < 0.60:
            day = self.rng.choice(KEY_DATES)
        elif r < 0.70 and self.history.effective_dates:
            day = self.rng.choice(sorted(self.history.effective_dates))
        elif r < 0.88:
            day = today - timedelta(days=self.rng.randint(60, 700))  # recorded late (retroactive)
        else:
            day = today + timedelta(days=self.rng.randint(30, 365))  # decided ahead of time
        return day

    def act(self, effective_on: date) -> LegalAct:
        self._acts += 1
        signed = min(effective_on - timedelta(days=self.rng.randint(0, 90)), self.clock.now.date())  # not after recording
        return LegalAct(f"{self._acts}/QĐ-UBND", f"UBND tỉnh {self.rng.choice(PLACES)}", signed)

    def _used(self, day: date) -> date:
        self.history.effective_dates.add(day)
        return day

    def tick(self) -> None:
        r = self.rng.random()
        if r < 0.03:  # a writer whose clock lags: timestamps out of log order
            # (a microsecond off the whole seconds: its transactions never share a moment with an earlier
            # one's to the microsecond, as two writers' real clocks practically never do; entries of one
            # own moment are taken as one transaction's, ``FigureBatch.contribute``)
            self.clock.now -= timedelta(seconds=self.rng.randint(1, 5), microseconds=1)
        elif r < 0.25:
            self.clock.set(self.clock.now + timedelta(minutes=self.rng.randint(1, 600)))
        elif r < 0.45:
            self.clock.set(self.clock.now + timedelta(days=self.rng.randint(1, 12), seconds=self.rng.randint(0, 999)))

    def next_code(self, prefix: str) -> str:
        self._codes += 1
        return f"{prefix}{self._codes:03d}"

    def alive(self, *kinds: str) -> list[str]:
        return [u for u, m in self.history.units.items() if m.alive and (not kinds or m.kind in kinds)]

    def pick_alive(self, *kinds: str) -> str | None:
        found = self.alive(*kinds)
        return self.rng.choice(found) if found else None

    def load(self, aggregate_id: str | UUID) -> Any:
        return self.ledger.store.repository.get(UUID(str(aggregate_id)))

    # ------------------------------------------------------------------ units
    def establish(self, kind: str | None = None, effective_on: date | None = None) -> str | None:
        kind = kind or self.rng.choices(["PROVINCE", "DISTRICT", "COMMUNE", "WARD", "PUBLIC_SERVICE_UNIT"],
                                        [1, 3, 4, 1, 2])[0]
        parent: str | None = None
        if kind == "DISTRICT":
            parent = self.pick_alive("PROVINCE")
        elif kind in ("COMMUNE", "WARD"):
            parent = self.pick_alive("DISTRICT", "PROVINCE")
        elif kind == "PUBLIC_SERVICE_UNIT":
            parent = self.pick_alive()
        if kind != "PROVINCE" and parent is None:
            return None
        prefix = {"PROVINCE": "Tỉnh", "DISTRICT": "Huyện", "COMMUNE": "Xã", "WARD": "Phường",
                  "PUBLIC_SERVICE_UNIT": "Trường"}[kind]
        code = self.next_code(kind[0])
        day = effective_on or self.effective()
        autonomy = self.rng.choice(AUTONOMY) if kind == "PUBLIC_SERVICE_UNIT" and self.rng.random() < 0.7 else None
        result = self.attempt("establish", lambda: self.service.execute(EstablishUnit(code=code, name=f"{prefix} {self.rng.choice(PLACES)} {self._codes}", kind=kind, parent_id=parent, effective_on=day, act=self.act(day), autonomy=autonomy)))
        if result is None:
            return None
        self._used(day)
        self.history.units[result.unit_id] = _UnitModel(kind, parent, code)
        return str(result.unit_id)

    def _latest(self, unit_ids: list[str]) -> date:
        """The latest fact date of these units and of the people in them (a reorganisation moving
        them must not be dated before it)."""
        latest = date(1900, 1, 1)
        for unit_id in unit_ids:
            unit: Unit = self.load(unit_id)
            latest = max(latest, unit.last_fact_on)
            for person_id in unit.member_ids:
                latest = max(latest, self.load(person_id).last_fact_on)
        return latest

    def _follow_up(self, unit_id: str, day: date) -> None:
        """Now and then, a person moved by a reorganisation has another fact the very same day."""
        if self.rng.random() < 0.5:
            return
        unit: Unit = self.load(unit_id)
        if not unit.member_ids:
            return
        person = str(self.rng.choice(sorted(unit.member_ids)))
        r = self.rng.random()
        if r < 0.6:
            self._person_fact("regrade", lambda: self.service.execute(RegradePerson(person_id=person, category=self.rng.choice(CATEGORIES), effective_on=day, act=self.act(day))), day)
        elif r < 0.85:
            target = self.pick_alive()
            if target is not None and target != unit_id:
                self._person_fact("transfer", lambda: self.service.execute(TransferPerson(person_id=person, to_unit_id=target, effective_on=day, act=self.act(day))), day)
        elif self._person_fact("retire_person", lambda: self.service.execute(RetirePerson(person_id=person, effective_on=day, act=self.act(day))), day):
            self.history.gone.add(person)

    def _siblings(self, unit: str) -> list[str]:
        parent = self.history.units[unit].parent
        return [u for u in self.alive() if u != unit and self.history.units[u].parent == parent]

    def _rehome_children(self, sources: list[str], target: str) -> None:
        for model in self.history.units.values():
            if model.parent in sources:
                model.parent = target

    def absorb(self) -> None:
        target = self.pick_alive()
        if target is None:
            return
        pool = self._siblings(target) if self.rng.random() < 0.7 else [u for u in self.alive() if u != target]
        if not pool:
            return
        sources = self.rng.sample(pool, min(len(pool), self.rng.randint(1, 2)))
        day = self.effective(self._latest([target, *sources]))
        until = day + timedelta(days=5 * 365) if self.rng.random() < 0.4 else None
        result = self.attempt("absorb", lambda: self.service.execute(MergeUnits(source_unit_ids=sources, into_unit_id=target, effective_on=day, act=self.act(day), excess_allowed_until=until)))
        if result is not None:
            self._used(day)
            for s in sources:
                self.history.units[s].alive = False
            self._rehome_children(sources, target)
            self._follow_up(target, day)

    def consolidate(self) -> None:
        first = self.pick_alive()
        if first is None:
            return
        pool = self._siblings(first)
        if not pool:
            return
        sources = [first, *self.rng.sample(pool, min(len(pool), self.rng.randint(1, 2)))]
        model = self.history.units[first]
        code = model.code if self.rng.random() < 0.3 else self.next_code("M")
        day = self.effective(self._latest(sources))
        until = day + timedelta(days=5 * 365) if self.rng.random() < 0.5 else None
        spec = NewUnit(code=code, name=f"Hợp nhất {self.rng.choice(PLACES)} {self._codes}", kind=UnitKind(model.kind), parent_id=UUID(model.parent) if model.parent else None)
        result = self.attempt("consolidate", lambda: self.service.execute(MergeUnits(source_unit_ids=sources, new_unit=spec, effective_on=day, act=self.act(day), excess_allowed_until=until)))
        if result is not None:
            self._used(day)
            for s in sources:
                self.history.units[s].alive = False
            self.history.units[result.unit_id] = _UnitModel(model.kind, model.parent, code)
            self._rehome_children(sources, result.unit_id)
            self._follow_up(result.unit_id, day)

    def _contents(self, unit_id: str) -> tuple[list[tuple[UUID | None, list[UUID]]], list[UUID], list[UUID]]:
        """People grouped with the position they hold, unheld positions, child units."""
        unit: Unit = self.load(unit_id)
        held: dict[UUID | None, list[UUID]] = {}
        for person_id in sorted(unit.member_ids):
            person: Person = self.load(person_id)
            position = person.placement.position_id
            held.setdefault(position if position in unit.position_ids else None, []).append(person_id)
        groups: list[tuple[UUID | None, list[UUID]]] = [(pos, people) for pos, people in held.items()
                                                         if pos is not None]
        groups += [(None, [p]) for p in held.get(None, [])]
        unheld = sorted(p for p in unit.position_ids if p not in held)
        return groups, unheld, sorted(unit.child_ids)

    def split(self) -> None:
        original = self.pick_alive()
        if original is None:
            return
        groups, unheld, children = self._contents(original)
        model = self.history.units[original]
        n = self.rng.choice([2, 2, 3])
        people: list[list[UUID]] = [[] for _ in range(n)]
        positions: list[list[UUID]] = [[] for _ in range(n)]
        kids: list[list[UUID]] = [[] for _ in range(n)]
        for position, members in groups:
            i = self.rng.randrange(n)
            people[i].extend(members)
            if position is not None:
                positions[i].append(position)
        for position in unheld:
            positions[self.rng.randrange(n)].append(position)
        for child in children:
            kids[self.rng.randrange(n)].append(child)
        if self.rng.random() < 0.1 and any(people):  # an incomplete allocation, refused
            people[next(i for i in range(n) if people[i])].pop()
        parts = []
        codes = [self.next_code("S") for _ in range(n)]
        for i in range(n):
            quota = [QuotaFigure(category=self.rng.choice(CATEGORIES), kind=QuotaKind.ASSIGNED, amount=self.rng.randint(0, 30))
                     ] if self.rng.random() < 0.5 else []
            parts.append(SplitPart(unit=NewUnit(code=codes[i], name=f"Chia {self.rng.choice(PLACES)} {codes[i]}", kind=UnitKind(model.kind)), person_ids=people[i], position_ids=positions[i], child_unit_ids=kids[i], quota=quota))
        day = self.effective(self._latest([original]))
        result = self.attempt("split", lambda: self.service.execute(SplitUnit(unit_id=original, parts=parts, effective_on=day, act=self.act(day))))
        if result is not None:
            self._used(day)
            model.alive = False
            for i, new_id in enumerate(result.unit_ids):
                self.history.units[new_id] = _UnitModel(model.kind, model.parent, codes[i])
                for child in kids[i]:
                    self.history.units[str(child)].parent = new_id
            self._follow_up(self.rng.choice(result.unit_ids), day)

    def separate(self) -> None:
        original = self.pick_alive()
        if original is None:
            return
        groups, unheld, children = self._contents(original)
        people: list[UUID] = []
        positions: list[UUID] = []
        for position, members in groups:
            if self.rng.random() < 0.4:
                people.extend(members)
                if position is not None:
                    positions.append(position)
        positions += [p for p in unheld if self.rng.random() < 0.4]
        kids = [c for c in children if self.rng.random() < 0.3]
        quota: list[QuotaFigure] = []
        if self.rng.random() < 0.5:
            ledger: StaffingQuota | None = self._ledger(original)
            figures = sorted(ledger.current_figures().items()) if ledger else []
            if figures:
                (category, kind), have = self.rng.choice(figures)
                quota.append(QuotaFigure(category=category, kind=kind, amount=self.rng.randint(0, have + (1 if self.rng.random() < 0.1 else 0))))
        model = self.history.units[original]
        code = self.next_code("T")
        part = SplitPart(unit=NewUnit(code=code, name=f"Tách {self.rng.choice(PLACES)} {code}", kind=UnitKind(model.kind)), person_ids=people, position_ids=positions, child_unit_ids=kids, quota=quota)
        day = self.effective(self._latest([original]))
        result = self.attempt("separate", lambda: self.service.execute(SeparateUnit(unit_id=original, part=part, effective_on=day, act=self.act(day))))
        if result is not None:
            self._used(day)
            self.history.units[result.unit_id] = _UnitModel(model.kind, model.parent, code)
            for child in kids:
                self.history.units[str(child)].parent = result.unit_id
            self._follow_up(result.unit_id, day)

    def dissolve(self) -> None:
        candidates = self.alive()
        self.rng.shuffle(candidates)
        chosen = None
        for unit_id in candidates[:6]:
            unit: Unit = self.load(unit_id)
            if not (unit.member_ids or unit.position_ids or unit.child_ids):
                chosen = unit_id
                break
        if chosen is None and candidates and self.rng.random() < 0.3:
            chosen = candidates[0]  # not empty: refused
        if chosen is None:
            return
        day = self.effective()
        result = self.attempt("dissolve", lambda: self.service.execute(DissolveUnit(unit_id=chosen, effective_on=day, act=self.act(day))))
        if result is not None:
            self._used(day)
            self.history.units[chosen].alive = False

    def rename(self) -> None:
        unit = self.pick_alive()
        if unit is None:
            return
        day = self.effective()
        code = self.next_code("R") if self.rng.random() < 0.5 else None
        result = self.attempt("rename", lambda: self.service.execute(RenameUnit(unit_id=unit, name=f"Đổi tên {self.rng.choice(PLACES)} {self._codes}", code=code, effective_on=day, act=self.act(day))))
        if result is not None:
            self._used(day)
            if code:
                self.history.units[unit].code = code

    def change_model(self) -> None:
        unit = self.pick_alive("PUBLIC_SERVICE_UNIT")
        if unit is None:
            return
        day = self.effective()
        autonomy = self.rng.choice(AUTONOMY)
        if self.attempt("change_model", lambda: self.service.execute(ChangeUnitModel(unit_id=unit, kind="PUBLIC_SERVICE_UNIT", autonomy=autonomy, effective_on=day, act=self.act(day)))) is not None:
            self._used(day)

    def move(self) -> None:
        unit = self.pick_alive("COMMUNE", "WARD", "PUBLIC_SERVICE_UNIT", "DISTRICT")
        parent = self.pick_alive()
        if unit is None or parent is None:
            return
        day = self.effective()
        if self.attempt("move", lambda: self.service.execute(MoveUnit(unit_id=unit, new_parent_id=parent, effective_on=day, act=self.act(day)))) is not None:
            self._used(day)
            self.history.units[unit].parent = parent

    # ------------------------------------------------------------------ quota
    def _ledger(self, unit_id: str) -> StaffingQuota | None:
        try:
            return self.load(quota_ledger_id(UUID(unit_id)))  # type: ignore[no-any-return]
        except Exception:  # noqa: BLE001 - no ledger yet
            return None

    def assign_quota(self) -> None:
        unit = self.pick_alive()
        if unit is None:
            return
        category, kind = self.rng.choice(CATEGORIES), self.rng.choices(KINDS, [5, 2, 1])[0]
        ledger = self._ledger(unit)
        figures = [f for f in ledger.series.get((category, kind), []) if not f["retracted"]] if ledger else []
        day = self.effective(figures[-1]["effective_on"] if figures else None)  # type: ignore[arg-type]
        amount = self.rng.choice([0, self.rng.randint(1, 40)])
        result = self.attempt("assign_quota", lambda: self.service.execute(AssignQuota(unit_id=unit, category=category, kind=kind, amount=amount, effective_on=day, act=self.act(day))))
        if result is not None:
            self._used(day)
            self.history.quota_facts.append(result.fact_id)

    def transfer_quota(self) -> None:
        source, target = self.pick_alive(), self.pick_alive()
        if source is None or target is None:
            return
        ledger = self._ledger(source)
        figures = sorted(ledger.current_figures().items()) if ledger else []
        if figures:
            (category, kind), have = self.rng.choice(figures)
            amount = self.rng.randint(0, have + (2 if self.rng.random() < 0.1 else 0))
        else:
            category, kind, amount = self.rng.choice(CATEGORIES), QuotaKind.ASSIGNED, 1
        day = self.effective()
        result = self.attempt("transfer_quota", lambda: self.service.execute(TransferQuota(from_unit_id=source, to_unit_id=target, category=category, kind=kind, amount=amount, effective_on=day, act=self.act(day))))
        if result is not None:
            self._used(day)
            source_ledger = quota_ledger_id(UUID(source))
            self.history.quota_facts += [result.fact_id, f"{source_ledger}:{self._ledger(source).version}"]  # type: ignore[union-attr]

    def allow_excess(self) -> None:
        unit = self.pick_alive()
        if unit is None:
            return
        day = self.effective()
        until = day + timedelta(days=self.rng.randint(-10, 5 * 365))
        result = self.attempt("allow_excess", lambda: self.service.execute(AllowExcess(unit_id=unit, until=until, reason="dôi dư sau sắp xếp", effective_on=day, act=self.act(day))))
        if result is not None:
            self._used(day)
            self.history.quota_facts.append(result.fact_id)

    # ------------------------------------------------------------------ positions and people
    def create_position(self) -> None:
        unit = self.pick_alive()
        if unit is None:
            return
        day = self.effective()
        result = self.attempt("create_position", lambda: self.service.execute(CreatePosition(unit_id=unit, title=f"Vị trí {self.rng.randint(1, 99)}", group=self.rng.choice(GROUPS), rank=self.rng.choice(RANKS), effective_on=day, act=self.act(day))))
        if result is not None:
            self._used(day)
            self.history.positions[result.position_id] = unit

    def _position_in(self, unit_id: str) -> UUID | None:
        unit: Unit = self.load(unit_id)
        if unit.position_ids and self.rng.random() < 0.75:
            return self.rng.choice(sorted(unit.position_ids))
        return None

    def recruit(self, unit: str | None = None, effective_on: date | None = None) -> str | None:
        unit = unit or self.pick_alive()
        if unit is None:
            return None
        day = effective_on or self.effective()
        position = self._position_in(unit)
        birth = date(day.year - self.rng.randint(17, 60), self.rng.randint(1, 12), self.rng.randint(1, 28))
        result = self.attempt("recruit", lambda: self.service.execute(RecruitPerson(full_name=self.rng.choice(GIVEN), birth_date=birth, gender=self.rng.choice(["FEMALE", "MALE"]), category=self.rng.choice(CATEGORIES), unit_id=unit, position_id=position, effective_on=day, act=self.act(day), rank=self.rng.choice(["", *RANKS]))))
        if result is None:
            return None
        self._used(day)
        self.history.people.append(result.person_id)
        self.history.person_facts.append(result.fact_id)
        return str(result.person_id)

    def _person(self) -> tuple[str, date] | tuple[None, None]:
        """A person (mostly one believed active, mostly one of the busier few) and their latest fact."""
        active = [p for p in self.history.people if p not in self.history.gone]
        if active and self.rng.random() < 0.85:
            pool = active[: max(8, len(active) // 3)] if self.rng.random() < 0.6 else active
        else:
            pool = self.history.people
        if not pool:
            return None, None
        person_id = self.rng.choice(pool)
        person: Person = self.load(person_id)
        return person_id, person.last_fact_on

    def _person_fact(self, name: str, command: Callable[[], Any], day: date) -> Any:
        result = self.attempt(name, command)
        if result is not None:
            self._used(day)
            self.history.person_facts.append(result.fact_id)
        return result

    def transfer(self) -> None:
        (person, last), target = self._person(), self.pick_alive()
        if person is None or target is None:
            return
        position = self._position_in(target)
        day = self.effective(last)
        self._person_fact("transfer", lambda: self.service.execute(TransferPerson(person_id=person, to_unit_id=target, to_position_id=position, effective_on=day, act=self.act(day))), day)

    def regrade(self) -> None:
        person, last = self._person()
        if person is None:
            return
        day = self.effective(last)
        category = self.rng.choice([None, *CATEGORIES])
        self._person_fact("regrade", lambda: self.service.execute(RegradePerson(person_id=person, category=category, rank=self.rng.choice(RANKS), effective_on=day, act=self.act(day))), day)

    def leave(self) -> None:
        person, last = self._person()
        if person is None:
            return
        day = self.effective(last)
        how = self.rng.choice([RetirePerson, ResignPerson, DismissPerson])
        if self._person_fact(how.command_name(), lambda: self.service.execute(how(person_id=person, effective_on=day,
                                                                                  act=self.act(day))), day):
            self.history.gone.add(person)

    def downsize(self) -> None:
        person, last = self._person()
        if person is None:
            return
        day = self.effective(last)
        if self._person_fact("downsize", lambda: self.service.execute(DownsizePerson(person_id=person, policy=self.rng.choice(["EARLY_RETIREMENT", "RESIGNATION", "TRANSFER_OUTSIDE_BUDGET"]), effective_on=day, act=self.act(day), monthly_salary=self.rng.randint(5, 20) * 1_000_000, insured_years=self.rng.randint(0, 35), affected_by_restructuring=self.rng.random() < 0.5)), day):
            self.history.gone.add(person)

    def retract(self) -> None:
        if self.rng.random() < 0.4:
            self.retract_any_fact_of_a_person()
            return
        pool = self.history.person_facts if self.rng.random() < 0.4 else self.history.quota_facts
        if not pool:
            return
        # later facts are retracted more often than early ones (a recruitment only goes last)
        target = pool[-1 - min(int(self.rng.expovariate(0.3)), len(pool) - 1)]
        self.attempt("retract", lambda: self.service.execute(RetractFact(fact_id=target, reason="nhập nhầm", act=self.act(self.today()))))

    def retract_any_fact_of_a_person(self) -> None:
        """Retract one of a person's facts, often one in the middle of their timeline."""
        person_id, _ = self._person()
        if person_id is None:
            return
        person: Person = self.load(person_id)
        versions = [f["version"] for f in person.facts if not f["retracted"]]
        if len(versions) > 1:
            versions = versions[1:]  # the recruitment goes only when nothing follows it
        if versions:
            target = f"{person_id}:{self.rng.choice(versions)}"
            if self.attempt("retract", lambda: self.service.execute(RetractFact(fact_id=target, reason="nhập nhầm", act=self.act(self.today())))) is not None:
                self.history.gone.discard(person_id)

    # ------------------------------------------------------------------ late and corrected records
    def _ended(self) -> str | None:
        ended = [u for u, m in self.history.units.items() if not m.alive]
        return self.rng.choice(ended) if ended else None

    def _while_it_existed(self, unit: Unit) -> date | None:
        end = unit.ended_on or self.today()
        if end <= unit.established_on:
            return None
        return unit.established_on + timedelta(days=self.rng.randint(0, (end - unit.established_on).days - 1))

    def _path_after(self, unit_id: UUID, day: date) -> tuple[list[UUID], date | None]:
        """The split parts a person in ``unit_id`` on ``day`` would go to (chosen at random), and the
        date of a dissolution the path ends in (None: it ends in a living unit)."""
        parts: list[UUID] = []
        current, since = unit_id, day
        for _ in range(20):
            unit: Unit = self.load(current)
            later = [r for r in unit.reorganisations() if r[0] > since and r[1] != "SEPARATE"]
            if not later:
                return parts, None
            on, change, successors, _, _ = later[0]
            if change == "DISSOLVE":
                return parts, on
            current = self.rng.choice(successors) if change == "SPLIT" else successors[0]
            if change == "SPLIT":
                parts.append(current)
            since = on
        return parts, None

    def _late(self) -> tuple[Unit, date] | None:
        """A unit that has ended since, and a day on which it still existed."""
        ended = self._ended()
        if ended is None:
            return None
        unit: Unit = self.load(ended)
        day = self._while_it_existed(unit)
        return None if day is None else (unit, day)

    def late_recruit(self) -> None:
        """A recruitment recorded late into a unit that has ended since (merged, split or dissolved)."""
        late = self._late()
        if late is None:
            return
        unit, day = late
        parts, dissolved = self._path_after(unit.id, day)
        if self.rng.random() < 0.15:
            parts = []  # forgotten: refused when a split needs a part
        new_id = UUID(int=self.rng.getrandbits(128), version=4)
        birth = date(day.year - self.rng.randint(20, 55), self.rng.randint(1, 12), self.rng.randint(1, 28))
        items = [Item(RecruitPerson(id=new_id, full_name=self.rng.choice(GIVEN), birth_date=birth, gender="FEMALE",
                                    category=self.rng.choice(CATEGORIES), unit_id=unit.id, effective_on=day,
                                    act=self.act(day), split_parts=tuple(parts)))]
        target = self.pick_alive()
        if dissolved is not None and target is not None and self.rng.random() < 0.8:
            leave_on = day + timedelta(days=self.rng.randint(0, max((dissolved - day).days, 0)))
            items.append(Item(TransferPerson(person_id=new_id, to_unit_id=UUID(target), effective_on=leave_on,
                                             act=self.act(leave_on))))
        outcome = self.attempt("late_recruit", lambda: self._run_all(items))
        if outcome is not None:
            self._used(day)
            self.history.people.append(str(new_id))
            self.history.person_facts.append(f"{new_id}:1")

    def _run_all(self, items: list[Item]) -> Any:
        outcome = self.service.run(items, Mode.ATOMIC)
        if outcome.errors:
            raise next(iter(outcome.errors.values()))
        return outcome.results[0]

    def late_quota(self) -> None:
        """A quota decision recorded late for a unit that has ended since (a merger carries it on)."""
        late = self._late()
        if late is None:
            return
        unit, day = late
        result = self.attempt("late_quota", lambda: self.service.execute(AssignQuota(unit_id=unit.id, category=self.rng.choice(CATEGORIES), kind=QuotaKind.ASSIGNED, amount=self.rng.randint(0, 40), effective_on=day, act=self.act(day))))
        if result is not None:
            self._used(day)
            self.history.quota_facts.append(result.fact_id)

    def insert_before(self) -> None:
        """A person fact dated before facts already on record about them (out of order)."""
        person_id, last = self._person()
        if person_id is None:
            return
        person: Person = self.load(person_id)
        first = person.facts[0]["effective_on"]
        if last is None or last <= first:
            return
        day = first + timedelta(days=self.rng.randint(0, (last - first).days))
        before = person.placement_on(day)
        if before is None:
            return
        target = self.pick_alive()
        if self.rng.random() < 0.6 and target is not None:
            parts, _ = self._path_after(UUID(target), day)
            self._person_fact("insert_transfer", lambda: self.service.execute(TransferPerson(person_id=person_id, to_unit_id=target, effective_on=day, act=self.act(day), split_parts=tuple(parts))), day)
        else:
            self._person_fact("insert_regrade", lambda: self.service.execute(RegradePerson(person_id=person_id, category=self.rng.choice(CATEGORIES), effective_on=day, act=self.act(day))), day)

    def retract_relied_on(self) -> None:
        """Retract a person's own move that a later reorganisation moved them on from."""
        candidates = []
        for person_id in self.rng.sample(self.history.people, min(12, len(self.history.people))):
            person: Person = self.load(person_id)
            derived = person.derived_moves()
            own = [f for f in person.facts[1:] if not f["retracted"] and f["cause"] == "TRANSFERRED"]
            if derived and own:
                candidates.append(f"{person_id}:{own[-1]['version']}")
        if candidates:
            target = self.rng.choice(candidates)
            self.attempt("retract_relied_on", lambda: self.service.execute(RetractFact(fact_id=target, reason="nhập nhầm", act=self.act(self.today()))))

    def end_during_a_lengthened_stay(self) -> None:
        """Retract a transfer in the middle of someone's path, then dissolve the unit they are now
        recorded in for longer, on a day inside that stay (domain.stays): the dissolution must be
        refused — accepted, it leaves the person in a dissolved unit, which the oracle's derivation
        of their unit catches. A person drawn at random rarely has two own transfers, so the op
        usually lays such a path itself first (``_lay_a_path``): otherwise CI's seeds never reach the
        dissolution."""
        person_id: str | None
        if self.rng.random() < 0.3:
            person_id, _ = self._person()
        else:
            person_id = self._lay_a_path()
        if person_id is None:
            return
        person: Person = self.load(person_id)
        own = [f for f in person._active_facts()[1:] if f["cause"] == "TRANSFERRED"]
        if len(own) < 2:
            return
        middle = self.rng.choice(own[:-1])
        target = f"{person_id}:{middle['version']}"
        if self.attempt("retract", lambda: self.service.execute(RetractFact(
                fact_id=target, reason="nhập nhầm", act=self.act(self.today())))) is None:
            return
        person = self.load(person_id)
        start = middle["effective_on"]
        stayed = person.placement_on(start)
        model = self.history.units.get(str(stayed.unit_id)) if stayed is not None else None
        if stayed is None or stayed.status.value != "ACTIVE" or model is None or not model.alive:
            return
        later = sorted({f["effective_on"] for f in person._active_facts() if f["effective_on"] > start})
        until = next((d for d in later if (p := person.placement_on(d)) is None or p.unit_id != stayed.unit_id
                      or p.status.value != "ACTIVE"), None)
        if until is None or (until - start).days < 1:
            return
        unit_id = str(stayed.unit_id)
        day = start + timedelta(days=self.rng.randint(0, (until - start).days - 1))
        result = self.attempt("dissolve_during_a_stay", lambda: self.service.execute(
            DissolveUnit(unit_id=unit_id, effective_on=day, act=self.act(day))))
        if result is not None:
            self._used(day)
            self.history.units[unit_id].alive = False

    def _lay_a_path(self) -> str | None:
        """A new commune, someone recruited into it and then moved on twice: retracting the first
        move keeps them in the commune, which nobody else is in, so a dissolution during that stay
        is refused by the stays rule alone (not because the commune holds others or children)."""
        start = self.effective()
        commune = self.establish("COMMUNE", start)
        if commune is None:
            return None
        person = self.recruit(commune, start + timedelta(days=self.rng.randint(0, 30)))
        first, second = self.pick_alive(), self.pick_alive()
        if person is None or first in (None, commune) or second in (None, commune, first):
            return person
        moved = start + timedelta(days=self.rng.randint(31, 200))
        for target, day in ((first, moved), (second, moved + timedelta(days=self.rng.randint(2, 200)))):
            if self._person_fact("transfer", lambda target=target, day=day: self.service.execute(TransferPerson(
                    person_id=person, to_unit_id=target, effective_on=day, act=self.act(day))), day) is None:
                break
        return person

    def correct_unit_fact(self) -> None:
        """Retract a rename, move or model change of a unit entered in error."""
        unit_id = self.pick_alive()
        if unit_id is None:
            return
        unit: Unit = self.load(unit_id)
        facts = [f for f in unit.facts if not f["retracted"] and f["kind"] in ("RENAMED", "MOVED", "MODEL_CHANGED")]
        if not facts:
            return
        fact = self.rng.choice(facts)
        if self.attempt("correct_unit", lambda: self.service.execute(RetractFact(fact_id=f"{unit_id}:{fact['version']}", reason="nhập nhầm", act=self.act(self.today())))) is not None:
            model = self.history.units[unit_id]
            refreshed: Unit = self.load(unit_id)
            model.parent, model.code = (str(refreshed.parent_id) if refreshed.parent_id else None), refreshed.code

    # ------------------------------------------------------------------ the run
    def seed_tree(self, provinces: int = 2) -> None:
        """A starting tree effective years before anything else, so that later facts fit."""
        for p in range(provinces):
            self.clock.set(self.clock.now + timedelta(minutes=7))
            province = self.establish("PROVINCE", date(2019, 1, 1) + timedelta(days=p))
            if province is None:
                continue
            for d in range(2):
                district = self._establish_under(province, "DISTRICT", date(2019, 6, 1) + timedelta(days=d))
                for c in range(2):
                    if district is not None:
                        self._establish_under(district, "COMMUNE", date(2020, 1, 1) + timedelta(days=c))
        for unit in self.alive():
            self.recruit(unit, date(2021, 1, 1) + timedelta(days=self.rng.randint(0, 300)))

    def _establish_under(self, parent: str, kind: str, day: date) -> str | None:
        code = self.next_code(kind[0])
        result = self.attempt("establish", lambda: self.service.execute(EstablishUnit(code=code, name=f"{'Huyện' if kind == 'DISTRICT' else 'Xã'} {self.rng.choice(PLACES)} {self._codes}", kind=kind, parent_id=parent, effective_on=day, act=self.act(day))))
        if result is None:
            return None
        self._used(day)
        self.history.units[result.unit_id] = _UnitModel(kind, parent, code)
        return str(result.unit_id)

    def step(self) -> None:
        self.tick()
        operations: list[tuple[Callable[[], Any], int]] = [
            (self.establish, 8), (self.absorb, 3), (self.consolidate, 3), (self.split, 2), (self.separate, 2),
            (self.dissolve, 2), (self.rename, 1), (self.change_model, 1), (self.move, 1),
            (self.assign_quota, 10), (self.transfer_quota, 4), (self.allow_excess, 3), (self.create_position, 7),
            (self.recruit, 12), (self.transfer, 9), (self.regrade, 5), (self.leave, 4), (self.downsize, 3),
            (self.retract, 8), (self.late_recruit, 5), (self.late_quota, 3), (self.insert_before, 5),
            (self.retract_relied_on, 3), (self.correct_unit_fact, 2), (self.end_during_a_lengthened_stay, 2),
        ]
        operation = self.rng.choices([o for o, _ in operations], [w for _, w in operations])[0]
        operation()

    def run(self, steps: int) -> History:
        self.seed_tree()
        for _ in range(steps):
            self.step()
        return self.history


def generate_history(ledger: Ledger, clock: FakeClock, seed: int, steps: int = 200) -> History:
    """Run ``steps`` random commands after a seed tree; ids are drawn from the seed too, so a
    failing seed replays the same history (the choices sort ids, so random ids would not)."""
    ids = random.Random(f"ids-{seed}")
    ledger.service.new_id = lambda: UUID(int=ids.getrandbits(128), version=4)
    return HistoryGenerator(ledger, clock, random.Random(seed)).run(steps)

