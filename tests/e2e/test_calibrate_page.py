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
CORPUS = Path(__file__).resolve().parents[1] / "data" / "exports"

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


def upload(page: Page, ui, path: Path, into: str = "Upload last year's deals") -> None:
    """Give ``path`` to the uploader whose label starts with ``into`` (the deals; or the stage history)."""
    uploader = page.get_by_role("region", name=re.compile(f"^{re.escape(into)}"))
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(path)
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
    # The lost deals are in "Lost" with nothing saying how far they got: the funnel is one step at the win rate,
    # 2 opportunities per win (2 of the 4 closed deals were won), not steps made up at 100%.
    expect(ui.stage_name(1)).to_have_text("Opportunities")
    expect(ui.stage_cell(1, "Ratio")).to_have_text("2")  # the grid draws 2.00; its accessible cell holds the number
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


def set_outcome(page: Page, ui, stage: str, outcome: str) -> None:
    """Pick ``outcome`` for ``stage`` in the stage table, with the keyboard as a user does."""
    editor = page.get_by_test_id("stDataFrame").filter(has_text="Outcome").first
    names = editor.get_by_test_id(re.compile(r"^glide-cell-0-\d+$"))
    expect(names.filter(has_text=stage)).to_have_count(1)
    row = [names.nth(i).inner_text() for i in range(names.count())].index(stage)
    cell = {"x": 20, "y": ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2}
    ui.wait_for_idle()
    editor.hover(position=cell)  # the grid takes a click only once the pointer has been over it
    editor.click(position=cell)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.get_by_role("option", name=outcome, exact=True).click()
    # The pick is the cell's value once the grid shows it; Escape before that would cancel the edit.
    expect(editor.get_by_test_id(f"glide-cell-2-{row}")).to_have_text(outcome)
    page.keyboard.press("Escape")


def apply_profile(page: Page, ui, name: str) -> None:
    profile = page.get_by_role("combobox", name="Calibration profile")
    expect(profile).to_be_visible()
    profile.click()
    page.get_by_role("option", name=re.compile(f"^{re.escape(name)}")).click()
    page.get_by_role("button", name="Apply", exact=True).click()


def test_two_crm_exports_one_recognised_one_mapped_by_hand_are_saved_and_applied(page: Page, ui) -> None:
    open_calibrate(page, ui)
    # Pipedrive's own export is recognised from its "Deal - " labels; lost deals stay in the stage they were lost
    # at, so the funnel has every step (figures worked out in tests/data/exports/pipedrive_deals_ui.expected.json).
    upload(page, ui, CORPUS / "pipedrive_deals_ui.csv")
    expect(page.get_by_role("combobox", name="Export format")).to_have_value("Pipedrive deals")
    expect(ui.metric_value("Win rate")).to_have_text("50.0%")
    expect(ui.metric_value("Average deal size")).to_have_text("5,667")
    expect(ui.metric_value("Sales cycle")).to_have_text("30 days")
    expect(ui.metric_value("Rows left out")).to_have_text("1")  # the deleted deal
    expect(page.get_by_text("1 deleted deal is left out.")).to_be_visible()
    ui.screenshot("calibrate-pipedrive.png")
    save_profile(page, ui, "Pipedrive 2024")

    # A Bitrix24 export from a Russian portal (Windows-1251, ";"): no preset knows its headers, so the columns are
    # picked on the mapping screen, and "Выдано" (issued) is marked won on the stage table.
    upload(page, ui, CORPUS / "bitrix24_deals_ru_cp1251.csv")
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("Stage and Amount")
    choose(page, ui, "Stage", "Стадия сделки")
    choose(page, ui, "Amount", "Сумма")
    choose(page, ui, "Created date", "Дата создания")
    choose(page, ui, "Close date", "Дата закрытия")
    choose(page, ui, "Owner", "Ответственный")
    expect(ui.metric_value("Win rate")).to_have_text("0.0%")  # nothing reads as won yet
    set_outcome(page, ui, "Выдано", "won")
    expect(ui.metric_value("Win rate")).to_have_text("50.0%")
    expect(ui.metric_value("Average deal size")).to_have_text("200,000")
    expect(ui.metric_value("Sales cycle")).to_have_text("40 days")
    # Nothing says how far the refused deals got: one step at the win rate, and the page says why.
    expect(page.get_by_text("2 lost deals do not say how far they got", exact=False)).to_be_visible()
    ui.screenshot("calibrate-bitrix-mapped.png")
    save_profile(page, ui, "Bitrix24 loans")

    ui.sidebar_link("Plan").click()
    apply_profile(page, ui, "Pipedrive 2024")
    expect(ui.number_input("Average deal size ($)")).to_have_value("5667")  # 17,000 over 3 won deals
    expect(ui.stage_name(1)).to_have_text("Lead In")
    expect(ui.stage_cell(1, "Ratio")).to_have_text("1.2")  # 6 closed, 5 went on
    ui.screenshot("plan-with-pipedrive-profile.png")
    apply_profile(page, ui, "Bitrix24 loans")
    expect(ui.number_input("Average deal size ($)")).to_have_value("200000")
    expect(ui.stage_name(1)).to_have_text("Opportunities")
    expect(ui.stage_cell(1, "Ratio")).to_have_text("2")  # the grid draws 2.00; its accessible cell holds the number
    ui.screenshot("plan-with-bitrix-profile.png")


def test_an_upload_is_taken_out_of_the_uploader_and_a_stage_history_can_be_left_out(page: Page, ui) -> None:
    # Streamlit copies every file an uploader holds on every rerun (a million-row export: 130 MB, a tenth of a
    # second each time): the page takes the file and empties the uploader, and says which files it is reading.
    open_calibrate(page, ui)
    upload(page, ui, CORPUS / "salesforce_opportunities.csv")
    expect(page.get_by_test_id("stFileChip")).to_have_count(0)
    expect(page.get_by_text("Reading salesforce_opportunities.csv", exact=False)).to_be_visible()
    without = ui.metric_value("Win rate").inner_text()
    history = page.get_by_role("region", name=re.compile("^Stage history"))
    history.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        CORPUS / "salesforce_opportunity_field_history.csv"
    )
    expect(page.get_by_text("with its stage history from salesforce_opportunity_field_history.csv")).to_be_visible()
    ui.wait_for_idle()
    expect(page.get_by_test_id("stFileChip")).to_have_count(0)
    expect(ui.metric_value("Win rate")).to_have_text("50.0%")  # 2 won, 2 lost (the sidecar's figures)
    ui.screenshot("calibrate-with-history.png")
    page.get_by_role("button", name="Leave the stage history out").click()
    expect(page.get_by_text("with its stage history from")).to_have_count(0)
    expect(ui.metric_value("Win rate")).to_have_text(without)
