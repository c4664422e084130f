"""Several people on the one app server at once, each saving a plan: every plan lands, nobody sees an error."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

SESSIONS = 4
#: As in conftest.py (not importable from here: ``conftest`` would be ambiguous beside tests/conftest.py).
RERUN_TIMEOUT_MS, LOAD_TIMEOUT_MS = 10_000, 30_000
VIEWPORT = {"width": 1400, "height": 1000}


def wait_for_app_idle(page: Page, timeout: float = RERUN_TIMEOUT_MS) -> None:
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=timeout)
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)


def open_plan_page(browser: Browser, url: str) -> Page:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(RERUN_TIMEOUT_MS)
    page = context.new_page()
    page.goto(url)
    expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    wait_for_app_idle(page, timeout=LOAD_TIMEOUT_MS)
    return page


def sidebar_field(page: Page, label: str):
    return page.get_by_test_id("stSidebar").get_by_role("textbox", name=label, exact=True)


def test_sessions_saving_plans_at_the_same_time_all_land(browser: Browser, own_app_server: str) -> None:
    run = uuid.uuid4().hex[:6]
    pages = [open_plan_page(browser, own_app_server) for _ in range(SESSIONS)]
    try:
        names = []
        for n, page in enumerate(pages):
            rep, plan = f"Rep {run}-{n}", f"Plan {run}-{n}"
            names.append(f"{rep} · {plan}")
            sidebar_field(page, "New rep's name").fill(rep)
            sidebar_field(page, "New rep's name").press("Tab")
            sidebar_field(page, "Plan name").fill(plan)
            sidebar_field(page, "Plan name").press("Tab")
            wait_for_app_idle(page)
        # Every session presses Save without waiting for the others: the saves run side by side on the server.
        for page in pages:
            page.get_by_role("button", name="Save plan").click()
        for n, page in enumerate(pages):
            expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Editing saved plan “Plan {run}-{n}”")
            wait_for_app_idle(page)
            expect(page.get_by_test_id("stException")).to_have_count(0)
            expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)

        # A newcomer finds every plan in the list.
        newcomer = open_plan_page(browser, own_app_server)
        pages.append(newcomer)
        newcomer.get_by_role("combobox", name="Open a saved plan").click()
        for name in names:
            expect(newcomer.get_by_role("option", name=name, exact=True)).to_have_count(1)
    finally:
        for page in pages:
            page.context.close()
