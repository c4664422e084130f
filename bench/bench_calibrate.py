"""Calibrating a 1,000,000-row CRM export: Backplan's command line beside plain pandas and plain DuckDB.

    python bench/bench_calibrate.py [--rows 1000000] [--repeat 3] [--naive] [--before CHECKOUT]
    python bench/bench_calibrate.py --page [--rows 1000000] [--reruns 20]
    python bench/bench_calibrate.py --page --browser [--rows 1000000] [--reruns 20]

The export is ``planner.demo.demo_crm_export`` written as CSV (HubSpot layout with "Date entered …"
columns), cached in /tmp between runs.

Default mode: each implementation runs in a fresh process, end to end (interpreter start, imports,
reading the file, typing it, every headline figure), ``--repeat`` times, interleaved, so a burst of
load on the shared machine hits all of them alike. For each run it prints the process's wall
seconds, CPU seconds (user + system, every thread) and peak memory (``ru_maxrss``), then how
long its imports took and the work after them; and it checks the figures agree:

- Backplan: ``backplan calibrate FILE --json`` (``planner.cli.main``), the command a user runs;
- plain pandas: ``read_csv`` and boolean masks giving the same headline figures;
- plain DuckDB: one ``read_csv`` query giving them, for reference;
- ``--naive``: the first naive pandas version (row loops and ``apply``), slow;
- ``--before CHECKOUT``: ``backplan calibrate`` from another checkout too (``git worktree add`` or
  ``git archive`` of an older commit), in the same rounds.

The children run without ``PYTHONDONTWRITEBYTECODE`` (as an installed package does: compiled once),
after one untimed warm-up run of each.

``--page``: the Calibrate page under AppTest (scripts compiled once, as a server does), a 1M-row
upload given as the uploader's callback stores it: the first run after the upload, then reruns
(a profile name typed, and plain reruns), and the process's peak memory.

``--page --browser``: the same in a real server (``streamlit run app.py``) driven by headless
Chromium, the file given to the uploader as a user gives it: seconds from the upload to the
figures, then each rerun from the key that commits a profile name to the run's end as the
browser sees it, and the server's peak resident memory (``VmHWM``, the uploader's own copy of the
file included).

Targets (issue 18): the command line ≤ 2.5 s and ≤ 600 MB, and faster than plain pandas in the
same run; a Calibrate page rerun after a 1M upload ≤ 300 ms, peak ≤ 1 GB.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The checkout whose ``planner`` a measured child imports (``--before`` runs another one beside this one).
TREE = Path(os.environ.get("BACKPLAN_BENCH_TREE", ROOT))
sys.path.insert(0, str(TREE))

TARGET_SECONDS = 2.5
TARGET_MB = 600.0
PAGE_TARGET_MS = 300.0
PAGE_TARGET_MB = 1024.0
#: The headline figures every implementation prints, compared across them.
HEADLINE = ("won", "lost", "open", "win_rate", "win_rate_value", "avg_deal_size", "median_deal_size",
            "median_cycle_days")  # fmt: skip
FIGURES = ("rows", *HEADLINE, "owners")


def export_path(rows: int) -> Path:
    """The cached export, generated on first use (same seed, same file)."""
    path = Path(tempfile.gettempdir()) / f"backplan_bench_crm_{rows}.csv"
    if not path.exists() or path.stat().st_size == 0:
        from planner.demo import demo_crm_export

        print(f"generating {rows:,} deals into {path} …", flush=True)
        partial = path.with_suffix(".partial")
        demo_crm_export(rows).to_csv(partial, index=False, lineterminator="\n")
        partial.replace(path)
    return path


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


# --------------------------------------------------------------------------- the implementations


def run_backplan(path: Path) -> dict:
    """``backplan calibrate FILE --json``, in this process, its figures read back from what it prints."""
    from planner.cli import main

    out = io.StringIO()
    with redirect_stdout(out):
        status = main(["calibrate", str(path), "--json"])
    if status != 0:
        raise SystemExit(f"backplan calibrate exited {status}")
    report = json.loads(out.getvalue())
    return {
        **{k: report[k] for k in HEADLINE},
        "rows": report["rows"],
        "conversion": [c["rate"] for c in report["stage_conversion"]],
        "owners": len(report["by_owner"]),
    }


def value_win_rate(won: int, lost: int, won_amount: float, won_with_amount: int, lost_amount: float,
                   lost_with_amount: int, avg: float) -> float | None:  # fmt: skip
    """Backplan's value win rate (docs/design.md): a won deal without an amount counts as an average won deal, a
    lost one as an average lost deal (most have one) or an average won deal (most have none)."""
    won_amount += (won - won_with_amount) * avg
    if lost == 0:
        return 1.0 if won_amount > 0 else None
    if lost_with_amount == lost:
        return won_amount / (won_amount + lost_amount)
    if lost_with_amount >= lost / 2:
        return won_amount / (won_amount + lost_amount + (lost - lost_with_amount) * lost_amount / lost_with_amount)
    return won_amount / (won_amount + lost * avg)


def _pipeline(columns: list[str]) -> tuple[list[str], list[str]]:
    """The "Date entered …" columns in funnel order and their stage names (this export's layout, won last)."""
    entered = [c for c in columns if c.startswith("Date entered")]
    return entered, [re.sub(r'^Date entered "(.*) \(.*\)"$', r"\1", c) for c in entered]


def run_pandas(path: Path) -> dict:
    """Plain pandas: read_csv, then boolean masks; what a data analyst would write for the same figures."""
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(path)
    entered, stages = _pipeline(list(frame.columns))
    stage = frame["Deal Stage"]
    won, lost = (stage == stages[-1]).to_numpy(), (stage == "Closed Lost").to_numpy()
    closed = won | lost
    amount = frame["Amount"].to_numpy(dtype="float64")
    furthest = np.full(len(frame), -1)
    for i, column in enumerate(entered):
        furthest[frame[column].notna().to_numpy()] = i
    for i, name in enumerate(stages[:-1]):
        furthest = np.where((stage == name).to_numpy(), np.maximum(furthest, i), furthest)
    furthest[won] = len(stages) - 1
    furthest[lost & (furthest < 0)] = 0
    created = pd.to_datetime(frame["Create Date"].str.slice(0, 10), format="%Y-%m-%d")
    close = pd.to_datetime(frame["Close Date"].str.slice(0, 10), format="%Y-%m-%d")
    cycle = (close - created).dt.days[won].dropna()
    won_amounts = amount[won & ~np.isnan(amount)]
    lost_amounts = amount[lost & (amount > 0)]
    n_won, n_lost = int(won.sum()), int(lost.sum())
    avg = float(won_amounts.mean())
    return {
        "rows": len(frame),
        "won": n_won,
        "lost": n_lost,
        "open": len(frame) - n_won - n_lost,
        "win_rate": n_won / (n_won + n_lost),
        "win_rate_value": value_win_rate(
            n_won, n_lost, float(won_amounts.sum()), len(won_amounts), float(lost_amounts.sum()), len(lost_amounts), avg
        ),
        "avg_deal_size": avg,
        "median_deal_size": float(np.median(won_amounts)),
        "median_cycle_days": float(cycle.median()),
        "conversion": [
            int((closed & (furthest >= i + 1)).sum()) / int((closed & (furthest >= i)).sum())
            for i in range(len(stages) - 1)
        ],
        "owners": int(frame["Deal owner"].nunique()),
    }


def run_duckdb(path: Path) -> dict:
    """Plain DuckDB: one query over read_csv, for reference (no problem report, no row numbers, no notes)."""
    import duckdb

    con = duckdb.connect()
    columns = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_csv(?)", [str(path)]).fetchall()]
    entered, stages = _pipeline(columns)

    def quoted(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    # Column names come from this benchmark's own export; stage names are passed as parameters.
    reached = " ".join(f"WHEN {quoted(c)} IS NOT NULL THEN {i}" for i, c in reversed(list(enumerate(entered))))
    at_stage = " ".join(f'WHEN "Deal Stage" = ${i + 3} THEN {i}' for i in range(len(stages) - 1))
    steps = ", ".join(
        f"count(*) FILTER (WHERE closed AND furthest >= {i}), count(*) FILTER (WHERE closed AND furthest >= {i + 1})"
        for i in range(len(stages) - 1)
    )
    row = con.execute(
        f"""
        WITH raw AS (SELECT * FROM read_csv($1)),
        d AS (
            SELECT "Deal Stage" AS stage, "Amount" AS amount, "Deal owner" AS owner,
                "Deal Stage" = $2 AS won, "Deal Stage" = 'Closed Lost' AS lost,
                "Deal Stage" IN ($2, 'Closed Lost') AS closed,
                CAST("Create Date" AS DATE) AS created, CAST("Close Date" AS DATE) AS close_day,
                CASE WHEN "Deal Stage" = $2 THEN {len(stages) - 1}
                     ELSE greatest(CASE {reached} ELSE -1 END, CASE {at_stage} ELSE -1 END,
                                   CASE WHEN "Deal Stage" = 'Closed Lost' THEN 0 ELSE -1 END) END AS furthest
            FROM raw)
        SELECT count(*), count(*) FILTER (WHERE won), count(*) FILTER (WHERE lost),
            coalesce(sum(amount) FILTER (WHERE won), 0), count(amount) FILTER (WHERE won),
            coalesce(sum(amount) FILTER (WHERE lost AND amount > 0), 0), count(*) FILTER (WHERE lost AND amount > 0),
            avg(amount) FILTER (WHERE won), median(amount) FILTER (WHERE won),
            median(date_diff('day', created, close_day)) FILTER (WHERE won), count(DISTINCT owner), {steps}
        FROM d
        """,
        [str(path), stages[-1], *stages[:-1]],
    ).fetchone()
    assert row is not None
    rows, won, lost, won_amount, won_with, lost_amount, lost_with, avg, median, cycle, owners, *pairs = row
    return {
        "rows": rows,
        "won": won,
        "lost": lost,
        "open": rows - won - lost,
        "win_rate": won / (won + lost),
        "win_rate_value": value_win_rate(won, lost, won_amount, won_with, lost_amount, lost_with, avg),
        "avg_deal_size": avg,
        "median_deal_size": float(median),
        "median_cycle_days": float(cycle),
        "conversion": [pairs[i + 1] / pairs[i] for i in range(0, len(pairs), 2)],
        "owners": owners,
    }


def _outcome(stage: str) -> str:
    if "Won" in stage:
        return "won"
    if "Lost" in stage:
        return "lost"
    return "open"


def _figures(group, stages: int) -> dict:  # type: ignore[no-untyped-def]
    """The figures for one group of deals: plain pandas on an already typed frame, once per owner."""
    won = group[group["outcome"] == "won"]
    lost = group[group["outcome"] == "lost"]
    cycle = (won["closed"] - won["created"]).dt.days.dropna()
    conversions = []
    closed = group[group["outcome"] != "open"]  # conversion counts closed deals (DESIGN.md, issue 12)
    for i in range(stages - 1):
        decided = closed[closed["furthest"] >= i]
        conversions.append((decided["furthest"] >= i + 1).mean() if len(decided) else None)
    closed = len(won) + len(lost)
    value = won["Amount"].sum() + lost["Amount"].sum()
    return {
        "win_rate": len(won) / closed if closed else None,
        "win_rate_value": won["Amount"].sum() / value if value else None,
        "avg_deal_size": won["Amount"].mean(),
        "median_deal_size": won["Amount"].median(),
        "median_cycle_days": float(cycle.median()) if len(cycle) else None,
        "conversion": conversions,
    }


def run_naive(path: Path) -> dict:
    """The first naive version: row loops and ``apply`` (its value win rate counts lost deals without an amount as
    worth nothing, so that figure differs)."""
    from datetime import datetime

    import pandas as pd

    frame = pd.read_csv(path)  # default parsing: types guessed, dates left as text
    entered = [c for c in frame.columns if c.startswith("Date entered")]
    frame["outcome"] = frame["Deal Stage"].apply(_outcome)

    def parse(text: object) -> datetime | None:
        return datetime.strptime(text[:10], "%Y-%m-%d") if isinstance(text, str) and text else None

    frame["created"] = frame["Create Date"].apply(parse)
    frame["closed"] = frame["Close Date"].apply(parse)

    def furthest(row: pd.Series) -> int:
        reached = 0
        for i, column in enumerate(entered):
            if isinstance(row[column], str) and row[column]:
                reached = i
        return reached

    frame["furthest"] = frame.apply(furthest, axis=1)
    overall = _figures(frame, len(entered))
    by_owner = frame.groupby("Deal owner").apply(lambda g: _figures(g, len(entered)), include_groups=False)
    won = int((frame["outcome"] == "won").sum())
    lost = int((frame["outcome"] == "lost").sum())
    return {
        "rows": len(frame),
        "won": won,
        "lost": lost,
        "open": len(frame) - won - lost,
        **overall,
        "owners": len(by_owner),
    }


#: label, the modules it imports (timed apart from the work), the run
KINDS = {
    "backplan": ("Backplan: backplan calibrate", ("planner.cli",), run_backplan),
    "before": ("Backplan before (--before)", ("planner.cli",), run_backplan),
    "pandas": ("plain pandas: read_csv + masks", ("pandas",), run_pandas),
    "duckdb": ("plain DuckDB: one query", ("duckdb",), run_duckdb),
    "naive": ("naive pandas: loops, apply", ("pandas",), run_naive),
}


# --------------------------------------------------------------------------- driver


def measure(kind: str, path: Path, before: Path | None = None) -> dict:
    """One run in a fresh interpreter: its figures, and the process's wall and CPU seconds and peak memory."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    tree = before if kind == "before" and before is not None else ROOT
    env["PYTHONPATH"] = str(tree) + os.pathsep + env.get("PYTHONPATH", "")
    env["BACKPLAN_BENCH_TREE"] = str(tree)
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, "--measure", kind, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env,
    )  # fmt: skip
    out, err = child.communicate()
    wall = time.perf_counter() - start
    # communicate() has reaped the child: its own usage is the growth of RUSAGE_CHILDREN (one child at a time).
    if child.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{err.decode()}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    return {**result, "wall": wall}


def _children_usage() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def measured(kind: str, path: Path, before: Path | None = None) -> dict:
    """:func:`measure` with the child's CPU seconds (every thread) from the parent's view."""
    cpu_before, _ = _children_usage()
    result = measure(kind, path, before)
    cpu_after, _ = _children_usage()
    return {**result, "cpu": cpu_after - cpu_before}


def _same(a: object, b: object) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def compare(args: argparse.Namespace) -> None:
    path = export_path(args.rows)
    kinds = ["backplan", *(["before"] if args.before else []), "pandas", "duckdb", *(["naive"] if args.naive else [])]
    print(f"export: {path} ({path.stat().st_size / 2**20:,.0f} MB, {args.rows:,} deals)")
    if args.before:
        print(f"before: {args.before}")
    print(f"load average at start: {' '.join(f'{v:.1f}' for v in os.getloadavg())} (2 cores)", flush=True)
    for kind in kinds:  # compiles the bytecode and warms the page cache; not timed
        if kind != "naive":
            measure(kind, path, args.before)
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    header = f"{'run':<5}{'implementation':<36}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}  imports s, then the work"
    print(header)
    for round_ in range(1, args.repeat + 1):
        for kind in kinds:
            r = measured(kind, path, args.before)
            runs[kind].append(r)
            work = f"{r['import_seconds']:.2f}, then {r['work_seconds']:.2f} ({r['work_cpu']:.2f} CPU)"
            print(f"{round_:<5}{KINDS[kind][0]:<36}{r['wall']:>8.2f}{r['cpu']:>8.2f}{r['peak_mb']:>9,.0f}  {work}",
                  flush=True)  # fmt: skip
    print(f"load average at end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(f"\n{'':<5}{'implementation':<36}{'wall s (best / median)':>24}{'CPU s (best / median)':>24}{'peak MB':>9}")
    for kind in kinds:
        walls, cpus = [r["wall"] for r in runs[kind]], [r["cpu"] for r in runs[kind]]
        peak = max(r["peak_mb"] for r in runs[kind])
        print(f"{'':<5}{KINDS[kind][0]:<36}{min(walls):>12.2f} / {statistics.median(walls):<9.2f}"
              f"{min(cpus):>12.2f} / {statistics.median(cpus):<9.2f}{peak:>9,.0f}")  # fmt: skip
    b, p = runs["backplan"], runs["pandas"]
    best_wall, peak = min(r["wall"] for r in b), max(r["peak_mb"] for r in b)
    faster = sum(x["wall"] < y["wall"] for x, y in zip(b, p, strict=True))
    faster_cpu = sum(x["cpu"] < y["cpu"] for x, y in zip(b, p, strict=True))
    print(f"\ntarget ≤ {TARGET_SECONDS:g} s (best run): {'met' if best_wall <= TARGET_SECONDS else 'MISSED'} "
          f"({best_wall:.2f} s wall, {min(r['cpu'] for r in b):.2f} s CPU)")  # fmt: skip
    print(f"target ≤ {TARGET_MB:,.0f} MB: {'met' if peak <= TARGET_MB else 'MISSED'} ({peak:,.0f} MB)")
    print(f"faster than plain pandas: {faster} of {len(b)} rounds by wall time, {faster_cpu} of {len(b)} by CPU time")
    print("\nfigures (backplan | plain pandas | plain DuckDB):")
    first = {k: runs[k][0] for k in kinds}
    for key in (*FIGURES, "conversion"):
        values = [first[k][key] for k in ("backplan", "pandas", "duckdb")]
        shown = [[round(v, 4) for v in x] if isinstance(x, list) else x for x in values]
        agree = "same" if all(_same(values[0], v) for v in values[1:]) else "DIFFERENT"
        print(f"  {key:<20}{shown[0]!s:>24} | {shown[1]!s:<24} | {shown[2]!s:<24} {agree}")


# --------------------------------------------------------------------------- the page


def page(args: argparse.Namespace) -> None:
    """The Calibrate page after a 1M-row upload, under AppTest, scripts compiled once."""
    import hashlib

    from streamlit.testing.v1 import AppTest

    from bench._timing import report
    from bench.bench_plan_page import _share_script_cache

    path = export_path(args.rows)
    print(f"load average at start: {' '.join(f'{v:.1f}' for v in os.getloadavg())} (2 cores)", flush=True)
    _share_script_cache()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["BACKPLAN_DB"] = str(Path(folder) / "bench.duckdb")
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
        at.switch_page("pages/calibrate.py").run()
        assert not at.exception, at.exception
        data = path.read_bytes()
        # What the uploader's callback stores (pages/calibrate.py, _take_upload).
        at.session_state["calibrate.source"] = {"name": path.name, "data": data,
                                                "digest": hashlib.sha256(data).hexdigest()}  # fmt: skip
        del data
        start, cpu = time.perf_counter(), time.process_time()
        at.run()
        assert not at.exception, at.exception
        print(f"first run after the upload: {time.perf_counter() - start:.2f} s ({time.process_time() - cpu:.2f} s CPU)"
              f", peak {peak_mb():,.0f} MB so far")  # fmt: skip
        rows = next(m.value for m in at.metric if m.label == "Rows read")
        assert rows == f"{args.rows:,}", rows
        typed, plain = [], []
        cpu = time.process_time()
        for n in range(args.reruns):
            box = at.text_input(key="calibrate.profile_name").set_value(f"FY2025 deals {n}")
            began = time.perf_counter()
            box.run()
            typed.append(time.perf_counter() - began)
            began = time.perf_counter()
            at.run()
            plain.append(time.perf_counter() - began)
            assert not at.exception, at.exception
        cpu_each = (time.process_time() - cpu) / (2 * args.reruns) * 1000
        report("Calibrate page rerun: profile name typed", typed, target_ms=PAGE_TARGET_MS)
        report("Calibrate page rerun: nothing changed", plain, target_ms=PAGE_TARGET_MS)
        print(f"CPU per rerun: {cpu_each:.0f} ms")
    verdict = "met" if peak_mb() <= PAGE_TARGET_MB else "MISSED"
    print(f"peak memory {peak_mb():,.0f} MB (target ≤ {PAGE_TARGET_MB:,.0f} MB: {verdict})")
    print(f"load average at end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


#: Records when the app's script starts and finishes running, as the browser sees it (Streamlit marks its root).
_WATCH_RUNS = """
window.__runs = [];
const app = document.querySelector("[data-testid='stApp']");
new MutationObserver(() => window.__runs.push([performance.now(), app.getAttribute("data-test-script-state")]))
    .observe(app, {attributes: true, attributeFilter: ["data-test-script-state"]});
"""


def page_browser(args: argparse.Namespace) -> None:
    """The Calibrate page in a real server and Chromium after a 1M-row upload: reruns and the server's peak memory."""
    from playwright.sync_api import expect, sync_playwright

    from bench._timing import report
    from bench.bench_load import CHROMIUM, CHROMIUM_ARGS, cpu_seconds, start_server

    path = export_path(args.rows)
    print(f"load average at start: {' '.join(f'{v:.1f}' for v in os.getloadavg())} (2 cores)", flush=True)
    with tempfile.TemporaryDirectory(prefix="backplan-calibrate-") as folder:
        server, url = start_server(Path(folder))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{url}/calibrate")
                app = page.get_by_test_id("stApp")
                idle = page.locator("[data-test-script-state='notRunning']")
                expect(page.get_by_role("heading", name="Calibrate from last year's deals")).to_be_visible(
                    timeout=60_000
                )
                expect(app.and_(idle)).to_be_visible(timeout=60_000)
                print(f"server resident before the upload: {_server_mb(server.pid, 'VmRSS'):,.0f} MB", flush=True)
                began = time.perf_counter()
                uploader = page.get_by_role("region", name=re.compile("^Upload last year's deals"))
                uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(path)
                rows = page.get_by_test_id("stMetric").filter(has_text="Rows read").get_by_test_id("stMetricValue")
                expect(rows).to_have_text(f"{args.rows:,}", timeout=600_000)
                expect(app.and_(idle)).to_be_visible(timeout=600_000)
                print(f"upload to figures on screen: {time.perf_counter() - began:.2f} s; server peak so far "
                      f"{_server_mb(server.pid, 'VmHWM'):,.0f} MB", flush=True)  # fmt: skip
                page.evaluate(_WATCH_RUNS)
                box = page.get_by_role("textbox", name="Profile name")
                timings, cpu = [], cpu_seconds(server.pid)
                for n in range(args.reruns):
                    box.fill(f"FY2025 deals {n}")
                    page.evaluate("window.__runs = []")
                    pressed = page.evaluate("performance.now()")
                    box.press("Enter")
                    page.wait_for_function(
                        "() => window.__runs.some(([, s]) => s === 'running') && "
                        "window.__runs.at(-1)[1] === 'notRunning'",
                        timeout=60_000,
                    )
                    finished = page.evaluate("window.__runs.at(-1)[0]")
                    timings.append((finished - pressed) / 1000)
                cpu_each = (cpu_seconds(server.pid) - cpu) / args.reruns * 1000
                report("Calibrate page rerun in Chromium: profile name", timings, target_ms=PAGE_TARGET_MS)
                print(f"server CPU per rerun: {cpu_each:.0f} ms")
                browser.close()
            peak = _server_mb(server.pid, "VmHWM")
            verdict = "met" if peak <= PAGE_TARGET_MB else "MISSED"
            print(f"server peak resident memory {peak:,.0f} MB (target ≤ {PAGE_TARGET_MB:,.0f} MB: {verdict})")
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"load average at end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


def _server_mb(pid: int, field: str) -> float:
    """A memory figure of process ``pid`` from /proc (VmRSS: resident now; VmHWM: the most it has been)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every implementation, interleaved")
    parser.add_argument("--naive", action="store_true", help="also the naive loops-and-apply version (slow)")
    parser.add_argument("--before", type=Path, help="also backplan calibrate from this checkout (an older commit)")
    parser.add_argument("--page", action="store_true", help="the Calibrate page's reruns after a 1M upload")
    parser.add_argument("--browser", action="store_true", help="with --page: a real server, driven by Chromium")
    parser.add_argument("--reruns", type=int, default=20)
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        kind, file = args.measure
        _, modules, run = KINDS[kind]
        start = time.perf_counter()
        for module in modules:
            importlib.import_module(module)
        imported, cpu = time.perf_counter(), time.process_time()
        figures = run(Path(file))
        figures.update(import_seconds=imported - start, work_seconds=time.perf_counter() - imported,
                       work_cpu=time.process_time() - cpu, peak_mb=peak_mb())  # fmt: skip
        print(json.dumps(figures))
        return
    (page_browser if args.page and args.browser else page if args.page else compare)(args)


if __name__ == "__main__":
    main()
