"""Plan page server time per slider move, measured with AppTest (warm, scripts compiled once).

    python bench/bench_plan_page.py                          # the example plan: 3 stages, a year
    python bench/bench_plan_page.py --stages 20 --weeks 104  # a big plan (issue 13: ≤ 300 ms a change)
    python bench/bench_plan_page.py --against /tmp/before    # in turns with another checkout (the code before)
    python bench/bench_plan_page.py --as-apptest             # AppTest as it is: every run compiles the scripts again

Server time per move: AppTest runs the script in-process (widgets, planner, the Plotly figures,
serialisation) but not the browser. A slider inside an ``st.fragment`` is moved as the browser moves
it: the rerun names the fragment and only the fragment runs (``bench/_fragments.py``); a page without
one runs whole. Targets: issue 18, median ≤ 40 ms and p95 ≤ 100 ms for the example plan (from 112 / 266
ms); under 300 ms for 20 stages over 104 weeks (issue 13).

``--against PATH`` times the checkout at PATH (``git worktree add`` or ``git archive | tar -x`` of the
code before) and this one in turns, each round a fresh process per checkout, so both are measured
under the same load on a shared machine. The big plan is saved through the store and opened by its
``?plan=`` link, which both checkouts understand. CPU seconds are printed beside wall time: a busy
machine stretches wall time, not CPU time.

The peer ratio is the peer Streamlit reverse-funnel app's 1,097 ms per move (issue 18, measured on a
quiet machine; the app is not available here) over this page's median.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The peer app's time per slider move, from issue 18 (quiet machine): the ratio's numerator.
PEER_MS = 1_097
MOVES = 60
TARGET_SLIDER = "Drag to change the revenue target"


def _share_script_cache() -> None:
    """Compile each script once, as a running server does.

    AppTest builds a fresh ScriptCache for every run, twice: one for the pages (st.navigation's) and
    one in its script runner for app.py, so each rerun would parse and compile app.py and the page
    again (about 45% of the time measured, by py-spy). The bench before issue 18 shared the first
    only: app.py was still compiled on every move (3-4 ms here).
    """
    import streamlit.testing.v1.app_test as app_test_module
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import local_script_runner

    shared = ScriptCache()
    app_test_module.ScriptCache = lambda: shared  # type: ignore[assignment, misc]
    local_script_runner.ScriptCache = lambda: shared  # type: ignore[assignment, misc]


def _measure(root: Path, moves: int, stages: int | None, weeks: int | None, as_apptest: bool) -> dict[str, object]:
    """Time ``moves`` target-slider moves on the Plan page of the checkout at ``root``, in this process."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # this bench's helpers, whichever checkout is timed
    from _fragments import fragment_of, fragment_runs, run_in_fragment
    from _pair import pairs

    sys.path.insert(0, str(root))
    from streamlit.testing.v1 import AppTest
    from streamlit.testing.v1.element_tree import Widget

    if not as_apptest:
        _share_script_cache()
    with fragment_runs():
        began = time.perf_counter()
        at = AppTest.from_file(str(root / "app.py"), default_timeout=120)
        label = "example plan"
        if stages or weeks:
            at.query_params["plan"] = str(_save_big_plan(stages or 3, weeks or 52))
            label = f"{stages or 3} stages, {weeks or 52} weeks"
        at.run()
        assert not at.exception, at.exception
        cold = time.perf_counter() - began

        def slider() -> Widget:  # Streamlit's own slider before the number pair was one component
            return next(s for s in [*at.slider, *pairs(at, "slider")] if s.label == TARGET_SLIDER)

        in_fragment = bool(fragment_of(slider()))

        def move(target: int) -> None:
            moved = slider().set_value(target)
            run_in_fragment(moved) if in_fragment else moved.run()
            assert not at.exception, at.exception

        for target in (400_000, 385_000, 390_000):  # warm caches and imports
            move(target)
        wall, cpu = [], []
        for n in range(moves):
            began, began_cpu = time.perf_counter(), time.process_time()
            move(300_000 + 5_000 * (n % 60))
            wall.append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)
    return {"label": label, "cold": cold, "wall": wall, "cpu": cpu, "fragment": in_fragment}


def _save_big_plan(stages: int, weeks: int) -> int:
    """A plan of ``stages`` stages, three days apart, over ``weeks`` weeks, saved in BACKPLAN_DB; its id.

    The ratios are 2 : 1 for a short funnel and flatter for a long one, so the top of the funnel stays a
    plannable few thousand (a billion is refused as a typo).
    """
    from planner import store
    from planner.access import SYSTEM
    from planner.funnel import PlanInputs, Stage

    start = date(2027, 1, 4)
    ratio = 2.0 if stages <= 8 else round(1 + 3 / stages, 3)
    funnel = tuple(Stage(f"Stage {n + 1}", ratio, 3) for n in range(stages))
    inputs = PlanInputs(385_000, 3_850, start, start + timedelta(weeks=weeks, days=-3), stages=funnel)
    con = store.connect(os.environ["BACKPLAN_DB"])
    try:
        return store.save_plan(con, SYSTEM, "Bench rep", "Big plan", inputs)
    finally:
        con.close()


def _in_a_process(root: Path, args: argparse.Namespace, moves: int) -> dict[str, object]:
    """:func:`_measure` in a fresh Python for the checkout at ``root``, on a fresh database."""
    with tempfile.TemporaryDirectory(prefix="backplan-bench-plan-") as folder:
        command = [sys.executable, str(Path(__file__).resolve()), "--measure", str(root), "--moves", str(moves)]
        command += ["--stages", str(args.stages)] if args.stages else []
        command += ["--weeks", str(args.weeks)] if args.weeks else []
        command += ["--as-apptest"] if args.as_apptest else []
        env = {**os.environ, "BACKPLAN_DB": str(Path(folder) / "bench.duckdb"), "PYTHONPATH": str(root)}
        done = subprocess.run(command, env=env, cwd=root, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"the run in {root} failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", type=int, default=None, help="funnel stages above the won deals (default: 3)")
    parser.add_argument("--weeks", type=int, default=None, help="weeks in the period (default: the example's)")
    parser.add_argument("--as-apptest", action="store_true", help="let AppTest compile the scripts on every run")
    parser.add_argument("--moves", type=int, default=MOVES, help="timed moves (per round with --against)")
    parser.add_argument("--against", type=Path, help="another checkout to time in turns with this one")
    parser.add_argument("--rounds", type=int, default=4, help="with --against: rounds of one process each")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # one process's run, as JSON
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure(args.measure, args.moves, args.stages, args.weeks, args.as_apptest)))
        return

    sys.path.insert(0, str(ROOT))
    from bench._timing import report

    big = bool(args.stages or args.weeks)
    target = 300 if big else 100
    trees = {"now": ROOT} if args.against is None else {"before": args.against.resolve(), "now": ROOT}
    runs: dict[str, list[dict[str, object]]] = {name: [] for name in trees}
    for _ in range(args.rounds if args.against else 1):
        for name, root in trees.items():
            runs[name].append(_in_a_process(root, args, args.moves))
    for name, root in trees.items():
        wall = [t for run in runs[name] for t in run["wall"]]  # type: ignore[attr-defined]
        cpu = [t for run in runs[name] for t in run["cpu"]]  # type: ignore[attr-defined]
        first = runs[name][0]
        how = "the fragment alone" if first["fragment"] else "the whole page"
        print(f"{name}: {root} — {first['label']}; a move reruns {how}; first (cold) run {first['cold']:.1f} s")
        report(f"  {name}: server time per target slider move", wall, target_ms=target)
        report(f"  {name}: CPU time per move", cpu)
        if not big:
            median = sorted(wall)[len(wall) // 2] * 1000
            print(f"  {name}: peer ratio {PEER_MS / median:.1f}× (the peer's {PEER_MS:,} ms over {median:.0f} ms)")


if __name__ == "__main__":
    main()
