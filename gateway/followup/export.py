"""Statistics as CSV (UTF-8 with BOM, so Excel shows the Chinese) or Excel (.xlsx), Chinese headers.

Counts are integers; rates are fractions in Excel (formatted as percentages) and percentages
with one decimal in CSV; a rate with nothing to divide by is an empty cell.
"""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from gateway.followup.stats import COUNTS, RATES, StatRow
from protocol.levels import STAT_GROUP_LABELS, STAT_LABELS

FORMATS = ("csv", "xlsx")


def columns(by: str) -> list[tuple[str, str]]:
    """(field, Chinese header) in report order; the key column is named for the grouping."""
    group = STAT_GROUP_LABELS[by]
    head = [("period", STAT_LABELS["period"]), ("key", f"{group}{STAT_LABELS['key']}"),
            ("name", f"{group}{STAT_LABELS['name']}")]  # fmt: skip
    return head + [(name, STAT_LABELS[name]) for name in COUNTS + RATES]


def to_csv(rows: list[StatRow], by: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    cols = columns(by)
    writer.writerow([header for _, header in cols])
    for row in rows:
        values = row.as_dict()
        writer.writerow([_csv_cell(name, values[name]) for name, _ in cols])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[StatRow], by: str, title: str = "评价统计") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    cols = columns(by)
    sheet.append([header for _, header in cols])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        values = row.as_dict()
        sheet.append([values[name] for name, _ in cols])
    for index, (name, _) in enumerate(cols, start=1):
        if name in RATES:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "0.0%"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export(rows: list[StatRow], by: str, fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv(rows, by)
    if fmt == "xlsx":
        return to_xlsx(rows, by)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def _csv_cell(name: str, value: object) -> object:
    if name in RATES:
        return "" if value is None else f"{float(value) * 100:.1f}%"  # type: ignore[arg-type]
    return value
