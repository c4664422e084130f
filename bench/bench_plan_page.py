"""Plan page rerun time after a slider move, measured with AppTest (warm).

    python bench/bench_plan_page.py                        # the example plan: 3 stages, a year
    python bench/bench_plan_page.py --stages 20 --weeks 104   # a big plan (issue 13: ≤ 300 ms a change)
    python bench/bench_plan_page.py --as-apptest           # AppTest as it is: every run compiles the scripts again

Server time per change: AppTest runs the whole script in-process (widgets, planner, the Plotly
figures, serialisation) but not the browser. Target (docs/design.md): under 30 ms for the example
plan, under 300 ms for 20 stages over 104 weeks.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit.testing.v1.app_test as app_test_module  # noqa: E402
from streamlit.runtime.scriptrunner.script_cache import ScriptCache  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402
from streamlit.testing.v1.element_tree import Slider  # noqa: E402

from bench._timing import report  # noqa: E402

MOVES = 60
TARGET_SLIDER = "Drag to change the revenue target"


def _share_script_cache() -> None:
    """Compile each script once, as a running server does.

    AppTest builds a fresh ScriptCache for every run, so each rerun would parse and
    compile app.py and the page again (about 45% of the time measured, by py-spy).
    """
    shared = ScriptCache()
    app_test_module.ScriptCache = lambda: shared  # type: ignore[assignment, misc]


def _big_plan(at: AppTest, stages: int, weeks: int) -> None:
    """Give the session a funnel of ``stages`` stages, three days apart, over ``weeks`` weeks.

    The ratios are 2 : 1 for a short funnel and flatter for a long one, so the top of the funnel
    stays a plannable few thousand (a billion is refused as a typo).
    """
    start = date(2027, 1, 4)
    at.session_state["plan.start"] = start
    at.session_state["plan.end"] = start + timedelta(weeks=weeks, days=-3)
    ids = list(range(100, 100 + stages))
    for position, sid in enumerate(ids):
        at.session_state[f"plan.stage.{sid}.name"] = f"Stage {position + 1}"
        at.session_state[f"plan.stage.{sid}.ratio"] = 2.0 if stages <= 8 else round(1 + 3 / stages, 3)
        at.session_state[f"plan.stage.{sid}.lag"] = 3
    at.session_state["plan.stage_ids"] = ids
    at.session_state["plan.next_stage_id"] = 100 + stages


def _slider(at: AppTest) -> Slider:
    return next(s for s in at.slider if s.label == TARGET_SLIDER)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", type=int, default=None, help="funnel stages above the won deals (default: 3)")
    parser.add_argument("--weeks", type=int, default=None, help="weeks in the period (default: the example's)")
    parser.add_argument("--as-apptest", action="store_true", help="let AppTest compile the scripts on every run")
    parser.add_argument("--moves", type=int, default=MOVES)
    args = parser.parse_args()
    if not args.as_apptest:
        _share_script_cache()
    start = time.perf_counter()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    label = "example plan"
    if args.stages or args.weeks:
        _big_plan(at, args.stages or 3, args.weeks or 52)
        at.run()
        assert not at.exception, at.exception
        label = f"{args.stages or 3} stages, {args.weeks or 52} weeks"
    print(f"first (cold) run: {(time.perf_counter() - start) * 1000:.0f} ms ({label})")
    for target in (400_000, 385_000, 390_000):  # warm caches and imports
        _slider(at).set_value(target).run()
    timings = []
    for move in range(args.moves):
        target = 300_000 + 5_000 * move
        slider = _slider(at).set_value(target)
        began = time.perf_counter()
        slider.run()
        timings.append(time.perf_counter() - began)
        assert not at.exception, at.exception
    big = bool(args.stages or args.weeks)
    report(f"Plan page rerun after a target move ({label})", timings, target_ms=300 if big else 150)


if __name__ == "__main__":
    main()
