"""Moving between the app's pages, as a user does from the sidebar."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_plan_inputs_survive_a_trip_to_the_guide(ui) -> None:
    page = ui.page
    ui.commit(ui.number_input("Revenue target ($)"), "770000")
    expect(ui.metric_value("Deals needed")).to_have_text("200")
    ui.edit_stage(2, "Stage", "Discovery calls")
    expect(ui.funnel_stage_names()).to_contain_text(["Discovery calls"])
    ui.wait_for_idle()

    ui.sidebar_link("How it works").click()
    expect(page.get_by_role("heading", name="How Backplan works")).to_be_visible()
    expect(page.get_by_test_id("stMetric")).to_have_count(0)
    ui.wait_for_idle()

    ui.sidebar_link("Plan").click()
    expect(ui.metric_value("Deals needed")).to_have_text("200")
    expect(ui.number_input("Revenue target ($)")).to_have_value("770000")
    expect(ui.stage_name(2)).to_have_text("Discovery calls")
    expect(ui.funnel_values()).to_have_text(["1,600", "800", "400", "200"])
    expect(ui.funnel_stage_names()).to_contain_text(["Discovery calls"])
    expect(ui.metric_value("Discovery calls")).to_be_visible()
