"""Reading weekly actuals from a CSV: good rows count, every bad one is named."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from planner.imports import parse_amount, parse_day, read_actuals_csv
from planner.milestones import WeekActual

STAGES = ["Connection requests", "Meetings"]
Q4 = (date(2026, 10, 1), date(2026, 12, 31))


def read(text: str | bytes) -> object:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return read_actuals_csv(data, STAGES, *Q4)


def test_a_clean_file_reads_every_week_on_its_monday() -> None:
    result = read(
        'Week,Revenue,Deals won,Connection requests,meetings\n2026-10-07,"$12,500.00",2,40,9\n2026-10-12,0,0,35,\n'
    )
    assert result.ok
    assert result.weeks == (
        WeekActual(date(2026, 10, 5), 12_500.0, 2, {"Connection requests": 40, "Meetings": 9}),
        WeekActual(date(2026, 10, 12), 0.0, 0, {"Connection requests": 35}),
    )


def test_semicolons_european_amounts_latin1_and_a_bom_are_all_read() -> None:
    latin1 = "week;revenue;deals;Note\n15/10/2026;1.234,50 EUR;1;Café\n".encode("latin-1")
    result = read(latin1)
    assert result.ok, result.problems
    assert result.weeks[0].revenue == 1_234.5
    assert result.ignored_columns == ("Note",)
    bom = "\ufeffweek,revenue\n2026-10-05,100\n".encode()
    assert read(bom).weeks[0].revenue == 100


def test_every_bad_row_is_reported_and_the_good_ones_still_count() -> None:
    result = read(
        "week,revenue,deals,Meetings\n"
        "2026-10-05,1000,1,5\n"  # row 2: fine
        "not a date,1000,1,5\n"  # row 3
        "2026-10-12,-5,1,5\n"  # row 4
        "2026-10-19,100,1.5,5\n"  # row 5
        "2027-03-01,100,1,5\n"  # row 6: outside the period
        "03/11/2026,100,1,5\n"  # row 7: ambiguous
        "2026-10-06,100,1,5\n"  # row 8: same week as row 2
        "2026-10-26,200,0,x\n"  # row 9
    )
    assert [w.week_start for w in result.weeks] == [date(2026, 10, 5)]
    by_row = {p.row: p for p in result.problems}
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 9]
    assert by_row[3].column == "week" and "not a date" in by_row[3].reason
    assert by_row[4].column == "revenue" and "0 or more" in by_row[4].reason
    assert by_row[5].column == "deals" and "whole number" in by_row[5].reason
    assert "outside the plan's period" in by_row[6].reason
    assert "could be 3 November or 11 March" in by_row[7].reason
    assert "appears twice" in by_row[8].reason
    assert by_row[9].column == "Meetings"


def test_missing_columns_are_named_with_the_columns_found() -> None:
    result = read("date,amount_x\n2026-10-05,1\n")
    [problem] = result.problems
    assert problem.row == 1
    assert "Missing column revenue" in problem.reason
    assert "“date”, “amount_x”" in problem.reason


def test_empty_and_binary_files_get_a_clear_message() -> None:
    assert "empty" in read("").problems[0].reason
    assert "not a text file" in read(b"\x89PNG\x00\x00\x01").problems[0].reason


def test_amounts_people_type() -> None:
    assert parse_amount("USD 2,000") == 2_000
    assert parse_amount("2 000,75") == 2_000.75
    assert parse_amount("1.234.567") == 1_234_567
    assert parse_amount("-") is None


def test_dates_people_type() -> None:
    assert parse_day("2026-10-05T16:14:25")[0] == date(2026, 10, 5)
    assert parse_day("5/10/26")[1].startswith("could be 5 October or 10 May")
    assert parse_day("31/12/26")[0] == date(2026, 12, 31)


@settings(deadline=None)  # speed is measured in bench/, never asserted by a test
@given(st.binary(max_size=2_000))
def test_random_bytes_never_raise(data: bytes) -> None:
    result = read_actuals_csv(data, STAGES, *Q4)
    assert result.ok or result.problems


@settings(deadline=None)
@given(st.lists(st.lists(st.text(max_size=30), min_size=1, max_size=6), max_size=20))
def test_random_cells_never_raise_and_bad_rows_are_reported(rows: list[list[str]]) -> None:
    text = "week,revenue,deals,Meetings\n" + "\n".join(",".join(c.replace(",", " ") for c in r) for r in rows)
    result = read(text)
    assert all(p.row >= 1 for p in result.problems)
    assert all(w.revenue >= 0 for w in result.weeks)
