"""`backplan calibrate`, run the way a user runs it: a real process, JSON out, one line when it cannot read."""

from __future__ import annotations

import io
import itertools
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

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
    assert (report["rows"], report["bad_rows"], report["won"], report["lost"], report["open"]) == (4, 1, 1, 1, 1)
    assert report["won"] + report["lost"] + report["open"] + report["bad_rows"] == report["rows"]
    assert report["problems"] == [{"row": 3, "column": "Amount", "reason": "“abc” is not an amount."}]


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
    assert line.startswith("backplan calibrate: cannot read") and "nowhere.csv" in line
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
