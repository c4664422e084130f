"""The Track page in Chromium: demo data, editing an actual, reload, CSV import, two people editing at once.

The browser session shares one database for the whole run, so the demo team is
loaded once (by the first test that needs it, through the page's own button).
The tests of two sessions at once, and of the activity pace, use an app of
their own (``own_app_server``), so their edits change nothing the others read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from planner.demo import demo_team
from planner.funnel import build_plan

pytestmark = pytest.mark.browser

ROW_HEIGHT = 35  # Streamlit's data editor: header and rows are 35 px tall


def open_track(page: Page, ui) -> None:
    ui.sidebar_link("Track").click()
    expect(page.get_by_role("heading", name="Track actuals against the plan")).to_be_visible()
    load = page.get_by_role("button", name="Load demo data")
    metrics = page.get_by_test_id("stMetric").first
    expect(load.or_(metrics)).to_be_visible()
    if load.is_visible():
        load.click()
    expect(metrics).to_be_visible()
    ui.wait_for_idle()


def pick_rep(page: Page, ui, name: str) -> None:
    rep = page.get_by_role("combobox", name="Rep")
    if rep.input_value() == name:
        return  # re-choosing the selected option leaves the menu holding the next click
    shown = page.url
    rep.click()
    page.get_by_role("option", name=name, exact=True).click()
    expect(rep).to_have_value(name)
    # The menu shows the name before the server has run the page for it; the address bar's ?plan= changes in
    # that run. Until it has, the page below (an uploader keyed by plan, a grid) is still the last rep's.
    expect(page).not_to_have_url(shown)
    ui.wait_for_idle()


def actuals_editor(page: Page) -> Locator:
    return page.get_by_test_id("stDataFrame").first


def cell(editor: Locator, column: int, row: int) -> Locator:
    """A data editor cell through the grid's accessible table (0-based column and row)."""
    return editor.get_by_test_id(f"glide-cell-{column}-{row}")


def type_into_cell(page: Page, editor: Locator, column: int, row: int, value: str) -> None:
    """Select a cell with the mouse and arrow keys and type a new value, as a keyboard user does.

    The first column is the week, always at the left edge: the first row's week
    is clicked and the arrow keys go from there (the grid scrolls to rows it has
    not drawn yet); the first key typed opens glide's cell editor, which then
    takes the whole value.
    """
    from tests.e2e.conftest import type_into_grid  # as tests/e2e/test_sign_in.py does: no top-level conftest import

    def select() -> None:
        # Positions relative to the grid, resolved by Playwright at the moment of the click.
        editor.click(position={"x": 20, "y": ROW_HEIGHT + ROW_HEIGHT / 2})
        for _ in range(row):
            page.keyboard.press("ArrowDown")
        for _ in range(column):
            page.keyboard.press("ArrowRight")

    type_into_grid(page, select, value)


def burnup_lines(page: Page) -> list[str]:
    chart = page.get_by_test_id("stPlotlyChart").filter(has_text="Burn-up")
    expect(chart.locator("path.js-line").first).to_be_attached()
    return [line.get_attribute("d") or "" for line in chart.locator("path.js-line").all()]


def demo_week_row(rep: str, week: date) -> int:
    """The actuals table's row for the week starting ``week`` of a demo rep's plan (pre-period weeks first)."""
    plan = next(p for p in demo_team(date.today()).plans if p.rep == rep)
    return build_plan(plan.inputs).week_starts.astype("datetime64[D]").tolist().index(week)


def first_row_of_the_period(rep: str) -> int:
    plan = next(p for p in demo_team(date.today()).plans if p.rep == rep)
    start = plan.inputs.period_start
    return demo_week_row(rep, start - timedelta(days=start.weekday()))


def test_edit_an_actual_and_find_it_after_a_reload(page: Page, ui) -> None:
    open_track(page, ui)
    pick_rep(page, ui, "Ana Lima")
    booked = ui.metric_value("Booked")
    booked_before = booked.inner_text()
    lines_before = burnup_lines(page)
    editor = actuals_editor(page)
    row = first_row_of_the_period("Ana Lima")  # the first week of the quarter
    week = cell(editor, 0, row).inner_text()

    type_into_cell(page, editor, column=1, row=row, value="77777")  # Revenue
    expect(cell(editor, 1, row)).to_have_text("77777")
    expect(booked).not_to_have_text(booked_before)
    ui.wait_for_idle()
    assert burnup_lines(page) != lines_before, "the burn-up chart did not move"
    ui.screenshot("track-after-edit.png")

    page.reload()
    expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=30_000)
    ui.wait_for_idle()
    open_track(page, ui)
    pick_rep(page, ui, "Ana Lima")
    editor = actuals_editor(page)
    expect(cell(editor, 0, row)).to_have_text(week)
    expect(cell(editor, 1, row)).to_have_text("77777")
    expect(ui.metric_value("Booked")).not_to_have_text(booked_before)


def test_import_actuals_from_a_csv_with_a_bad_row(page: Page, ui, tmp_path: Path) -> None:
    open_track(page, ui)
    pick_rep(page, ui, "Ben Carter")
    editor = actuals_editor(page)
    first_week = cell(editor, 0, 0).inner_text()
    second_week = cell(editor, 0, 1).inner_text()
    csv = tmp_path / "actuals.csv"
    csv.write_text(
        f'week,revenue,deals,Meetings\n{first_week},"$4,321",1,7\n{second_week},-10,1,7\n',
        encoding="utf-8",
    )
    page.get_by_text("Import actuals from a CSV").click()
    uploader = page.get_by_role("region", name="Actuals CSV")
    expect(uploader).to_be_visible()
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(csv)
    expect(uploader.get_by_text("actuals.csv")).to_be_visible()  # uploaded: the file is listed under the box
    problems = page.get_by_text("1 problem; the rows with one are left out.")
    expect(problems).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").filter(has_text="Problem")).to_be_visible()
    page.get_by_role("button", name="Import 1 week").click()
    expect(cell(actuals_editor(page), 1, 0)).to_have_text("4321")
    expect(cell(actuals_editor(page), 4, 0)).to_have_text("7")  # Meetings


def test_two_people_editing_the_same_actuals_never_undo_each_other(
    open_ui: Callable[[str], object], own_app_server: str
) -> None:
    a = open_ui(own_app_server)
    open_track(a.page, a)
    pick_rep(a.page, a, "Chloe Nguyen")
    first = first_row_of_the_period("Chloe Nguyen")
    week2, week4 = first + 1, first + 3
    type_into_cell(a.page, actuals_editor(a.page), column=1, row=week2, value="11111")
    expect(cell(actuals_editor(a.page), 1, week2)).to_have_text("11111")
    a.wait_for_idle()

    b = open_ui(own_app_server)  # opens the plan after A's edit, then changes the same week
    open_track(b.page, b)
    pick_rep(b.page, b, "Chloe Nguyen")
    expect(cell(actuals_editor(b.page), 1, week2)).to_have_text("11111")
    type_into_cell(b.page, actuals_editor(b.page), column=1, row=week2, value="55555")
    expect(cell(actuals_editor(b.page), 1, week2)).to_have_text("55555")
    b.wait_for_idle()

    # A, whose screen still holds its own 11,111, edits another week: only that week is written,
    # and A's table is read again, so it now shows B's 55,555.
    type_into_cell(a.page, actuals_editor(a.page), column=1, row=week4, value="44444")
    expect(cell(actuals_editor(a.page), 1, week4)).to_have_text("44444")
    expect(cell(actuals_editor(a.page), 1, week2)).to_have_text("55555")
    a.wait_for_idle()

    # B, whose table was read before A's edit of week 4, changes it too: refused, with who and what is there now.
    type_into_cell(b.page, actuals_editor(b.page), column=1, row=week4, value="99999")
    refusal = b.page.get_by_test_id("stAlertContentWarning").filter(has_text="here is the current value")
    expect(refusal).to_contain_text("changed in another session")
    expect(refusal).to_contain_text("$44,444")
    expect(cell(actuals_editor(b.page), 1, week4)).to_have_text("44444")
    b.screenshot("track-edit-refused.png")

    b.page.reload()
    expect(b.page.get_by_test_id("stMetric").first).to_be_visible(timeout=30_000)
    open_track(b.page, b)
    pick_rep(b.page, b, "Chloe Nguyen")
    expect(cell(actuals_editor(b.page), 1, week2)).to_have_text("55555")
    expect(cell(actuals_editor(b.page), 1, week4)).to_have_text("44444")


def test_entering_this_weeks_activity_updates_the_pace_view(own_ui) -> None:
    page = own_ui.page
    open_track(page, own_ui)
    pick_rep(page, own_ui, "Dev Patel")
    card = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text("Meetings", exact=True)
    )
    expect(card).to_be_visible()
    gap_before = card.get_by_test_id("stMetricDelta").inner_text()
    this_week = date.today() - timedelta(days=date.today().weekday())
    row = demo_week_row("Dev Patel", this_week)
    editor = actuals_editor(page)
    type_into_cell(page, editor, column=4, row=row, value="37")  # Meetings
    expect(cell(editor, 4, row)).to_have_text("37")
    expect(card.get_by_test_id("stMetricDelta")).not_to_have_text(gap_before)
    own_ui.wait_for_idle()
    stage = page.get_by_role("combobox", name="Week by week for")
    stage.scroll_into_view_if_needed()  # a menu opened while the page scrolls to it closes again
    stage.click()
    page.get_by_role("option", name="Meetings", exact=True).click()
    expect(stage).to_have_value("Meetings")
    own_ui.wait_for_idle()
    pace_table = page.get_by_test_id("stDataFrame").filter(has_text="Running gap")
    # The table shows 12 weeks and draws only those (and two more): scroll down to this week's row, as a user does.
    pace_table.hover()
    page.mouse.wheel(0, ROW_HEIGHT * row)
    expect(cell(pace_table, 3, row)).to_have_text("37")  # Done
    own_ui.screenshot("track-activity-pace.png")


def test_the_burn_up_shows_the_forecast_band_and_what_if_the_largest_deal_slips(page: Page, ui) -> None:
    open_track(page, ui)
    pick_rep(page, ui, "Ana Lima")
    chart = page.get_by_test_id("stPlotlyChart").filter(has_text="Burn-up")
    expect(chart.get_by_text("Forecast: P10–P90 range")).to_be_visible()
    band = chart.locator("path.js-fill")  # the P10-P90 band, filled between its edges to the period end
    expect(band.first).to_be_attached()
    forecast = page.get_by_text(re.compile(r"^Forecast\. P10 \$[\d,]+ · P50 \$[\d,]+ · P90 \$[\d,]+"))
    expect(forecast).to_be_visible()
    every = forecast.inner_text()
    ui.screenshot("track-forecast.png")

    page.get_by_test_id("stButtonGroup").get_by_text("Without the largest deal", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Left out: \S+ \(Ana Lima, \$[\d,]+\)"))).to_be_visible()
    ui.wait_for_idle()
    without = forecast.inner_text()
    assert without != every  # the range and the chance without that deal
    p90 = [int(re.search(r"P90 \$([\d,]+)", text)[1].replace(",", "")) for text in (every, without)]
    assert p90[1] <= p90[0]
    expect(page.get_by_text(re.compile(r"^Without the largest deal, the rest of the open pipeline"))).to_be_visible()
    ui.screenshot("track-forecast-without-largest.png")
