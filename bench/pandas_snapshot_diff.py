"""The snapshot diff as it was computed before issue 18: pandas, an index join and a Series per flag.

Kept as the old path: ``bench_team.py`` times it beside :func:`planner.team.snapshot_diff`, and
``tests/test_team.py`` checks on random snapshots that the two agree deal by deal and total by total.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from planner.team import _WATERFALL, CHANGE_CATEGORIES, SnapshotDiff, _stage_rank, convert_pipeline

__all__ = ["convert_pipeline", "snapshot_diff"]  # convert_pipeline: the one the old path used, unchanged


def snapshot_diff(
    older: pd.DataFrame, newer: pd.DataFrame, period_end: date | None = None, stage_order: Sequence[str] | None = None
) -> SnapshotDiff:
    """The pandas implementation as it was before issue 18 (outer join on the index, flags as Series)."""
    columns = ["deal_id", "owner", "account", "stage", "outcome", "amount", "close_date"]
    a = older[columns].drop_duplicates("deal_id").set_index("deal_id")
    b = newer[columns].drop_duplicates("deal_id").set_index("deal_id")
    both = a.join(b, how="outer", suffixes=("_before", "_after"))
    in_b = both["outcome_after"].notna()
    amount_a = both["amount_before"].fillna(0.0).astype(float)
    amount_b = both["amount_after"].fillna(0.0).astype(float)
    close_a = pd.to_datetime(both["close_date_before"])
    close_b = pd.to_datetime(both["close_date_after"])
    end = pd.Timestamp(period_end) if period_end is not None else None

    def counted(outcome: pd.Series, close: pd.Series) -> pd.Series:
        open_ = outcome == "open"
        return open_ & (close.isna() | (close <= end)) if end is not None else open_

    counted_a = counted(both["outcome_before"], close_a).fillna(False).astype(bool)
    counted_b = counted(both["outcome_after"], close_b).fillna(False).astype(bool)
    open_a = (both["outcome_before"] == "open").fillna(False).astype(bool)
    open_b = (both["outcome_after"] == "open").fillna(False).astype(bool)

    rank = _stage_rank(list(stage_order) if stage_order else pd.unique(pd.concat([a["stage"], b["stage"]])).tolist())
    stage_a = both["stage_before"].map(rank)
    stage_b = both["stage_after"].map(rank)
    flags = {
        "new": in_b & ~open_a & open_b,
        "won": open_a & (both["outcome_after"] == "won"),
        "lost": open_a & (both["outcome_after"] == "lost"),
        "dropped out": open_a & ~in_b,
        "advanced": open_a & open_b & (stage_b > stage_a),
        "moved back": open_a & open_b & (stage_b < stage_a),
        "slipped": open_a & open_b & (close_b > close_a),
        "pulled in": open_a & open_b & (close_b < close_a),
        "amount up": open_a & open_b & (amount_b > amount_a),
        "amount down": open_a & open_b & (amount_b < amount_a),
        "slipped out of period": counted_a & open_b & ~counted_b,
    }
    flags = {k: v.fillna(False).astype(bool) for k, v in flags.items()}

    # The one cause each deal's move in the total is booked under.
    cause = pd.Series("", index=both.index, dtype="object")
    delta = pd.Series(0.0, index=both.index)
    leaving = counted_a & ~counted_b
    for name in ("won", "lost", "dropped out", "slipped out of period"):
        pick = leaving & flags[name] & (cause == "")
        cause[pick], delta[pick] = name, -amount_a[pick]
    other_leave = leaving & (cause == "")  # e.g. reopened elsewhere: counted as dropped out
    cause[other_leave], delta[other_leave] = "dropped out", -amount_a[other_leave]
    arriving = ~counted_a & counted_b
    arrive_pulled = arriving & open_a
    cause[arrive_pulled], delta[arrive_pulled] = "pulled in", amount_b[arrive_pulled]
    arrive_new = arriving & ~open_a
    cause[arrive_new], delta[arrive_new] = "new", amount_b[arrive_new]
    staying = counted_a & counted_b
    up, down = staying & (amount_b > amount_a), staying & (amount_b < amount_a)
    cause[up], delta[up] = "amount up", (amount_b - amount_a)[up]
    cause[down], delta[down] = "amount down", (amount_b - amount_a)[down]

    start_total = float(amount_a[counted_a].sum())
    end_total = float(amount_b[counted_b].sum())
    waterfall = tuple((name, float(delta[cause == name].sum())) for name in _WATERFALL)

    flag_frame = pd.DataFrame(flags)[[c for c in CHANGE_CATEGORIES if c in flags]]
    names = np.array(flag_frame.columns)
    matrix = flag_frame.to_numpy()
    changed = matrix.any(axis=1)
    categories = [", ".join(names[row]) for row in matrix[changed]]
    out = both[changed].reset_index()
    changes = pd.DataFrame(
        {
            "deal_id": out["deal_id"],
            "owner": out["owner_after"].fillna(out["owner_before"]),
            "account": out["account_after"].fillna(out["account_before"]),
            "stage_before": out["stage_before"],
            "stage_after": out["stage_after"],
            "amount_before": out["amount_before"],
            "amount_after": out["amount_after"],
            "close_before": pd.to_datetime(out["close_date_before"]).dt.date,
            "close_after": pd.to_datetime(out["close_date_after"]).dt.date,
            "categories": categories,
            "cause": cause[changed].to_numpy(),
            "change": delta[changed].to_numpy(),
        }
    )
    counts = {name: int(flags[name].sum()) for name in CHANGE_CATEGORIES}
    cause_counts = {name: int((cause == name).sum()) for name in _WATERFALL}
    return SnapshotDiff(changes, waterfall, start_total, end_total, counts, cause_counts)
