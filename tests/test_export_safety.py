"""Every CSV or Excel file the app offers opens in a spreadsheet without running anything a user typed."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import openpyxl
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from planner.exports import csv_bytes, spreadsheet_safe, xlsx_bytes

ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = [
    '=HYPERLINK("http://e.vil","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "=cmd|' /C calc'!A0",
]


def test_formula_cells_and_headers_are_shown_as_typed() -> None:
    frame = pd.DataFrame({"=Stage name": PAYLOADS, "Deal": ["Acme"] * len(PAYLOADS), "Amount": range(len(PAYLOADS))})
    safe = spreadsheet_safe(frame)
    assert list(safe.columns) == ["'=Stage name", "Deal", "Amount"]
    assert safe["'=Stage name"].tolist() == ["'" + p for p in PAYLOADS]
    assert safe["Deal"].tolist() == ["Acme"] * len(PAYLOADS)
    assert frame.columns[0] == "=Stage name", "the caller's frame is left alone"


def test_numbers_dates_and_blanks_stay_what_they_are() -> None:
    frame = pd.DataFrame(
        {
            "Amount": [-5.0, 3.5, float("nan")],
            "Count": [-1, 0, 2],
            "Week": pd.to_datetime(["2027-01-04", "2027-01-11", None]),
            "Note": [None, "", "-"],
        }
    )
    safe = spreadsheet_safe(frame)
    pd.testing.assert_series_equal(safe["Amount"], frame["Amount"])
    pd.testing.assert_series_equal(safe["Count"], frame["Count"])
    pd.testing.assert_series_equal(safe["Week"], frame["Week"])
    blank, empty, dash = safe["Note"].tolist()
    assert pd.isna(blank) and empty == "" and dash == "'-"


@given(st.lists(st.text(max_size=30), min_size=1, max_size=20))
def test_no_text_cell_a_spreadsheet_would_run_survives(cells: list[str]) -> None:
    safe = spreadsheet_safe(pd.DataFrame({"text": cells}))["text"].tolist()
    for typed, shown in zip(cells, safe, strict=True):
        assert shown[:1] not in ("=", "+", "-", "@", "\t", "\r")
        assert shown in (typed, "'" + typed)


def test_the_csv_download_reads_back_as_typed_with_the_apostrophe() -> None:
    data = csv_bytes(pd.DataFrame({"Stage": PAYLOADS}))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["Stage"]
    assert [r[0] for r in rows[1:]] == ["'" + p for p in PAYLOADS]


def test_a_carriage_return_inside_a_cell_cannot_start_a_new_row() -> None:
    data = csv_bytes(pd.DataFrame({"Deal": ["Acme\r=1+1", "ok"], "Amount": [1, 2]}))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows == [["Deal", "Amount"], ["Acme\r=1+1", "1"], ["ok", "2"]]


def test_the_excel_download_holds_text_not_formulas() -> None:
    data = xlsx_bytes({"Review": pd.DataFrame({"Deal": PAYLOADS, "Amount": [1.0] * len(PAYLOADS)})})
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Review"]
    for row in sheet.iter_rows(min_row=2):
        assert row[0].data_type == "s", f"{row[0].value!r} is stored as a formula"
        assert row[1].data_type == "n"


def test_every_spreadsheet_download_on_every_page_goes_through_the_shared_helper() -> None:
    """A new CSV or Excel download that skips planner.exports would let a formula through."""
    offenders = []
    for page in sorted([*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]):
        for node in ast.walk(ast.parse(page.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "download_button"):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            mime = keywords.get("mime")
            mime_text = mime.value if isinstance(mime, ast.Constant) else ""
            if not any(kind in str(mime_text) for kind in ("csv", "spreadsheet", "excel")):
                continue  # Markdown and other text exports are not opened by a spreadsheet
            data = node.args[1] if len(node.args) > 1 else keywords.get("data")
            if isinstance(data, ast.Lambda):  # a file built only when its button is clicked
                data = data.body
            helper = data.func.id if isinstance(data, ast.Call) and isinstance(data.func, ast.Name) else None
            if helper not in ("csv_bytes", "xlsx_bytes"):
                offenders.append(f"{page.name}:{node.lineno}")
    assert offenders == []
