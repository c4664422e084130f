"""The Plan page, as a user sees it in the browser.

Every test starts from a fresh session with the example plan: $385,000 at
$3,850 a deal = 100 deals, 2 : 1 at every step = 800 connection requests.
"""

from __future__ import annotations

import csv
import math
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

DEFAULT_FUNNEL = ["800", "400", "200", "100"]
#: The revenue target slider moves in steps of $5,000.
TARGET_STEP = 5_000
#: How long a rerun may take to redraw a chart (as tests/e2e/conftest.py allows for any rerun).
RERUN_S = 10.0


def test_default_plan_on_first_load(ui) -> None:
    expect(ui.metric_value("Deals needed")).to_have_text("100")
    expect(ui.funnel_chart()).to_be_visible()
    expect(ui.funnel_values()).to_have_text(DEFAULT_FUNNEL)
    expect(ui.funnel_stage_names()).to_have_text(
        ["Deals won", "Qualified prospects", "Meetings", "Connection requests"]
    )
    expect(ui.number_input("Revenue target ($)")).to_have_value("385000")
    expect(ui.number_input("Average deal size ($)")).to_have_value("3850")
    ui.screenshot("plan-default.png")


def test_changing_the_target_replans_the_funnel(ui) -> None:
    ui.commit(ui.number_input("Revenue target ($)"), "770000")

    expect(ui.metric_value("Deals needed")).to_have_text("200")
    expect(ui.funnel_values()).to_have_text(["1,600", "800", "400", "200"])
    expect(ui.funnel_chart()).to_contain_text("200 deals, walked back through the funnel")
    # The slider under the field follows it.
    expect(ui.slider_after("Revenue target ($)")).to_have_value("770000")
    ui.screenshot("plan-target-changed.png")


def test_sliders_and_number_inputs_stay_in_sync(ui) -> None:
    deal_size = ui.number_input("Average deal size ($)")
    deal_size_slider = ui.slider_after("Average deal size ($)")
    expect(deal_size_slider).to_have_value("3850")

    ui.commit(deal_size, "7700")
    expect(ui.metric_value("Deals needed")).to_have_text("50")
    expect(deal_size_slider).to_have_value("7700")
    expect(deal_size_slider).to_have_attribute("aria-valuetext", "7,700")

    # Now the other way round: the keyboard moves the target slider, the field follows.
    target = ui.number_input("Revenue target ($)")
    target_slider = ui.slider_after("Revenue target ($)")
    expect(target_slider).to_have_value("385000")
    expect(target_slider).to_have_attribute("step", str(TARGET_STEP))
    ui.wait_for_idle()
    target_slider.focus()
    expected = 385_000
    for _ in range(3):
        # One key per rerun, like a user reading the plan between presses (faster presses:
        # test_rapid_arrow_keys_on_the_target_slider_are_all_counted).
        target_slider.press("ArrowRight")
        expected += TARGET_STEP
        expect(target).to_have_value(str(expected))
        ui.wait_for_idle()

    assert expected == 400_000
    expect(target_slider).to_have_value("400000")
    expect(target_slider).to_have_attribute("aria-valuetext", "400,000")
    expect(ui.metric_value("Deals needed")).to_have_text(f"{math.ceil(400_000 / 7_700):,}")  # 52


@pytest.mark.parametrize("attempt", range(5))
def test_rapid_arrow_keys_on_the_target_slider_are_all_counted(ui, attempt: int) -> None:
    # Five presses far faster than a rerun: every one must count, and the field,
    # the slider and the plan must agree once the app settles.
    target = ui.number_input("Revenue target ($)")
    target_slider = ui.slider_after("Revenue target ($)")
    ui.wait_for_idle()
    target_slider.focus()
    for _ in range(5):
        target_slider.press("ArrowRight")
    expected = 385_000 + 5 * TARGET_STEP
    expect(target_slider).to_have_value(str(expected))
    expect(target).to_have_value(str(expected))
    ui.wait_for_idle()
    expect(target).to_have_value(str(expected))
    expect(target_slider).to_have_value(str(expected))
    expect(ui.metric_value("Deals needed")).to_have_text(f"{math.ceil(expected / 3_850):,}")


#: (label, start, step, presses, typed): move each slider up, then type an exact value it passed on the way.
TYPED_AFTER_SLIDER = {
    "target": ("Revenue target ($)", 385_000, TARGET_STEP, 6, 400_000),
    "deal size": ("Average deal size ($)", 3_850, 50, 6, 4_000),
}


def _deals(target: int, deal_size: int) -> str:
    return f"{math.ceil(target / deal_size):,}"


@pytest.mark.parametrize("pace", ["one move per rerun", "all at once"])
@pytest.mark.parametrize("field", sorted(TYPED_AFTER_SLIDER))
def test_a_value_typed_right_after_moving_the_slider_is_kept(ui, field: str, pace: str) -> None:
    # Seen: typed 400,000 into the box after moving the slider to 415,000, and the box snapped
    # back to 415,000 (108 deals, not 104). Whatever was touched last is the value.
    label, start, step, presses, typed = TYPED_AFTER_SLIDER[field]
    box, slider = ui.number_input(label), ui.slider_after(label)
    ui.wait_for_idle()
    slider.focus()
    for press in range(1, presses + 1):
        slider.press("ArrowRight")
        if pace == "one move per rerun":
            expect(box).to_have_value(str(start + press * step))
            ui.wait_for_idle()
    # At once: the slider's reruns are still on their way while the number is typed; their answers must not
    # overwrite it, nor may the box be swapped for another under the typing.
    box.fill(str(typed))
    ui.page.keyboard.press("Enter")
    expect(box).to_have_count(1)
    expect(box).to_have_value(str(typed))
    ui.wait_for_idle()
    expect(box).to_have_value(str(typed))
    expect(slider).to_have_value(str(typed))
    target, deal_size = (typed, 3_850) if field == "target" else (385_000, typed)
    expect(ui.metric_value("Deals needed")).to_have_text(_deals(target, deal_size))


def test_a_number_below_the_box_minimum_is_refused_beside_it(ui) -> None:
    target = ui.number_input("Revenue target ($)")
    ui.commit(target, "-5000")
    problem = ui.page.get_by_test_id("stBidiComponentIsolated").filter(has=target).get_by_role("alert")
    expect(problem).to_have_text("Revenue target ($) must be at least 0.")
    expect(ui.metric_value("Deals needed")).to_have_text("100")  # the plan keeps the last good value
    ui.commit(target, "770000")
    expect(problem).to_be_hidden()
    expect(ui.metric_value("Deals needed")).to_have_text("200")


def test_zero_deal_size_shows_an_error_not_an_exception(ui) -> None:
    deal_size = ui.number_input("Average deal size ($)")
    ui.commit(deal_size, "0")

    error = ui.page.get_by_test_id("stAlertContentError")
    expect(error).to_be_visible()
    expect(error).to_contain_text(re.compile(r"average deal size must be more than 0", re.IGNORECASE))
    ui.wait_for_idle()
    expect(ui.page.get_by_test_id("stException")).to_have_count(0)

    # Fixing the input brings the plan back.
    ui.commit(deal_size, "3850")
    expect(ui.metric_value("Deals needed")).to_have_text("100")
    expect(error).to_have_count(0)
    expect(ui.funnel_values()).to_have_text(DEFAULT_FUNNEL)


def test_stages_can_be_renamed_added_and_removed(ui) -> None:
    expect(ui.stage_name(1)).to_have_text("Connection requests")
    ui.edit_stage(1, "Stage", "Cold calls")
    expect(ui.funnel_stage_names()).to_contain_text(["Cold calls"])
    expect(ui.funnel_stage_names()).not_to_contain_text(["Connection requests"])
    expect(ui.metric_value("Cold calls")).to_be_visible()

    ui.page.get_by_role("button", name="Add a stage at the top").click()
    expect(ui.stage_names()).to_have_count(4)
    expect(ui.stage_name(1)).to_have_text(re.compile(r"^New stage \d+$"))
    new_name = ui.stage_name(1).inner_text()
    expect(ui.stage_name(2)).to_have_text("Cold calls")
    expect(ui.funnel_values()).to_have_text(["1,600", "800", "400", "200", "100"])
    expect(ui.funnel_stage_names()).to_contain_text([new_name])
    expect(ui.metric_value("Deals needed")).to_have_text("100")

    ui.remove_stage(1)
    expect(ui.stage_names()).to_have_count(3)
    expect(ui.stage_name(1)).to_have_text("Cold calls")
    expect(ui.funnel_values()).to_have_text(DEFAULT_FUNNEL)
    expect(ui.funnel_stage_names()).not_to_contain_text([new_name])
    expect(ui.metric_value("Deals needed")).to_have_text("100")


def test_long_stage_names_fit_the_cards_and_the_levers_chart(ui) -> None:
    """Stage names as a CRM export has them ("Presentation Scheduled") were cut short on the cards and pushed
    the levers' numbers and axis title off the chart."""
    for position, name in ((1, "Presentation Scheduled"), (2, "Appointment Scheduled")):
        ui.edit_stage(position, "Stage", name)
        expect(ui.metric_value(name)).to_be_visible()
    ui.wait_for_idle()
    assert ui.cut_card_labels() == []
    levers = ui.chart("Levers: +10% on each, ranked")
    levers.scroll_into_view_if_needed()
    expect(levers.locator("g.ytick text").first).to_be_visible()
    chart = levers.locator("svg.main-svg").first.bounding_box()
    drawn = levers.locator("text.bartext, g.g-xtitle text, g.ytick text")
    expect(drawn.first).to_be_visible()
    for text in drawn.all():
        box = text.bounding_box()
        inside = chart["x"] <= box["x"] and box["x"] + box["width"] <= chart["x"] + chart["width"] + 0.5
        assert inside, f"{text.text_content()!r} runs off the levers chart"
    ui.screenshot("plan-long-stage-names.png")


def test_weekly_activity_csv_download(ui) -> None:
    button = ui.page.get_by_test_id("stDownloadButton").get_by_role("button", name="Download weekly activity (CSV)")
    with ui.page.expect_download() as download_info:
        button.click()
    download = download_info.value
    assert download.suggested_filename == "backplan-weekly-activity.csv"

    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(text.splitlines()))
    header = list(rows[0].keys())
    assert "Week starting" in header
    assert "Connection requests" in header
    assert rows, "the CSV has no weeks"
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["Week starting"]) for row in rows)
    assert sum(int(row["Connection requests"]) for row in rows) == 800
    assert sum(int(row["Deals won"]) for row in rows) == 100


def test_all_five_charts_and_the_levers_are_rendered(ui) -> None:
    charts = ui.charts()
    expect(charts).to_have_count(5)
    for index in range(5):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        expect(chart.locator("svg.main-svg").first).to_be_visible()
        # A drawn trace, not just an empty plot area.
        expect(chart.locator("g.trace").first).to_be_attached()

    expect(ui.chart("The milestones Save will store")).to_have_count(1)
    expect(ui.chart("Open pipeline needed on the 1st of each month")).to_have_count(1)
    expect(ui.chart("What if: top-of-funnel activity a week")).to_have_count(1)
    levers = ui.chart("Levers: +10% on each, ranked")
    expect(levers).to_have_count(1)
    lever_names = levers.locator("g.ytick text")
    expect(lever_names).to_contain_text(["Weekly activity"])
    expect(lever_names).to_contain_text(["Average deal size"])


def _choose(ui, label: str, option: str) -> None:
    box = ui.page.get_by_role("combobox", name=label, exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    ui.page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)


def _milestone_points(ui) -> dict:
    """The checkpoints the mini burn-up draws: their amounts and marker fills, read from the plot.

    The script can be idle before Plotly has drawn what it sent (``el.data`` is set when it has): wait for that.
    """
    ui.wait_for_idle()
    plot = ui.chart("The milestones Save will store").locator(".js-plotly-plot")
    read = "el => el.data && el.data.length > 1 ? {y: el.data[1].y, fill: el.data[1].marker.color} : null"
    drawn: list[dict] = []
    _until(lambda: bool(drawn.append(plot.evaluate(read)) or drawn[-1]), "the milestones chart is drawn")
    return drawn[-1]


def _until(check: Callable[[], bool], what: str) -> None:
    """Wait, a rerun at most, for ``check()`` to hold (a chart's data is not text ``expect`` can wait on)."""
    deadline = time.monotonic() + RERUN_S
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_the_milestones_to_be_saved_follow_the_shape_and_what_is_typed(ui) -> None:
    ui.wait_for_idle()
    linear = _milestone_points(ui)["y"]
    assert linear[-1] == 385_000
    _choose(ui, "Shape", "Back-loaded")
    _until(lambda: _milestone_points(ui)["y"][0] < linear[0], "the back-loaded shape's first checkpoint is lower")

    _choose(ui, "Shape", "Custom")
    amounts = ui.page.get_by_role("textbox", name="Booked with 1, 2, 3 … checkpoints to go", exact=True)
    ui.commit(amounts, "350,000; 300,000")
    filled = ui.page.get_by_text(re.compile(r"^Not typed, so filled by the linear shape: "))
    expect(filled).to_be_visible()
    expect(filled).to_be_in_viewport()  # beside the field, where the eye is
    _until(lambda: _milestone_points(ui)["y"][-3:] == [300_000, 350_000, 385_000], "the typed amounts are drawn")
    points = _milestone_points(ui)
    assert points["fill"][0] == "white" and points["fill"][-2] != "white"  # filled hollow, typed solid
    ui.screenshot("plan-milestones-custom.png")

    # Typed forwards: said under the field at once, not on Save in the sidebar.
    ui.commit(amounts, "300,000; 350,000")
    error = ui.page.get_by_test_id("stMain").get_by_text(re.compile("typed forwards: type them backwards"))
    expect(error).to_be_visible()
    expect(ui.page.get_by_test_id("stSidebar").get_by_test_id("stAlertContentError")).to_have_count(0)
