"""The Accounts page in Chromium: build a plan, complete an action, export it, reload, and typed markup.

The browser session shares one database for the whole run, so each test names
its account uniquely and picks it by name.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from planner.accounts import default_cycle, fiscal_year_bounds, new_plan_year

pytestmark = pytest.mark.browser


def open_accounts(page: Page, ui) -> None:
    ui.sidebar_link("Accounts").click()
    expect(page.get_by_role("heading", name="Account plans")).to_be_visible()
    ui.wait_for_idle()


def form(page: Page, button: str) -> Locator:
    """The form whose submit button reads ``button``."""
    return page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name=button, exact=True))


def open_add_account_form(page: Page, ui) -> None:
    """Open "Add an account" (collapsed once there are accounts) and wait until its form is there to type in."""
    new = form(page, "Add account")
    if not new.is_visible():
        page.get_by_text("Add an account", exact=True).click()
    expect(new.get_by_role("textbox", name="Account name")).to_be_editable()
    ui.wait_for_idle()


def add_account(page: Page, ui, name: str) -> None:
    """Add an account with the form's own owner (with sign-in off: nobody yet) and plan year."""
    open_add_account_form(page, ui)
    new = form(page, "Add account")
    new.get_by_role("textbox", name="Account name").fill(name)
    new.get_by_role("button", name="Add account").click()
    expect(page.get_by_test_id("stAlert").filter(has_text=f"Added {name}.")).to_be_visible()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    ui.wait_for_idle()


def add_goal(page: Page, ui, title: str) -> None:
    form(page, "Add goal").get_by_role("textbox", name="Goal").fill(title)
    page.get_by_role("button", name="Add goal").click()
    expect(page.get_by_text(title, exact=True)).to_be_visible()
    ui.wait_for_idle()


def add_action(page: Page, ui, description: str) -> None:
    form(page, "Add action").get_by_role("textbox", name="Action").fill(description)
    page.get_by_role("button", name="Add action").click()
    expect(action_box(page, description)).to_be_visible()
    ui.wait_for_idle()


def action_box(page: Page, description: str) -> Locator:
    return page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(description)}"))


def pick_account(page: Page, ui, name: str) -> None:
    box = page.get_by_role("combobox", name="Account", exact=True)
    box.click()
    page.get_by_role("option", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    ui.wait_for_idle()


def test_build_a_plan_complete_an_action_export_it_and_find_it_after_a_reload(page: Page, ui, tmp_path: Path) -> None:
    name = f"Initrode {uuid.uuid4().hex[:6]}"
    open_accounts(page, ui)
    add_account(page, ui, name)

    add_goal(page, ui, "Become their analytics standard")
    objective = form(page, "Add objective")
    objective.get_by_role("textbox", name="Objective").fill("Roll out to the EMEA sites")
    objective.get_by_role("textbox", name="Metric").fill("sites live")
    objective.get_by_role("spinbutton", name="Target value").fill("5")
    objective.get_by_role("spinbutton", name="Current value").fill("1")
    objective.get_by_role("textbox", name="Why it is attainable and realistic").fill("Two sites asked already")
    page.get_by_role("button", name="Add objective").click()
    expect(page.get_by_text("Roll out to the EMEA sites", exact=True)).to_be_visible()
    ui.wait_for_idle()
    add_action(page, ui, "Map the buying group")
    add_action(page, ui, "Run the pilot")

    expect(ui.metric_value("Actions done")).to_have_text("0 of 2")
    expect(ui.metric_value("Plan progress")).to_have_text("0%")
    page.get_by_text("Map the buying group", exact=False).first.click()
    expect(ui.metric_value("Actions done")).to_have_text("1 of 2")
    expect(ui.metric_value("Plan progress")).to_have_text("50%")
    expect(page.get_by_text("Goal: 50% — 1 of 2 actions done")).to_be_visible()
    expect(action_box(page, "Map the buying group")).to_be_checked()
    expect(action_box(page, "Run the pilot")).not_to_be_checked()
    ui.wait_for_idle()

    with page.expect_download() as download:
        page.get_by_role("button", name="Export as Markdown").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"account-plan-{name.lower().replace(' ', '-')}.md"
    text = saved.read_text(encoding="utf-8")
    assert text.startswith(f"# Account plan: {name}\n")
    assert "Progress: 50% (1 of 2 actions done)" in text
    assert "### Relationship management: Become their analytics standard — 50%" in text
    assert "#### Objective: Roll out to the EMEA sites" in text
    assert "- SMART: SMART" in text
    assert "- [x] Map the buying group" in text and "- [ ] Run the pilot" in text
    ui.screenshot("accounts-plan.png")

    page.reload()
    expect(page.get_by_role("heading", name="Account plans")).to_be_visible(timeout=30_000)
    ui.wait_for_idle()
    pick_account(page, ui, name)
    expect(page.get_by_text("Become their analytics standard", exact=True)).to_be_visible()
    expect(page.get_by_text("Roll out to the EMEA sites", exact=True)).to_be_visible()
    expect(action_box(page, "Map the buying group")).to_be_checked()
    expect(action_box(page, "Run the pilot")).not_to_be_checked()
    expect(ui.metric_value("Plan progress")).to_have_text("50%")


def test_a_new_plan_is_for_the_year_being_planned_and_its_export_reads_as_typed(page: Page, ui, tmp_path: Path) -> None:
    year = new_plan_year(date.today())
    name = f"Vandelay ({uuid.uuid4().hex[:6]}): imports"
    open_accounts(page, ui)
    add_account(page, ui, name)
    start, end = fiscal_year_bounds(year)
    expect(page.get_by_text(f"Plan period {start:%d %b %Y} to {end:%d %b %Y}")).to_be_visible()

    page.get_by_role("tab", name="Planning cycle").click()
    cycle = page.get_by_role("tabpanel", name="Planning cycle")
    expect(cycle.get_by_role("combobox", name="Planning cycle for")).to_have_value(
        f"FY{year} ({start:%d %b %Y} to {end:%d %b %Y}) — this plan"
    )
    expect(cycle.get_by_text(f"plans it in the third quarter of FY{year - 1}")).to_be_visible()
    cycle.get_by_role("button", name=f"Set up the FY{year} cycle").click()
    expect(cycle.get_by_test_id("stDataFrame")).to_be_visible()
    ui.wait_for_idle()
    ui.screenshot("accounts-cycle.png")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export as Markdown").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert text.startswith(f"# Account plan: {name}\n")  # as typed: no "\\(" or "\\:"
    assert f"## Planning cycle FY{year}" in text
    first = default_cycle(year)[0]
    assert re.search(rf"^\| {first.name} \| .* \| {first.due:%Y-%m-%d} \|", text, re.MULTILINE)
    assert "\\(" not in text and "\\:" not in text


def test_typed_markup_shows_as_literal_text_and_never_runs(page: Page, ui) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    payload = "<script>alert(1)</script>"
    name = f"Hooli {uuid.uuid4().hex[:6]} {payload}"
    open_accounts(page, ui)
    add_account(page, ui, name)
    add_goal(page, ui, f"**not bold** {payload}")
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    expect(page.get_by_text(f"**not bold** {payload}", exact=True)).to_be_visible()
    assert page.locator("[data-testid='stMain'] script").count() == 0
    # The goal's title is drawn bold as a whole; the asterisks typed inside it must not make a bold "not bold".
    assert page.locator("[data-testid='stMain'] strong").filter(has_text=re.compile(r"^not bold$")).count() == 0
    # Adding a review keeps the Review log tab open, and the typed markup is stored and shown as it was typed.
    page.get_by_role("tab", name="Review log").click()
    page.get_by_role("textbox", name="Who reviewed it").fill("Dana")
    page.get_by_role("textbox", name="What changed").fill(payload)
    page.get_by_role("button", name="Add review").click()
    expect(page.get_by_text("Review logged.")).to_be_visible()
    expect(page.get_by_role("tab", name="Review log")).to_have_attribute("aria-selected", "true")
    # The tab's own status line, not the accounts table's "Last reviewed" cell that says the same.
    expect(page.get_by_role("tabpanel", name="Review log").get_by_text("Reviewed today", exact=True)).to_be_visible()
    ui.wait_for_idle()
    assert page.locator("[data-testid='stMain'] script").count() == 0
    assert dialogs == []


def test_a_typed_url_or_email_shows_as_text_not_a_link(page: Page, ui) -> None:
    unique = f"Umbrella {uuid.uuid4().hex[:6]}"
    name = f"{unique} https://x.te www.x.te ana@acme.test"
    open_accounts(page, ui)
    # Added by hand: the page shows the name with invisible word joiners, which add_account's exact match misses.
    open_add_account_form(page, ui)
    new = form(page, "Add account")
    new.get_by_role("textbox", name="Account name").fill(name)
    new.get_by_role("button", name="Add account").click()
    heading = page.get_by_role("heading", name=re.compile(rf"^{unique} https"))
    expect(heading).to_have_count(1)
    ui.wait_for_idle()
    assert heading.inner_text().replace("\u2060", "") == name  # shown as typed: the word joiners are invisible
    main = page.get_by_test_id("stMain")
    expect(main.locator("a[href*='x.te'], a[href^='mailto:']")).to_have_count(0)
    ui.screenshot("accounts-typed-url.png")
