"""The synthetic history: deterministic, valid through the import path, and agreeing with the oracle."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from uuid import UUID

from starlette.testclient import TestClient

from benchmarks.calibration import ledger_figures
from staffing.application.importer import ImportMode, import_lines, read_lines
from staffing.application.service import StaffingService
from staffing.bootstrap import Ledger, build
from staffing.config import Settings
from staffing.generator import SCALES, expected_figures, generate
from staffing.graphql.app import create_app
from staffing.persistence import EventStore
from tests.oracle import Oracle
from tests.support import TEST_HOSTS, ledger_bearer

ROOT = Path(__file__).resolve().parents[1]
DATES = (date(2015, 6, 1), date(2020, 1, 1), date(2024, 12, 31), date(2025, 3, 1), date(2025, 6, 30),
         date(2025, 7, 1), date(2025, 8, 31))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_same_seed_writes_the_same_history_and_another_seed_another(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    generate(a, SCALES["tiny"], 5)
    generate(b, SCALES["tiny"], 5)
    generate(c, SCALES["tiny"], 6)
    assert _digest(a) == _digest(b) != _digest(c)


def test_a_generated_history_imports_whole_and_the_read_models_agree_with_the_oracle(ledger: Ledger,
                                                                                       tmp_path: Path) -> None:
    path = tmp_path / "tiny.jsonl"
    counts = generate(path, SCALES["tiny"], 3)

    report = import_lines(ledger.service, read_lines(path), ImportMode.STOP_AT_FIRST_ERROR)
    ledger.projector.catch_up()

    assert report.ok and report.recorded == sum(counts.values())
    assert {"mergeUnits", "retractFact", "downsizePerson", "transferPerson"} <= set(counts)
    oracle = Oracle.from_store(ledger.store).known(None)
    with ledger.queries.connect() as conn:
        position = ledger.queries.knowledge_position(conn, None)
        for day in DATES:
            rows = ledger.queries.staffing_report(conn, None, day, position, include_descendants=True)
            got = {r.unit_id: (r.total_quota, r.total_headcount) for r in rows}
            want = {uid: (f.total_quota, f.total_headcount)
                    for uid, _, f in oracle.staffing_report(None, day, None, True)}
            assert got == want, day
            tops = ledger.queries.staffing_report(conn, None, day, position, depth=1, include_descendants=True)
            assert sum(r.total_headcount for r in tops) == oracle.active_people(day), day


def test_province_scale_pipeline_generate_import_query_rebuild_compare(tmp_path: Path) -> None:
    """The CI smoke of the national-scale work: the province-scale history end to end on SQLite."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}
    env["STAFFING_DATA_DIR"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-m", "staffing", "generate", "--scale", "province", "--seed", "1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "commands recorded" in done.stdout and "0 already recorded" in done.stdout
    query = '{ staffingReport(asOf: "2025-07-31", depth: 1, includeDescendants: true) { unit { code } totalQuota totalHeadcount } }'

    def national() -> list[tuple[str, int, int]]:
        ledger = build(Settings.from_env({"STAFFING_DATA_DIR": str(tmp_path), "STAFFING_ALLOWED_HOSTS": TEST_HOSTS}),
                       inline_projection=False)
        with TestClient(create_app(ledger), headers=ledger_bearer(ledger)) as client:  # the app's lifespan closes the ledger
            body = client.post("/graphql", json={"query": query}).json()
        return [(r["unit"]["code"], r["totalQuota"], r["totalHeadcount"]) for r in body["data"]["staffingReport"]]

    before = national()
    ledger = build(Settings.from_env({"STAFFING_DATA_DIR": str(tmp_path)}), inline_projection=False)
    try:  # the calibrated published figures come out of the ledger (their province-scale share)
        expected = expected_figures(SCALES["province"])
        assert ledger_figures(ledger) == expected
    finally:
        ledger.close()
    # ... and out of the ministry's own statistics over GraphQL (issue 11)
    stats = ('query($f: Date!, $t: Date!) { reformStatistics(from: $f, to: $t) { downsizedTotal downsizedCentral '
             'unitsRemoved { kind units } unitsCreated { kind units } } }')
    ledger = build(Settings.from_env({"STAFFING_DATA_DIR": str(tmp_path), "STAFFING_ALLOWED_HOSTS": TEST_HOSTS}),
                   inline_projection=False)
    with TestClient(create_app(ledger), headers=ledger_bearer(ledger)) as client:
        downsized = client.post("/graphql", json={"query": stats, "variables": {"f": "2015-01-01", "t": "2023-12-15"}}
                                ).json()["data"]["reformStatistics"]
        units = client.post("/graphql", json={"query": stats, "variables": {"f": "2015-01-02", "t": "2021-12-31"}}
                            ).json()["data"]["reformStatistics"]
    central, local = expected["downsized_2015_2023"]
    assert (downsized["downsizedCentral"], downsized["downsizedTotal"] - downsized["downsizedCentral"]) == (central,
                                                                                                           local)
    psu = sum(u["units"] for u in units["unitsRemoved"] if u["kind"] == "PUBLIC_SERVICE_UNIT") - sum(
        u["units"] for u in units["unitsCreated"] if u["kind"] == "PUBLIC_SERVICE_UNIT")
    assert psu == expected["psus_removed_2015_2021"]
    stays = subprocess.run([sys.executable, "-m", "staffing", "check-stays"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=600)  # the 2025 mergers left nobody behind
    assert stays.returncode == 0 and "no stay past an end" in stays.stdout, stays.stdout + stays.stderr
    rebuilt = subprocess.run([sys.executable, "-m", "staffing", "rebuild"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=600)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert national() == before
    assert {code for code, _, _ in before} >= {"N00", "B01"}  # the consolidated province and the ministry
    assert sum(heads for _, _, heads in before) > 5_000


def test_every_row_of_the_real_ministry_table_imports(tmp_path: Path) -> None:
    """The national scale uses every row of ministries-2025.csv (CI runs the province scale, which uses
    one): a small country with all of them must import whole. Ủy ban Dân tộc becoming Bộ Dân tộc và
    Tôn giáo has one predecessor, so it is recorded as a renaming, not a consolidation of one unit."""
    path = tmp_path / "ministries.jsonl"
    scale = replace(SCALES["tiny"], bureaus=1, central_staff=1, all_ministries=True)
    counts = generate(path, scale, 2)
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    report = import_lines(StaffingService(store), read_lines(path), ImportMode.STOP_AT_FIRST_ERROR)
    assert report.ok, report.errors[:3]
    assert counts.get("renameUnit") == 1 and report.recorded == sum(counts.values())
    renamed = [line for line in path.read_text(encoding="utf-8").splitlines() if '"renameUnit"' in line]
    assert "Bộ Dân tộc và Tôn giáo" in renamed[0]


def test_a_generated_history_mints_its_ids_in_order(tmp_path: Path) -> None:
    """A bulk load's ids should grow as it goes (``staffing.domain.ids``); the generator mints them so,
    in a range of its own per seed."""
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    generate(a, SCALES["tiny"], 5)
    generate(b, SCALES["tiny"], 6)
    pattern = re.compile(rb'"id":"([0-9a-f-]{36})"')
    minted = [UUID(m.decode()) for m in pattern.findall(a.read_bytes())]
    assert len(minted) > 100 and minted == sorted(minted) and {u.version for u in minted} == {7}
    other = [UUID(m.decode()) for m in pattern.findall(b.read_bytes())]
    assert other[0].int >> 80 != minted[0].int >> 80
