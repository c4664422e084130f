"""`backplan calibrate`, run the way a user runs it: a real process, JSON out, one line when it cannot read."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample_crm_export.csv"
REQUIRED = {
    "rows", "won", "lost", "open", "win_rate", "win_rate_value", "avg_deal_size", "median_deal_size",
    "median_cycle_days", "stage_conversion", "suggested_coverage", "bad_rows",
}  # fmt: skip


def backplan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planner.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def calibrate_json(*args: str) -> dict:
    done = backplan("calibrate", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def test_sample_export_json_has_every_required_key_and_they_add_up() -> None:
    report = calibrate_json(str(SAMPLE))
    assert set(report) >= REQUIRED
    assert report["rows"] == 1500
    assert report["won"] + report["lost"] + report["open"] + report["bad_rows"] == report["rows"]
    assert report["win_rate"] == pytest.approx(report["won"] / (report["won"] + report["lost"]))
    assert 0 < report["win_rate_value"] < 1
    assert report["suggested_coverage"] == pytest.approx(1 / report["win_rate_value"])
    assert report["median_deal_size"] <= report["avg_deal_size"]  # lognormal deal sizes: a long right tail
    assert report["median_cycle_days"] > 0
    conversion = report["stage_conversion"]
    assert [c["from"] for c in conversion] == [
        "Appointment Scheduled",
        "Qualified To Buy",
        "Presentation Scheduled",
        "Contract Sent",
    ]
    assert conversion[-1]["to"] == "Closed Won"
    for step, following in itertools.pairwise(conversion):
        assert step["advanced"] >= following["reached"]  # a stage's decided deals all reached it
    for c in conversion:
        assert c["rate"] == pytest.approx(c["advanced"] / c["reached"])
        assert 0 <= c["low"] <= c["rate"] <= c["high"] <= 1
    # every deal that reached the won stage is won
    assert conversion[-1]["advanced"] == report["won"]
    assert sum(o["deals"] for o in report["by_owner"]) == report["rows"] - report["bad_rows"]


def test_bad_rows_are_counted_and_listed(tmp_path: Path) -> None:
    export = tmp_path / "deals.csv"
    export.write_bytes(
        b"Deal ID,Stage,Amount,Created,Close Date\n1,Closed Won,100,2025-01-01,2025-01-11\n2,Proposal,abc,,\n"
        b"3,Closed Lost,50,2025-01-01,2025-01-02\n4,Proposal,10,2025-02-01,\n"
    )
    report = calibrate_json(str(export))
    # The deal with amount "abc" still counts as open: the bad amount costs it only the amount figures.
    assert (report["rows"], report["bad_rows"], report["won"], report["lost"], report["open"]) == (4, 0, 1, 1, 2)
    assert report["won"] + report["lost"] + report["open"] + report["bad_rows"] == report["rows"]
    assert report["problems"] == [{"row": 3, "column": "Amount", "reason": "“abc” is not an amount.",
                                   "left_out_of": "deal size, value win rate, seasonality"}]  # fmt: skip


def test_date_order_preset_and_sheet_options(tmp_path: Path) -> None:
    export = tmp_path / "dmy.csv"
    export.write_bytes(b"Deal ID,Stage,Amount,Created,Close Date\n1,Closed Won,100,03/01/2025,05/02/2025\n2,Demo,5,,\n")
    asked = one_line_error(backplan("calibrate", str(export), "--json"))
    assert "MDY or DMY (--date-order)" in asked
    assert calibrate_json(str(export), "--date-order", "dmy")["median_cycle_days"] == 33.0
    assert calibrate_json(str(export), "--date-order", "MDY", "--preset", "generic")["median_cycle_days"] == 62.0

    book = openpyxl.Workbook()
    book.active.title = "Cover"
    sheet = book.create_sheet("Deals")
    for row in (("Stage", "Amount"), ("Closed Won", 300), ("Closed Lost", 100), ("Demo", 5)):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    workbook = tmp_path / "deals.xlsx"
    workbook.write_bytes(buffer.getvalue())
    report = calibrate_json(str(workbook), "--sheet", "Deals")
    assert (report["won"], report["lost"], report["open"], report["avg_deal_size"]) == (1, 1, 1, 300.0)
    assert report["win_rate_value"] == pytest.approx(0.75)


def test_binary_file_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    export = tmp_path / "deals.csv"
    export.write_bytes(bytes(range(256)) * 40)
    line = one_line_error(backplan("calibrate", str(export)))
    assert (
        line
        == f"backplan calibrate: {export}: This is not a text file: export the report as CSV or .xlsx and upload that."
    )


def test_missing_file_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    line = one_line_error(backplan("calibrate", str(tmp_path / "nowhere.csv"), "--json"))
    assert line.startswith("backplan calibrate: ") and "nowhere.csv: cannot read it" in line
    assert "No such file or directory" in line


def test_missing_columns_exit_non_zero_naming_them(tmp_path: Path) -> None:
    export = tmp_path / "deals.csv"
    export.write_bytes(b"Name;Owner;Close Date\nA;Ana;2025-01-01\n")
    line = one_line_error(backplan("calibrate", str(export), "--json"))
    assert "Missing Stage and Amount column; the columns found: “Name”, “Owner”, “Close Date”." in line


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "The file is empty."), (b"Stage,Amount\n", "No deals to calibrate from")],
)
def test_empty_and_header_only_files_exit_non_zero(tmp_path: Path, content: bytes, words: str) -> None:
    export = tmp_path / "deals.csv"
    export.write_bytes(content)
    assert words in one_line_error(backplan("calibrate", str(export)))


# --------------------------------------------------------------------------- the page's choices, headless (issue 12)

CORPUS = ROOT / "tests" / "data" / "exports"


def test_map_won_lost_and_date_order_are_the_page_s_choices_on_the_command_line(tmp_path: Path) -> None:
    # Unknown headers: the columns are pointed at by hand, and the won stage named (nothing says "Booked" twice).
    export = tmp_path / "deals.csv"
    export.write_text("Phase;Contract value;Opened\nSigned off;1.000,00;03/04/2025\nParked;500,00;04/04/2025\n"
                      "Pitch;200,00;05/04/2025\n", encoding="utf-8")  # fmt: skip
    assert "Missing Amount column" in one_line_error(backplan("calibrate", str(export)))  # "Phase" reads as the stage
    report = calibrate_json(str(export), "--map", "stage=Phase", "--map", "amount=Contract value",
                            "--map", "created=Opened", "--won", "Signed off", "--lost", "Parked",
                            "--date-order", "DMY")  # fmt: skip
    assert (report["won"], report["lost"], report["open"], report["avg_deal_size"]) == (1, 1, 1, 1000.0)
    assert report["stages"] == {"Signed off": "won", "Parked": "lost", "Pitch": "open"}


def test_currency_and_rates_on_the_command_line(tmp_path: Path) -> None:
    export = tmp_path / "deals.csv"
    export.write_text("Stage,Currency,Amount\nClosed Won,USD,100\nClosed Won,EUR,1000\nClosed Lost,EUR,1000\n")
    default = backplan("calibrate", str(export))
    assert default.returncode == 0, default.stderr
    assert "EUR: 1 won, 1 lost" in default.stdout and "USD: 1 won, 0 lost" in default.stdout
    assert "never added across currencies" in default.stdout
    report = calibrate_json(str(export), "--currency", "usd", "--rate", "EUR=1.1")
    assert report["currency"] == "USD" and report["avg_deal_size"] == pytest.approx(600.0)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--map", "colour=Stage"], "--map: “colour” is not a field"),
        (["--map", "stage"], "--map: write FIELD=COLUMN"),
        (["--rate", "EUR=abc"], "--rate: write CODE=RATE"),
        (["--rate", "EUR=-1"], "--rate: write CODE=RATE"),
        (["--date-order", "YMD"], "invalid choice"),
    ],
)
def test_bad_choices_are_bad_arguments(tmp_path: Path, args: list[str], words: str) -> None:
    export = tmp_path / "deals.csv"
    export.write_text("Stage,Amount\nClosed Won,1\n")
    done = backplan("calibrate", str(export), *args)
    assert done.returncode == 2
    assert words in one_line_error(done)


def test_a_column_that_is_not_in_the_file_is_one_line(tmp_path: Path) -> None:
    export = tmp_path / "deals.csv"
    export.write_text("Stage,Amount\nClosed Won,1\n")
    line = one_line_error(backplan("calibrate", str(export), "--map", "owner=Rep"))
    assert "there is no column “Rep”" in line and "“Stage”, “Amount”" in line


def test_a_stage_history_file_goes_second() -> None:
    report = calibrate_json(str(CORPUS / "salesforce_opportunities.csv"),
                            str(CORPUS / "salesforce_opportunity_field_history.csv"))  # fmt: skip
    assert report["lag_days"] == [10.0, 18.5, 33.5, 15.0]
    wrong = one_line_error(backplan("calibrate", str(CORPUS / "salesforce_opportunities.csv"),
                                    str(CORPUS / "zoho_deals.csv")))  # fmt: skip
    assert "is not a stage history" in wrong


# --------------------------------------------------------------------------- what is not a file (issue 13)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "deals.csv"
    os.mkfifo(fifo)
    line = one_line_error(backplan("calibrate", str(fifo)))  # would hang on open() if it tried to read
    assert "is not a regular file" in line


def test_dev_zero_is_refused_in_one_line() -> None:
    assert "is not a regular file" in one_line_error(backplan("calibrate", "/dev/zero"))


def test_a_500_mb_file_is_refused_by_its_size_before_it_is_read(tmp_path: Path, capsys) -> None:
    export = tmp_path / "deals.csv"
    with open(export, "wb") as handle:
        handle.truncate(500 * 2**20)  # sparse: no disk used
    tracemalloc.start()
    try:
        status = main(["calibrate", str(export)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == 1
    assert capsys.readouterr().err.strip() == (
        f"backplan calibrate: {export}: The file is 500 MB; the limit is 200 MB. "
        "Export fewer columns or one year at a time."
    )
    assert peak < 20 * 2**20  # the 500 MB were never read


def test_a_sheet_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Deals"
    book.active.append(["Stage", "Amount"])
    book.active.append(["Closed Won", 1])
    workbook = tmp_path / "deals.xlsx"
    book.save(workbook)
    assert "no sheet “Pipeline”" in one_line_error(backplan("calibrate", str(workbook), "--sheet", "Pipeline"))


def test_json_never_prints_nan_or_infinity(tmp_path: Path) -> None:
    export = tmp_path / "deals.csv"
    export.write_text("Stage,Amount\nClosed Won,1e308\nClosed Won,1e308\nClosed Lost,1e400\nProposal,nan\n")
    done = backplan("calibrate", str(export), "--json")
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))


CHOICES = st.lists(
    st.one_of(
        st.sampled_from(["--map", "--won", "--lost", "--currency", "--rate", "--date-order", "--sheet", "--preset"]),
        st.sampled_from(["stage=Stage", "amount=Amount", "x=y", "EUR=1.1", "EUR=0", "=", "Closed Won", "DMY", "usd"]),
        st.text(max_size=6),
    ),
    max_size=6,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CHOICES)
def test_random_choices_give_figures_or_one_line(args: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(["calibrate", str(CORPUS / "salesforce_report_currencies.csv"), *args])
        except SystemExit as stop:
            status = stop.code
    assert status in (0, 1, 2), status
    if status:
        assert len(err.getvalue().strip().splitlines()) == 1, err.getvalue()
        assert "Traceback" not in err.getvalue()
