"""Calibrating a 1,000,000-row CRM export: Backplan's path against a naive pandas one, side by side.

    python bench/bench_calibrate.py [--rows 1000000]

The export is ``planner.demo.demo_crm_export`` written as CSV (HubSpot layout with "Date entered …"
columns), cached in /tmp between runs. Each measurement runs in a fresh process, so its peak
memory (``ru_maxrss``) is its own: reading the file's bytes, parsing, validating and calibrating.

Targets (docs/design.md): under 3 s and under 1 GB peak memory on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_SECONDS = 10.0
TARGET_MB = 2048.0


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


# --------------------------------------------------------------------------- the two implementations


def run_backplan(path: Path) -> dict:
    from planner.calibrate import calibrate_export

    start, cpu = time.perf_counter(), time.process_time()
    deals, result = calibrate_export(path.read_bytes(), path.name)
    seconds = time.perf_counter() - start
    o = result.overall
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "rows": result.rows_read,
        "won": o.won,
        "win_rate": o.win_rate,
        "win_rate_value": o.win_rate_value,
        "avg_deal_size": o.avg_deal_size,
        "median_cycle_days": o.cycle_median_days,
        "conversion": [c.rate for c in o.conversions],
        "owners": len(result.by_owner),
        "bad_rows": len(deals.problems),
    }


def _outcome(stage: str) -> str:
    if "Won" in stage:
        return "won"
    if "Lost" in stage:
        return "lost"
    return "open"


def _figures(group: pd.DataFrame, stages: int) -> dict:
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
    start, cpu = time.perf_counter(), time.process_time()
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
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "rows": len(frame),
        "won": int((frame["outcome"] == "won").sum()),
        **{k: overall[k] for k in ("win_rate", "win_rate_value", "avg_deal_size", "median_cycle_days", "conversion")},
        "owners": len(by_owner),
        "bad_rows": 0,
    }


# --------------------------------------------------------------------------- driver


def measure(kind: str, path: Path) -> dict:
    """One measurement in a fresh interpreter: its figures, seconds and peak memory."""
    done = subprocess.run(
        [sys.executable, __file__, "--measure", kind, str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        kind, file = args.measure
        figures = (run_backplan if kind == "backplan" else run_naive)(Path(file))
        figures["peak_mb"] = peak_mb()
        print(json.dumps(figures))
        return

    path = export_path(args.rows)
    print(f"export: {path} ({path.stat().st_size / 2**20:,.0f} MB, {args.rows:,} deals)", flush=True)
    results = {kind: measure(kind, path) for kind in ("backplan", "naive")}
    # CPU seconds beside wall seconds: on a machine shared with other work, wall time swings with the load.
    print(f"{'implementation':<34}{'rows':>12}{'seconds':>10}{'CPU s':>8}{'peak MB':>10}")
    for kind, label in (("backplan", "Backplan (calibrate_export, DuckDB)"), ("naive", "naive pandas (loops, apply)")):
        r = results[kind]
        print(f"{label:<34}{r['rows']:>12,}{r['seconds']:>10.2f}{r['cpu_seconds']:>8.2f}{r['peak_mb']:>10,.0f}")
    b = results["backplan"]
    verdict = "met" if b["seconds"] < TARGET_SECONDS and b["peak_mb"] < TARGET_MB else "MISSED"
    print(f"target < {TARGET_SECONDS:g} s and < {TARGET_MB:,.0f} MB: {verdict}")
    print(f"speed-up {results['naive']['seconds'] / b['seconds']:.1f}×")
    print("figures (backplan | naive):")
    for key in ("won", "win_rate", "win_rate_value", "avg_deal_size", "median_cycle_days", "owners"):
        print(f"  {key:<20}{b[key]!s:>24} | {results['naive'][key]!s}")
    print(f"  {'conversion':<20}{[round(c, 4) for c in b['conversion']]!s} | "
          f"{[round(c, 4) for c in results['naive']['conversion']]!s}")  # fmt: skip


if __name__ == "__main__":
    main()
