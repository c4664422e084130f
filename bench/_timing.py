"""Timing helpers shared by the bench scripts: median, p95 and best of repeated runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping


def time_calls(call: Callable[[], object], repeat: int, warmup: int = 3) -> list[float]:
    """Seconds taken by each of ``repeat`` calls, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        timings.append(time.perf_counter() - start)
    return timings


def time_interleaved(calls: Mapping[str, Callable[[], object]], repeat: int, warmup: int = 2) -> dict[str, list[float]]:
    """Seconds taken by each call, ``repeat`` rounds of one call of each in turn (after ``warmup`` rounds).

    Taking turns puts a before and an after under the same load: on a shared machine, timings taken one
    after the other can differ by 2× for no reason of their own.
    """
    for _ in range(warmup):
        for call in calls.values():
            call()
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            timings[name].append(time.perf_counter() - start)
    return timings


def report(name: str, timings: list[float], target_ms: float | None = None) -> str:
    """One line: median, p95 and best in milliseconds, against the target (by the p95) when there is one."""
    ordered = sorted(timings)
    median = statistics.median(ordered) * 1000
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000
    verdict = ""
    if target_ms is not None:
        verdict = f"  target < {target_ms:g} ms: {'met' if p95 < target_ms else 'MISSED'}"
    line = (
        f"{name:<48} median {median:9.3f} ms   p95 {p95:9.3f} ms   best {ordered[0] * 1000:9.3f} ms"
        f"   (n={len(ordered)}){verdict}"
    )
    print(line, flush=True)
    return line
