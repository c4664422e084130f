"""Forecast speed: a 500-rep team, 20,000 open deals, 10,000 simulated periods.

    python bench/bench_forecast.py

Target (issue 17): the forecast, with the "without the largest 1 and 3 deals" scenarios, under
300 ms on this 2-core machine. Every deal closes inside the period, so every one is simulated (the
worst case); a second line times a pipeline whose close dates run past the period end, as real ones
do. Peak memory is Python's traced allocations (numpy's included) during one forecast.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._timing import report, time_calls  # noqa: E402
from planner.calibrate import calibrate_export  # noqa: E402
from planner.demo import DEMO_PIPELINE, demo_crm_export  # noqa: E402
from planner.forecast import RepStanding, forecast  # noqa: E402

START, END = date(2027, 1, 1), date(2027, 3, 31)
AS_OF = date(2027, 2, 15)
REPS, DEALS, SIMULATIONS = 500, 20_000, 10_000


def pipeline(rng: np.random.Generator, days_ahead: int) -> tuple[pd.DataFrame, dict[str, int]]:
    stages = [name for name, _, _ in DEMO_PIPELINE]
    deals = pd.DataFrame(
        {
            "deal_id": [f"D{i:06d}" for i in range(DEALS)],
            "owner": [f"Rep {i:03d}" for i in rng.integers(0, REPS, DEALS)],
            "account": "",
            "stage": rng.choice(stages, DEALS),
            "outcome": "open",
            "amount": rng.lognormal(9, 0.8, DEALS).round(-2),
            "close_date": pd.Timestamp(AS_OF) + pd.to_timedelta(rng.integers(0, days_ahead, DEALS), unit="D"),
            "days_at_stage": rng.integers(0, 60, DEALS),
        }
    )
    slipped = rng.random(DEALS) < 0.15
    slips = dict(zip(deals["deal_id"][slipped], rng.integers(1, 4, int(slipped.sum())).tolist(), strict=True))
    return deals, slips


def main() -> None:
    rng = np.random.default_rng(2027)
    export = demo_crm_export(3_000).to_csv(index=False).encode()
    profile = calibrate_export(export, "demo.csv")[1]
    booked = rng.uniform(60_000, 140_000, REPS).round(-2)
    left = rng.uniform(25_000, 80_000, REPS).round(-3)  # about what the pipeline is expected to bring
    reps = [RepStanding(f"Rep {i:03d}", booked[i] + left[i], booked[i], START, END) for i in range(REPS)]
    in_period = (END - AS_OF).days + 1
    print(f"Forecast, {REPS} reps, {DEALS:,} open deals, {SIMULATIONS:,} simulations, without the top 1 and 3")
    # The machine is shared: the load says how much of the two cores the timing could have.
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    for label, days in (("every deal closing in the period", in_period), ("close dates over 120 days", 120)):
        deals, slips = pipeline(rng, days)

        def run(deals: pd.DataFrame = deals, slips: dict[str, int] = slips) -> object:
            return forecast(deals, profile, reps, AS_OF, slips=slips, simulations=SIMULATIONS)

        result = run()
        timings = time_calls(run, 15)
        report(f"forecast, {label}", timings, 300)
        # On a shared machine the fastest run is the nearest to what the code costs on two idle cores.
        print(f"    fastest of the {len(timings)} runs {min(timings) * 1000:,.0f} ms")
        cpu = []
        for _ in range(5):
            start = time.process_time()
            run()
            cpu.append(time.process_time() - start)
        print(f"    CPU time per forecast, both threads together: median {statistics.median(cpu) * 1000:,.0f} ms")
        tracemalloc.start()
        run()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        team = result.base.team
        print(
            f"    peak traced memory {peak / 2**20:,.0f} MiB; team P10/P50/P90 {team.p10:,.0f} / {team.p50:,.0f} / "
            f"{team.p90:,.0f}, chance of hitting {team.chance_of_hitting:.0%}, {team.deals:,} deals in the period",
            flush=True,
        )


if __name__ == "__main__":
    main()
