"""The staffing report (issue 11): gross and net surplus, exception flags, and the Excel and CSV files
read back and compared figure by figure with the GraphQL answer."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from starlette.testclient import TestClient

from staffing.application import MergeUnits, NewUnit
from staffing.bootstrap import Ledger
from staffing.graphql.app import create_app
from staffing.reports.staffing_report import CATEGORIES, build_report, flag
from tests.builders import an_act, assign_quota, establish, recruit
from tests.support import ledger_bearer

ROOT = Path(__file__).resolve().parents[1]


def _world(ledger: Ledger) -> dict[str, str]:
    """Province P: commune A over quota (5 people, 3 posts), commune B under (2 people, 5 posts), and
    E, the consolidation of C and D on 01/07/2025 with an exception until 31/12/2025."""
    s = ledger.service
    p = establish(s, code="P", name="Tỉnh Phú Thọ")
    a = establish(s, parent_id=p, kind="COMMUNE", code="A", name="Xã An Bình")
    b = establish(s, parent_id=p, kind="COMMUNE", code="B", name="Xã Bình Minh")
    assign_quota(s, a, 2)
    assign_quota(s, a, 1, kind="TEMPORARY")  # A's 3 posts: 2 assigned, 1 temporary (the files show both)
    assign_quota(s, b, 5)
    for i in range(5):
        recruit(s, a, full_name=f"Người A{i}")
    for i in range(2):
        recruit(s, b, full_name=f"Người B{i}")
    c = establish(s, parent_id=p, kind="COMMUNE", code="C", name="Xã Cẩm Khê")
    d = establish(s, parent_id=p, kind="COMMUNE", code="D", name="Xã Đồng Lương")
    assign_quota(s, c, 2)
    assign_quota(s, d, 2)
    for unit in (c, d):
        for i in range(3):
            recruit(s, unit, full_name=f"Người {unit[:4]}{i}")
    e = s.execute(MergeUnits(source_unit_ids=(c, d), effective_on=date(2025, 7, 1),
                             act=an_act("1656/NQ-UBTVQH15", date(2025, 6, 16), "Ủy ban Thường vụ Quốc hội"),
                             excess_allowed_until=date(2025, 12, 31),
                             new_unit=NewUnit(code="E", name="Xã Hợp Nhất", kind="COMMUNE", parent_id=p))).unit_id
    ledger.projector.catch_up()
    return {"P": p, "A": a, "B": b, "E": str(e)}


def test_flags_tell_an_exception_running_an_expired_one_and_none() -> None:
    assert flag(0, None, date(2025, 8, 1)) is None
    assert flag(2, None, date(2025, 8, 1)) == "NO_EXCEPTION"
    assert flag(2, date(2025, 12, 31), date(2025, 8, 1)) == "WITHIN_EXCEPTION"
    assert flag(2, date(2025, 12, 31), date(2026, 1, 1)) == "EXCEPTION_EXPIRED"


def test_gross_surplus_is_not_hidden_by_vacancies_elsewhere_and_flags_follow_the_deadline(ledger: Ledger) -> None:
    ids = _world(ledger)
    with ledger.queries.connect() as conn:
        position = ledger.queries.knowledge_position(conn, None)
        august = build_report(ledger.queries, conn, ids["P"], date(2025, 8, 1), position)
        next_year = build_report(ledger.queries, conn, ids["P"], date(2026, 1, 15), position)
    rows = {r.code: r for r in august.rows}
    assert (rows["A"].surplus, rows["B"].vacancy, rows["E"].surplus) == (2, 3, 2)
    assert rows["A"].flag == "NO_EXCEPTION" and rows["B"].flag is None and rows["E"].flag == "WITHIN_EXCEPTION"
    province = rows["P"].subtree
    assert (province.gross_surplus, province.gross_vacancy) == (4, 3)  # A's 2 and E's 2 must be shed
    assert (province.net_surplus, province.net_vacancy) == (1, 0)  # 13 people on 12 posts: the roll-up hides it
    assert august.total.gross_surplus == 4 and august.total.net_surplus == 1
    assert {r.code: r.flag for r in next_year.rows}["E"] == "EXCEPTION_EXPIRED"
    assert any(act.startswith("01/QĐ-UBND (UBND tỉnh Tuyên Quang, 01/01/2020)") for act in rows["A"].acts)


def _graphql_rows(ledger: Ledger, root: str, as_of: str) -> dict[str, dict[str, Any]]:
    query = ('query($r: ID!, $d: Date!) { staffingReport(rootUnitId: $r, asOf: $d) { unit { code } totalQuota '
             'totalHeadcount lines { category quota headcount quotaByKind { kind amount } } } }')
    with TestClient(create_app(ledger), headers=ledger_bearer(ledger)) as client:
        body = client.post("/graphql", json={"query": query, "variables": {"r": root, "d": as_of}}).json()
    return {r["unit"]["code"]: r for r in body["data"]["staffingReport"]}


def _cli(ledger: Ledger, *args: str) -> subprocess.CompletedProcess[str]:
    settings = ledger.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}
    env["STAFFING_DATA_DIR"] = str(settings.data_dir)
    if not settings.is_sqlite:
        env.update(STAFFING_DATABASE_URL=settings.database_url.render_as_string(hide_password=False),
                   STAFFING_DB_SCHEMA=settings.schema or "")
    return subprocess.run([sys.executable, "-m", "staffing", "report", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_workbook_read_back_equals_the_graphql_answer_figure_by_figure(ledger: Ledger, tmp_path: Path) -> None:
    ids = _world(ledger)
    out = tmp_path / "bao-cao.xlsx"
    done = _cli(ledger, "--root", ids["P"], "--as-of", "2025-08-01", "--from", "2025-01-01", "--to", "2025-08-01",
                "--format", "xlsx", "--out", str(out))
    assert done.returncode == 0, done.stderr
    book = load_workbook(out)
    assert book.sheetnames == ["Tổng hợp", "Cấp 0", "Cấp 1"]
    expected = _graphql_rows(ledger, ids["P"], "2025-08-01")
    seen = set()
    for name in ("Cấp 0", "Cấp 1"):
        sheet = book[name]
        banner = {row[0].value: row[1].value for row in sheet.iter_rows(max_row=6) if row[0].value}
        assert banner["Số liệu tại ngày"] == "01/08/2025" and isinstance(banner["Vị trí nhật ký"], int)
        assert banner["Mã băm đầu chuỗi"] and len(banner["Mã băm đầu chuỗi"]) == 64
        header_row = next(r[0].row for r in sheet.iter_rows() if r[0].value == "Cấp")
        assert sheet.freeze_panes == f"A{header_row + 1}"
        headings = [c.value for c in sheet[header_row]]
        for row in sheet.iter_rows(min_row=header_row + 1, values_only=True):
            record = dict(zip(headings, row, strict=False))
            if not record["Mã"]:  # the totals row
                assert str(record["Tên đơn vị"]).startswith("Tổng cấp")
                continue
            graphql = expected[record["Mã"]]
            lines = {line["category"]: line for line in graphql["lines"]}
            assert record["Biên chế - Tổng"] == graphql["totalQuota"]
            assert record["Có mặt - Tổng"] == graphql["totalHeadcount"]
            for category, label in zip(CATEGORIES, ("Cán bộ", "Công chức", "Viên chức", "Hợp đồng lao động"),
                                       strict=True):
                assert record[f"Biên chế - {label}"] == lines[category]["quota"]
                by_kind = {k["kind"]: k["amount"] for k in lines[category]["quotaByKind"]}
                for kind, kind_label in (("ASSIGNED", "giao"), ("TEMPORARY", "tạm giao"),
                                         ("SUPPLEMENTARY", "giao bổ sung")):
                    assert record[f"Biên chế {kind_label} - {label}"] == by_kind.get(kind, 0)
                assert record[f"Có mặt - {label}"] == lines[category]["headcount"]
                assert isinstance(record[f"Có mặt - {label}"], int)  # numbers as numbers, not text
            seen.add(record["Mã"])
    assert seen == set(expected)
    summary = book["Tổng hợp"]
    last = [c.value for c in summary[summary.max_row]]
    assert str(last[3]).startswith("TỔNG CỘNG") and last[headings.index("Vượt (gộp, cả cấp dưới)")] == 4
    assert last[headings.index("Vượt (ròng, cả cấp dưới)")] == 1
    assert "Tuyển dụng" in headings  # the period's movements


def test_the_csv_has_vietnamese_headings_and_the_same_figures(ledger: Ledger, tmp_path: Path) -> None:
    ids = _world(ledger)
    out = tmp_path / "bao-cao.csv"
    done = _cli(ledger, "--root", ids["P"], "--as-of", "2025-08-01", "--format", "csv", "--out", str(out))
    assert done.returncode == 0, done.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with its byte-order mark
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Cấp")
    headings = rows[header]
    expected = _graphql_rows(ledger, ids["P"], "2025-08-01")
    units = {r[2]: dict(zip(headings, r, strict=True)) for r in rows[header + 1:] if r[2]}
    assert set(units) == set(expected)
    for code, record in units.items():
        assert int(record["Biên chế - Tổng"]) == expected[code]["totalQuota"]
        assert int(record["Có mặt - Tổng"]) == expected[code]["totalHeadcount"]
    assert (units["A"]["Biên chế giao - Công chức"], units["A"]["Biên chế tạm giao - Công chức"]) == ("2", "1")
    total = next(dict(zip(headings, r, strict=True)) for r in rows if len(r) > 3 and r[3].startswith("TỔNG CỘNG"))
    assert total["Biên chế tạm giao - Công chức"] == "1" and int(total["Biên chế giao - Công chức"]) == 2 + 5 + 4
    assert units["A"]["Cảnh báo"] == "Vượt biên chế, không có ngoại lệ"
    assert units["E"]["Cảnh báo"] == "Trong thời hạn ngoại lệ" and units["E"]["Hạn ngoại lệ"] == "31/12/2025"


def test_graphql_reports_gross_and_net_and_the_over_quota_flag(ledger: Ledger) -> None:
    ids = _world(ledger)
    query = ('query($r: ID!, $d: Date!) { staffingReport(rootUnitId: $r, asOf: $d, includeDescendants: true) '
             '{ unit { code } totalSurplus totalVacancy grossSurplus grossVacancy overQuota exceptionDeadline } }')
    with TestClient(create_app(ledger), headers=ledger_bearer(ledger)) as client:
        def rows(day: str) -> dict[str, dict[str, Any]]:
            body = client.post("/graphql", json={"query": query, "variables": {"r": ids["P"], "d": day}}).json()
            assert "errors" not in body, body
            return {r["unit"]["code"]: r for r in body["data"]["staffingReport"]}

        august, later = rows("2025-08-01"), rows("2026-01-15")
    assert (august["P"]["totalSurplus"], august["P"]["grossSurplus"]) == (1, 4)  # net hides 3 of the 4
    assert (august["P"]["totalVacancy"], august["P"]["grossVacancy"]) == (0, 3)
    assert august["P"]["overQuota"] is None  # the province itself holds no one over quota
    assert august["A"]["overQuota"] == "NO_EXCEPTION" and august["B"]["overQuota"] is None
    assert august["E"]["overQuota"] == "WITHIN_EXCEPTION" and august["E"]["exceptionDeadline"] == "2025-12-31"
    assert later["E"]["overQuota"] == "EXCEPTION_EXPIRED" and later["E"]["exceptionDeadline"] == "2025-12-31"


def test_the_report_downloads_over_http_with_the_token_and_scope_rules(ledger: Ledger) -> None:
    import io

    from tests.support import ledger_bearer as bearer_for

    ids = _world(ledger)
    with TestClient(create_app(ledger)) as client:
        params = {"asOf": "2025-08-01", "rootUnitId": ids["P"]}
        assert client.get("/downloads/staffing-report.xlsx", params=params).status_code == 401
        admin = bearer_for(ledger)
        response = client.get("/downloads/staffing-report.xlsx", params=params, headers=admin)
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "application/vnd.openxmlformats")
        book = load_workbook(io.BytesIO(response.content))
        codes = {row[2] for name in book.sheetnames[1:] for row in book[name].iter_rows(values_only=True)
                 if row and row[2] and row[0] != "Cấp" and isinstance(row[0], int)}
        assert codes == {"P", "A", "B", "E"}
        csv_file = client.get("/downloads/staffing-report.csv", params={**params, "from": "2025-01-01",
                                                                          "to": "2025-08-01"}, headers=admin)
        assert csv_file.status_code == 200 and "Tuyển dụng" in csv_file.content.decode("utf-8-sig")
        outsider = bearer_for(ledger, "personnel", __import__("uuid").UUID(ids["A"]))
        assert client.get("/downloads/staffing-report.csv", params=params, headers=outsider).status_code == 403
        assert client.get("/downloads/staffing-report.pdf", params=params, headers=admin).status_code == 404
        bad = client.get("/downloads/staffing-report.csv", params={"asOf": "01/08/2025"}, headers=admin)
        assert bad.status_code == 400 and bad.json()["field"] == "asOf"
