"""A synthetic but realistic history, written as a file of commands for the import path.

``python -m staffing generate --scale province --seed N`` writes JSON Lines (the import format) and
imports them through the same handlers and rules as the API. Same seed, same file.

What the history holds, from 2015 (DOMAIN.md):

- the Ministry of Planning and Investment and the Ministry of Finance with their departments, and
  provinces (at province scale: Hà Giang and Tuyên Quang, the pair merged in 2025) with provincial
  departments, public service units, districts and communes; job positions in every unit;
- people recruited into them, yearly quota acts (31/12 for the next year), and every year
  retirements, downsizing under the decree in force, transfers and recruitments to replace leavers;
  public service units merged over 2017–2021 (the −13% of 2015–2021);
- the 2025 restructuring from the real tables in ``../shared/data``: the ministry absorbed on
  01/03/2025; on 01/07/2025 the provinces consolidated, districts abolished (absorbed into the
  province, their communes re-homed) and communes consolidated three into one, each successor
  allowed to exceed its quota for five years;
- records that arrive late (recruitments dated 2024 into communes that no longer exist, retirements
  dated before the reform of people it moved) and corrections (a recruitment entered in error,
  then retracted) — written after the reform, as they would arrive.

Calibrated (issue 9) so that the published figures come out of the ledger at national scale, and
their share at smaller scales (by the sector's people): exactly 84,140 people downsized from 2015
to 15/12/2023, 5,740 of them central (``DOWNSIZED``); 7,449 public service units merged away from
2015 to 2021 (``PSUS_REMOVED``); sizes from DOMAIN.md "Scale" (``SCALES["national"]``).
"""

from __future__ import annotations

import csv
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

from staffing.domain.ids import sequenced

__all__ = ["SCALES", "Scale", "expected_figures", "generate"]

#: the real 2025 tables, beside the checkout (``../shared/data``)
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REFORM_CENTRAL, REFORM_LOCAL = date(2025, 3, 1), date(2025, 7, 1)
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Lò", "Hà", "Nông", "Vàng"]
MIDDLE = {"MALE": ["Văn", "Đức", "Minh", "Quốc"], "FEMALE": ["Thị", "Thu", "Ngọc", "Thanh"]}
GIVEN = {"MALE": ["An", "Bình", "Cường", "Dũng", "Hùng", "Khánh", "Long", "Nam", "Sơn", "Tuấn"],
         "FEMALE": ["Anh", "Dung", "Hà", "Hoa", "Lan", "Mai", "Ngân", "Phương", "Thảo", "Yến"]}
WORDS = ["Minh", "Thanh", "Tân", "Phúc", "Hòa", "Bình", "Xuân", "Đồng", "Yên", "Kim", "Hưng", "Lâm", "Sơn", "Trung"]


@dataclass(frozen=True)
class Scale:
    provinces: int  # the first ``provinces`` predecessors listed in provinces-2025.csv
    districts: int  # per province
    communes: int  # per district
    departments: int  # provincial departments (sở) per province
    service_units: int  # public service units per province
    bureaus: int  # departments (vụ, cục) per ministry
    staff: int  # people per unit at the start (communes, districts, provincial departments)
    psu_staff: int  # people per public service unit at the start
    central_staff: int  # people per ministry department at the start
    all_ministries: bool = False  # every ministry of the 2025 table and unchanged bodies up to 30; else the first pair

    def central_people(self) -> int:
        return len(_ministries(self)[1]) * self.bureaus * self.central_staff

    def local_people(self) -> int:
        per_province = (self.departments + self.districts + self.districts * self.communes) * self.staff
        return self.provinces * (per_province + self.service_units * self.psu_staff)


SCALES = {
    "tiny": Scale(provinces=2, districts=2, communes=3, departments=2, service_units=3, bureaus=2, staff=4,
                  psu_staff=6, central_staff=4),
    "province": Scale(provinces=2, districts=9, communes=16, departments=12, service_units=60, bureaus=10, staff=15,
                      psu_staff=22, central_staff=40),
    # DOMAIN.md "Scale": ~55.9k public service units in 2015 (887 per province) with ~1.7 M public
    # employees (30 each); ~10.4k communes of 20 cadres and civil servants (~208k); ~30 central
    # bodies with ~105k civil servants (30 departments of 120); about 2.0 M people in all
    "national": Scale(provinces=63, districts=11, communes=15, departments=18, service_units=887, bureaus=30,
                      staff=20, psu_staff=30, central_staff=120, all_ministries=True),
}

#: DOMAIN.md "Figures to calibrate against", at national scale: people downsized per year (central,
#: local). 2015–15/12/2023: 84,140 (central 5,740); 2023 alone 7,151 (central 146). 2015–2022 share
#: the rest evenly; 2024, not published, repeats 2023.
DOWNSIZED = {**{year: (699 + (year < 2017), 8924 + (year < 2018)) for year in range(2015, 2023)},
             2023: (146, 7005), 2024: (146, 7005)}
#: public service units 2015 -> 2021: -7,449 (-13.3%), merged away over 2017–2021
PSUS_REMOVED = 7449
NATIONAL = "national"


@dataclass
class _Person:
    id: str
    unit: str
    active: bool = True
    last_fact: date = date(2015, 1, 1)


@dataclass
class _Unit:
    id: str
    code: str
    name: str
    kind: str
    parent: str | None
    staff: list[str] = field(default_factory=list)
    alive: bool = True


class _History:
    """Keeps just enough state to write only valid commands, and writes them in recording order."""

    def __init__(self, rng: random.Random, scale: Scale, seed: int = 0) -> None:
        self.rng, self.scale = rng, scale
        # ids minted in order (staffing.domain.ids): a seed's own range of leading bits, then a count
        self.minted = int.from_bytes(hashlib.sha256(f"ids:{seed}".encode()).digest()[:5], "big") << 7
        self.lines: list[bytes] = []
        self.counts: dict[str, int] = {}
        self.units: dict[str, _Unit] = {}
        self.by_kind: dict[str, list[_Unit]] = {}  # every unit ever, by kind (dead ones filtered when read)
        self.children: dict[str, list[_Unit]] = {}  # by parent id, as last set
        self.people: dict[str, _Person] = {}
        self.acts = 0

    def drain(self) -> Iterator[bytes]:
        """Hand over the lines written so far (the history streams: memory stays bounded at national size)."""
        lines, self.lines = self.lines, []
        yield from lines

    # ------------------------------------------------------------------ plumbing
    def new_id(self) -> str:
        """An id that sorts after every id minted before it, as a client loading in bulk should mint
        them (``staffing.domain.ids``: the store's index then grows at its edge); the same random draw
        as ever, so a seed's history is otherwise unchanged."""
        self.minted += 1
        return str(sequenced(self.minted, self.rng.getrandbits(128)))

    def act(self, issuer: str, signed: date) -> dict[str, str]:
        self.acts += 1
        return {"number": f"{self.acts}/QĐ", "issuer": issuer, "signedOn": signed.isoformat()}

    def emit(self, command: str, on: date, issuer: str, dated: bool = True, **body: Any) -> None:
        body = {k: v for k, v in body.items() if v is not None}
        data = {**body, "act": self.act(issuer, on - timedelta(days=15))}
        if dated:
            data["effectiveOn"] = on.isoformat()
        self.lines.append(orjson.dumps({"command": command, "input": data}))
        self.counts[command] = self.counts.get(command, 0) + 1

    def name(self) -> tuple[str, str]:
        gender = self.rng.choice(["MALE", "FEMALE"])
        return f"{self.rng.choice(FAMILY)} {self.rng.choice(MIDDLE[gender])} {self.rng.choice(GIVEN[gender])}", gender

    # ------------------------------------------------------------------ building blocks
    def unit(self, code: str, name: str, kind: str, parent: str | None, on: date, issuer: str) -> _Unit:
        unit = self._add(_Unit(self.new_id(), code, name, kind, parent))
        self.emit("establishUnit", on, issuer, id=unit.id, code=code, name=name, kind=kind, parentId=parent,
                  autonomy="PARTLY_BUDGET_FUNDED" if kind == "PUBLIC_SERVICE_UNIT" else None)
        return unit

    def _add(self, unit: _Unit) -> _Unit:
        self.units[unit.id] = unit
        self.by_kind.setdefault(unit.kind, []).append(unit)
        if unit.parent is not None:
            self.children.setdefault(unit.parent, []).append(unit)
        return unit

    def top(self, unit_id: str) -> str:
        """The top-level unit above ``unit_id`` as the tree stands now."""
        unit = self.units[unit_id]
        while unit.parent is not None:
            unit = self.units[unit.parent]
        return unit.id

    def peer(self, unit: _Unit) -> _Unit | None:
        """Another living unit of the same kind, drawn at random (a few draws; None if none found)."""
        pool = self.by_kind.get(unit.kind, [])
        for _ in range(8):
            other = self.rng.choice(pool)
            if other.alive and other.id != unit.id:
                return other
        return None

    def category(self, unit: _Unit) -> str:
        return "PUBLIC_EMPLOYEE" if unit.kind == "PUBLIC_SERVICE_UNIT" else "CIVIL_SERVANT"

    def recruit(self, unit: _Unit, on: date, issuer: str) -> _Person:
        person = _Person(self.new_id(), unit.id, last_fact=on)
        full_name, gender = self.name()
        born = date(on.year - self.rng.randint(23, 52), self.rng.randint(1, 12), self.rng.randint(1, 28))
        self.emit("recruitPerson", on, issuer, id=person.id, fullName=full_name, birthDate=born.isoformat(),
                  gender=gender, category=self.category(unit), unitId=unit.id)
        self.people[person.id] = person
        unit.staff.append(person.id)
        return person

    def staff(self, unit: _Unit, n: int, on: date, issuer: str) -> None:
        self.emit("createPosition", on, issuer, unitId=unit.id, title=f"Chuyên viên {unit.name}",
                  group="SECTOR_PROFESSIONAL", rank="Chuyên viên")
        for _ in range(n):
            self.recruit(unit, on, issuer)

    def leave(self, person: _Person, on: date, issuer: str, downsize: bool) -> None:
        if downsize:
            self.emit("downsizePerson", on, issuer, personId=person.id,
                      policy=self.rng.choice(["EARLY_RETIREMENT", "RESIGNATION"]),
                      monthlySalary=self.rng.randint(6, 18) * 1_000_000, insuredYears=self.rng.randint(5, 30))
        else:
            self.emit("retirePerson", on, issuer, personId=person.id)
        person.active, person.last_fact = False, on
        self.units[person.unit].staff.remove(person.id)

    def rename(self, unit: _Unit, name: str, on: date, issuer: str) -> None:
        self.emit("renameUnit", on, issuer, unitId=unit.id, name=name)
        unit.name = name

    def move(self, person: _Person, target: _Unit, on: date, issuer: str) -> None:
        self.emit("transferPerson", on, issuer, personId=person.id, toUnitId=target.id)
        self.units[person.unit].staff.remove(person.id)
        target.staff.append(person.id)
        person.unit, person.last_fact = target.id, on

    def merge(self, sources: list[_Unit], on: date, issuer: str, into: _Unit | None = None,
              new: tuple[str, str, str, str | None] | None = None, excess: date | None = None) -> _Unit:
        target = into
        if new is not None:
            code, name, kind, parent = new
            target = self._add(_Unit(self.new_id(), code, name, kind, parent))
        assert target is not None
        self.emit("mergeUnits", on, issuer, sourceUnitIds=[s.id for s in sources],
                  intoUnitId=into.id if into else None,
                  newUnit={"id": target.id, "code": code, "name": name, "kind": kind, "parentId": parent}
                  if new is not None else None, excessAllowedUntil=excess.isoformat() if excess else None)
        for source in sources:
            source.alive = False
            for person_id in source.staff:
                self.people[person_id].unit = target.id
            target.staff.extend(source.staff)
            source.staff = []
            for unit in self.children.pop(source.id, []):
                if unit.alive and unit.parent == source.id:
                    unit.parent = target.id
                    self.children.setdefault(target.id, []).append(unit)
        return target

    def alive(self, *kinds: str) -> list[_Unit]:
        return [u for kind in kinds for u in self.by_kind.get(kind, []) if u.alive]


def _provinces(scale: Scale) -> list[tuple[str, list[str]]]:
    """(the 2025 province, its predecessors) from the real table, for the first ``scale.provinces``
    predecessors (at province scale: Tuyên Quang from Hà Giang and Tuyên Quang)."""
    with (DATA / "provinces-2025.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out: list[tuple[str, list[str]]] = []
    taken = 0
    for row in rows:
        if taken >= scale.provinces:
            break
        predecessors = row["predecessors"].split(";")[: scale.provinces - taken]
        out.append((row["new_province"], predecessors))
        taken += len(predecessors)
    return out


def _ministries(scale: Scale) -> tuple[list[dict[str, str]], list[str]]:
    """(the 2025 ministry table's rows used, every central body before 2025) — all rows and bodies
    unchanged up to 30 at national scale, else the first row's pair."""
    with (DATA / "ministries-2025.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not scale.all_ministries:
        rows = rows[:1]
    names = [name for row in rows for name in row["predecessors"].split(";")]
    if scale.all_ministries:
        names += [f"Cơ quan trung ương {i + 1}" for i in range(30 - len(names))]
    return rows, names


def _share(total: int, parts: int, index: int) -> int:
    """``total`` split into ``parts`` whole shares as evenly as possible; share number ``index``."""
    return total // parts + (index < total % parts)


def history(scale: Scale, seed: int) -> Iterator[bytes]:
    """The command lines of the whole history, in recording order."""
    h = _History(random.Random(seed), scale, seed)
    start, government = date(2015, 1, 1), "Thủ tướng Chính phủ"
    ministry_rows, ministries = _ministries(scale)
    central = [h.unit(f"B{i:02d}", name, "MINISTRY", None, start, government) for i, name in enumerate(ministries)]
    for m in central:
        for b in range(scale.bureaus):
            bureau = h.unit(f"{m.code}-V{b:02d}", f"Vụ {b + 1} {m.name}", "DEPARTMENT", m.id, start, government)
            h.staff(bureau, scale.central_staff, start, m.name)
    yield from h.drain()
    reform = _provinces(scale)
    names = [name for _, predecessors in reform for name in predecessors]
    national = SCALES[NATIONAL]
    #: this scale's share of the national figures, per sector (True: central)
    factors = {True: scale.central_people() / national.central_people(),
               False: scale.local_people() / national.local_people()}
    psus_removed = round(PSUS_REMOVED * scale.provinces * scale.service_units
                         / (national.provinces * national.service_units))
    provinces = []
    for p, name in enumerate(names):
        issuer = f"UBND tỉnh {name}"
        province = h.unit(f"P{p:02d}", f"Tỉnh {name}", "PROVINCE", None, start, government)
        provinces.append(province)
        for d in range(scale.departments):
            dept = h.unit(f"{province.code}-S{d:02d}", f"Sở {d + 1} tỉnh {name}", "PROVINCIAL_DEPARTMENT",
                          province.id, start, issuer)
            h.staff(dept, scale.staff, start, issuer)
        for s in range(scale.service_units):
            psu = h.unit(f"{province.code}-DV{s:03d}", f"Trường {s + 1} tỉnh {name}", "PUBLIC_SERVICE_UNIT",
                         province.id, start, issuer)
            h.staff(psu, scale.psu_staff, start, issuer)
        for d in range(scale.districts):
            district = h.unit(f"{province.code}-H{d:02d}", f"Huyện {h.rng.choice(WORDS)} {d + 1} ({name})",
                              "DISTRICT", province.id, start, issuer)
            h.staff(district, scale.staff, start, issuer)
            for c in range(scale.communes):
                words = h.rng.sample(WORDS, 2)
                commune = h.unit(f"{district.code}-X{c:02d}", f"Xã {words[0]} {words[1]} {c + 1}", "COMMUNE",
                                 district.id, start, issuer)
                h.staff(commune, scale.staff, start, issuer)
        yield from h.drain()
    # ------------------------------------------------------------------ 2015-2024: the yearly flow
    for year in range(2015, 2025):
        quota_day = date(year, 1, 1)
        for unit in list(h.units.values()):
            if unit.alive and unit.kind not in ("MINISTRY", "PROVINCE"):
                h.emit("assignQuota", quota_day, "UBND tỉnh / Bộ", unitId=unit.id, category=h.category(unit),
                       kind="ASSIGNED", amount=len(unit.staff) + h.rng.randint(-1, 2) if unit.staff else 1)
        active = sorted((p for p in h.people.values() if p.active), key=lambda p: p.id)
        for person in h.rng.sample(active, len(active) * 5 // 100):  # retirements and transfers
            on = date(year, h.rng.randint(2, 12), h.rng.randint(1, 28))
            if on <= person.last_fact or not person.active:
                continue
            if h.rng.random() < 0.45:
                h.leave(person, on, "Sở Nội vụ", downsize=False)
            else:
                peer = h.peer(h.units[person.unit])
                if peer is not None:
                    h.move(person, peer, on, "Sở Nội vụ")
        central_ids = {u.id for u in central}
        in_central = {uid: h.top(uid) in central_ids for uid, u in h.units.items() if u.alive}
        for is_central, published in zip((True, False), DOWNSIZED[year], strict=True):
            wanted = round(published * factors[is_central])
            pool = [p for p in active if p.active and in_central[p.unit] == is_central]
            done = 0
            for person in h.rng.sample(pool, len(pool)):  # the calibrated number, exactly, dated before 15/12
                if done == wanted:
                    break
                on = date(year, h.rng.randint(2, 11), h.rng.randint(1, 28))
                if on > person.last_fact:
                    h.leave(person, on, "Sở Nội vụ", downsize=True)
                    done += 1
        for unit in list(h.units.values()):
            if unit.alive and unit.kind not in ("MINISTRY", "PROVINCE") and h.rng.random() < 0.35:
                h.recruit(unit, date(year, h.rng.randint(3, 11), h.rng.randint(1, 28)), "Sở Nội vụ")
        if 2017 <= year <= 2021:  # public service units merged: -7,449 (-13.3%) from 2015 to 2021
            this_year = _share(psus_removed, 5, year - 2017)
            for p, province in enumerate(provinces):
                psus = [u for u in h.children.get(province.id, []) if u.alive and u.kind == "PUBLIC_SERVICE_UNIT"]
                for _ in range(min(_share(this_year, len(provinces), p), len(psus) - 1)):
                    merged_psu, receiving_psu = h.rng.sample(psus, 2)
                    psus.remove(merged_psu)
                    h.merge([merged_psu], date(year, 12, 31), f"UBND {province.name}", into=receiving_psu)
        yield from h.drain()
    # ------------------------------------------------------------------ 2025: the restructuring
    by_ministry = {m.name: m for m in central}
    for r, row in enumerate(ministry_rows):  # 01/03/2025, from the real table
        sources = [by_ministry[name] for name in row["predecessors"].split(";")]
        receiving = by_ministry.get(row["successor"])
        if len(sources) == 1 and receiving is None:  # one body reorganised under a new name (Ủy ban Dân tộc
            h.rename(sources[0], row["successor"], REFORM_CENTRAL, "Quốc hội")  # -> Bộ Dân tộc và Tôn giáo):
            continue  # not a consolidation, which needs two units
        if row["change"] == "absorb" and receiving is not None:
            h.merge([m for m in sources if m is not receiving], REFORM_CENTRAL, "Quốc hội", into=receiving,
                    excess=date(2030, 3, 1))
        else:
            h.merge(sources, REFORM_CENTRAL, "Quốc hội", excess=date(2030, 3, 1),
                    new=(f"BN{r:02d}", row["successor"], "MINISTRY", None))
    old_communes = [u for u in h.alive("COMMUNE")]
    by_name = {p.name: p for p in provinces}
    successors = []
    for n, (new_name, predecessors) in enumerate(reform):
        sources = [by_name[f"Tỉnh {name}"] for name in predecessors]
        if len(sources) == 1:  # unchanged (11 provinces kept their territory)
            successors.append(sources[0])
            continue
        successors.append(h.merge(sources, REFORM_LOCAL, "Quốc hội", excess=date(2030, 7, 1),
                                  new=(f"N{n:02d}", f"Tỉnh {new_name}", "PROVINCE", None)))
    for district in h.alive("DISTRICT"):  # districts abolished: their communes come under the province
        h.merge([district], REFORM_LOCAL, "Quốc hội", into=h.units[district.parent or ""])
    for province in successors:
        communes = [u for u in h.children.get(province.id, []) if u.alive and u.kind == "COMMUNE"]
        for i in range(0, len(communes) - 2, 3):
            words = h.rng.sample(WORDS, 2)
            h.merge(communes[i:i + 3], REFORM_LOCAL, "UBTVQH", excess=date(2030, 7, 1),
                    new=(f"{province.code}-X{i // 3:04d}", f"Xã {words[0]} {words[1]}", "COMMUNE", province.id))
    # ------------------------------------------------------------------ late records and corrections
    for commune in h.rng.sample(old_communes, min(5, len(old_communes))):
        h.recruit(commune, date(2024, 6, 1), "UBND xã")  # recorded after the reform, dated before it
    moved = [p for p in h.people.values() if p.active and p.last_fact < date(2024, 11, 1)]
    for person in h.rng.sample(moved, min(5, len(moved))):
        h.leave(person, date(2024, 12, 1), "Sở Nội vụ", downsize=False)
    for _ in range(3):
        wrong = h.recruit(h.rng.choice(h.alive("COMMUNE")), date(2025, 8, 1), "UBND xã")
        h.emit("retractFact", date(2025, 8, 20), "UBND xã", dated=False, factId=f"{wrong.id}:1",
               reason="nhập nhầm hồ sơ")
    yield from h.drain()


def expected_figures(scale: Scale) -> dict[str, Any]:
    """The published figures at this scale, as the history is calibrated to produce them: people
    downsized from 2015 to 15/12/2023 (central, local) and public service units merged away 2015–2021."""
    national = SCALES[NATIONAL]
    central = scale.central_people() / national.central_people()
    local = scale.local_people() / national.local_people()
    years = [DOWNSIZED[year] for year in range(2015, 2024)]
    return {"downsized_2015_2023": (sum(round(c * central) for c, _ in years), sum(round(lo * local) for _, lo in years)),
            "psus_removed_2015_2021": round(PSUS_REMOVED * scale.provinces * scale.service_units
                                            / (national.provinces * national.service_units))}


def generate(path: Path, scale: Scale, seed: int) -> dict[str, int]:
    """Write the history to ``path``; returns how many lines of each command it holds."""
    counts: dict[str, int] = {}
    with path.open("wb") as handle:
        for line in history(scale, seed):
            handle.write(line + b"\n")
            command = orjson.loads(line)["command"]
            counts[command] = counts.get(command, 0) + 1
    return counts
