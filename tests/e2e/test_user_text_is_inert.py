"""A stage name and a plan name full of HTML, script and Markdown show as typed and never run, in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

#: Fits the stage-name field (60 characters at most).
STAGE_PAYLOAD = "<img src=x onerror=alert(1)><script>alert(1)</script>"
#: Fits the plan-name field (80 characters at most).
PLAN_PAYLOAD = "<img src=x onerror=alert(2)><script>alert(2)</script>**b** [l](javascript:alert(3))"[:80]


def test_payloads_in_stage_and_plan_names_stay_text(own_ui) -> None:
    ui = own_ui  # an app of its own: the plan saved here would keep the shared one from taking the demo team
    page = ui.page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    ui.commit(ui.stage_name(1), STAGE_PAYLOAD)
    expect(page.get_by_test_id("stMetricLabel").filter(has_text=f"{STAGE_PAYLOAD} / week")).to_have_count(1)
    ui.wait_for_idle()
    plan_name = page.get_by_test_id("stSidebar").get_by_role("textbox", name="Plan name", exact=True)
    plan_name.fill(PLAN_PAYLOAD)
    plan_name.press("Tab")
    ui.wait_for_idle()
    page.get_by_test_id("stSidebar").get_by_role("textbox", name="New rep's name", exact=True).fill("Inert Rep")
    page.get_by_role("button", name="Save plan").click()

    # The sidebar shows the name exactly as typed, as text.
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Editing saved plan “{PLAN_PAYLOAD}”")
    ui.wait_for_idle()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    # Nothing the user typed became an element or a link.
    expect(page.locator("img[src='x']")).to_have_count(0)
    expect(page.locator("script", has_text="alert(")).to_have_count(0)
    expect(page.locator("a[href^='javascript']")).to_have_count(0)
    expect(page.locator("strong").filter(has_text=re.compile(r"^b$"))).to_have_count(0)  # **b** stayed as typed
    assert page.evaluate("() => document.querySelectorAll('[onerror]').length") == 0
    assert dialogs == []
