"""The staffing report as an Excel workbook or a CSV file, with Vietnamese headings (issue 11).

Excel (openpyxl): a summary sheet ("Tổng hợp": one totals row per level and one for the whole report)
and one sheet per level ("Cấp 0", "Cấp 1", ...), each with a totals row. Every sheet states the
as-of date, the knowledge moment, the log position and the event chain's head hash the figures were
computed from; numbers are written as numbers; the heading row is frozen and columns are sized to
their contents. Quota is given by category and, for each category, by kind (giao, tạm giao, giao bổ
sung). CSV: one line per unit, the same columns, UTF-8 with a byte-order mark (Excel opens
it with the diacritics intact).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from staffing.reports.staffing_report import CATEGORIES, KINDS, MOVEMENTS, ReportRow, StaffingReport, Totals

__all__ = ["ReportContext", "write_csv", "write_xlsx"]

KIND_LABELS = {"ASSIGNED": "giao", "TEMPORARY": "tạm giao", "SUPPLEMENTARY": "giao bổ sung"}
CATEGORY_LABELS = {"CADRE": "Cán bộ", "CIVIL_SERVANT": "Công chức", "PUBLIC_EMPLOYEE": "Viên chức",
                   "CONTRACT_WORKER": "Hợp đồng lao động"}
MOVEMENT_LABELS = {"RECRUITED": "Tuyển dụng", "TRANSFERRED_IN": "Điều động đến", "TRANSFERRED_OUT": "Điều động đi",
                   "REORGANISED_IN": "Sắp xếp đến", "REORGANISED_OUT": "Sắp xếp đi", "RETIRED": "Nghỉ hưu",
                   "RESIGNED": "Thôi việc", "DISMISSED": "Buộc thôi việc", "DOWNSIZED": "Tinh giản"}
FLAG_LABELS = {"WITHIN_EXCEPTION": "Trong thời hạn ngoại lệ", "EXCEPTION_EXPIRED": "Hết thời hạn ngoại lệ",
               "NO_EXCEPTION": "Vượt biên chế, không có ngoại lệ"}


@dataclass(frozen=True)
class ReportContext:
    """What the figures reflect, written on every sheet."""

    known_at: datetime | None
    head_hash: str | None


def _headings(report: StaffingReport) -> list[str]:
    heads = ["Cấp", "Loại đơn vị", "Mã", "Tên đơn vị", "Mã đơn vị cấp trên"]
    heads += [f"Biên chế - {CATEGORY_LABELS[c]}" for c in CATEGORIES] + ["Biên chế - Tổng"]
    heads += [f"Có mặt - {CATEGORY_LABELS[c]}" for c in CATEGORIES] + ["Có mặt - Tổng"]
    heads += [f"Biên chế {KIND_LABELS[k]} - {CATEGORY_LABELS[c]}" for c in CATEGORIES for k in KINDS]
    heads += ["Thiếu so với biên chế", "Vượt biên chế", "Thiếu (gộp, cả cấp dưới)", "Vượt (gộp, cả cấp dưới)",
              "Thiếu (ròng, cả cấp dưới)", "Vượt (ròng, cả cấp dưới)", "Cảnh báo", "Hạn ngoại lệ",
              "Căn cứ pháp lý"]
    if report.period:
        heads += [MOVEMENT_LABELS[m] for m in MOVEMENTS]
    return heads


def _row(row: ReportRow, report: StaffingReport) -> list[object]:
    sub = row.subtree
    values: list[object] = [row.level, row.kind, row.code, row.name, row.parent_code or "",
                            *row.quota, row.total_quota, *row.headcount, row.total_headcount, *row.by_kind,
                            row.vacancy, row.surplus, sub.gross_vacancy, sub.gross_surplus, sub.net_vacancy,
                            sub.net_surplus, FLAG_LABELS[row.flag] if row.flag else "",
                            row.deadline.strftime("%d/%m/%Y") if row.deadline else "", "; ".join(row.acts)]
    if report.period:
        values += [row.movements.get(m, 0) for m in MOVEMENTS]
    return values


def _totals(label: str, totals: Totals, report: StaffingReport) -> list[object]:
    values: list[object] = ["", "", "", label, ""]
    values += [*totals.quota, totals.total_quota, *totals.headcount, totals.total_headcount, *totals.by_kind]
    values += [totals.gross_vacancy, totals.gross_surplus, totals.gross_vacancy, totals.gross_surplus,
               totals.net_vacancy, totals.net_surplus, "", "", ""]
    if report.period:
        values += [""] * len(MOVEMENTS)
    return values


def _banner(report: StaffingReport, context: ReportContext) -> list[list[object]]:
    known = context.known_at.isoformat() if context.known_at else "hiện tại (mọi dữ kiện đã ghi)"
    lines: list[list[object]] = [
        ["BÁO CÁO BIÊN CHẾ"],
        ["Số liệu tại ngày", report.as_of.strftime("%d/%m/%Y")],
        ["Theo dữ liệu đã ghi đến", known],
        ["Vị trí nhật ký", report.position],
        ["Mã băm đầu chuỗi", context.head_hash or ""],
    ]
    if report.period:
        lines.append(["Biến động từ ngày", f"{report.period[0]:%d/%m/%Y} đến {report.period[1]:%d/%m/%Y}"])
    return [*lines, []]


def write_xlsx(report: StaffingReport, context: ReportContext, path: Path) -> None:
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Tổng hợp"
    headings = _headings(report)
    _sheet(summary, report, context, headings,
           [_totals(f"Tổng cấp {level} ({totals.units} đơn vị)", totals, report)
            for level, totals in report.by_level.items()]
           + [_totals(f"TỔNG CỘNG ({report.total.units} đơn vị)", report.total, report)], bold_last=True)
    for level, totals in report.by_level.items():
        rows = [_row(r, report) for r in report.rows if r.level == level]
        _sheet(book.create_sheet(f"Cấp {level}"), report, context, headings,
               [*rows, _totals(f"Tổng cấp {level} ({totals.units} đơn vị)", totals, report)], bold_last=True)
    book.save(path)


def _sheet(sheet: object, report: StaffingReport, context: ReportContext, headings: list[str],
           rows: list[list[object]], bold_last: bool) -> None:
    ws = sheet  # an openpyxl worksheet
    for line in _banner(report, context):
        ws.append(line)  # type: ignore[attr-defined]
    ws.append(headings)  # type: ignore[attr-defined]
    header_row = ws.max_row  # type: ignore[attr-defined]
    for cell in ws[header_row]:  # type: ignore[index]
        cell.font = Font(bold=True)
    for values in rows:
        ws.append(values)  # type: ignore[attr-defined]
    if bold_last and rows:
        for cell in ws[ws.max_row]:  # type: ignore[index, attr-defined]
            cell.font = Font(bold=True)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)  # type: ignore[attr-defined]
    for index, heading in enumerate(headings, start=1):
        widest = max([len(str(heading))] + [len(str(r[index - 1])) for r in rows if len(r) >= index])
        ws.column_dimensions[get_column_letter(index)].width = min(max(widest + 2, 6), 60)  # type: ignore[attr-defined]


def csv_text(report: StaffingReport, context: ReportContext) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in _banner(report, context):
        writer.writerow(line)
    writer.writerow(_headings(report))
    for row in report.rows:
        writer.writerow(_row(row, report))
    for level, totals in report.by_level.items():
        writer.writerow(_totals(f"Tổng cấp {level} ({totals.units} đơn vị)", totals, report))
    writer.writerow(_totals(f"TỔNG CỘNG ({report.total.units} đơn vị)", report.total, report))
    yield buffer.getvalue()


def write_csv(report: StaffingReport, context: ReportContext, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        for chunk in csv_text(report, context):
            handle.write(chunk)

