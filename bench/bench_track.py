"""Track speed: pace and recovery for a 52-week plan, and a warm Track page rerun.

    python bench/bench_track.py

The page is measured with AppTest against a fresh database holding the demo
team, after a change of the "as of" date (a full rerun: reads, pace, chart, editor).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._timing import report, time_calls  # noqa: E402
from planner import store  # noqa: E402
from planner.access import SYSTEM  # noqa: E402
from planner.demo import demo_team  # noqa: E402
from planner.funnel import PlanInputs, Stage, build_plan  # noqa: E402
from planner.milestones import WeekActual, activity_pace, build_milestones, pace, recovery_plan  # noqa: E402

START, END = date(2027, 1, 4), date(2027, 12, 31)  # 52 working weeks
INPUTS = PlanInputs(
    1_250_000, 8_500, START, END, stages=(Stage("Calls", 3, 2), Stage("Meetings", 2, 7), Stage("Proposals", 2, 21))
)


def planner_figures() -> None:
    steps = build_milestones(INPUTS.target, START, END, "weekly", "back-loaded")
    weeks = {START + timedelta(weeks=n): 21_000.0 for n in range(30)}
    as_of = START + timedelta(weeks=30) - timedelta(days=3)
    plan = build_plan(INPUTS)
    report(
        "build_milestones, 52 weekly checkpoints",
        time_calls(lambda: build_milestones(INPUTS.target, START, END, "weekly", "back-loaded"), 500),
    )
    report(
        "pace, 52-week plan, 30 weeks of actuals",
        time_calls(lambda: pace(INPUTS.target, START, END, steps, weeks, as_of), 2000),
    )
    progress = pace(INPUTS.target, START, END, steps, weeks, as_of)
    recorded = [WeekActual(w, v, 2, {"Calls": 40, "Meetings": 12}) for w, v in weeks.items()]
    report("recovery_plan, 4 stages", time_calls(lambda: recovery_plan(plan, progress, recorded), 2000))
    report("activity_pace, 4 stages x 57 weeks", time_calls(lambda: activity_pace(plan, recorded, as_of), 500))


def page_figures() -> None:
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.duckdb"
        con = store.connect(db)
        store.load_team(con, SYSTEM, demo_team(date.today()))
        con.close()
        os.environ["BACKPLAN_DB"] = str(db)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        at.switch_page("pages/track.py").run()
        assert not at.exception, at.exception
        today = date.today()
        for days in (1, 2, 3):  # warm up
            at.date_input(key="track.as_of").set_value(today - timedelta(days=days)).run()
        timings = []
        for move in range(40):
            widget = at.date_input(key="track.as_of").set_value(today - timedelta(days=move % 20))
            began = time.perf_counter()
            widget.run()
            timings.append(time.perf_counter() - began)
            assert not at.exception, at.exception
        report("Track page rerun after an 'as of' change", timings)


if __name__ == "__main__":
    planner_figures()
    page_figures()
