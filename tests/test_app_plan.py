"""The Plan page under AppTest: what a rep sees change when they move the inputs."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from bench._fragments import fragment_runs, run_in_fragment
from tests.conftest import ROOT, box, edit_stages, metric, slider, stage_editor, stage_names
from ui.session import KEPT

TARGET_SLIDER = "Drag to change the revenue target"
DEAL_SIZE_SLIDER = "Drag to change the average deal size"


def stage_table(at: AppTest) -> pd.DataFrame:
    """The table of stage totals under the funnel."""
    return next(d.value for d in at.dataframe if "Total" in d.value.columns)


def test_opens_on_the_example_plan(app: AppTest) -> None:
    assert app.title[0].value == "Plan backwards from your target"
    assert metric(app, "Deals needed") == "100"
    assert float(metric(app, "Connection requests")) > 0
    # The stage's name is the card's label, the unit a chip under the number: a long name is not cut short.
    assert next(m for m in app.metric if m.label == "Connection requests").delta == "a week"
    assert len(app.get("plotly_chart")) == 5  # milestones, funnel, coverage, levers, what-if
    assert not app.error
    assert stage_table(app)["Total"].tolist() == [800, 400, 200, 100]


def test_moving_the_target_slider_changes_the_deals_metric(app: AppTest) -> None:
    slider(app, TARGET_SLIDER).set_value(770_000).run()
    assert metric(app, "Deals needed") == "200"
    assert box(app, "Revenue target").value == 770_000


def test_typing_a_target_moves_the_slider_to_the_nearest_step(app: AppTest) -> None:
    box(app, "Revenue target").set_value(501_234).run()
    assert metric(app, "Deals needed") == "131"  # 501,234 / 3,850 = 130.2
    assert slider(app, TARGET_SLIDER).value == 500_000


def test_deal_size_slider_and_input_agree(app: AppTest) -> None:
    slider(app, DEAL_SIZE_SLIDER).set_value(7_700).run()
    assert box(app, "Average deal size").value == 7_700
    assert metric(app, "Deals needed") == "50"


@pytest.mark.parametrize(
    "forged", [{"value": "1e9"}, {"value": -5}, {"value": True}, {"value": float("nan")}, {"at": "1"}, "770000"]
)
def test_an_edit_the_box_could_not_send_is_refused(app: AppTest, forged: object) -> None:
    # The browser half of the box checks what is typed, but the server trusts nothing it is sent.
    target = box(app, "Revenue target")
    version = target.drawn["version"]
    target.edit = forged  # type: ignore[assignment]
    target.run()
    assert not app.exception
    assert box(app, "Revenue target").value == 385_000 and metric(app, "Deals needed") == "100"
    assert box(app, "Revenue target").drawn["version"] > version  # the browser is sent the value again


def test_the_browser_repeating_an_edit_does_not_undo_a_later_change(app: AppTest) -> None:
    # The browser sends the box's last edit with every message until the next one: only a new edit counts.
    typed = box(app, "Revenue target").set_value(770_000)
    typed.run()
    assert metric(app, "Deals needed") == "200"
    app.session_state["plan.target"] = 500_000  # moved elsewhere, as opening a plan moves it
    app.run()
    assert box(app, "Revenue target").value == 500_000
    repeated = box(app, "Revenue target")
    repeated.edit = typed.edit
    repeated.run()
    assert box(app, "Revenue target").value == 500_000 and metric(app, "Deals needed") == "130"
    box(app, "Revenue target").set_value(770_000).run()  # the same number typed again is a new edit
    assert metric(app, "Deals needed") == "200"


def test_a_zero_deal_size_shows_an_error_not_an_exception(app: AppTest) -> None:
    box(app, "Average deal size").set_value(0).run()
    assert not app.exception
    assert "average deal size must be more than 0" in app.error[0].value
    assert not app.metric  # no half-drawn plan under the error


def test_an_end_date_before_the_start_names_both_dates(app: AppTest) -> None:
    start = app.date_input(key="plan.start").value
    app.date_input(key="plan.end").set_value(start - timedelta(days=1)).run()
    assert not app.exception
    assert "before it starts" in app.error[0].value
    assert f"{start:%d %b %Y}" in app.error[0].value


def test_a_ratio_below_one_is_explained(app: AppTest) -> None:
    edit_stages(app, edited={1: {"Ratio": 0.5}})
    assert "Meetings → Qualified prospects is 0.5 : 1" in app.error[0].value
    assert stage_editor(app).value["Conversion"].tolist()[1] == "enter 1 or more"  # not "200%" beside the ratio


def test_each_ratio_is_shown_as_a_ratio_and_a_conversion_rate(app: AppTest) -> None:
    edit_stages(app, edited={0: {"Ratio": 4.0}})
    assert stage_editor(app).value["Conversion"].tolist() == ["4 : 1 · 25%", "2 : 1 · 50%", "2 : 1 · 50%"]
    assert metric(app, "Deals needed") == "100"
    assert stage_table(app)["Total"].tolist() == [1600, 400, 200, 100]


def test_stages_can_be_renamed_added_moved_and_removed(app: AppTest) -> None:
    edit_stages(app, edited={0: {"Stage": "Cold calls"}})
    assert "Cold calls" in [m.label for m in app.metric]

    app.button(key="btn.stage_add").click().run()
    new_name = stage_names(app)[0]
    assert new_name == "New stage 4"
    assert stage_table(app)["Stage"].tolist()[0] == new_name
    assert stage_table(app)["Total"].tolist() == [1600, 800, 400, 200, 100]

    edit_stages(app, edited={1: {"Order": 1}})  # Cold calls back to the top
    assert stage_table(app)["Stage"].tolist()[:2] == ["Cold calls", new_name]

    edit_stages(app, deleted=[1])
    assert stage_table(app)["Stage"].tolist() == ["Cold calls", "Meetings", "Qualified prospects", "Deals won"]
    assert not app.exception


def test_a_row_added_in_the_table_is_a_new_stage_above_the_won_deals(app: AppTest) -> None:
    edit_stages(app, added=[{"Stage": "Proposals", "Ratio": 1.5}])
    assert stage_names(app) == ["Connection requests", "Meetings", "Qualified prospects", "Proposals"]
    assert stage_table(app)["Total"].tolist() == [1200, 600, 300, 150, 100]
    edit_stages(app, added=[{}])  # a blank row: a named stage at 2 : 1, not an unnamed one
    assert stage_names(app)[-1].startswith("New stage ") and len(set(stage_names(app))) == 5
    assert stage_editor(app).value["Conversion"].tolist()[-1] == "2 : 1 · 50%"
    assert not app.error


def test_the_last_stage_above_won_deals_cannot_be_removed(app: AppTest) -> None:
    edit_stages(app, deleted=[0, 1])
    assert stage_names(app) == ["Qualified prospects"]
    edit_stages(app, deleted=[0])
    assert stage_names(app) == ["Qualified prospects"]
    assert any("keeps at least one stage" in w.value for w in app.warning)
    assert metric(app, "Deals needed") == "100"


def test_holiday_weeks_raise_the_weekly_activity(app: AppTest) -> None:
    before = float(metric(app, "Connection requests"))
    weeks = app.multiselect(key="plan.holiday_weeks").options
    app.multiselect(key="plan.holiday_weeks").set_value([weeks[5], weeks[6]]).run()
    assert float(metric(app, "Connection requests")) > before


def test_holiday_weeks_left_outside_a_shorter_period_count_no_more(app: AppTest) -> None:
    """The cards are made before the inputs are drawn: a holiday week the new period no longer has is let go
    first, so the figures are the shorter period's own, not an error or the old weeks' plan."""
    weeks = app.multiselect(key="plan.holiday_weeks").options
    app.multiselect(key="plan.holiday_weeks").set_value([weeks[-2]]).run()
    app.date_input(key="plan.end").set_value(app.session_state["plan.start"] + timedelta(weeks=8)).run()
    shorter = metric(app, "Connection requests")
    assert app.multiselect(key="plan.holiday_weeks").value == []
    assert not app.error and not app.exception
    app.run()
    assert metric(app, "Connection requests") == shorter  # the same figures once the widgets have caught up


def test_coverage_slider_changes_the_pipeline_needed(app: AppTest) -> None:
    box(app, "Pipeline coverage (×)").set_value(4.0).run()
    assert not app.exception
    assert box(app, "Pipeline coverage (×)").value == 4.0


def test_the_currency_is_used_in_the_labels(app: AppTest) -> None:
    app.selectbox(key="plan.currency").set_value("GBP").run()
    assert box(app, "Revenue target").label == "Revenue target (£)"


def test_a_removed_stage_leaves_nothing_behind_in_the_session(app: AppTest) -> None:
    # Every removed stage left its name, ratio and lag (and their kept copies) in the session for good, and
    # Streamlit reads the whole session for each keyed box it draws: the page slowed with every edit. The
    # funnel is one value now, and its table one key at a time.
    for _ in range(5):
        app.button(key="btn.stage_add").click().run()
        edit_stages(app, deleted=[0])
    assert stage_names(app) == ["Connection requests", "Meetings", "Qualified prospects"]
    assert len(app.session_state["plan.stages"]) == 3
    assert not [k for k in app.session_state if k.startswith("plan.stage.")]
    assert not [k for k in app.session_state[KEPT] if k.startswith(("plan.stage.", "editor."))]


def test_inputs_changed_by_moves_that_rerun_the_plan_alone_outlive_a_page_switch() -> None:
    # In the browser a change inside the Plan's fragment reruns only the fragment, not app.py, which kept
    # the inputs for the next page switch at the end of each run: a currency picked then came back as USD.
    with fragment_runs():
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
        run_in_fragment(slider(at, TARGET_SLIDER).set_value(770_000))
        assert metric(at, "Deals needed") == "200"
        run_in_fragment(at.selectbox(key="plan.currency").set_value("EUR"))
        assert box(at, "Revenue target").label == "Revenue target (€)"
        at.switch_page("pages/guide.py").run()
        at.switch_page("pages/plan.py").run()
    assert at.selectbox(key="plan.currency").value == "EUR"
    assert box(at, "Revenue target").value == 770_000 and metric(at, "Deals needed") == "200"
