"""The ministry's tools from the command line (issue 11): a file of commands sets a target and records
a downsizing with its payout inputs; `reform-statistics` and `report` read them back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import uuid4

ROOT = Path(__file__).resolve().parents[1]
ACT = {"number": "01/QĐ-UBND", "issuer": "UBND tỉnh Phú Thọ", "signedOn": "2021-01-01"}


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}
    env["STAFFING_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "staffing", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def _line(command: str, **input: Any) -> str:
    return json.dumps({"command": command, "input": input}, ensure_ascii=False)


def test_targets_payouts_and_statistics_from_the_command_line(tmp_path: Path) -> None:
    province, commune, person = str(uuid4()), str(uuid4()), str(uuid4())
    lines = [
        _line("establishUnit", id=province, code="P", name="Tỉnh Phú Thọ", kind="PROVINCE", effectiveOn="2021-01-01",
              act=ACT),
        _line("establishUnit", id=commune, code="A", name="Xã An", kind="COMMUNE", parentId=province,
              effectiveOn="2021-01-01", act=ACT),
        _line("assignQuota", unitId=commune, category="CIVIL_SERVANT", kind="ASSIGNED", amount=20,
              effectiveOn="2021-01-01", act=ACT),
        _line("recruitPerson", id=person, fullName="Phạm Văn Nam", birthDate="1968-01-01", gender="MALE",
              category="CIVIL_SERVANT", unitId=commune, effectiveOn="2021-01-01", act=ACT),
        _line("setReductionTarget", unitId=province, category="CIVIL_SERVANT", percent=5, baselineOn="2021-12-31",
              dueOn="2026-12-31", effectiveOn="2022-01-01", act={**ACT, "signedOn": "2021-12-20"}),
        _line("assignQuota", unitId=commune, category="CIVIL_SERVANT", kind="ASSIGNED", amount=19,
              effectiveOn="2024-01-01", act={**ACT, "signedOn": "2023-12-01"}),
        _line("downsizePerson", personId=person, policy="EARLY_RETIREMENT", monthlySalary=9_000_000, insuredYears=30,
              monthsToRetirement=24, effectiveOn="2024-03-01", act={**ACT, "signedOn": "2024-02-01"}),
    ]
    path = tmp_path / "commands.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = tmp_path / "data"
    imported = _run(data, "import", str(path))
    assert imported.returncode == 0, imported.stderr

    stats = _run(data, "reform-statistics", "--from", "2022-01-01", "--to", "2024-12-31", "--root", province)
    assert stats.returncode == 0, stats.stderr
    found = json.loads(stats.stdout)
    assert found["downsizedTotal"] == 1 and found["downsized"][0]["decree"] == "29/2023/NĐ-CP"
    assert found["targets"] == [{"target": found["targets"][0]["target"], "percent": 5, "baseline": 20, "goal": 19,
                                 "current": 19, "status": "MET"}]
    civil = {q["category"]: q for q in found["quota"]}["CIVIL_SERVANT"]
    assert (civil["before"], civil["after"]) == (20, 19)

    out = tmp_path / "report.csv"
    report = _run(data, "report", "--root", province, "--as-of", "2024-06-30", "--format", "csv", "--out", str(out))
    assert report.returncode == 0, report.stderr
    assert "Xã An" in out.read_text(encoding="utf-8-sig")

    # the payout was computed by the rule in force (29/2023: 3 months per early year + 5 months for 20 years
    # + ½ month for each of 10 more) and kept with the fact
    exported = _run(data, "export-commands")
    assert exported.returncode == 0, exported.stderr
    from staffing.bootstrap import build
    from staffing.config import Settings

    ledger = build(Settings.from_env({"STAFFING_DATA_DIR": str(data)}), inline_projection=False)
    try:
        with ledger.queries.connect() as conn:
            facts, _ = ledger.queries.history(conn, unit_id=None, person_id=person, first=50, after=None)
        downsized = [json.loads(f.data) for f in facts if f.type == "PersonDownsized"][0]
        assert downsized["payout"]["total"] == 3 * 9_000_000 * 24 // 12 + 5 * 9_000_000 + 9_000_000 * 10 // 2
        assert downsized["payout"]["rule"] == "29/2023/NĐ-CP"
    finally:
        ledger.close()


def test_a_diff_between_two_knowledge_moments_from_the_command_line(tmp_path: Path) -> None:
    import csv
    import time
    from datetime import UTC, datetime

    province, a, b, person = (str(uuid4()) for _ in range(4))
    first = [
        _line("establishUnit", id=province, code="P", name="Tỉnh Phú Thọ", kind="PROVINCE", effectiveOn="2021-01-01",
              act=ACT),
        _line("establishUnit", id=a, code="A", name="Xã An", kind="COMMUNE", parentId=province,
              effectiveOn="2021-01-01", act=ACT),
        _line("establishUnit", id=b, code="B", name="Xã Bình", kind="COMMUNE", parentId=province,
              effectiveOn="2021-01-01", act=ACT),
        _line("recruitPerson", id=person, fullName="Phạm Văn Nam", birthDate="1980-01-01", gender="MALE",
              category="CIVIL_SERVANT", unitId=a, effectiveOn="2021-01-01", act=ACT),
    ]
    late = [_line("transferPerson", personId=person, toUnitId=b, effectiveOn="2022-01-01",
                  act={**ACT, "number": "77/QĐ-UBND", "signedOn": "2022-01-01"})]
    data = tmp_path / "data"
    for name, lines in (("first.jsonl", first), ("late.jsonl", late)):
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        assert _run(data, "import", str(path)).returncode == 0
        if name == "first.jsonl":
            time.sleep(0.05)
            filed = datetime.now(UTC).isoformat()
            time.sleep(0.05)
    out = tmp_path / "diff.csv"
    done = _run(data, "diff", "--root", province, "--before-as-of", "2023-01-01", "--before-known-at", filed,
                "--after-as-of", "2023-01-01", "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    header = rows.index(["Mã", "Tên đơn vị", "Loại", "Biên chế trước", "Biên chế sau", "Có mặt trước", "Có mặt sau",
                         "Dữ kiện giải thích"])
    body = {r[0]: r for r in rows[header + 1:]}
    assert (body["A"][5], body["A"][6], body["B"][5], body["B"][6]) == ("1", "0", "0", "1")
    assert "PersonTransferred" in body["B"][7] and "77/QĐ-UBND" in body["B"][7]
