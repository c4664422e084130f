"""The Plan page's funnel as one table: a row per stage, top down, edited in place.

One ``st.data_editor`` stands for a name box, two number boxes and two buttons per stage. Streamlit pays
for every widget and layout column it draws on every rerun: with a 20-stage funnel, a slider move took
85 ms of CPU with a row of widgets per stage and 33 ms with this table (``bench/bench_plan_page.py
--stages 20 --weeks 104``). The table is drawn from the stages under a key that changes whenever they
do; its edits (a name, a ratio, a lag, an order, rows added or deleted) are applied to the stages in
the table's ``on_change``, and the next run draws a new table from them. So an edit is applied once,
and the table always shows the stages the plan is computed from. A stage keeps its saved identity
(``Stage.id``) through a rename or a move, so the counts recorded for it stay with it.

>>> from planner.funnel import Stage
>>> stages = (Stage("Calls", 2.0, 3, id=7), Stage("Meetings", 2.0, 7, id=8))
>>> moved = apply_edits(stages, {"edited_rows": {1: {"Order": 1, "Stage": "Demos"}}}, first_new=3)
>>> [(s.name, s.id) for s in moved]
[('Demos', 8), ('Calls', 7)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from planner.funnel import Stage
from planner.units import ratio_label

__all__ = ["COLUMNS", "LAST_STAGE", "NEW_RATIO", "apply_edits", "new_stage", "table"]

#: The table's columns, in order.
COLUMNS = ("Order", "Stage", "Ratio", "Conversion", "Lag, days")
#: A stage added without a ratio: 2 : 1, as every stage of the example.
NEW_RATIO = 2.0
#: Why a deletion of every stage is not made.
LAST_STAGE = "A funnel keeps at least one stage above the won deals: rename it, or add another before removing it."


def new_stage(number: int) -> Stage:
    """The stage a user adds: "New stage N", 2 : 1, no lag, no saved identity yet."""
    return Stage(f"New stage {number}", NEW_RATIO, 0)


def table(stages: Sequence[Stage]) -> pd.DataFrame:
    """The stages as the editor shows them: position, name, ratio, the ratio in words, lag.

    >>> table([Stage("Calls", 4.0, 3), Stage("Meetings", 0.5, 0)])[["Order", "Stage", "Conversion"]].values.tolist()
    [[1, 'Calls', '4 : 1 · 25%'], [2, 'Meetings', 'enter 1 or more']]
    """
    return pd.DataFrame(
        {
            "Order": pd.Series(range(1, len(stages) + 1), dtype="int64"),
            "Stage": pd.Series([s.name for s in stages], dtype="str"),
            "Ratio": pd.Series([float(s.ratio) for s in stages], dtype="float64"),
            "Conversion": pd.Series([_conversion(s.ratio) for s in stages], dtype="str"),
            "Lag, days": pd.Series([int(s.lag_days) for s in stages], dtype="int64"),
        }
    )


def _conversion(ratio: float) -> str:
    return ratio_label(ratio) if ratio >= 1 else "enter 1 or more"


def _number(value: Any, default: float) -> float:
    """A cell's number; a cleared cell (None), or one that is not a finite number, is ``default``."""
    try:
        number = float(value) if value is not None else default
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


def _edited(stage: Stage, changes: Mapping[str, Any]) -> Stage:
    if "Stage" in changes:
        stage = replace(stage, name=str(changes["Stage"] or "")[:60])
    if "Ratio" in changes:
        stage = replace(stage, ratio=_number(changes["Ratio"], 0.0))  # cleared: 0, which the plan's check names
    if "Lag, days" in changes:
        stage = replace(stage, lag_days=round(_number(changes["Lag, days"], 0)))  # the plan's check names a bad one
    return stage


def apply_edits(stages: Sequence[Stage], edits: Mapping[str, Any], first_new: int) -> tuple[Stage, ...]:
    """``stages`` with a data editor's edits made: cells changed, rows moved, deleted and added.

    ``edits`` is the editor's state (``edited_rows`` by row position, ``added_rows``, ``deleted_rows``).
    A new "Order" moves its stage to that position (1 is the top); a stage moved up goes before the one
    it lands on, one moved down after it. Added rows go to the bottom of the funnel, above the won deals,
    each named "New stage N" from ``first_new`` up unless given a name. Raises ValueError
    (:data:`LAST_STAGE`) rather than delete every stage.

    >>> stages = (Stage("A", 2.0), Stage("B", 2.0), Stage("C", 2.0))
    >>> [s.name for s in apply_edits(stages, {"edited_rows": {0: {"Order": 3}}}, 4)]
    ['B', 'C', 'A']
    >>> [s.name for s in apply_edits(stages, {"deleted_rows": [1], "added_rows": [{"Ratio": 3.0}]}, 4)]
    ['A', 'C', 'New stage 4']
    """
    edited_rows = {int(row): changes for row, changes in (edits.get("edited_rows") or {}).items()}
    rows = [_edited(stage, edited_rows.get(at, {})) for at, stage in enumerate(stages)]

    def place(at: int) -> tuple[float, int, int]:
        wanted = edited_rows.get(at, {}).get("Order")
        if wanted is None or _number(wanted, at + 1) == at + 1:
            return (at + 1, 1, at)
        to = min(max(round(_number(wanted, at + 1)), 1), len(rows))
        return (to, 0 if to < at + 1 else 2, at)  # up: before the stage it lands on; down: after it

    deleted = {int(row) for row in edits.get("deleted_rows") or ()}
    kept = [rows[at] for at in sorted(range(len(rows)), key=place) if at not in deleted]
    added = [
        _edited(new_stage(first_new + n), {k: v for k, v in row.items() if v is not None and k != "Order"})
        for n, row in enumerate(edits.get("added_rows") or ())
    ]
    if not kept and not added:
        raise ValueError(LAST_STAGE)
    return (*kept, *added)
