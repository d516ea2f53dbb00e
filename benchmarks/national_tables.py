"""National-size read-model tables in minutes, to measure the read design (issue 9).

The national history takes hours to import (RESULTS.md, section 1). The *read* design can be
measured without it: this writes rows of the national shape straight into the read-model tables
of a fresh data directory, then ``bench_queries`` runs on them as on an imported ledger:

    python -m benchmarks.national_tables --out /tmp/national-tables
    STAFFING_DATA_DIR=/tmp/national-tables python -m benchmarks.bench_queries --http

What it writes (seeded; ``--people`` scales the people, ``--provinces`` the map: fewer provinces
give proportionally fewer central bodies, kept provinces and new communes, for a smoke run):
- 63 provinces with ~20 departments each, ~880 public service units, ~11 districts and ~168
  communes; 30 central bodies with departments and divisions — ~60,000 units from 01/01/2015;
- the 2025 reform as the ledger records it: on 01/07/2025 districts and communes end, 3,321 new
  communes start under the 34 provinces, and 29 provinces end with their departments moved to the
  province that absorbs them (each move closes the unit's row and writes two, at a later log
  position);
- ~2.2 million people (named, with birth dates) as bitemporal person rows, recruited over ten
  years, some leaving, those of ended units moved to a successor on 01/07/2025;
- quota per unit, cut by a tenth in 2022;
- a ``facts`` row behind each change (who, which unit, when, under which act), as history,
  diffs and reform statistics read them (a third of the departures up to 2023 are downsizing
  cases: a measure of size, not the calibrated published figures, which come from the generator);
- ``unit_figures`` derived from the person and quota rows by the projector's own ``FigureBatch``,
  the national summary's roll-up derived from those by ``staffing.projections.rollup.backfill``,
  and one ``log_clock`` row per position.

Nothing is written to the event store: this measures queries, not the write side (the figures of
the write side come from the real import, section 1 of RESULTS.md). Each yearly step is recorded
at its own range of log positions, so "known at the log's middle" sees a country as of ~2020.
"""

from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert

from staffing.bootstrap import build
from staffing.config import Settings
from staffing.projections import rollup
from staffing.projections import tables as t
from staffing.projections.bulk import insert_rows
from staffing.projections.figures import FigureBatch, person_contribution, quota_contribution
from staffing.projections.tables import END_OF_TIME, OPEN_POSITION
from staffing.projections.text import fold

START = date(2015, 1, 1)
REFORM = date(2025, 7, 1)
CATEGORIES = ("CADRE", "CIVIL_SERVANT", "PUBLIC_EMPLOYEE", "CONTRACT_WORKER")


@dataclass
class _Unit:
    unit_id: str
    code: str
    name: str
    kind: str
    parent: str | None
    category: str
    size: int
    ends: bool = False  # ends on REFORM
    moved_to: str | None = None  # a new parent from REFORM (absorbed province's departments)
    successor: str | None = None  # where its people go on REFORM
    people: list[str] = field(default_factory=list)


class _Positions:
    """Log positions handed out in order, each with a recording moment (one second apart)."""

    def __init__(self) -> None:
        self.next = 1

    def take(self) -> int:
        p = self.next
        self.next += 1
        return p


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _country(rng: random.Random, scale: float, province_count: int = 63) -> list[_Unit]:
    """The old map (``province_count`` provinces, 30 central bodies at 63) and the reform's new map:
    34 of 63 provinces kept and 3,321 new communes, in the same proportions for a smaller map."""
    units: list[_Unit] = []
    ministries = max(1, round(30 * province_count / 63))
    kept = max(1, round(34 * province_count / 63))

    def add(code: str, name: str, kind: str, parent: str | None, category: str, size: int) -> _Unit:
        unit = _Unit(_uid(rng), code, name, kind, parent, category, max(1, int(size * scale)))
        units.append(unit)
        return unit

    for m in range(ministries):
        ministry = add(f"B{m:02d}", f"Bộ số {m}", "MINISTRY", None, "CIVIL_SERVANT", 60)
        for d in range(20):
            dept = add(f"B{m:02d}-V{d:02d}", f"Vụ {d} Bộ {m}", "DEPARTMENT", ministry.unit_id, "CIVIL_SERVANT", 40)
            for v in range(4):
                add(f"B{m:02d}-V{d:02d}-P{v}", f"Phòng {v} Vụ {d} Bộ {m}", "DIVISION", dept.unit_id,
                    "CIVIL_SERVANT", 12)
    provinces = []
    for p in range(province_count):
        province = add(f"T{p:02d}", f"Tỉnh số {p}", "PROVINCE", None, "CADRE", 30)
        province.ends = p >= kept
        provinces.append(province)
        for d in range(20):
            dept = add(f"T{p:02d}-S{d:02d}", f"Sở {d} tỉnh {p}", "PROVINCIAL_DEPARTMENT", province.unit_id,
                       "CIVIL_SERVANT", 45)
            for s in range(38):
                add(f"T{p:02d}-S{d:02d}-D{s:02d}", f"Đơn vị sự nghiệp {s} Sở {d} tỉnh {p}", "PUBLIC_SERVICE_UNIT",
                    dept.unit_id, "PUBLIC_EMPLOYEE", 26)
        for h in range(11):
            district = add(f"T{p:02d}-H{h:02d}", f"Huyện {h} tỉnh {p}", "DISTRICT", province.unit_id, "CIVIL_SERVANT", 60)
            district.ends = True
            for x in range(15):
                commune = add(f"T{p:02d}-H{h:02d}-X{x:02d}", f"Xã {x} huyện {h} tỉnh {p}", "COMMUNE",
                              district.unit_id, "CADRE", 21)
                commune.ends = True
    # the reform: absorbed provinces' departments move to the absorbing province; new communes
    keep = provinces[:kept]
    by_id = {u.unit_id: u for u in units}
    for u in list(units):
        parent = by_id.get(u.parent) if u.parent else None
        if parent is not None and parent.kind == "PROVINCE" and parent.ends and u.kind == "PROVINCIAL_DEPARTMENT":
            u.moved_to = keep[int(parent.code[1:]) % kept].unit_id
        if u.kind == "PROVINCE" and u.ends:
            u.successor = keep[int(u.code[1:]) % kept].unit_id
    new_communes: list[_Unit] = []
    for i in range(max(1, round(3321 * province_count / 63))):
        province = keep[i % kept]
        new_communes.append(_Unit(_uid(rng), f"{province.code}-N{i:04d}", f"Xã mới {i}", "COMMUNE", province.unit_id,
                                  "CADRE", 0))
    old = [u for u in units if u.kind in ("COMMUNE", "DISTRICT")]
    for i, u in enumerate(old):
        u.successor = new_communes[i % len(new_communes)].unit_id
    return units + new_communes


def _unit_row(u: _Unit, parent: str | None, valid_from: date, valid_to: date, rec_from: int,
              rec_to: int = OPEN_POSITION, status: str = "ACTIVE") -> dict[str, Any]:
    return {"unit_id": u.unit_id, "code": u.code, "name": u.name, "name_folded": fold(u.name), "kind": u.kind,
            "autonomy": None, "parent_id": parent, "status": status, "valid_from": valid_from, "valid_to": valid_to,
            "rec_from": rec_from, "rec_to": rec_to}


def _person_row(person: str, unit: str, category: str, status: str, valid_from: date, valid_to: date,
                rec_from: int, rec_to: int = OPEN_POSITION, cause: str = "RECRUITED") -> dict[str, Any]:
    return {"person_id": person, "unit_id": unit, "position_id": None, "category": category, "rank": "Chuyên viên",
            "status": status, "cause": cause, "fact_id": f"{person}:{rec_from}", "valid_from": valid_from,
            "valid_to": valid_to, "rec_from": rec_from, "rec_to": rec_to}


def fill(conn: Connection, people: int, seed: int, provinces: int = 63) -> dict[str, int]:
    """Write the national-shape rows into empty read-model tables; returns their counts."""
    rng = random.Random(seed)
    scale = people / 2_200_000 * 63 / provinces  # about ``people`` in all, on a map of any size
    units = _country(rng, scale, provinces)
    positions = _Positions()
    figures = FigureBatch(conn, fresh=True)
    unit_rows: list[dict[str, Any]] = []
    counts = {"units": len(units), "unit rows": 0, "person rows": 0, "quota rows": 0}
    # 2015: every unit of the old map, its quota, its people
    for u in units:
        if u.size == 0:
            continue
        p = positions.take()
        unit_rows.append(_unit_row(u, u.parent, START, END_OF_TIME, p))
    quota_rows = []
    for u in units:
        if u.size == 0:
            continue
        quota_rows.append((u, u.size + u.size // 10, positions.take()))
    # then ten years of facts, recorded in the order they arrive: most within three weeks of their
    # date, one in thirty months late (what a late fact costs the roll-ups is part of the measure)
    events: list[tuple[date, int, str, Any]] = []

    def arrives(on: date, kind: str, payload: Any) -> None:
        lag = rng.randrange(60, 400) if rng.random() < 1 / 30 else rng.randrange(0, 21)
        events.append((on + timedelta(days=lag), len(events), kind, payload))

    for u in units:
        for _ in range(u.size):
            person = _uid(rng)
            u.people.append(person)
            year = 2015 + min(int(rng.expovariate(0.6)), 9)
            on = date(year, 1 + rng.randrange(12), 1 + rng.randrange(28))
            arrives(on, "recruit", (person, u, on))
            if rng.random() < 0.12:
                gone = date(min(year + 1 + rng.randrange(6), 2025), 1 + rng.randrange(5), 1)
                arrives(gone, "leave", (person, gone))
    cut = date(2022, 1, 1)
    for q in quota_rows:
        arrives(cut, "cut", q)
    for u in units:
        if u.size == 0:
            arrives(REFORM, "new unit", u)
        elif u.ends or u.moved_to:
            arrives(REFORM, "reform", u)
    person_rows: list[dict[str, Any]] = []
    by_person: dict[str, dict[str, Any]] = {}
    first_rows = {r["unit_id"]: r for r in unit_rows}
    quota_out: list[dict[str, Any]] = []
    reformed: set[str] = set()
    facts: list[dict[str, Any]] = []
    base_us = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)

    def fact(position: int, type_: str, on: date, unit: str, other: str | None = None,
             person: str | None = None, data: dict[str, str] | None = None) -> None:
        """The fact behind a change, as history, act and diff queries read it."""
        facts.append({"position": position, "fact_id": f"f:{position}", "aggregate_id": person or unit, "type": type_,
                      "unit_id": unit, "other_unit_id": other, "person_id": person, "effective_on": on,
                      "recorded_us": base_us + position * 1000, "act_number": f"{position % 997}/QĐ-UBND",
                      "act_issuer": "UBND tỉnh", "act_signed_on": on - timedelta(days=10),
                      "data": orjson.dumps(data or {}).decode(),
                      "retracted_pos": None, "retraction_fact_id": None, "recorded_by": None})

    for _, _, kind, payload in sorted(events, key=lambda e: (e[0], e[1])):
        p = positions.take()
        if kind == "recruit":
            person, u, on = payload
            fact(p, "PersonRecruited", on, u.unit_id, u.successor if u.unit_id in reformed else None, person)
            if u.unit_id in reformed and u.successor is not None:
                # recorded after its unit ended: moved on to the successor, as the ledger derives it
                person_rows.append(_person_row(person, u.unit_id, u.category, "ACTIVE", on, REFORM, p))
                by_person[person] = _person_row(person, u.successor, u.category, "ACTIVE", REFORM, END_OF_TIME, p,
                                                cause="TRANSFERRED")
            else:
                by_person[person] = _person_row(person, u.unit_id, u.category, "ACTIVE", on, END_OF_TIME, p)
            person_rows.append(by_person[person])
        elif kind == "leave":  # the open row is closed and replaced by the stretch worked and a RETIRED row
            person, on = payload
            row = by_person.get(person)
            if row is None or row["status"] != "ACTIVE" or on <= row["valid_from"] or row["valid_to"] != END_OF_TIME:
                continue
            row["rec_to"] = p
            if on.year <= 2023 and rng.random() < 0.33:  # a downsizing case (Decree 108/2014, then 29/2023)
                fact(p, "PersonDownsized", on, row["unit_id"], person=person,
                     data={"policy": "EARLY_RETIREMENT", "decree": "108/2014/NĐ-CP" if on.year < 2023 else
                           "29/2023/NĐ-CP"})
            else:
                fact(p, "PersonRetired", on, row["unit_id"], person=person)
            worked = _person_row(person, row["unit_id"], row["category"], "ACTIVE", row["valid_from"], on, p)
            gone = _person_row(person, row["unit_id"], row["category"], "RETIRED", on, END_OF_TIME, p, cause="RETIRED")
            person_rows.extend((worked, gone))
            by_person[person] = gone
        elif kind == "cut":
            u, amount, p_set = payload
            fact(p, "QuotaSet", cut, u.unit_id)
            common = {"unit_id": u.unit_id, "category": u.category, "kind": "ASSIGNED", "reason": "ASSIGNED",
                      "fact_id": f"q:{u.unit_id}", "act_number": "01/2015/QĐ-TTg",
                      "act_issuer": "Thủ tướng Chính phủ", "act_signed_on": date(2014, 12, 1)}
            quota_out.append({**common, "amount": amount, "valid_from": START, "valid_to": END_OF_TIME,
                              "rec_from": p_set, "rec_to": p})
            quota_out.append({**common, "amount": amount, "valid_from": START, "valid_to": cut,
                              "rec_from": p, "rec_to": OPEN_POSITION})
            quota_out.append({**common, "amount": amount - amount // 10, "valid_from": cut, "valid_to": END_OF_TIME,
                              "rec_from": p, "rec_to": OPEN_POSITION})
        elif kind == "new unit":
            fact(p, "UnitEstablished", REFORM, payload.unit_id, payload.parent)
            unit_rows.append(_unit_row(payload, payload.parent, REFORM, END_OF_TIME, p))
        else:  # the reform of one unit: its row ends or moves, then its people go to the successor
            u = payload
            reformed.add(u.unit_id)
            fact(p, "UnitMoved" if u.moved_to else "UnitEnded", REFORM, u.unit_id, u.moved_to or u.successor)
            first_rows[u.unit_id]["rec_to"] = p
            unit_rows.append(_unit_row(u, u.parent, START, REFORM, p))
            if u.moved_to:
                unit_rows.append(_unit_row(u, u.moved_to, REFORM, END_OF_TIME, p))
            else:
                unit_rows.append(_unit_row(u, u.parent, REFORM, END_OF_TIME, p, status="ENDED"))
            if u.successor is None:
                continue
            for person in u.people:
                row = by_person.get(person)
                if row is None or row["status"] != "ACTIVE" or row["valid_from"] >= REFORM:
                    continue
                p = positions.take()
                row["rec_to"] = p
                fact(p, "PersonReorganised", REFORM, u.successor, u.unit_id, person)
                person_rows.append(_person_row(person, u.unit_id, row["category"], "ACTIVE", row["valid_from"],
                                               REFORM, p))
                moved = _person_row(person, u.successor, row["category"], "ACTIVE", REFORM, END_OF_TIME, p,
                                    cause="TRANSFERRED")
                person_rows.append(moved)
                by_person[person] = moved
    # figures, as the projector derives them: + at rec_from, - at rec_to
    for r in person_rows:
        found = person_contribution(r["status"], r["unit_id"], r["category"])
        if found is not None:
            _rectangle(figures, found[0], found[1], 1, r)
    for r in quota_out:
        q = quota_contribution(r["unit_id"], r["category"], r["kind"], r["amount"])
        if q is not None:
            _rectangle(figures, q[0], q[1], q[2], r)
    for start in range(0, len(unit_rows), 50_000):
        insert_rows(conn, t.unit_versions, unit_rows[start:start + 50_000])
    for start in range(0, len(person_rows), 50_000):
        insert_rows(conn, t.person_versions, person_rows[start:start + 50_000])
    insert_rows(conn, t.quota_versions, quota_out)
    names = [(family, middle, given) for family in ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi")
             for middle in ("Văn", "Thị", "Hữu", "Minh", "Thu") for given in ("An", "Bình", "Cường", "Dung", "Hà",
                                                                              "Hùng", "Lan", "Mai", "Nam", "Tú")]
    persons = []
    for person, row in by_person.items():
        name = " ".join(rng.choice(names))
        persons.append({"person_id": person, "full_name": name, "name_folded": fold(name),
                        "birth_date": date(1965 + rng.randrange(36), 1 + rng.randrange(12), 1 + rng.randrange(28)),
                        "gender": rng.choice(("MALE", "FEMALE")), "rec_from": row["rec_from"]})
    for start in range(0, len(persons), 50_000):
        insert_rows(conn, t.persons, persons[start:start + 50_000])
    figures.flush()
    rollup.backfill(conn)  # the national summary's roll-up, derived from the unit and figure rows
    for start in range(0, len(facts), 50_000):
        insert_rows(conn, t.facts, facts[start:start + 50_000])
    last = positions.next - 1
    clock = [{"position": p, "recorded_us": base_us + p * 1000} for p in range(1, last + 1)]
    for start in range(0, len(clock), 200_000):
        insert_rows(conn, t.log_clock, clock[start:start + 200_000])
    conn.execute(delete(t.tracking))
    conn.execute(insert(t.tracking).values(name="ledger", position=last, recorded_us=base_us + last * 1000))
    counts.update({"unit rows": len(unit_rows), "person rows": len(person_rows), "quota rows": len(quota_out),
                   "facts": len(facts),
                   "log positions": last})
    return counts


def _rectangle(figures: FigureBatch, unit: str, column: int, amount: int, r: dict[str, Any]) -> None:
    figures.contribute(unit, column, amount, r["valid_from"], r["valid_to"], r["rec_from"])
    if r["rec_to"] != OPEN_POSITION:
        figures.contribute(unit, column, -amount, r["valid_from"], r["valid_to"], r["rec_to"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="a new data directory")
    parser.add_argument("--people", type=int, default=2_200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--provinces", type=int, default=63, choices=range(1, 64), metavar="1..63",
                        help="a smaller map in the national proportions (a smoke run)")
    args = parser.parse_args(argv)
    os.environ["STAFFING_DATA_DIR"] = str(args.out)
    settings = Settings.from_env()
    ledger = build(settings, inline_projection=False)
    t0 = time.perf_counter()
    with ledger.engines.write.begin() as conn:
        counts = fill(conn, args.people, args.seed, args.provinces)
    print(", ".join(f"{n:,} {name}" for name, n in counts.items()) + f" in {time.perf_counter() - t0:,.0f} s", flush=True)
    ledger.close()


if __name__ == "__main__":
    main()
