"""The Track page in Chromium: demo data, editing an actual, reload, CSV import.

The browser session shares one database for the whole run, so the demo team is
loaded once (by the first test that needs it, through the page's own button).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

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
    rep.click()
    page.get_by_role("option", name=name, exact=True).click()
    expect(rep).to_have_value(name)
    ui.wait_for_idle()


def actuals_editor(page: Page) -> Locator:
    return page.get_by_test_id("stDataFrame").first


def cell(editor: Locator, column: int, row: int) -> Locator:
    """A data editor cell through the grid's accessible table (0-based column and row)."""
    return editor.get_by_test_id(f"glide-cell-{column}-{row}")


def type_into_cell(page: Page, editor: Locator, column: int, row: int, value: str) -> None:
    """Select a cell with the mouse and arrow keys and type a new value, as a keyboard user does.

    The first column is the week, always at the left edge; the first key typed
    opens glide's cell editor, which then takes the whole value.
    """
    # Positions relative to the grid, resolved by Playwright at the moment of the click.
    editor.click(position={"x": 20, "y": ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2})
    for _ in range(column):
        page.keyboard.press("ArrowRight")
    page.keyboard.type(value[0])
    field = page.locator(".gdg-input")
    expect(field).to_be_visible()
    field.fill(value)
    field.press("Enter")


def burnup_lines(page: Page) -> list[str]:
    chart = page.get_by_test_id("stPlotlyChart").filter(has_text="Burn-up")
    expect(chart.locator("path.js-line").first).to_be_attached()
    return [line.get_attribute("d") or "" for line in chart.locator("path.js-line").all()]


def test_edit_an_actual_and_find_it_after_a_reload(page: Page, ui) -> None:
    open_track(page, ui)
    pick_rep(page, ui, "Ana Lima")
    booked = ui.metric_value("Booked")
    booked_before = booked.inner_text()
    lines_before = burnup_lines(page)
    editor = actuals_editor(page)
    week = cell(editor, 0, 3).inner_text()  # the fourth week of the quarter

    type_into_cell(page, editor, column=1, row=3, value="77777")  # Revenue
    expect(cell(editor, 1, 3)).to_have_text("77777")
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
    expect(cell(editor, 0, 3)).to_have_text(week)
    expect(cell(editor, 1, 3)).to_have_text("77777")
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
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(csv)
    problems = page.get_by_text("1 problem(s); the rows with one are left out.")
    expect(problems).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").filter(has_text="Problem")).to_be_visible()
    page.get_by_role("button", name="Import 1 weeks").click()
    expect(cell(actuals_editor(page), 1, 0)).to_have_text("4321")
    expect(cell(actuals_editor(page), 4, 0)).to_have_text("7")  # Meetings
