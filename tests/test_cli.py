"""The backplan command, run the way a user runs it: a real process, JSON out."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from planner.cli import main


def backplan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planner.cli", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_plan_json_has_the_acceptance_numbers() -> None:
    done = backplan("plan", "--target", "385000", "--deal-size", "3850", "--ratios", "2,2,2", "--json")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["deals_needed"] == 100
    assert [(s["name"], s["total"]) for s in plan["stages"]] == [
        ("Connection requests", 800),
        ("Meetings", 400),
        ("Qualified prospects", 200),
        ("Deals won", 100),
    ]


def test_plan_json_with_stages_lags_period_and_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        [
            "plan",
            "--target", "50000",
            "--deal-size", "5000",
            "--ratios", "4,2.5",
            "--stages", "Calls,Meetings,Won",
            "--lags", "7,14",
            "--start", "2027-03-01",
            "--end", "2027-03-28",
            "--coverage", "4",
            "--json",
        ]
    )  # fmt: skip
    assert status == 0
    plan = json.loads(capsys.readouterr().out)
    assert [(s["name"], s["total"], s["lag_days"]) for s in plan["stages"]] == [
        ("Calls", 100, 7),
        ("Meetings", 25, 14),
        ("Won", 10, 0),
    ]
    assert plan["start_by"] == "2027-02-08"  # 21 days before Monday 1 March
    assert plan["working_days"] == 20
    assert plan["pipeline_coverage"] == [
        {"month": "2027-03-01", "working_days": 20, "month_target": 50000.0, "pipeline_needed": 200000.0}
    ]
    assert sum(week["activity"]["Calls"] for week in plan["weeks"]) == 100
    assert plan["weeks"][0] == {
        "week_start": "2027-02-08",
        "working_days": 0,
        "in_period": False,
        "activity": {"Calls": 25, "Meetings": 0, "Won": 0},
    }
    assert {lv["kind"] for lv in plan["levers"]} == {"deal_size", "ratio", "activity"}


def test_plan_prints_a_readable_table_without_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["plan", "--target", "385000", "--deal-size", "3850", "--start", "2027-01-04", "--end", "2027-12-31"]) == 0
    )
    out = capsys.readouterr().out
    assert "100 deals needed" in out
    assert "260 working days (52.0 working weeks)" in out
    assert "Connection requests  2 : 1 · 50%" in out


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--target", "385000", "--deal-size", "0"], "average deal size must be more than 0"),
        (["--target", "385000", "--deal-size", "3850", "--ratios", "2,x"], "expected numbers separated by commas"),
        (["--target", "385000", "--deal-size", "3850", "--ratios", "0.5"], "can't be below 1 : 1"),
        (["--target", "385000", "--deal-size", "3850", "--lags", "1"], "--lags needs one value per ratio (3), got 1"),
        (["--target", "385000", "--deal-size", "3850", "--stages", "A,B"], "--stages needs 4 names"),
        (["--target", "385000", "--deal-size", "3850", "--start", "2027-02-30"], "is not a date; use YYYY-MM-DD"),
        (
            ["--target", "1", "--deal-size", "1", "--start", "2027-02-01", "--end", "2027-01-01"],
            "ends (01 Jan 2027) before it starts (01 Feb 2027)",
        ),
        (["--deal-size", "3850"], "the following arguments are required: --target"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_one_line_reason(
    args: list[str], reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["plan", *args])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("backplan plan: error: ")
    assert reason.casefold() in err.casefold()


def test_a_real_process_exits_2_on_bad_input() -> None:
    done = backplan("plan", "--target", "385000", "--deal-size", "-1")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "backplan plan: error: The average deal size must be more than 0 — enter the typical value of a won deal."
    )


def test_help_documents_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--help"], ["plan", "--help"]):
        with pytest.raises(SystemExit) as exited:
            main(args)
        assert exited.value.code == 0
    top_help, plan_help = capsys.readouterr().out.split("usage: backplan plan", 1)
    assert "plan      walk the funnel back from a revenue target" in top_help
    for option in (
        "--target",
        "--deal-size",
        "--ratios",
        "--stages",
        "--lags",
        "--start",
        "--end",
        "--coverage",
        "--json",
    ):
        assert option in plan_help
