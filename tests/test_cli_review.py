"""`backplan review --team NAME --json`: the manager's review from the database, headless."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from planner import store
from planner.access import SYSTEM
from planner.currency import Rate
from planner.demo import demo_team
from planner.funnel import PlanInputs
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


def test_review_adds_a_team_up_in_one_currency_and_names_what_it_left_out(tmp_path: Path) -> None:
    path = tmp_path / "team.duckdb"
    con = store.connect(path)
    inputs = PlanInputs(100_000, 5_000, date(2026, 10, 5), date(2026, 12, 27))
    for name, currency in (("Eva", "EUR"), ("Uma", "USD"), ("Gus", "GBP")):
        store.save_plan(con, SYSTEM, store.add_rep(con, SYSTEM, name, "Europe"), "Q4", inputs, currency=currency)
    store.set_rate(con, SYSTEM, Rate("EUR", "USD", 1.1))
    con.close()
    done = backplan("review", "--team", "Europe", "--currency", "USD", "--db", str(path), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["currency"] == "USD" and report["left_out"] == ["Gus"] and report["missing_rates"] == ["GBP to USD"]
    assert report["totals"]["target"] == 100_000 * 1.1 + 100_000  # never 300,000 of three currencies
    text = backplan("review", "--team", "Europe", "--currency", "USD", "--db", str(path))
    assert "left out, no rate from GBP to USD: Gus" in text.stdout
