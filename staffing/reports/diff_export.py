"""A staffing diff (``reports.diff``) as CSV or Excel, for an auditor's file (issue 12)."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from staffing.projections.queries import FactRow
from staffing.reports.diff import DiffRow, Snapshot
from staffing.reports.workbook import CATEGORY_LABELS

__all__ = ["diff_lines", "write_diff"]

HEADINGS: list[object] = ["Mã", "Tên đơn vị", "Loại", "Biên chế trước", "Biên chế sau", "Có mặt trước", "Có mặt sau",
            "Dữ kiện giải thích"]


def diff_lines(rows: list[DiffRow], before: Snapshot, after: Snapshot) -> list[list[object]]:
    """The export's lines: a banner naming both snapshots, the headings, one line per unit and category."""
    banner: list[list[object]] = [["SO SÁNH SỐ LIỆU BIÊN CHẾ"],
                                  ["Trước", f"{before.as_of:%d/%m/%Y}", "vị trí nhật ký", before.position],
                                  ["Sau", f"{after.as_of:%d/%m/%Y}", "vị trí nhật ký", after.position], [], HEADINGS]
    said: dict[str, str] = {}  # a unit's facts explain each of its categories: each is written out once

    def told(f: FactRow) -> str:
        found = said.get(f.id)
        if found is None:
            found = said[f.id] = (f"{f.type} {f.id} hiệu lực {f.effective_on:%d/%m/%Y}, ghi "
                                  f"{f.recorded_at:%d/%m/%Y %H:%M}, {f.act_number} ({f.act_issuer})")
        return found

    body: list[list[object]] = [[
        r.unit.code, r.unit.name, CATEGORY_LABELS.get(r.category, r.category), r.quota_before, r.quota_after,
        r.headcount_before, r.headcount_after, "; ".join(told(f) for f in r.facts)] for r in rows]
    return banner + body


def write_diff(rows: list[DiffRow], before: Snapshot, after: Snapshot, path: Path, fmt: str) -> None:
    lines = diff_lines(rows, before, after)
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(lines)
        return
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "So sánh"
    for line in lines:
        sheet.append(line)
    header = len(lines) - len(rows)
    for cell in sheet[header]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = sheet.cell(row=header + 1, column=1)
    book.save(path)
