"""A small but realistic demo ledger: two ministries and two provinces through the 2025 reform.

Why it exists: the README, the GraphQL playground and the end-to-end tests need data that looks
like what personnel departments record and what the Ministry of Home Affairs and auditors query
(DOMAIN.md): units with their legal acts, job positions, quotas by category and kind, a few hundred
people, and the two waves of 2025 — the ministry mergers of 01/03/2025 (Resolution 176/2025/QH15:
Bộ Kế hoạch và Đầu tư absorbed into Bộ Tài chính) and the local reform of 01/07/2025 (Resolution
202/2025/QH15: Hà Giang + Tuyên Quang → Tuyên Quang; districts abolished; communes consolidated).

How it is built:

- ``build_plan()`` is a pure function of ``random.Random(2025)``: it returns the whole dataset as
  data (units, positions, people with their fates) plus the ordered commands that write it, so
  tests compute expected figures from the definition rather than from the output;
- ``load_demo()`` runs those commands through ``StaffingService``'s public methods only, each with
  a deterministic request key (``demo:...``), so loading into a store that already holds the demo
  writes nothing (the service replays the first result of a repeated key);
- every command is recorded a few days after its act was signed (``DemoClock.at``), so "as known
  at" questions show what the record said on a past day. A transfer is recorded late (effective
  01/07/2025, recorded 10/08/2025) and one quota figure is entered in error and retracted, so an
  auditor can see corrections.

Legal acts: those named in ``REAL_ACTS`` are actual acts; the rest (decisions of ministries and
people's committees) carry plausible numbers generated deterministically. Names of people are
generated from common Vietnamese (Kinh, Tày, H'Mông, Dao) family, middle and given names; they are
not real people.

Simplifications: the ledger's history of ministries and provincial bodies starts on 01/01/2015
(their staff then in post are recorded as recruited on that date); retirement is at 60 for women
and 62 for men (the end points of the 2019 Labour Code's phased increase), effective on the first
day of the month after the birthday, so with birth years 1965–2000 only women born in 1965 retire
within the modelled period (to 01/12/2025); men leave earlier only through downsizing.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as clock_time
from uuid import UUID

from staffing.application import (
    AbolishPosition,
    AssignQuota,
    CreatePosition,
    DissolveUnit,
    DownsizePerson,
    EstablishUnit,
    MergeUnits,
    NewUnit,
    RecruitPerson,
    RegradePerson,
    RetirePerson,
    RetractFact,
    SplitPart,
    SplitUnit,
    StaffingService,
    TransferPerson,
    TransferQuota,
)
from staffing.domain.values import (
    DownsizingPolicy,
    FinancialAutonomy,
    Gender,
    LegalAct,
    PersonnelCategory,
    PositionGroup,
    QuotaKind,
    UnitKind,
)

__all__ = [
    "DemoClock",
    "DemoPlan",
    "DemoSummary",
    "PersonPlan",
    "PositionPlan",
    "QuotaCorrection",
    "UnitPlan",
    "build_plan",
    "load_demo",
    "summary_lines",
]

VN = timezone(timedelta(hours=7))  # acts are signed and entered in Vietnam (UTC+7)
BASELINE = date(2015, 1, 1)  # the ledger's history of existing bodies starts here
CENTRAL_REFORM = date(2025, 3, 1)  # Resolution 176/2025/QH15 takes effect
LOCAL_REFORM = date(2025, 7, 1)  # Resolution 202/2025/QH15 takes effect; districts end
EXCESS_CENTRAL_UNTIL = date(2030, 3, 1)  # successors may exceed their quota for five years
EXCESS_LOCAL_UNTIL = date(2030, 7, 1)
LAST_RETIREMENT = date(2025, 12, 1)  # retirements are modelled up to this effective date
RETIREMENT_AGE = {Gender.FEMALE: 60, Gender.MALE: 62}
BASE_SALARY = 2_340_000  # lương cơ sở from 01/07/2024 (Decree 73/2024/NĐ-CP), VND/month

CC, CB = PersonnelCategory.CIVIL_SERVANT, PersonnelCategory.CADRE
VC, HD = PersonnelCategory.PUBLIC_EMPLOYEE, PersonnelCategory.CONTRACT_WORKER
LEAD, PROF = PositionGroup.LEADERSHIP, PositionGroup.SECTOR_PROFESSIONAL
COMMON, SUPPORT = PositionGroup.COMMON_PROFESSIONAL, PositionGroup.SUPPORT
ASSIGNED, TEMPORARY = QuotaKind.ASSIGNED, QuotaKind.TEMPORARY

# ------------------------------------------------------------------ real legal acts
HA_TUYEN_1975 = LegalAct("Nghị quyết ngày 27/12/1975 (Quốc hội khóa V)", "Quốc hội", date(1975, 12, 27))
HA_TUYEN_SPLIT_1991 = LegalAct("Nghị quyết ngày 12/8/1991 (Quốc hội khóa VIII)", "Quốc hội", date(1991, 8, 12))
MOF_DECREE_2013 = LegalAct("215/2013/NĐ-CP", "Chính phủ", date(2013, 12, 23))
MPI_DECREE_2008 = LegalAct("116/2008/NĐ-CP", "Chính phủ", date(2008, 11, 14))
RESOLUTION_176 = LegalAct("176/2025/QH15", "Quốc hội", date(2025, 2, 18))
MOF_DECREE_2025 = LegalAct("29/2025/NĐ-CP", "Chính phủ", date(2025, 2, 24))
RESOLUTION_202 = LegalAct("202/2025/QH15", "Quốc hội", date(2025, 6, 12))
LOCAL_GOVERNMENT_LAW_2025 = LegalAct("72/2025/QH15", "Quốc hội", date(2025, 6, 16))
TUYEN_QUANG_COMMUNES_2025 = LegalAct("1684/NQ-UBTVQH15", "Ủy ban Thường vụ Quốc hội", date(2025, 6, 16))
REAL_ACTS = (HA_TUYEN_1975, HA_TUYEN_SPLIT_1991, MOF_DECREE_2013, MPI_DECREE_2008, RESOLUTION_176,
             MOF_DECREE_2025, RESOLUTION_202, LOCAL_GOVERNMENT_LAW_2025, TUYEN_QUANG_COMMUNES_2025)

#: The real lineage the demo honours (names as in ``shared/data/*.csv``).
MINISTRY_MERGER = ("Bộ Tài chính", "absorb", ("Bộ Kế hoạch và Đầu tư", "Bộ Tài chính"))
PROVINCE_MERGER = ("Tuyên Quang", "province", ("Hà Giang", "Tuyên Quang"))


# ================================================================== the clock
class DemoClock:
    """The service's clock while the demo loads: recording moments the loader chooses.

    ``at(moment)`` pins the next recording moments to ``moment`` (+1 µs per call, so moments
    strictly increase); ``release()`` returns to real time. Never returns a moment earlier than
    one it returned before: a pin in the past, or a real clock behind the last pin, yields the
    last moment + 1 µs instead.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pinned: datetime | None = None
        self._calls = 0
        self._last: datetime | None = None

    def __call__(self) -> datetime:
        with self._lock:
            if self._pinned is None:
                candidate = datetime.now(UTC)
            else:
                candidate = self._pinned + timedelta(microseconds=self._calls)
                self._calls += 1
            if self._last is not None and candidate <= self._last:
                candidate = self._last + timedelta(microseconds=1)
            self._last = candidate
            return candidate

    def at(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("pin the clock with a timezone-aware moment, e.g. datetime(..., tzinfo=timezone.utc)")
        with self._lock:
            self._pinned, self._calls = moment.astimezone(UTC), 0

    def release(self) -> None:
        with self._lock:
            self._pinned = None

    @property
    def pinned(self) -> bool:
        return self._pinned is not None


def recorded(signed_on: date, days: int = 3, hour: int = 9) -> datetime:
    """When a personnel department enters an act: ``days`` after signing, at ``hour`` Vietnam time."""
    return datetime.combine(signed_on + timedelta(days=days), clock_time(hour), tzinfo=VN)


# ================================================================== the plan (pure data)
@dataclass
class UnitPlan:
    key: str
    code: str
    name: str
    kind: UnitKind
    region: str  # BTC, BKHDT, HT (Hà Tuyên), HG, TQ
    parent: str | None
    established_on: date
    autonomy: FinancialAutonomy | None = None
    ended_on: date | None = None
    predecessors: tuple[str, ...] = ()


@dataclass
class PositionPlan:
    key: str
    unit: str  # the unit holding it now (positions move with reorganisations)
    title: str
    group: PositionGroup
    rank: str
    abolished_on: date | None = None


@dataclass
class PersonPlan:
    key: str
    full_name: str
    birth_date: date
    gender: Gender
    category: PersonnelCategory
    region: str  # the ministry or province recruited into; people never move between them
    unit: str  # unit recruited into
    position: str | None
    slot: str
    recruited_on: date
    transfers: list[tuple[date, str]] = field(default_factory=list)  # (effective, unit key), not by reorganisation
    left_on: date | None = None
    exit: str | None = None  # RETIRED, DOWNSIZED:EARLY_RETIREMENT, DOWNSIZED:RESIGNATION

    def active_on(self, day: date) -> bool:
        return self.recruited_on <= day and (self.left_on is None or self.left_on > day)


@dataclass(frozen=True)
class QuotaCorrection:
    """The figure entered in error, its retraction and the corrected figure."""

    unit: str
    category: PersonnelCategory
    kind: QuotaKind
    effective_on: date
    previous: int  # the figure in force before the erroneous entry
    wrong: int
    right: int
    entered_at: datetime
    retracted_at: datetime
    corrected_at: datetime
    request_key: str  # of the erroneous assign_quota command


@dataclass(frozen=True)
class LateTransfer:
    person: str
    from_unit: str
    to_unit: str
    effective_on: date
    recorded_at: datetime


@dataclass(frozen=True)
class _Step:
    at: datetime
    seq: int
    key: str
    run: Callable[[_Run, str], None]


@dataclass
class _Run:
    service: StaffingService
    ids: dict[str, str] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)

    def id(self, key: str) -> UUID:
        return UUID(self.ids[key])


@dataclass
class DemoPlan:
    units: dict[str, UnitPlan]
    positions: dict[str, PositionPlan]
    people: dict[str, PersonPlan]
    steps: list[_Step]
    correction: QuotaCorrection
    late_transfer: LateTransfer

    def headcount(self, regions: set[str], day: date) -> int:
        """People of these ministries/provinces in post on ``day`` (recruited, not yet left)."""
        return sum(1 for p in self.people.values() if p.region in regions and p.active_on(day))

    def leavers(self, regions: set[str], day: date) -> int:
        return sum(1 for p in self.people.values() if p.region in regions and p.left_on == day)

    def ordered_steps(self) -> list[_Step]:
        return sorted(self.steps, key=lambda s: (s.at, s.seq))


@dataclass(frozen=True)
class DemoSummary:
    units: int  # units established over the whole history (including successors)
    people: int
    positions: int
    events_written: int  # log entries this load added (0 when the demo was already there)
    tuyen_quang_id: str  # Tỉnh Tuyên Quang as consolidated on 01/07/2025
    bo_tai_chinh_id: str
    unit_ids: Mapping[str, str]  # every unit of the plan by plan key (e.g. "HG", "TQ", "BKHDT", "TQ25")
    person_ids: Mapping[str, str]
    retracted_fact_id: str
    seconds: float


# ================================================================== names
KINH_FAMILY = (("Nguyễn", 30), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 5), ("Vũ", 4), ("Phan", 4),
               ("Đặng", 3), ("Bùi", 3), ("Đỗ", 3), ("Hồ", 2), ("Ngô", 2), ("Dương", 2), ("Đinh", 2), ("Lý", 1),
               ("Trịnh", 1), ("Mai", 1), ("Tạ", 1), ("Đào", 1), ("Lương", 1))
MALE_MIDDLE = ("Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Xuân", "Thành", "Ngọc", "Mạnh", "Trọng", "Anh")
FEMALE_MIDDLE = ("Thị", "Thị", "Thị", "Thu", "Thanh", "Ngọc", "Minh", "Phương", "Hồng", "Kim", "Thúy", "Hải")
MALE_GIVEN = ("Hùng", "Dũng", "Tuấn", "Minh", "Long", "Nam", "Hải", "Sơn", "Thắng", "Cường", "Quân", "Huy",
              "Khánh", "Phong", "Trung", "Hiếu", "Đạt", "Kiên", "Thành", "Vinh", "Bình", "Toàn", "Tùng", "Hòa",
              "Quyết", "Đức", "Lâm", "Tiến")
FEMALE_GIVEN = ("Hoa", "Lan", "Hương", "Mai", "Linh", "Trang", "Thảo", "Huyền", "Ngọc", "Hà", "Nga", "Yến",
                "Phương", "Thủy", "Hạnh", "Dung", "Oanh", "Nhung", "Giang", "Vân", "Hằng", "Loan", "My", "Anh")
TAY_FAMILY = ("Ma", "Nông", "Hà", "Lục", "Quan", "Hoàng", "La")
HMONG_FAMILY = ("Giàng", "Sùng", "Vàng", "Thào", "Lầu", "Ly", "Hầu", "Mua")
HMONG_MALE = ("Seo Phử", "Mí Chá", "Mí Sính", "A Páo", "Seo Lử", "Chứ Dình", "Mí Lử", "Pà Tủa", "Seo Chúng")
HMONG_FEMALE = ("Thị Mai", "Thị Dợ", "Thị Súa", "Thị Pà", "Thị Chua", "Thị Mỷ", "Thị Và")
DAO_FAMILY = ("Triệu", "Bàn", "Đặng")


def _name(rng: random.Random, gender: Gender, region: str) -> str:
    male = gender is Gender.MALE
    roll = rng.random()
    if (region == "HG" and roll < 0.18) or (region == "TQ" and roll < 0.04):
        return f"{rng.choice(HMONG_FAMILY)} {rng.choice(HMONG_MALE if male else HMONG_FEMALE)}"
    if region in ("HG", "TQ") and roll < 0.45:
        family = rng.choice(TAY_FAMILY if roll < 0.37 else DAO_FAMILY)
        return f"{family} {'Văn' if male else 'Thị'} {rng.choice(MALE_GIVEN if male else FEMALE_GIVEN)}"
    family = rng.choices([f for f, _ in KINH_FAMILY], weights=[w for _, w in KINH_FAMILY])[0]
    middle = rng.choice(MALE_MIDDLE if male else FEMALE_MIDDLE)
    given = rng.choice(MALE_GIVEN if male else FEMALE_GIVEN)
    if given == middle:
        given = rng.choice(MALE_GIVEN if male else FEMALE_GIVEN[:5])
    return f"{family} {middle} {given}"


# ================================================================== staffing templates
# (slot, title, group, rank, category, count)
Slot = tuple[str, str, PositionGroup, str, PersonnelCategory, int]


def _department(prof_title: str, n: int) -> list[Slot]:
    return [("lead", "Vụ trưởng", LEAD, "Chuyên viên cao cấp", CC, 1),
            ("deputy", "Phó Vụ trưởng", LEAD, "Chuyên viên chính", CC, 2),
            ("prof", prof_title, PROF, "Chuyên viên", CC, n - 3)]


def _office(n_cc: int, n_contract: int) -> list[Slot]:
    return [("lead", "Chánh Văn phòng", LEAD, "Chuyên viên cao cấp", CC, 1),
            ("deputy", "Phó Chánh Văn phòng", LEAD, "Chuyên viên chính", CC, 1),
            ("prof", "Chuyên viên hành chính - văn thư", COMMON, "Chuyên viên", CC, n_cc - 2),
            ("support", "Nhân viên lái xe", SUPPORT, "Nhân viên", HD, n_contract)]


def _inspectorate(n: int) -> list[Slot]:
    return [("lead", "Chánh Thanh tra", LEAD, "Thanh tra viên cao cấp", CC, 1),
            ("deputy", "Phó Chánh Thanh tra", LEAD, "Thanh tra viên chính", CC, 1),
            ("prof", "Thanh tra viên", PROF, "Thanh tra viên", CC, n - 2)]


def _bureau() -> list[Slot]:
    return [("lead", "Cục trưởng", LEAD, "Chuyên viên cao cấp", CC, 1),
            ("deputy", "Phó Cục trưởng", LEAD, "Chuyên viên chính", CC, 2)]


def _division(prof_title: str, n: int) -> list[Slot]:
    return [("lead", "Trưởng phòng", LEAD, "Chuyên viên chính", CC, 1),
            ("prof", prof_title, PROF, "Chuyên viên", CC, n - 1)]


def _provincial_department(prof_title: str, n: int) -> list[Slot]:
    return [("lead", "Giám đốc Sở", LEAD, "Chuyên viên chính", CC, 1),
            ("deputy", "Phó Giám đốc Sở", LEAD, "Chuyên viên chính", CC, 1),
            ("prof", prof_title, PROF, "Chuyên viên", CC, n - 2)]


def _district(level: str) -> list[Slot]:
    return [("lead", f"Chủ tịch UBND {level}", LEAD, "Chuyên viên chính", CB, 1),
            ("deputy", f"Phó Chủ tịch UBND {level}", LEAD, "Chuyên viên chính", CB, 1),
            ("prof", "Chuyên viên Phòng Nội vụ", PROF, "Chuyên viên", CC, 2),
            ("prof2", "Chuyên viên Phòng Tài chính - Kế hoạch", PROF, "Chuyên viên", CC, 3)]


def _commune(level: str) -> list[Slot]:
    return [("lead", f"Chủ tịch UBND {level}", LEAD, "Chuyên viên", CB, 1),
            ("deputy", f"Phó Chủ tịch UBND {level}", LEAD, "Chuyên viên", CB, 1),
            ("council", f"Chủ tịch HĐND {level}", LEAD, "Chuyên viên", CB, 1),
            ("prof", "Công chức Văn phòng - Thống kê", COMMON, "Chuyên viên", CC, 2),
            ("finance", "Công chức Tài chính - Kế toán", PROF, "Chuyên viên", CC, 1),
            ("justice", "Công chức Tư pháp - Hộ tịch", PROF, "Chuyên viên", CC, 1),
            ("land", "Công chức Địa chính - Xây dựng", PROF, "Cán sự", CC, 1)]


# ================================================================== the builder
class _Builder:
    """Builds the plan: data for tests, and the commands (each a closure over plan keys)."""

    def __init__(self) -> None:
        self.rng = random.Random(2025)
        self.units: dict[str, UnitPlan] = {}
        self.positions: dict[str, PositionPlan] = {}
        self.people: dict[str, PersonPlan] = {}
        self.steps: list[_Step] = []
        self.quota: dict[tuple[str, PersonnelCategory, QuotaKind], int] = {}
        self._keys: set[str] = set()
        self._numbers: dict[tuple[str, int], int] = {}
        self.correction: QuotaCorrection | None = None
        self.late_transfer: LateTransfer | None = None

    # ------------------------------------------------------------------ plumbing
    def add(self, at: datetime, key: str, run: Callable[[_Run, str], None]) -> None:
        key = f"demo:{key}"
        if key in self._keys:
            raise AssertionError(f"duplicate demo request key {key}")
        self._keys.add(key)
        self.steps.append(_Step(at, len(self.steps), key, run))

    def decision(self, issuer: str, signed_on: date, suffix: str = "QĐ-UBND") -> LegalAct:
        """A plausible act number: each issuer numbers its acts upwards through the year."""
        slot = (issuer, signed_on.year)
        previous = self._numbers.get(slot)
        number = self.rng.randint(40, 900) if previous is None else previous + self.rng.randint(3, 41)
        self._numbers[slot] = number
        return LegalAct(f"{number}/{suffix}", issuer, signed_on)

    def authority(self, region: str, signed_on: date, unit: str | None = None) -> LegalAct:
        """The body that decides about staff of ``region`` on that date (who signs changes in 2025)."""
        if region in ("BTC", "BKHDT"):
            if region == "BTC" or signed_on >= RESOLUTION_176.signed_on:
                return self.decision("Bộ Tài chính", signed_on, "QĐ-BTC")
            return self.decision("Bộ Kế hoạch và Đầu tư", signed_on, "QĐ-BKHĐT")
        if signed_on >= LOCAL_REFORM:
            return self.decision("UBND tỉnh Tuyên Quang", signed_on)
        district = self._district_of(unit) if unit else None
        if district is not None:
            name = self.units[district].name
            return self.decision(f"UBND {name[0].lower()}{name[1:]}", signed_on)
        return self.decision("UBND tỉnh Hà Giang" if region == "HG" else "UBND tỉnh Tuyên Quang", signed_on)

    def _district_of(self, unit_key: str) -> str | None:
        current: str | None = unit_key
        while current is not None:
            if self.units[current].kind is UnitKind.DISTRICT:
                return current
            current = self.units[current].parent
        return None

    def birth(self, first_year: int, last_year: int) -> date:
        return date(first_year, 1, 1) + timedelta(days=self.rng.randrange(
            (date(last_year, 12, 31) - date(first_year, 1, 1)).days + 1))

    # ------------------------------------------------------------------ units
    def establish(self, key: str, code: str, name: str, kind: UnitKind, parent: str | None, region: str,
                  on: date, act: LegalAct, autonomy: FinancialAutonomy | None = None,
                  at: datetime | None = None) -> None:
        self.units[key] = UnitPlan(key, code, name, kind, region, parent, on, autonomy)

        def run(r: _Run, rk: str) -> None:
            r.ids[key] = r.service.execute(EstablishUnit(code=code, name=name, kind=kind, parent_id=r.id(parent) if parent else None, effective_on=on, act=act, autonomy=autonomy), request_key=rk).unit_id

        self.add(at or recorded(act.signed_on), f"unit:{key}", run)

    def split(self, key: str, parts: list[tuple[str, str, str, UnitKind, str]], on: date, act: LegalAct) -> None:
        """Chia: ``key`` ends; one new unit per part (key, code, name, kind, region)."""
        original = self.units[key]
        original.ended_on = on
        for part_key, code, name, kind, region in parts:
            self.units[part_key] = UnitPlan(part_key, code, name, kind, region, original.parent, on,
                                            predecessors=(key,))
        specs = [SplitPart(unit=NewUnit(code=code, name=name, kind=kind)) for _, code, name, kind, _ in parts]

        def run(r: _Run, rk: str) -> None:
            ids = r.service.execute(SplitUnit(unit_id=r.id(key), parts=tuple(specs), effective_on=on, act=act), request_key=rk).unit_ids
            for (part_key, *_), new_id in zip(parts, ids, strict=True):
                r.ids[part_key] = new_id

        self.add(recorded(act.signed_on), f"split:{key}", run)

    def merge(self, sources: list[str], on: date, act: LegalAct, at: datetime, *, into: str | None = None,
              new: tuple[str, str, str, UnitKind, str | None] | None = None,
              excess_until: date | None = None) -> str:
        """Sáp nhập (``into``) or hợp nhất (``new`` = key, code, name, kind, parent key)."""
        if new is not None:
            new_key, code, name, kind, parent = new
            region = self.units[parent].region if parent else self.units[sources[-1]].region
            self.units[new_key] = UnitPlan(new_key, code, name, kind, region, parent, on,
                                           predecessors=tuple(sources))
            target = new_key
        else:
            assert into is not None
            target = into
            self.units[into].predecessors += tuple(sources)
        for source in sources:
            self.units[source].ended_on = on
            for unit in self.units.values():
                if unit.parent == source and unit.ended_on is None:
                    unit.parent = target
            for position in self.positions.values():
                if position.unit == source and position.abolished_on is None:
                    position.unit = target
            for (unit_key, category, quota_kind), amount in list(self.quota.items()):
                if unit_key == source and amount:
                    series = (target, category, quota_kind)
                    self.quota[series] = self.quota.get(series, 0) + amount
                    self.quota[(unit_key, category, quota_kind)] = 0

        def run(r: _Run, rk: str) -> None:
            spec = None
            if new is not None:
                spec = NewUnit(code=new[1], name=new[2], kind=new[3], parent_id=UUID(r.ids[new[4]]) if new[4] else None)
            result = r.service.execute(MergeUnits(source_unit_ids=tuple(r.id(s) for s in sources), into_unit_id=r.id(into) if into else None, new_unit=spec, excess_allowed_until=excess_until, effective_on=on, act=act), request_key=rk)
            r.ids[target] = result.unit_id

        self.add(at, f"merge:{'+'.join(sources)}", run)
        return target

    def dissolve(self, key: str, on: date, act: LegalAct, at: datetime) -> None:
        self.units[key].ended_on = on

        def run(r: _Run, rk: str) -> None:
            r.service.execute(DissolveUnit(unit_id=r.id(key), effective_on=on, act=act), request_key=rk)

        self.add(at, f"dissolve:{key}", run)

    # ------------------------------------------------------------------ positions and quota
    def position(self, unit: str, slot: str, title: str, group: PositionGroup, rank: str, on: date,
                 act: LegalAct, at: datetime | None = None) -> str:
        key = f"{unit}/{slot}"
        self.positions[key] = PositionPlan(key, unit, title, group, rank)

        def run(r: _Run, rk: str) -> None:
            r.ids[key] = r.service.execute(CreatePosition(unit_id=r.id(unit), title=title, group=group, rank=rank, effective_on=on, act=act), request_key=rk).position_id

        self.add(at or recorded(act.signed_on), f"position:{key}", run)
        return key

    def abolish(self, key: str, on: date, act: LegalAct, at: datetime) -> None:
        self.positions[key].abolished_on = on

        def run(r: _Run, rk: str) -> None:
            r.service.execute(AbolishPosition(position_id=r.id(key), effective_on=on, act=act), request_key=rk)

        self.add(at, f"abolish:{key}", run)

    def set_quota(self, unit: str, category: PersonnelCategory, kind: QuotaKind, amount: int, on: date,
                  act: LegalAct, at: datetime | None = None, tag: str = "") -> str:
        self.quota[(unit, category, kind)] = amount
        key = f"quota:{unit}:{category.value}:{kind.value}:{on.isoformat()}{tag}"

        def run(r: _Run, rk: str) -> None:
            r.facts[rk] = r.service.execute(AssignQuota(unit_id=r.id(unit), category=category, kind=kind, amount=amount, effective_on=on, act=act), request_key=rk).fact_id

        self.add(at or recorded(act.signed_on), key, run)
        return f"demo:{key}"

    def move_quota(self, source: str, target: str, category: PersonnelCategory, kind: QuotaKind, on: date,
                   act: LegalAct, at: datetime) -> None:
        amount = self.quota.get((source, category, kind), 0)
        if not amount:
            return
        self.quota[(source, category, kind)] = 0
        self.quota[(target, category, kind)] = self.quota.get((target, category, kind), 0) + amount

        def run(r: _Run, rk: str) -> None:
            r.service.execute(TransferQuota(from_unit_id=r.id(source), to_unit_id=r.id(target), category=category, kind=kind, amount=amount, effective_on=on, act=act), request_key=rk)

        self.add(at, f"quota-transfer:{source}:{target}:{category.value}:{kind.value}", run)

    # ------------------------------------------------------------------ people
    def recruit(self, unit: str, slot: str, category: PersonnelCategory, on: date, act: LegalAct,
                leader: bool, born: tuple[int, int], at: datetime | None = None) -> PersonPlan:
        region = self.units[unit].region
        gender = Gender.MALE if self.rng.random() < (0.7 if leader else 0.5) else Gender.FEMALE
        person = PersonPlan(
            key=f"p{len(self.people) + 1:04d}", full_name=_name(self.rng, gender, region),
            birth_date=self.birth(*born), gender=gender, category=category, region=region, unit=unit,
            position=f"{unit}/{slot}", slot=slot, recruited_on=on)
        self.people[person.key] = person
        key, position = person.key, person.position

        def run(r: _Run, rk: str) -> None:
            r.ids[key] = r.service.execute(RecruitPerson(full_name=person.full_name, birth_date=person.birth_date, gender=gender, category=category, unit_id=r.id(unit), position_id=r.id(position) if position else None, effective_on=on, act=act), request_key=rk).person_id

        self.add(at or recorded(act.signed_on), f"recruit:{key}", run)
        return person

    def transfer(self, person: PersonPlan, unit: str, position: str | None, on: date, act: LegalAct,
                 at: datetime | None = None) -> None:
        person.transfers.append((on, unit))
        key = person.key

        def run(r: _Run, rk: str) -> None:
            r.service.execute(TransferPerson(person_id=r.id(key), to_unit_id=r.id(unit), to_position_id=r.id(position) if position else None, effective_on=on, act=act), request_key=rk)

        self.add(at or recorded(act.signed_on), f"transfer:{key}:{on.isoformat()}", run)

    def regrade(self, person: PersonPlan, category: PersonnelCategory, rank: str, on: date, act: LegalAct,
                at: datetime) -> None:
        key = person.key

        def run(r: _Run, rk: str) -> None:
            r.service.execute(RegradePerson(person_id=r.id(key), category=category, rank=rank, effective_on=on, act=act), request_key=rk)

        self.add(at, f"regrade:{key}:{on.isoformat()}", run)

    def retire(self, person: PersonPlan, on: date, act: LegalAct) -> None:
        person.left_on, person.exit = on, "RETIRED"
        key = person.key

        def run(r: _Run, rk: str) -> None:
            r.service.execute(RetirePerson(person_id=r.id(key), effective_on=on, act=act), request_key=rk)

        self.add(recorded(act.signed_on), f"retire:{key}", run)

    def downsize(self, person: PersonPlan, policy: DownsizingPolicy, on: date, act: LegalAct) -> None:
        """Tinh giản under Decree 178/2024 (67/2025): the person's post went in the 2025 restructuring."""
        person.left_on, person.exit = on, f"DOWNSIZED:{policy.value}"
        key = person.key
        service_years = max(1, min(35, on.year - person.birth_date.year - 23))
        coefficient = min(2.34 + 0.33 * (service_years // 3), 6.56) + (0.4 if person.slot in ("lead", "deputy") else 0)
        salary = int(round(BASE_SALARY * coefficient / 500) * 500)

        def run(r: _Run, rk: str) -> None:
            r.service.execute(DownsizePerson(person_id=r.id(key), policy=policy, effective_on=on, act=act, monthly_salary=salary, insured_years=service_years, affected_by_restructuring=True), request_key=rk)

        self.add(recorded(act.signed_on), f"downsize:{key}", run)

    def staff(self, unit: str, slots: list[Slot], positions_act: LegalAct, recruit_act: LegalAct) -> None:
        """Job positions of a unit and the people in post on the baseline date."""
        for slot, title, group, rank, category, count in slots:
            self.position(unit, slot, title, group, rank, BASELINE, positions_act)
            for _ in range(count):
                leader = group is LEAD
                self.recruit(unit, slot, category, BASELINE, recruit_act, leader,
                             (1965, 1974) if leader else (1965, 1994))

    def baseline_quota(self, units: list[str], act_2015: LegalAct, act_2023: LegalAct) -> None:
        """Quota 2015 (in post + one vacancy in larger units) and 2023 (the 2022–2026 cut: −5% CC, −10% VC)."""
        for unit in units:
            counts = Counter(p.category for p in self.people.values() if p.unit == unit)
            for category in (CB, CC, VC, HD):
                if not counts[category]:
                    continue
                figure_2015 = counts[category] + (1 if counts[category] >= 5 else 0)
                self.set_quota(unit, category, ASSIGNED, figure_2015, BASELINE, act_2015)
                cut = {CC: 0.05, CB: 0.05, VC: 0.10}.get(category, 0.0)
                figure_2023 = figure_2015 - (round(figure_2015 * cut + 0.25) if figure_2015 >= 6 else 0)
                self.set_quota(unit, category, ASSIGNED, figure_2023, date(2023, 1, 1), act_2023)
            kind = self.units[unit].kind
            if kind is UnitKind.OFFICE:
                self.set_quota(unit, CC, TEMPORARY, 1, date(2023, 1, 1), act_2023)
            if kind is UnitKind.PUBLIC_SERVICE_UNIT:
                self.set_quota(unit, VC, TEMPORARY, 2, date(2023, 1, 1), act_2023)

    # ================================================================== the dataset
    def central(self) -> None:
        """Bộ Tài chính and Bộ Kế hoạch và Đầu tư as they stood from 2015."""
        ministries = (
            ("BTC", "BTC", "Bộ Tài chính", MOF_DECREE_2013, True, [
                ("VNSNN", "Vụ Ngân sách nhà nước", UnitKind.DEPARTMENT, _department("Chuyên viên quản lý ngân sách", 10)),
                ("VCST", "Vụ Chính sách thuế", UnitKind.DEPARTMENT, _department("Chuyên viên chính sách thuế", 8)),
                ("VTCCB", "Vụ Tổ chức cán bộ", UnitKind.DEPARTMENT, _department("Chuyên viên tổ chức cán bộ", 7)),
                ("VP", "Văn phòng Bộ Tài chính", UnitKind.OFFICE, _office(9, 3)),
                ("TTR", "Thanh tra Bộ Tài chính", UnitKind.INSPECTORATE, _inspectorate(8)),
                ("QLN", "Cục Quản lý nợ và Tài chính đối ngoại", UnitKind.BUREAU, _bureau()),
            ], [("QLN", "P1", "Phòng Huy động vốn", _division("Chuyên viên quản lý nợ", 6)),
                ("QLN", "P2", "Phòng Quản lý rủi ro", _division("Chuyên viên phân tích rủi ro", 5))],
             ("HVTC", "Học viện Tài chính", FinancialAutonomy.SELF_FUNDED_RECURRENT, [
                 ("lead", "Giám đốc Học viện", LEAD, "Giảng viên cao cấp (hạng I)", VC, 1),
                 ("prof", "Giảng viên", PROF, "Giảng viên chính (hạng II)", VC, 12),
                 ("support", "Nhân viên phục vụ", SUPPORT, "Nhân viên", HD, 3)])),
            ("BKHDT", "BKHDT", "Bộ Kế hoạch và Đầu tư", MPI_DECREE_2008, False, [
                ("VTH", "Vụ Tổng hợp kinh tế quốc dân", UnitKind.DEPARTMENT, _department("Chuyên viên tổng hợp kinh tế", 8)),
                ("VKTDP", "Vụ Kinh tế địa phương và lãnh thổ", UnitKind.DEPARTMENT, _department("Chuyên viên kinh tế vùng", 7)),
                ("VTCCB", "Vụ Tổ chức cán bộ", UnitKind.DEPARTMENT, _department("Chuyên viên tổ chức cán bộ", 6)),
                ("VP", "Văn phòng Bộ Kế hoạch và Đầu tư", UnitKind.OFFICE, _office(8, 2)),
                ("TTR", "Thanh tra Bộ Kế hoạch và Đầu tư", UnitKind.INSPECTORATE, _inspectorate(6)),
                ("VKTDN", "Vụ Kinh tế đối ngoại", UnitKind.DEPARTMENT, _department("Chuyên viên kinh tế đối ngoại", 8)),
                ("DTNN", "Cục Đầu tư nước ngoài", UnitKind.BUREAU, _bureau()),
            ], [("DTNN", "P1", "Phòng Tổng hợp", _division("Chuyên viên đầu tư", 5)),
                ("DTNN", "P2", "Phòng Xúc tiến đầu tư", _division("Chuyên viên xúc tiến đầu tư", 5))],
             ("VCL", "Viện Chiến lược phát triển", FinancialAutonomy.PARTLY_BUDGET_FUNDED, [
                 ("lead", "Viện trưởng", LEAD, "Nghiên cứu viên cao cấp (hạng I)", VC, 1),
                 ("prof", "Nghiên cứu viên", PROF, "Nghiên cứu viên chính (hạng II)", VC, 10),
                 ("support", "Nhân viên hành chính", SUPPORT, "Nhân viên", HD, 2)])),
        )
        for region, code, name, decree, has_minister, children, divisions, psu in ministries:
            self.establish(region, code, name, UnitKind.MINISTRY, None, region, BASELINE, decree)
            for sub, sub_name, kind, _ in children:
                self.establish(f"{region}.{sub}", f"{code}-{sub}", sub_name, kind, region, region, BASELINE, decree)
            division_act = self.authority(region, date(2014, 10, 15))
            for parent, sub, sub_name, _ in divisions:
                self.establish(f"{region}.{parent}.{sub}", f"{code}-{parent}-{sub}", sub_name, UnitKind.DIVISION,
                               f"{region}.{parent}", region, BASELINE, division_act)
            psu_key, psu_name, autonomy, psu_slots = psu
            self.establish(f"{region}.{psu_key}", f"{code}-{psu_key}", psu_name, UnitKind.PUBLIC_SERVICE_UNIT,
                           region, region, BASELINE, decree, autonomy=autonomy)
            positions_act = self.authority(region, date(2014, 11, 20))
            recruit_act = self.authority(region, date(2014, 12, 20))
            leaders: list[Slot] = [("deputy", "Thứ trưởng", LEAD, "Chuyên viên cao cấp", CC, 3)]
            if has_minister:
                leaders.insert(0, ("lead", "Bộ trưởng", LEAD, "Chuyên viên cao cấp", CB, 1))
            self.staff(region, leaders, positions_act, recruit_act)
            for sub, _, _, slots in children:
                self.staff(f"{region}.{sub}", slots, positions_act, recruit_act)
            for parent, sub, _, slots in divisions:
                self.staff(f"{region}.{parent}.{sub}", slots, positions_act, recruit_act)
            self.staff(f"{region}.{psu_key}", psu_slots, positions_act, recruit_act)
            units = [k for k, u in self.units.items() if u.region == region]
            self.baseline_quota(units, self.authority(region, date(2014, 12, 26)),
                                self.authority(region, date(2022, 12, 15)))

    def local(self) -> None:
        """Hà Tuyên (1976) split into Hà Giang and Tuyên Quang (1991); their bodies from 2015."""
        self.establish("HT", "HTU", "Tỉnh Hà Tuyên", UnitKind.PROVINCE, None, "HT", date(1976, 1, 1), HA_TUYEN_1975)
        self.split("HT", [("HG", "02", "Tỉnh Hà Giang", UnitKind.PROVINCE, "HG"),
                          ("TQ", "08", "Tỉnh Tuyên Quang", UnitKind.PROVINCE, "TQ")],
                   date(1991, 10, 1), HA_TUYEN_SPLIT_1991)
        for region, code, short, districts in LOCAL:
            units_act = self.authority(region, date(2014, 12, 5))
            for sub, name, slots, autonomy in (
                ("SNV", f"Sở Nội vụ tỉnh {short}", _provincial_department("Chuyên viên quản lý tổ chức, biên chế", 7), None),
                ("STC", f"Sở Tài chính tỉnh {short}", _provincial_department("Chuyên viên quản lý ngân sách", 8), None),
                ("SKHDT", f"Sở Kế hoạch và Đầu tư tỉnh {short}", _provincial_department("Chuyên viên quản lý đầu tư", 6), None),
                ("BVDK", f"Bệnh viện Đa khoa tỉnh {short}", [
                    ("lead", "Giám đốc Bệnh viện", LEAD, "Bác sĩ cao cấp (hạng I)", VC, 1),
                    ("prof", "Bác sĩ", PROF, "Bác sĩ chính (hạng II)", VC, 6),
                    ("nurse", "Điều dưỡng", PROF, "Điều dưỡng hạng III", VC, 7),
                    ("support", "Nhân viên bảo vệ", SUPPORT, "Nhân viên", HD, 3)], FinancialAutonomy.PARTLY_BUDGET_FUNDED),
            ):
                kind = UnitKind.PUBLIC_SERVICE_UNIT if autonomy else UnitKind.PROVINCIAL_DEPARTMENT
                self.establish(f"{region}.{sub}", f"{code}-{sub}", name, kind, region, region, BASELINE, units_act,
                               autonomy=autonomy)
                self.staff(f"{region}.{sub}", slots, self.authority(region, date(2014, 12, 10)),
                           self.authority(region, date(2014, 12, 20)))
            self.staff(region, [("lead", "Chủ tịch UBND tỉnh", LEAD, "Chuyên viên cao cấp", CB, 1),
                                ("deputy", "Phó Chủ tịch UBND tỉnh", LEAD, "Chuyên viên cao cấp", CB, 2)],
                       self.authority(region, date(2014, 12, 10)), self.authority(region, date(2014, 12, 20)))
            for d_code, d_name, communes, _ in districts:
                d_key = f"{region}.{d_code}"
                self.establish(d_key, d_code, d_name, UnitKind.DISTRICT, region, region, BASELINE, units_act)
                level = "thành phố" if d_name.startswith("Thành phố") else "huyện"
                self.staff(d_key, _district(level), self.authority(region, date(2014, 12, 10), d_key),
                           self.authority(region, date(2014, 12, 20), d_key))
                for c_code, c_name, c_kind in communes:
                    c_key = f"{region}.{c_code}"
                    self.establish(c_key, c_code, c_name, c_kind, d_key, region, BASELINE, units_act)
                    self.staff(c_key, _commune("phường" if c_kind is UnitKind.WARD else "xã"),
                               self.authority(region, date(2014, 12, 10), d_key),
                               self.authority(region, date(2014, 12, 20), d_key))
            units = [k for k, u in self.units.items() if u.region == region]
            self.baseline_quota(units, self.authority(region, date(2014, 12, 26)),
                                self.authority(region, date(2022, 12, 15)))

    def careers(self) -> None:
        """Recruitments after 2020, transfers between units, retirements at 60 (women) / 62 (men)."""
        recruit_into = [k for k, p in self.positions.items()
                        if p.key.rsplit("/", 1)[1] in ("prof", "nurse") and self.units[p.unit].kind
                        not in (UnitKind.MINISTRY, UnitKind.PROVINCE)]
        for position_key in recruit_into:
            unit, slot = position_key.rsplit("/", 1)
            psu = self.units[unit].kind is UnitKind.PUBLIC_SERVICE_UNIT
            for _ in range(2 if psu else 1):
                if not psu and self.rng.random() < 0.45:
                    continue
                on = date(self.rng.randint(2021, 2024), self.rng.choice((3, 6, 9, 12)), 1)
                act = self.authority(self.units[unit].region, on - timedelta(days=self.rng.randint(10, 30)), unit)
                self.recruit(unit, slot, VC if psu else CC, on, act, False, (1990, 2000))
        # transfers (điều động) between departments of one ministry or provincial departments of one province
        groups = {"BTC": ["BTC.VNSNN", "BTC.VCST", "BTC.VTCCB", "BTC.TTR"],
                  "BKHDT": ["BKHDT.VTH", "BKHDT.VKTDP", "BKHDT.VKTDN", "BKHDT.TTR"],
                  "HG": ["HG.SNV", "HG.STC", "HG.SKHDT"], "TQ": ["TQ.SNV", "TQ.STC", "TQ.SKHDT"]}
        for region, units in groups.items():
            candidates = [p for p in self.people.values()
                          if p.unit in units and p.slot == "prof" and p.recruited_on == BASELINE]
            for person in self.rng.sample(candidates, 3):
                target = self.rng.choice([u for u in units if u != person.unit])
                on = date(self.rng.randint(2017, 2023), self.rng.choice((1, 4, 7, 10)), 1)
                self.transfer(person, target, f"{target}/prof", on,
                              self.authority(region, on - timedelta(days=20), target))
        for person in self.people.values():
            year = person.birth_date.year + RETIREMENT_AGE[person.gender]
            month = person.birth_date.month
            on = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)  # month after the birthday
            if on <= LAST_RETIREMENT:
                signed = on - timedelta(days=30)
                self.retire(person, on, self.authority(person.region, signed, person.unit))

    def central_reform(self) -> None:
        """01/03/2025: Bộ Kế hoạch và Đầu tư absorbed into Bộ Tài chính; departments consolidated."""
        self.merge(["BKHDT"], CENTRAL_REFORM, RESOLUTION_176, recorded(RESOLUTION_176.signed_on), into="BTC",
                   excess_until=EXCESS_CENTRAL_UNTIL)
        at = recorded(MOF_DECREE_2025.signed_on, days=4)
        for source, target in (("BKHDT.VTCCB", "BTC.VTCCB"), ("BKHDT.VP", "BTC.VP"), ("BKHDT.TTR", "BTC.TTR")):
            self.merge([source], CENTRAL_REFORM, MOF_DECREE_2025, at, into=target, excess_until=EXCESS_CENTRAL_UNTIL)
        self.merge(["BTC.QLN", "BKHDT.VKTDN"], CENTRAL_REFORM, MOF_DECREE_2025, at,
                   new=("BTC.QLNKTDN", "BTC-QLNKTDN", "Cục Quản lý nợ và Kinh tế đối ngoại", UnitKind.BUREAU, "BTC"),
                   excess_until=EXCESS_CENTRAL_UNTIL)
        # tinh giản under Decree 178/2024 (67/2025): two waves of decisions by Bộ Tài chính
        pool = [p for p in self.people.values() if p.region in ("BTC", "BKHDT") and p.left_on is None
                and p.slot not in ("lead", "deputy") and not p.transfers and p.recruited_on == BASELINE]
        early = self.rng.sample([p for p in pool if p.gender is Gender.MALE and p.birth_date.year <= 1969], 4)
        resign = self.rng.sample([p for p in pool if 1982 <= p.birth_date.year <= 1992], 4)
        for i, (person, policy) in enumerate([(p, DownsizingPolicy.EARLY_RETIREMENT) for p in early]
                                              + [(p, DownsizingPolicy.RESIGNATION) for p in resign]):
            on = date(2025, 4, 1) if i % 2 == 0 else date(2025, 6, 1)
            self.downsize(person, policy, on, self.authority("BTC", on - timedelta(days=17)))

    def local_reform(self) -> None:
        """2025: Sở KH&ĐT into Sở Tài chính (01/03); then, on 01/07, one province, no districts, fewer communes."""
        for region, _, _, _ in LOCAL:
            self.merge([f"{region}.SKHDT"], CENTRAL_REFORM, self.authority(region, date(2025, 2, 26)),
                       recorded(date(2025, 2, 26)), into=f"{region}.STC", excess_until=EXCESS_CENTRAL_UNTIL)
        # decisions of the old provinces (June 2025) to downsize staff whose posts go on 01/07
        for region, _, _, districts in LOCAL:
            act = self.authority(region, date(2025, 6, 25))
            for d_code, _, communes, _ in districts:
                d_key = f"{region}.{d_code}"
                deputy = next(p for p in self.people.values() if p.unit == d_key and p.slot == "deputy")
                if deputy.left_on is None and deputy.birth_date.year <= 1975:
                    self.downsize(deputy, DownsizingPolicy.EARLY_RETIREMENT, LOCAL_REFORM, act)
                last_cc = [p for p in self.people.values() if p.unit == d_key and p.slot == "prof2"
                           and p.left_on is None][-1]
                self.downsize(last_cc, DownsizingPolicy.RESIGNATION, LOCAL_REFORM, act)
                councils = [p for p in self.people.values() if p.slot in ("council", "deputy")
                            and p.unit in {f"{region}.{c}" for c, _, _ in communes} and p.left_on is None]
                oldest = min(councils, key=lambda p: (p.birth_date, p.key))
                self.downsize(oldest, DownsizingPolicy.EARLY_RETIREMENT if oldest.birth_date.year <= 1972
                              else DownsizingPolicy.RESIGNATION, LOCAL_REFORM, act)
        # Resolution 202/2025/QH15: Hà Giang + Tuyên Quang → Tuyên Quang (the name keeper listed last)
        self.merge(["HG", "TQ"], LOCAL_REFORM, RESOLUTION_202, recorded(RESOLUTION_202.signed_on, days=4),
                   new=("TQ25", "08", "Tỉnh Tuyên Quang", UnitKind.PROVINCE, None), excess_until=EXCESS_LOCAL_UNTIL)
        # Resolution 1684/NQ-UBTVQH15: communes consolidated 3 → 1, directly under the province
        for region, _, _, districts in LOCAL:
            for _, _, communes, (n_code, n_name, n_kind) in districts:
                self.merge([f"{region}.{c}" for c, _, _ in communes], LOCAL_REFORM, TUYEN_QUANG_COMMUNES_2025,
                           recorded(TUYEN_QUANG_COMMUNES_2025.signed_on),
                           new=(f"TQ25.{n_code}", n_code, n_name, n_kind, "TQ25"), excess_until=EXCESS_LOCAL_UNTIL)
        # the new province's departments: the two Sở of each sector consolidated
        sector_act = self.decision("UBND tỉnh Tuyên Quang", LOCAL_REFORM)
        for sub, name in (("SNV", "Sở Nội vụ tỉnh Tuyên Quang"), ("STC", "Sở Tài chính tỉnh Tuyên Quang")):
            self.merge([f"HG.{sub}", f"TQ.{sub}"], LOCAL_REFORM, sector_act, recorded(LOCAL_REFORM, days=1),
                       new=(f"TQ25.{sub}", f"08-{sub}", name, UnitKind.PROVINCIAL_DEPARTMENT, "TQ25"),
                       excess_until=EXCESS_LOCAL_UNTIL)
        # district staff re-homed (decision of the new province), then the empty districts end
        staff_act = self.decision("UBND tỉnh Tuyên Quang", LOCAL_REFORM)
        at = recorded(LOCAL_REFORM, days=2)
        for region, _, _, districts in LOCAL:
            for d_code, _, _, (n_code, _, n_kind) in districts:
                d_key, new_key = f"{region}.{d_code}", f"TQ25.{n_code}"
                economy = ("Phòng Kinh tế, Hạ tầng và Đô thị" if n_kind is UnitKind.WARD else "Phòng Kinh tế")
                lead = self.position(new_key, "econ_lead", f"Trưởng {economy[0].lower()}{economy[1:]}", LEAD,
                                     "Chuyên viên chính", LOCAL_REFORM, staff_act, at)
                econ = self.position(new_key, "econ", f"Chuyên viên {economy}", PROF, "Chuyên viên",
                                     LOCAL_REFORM, staff_act, at)
                culture = self.position(new_key, "culture", "Chuyên viên Phòng Văn hóa - Xã hội", PROF,
                                        "Chuyên viên", LOCAL_REFORM, staff_act, at)
                # the consolidated Sở hold the positions of both predecessors; use Tuyên Quang's
                destinations = [("TQ25.SNV", "TQ.SNV/prof"), (new_key, econ), (new_key, culture),
                                ("TQ25.STC", "TQ.STC/prof"), (new_key, econ)]
                staying = [p for p in self.people.values() if p.unit == d_key
                           and (p.left_on is None or p.left_on > LOCAL_REFORM)]
                for i, person in enumerate(staying):
                    if person.category is CB:  # elected district posts end: appointed civil servants now
                        self.transfer(person, new_key, lead if person.slot == "lead" else econ, LOCAL_REFORM,
                                      staff_act, at)
                        self.regrade(person, CC, "Chuyên viên chính" if person.slot == "lead" else "Chuyên viên",
                                     LOCAL_REFORM, staff_act, at)
                    else:
                        unit, position = destinations[i % len(destinations)]
                        self.transfer(person, unit, position, LOCAL_REFORM, staff_act, at)
                for category in (CB, CC):
                    self.move_quota(d_key, new_key, category, ASSIGNED, LOCAL_REFORM, staff_act, at)
                for key in [k for k, p in self.positions.items() if p.unit == d_key]:
                    self.abolish(key, LOCAL_REFORM, staff_act, recorded(LOCAL_REFORM, days=3))
                self.dissolve(d_key, LOCAL_REFORM, LOCAL_GOVERNMENT_LAW_2025, recorded(LOCAL_REFORM, days=3))

    def after_reform(self) -> None:
        """August 2025: new quota for the new communes (one figure mistyped, then retracted), a late entry."""
        signed = date(2025, 7, 25)
        act = self.decision("UBND tỉnh Tuyên Quang", signed)
        on = date(2025, 8, 1)
        new_communes = [f"TQ25.{n_code}" for _, _, _, districts in LOCAL for *_, (n_code, _, _) in districts]
        wrong_unit = "TQ25.00715"  # Xã Lũng Cú
        for unit in new_communes:
            cadres = min(self.quota.get((unit, CB, ASSIGNED), 0), 6)
            self.set_quota(unit, CB, ASSIGNED, cadres, on, act)
            previous = self.quota.get((unit, CC, ASSIGNED), 0)
            right = previous - max(1, previous // 10)
            if unit != wrong_unit:
                self.set_quota(unit, CC, ASSIGNED, right, on, act)
                continue
            entered_at, retracted_at = recorded(signed), datetime(2025, 8, 20, 9, 0, tzinfo=VN)
            corrected_at = retracted_at + timedelta(hours=2)
            wrong_key = self.set_quota(unit, CC, ASSIGNED, right * 10, on, act, entered_at)
            correction = self.decision("UBND tỉnh Tuyên Quang", date(2025, 8, 18), "UBND-NC")
            reason = f"Nhập sai số liệu: {right * 10} thay vì {right} biên chế công chức (lỗi đánh máy)"

            def retract(r: _Run, rk: str, wrong_key: str = wrong_key, reason: str = reason,
                        correction: LegalAct = correction) -> None:
                r.service.execute(RetractFact(fact_id=r.facts[wrong_key], reason=reason, act=correction), request_key=rk)

            self.add(retracted_at, f"retract:{wrong_key}", retract)
            self.set_quota(unit, CC, ASSIGNED, right, on, act, corrected_at, tag=":corrected")
            self.correction = QuotaCorrection(unit, CC, ASSIGNED, on, previous, right * 10, right, entered_at,
                                              retracted_at, corrected_at, wrong_key)
        # a transfer decided for 01/07 but entered only on 10/08
        person = next(p for p in self.people.values() if p.unit == "HG.SNV" and p.slot == "prof"
                      and not p.transfers and p.left_on is None)
        at = datetime(2025, 8, 10, 9, 0, tzinfo=VN)
        self.transfer(person, "TQ25.00691", "TQ25.00691/econ", LOCAL_REFORM,
                      self.decision("UBND tỉnh Tuyên Quang", LOCAL_REFORM), at)
        self.late_transfer = LateTransfer(person.key, "TQ25.SNV", "TQ25.00691", LOCAL_REFORM, at)

    def finish(self) -> DemoPlan:
        assert self.correction is not None and self.late_transfer is not None
        return DemoPlan(self.units, self.positions, self.people, self.steps, self.correction, self.late_transfer)


# region, code, short name, districts: (code, name, communes (code, name, kind), the 2025 commune (code, name, kind))
LOCAL = (
    ("HG", "02", "Hà Giang", (
        ("024", "Thành phố Hà Giang", (("00695", "Phường Minh Khai", UnitKind.WARD),
                                       ("00691", "Phường Trần Phú", UnitKind.WARD),
                                       ("00694", "Phường Nguyễn Trãi", UnitKind.WARD)),
         ("00691", "Phường Hà Giang 1", UnitKind.WARD)),
        ("026", "Huyện Đồng Văn", (("00718", "Xã Má Lé", UnitKind.COMMUNE),
                                   ("00721", "Xã Lũng Táo", UnitKind.COMMUNE),
                                   ("00715", "Xã Lũng Cú", UnitKind.COMMUNE)),
         ("00715", "Xã Lũng Cú", UnitKind.COMMUNE)),
    )),
    ("TQ", "08", "Tuyên Quang", (
        ("070", "Thành phố Tuyên Quang", (("02212", "Phường Phan Thiết", UnitKind.WARD),
                                          ("02213", "Phường Tân Quang", UnitKind.WARD),
                                          ("02215", "Phường Minh Xuân", UnitKind.WARD)),
         ("02215", "Phường Minh Xuân", UnitKind.WARD)),
        ("075", "Huyện Yên Sơn", (("02530", "Xã Tiến Bộ", UnitKind.COMMUNE),
                                  ("02533", "Xã Đội Bình", UnitKind.COMMUNE),
                                  ("02527", "Xã Thái Bình", UnitKind.COMMUNE)),
         ("02527", "Xã Thái Bình", UnitKind.COMMUNE)),
    )),
)


def build_plan() -> DemoPlan:
    """The whole demo as data; the same on every call (``random.Random(2025)``)."""
    builder = _Builder()
    builder.central()
    builder.local()
    builder.careers()
    builder.central_reform()
    builder.local_reform()
    builder.after_reform()
    return builder.finish()


# ================================================================== loading
def _log_position(service: StaffingService) -> int:
    return int(service.store.recorder.max_notification_id() or 0)


@contextmanager
def _projection_deferred(service: StaffingService, defer: bool) -> Iterator[None]:
    """Catch the read models up once at the end instead of after each of ~1,000 commands."""
    if not defer:
        yield
        return
    listeners = list(service.on_commit)
    service.on_commit.clear()
    try:
        yield
    finally:
        service.on_commit[:0] = listeners
        for listener in listeners:
            listener()


def load_demo(service: StaffingService, clock: DemoClock, *, defer_projection: bool = False,
              before: Callable[[], None] | None = None) -> DemoSummary:
    """Write the demo through ``service`` (whose clock must be ``clock``); harmless to repeat.

    ``defer_projection`` suspends the service's ``on_commit`` listeners while loading and runs them
    once at the end (faster; other writers of the same service are not caught up meanwhile).
    ``before`` runs with the clock pinned just before the demo's first recording moment (the load
    journal's start): anything recorded at today's moment first would push every historic recording
    moment of the demo to today (the log's recording moments never go back), and the known-at views
    would show nothing. The clock is released to real time afterwards.
    """
    plan = build_plan()
    started = time.perf_counter()
    before_position = _log_position(service)
    run = _Run(service)
    steps = plan.ordered_steps()
    with _projection_deferred(service, defer_projection):
        try:
            if before is not None and steps:
                clock.at(steps[0].at - timedelta(minutes=1))
                before()
            for step in steps:
                clock.at(step.at)
                try:
                    step.run(run, step.key)
                except Exception as error:
                    error.add_note(f"while loading the demo: step {step.key} recorded at {step.at.isoformat()}")
                    raise
        finally:
            clock.release()
    return DemoSummary(
        units=len(plan.units), people=len(plan.people), positions=len(plan.positions),
        events_written=_log_position(service) - before_position, tuyen_quang_id=run.ids["TQ25"],
        bo_tai_chinh_id=run.ids["BTC"], unit_ids={k: run.ids[k] for k in plan.units},
        person_ids={k: run.ids[k] for k in plan.people}, retracted_fact_id=run.facts[plan.correction.request_key],
        seconds=time.perf_counter() - started,
    )


def summary_lines(summary: DemoSummary) -> list[str]:
    """What the CLI prints after loading."""
    return [f"units: {summary.units}", f"people: {summary.people}", f"positions: {summary.positions}",
            f"events written: {summary.events_written}", f"Tỉnh Tuyên Quang (from 01/07/2025): {summary.tuyen_quang_id}",
            f"Bộ Tài chính: {summary.bo_tai_chinh_id}", f"loaded in {summary.seconds:.1f} s"]

