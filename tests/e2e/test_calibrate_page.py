"""The Calibrate page in Chromium: upload a CSV and an .xlsx, fix a mapping, edit a stage, save, apply on Plan.

The browser session shares one database for the whole run, so profile names are
unique per test.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

ROW_HEIGHT = 35  # Streamlit's data editor: header and rows are 35 px tall

# A generic export whose amount column no preset knows: the user has to point at it.
# Won 3000 + 1000, lost 1000 + 3000 (one open): win rate 50%, value 50%, average deal 2,000.
GENERIC_CSV = """Opportunity,Salesperson,Phase,Contract value (USD),Opened,Closed on
A-1,Ana,Won,"$3,000.00",2025-01-06,2025-02-05
A-2,Ana,Lost,"$1,000.00",2025-01-06,2025-01-20
B-1,Ben,Won,"$1,000.00",2025-02-03,2025-03-05
B-2,Ben,Lost,"$3,000.00",2025-02-03,2025-02-17
B-3,Ben,Demo,"$2,000.00",2025-03-03,
"""


def open_calibrate(page: Page, ui) -> None:
    ui.sidebar_link("Calibrate").click()
    expect(page.get_by_role("heading", name="Calibrate from last year's deals")).to_be_visible()
    ui.wait_for_idle()


def upload(page: Page, ui, path: Path) -> None:
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(path)
    expect(page.get_by_role("heading", name=path.name)).to_be_visible()
    ui.wait_for_idle()


def choose(page: Page, ui, label: str, option: str) -> None:
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)
    ui.wait_for_idle()


def save_profile(page: Page, ui, name: str) -> None:
    ui.commit(page.get_by_role("textbox", name="Profile name"), name)
    ui.wait_for_idle()
    page.get_by_role("button", name="Save as profile").click()
    expect(page.get_by_text("Saved. Open the Plan page")).to_be_visible()
    expect(page.get_by_text(name, exact=True)).to_be_visible()  # listed under Saved profiles
    ui.wait_for_idle()


def test_a_csv_with_an_unknown_amount_column_is_mapped_by_hand_saved_and_applied(
    page: Page, ui, tmp_path: Path
) -> None:
    open_calibrate(page, ui)
    export = tmp_path / "pipeline-2025.csv"
    export.write_text(GENERIC_CSV)
    upload(page, ui, export)
    # Nothing reads as an amount: the page says which column is missing and lists the ones it found.
    error = page.get_by_test_id("stAlertContentError")
    expect(error).to_contain_text("Amount")
    expect(error).to_contain_text("Contract value (USD)")
    expect(page.get_by_role("combobox", name="Stage", exact=True)).to_have_value("Phase")  # a common spelling
    choose(page, ui, "Amount", "Contract value (USD)")
    expect(ui.metric_value("Win rate")).to_have_text("50.0%")
    expect(ui.metric_value("Average deal size")).to_have_text("2,000")
    expect(ui.chart("Stage conversion")).to_be_visible()
    expect(ui.chart("Won deal sizes")).to_be_visible()
    ui.screenshot("calibrate-generic.png")
    save_profile(page, ui, "Hand-mapped 2025")

    ui.sidebar_link("Plan").click()
    profile = page.get_by_role("combobox", name="Calibration profile")
    expect(profile).to_be_visible()
    profile.click()
    page.get_by_role("option", name=re.compile(r"^Hand-mapped 2025")).click()
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(ui.number_input("Average deal size ($)")).to_have_value("2000")
    # The funnel is the file's: Demo → Won, at 2 demos per win (2 of the 4 closed deals were won).
    expect(ui.stage_name(1)).to_have_value("Demo")
    expect(page.get_by_role("spinbutton", name="Demo ratio")).to_have_value("2.00")
    expect(ui.metric_value("Deals needed")).to_have_text("193")  # $385,000 ÷ $2,000, rounded up
    expect(ui.metric_value("Chance the expected plan hits the target")).to_be_visible()
    ui.wait_for_idle()
    page.get_by_test_id("stRadioGroup").get_by_text("90% chance", exact=True).click()  # not the table row
    expect(ui.metric_value("Deals to plan for (90% sure)")).not_to_have_text("193")
    ui.screenshot("plan-with-profile.png")


def test_an_xlsx_export_reads_the_sheet_the_user_picks(page: Page, ui, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Read me"
    notes.append(["Exported from Salesforce"])
    deals = book.create_sheet("Opportunities")
    deals.append(["Opportunity Name", "Stage", "Amount", "Close Date", "Created Date", "Opportunity Owner"])
    deals.append(["Acme", "Closed Won", 12_000, "01/31/2025", "01/02/2025", "Ana"])
    deals.append(["Globex", "Closed Lost", 4_000, "02/14/2025", "01/10/2025", "Ana"])
    deals.append(["Initech", "Closed Won", 6_000, "03/31/2025", "03/01/2025", "Ben"])
    deals.append(["Hooli", "Negotiation/Review", 9_000, "04/30/2025", "03/15/2025", "Ben"])
    path = tmp_path / "salesforce-report.xlsx"
    book.save(path)

    open_calibrate(page, ui)
    upload(page, ui, path)
    # The first sheet has no deals in it: the user is told, and picks the right sheet.
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("Stage and Amount")
    choose(page, ui, "Sheet", "Opportunities")
    expect(ui.metric_value("Rows read")).to_have_text("4")
    expect(ui.metric_value("Win rate")).to_have_text("66.7%")  # 2 won of 3 closed
    expect(ui.metric_value("Average deal size")).to_have_text("9,000")
    expect(ui.metric_value("Sales cycle")).to_have_text("30 days")  # 29 and 30 days: the median, 29.5, rounds to 30
    save_profile(page, ui, "Salesforce xlsx")


def test_marking_a_stage_lost_in_the_stage_table_recalibrates(page: Page, ui, tmp_path: Path) -> None:
    export = tmp_path / "stages.csv"
    export.write_text("Stage,Amount\nWon,100\nWon,100\nParked,50\nParked,50\nLost,10\nProposal,20\n")
    open_calibrate(page, ui)
    upload(page, ui, export)
    # "Parked" reads as open: 2 won of 3 closed.
    expect(ui.metric_value("Win rate")).to_have_text("66.7%")
    editor = page.get_by_test_id("stDataFrame").filter(has_text="Outcome").first
    rows = editor.get_by_test_id(re.compile(r"^glide-cell-0-\d+$"))
    expect(rows).to_have_count(4)  # Proposal, Won, Parked, Lost: the grid has drawn every row
    names = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert "Parked" in names, names
    parked = names.index("Parked")
    # Select the Outcome cell of "Parked" and type the new outcome, as a keyboard user does.
    editor.click(position={"x": 20, "y": ROW_HEIGHT * (parked + 1) + ROW_HEIGHT / 2})
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.get_by_role("option", name="lost", exact=True).click()
    page.keyboard.press("Escape")
    expect(ui.metric_value("Win rate")).to_have_text("40.0%")  # 2 won of 5 closed
