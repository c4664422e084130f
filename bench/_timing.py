"""Timing helpers shared by the bench scripts: median and p95 of repeated runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


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


def report(name: str, timings: list[float], target_ms: float | None = None) -> str:
    """One line: median and p95 in milliseconds, against the target when there is one."""
    ordered = sorted(timings)
    median = statistics.median(ordered) * 1000
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000
    verdict = ""
    if target_ms is not None:
        verdict = f"  target < {target_ms:g} ms: {'met' if p95 < target_ms else 'MISSED'}"
    line = f"{name:<48} median {median:9.3f} ms   p95 {p95:9.3f} ms   (n={len(ordered)}){verdict}"
    print(line, flush=True)
    return line
