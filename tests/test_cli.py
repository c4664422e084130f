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
            "--target",
            "50000",
            "--deal-size",
            "5000",
            "--ratios",
            "4,2.5",
            "--stages",
            "Calls,Meetings,Won",
            "--lags",
            "7,14",
            "--start",
            "2027-03-01",
            "--end",
            "2027-03-28",
            "--coverage",
            "4",
            "--json",
        ]
    )
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


# --------------------------------------------------------------------------- milestones and track


def test_milestones_json_for_a_linear_month(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["milestones", "--target", "50000", "--start", "2026-12-01", "--end", "2026-12-28", "--shape", "linear"]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["milestones"] == [
        {"date": "2026-12-07", "cumulative": 12500.0},
        {"date": "2026-12-14", "cumulative": 25000.0},
        {"date": "2026-12-21", "cumulative": 37500.0},
        {"date": "2026-12-28", "cumulative": 50000.0},
    ]


def test_milestones_custom_entered_backwards(capsys: pytest.CaptureFixture[str]) -> None:
    period = ["--start", "2026-12-01", "--end", "2026-12-28"]
    assert (
        main(
            ["milestones", "--target", "50000", *period, "--shape", "custom", "--custom", "42000,30000,20000", "--json"]
        )
        == 0
    )
    assert [m["cumulative"] for m in json.loads(capsys.readouterr().out)["milestones"]] == [20000, 30000, 42000, 50000]


def test_milestones_for_a_whole_month_fill_the_checkpoint_not_given(capsys: pytest.CaptureFixture[str]) -> None:
    # 1-31 Dec has a checkpoint four weeks before the end; only three amounts are given.
    period = ["--start", "2026-12-01", "--end", "2026-12-31", "--shape", "custom", "--custom", "42000,30000,20000"]
    assert main(["milestones", "--target", "50000", *period, "--fill", "back-loaded", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["milestones"]
    assert [(r["date"], r["filled"]) for r in rows][:2] == [("2026-12-03", True), ("2026-12-10", False)]
    assert 0 < rows[0]["cumulative"] < 20_000
    assert main(["milestones", "--target", "50000", *period]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("7,500  (filled)")


def test_milestones_that_go_down_exit_2_naming_the_checkpoint(capsys: pytest.CaptureFixture[str]) -> None:
    period = ["--start", "2026-12-01", "--end", "2026-12-28"]
    with pytest.raises(SystemExit) as exited:
        main(["milestones", "--target", "50000", *period, "--shape", "custom", "--custom", "42000,45000,20000"])
    assert exited.value.code == 2
    assert "21 Dec 2026 (42,000) is below the one before it" in capsys.readouterr().err


def test_track_reads_the_plan_from_the_database(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import date

    from planner import store
    from planner.access import SYSTEM
    from planner.demo import demo_team

    db = tmp_path / "team.duckdb"
    con = store.connect(db)
    plan_ids = store.load_team(con, SYSTEM, demo_team(date(2026, 11, 22)))
    con.close()
    assert main(["track", "--plan", str(plan_ids[3]), "--db", str(db), "--as-of", "2026-11-22", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["plan"]["name"] == "Q4 2026"
    assert report["target"] == 140_000
    assert 0 < report["attainment"] < 0.5 and report["behind"] and report["gap"] < 0
    assert report["latest_milestone"]["date"] == "2026-11-19"
    assert report["required_per_week"] > report["planned_per_week"]
    assert [s["name"] for s in report["recovery"]["stages"]][-1] == "Deals won"


def test_track_explains_a_missing_plan_or_database(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["track", "--plan", "1", "--db", str(tmp_path / "none.duckdb")])
    assert exited.value.code == 1
    assert "There is no database at" in capsys.readouterr().err
    from planner import store

    store.connect(tmp_path / "empty.duckdb").close()
    with pytest.raises(SystemExit):
        main(["track", "--plan", "7", "--db", str(tmp_path / "empty.duckdb")])
    assert "there is no plan 7" in capsys.readouterr().err
