"""Import benchmark: batched JSON Lines import vs. one transaction per command.

What is measured, in one run on one machine, for each backend (SQLite, PostgreSQL):
- the throughput of ``staffing.application.importer.import_lines`` (stop at the first error,
  projection deferred) importing one synthetic, deterministic command file into a fresh store, with
  its default batch of 500 commands per transaction ("batched") and with a batch of 1 ("one
  transaction per command", the baseline a client calling the API line by line would pay);
- the ratio batched / baseline, which is the figure to compare between runs;
- the deferred projection catch-up after each import, timed separately.

Why: the import promises that a large file never pays one transaction per line. Absolute rates
depend on the machine and on what else runs on it; both variants run in the same process, one
after the other, so only the ratios are meaningful.

The file holds what a province-wide import would: provinces and their communes (client-chosen ids so
later lines refer to earlier ones), a quota per commune, positions, recruitments, then transfers and
retirements, then one consolidation (hợp nhất) of two communes per province effective 2025-07-01.

Usage: python -m benchmarks.bench_import [--provinces 4 --communes 25 --people 10 --positions 3]
       [--backends sqlite,postgres] [--out benchmarks/results-import.md]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg

from staffing.application.importer import BATCH, ImportMode, import_lines, read_lines
from staffing.bootstrap import build
from staffing.config import Settings

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgres")
LABELS = {"sqlite": "SQLite (embedded default)", "postgres": "PostgreSQL 127.0.0.1:5432"}
MERGED_ON = date(2025, 7, 1)

FAMILY_NAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
                "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE_NAMES = {"MALE": ["Văn", "Hữu", "Đức", "Minh", "Quang", "Thành"],
                "FEMALE": ["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mai"]}
GIVEN_NAMES = {"MALE": ["An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phúc", "Quân",
                        "Sơn", "Thắng", "Tuấn", "Việt"],
               "FEMALE": ["Anh", "Châu", "Dung", "Giang", "Hà", "Hạnh", "Hương", "Lan", "Linh", "Nga", "Oanh",
                          "Phương", "Thảo", "Trang", "Yến"]}
PROVINCE_NAMES = ["Tuyên Quang", "Hà Giang", "Lào Cai", "Yên Bái", "Thái Nguyên", "Bắc Kạn", "Lạng Sơn",
                  "Cao Bằng", "Phú Thọ", "Vĩnh Phúc", "Hòa Bình", "Sơn La", "Điện Biên", "Lai Châu"]
COMMUNE_WORDS = ["Minh", "Thanh", "Tân", "Phúc", "Hòa", "Bình", "Xuân", "Đồng", "Yên", "Kim", "Hưng", "Lâm",
                 "Sơn", "Thủy", "Trung", "Vĩnh"]
POSITION_TITLES = ["Công chức Văn phòng - Thống kê", "Công chức Tài chính - Kế toán", "Công chức Tư pháp - Hộ tịch",
                   "Công chức Địa chính - Xây dựng", "Công chức Văn hóa - Xã hội"]


# ---------------------------------------------------------------------- the command file
@dataclass(frozen=True)
class Sizes:
    provinces: int
    communes: int
    people: int
    positions: int


class _Writer:
    """Writes one ``{"command", "input"}`` line per call and counts them by command."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.counts: dict[str, int] = {}

    def __call__(self, command: str, payload: dict[str, Any]) -> None:
        self.handle.write(orjson.dumps({"command": command, "input": payload}) + b"\n")
        self.counts[command] = self.counts.get(command, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _act(number: str, issuer: str, signed_on: date) -> dict[str, str]:
    return {"number": number, "issuer": issuer, "signedOn": signed_on.isoformat()}


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days))


def _full_name(rng: random.Random, gender: str) -> str:
    return f"{rng.choice(FAMILY_NAMES)} {rng.choice(MIDDLE_NAMES[gender])} {rng.choice(GIVEN_NAMES[gender])}"


def write_commands(path: Path, sizes: Sizes, seed: int = 7) -> dict[str, int]:
    """Write the synthetic command file; returns how many lines of each command it holds."""
    rng = random.Random(seed)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    government = _act("1234/QĐ-TTg", "Thủ tướng Chính phủ", date(2019, 12, 10))
    with path.open("wb") as handle:
        line = _Writer(handle)
        # units: (province id, province name, [(commune id, code)])
        provinces: list[tuple[str, str, list[tuple[str, str]]]] = []
        for p in range(sizes.provinces):
            name = f"{PROVINCE_NAMES[p % len(PROVINCE_NAMES)]}" + (f" {p // len(PROVINCE_NAMES) + 1}"
                                                                   if p >= len(PROVINCE_NAMES) else "")
            province_id, code = new_id(), f"T{p:03d}"
            line("establishUnit", {"id": province_id, "code": code, "name": f"Tỉnh {name}", "kind": "PROVINCE",
                                   "effectiveOn": "2020-01-01", "act": government})
            communes = []
            for c in range(sizes.communes):
                commune_id, commune_code = new_id(), f"{code}-X{c:03d}"
                words = rng.sample(COMMUNE_WORDS, 2)
                line("establishUnit", {"id": commune_id, "code": commune_code,
                                       "name": f"Xã {words[0]} {words[1]} {c + 1}", "kind": "COMMUNE",
                                       "parentId": province_id, "effectiveOn": "2020-01-01", "act": government})
                communes.append((commune_id, commune_code))
            provinces.append((province_id, name, communes))

        # quota, positions and people of every commune
        people: list[tuple[str, int, int, date]] = []  # (person id, province index, commune index, recruited on)
        positions: dict[tuple[int, int], list[str]] = {}
        for p, (_, name, communes) in enumerate(provinces):
            council = f"UBND tỉnh {name}"
            for c, (commune_id, _) in enumerate(communes):
                quota_act = _act(f"{100 + c}/QĐ-UBND", council, date(2020, 1, 15))
                line("assignQuota", {"unitId": commune_id, "category": "CIVIL_SERVANT", "kind": "ASSIGNED",
                                     "amount": sizes.people + rng.randint(0, 4), "effectiveOn": "2020-02-01",
                                     "act": quota_act})
                held = positions[(p, c)] = []
                for k in range(sizes.positions):
                    position_id = new_id()
                    line("createPosition", {"id": position_id, "unitId": commune_id,
                                            "title": POSITION_TITLES[k % len(POSITION_TITLES)],
                                            "group": "SECTOR_PROFESSIONAL", "rank": "Chuyên viên",
                                            "effectiveOn": "2020-02-01", "act": quota_act})
                    held.append(position_id)
                recruited = sorted(_day(rng, date(2020, 3, 1), date(2022, 12, 31)) for _ in range(sizes.people))
                for on in recruited:
                    gender = rng.choice(["MALE", "FEMALE"])
                    person_id = new_id()
                    payload: dict[str, Any] = {
                        "id": person_id, "fullName": _full_name(rng, gender),
                        "birthDate": _day(rng, date(1966, 1, 1), date(1998, 12, 31)).isoformat(), "gender": gender,
                        "category": "CIVIL_SERVANT", "unitId": commune_id, "effectiveOn": on.isoformat(),
                        "act": _act(f"{rng.randint(1, 999)}/QĐ-UBND", council, on - timedelta(days=14))}
                    if held and rng.random() < 0.6:
                        payload["positionId"] = rng.choice(held)
                    line("recruitPerson", payload)
                    people.append((person_id, p, c, on))

        # movements: about 10 % transferred to another commune of the same province, 5 % retired
        rng.shuffle(people)
        movers = people[: len(people) // 10] if sizes.communes > 1 else []
        leavers = people[len(movers): len(movers) + len(people) // 20]
        for person_id, p, c, _ in sorted(movers, key=lambda m: m[0]):
            on = _day(rng, date(2023, 1, 1), date(2024, 6, 30))
            target = rng.choice([t for t in range(sizes.communes) if t != c])
            payload = {"personId": person_id, "toUnitId": provinces[p][2][target][0], "effectiveOn": on.isoformat(),
                       "act": _act(f"{rng.randint(1, 999)}/QĐ-UBND", f"UBND tỉnh {provinces[p][1]}",
                                   on - timedelta(days=10))}
            if positions[(p, target)] and rng.random() < 0.5:
                payload["toPositionId"] = rng.choice(positions[(p, target)])
            line("transferPerson", payload)
        for person_id, p, _, _ in sorted(leavers, key=lambda m: m[0]):
            on = _day(rng, date(2024, 7, 1), date(2025, 6, 30))
            line("retirePerson", {"personId": person_id, "effectiveOn": on.isoformat(),
                                  "act": _act(f"{rng.randint(1, 999)}/QĐ-UBND", f"UBND tỉnh {provinces[p][1]}",
                                              on - timedelta(days=30))})

        # one consolidation (hợp nhất) of two communes per province
        if sizes.communes >= 2:
            for p, (province_id, _, communes) in enumerate(provinces):
                (a, _), (b, _) = communes[0], communes[1]
                line("mergeUnits", {"sourceUnitIds": [a, b],
                                    "newUnit": {"id": new_id(), "code": f"T{p:03d}-XN01", "name": "Xã Hợp Nhất Một",
                                                "kind": "COMMUNE", "parentId": province_id},
                                    "effectiveOn": MERGED_ON.isoformat(),
                                    "act": _act(f"{1600 + p}/NQ-UBTVQH15", "Ủy ban Thường vụ Quốc hội",
                                                date(2025, 6, 16))})
    return line.counts


# ---------------------------------------------------------------------- stores
@contextmanager
def fresh_settings(backend: str, tmp: Path) -> Iterator[Settings]:
    """Settings of an empty store: a new SQLite directory, or a new PostgreSQL schema (dropped after)."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"{backend}-", dir=tmp))
    if backend == "sqlite":
        yield Settings.from_env({"STAFFING_DATA_DIR": str(data_dir)})
        return
    schema = "bench_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield Settings.from_env({"STAFFING_DATABASE_URL": PG_URL, "STAFFING_DB_SCHEMA": schema,
                                 "STAFFING_DATA_DIR": str(data_dir)})
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# ---------------------------------------------------------------------- one measured import
@dataclass(frozen=True)
class Run:
    variant: str
    batch: int
    commands: int
    events: int
    seconds: float
    projected: int
    catch_up_seconds: float

    @property
    def commands_per_s(self) -> float:
        return self.commands / self.seconds

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds


def measure(backend: str, variant: str, batch: int, path: Path, lines: int, tmp: Path) -> Run:
    """Import the file into a fresh store with ``batch`` commands per transaction, then catch up."""
    with fresh_settings(backend, tmp) as settings:
        ledger = build(settings, inline_projection=False)
        try:
            t0 = time.perf_counter()
            report = import_lines(ledger.service, read_lines(path), ImportMode.STOP_AT_FIRST_ERROR, None, batch)
            seconds = time.perf_counter() - t0
            assert report.ok, "\n".join(str(e) for e in report.errors)
            assert report.recorded == lines, (report.recorded, lines)
            assert report.replayed == 0, report.replayed
            t0 = time.perf_counter()
            projected = ledger.projector.catch_up()
            catch_up_seconds = time.perf_counter() - t0
        finally:
            ledger.close()
    return Run(variant, batch, report.recorded, report.events, seconds, projected, catch_up_seconds)


# ---------------------------------------------------------------------- report
def table(runs: list[Run]) -> list[str]:
    rows = ["| variant | commands per transaction | commands | events | import s | commands/s | events/s "
            "| catch-up events | catch-up s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        rows.append(f"| {r.variant} | {r.batch} | {r.commands:,} | {r.events:,} | {r.seconds:.2f} | "
                    f"{r.commands_per_s:,.0f} | {r.events_per_s:,.0f} | {r.projected:,} | {r.catch_up_seconds:.2f} |")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--provinces", type=int, default=4)
    parser.add_argument("--communes", type=int, default=25)
    parser.add_argument("--people", type=int, default=10, help="people recruited per commune")
    parser.add_argument("--positions", type=int, default=3, help="positions created per commune")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated: sqlite,postgres")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results-import.md"))
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - set(BACKENDS)
    if unknown or not backends:
        parser.error(f"--backends: choose from {','.join(BACKENDS)}")
    sizes = Sizes(args.provinces, args.communes, args.people, args.positions)
    command_line = " ".join(["python -m benchmarks.bench_import", *(argv if argv is not None else sys.argv[1:])])

    def say(text: str) -> None:
        print(text, flush=True)

    sections: list[str] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        path = tmp / "commands.jsonl"
        counts = write_commands(path, sizes)
        lines = sum(counts.values())
        composition = ", ".join(f"{name} {n:,}" for name, n in counts.items())
        say(f"command file: {lines:,} lines ({composition}), {path.stat().st_size / 1024:,.0f} KiB")
        for backend in backends:
            runs = []
            for variant, batch in (("batched", BATCH), ("baseline", 1)):
                run = measure(backend, variant, batch, path, lines, tmp)
                say(f"{backend} {variant} (batch {batch}): {run.commands:,} commands, {run.events:,} events in "
                    f"{run.seconds:.2f} s -> {run.commands_per_s:,.0f} commands/s, {run.events_per_s:,.0f} events/s;"
                    f" catch-up {run.projected:,} events in {run.catch_up_seconds:.2f} s")
                runs.append(run)
            batched, baseline = runs
            assert batched.events == baseline.events, (batched.events, baseline.events)
            ratio = batched.commands_per_s / baseline.commands_per_s
            ratio_line = (f"{backend}: batched {batched.commands_per_s:,.0f} commands/s vs one transaction per command "
                          f"{baseline.commands_per_s:,.0f} commands/s -> ratio {ratio:.1f}x")
            say(ratio_line)
            sections += [f"## {LABELS[backend]}", "", *table(runs), "",
                         ratio_line, ""]

    document = [
        "# Import benchmark results",
        "",
        f"Recorded {date.today().isoformat()} on the development machine ({os.cpu_count()} cores), "
        f"{' and '.join(LABELS[b] for b in backends)}, with:",
        "",
        f"    .venv/bin/{command_line}",
        "",
        f"Sizes: {sizes.provinces} provinces × {sizes.communes} communes, {sizes.positions} positions and "
        f"{sizes.people} people per commune; transfers, retirements and one consolidation of two communes per "
        f"province. Command file: {lines:,} lines ({composition}).",
        "",
        "Each variant imports the same file into a fresh store with `import_lines` (stop at the first error, "
        "projection deferred): batched = the default batch of "
        f"{BATCH} commands per transaction, baseline = 1 command per transaction. Events are the domain events "
        "the import reports (the request-key record each line also writes is not counted). The catch-up of the deferred "
        "projection is timed separately (its event count includes the request-key records). These are in-process "
        "timings (no process start-up, no server) measured one after the other in one run, so only the ratios are "
        "meaningful; absolute rates depend on the machine.",
        "",
        *sections,
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(document).rstrip() + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
