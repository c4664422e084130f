"""Plan page rerun time after a slider move, measured with AppTest (warm).

    python bench/bench_plan_page.py                 # scripts compiled once, as the server does
    python bench/bench_plan_page.py --as-apptest    # AppTest as it is: every run compiles them again

Target (docs/design.md): under 30 ms of server time. AppTest runs the whole script in-process
(widgets, planner, four Plotly figures, serialisation) but not the browser.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit.testing.v1.app_test as app_test_module  # noqa: E402
from streamlit.runtime.scriptrunner.script_cache import ScriptCache  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from bench._timing import report  # noqa: E402

MOVES = 60


def _share_script_cache() -> None:
    """Compile each script once, as a running server does.

    AppTest builds a fresh ScriptCache for every run, so each rerun would parse and
    compile app.py and the page again (about 45% of the time measured, by py-spy).
    """
    shared = ScriptCache()
    app_test_module.ScriptCache = lambda: shared  # type: ignore[assignment, misc]


def main() -> None:
    if "--as-apptest" not in sys.argv:
        _share_script_cache()
    start = time.perf_counter()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    print(f"first (cold) run: {(time.perf_counter() - start) * 1000:.0f} ms")
    assert not at.exception, at.exception
    for target in (400_000, 385_000, 390_000):  # warm caches and imports
        at.slider(key="plan.target_slider").set_value(target).run()
    timings = []
    for move in range(MOVES):
        target = 300_000 + 5_000 * move
        slider = at.slider(key="plan.target_slider").set_value(target)
        began = time.perf_counter()
        slider.run()
        timings.append(time.perf_counter() - began)
        assert not at.exception, at.exception
    report("Plan page rerun after a target slider move", timings, target_ms=150)


if __name__ == "__main__":
    main()
