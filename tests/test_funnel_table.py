"""The Plan page's funnel table: the data editor's edits made to the stages, each stage keeping its identity."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.funnel import Stage
from planner.funnel_table import LAST_STAGE, apply_edits, table

FUNNEL = (Stage("Calls", 2.0, 3, id=11), Stage("Meetings", 2.0, 7, id=12), Stage("Proposals", 2.0, 14, id=13))


def names(stages: tuple[Stage, ...]) -> list[str]:
    return [s.name for s in stages]


def test_the_table_shows_each_stage_with_its_position_ratio_in_words_and_lag() -> None:
    shown = table(FUNNEL)
    assert shown.columns.tolist() == ["Order", "Stage", "Ratio", "Conversion", "Lag, days"]
    assert shown.values.tolist()[1] == [2, "Meetings", 2.0, "2 : 1 · 50%", 7]


def test_a_renamed_stage_keeps_its_identity_and_so_its_recorded_counts() -> None:
    renamed = apply_edits(FUNNEL, {"edited_rows": {0: {"Stage": "Cold calls", "Ratio": 4.0, "Lag, days": 2.0}}}, 4)
    assert renamed[0] == Stage("Cold calls", 4.0, 2) and renamed[0].id == 11
    assert renamed[1:] == FUNNEL[1:]


@pytest.mark.parametrize(
    ("row", "order", "expected"),
    [
        (2, 1, ["Proposals", "Calls", "Meetings"]),  # up to the top: before the stage it lands on
        (0, 3, ["Meetings", "Proposals", "Calls"]),  # down to the bottom: after it
        (0, 2, ["Meetings", "Calls", "Proposals"]),
        (1, 99, ["Calls", "Proposals", "Meetings"]),  # past the end: the bottom
        (1, -4, ["Meetings", "Calls", "Proposals"]),  # before the start: the top
        (1, None, ["Calls", "Meetings", "Proposals"]),  # a cleared position moves nothing
    ],
)
def test_a_new_order_moves_the_stage_there(row: int, order: int | None, expected: list[str]) -> None:
    moved = apply_edits(FUNNEL, {"edited_rows": {row: {"Order": order}}}, 4)
    assert names(moved) == expected
    assert {s.name: s.id for s in moved} == {s.name: s.id for s in FUNNEL}


def test_rows_deleted_and_added() -> None:
    edited = apply_edits(FUNNEL, {"deleted_rows": [0, 2], "added_rows": [{"Stage": "Demos", "Ratio": 3.0}, {}]}, 7)
    assert names(edited) == ["Meetings", "Demos", "New stage 8"]
    assert edited[1:] == (Stage("Demos", 3.0, 0), Stage("New stage 8", 2.0, 0))
    assert [s.id for s in edited] == [12, None, None]  # new stages get their identity when saved


def test_deleting_every_stage_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="keeps at least one stage") as refused:
        apply_edits(FUNNEL, {"deleted_rows": [0, 1, 2]}, 4)
    assert str(refused.value) == LAST_STAGE
    assert names(apply_edits(FUNNEL, {"deleted_rows": [0, 1, 2], "added_rows": [{"Stage": "Only"}]}, 4)) == ["Only"]


def test_cleared_and_strange_cells_become_what_the_plans_check_names() -> None:
    edited = apply_edits(
        FUNNEL, {"edited_rows": {0: {"Stage": None, "Ratio": None}, 1: {"Ratio": "nan", "Lag, days": 1e9}}}, 4
    )
    assert edited[0].name == "" and edited[0].ratio == 0.0  # "Stage 1 has no name", "ratio below 1"
    assert edited[1].ratio == 0.0 and edited[1].lag_days == 1_000_000_000  # "lag must be 0 to 730 days"
    assert apply_edits(FUNNEL, {"edited_rows": {2: {"Stage": "x" * 100}}}, 4)[2].name == "x" * 60
    assert table(edited)["Conversion"].tolist()[:2] == ["enter 1 or more", "enter 1 or more"]


edits = st.fixed_dictionaries(
    {
        "edited_rows": st.dictionaries(
            st.integers(0, 2), st.fixed_dictionaries({"Order": st.one_of(st.none(), st.integers(-2, 6))}), max_size=3
        ),
        "deleted_rows": st.lists(st.integers(0, 2), unique=True, max_size=2),
        "added_rows": st.lists(st.just({}), max_size=2),
    }
)


@given(edits)
def test_every_stage_not_deleted_is_kept_once_with_its_identity(edit: dict) -> None:
    result = apply_edits(FUNNEL, edit, 4)
    kept = [s for n, s in enumerate(FUNNEL) if n not in edit["deleted_rows"]]
    assert sorted(s.id for s in result if s.id is not None) == sorted(s.id for s in kept)
    assert len(result) == len(kept) + len(edit["added_rows"])
    assert all(s.id is None for s in result[len(kept) :])  # added rows go below the stages kept
    if len(edit["edited_rows"]) == 1 and not edit["deleted_rows"]:  # one stage moved: it is where it was sent
        [(row, cells)] = edit["edited_rows"].items()
        if cells["Order"] is not None:
            assert result.index(FUNNEL[row]) == min(max(cells["Order"], 1), 3) - 1
