"""The Team review in Chromium: demo data, the review, two snapshots compared, exports, a rep opened on Track.

The browser session shares one database; the demo team is loaded by whichever test needs it first.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, timedelta

import openpyxl
import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from planner.demo import demo_snapshots

pytestmark = pytest.mark.browser

ROW_HEIGHT = 35  # Streamlit's dataframe: header and rows are 35 px tall


def open_review(page: Page, ui) -> None:
    ui.sidebar_link("Team review").click()
    expect(page.get_by_role("heading", name="Team review")).to_be_visible()
    load = page.get_by_role("button", name="Load demo data")
    metrics = ui.metric_value("Booked")
    expect(load.or_(metrics)).to_be_visible()
    if load.is_visible():
        load.click()
    expect(metrics).to_be_visible()
    ui.wait_for_idle()


def review_table(page: Page):
    """The review table, known by a header no other table on the page has."""
    return page.get_by_test_id("stDataFrame").filter(has_text="Booked")


def test_the_review_fits_the_page_and_no_card_label_is_cut_short(page: Page, ui) -> None:
    open_review(page, ui)
    review = review_table(page)
    expect(review).to_be_visible()
    ui.wait_for_idle()
    widths = review.locator(".dvn-scroller").evaluate("s => [s.scrollWidth, s.clientWidth]")
    assert widths[0] <= widths[1], f"the review scrolls sideways: {widths[0]} px of columns in {widths[1]} px"
    expect(page.get_by_test_id("stMetric")).to_have_count(8)  # the team's totals, and the forecast's four
    assert ui.cut_card_labels() == []


def test_review_compares_two_snapshots_and_exports_the_table(page: Page, ui) -> None:
    open_review(page, ui)
    review = review_table(page)
    expect(review).to_be_visible()
    expect(ui.chart("Team burn-up")).to_be_visible()
    waterfall = ui.chart("What moved the pipeline")
    expect(waterfall).to_be_visible()
    for cause in ("New", "Slipped out of period", "Lost", "Dropped out"):
        expect(waterfall.get_by_text(cause, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Slipped deals")).to_be_visible()

    # Compare the first snapshot with the latest instead of last week's.
    oldest = demo_snapshots(date.today())[0][0]
    frm = page.get_by_role("combobox", name="From snapshot")
    frm.scroll_into_view_if_needed()
    frm.click()
    page.get_by_role("option", name=f"{oldest:%a %d %b %Y}").click()
    expect(frm).to_have_value(f"{oldest:%a %d %b %Y}")
    ui.wait_for_idle()
    expect(waterfall.locator("g.xtick text").first).to_have_text(f"{oldest:%d %b}")
    ui.screenshot("team-review.png")

    with page.expect_download() as download:
        page.get_by_role("button", name="Review as CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0]["Rep"] == "Whole team"
    assert "Plan" in rows[0] and "Run-rate projection" in rows[0]  # the download has every column
    assert {r["Rep"] for r in rows[1:]} == {"Ana Lima", "Ben Carter", "Chloe Nguyen", "Dev Patel"}
    assert {r["Status"] for r in rows[1:]} == {"on track", "at risk", "off track"}

    with page.expect_download() as download:
        page.get_by_role("button", name="Slipped deals as Excel").click()
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["Deal", "Owner"] and "Times slipped before" in header
    assert sheet.max_row > 1


def test_clicking_a_rep_opens_their_track_view(page: Page, ui) -> None:
    open_review(page, ui)
    review = review_table(page)
    expect(review).to_be_visible()
    first_rep = review.get_by_test_id("glide-cell-1-1").inner_text()
    # Row 1 (under the team's totals) is the rep worst off; the checkbox at its left edge selects it.
    review.click(position={"x": 16, "y": ROW_HEIGHT * 2 + ROW_HEIGHT / 2})
    expect(page.get_by_role("heading", name="Track actuals against the plan")).to_be_visible()
    expect(page.get_by_role("combobox", name="Rep")).to_have_value(first_rep)


def test_uploading_this_weeks_pipeline_adds_a_snapshot_to_compare(page: Page, ui, tmp_path) -> None:
    open_review(page, ui)
    latest = demo_snapshots(date.today())[-1]
    # This week's export: last snapshot's deals, one of them pushed out a month, plus a new one.
    deals = latest[1].copy()
    deals.loc[0, "close_date"] += pd.Timedelta(days=30)
    export = pd.DataFrame(
        {
            "Record ID": [*list(deals["deal_id"]), "D-9999"],
            "Deal Stage": [*list(deals["stage"]), "Appointment Scheduled"],
            "Amount": [*list(deals["amount"]), 12345.0],
            "Close Date": [d.strftime("%Y-%m-%d") for d in deals["close_date"]] + [latest[0].isoformat()],
            "Deal owner": [*list(deals["owner"]), "Ana Lima"],
            "Forecast category": [*list(deals["forecast_category"]), "Pipeline"],  # HubSpot's label: recognised
        }
    )
    path = tmp_path / "pipeline-this-week.csv"
    export.to_csv(path, index=False)
    snapshot_day = latest[0] + timedelta(days=7)

    page.get_by_text("Upload this week's pipeline").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(path)
    expect(page.get_by_text(f"{len(export):,} deals read")).to_be_visible()
    day = page.get_by_test_id("stDateInput").filter(has_text="Snapshot date").locator("input")
    day.fill(snapshot_day.isoformat())
    day.press("Enter")
    ui.wait_for_idle()
    page.get_by_role("button", name="Save snapshot").click()
    stored = page.get_by_text(f"{len(export):,} deals stored as the pipeline of {snapshot_day:%d %b %Y}")
    expect(stored).to_be_visible()
    # What the page shows on that day is recorded beside it: each rep's and the team's four projections
    # (run-rate, pipeline-weighted, P50, and commit from the export's forecast categories).
    expect(stored).to_contain_text("20 projections recorded for forecast accuracy")
    expect(page.get_by_role("combobox", name="To snapshot")).to_have_value(f"{snapshot_day:%a %d %b %Y}")
    expect(page.get_by_role("combobox", name="From snapshot")).to_have_value(f"{latest[0]:%a %d %b %Y}")
    slipped = page.get_by_test_id("stDataFrame").filter(has_text="Times slipped before")
    expect(slipped).to_contain_text(deals.loc[0, "deal_id"])


def test_a_pipeline_export_with_an_unknown_id_column_is_mapped_by_hand(page: Page, ui, tmp_path) -> None:
    open_review(page, ui)
    export = pd.DataFrame(
        {
            "Opportunity Ref": ["Q-1", "Q-2", "Q-3"],
            "Stage": ["Proposal", "Negotiation", "Discovery"],
            "Amount": [1000.0, 2500.0, 400.0],
            "Close Date": ["2026-12-01", "2026-12-15", "2027-01-10"],
        }
    )
    path = tmp_path / "pipeline-odd-headers.csv"
    export.to_csv(path, index=False)
    page.get_by_text("Upload this week's pipeline").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(path)
    warning = page.get_by_test_id("stAlert").filter(has_text="Pick the Deal ID column above")
    expect(warning).to_be_visible()
    expect(page.get_by_role("button", name="Save snapshot")).to_have_count(0)
    ui.wait_for_idle()  # a menu opened while the upload's rerun redraws the page closes again
    box = page.get_by_role("combobox", name="Deal ID", exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option", name="Opportunity Ref", exact=True).click()
    expect(page.get_by_text("3 deals read (3 open)")).to_be_visible()
    expect(warning).to_have_count(0)
    expect(page.get_by_role("button", name="Save snapshot")).to_be_enabled()


def dollars(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def test_the_range_and_the_chance_and_what_if_the_biggest_deals_slip(page: Page, ui) -> None:
    open_review(page, ui)
    expect(page.get_by_role("heading", name="Will we hit it?")).to_be_visible()
    burnup = ui.chart("Team burn-up")
    expect(burnup.get_by_text("Team forecast: P10–P90 range")).to_be_visible()  # the fan to the period end
    expect(burnup.get_by_text("Team forecast: P50")).to_be_visible()
    p50, chance = ui.metric_value("Forecast (P50)"), ui.metric_value("Chance of hitting")
    expect(p50).to_have_text(re.compile(r"^\$[\d,]+$"))
    every = dollars(p50.inner_text()), chance.inner_text()
    review = review_table(page)
    expect(review).to_contain_text("P10–P90")
    ui.screenshot("team-review-forecast.png")

    page.get_by_test_id("stButtonGroup").get_by_text("Without the largest deal", exact=True).click()
    left_out = page.get_by_text(re.compile(r"^Left out: \S+ \(.+, \$[\d,]+\)"))
    expect(left_out).to_be_visible()
    ui.wait_for_idle()
    assert dollars(p50.inner_text()) <= every[0]
    assert int(chance.inner_text().rstrip("%")) <= int(every[1].rstrip("%"))
    expect(page.get_by_text("Coverage without them", exact=True)).to_be_visible()
    asks = page.get_by_test_id("stDataFrame").filter(has_text="Left after the pipeline")
    expect(asks).to_be_visible()
    ui.screenshot("team-review-without-largest.png")

    page.get_by_test_id("stButtonGroup").get_by_text("Every open deal", exact=True).click()
    expect(left_out).to_have_count(0)
    expect(p50).to_have_text(f"${every[0]:,.0f}")


# --------------------------------------------------------------------------- Teams and roles


@pytest.fixture(scope="module")
def three_people(serve_app, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An app of its own whose database holds Ana and Ben in East and Cy in West, and nothing else."""
    from planner import store
    from planner.access import SYSTEM

    workdir = tmp_path_factory.mktemp("backplan-e2e-people")
    con = store.connect(workdir / "backplan.duckdb")
    try:
        for name, team in (("Ana Lima", "East"), ("Ben Carter", "East"), ("Cy Ode", "West")):
            store.add_rep(con, SYSTEM, name, team)
    finally:
        con.close()
    with serve_app(workdir) as url:
        yield url


def test_teams_and_roles_edits_land_on_the_person_each_row_shows(open_ui, three_people: str) -> None:
    ui = open_ui(three_people)
    page = ui.page
    ui.sidebar_link("Team review").click()
    expect(page.get_by_role("heading", name="Team review")).to_be_visible()
    page.get_by_text("Teams and roles").click()
    editor = page.get_by_test_id("stDataFrame").filter(has_text="Sign-in email")
    names = editor.get_by_test_id(re.compile(r"^glide-cell-0-\d+$"))
    expect(names).to_have_text(["Ana Lima", "Ben Carter", "Cy Ode"])
    ui.wait_for_idle()

    ui.type_into_cell(editor, column=1, row=0, value="Zulu")  # Ana to Zulu: the list re-sorts, Ana last
    expect(names).to_have_text(["Ben Carter", "Cy Ode", "Ana Lima"])
    ui.wait_for_idle()
    ui.type_into_cell(editor, column=3, row=0, value="ben@acme.test")  # then the first row, now Ben's
    expect(editor.get_by_test_id("glide-cell-3-0")).to_have_text("ben@acme.test")
    ui.wait_for_idle()
    expect(editor.get_by_test_id("glide-cell-1-0")).to_have_text("East")  # Ben was not moved with Ana
    ui.screenshot("team-teams-and-roles.png")

    page.reload()
    expect(page.get_by_role("heading", name="Team review")).to_be_visible(timeout=30_000)
    page.get_by_text("Teams and roles").click()
    editor = page.get_by_test_id("stDataFrame").filter(has_text="Sign-in email")
    saved = {0: ["Ben Carter", "Cy Ode", "Ana Lima"], 1: ["East", "West", "Zulu"], 3: ["ben@acme.test", "", ""]}
    for column, cells in saved.items():
        expect(editor.get_by_test_id(re.compile(rf"^glide-cell-{column}-\d+$"))).to_have_text(cells)
