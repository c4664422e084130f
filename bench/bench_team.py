"""Team review speed: the planner's rollups of 500 reps, and the page itself with 500- and 2,000-rep teams.

    python bench/bench_team.py            # the planner: review, activity, burn-up, snapshot diff
    python bench/bench_team.py --diff     # the snapshot diff only: one DuckDB join beside the pandas path before it
    python bench/bench_team.py --page     # the page under AppTest, on a database of 10,000 reps

Targets (docs/design.md): the review of 500 reps under 300 ms; the diff of two 50,000-deal snapshots
under 300 ms (issue 18), timed in turns with the pandas diff it replaced (bench/pandas_snapshot_diff.py);
the page, per widget change, under 1 s for a 500-rep team and under 3 s for a 2,000-rep one. The planner
figures use inputs built in memory, as planner.store.review_inputs hands them over. The page figures use a database
of 10,000 reps (a 2,000-rep team, a 500-rep team and 150 teams of 50 without plans), each planning
rep with 52 weekly milestones and 45 weeks of actuals, and two pipeline snapshots per team (20,000 and
5,000 deals); it is built once (a minute or two) and kept in the temporary folder.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._timing import report, time_calls, time_interleaved  # noqa: E402
from bench.pandas_snapshot_diff import convert_pipeline as pandas_convert  # noqa: E402
from bench.pandas_snapshot_diff import snapshot_diff as pandas_diff  # noqa: E402
from planner import store  # noqa: E402
from planner.access import SYSTEM  # noqa: E402
from planner.demo import DemoPlan, DemoRep, DemoTeam  # noqa: E402
from planner.funnel import PlanInputs, Stage  # noqa: E402
from planner.milestones import WeekActual, build_milestones  # noqa: E402
from planner.team import (  # noqa: E402
    ReviewInput,
    activity_check,
    slipped_deals,
    snapshot_diff,
    team_burnup,
    team_review,
)

START, END = date(2027, 1, 4), date(2027, 12, 31)  # 52 working weeks
AS_OF = date(2027, 9, 15)
REPS, DEALS = 500, 50_000
STAGES = (Stage("Calls", 3, 2), Stage("Meetings", 2, 7), Stage("Proposals", 2, 21))


def review_inputs(rng: np.random.Generator) -> list[ReviewInput]:
    weeks = [START + timedelta(weeks=k) for k in range(52)]
    steps = tuple(build_milestones(1_000_000, START, END, "weekly"))
    reps = []
    for i in range(REPS):
        inputs = PlanInputs(1_000_000, 8_000, START, END, stages=STAGES)
        revenue = dict(zip(weeks, rng.normal(19_000, 6_000, 52).clip(0), strict=True))
        counts = {w: {"Calls": 60, "Meetings": 20, "Proposals": 8} for w in weeks}
        reps.append(ReviewInput(f"Rep {i:03d}", i, "FY2027", inputs, steps, revenue, counts))
    return reps


def snapshot(rng: np.random.Generator, deals: int, owners: list[str] | None = None) -> pd.DataFrame:
    owners = owners or [f"Rep {i:03d}" for i in range(REPS)]
    return pd.DataFrame(
        {
            "deal_id": [f"D{i:06d}" for i in range(deals)],
            "owner": [owners[i % len(owners)] for i in range(deals)],
            "account": "",
            "stage": rng.choice(["Calls", "Meetings", "Proposals", "Negotiation"], deals),
            "outcome": "open",
            "amount": rng.lognormal(9, 0.6, deals).round(-2),
            "close_date": pd.Timestamp(AS_OF) + pd.to_timedelta(rng.integers(0, 200, deals), unit="D"),
        }
    )


def next_week(rng: np.random.Generator, older: pd.DataFrame) -> pd.DataFrame:
    newer = older.sample(frac=0.95, random_state=1).copy()  # 5% dropped out
    moved = rng.random(len(newer))
    newer.loc[moved < 0.1, "close_date"] += pd.Timedelta(days=21)  # slipped
    newer.loc[(moved >= 0.1) & (moved < 0.15), "amount"] *= 1.2
    newer.loc[(moved >= 0.15) & (moved < 0.18), "outcome"] = "won"
    fresh = snapshot(rng, 2_500).assign(deal_id=lambda f: "N" + f["deal_id"])
    return pd.concat([newer, fresh], ignore_index=True)


# --------------------------------------------------------------------------- the page

#: Bump when the database below changes, so an old cached one is not used.
BIG_DB_VERSION = 1
PAGE_TEAMS = {"Big": 2_000, "Mid": 500}
OTHER_REPS = 10_000 - sum(PAGE_TEAMS.values())
PAGE_AS_OF = START + timedelta(weeks=45) - timedelta(days=2)
PAGE_CHANGES = 6


def big_database() -> Path:
    """The 10,000-rep database, built through the store once and kept in the temporary folder."""
    path = Path(tempfile.gettempdir()) / f"backplan-bench-team-{BIG_DB_VERSION}.duckdb"
    if path.exists():
        return path
    began = time.perf_counter()
    rng = np.random.default_rng(7)
    building = path.with_suffix(".building")
    for leftover in (building, building.with_name(building.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = store.connect(building)
    try:
        reps, plans = [], []
        weeks = [START + timedelta(weeks=k) for k in range(45)]
        for team, size in PAGE_TEAMS.items():
            for i in range(size):
                name = f"{team} rep {i:04d}"
                reps.append(DemoRep(name, team, "rep"))
                target = float(rng.integers(40, 160) * 10_000)
                inputs = PlanInputs(target, 8_000, START, END, stages=STAGES)
                actual = tuple(
                    WeekActual(w, float(v), 2, {"Calls": 60, "Meetings": 20, "Proposals": 8})
                    for w, v in zip(weeks, rng.normal(target / 52, target / 150, len(weeks)).clip(0), strict=True)
                )
                plans.append(DemoPlan(name, "FY2027", inputs, "linear", actual))
        reps += [DemoRep(f"Other rep {i:04d}", f"Team {i // 50:03d}", "rep") for i in range(OTHER_REPS)]
        store.load_team(con, SYSTEM, DemoTeam(tuple(reps), tuple(plans), "none"))
        for team, size in PAGE_TEAMS.items():
            older = snapshot(rng, size * 10, [f"{team} rep {i:04d}" for i in range(size)])
            store.save_snapshot(con, SYSTEM, team, PAGE_AS_OF - timedelta(days=9), older)
            store.save_snapshot(con, SYSTEM, team, PAGE_AS_OF - timedelta(days=2), next_week(rng, older))
    finally:
        con.close()
    building.rename(path)
    print(f"built {path} in {time.perf_counter() - began:.0f} s")
    return path


def page_figures() -> None:
    """Team review under AppTest (scripts compiled once, as a server does): a first load, then widget changes."""
    import os

    os.environ["BACKPLAN_DB"] = str(big_database())
    from streamlit.testing.v1 import AppTest

    from bench.bench_plan_page import _share_script_cache

    _share_script_cache()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
    at.session_state["team.as_of"] = PAGE_AS_OF
    at.session_state["team.name"] = "Team 000"  # a small team first, so each big one's first look is timed
    at.switch_page("pages/team.py").run()
    assert not at.exception, at.exception

    def change(what: str, do: Callable[[], object]) -> float:
        began = time.perf_counter()
        do()
        taken = time.perf_counter() - began
        assert not at.exception, (what, at.exception)
        return taken

    for team, size in PAGE_TEAMS.items():
        print(f"Team review, a {size:,}-rep team in a database of 10,000 reps")
        first = change("team", lambda t=team: at.selectbox(key="team.name").set_value(t).run())
        print(f"  first look at the team (reads and adds it up): {first * 1000:,.0f} ms")
        days = [PAGE_AS_OF - timedelta(days=k) for k in range(1, PAGE_CHANGES + 1)]
        report(
            "  'As of' changed (a new day: added up again)",
            [change("as of", lambda d=d: at.date_input(key="team.as_of").set_value(d).run()) for d in days],
            target_ms=1_000 if size <= 500 else 3_000,
        )
        pages = [2, 3, 1, 2, 3, 1]
        report(
            "  the table's page turned",
            [change("page", lambda n=n: at.number_input(key="team.page").set_value(n).run()) for n in pages],
            target_ms=1_000 if size <= 500 else 3_000,
        )
        shows = ["off track", "at risk", "everyone"] * 2
        report(
            "  'Show' changed",
            [change("show", lambda v=v: at.segmented_control(key="team.show").set_value(v).run()) for v in shows],
            target_ms=1_000 if size <= 500 else 3_000,
        )
        plans = at.session_state["team.shown_plans"]
        picks = [list(plans[k : k + 3]) for k in range(PAGE_CHANGES)]
        report(
            "  reps on the chart changed",
            [change("chart", lambda p=p: at.multiselect(key="team.burnup_reps").set_value(p).run()) for p in picks],
            target_ms=1_000 if size <= 500 else 3_000,
        )


def diff_figures(rng: np.random.Generator, older: pd.DataFrame, repeat: int = 10) -> None:
    """The diff of two 50,000-deal snapshots, the new way and the pandas way in turns.

    In memory (the planner alone), and as Team review does it: both snapshots read from the database,
    converted at each owner's rate, diffed, and the slipped deals listed with their slip counts.
    """
    newer = next_week(rng, older)
    moved = rng.random(len(newer))  # stages move too, so every kind of change is in the diff
    newer.loc[moved < 0.05, "stage"] = rng.choice(["Calls", "Meetings", "Proposals"], int((moved < 0.05).sum()))
    newer.loc[(moved >= 0.05) & (moved < 0.07), ["stage", "outcome"]] = ["Closed Lost", "lost"]
    rates: dict[str, float | None] = {owner: 1.0 for owner in older["owner"].unique()}
    with tempfile.TemporaryDirectory() as folder:
        con = store.connect(Path(folder) / "diff.duckdb")
        try:
            days = (AS_OF - timedelta(days=7), AS_OF)
            store.save_snapshot(con, SYSTEM, "Bench", days[0], older)
            store.save_snapshot(con, SYSTEM, "Bench", days[1], newer)

            def pandas_page() -> object:
                frames = [pandas_convert(store.get_snapshot(con, "Bench", d), rates) for d in days]
                return slipped_deals(pandas_diff(*frames, END), store.slip_counts(con, "Bench", days[1]))

            def one_join_page() -> object:
                tables = [store.snapshot_deals(con, "Bench", d) for d in days]
                diff = snapshot_diff(*tables, END, owner_rates=rates)
                return slipped_deals(diff, store.slip_counts(con, "Bench", days[1]))

            timings = time_interleaved(
                {
                    "pandas": lambda: pandas_diff(older, newer, END),
                    "one join": lambda: snapshot_diff(older, newer, END),
                    "pandas page": pandas_page,
                    "one join page": one_join_page,
                },
                repeat,
            )
        finally:
            con.close()
    n = f"{len(older):,}"
    print(f"Snapshot diff, {n} deals against next week's {len(newer):,} (in turns, same load)")
    report("  before: pandas, frames in memory", timings["pandas"])
    report("  now: one DuckDB join, frames in memory", timings["one join"], 300)
    report("  before: Team review's path (read, convert, diff, slips)", timings["pandas page"])
    report("  now: Team review's path (Arrow read, one join, slips)", timings["one join page"], 300)


def main() -> None:
    if "--page" in sys.argv:
        page_figures()
        return
    if "--diff" in sys.argv:
        diff_figures(np.random.default_rng(2026), snapshot(np.random.default_rng(2026), DEALS))
        return
    rng = np.random.default_rng(2026)
    reps = review_inputs(rng)
    pipeline = snapshot(rng, DEALS)
    print(f"Team review, {REPS} reps x 52 weeks, {DEALS:,}-deal pipeline")
    report("team_review (rows, totals, status)", time_calls(lambda: team_review(reps, AS_OF, pipeline), 15), 300)
    report("activity_check", time_calls(lambda: activity_check(reps, AS_OF), 5))
    report("team_burnup", time_calls(lambda: team_burnup(reps, AS_OF), 5))
    diff_figures(rng, pipeline)


if __name__ == "__main__":
    main()
