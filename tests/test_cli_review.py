"""`backplan review --team NAME --json`: the manager's review from the database, headless."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from planner import store
from planner.access import SYSTEM
from planner.demo import demo_team
from tests.test_cli import backplan


def test_review_json_has_the_rows_worst_first_and_the_totals(tmp_path: Path) -> None:
    path = tmp_path / "team.duckdb"
    con = store.connect(path)
    store.load_team(con, SYSTEM, demo_team(date(2026, 11, 22)))
    con.close()
    done = backplan("review", "--team", "Mid-Market East", "--as-of", "2026-11-22", "--db", str(path), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["pipeline_snapshot"] == "2026-11-16"
    assert [r["rep"] for r in report["rows"]] == ["Dev Patel", "Chloe Nguyen", "Ben Carter", "Ana Lima"]
    assert [r["status"] for r in report["rows"]] == ["off track", "off track", "at risk", "on track"]
    totals = report["totals"]
    assert totals["target"] == sum(r["target"] for r in report["rows"])
    assert totals["booked"] == sum(r["booked"] for r in report["rows"])
    assert "On track" in report["status_rule"]


def test_an_unknown_team_exits_non_zero_naming_the_teams_there_are(tmp_path: Path) -> None:
    path = tmp_path / "team.duckdb"
    con = store.connect(path)
    store.load_team(con, SYSTEM, demo_team(date(2026, 11, 22)))
    con.close()
    done = backplan("review", "--team", "West", "--db", str(path), "--json")
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "no team 'West'" in done.stderr and "Mid-Market East" in done.stderr
