"""Hostile and malformed files through every reader: a clear message, never a crash, memory kept in bounds.

Readers: ``read_table`` + ``read_deals`` (CRM exports and pipeline snapshots, CSV
and .xlsx) and ``read_actuals_csv`` (Track's weekly import). Each case is a
shape that turns up in real uploads, pushed to an extreme. Memory is what
Python and NumPy allocate while reading (tracemalloc), against the file's size.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from datetime import date

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import imports
from planner.imports import ActualsImport, ImportFailure, detect_mapping, read_actuals_csv, read_deals, read_table

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STAGES = ["Connection requests", "Meetings", "Qualified prospects"]
PERIOD = (date(2027, 1, 4), date(2027, 12, 26))
MB = 2**20


def read_export(data: bytes, name: str) -> str:
    """What the Calibrate page does with an upload: the deals it got, or the one message it shows."""
    try:
        table = read_table(data, name)
        deals = read_deals(table, detect_mapping(table.columns))
    except ImportFailure as error:
        message = str(error)
        assert message.strip() and len(message) < 2_000, f"not a message a page can show: {message[:200]}…"
        return message
    for reason in deals.problems["reason"]:
        assert len(reason) < 500
    return f"{len(deals.deals)} deals, {len(deals.problems)} problems"


def read_actuals(data: bytes) -> ActualsImport:
    result = read_actuals_csv(data, STAGES, *PERIOD)
    for problem in result.problems:
        assert problem.reason.strip() and len(problem.reason) < 2_000, problem.reason[:200]
    return result


def peak_mb(read, data: bytes, *args: object) -> tuple[object, float]:
    tracemalloc.start()
    try:
        result = read(data, *args)
        return result, tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()


def xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- real-world shapes, pushed far


def test_a_5_mb_cell() -> None:
    huge = "9" * (5 * MB)
    message, peak = peak_mb(read_export, f"Stage,Amount\nClosed Won,{huge}\nClosed Won,100\n".encode(), "deals.csv")
    assert message == "2 deals, 1 problems"  # the huge amount is a problem on its row, which still counts as won
    assert peak < 200
    result, peak = peak_mb(read_actuals, f"Week,Revenue\n2027-01-04,{huge}\n".encode())
    assert result.weeks == () and "is not an amount of 0 or more" in result.problems[0].reason
    assert peak < 200


def test_a_5_mb_cell_in_excel() -> None:
    message = read_export(xlsx([["Stage", "Amount"], ["Closed Won", "1" * (5 * MB)], ["Closed Won", 100]]), "d.xlsx")
    assert message == "2 deals, 1 problems"


def test_10000_columns() -> None:
    header = ",".join(f"Field {i}" for i in range(10_000))
    message, peak = peak_mb(read_export, f"{header}\n{','.join('1' * 10_000)}\n".encode(), "wide.csv")
    assert message.startswith("Missing Stage and Amount column; the columns found: “Field 0”, “Field 1”")
    assert message.endswith("and 9,980 more.")
    assert peak < 300
    result = read_actuals(f"Week,Revenue,{header}\n2027-01-04,500,{','.join('1' * 10_000)}\n".encode())
    assert [w.revenue for w in result.weeks] == [500.0] and result.problems == ()
    missing = read_actuals(f"{header}\n".encode())
    assert missing.problems[0].reason.endswith("and 9,980 more.")


def test_deeply_quoted_fields() -> None:
    unclosed = b"Stage,Amount\n" + b'"' * 100_001 + b",5\n"
    assert read_export(unclosed, "q.csv").startswith("The file could not be read as CSV")
    nested = b'Stage,Amount\n"' + b'""' * 50_000 + b'",5\nClosed Won,5\n'
    assert read_export(nested, "q.csv").endswith("deals, 0 problems")
    assert read_actuals(b'Week,Revenue\n"' + b'""' * 50_000 + b'",5\n').weeks == ()
    stray = b'Stage,Amount\n"Closed Won,5\n' + b"Closed Lost,1\n" * 1_000
    assert read_export(stray, "q.csv").startswith("The file could not be read as CSV")


def test_nul_bytes() -> None:
    # Stray NULs (as in real Salesforce Description fields) are stripped and the file read, with a note.
    assert read_export(b"Stage,Amount\x00\nClosed Won,5\n", "n.csv") == "1 deals, 0 problems"
    late = b"Stage,Amount\n" + b"Closed Won,5\n" * 10_000 + b"Closed \x00Won,5\n"
    assert read_export(late, "n.csv") == "10001 deals, 0 problems"
    weeks = read_actuals(b"Week,Revenue\n2027-01-04,\x005\n")
    assert [w.revenue for w in weeks.weeks] == [5.0] and "control characters" in weeks.notes[0]
    assert read_export(b"\x00\x01\x02\x03" * 5_000, "n.csv").startswith("This is not a text file")


def test_mixed_encodings() -> None:
    mixed = "Stage,Amount,Owner\nClosed Won,5,Zoë\n".encode() + "Closed Won,6,Jürgen\n".encode("latin-1")
    assert read_export(mixed, "m.csv") == "2 deals, 0 problems"  # read as Windows-1252: names garbled, rows kept
    assert read_export("Stage,Amount\nClosed Won,5\n".encode("utf-16"), "m.csv") == "1 deals, 0 problems"
    weeks = read_actuals("Week,Revenue,Notes\n2027-01-04,5,Zoë\n".encode() + "2027-01-11,6,Jürgen\n".encode("cp1252"))
    assert [w.revenue for w in weeks.weeks] == [5.0, 6.0]


def test_a_million_empty_lines() -> None:
    assert read_export(b"\n" * 1_000_000, "e.csv") == "The file is empty."
    message, peak = peak_mb(read_export, b"Stage,Amount\n" + b"\r\n" * 1_000_000 + b"Closed Won,5\n", "e.csv")
    assert message == "1 deals, 0 problems"
    assert peak < 400
    result, peak = peak_mb(read_actuals, b"Week,Revenue\n" + b"\n" * 1_000_000 + b"2027-01-04,5\n")
    assert [w.revenue for w in result.weeks] == [5.0]
    assert peak < 400


def test_a_million_rows_of_actuals_is_refused_with_the_limit() -> None:
    result = read_actuals(b"Week,Revenue\n" + b"2027-01-04,5\n" * 1_000_000)
    assert result.weeks == ()
    assert "at most 5,000 are read" in result.problems[0].reason


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("zip of a text file", "zip", "a zip archive, not an Excel workbook"),
        ("truncated zip", b"PK\x03\x04" + b"\x00" * 100, "could not be opened"),
        ("old .xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel .xls"),
        ("html saved as .xlsx", b"<html><body><table><tr><td>Stage</td></tr></table>", "a web page (HTML)"),
        ("empty workbook", "empty", "The file is empty."),
    ],
)
def test_files_that_are_not_workbooks(name: str, data: bytes | str, expected: str) -> None:
    if data == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("hello.txt", "not a workbook")
        data = buffer.getvalue()
    elif data == "empty":
        data = xlsx([])
    filename = "old.xls" if name == "old .xls" else "export.xlsx"
    assert expected in read_export(data, filename)
    assert read_actuals(data).weeks == ()  # Track's import takes CSV only: a workbook is "not a text file"


# --------------------------------------------------------------------------- hypothesis


@FUZZ
@given(st.binary(max_size=2_048))
def test_actuals_from_random_bytes_never_crash(data: bytes) -> None:
    read_actuals(data)


@FUZZ
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.sampled_from(["2027-01-04", "04/01/2027", "1/4/27", "2027-13-45", "", "  ", "Week", "Revenue"]),
                st.sampled_from(["$1,234.50", "1.234,50 €", "-5", "(3)", "1e309", "nan", "inf", "abc", "7"]),
                st.text(alphabet=st.characters(codec="utf-8"), max_size=10),
                st.text(alphabet="\",;\t|\n\r\x00 '", max_size=6),
            ),
            max_size=6,
        ),
        max_size=10,
    ),
    st.sampled_from([",", ";", "\t", "|"]),
)
def test_actuals_from_random_cells_under_a_real_header_never_crash(rows: list[list[str]], sep: str) -> None:
    header = sep.join(["Week", "Revenue", "Deals won", *STAGES])
    body = "\n".join(sep.join(row) for row in rows)
    result = read_actuals(f"{header}\n{body}".encode("utf-8", errors="replace"))
    assert all(w.revenue >= 0 and w.deals_won >= 0 for w in result.weeks)
    assert all(PERIOD[0].toordinal() - 6 <= w.week_start.toordinal() <= PERIOD[1].toordinal() for w in result.weeks)


@FUZZ
@given(st.data())
def test_a_damaged_workbook_never_crashes(data: st.DataObject) -> None:
    good = bytearray(GOOD_XLSX)
    for _ in range(data.draw(st.integers(1, 8))):
        good[data.draw(st.integers(0, len(good) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(4, len(good)))
    read_export(bytes(good[:cut]), "export.xlsx")


@FUZZ
@given(
    st.lists(st.lists(st.one_of(st.text(max_size=12), st.integers(), st.floats(), st.none()), max_size=5), max_size=8)
)
def test_any_cells_in_a_real_workbook_never_crash(rows: list[list[object]]) -> None:
    clean = [["".join(c for c in v if c.isprintable()) if isinstance(v, str) else v for v in r] for r in rows]
    read_export(xlsx([["Deal ID", "Stage", "Amount", "Created", "Close Date"], *clean]), "export.xlsx")


GOOD_XLSX = xlsx(
    [
        ["Deal ID", "Stage", "Amount", "Created", "Close Date"],
        ["D-1", "Closed Won", 1200, date(2026, 1, 5), date(2026, 3, 1)],
        ["D-2", "Closed Lost", 300, date(2026, 2, 1), date(2026, 4, 2)],
    ]
)


def test_a_workbook_that_unpacks_past_the_limit_is_refused_before_it_is_read(monkeypatch) -> None:
    # A zip bomb in miniature: a few kB on disk, far more once unpacked.
    monkeypatch.setattr(imports, "MAX_XLSX_UNPACKED_BYTES", 1_000_000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/workbook.xml", "<workbook/>")
        book.writestr("xl/worksheets/sheet1.xml", "<row>" + "0" * 5_000_000 + "</row>")
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(ImportFailure, match="unpacks to 5 MB"):
        imports.read_table(buffer.getvalue(), "deals.xlsx")
