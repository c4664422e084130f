"""Two app servers on one PostgreSQL database, in Chromium: a manager on server A sees, after a rerun, the
actuals a rep typed on server B. Each server holds its own sessions and caches; the database is shared.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import expect

from planner import store
from planner.access import SYSTEM
from planner.demo import demo_team
from tests.backends import postgres_server
from tests.e2e.test_track_page import (
    actuals_editor,
    cell,
    first_row_of_the_period,
    open_track,
    pick_rep,
    type_into_cell,
)
from tests.servers import Team, app_servers

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    server = postgres_server()
    url = server.fresh()
    with store.connect(url) as con:
        store.load_team(con, SYSTEM, demo_team(date.today()))
    try:
        with app_servers(url, tmp_path_factory.mktemp("two-servers"), 2) as team:
            yield team
    finally:
        server.drop(url)


def test_a_manager_on_one_server_sees_a_reps_edit_made_on_the_other(two_servers: Team, open_ui) -> None:
    manager = open_ui(two_servers.url(0))
    manager.sidebar_link("Team review").click()
    expect(manager.page.get_by_role("heading", name="Team review")).to_be_visible()
    booked = manager.metric_value("Booked")
    expect(booked).to_be_visible()
    manager.wait_for_idle()
    before = booked.inner_text()

    rep = open_ui(two_servers.url(1))
    open_track(rep.page, rep)
    pick_rep(rep.page, rep, "Ana Lima")
    editor = actuals_editor(rep.page)
    rep_booked = rep.metric_value("Booked")
    rep_before = rep_booked.inner_text()
    row = first_row_of_the_period("Ana Lima")
    type_into_cell(rep.page, editor, column=1, row=row, value="777777")
    expect(cell(editor, 1, row)).to_have_text("777777")  # the grid shows it before server B has heard of it:
    expect(rep_booked).not_to_have_text(rep_before)  # B has written it once its own figure moves
    rep.wait_for_idle()

    expect(booked).to_have_text(before)  # server A has not run the page again yet
    manager.sidebar_link("Team review").click()  # a rerun, as any click on the page makes
    expect(booked).not_to_have_text(before)
    manager.wait_for_idle()
    manager.screenshot("team-review-on-server-a-after-an-edit-on-b.png")
