"""User text full of HTML, script and Markdown shows as typed and never runs, in Chromium.

A stage name and a plan name on the Plan page; and in every chart the app draws, stage, rep and
account names that Plotly would draw as a link and red text if it read them as markup.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

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

    ui.edit_stage(1, "Stage", STAGE_PAYLOAD)
    expect(page.get_by_test_id("stMetricLabel").filter(has_text=STAGE_PAYLOAD)).to_have_count(1)
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


# --------------------------------------------------------------------------- user text in charts


def payload(tag: str) -> str:
    """A live link and styled text if Plotly read it as markup (it knows <a href> and <span style>);
    59 characters, so it also fits a stage name typed on the Plan page."""
    return f'<a href="https://x.te">{tag}</a><span style="color:red">{tag}</span>'


REP = payload("R")
ACCOUNT = payload("A")
PLAN_STAGES = (payload("C"), payload("M"), payload("Q"))
PLAN_WON = payload("W")
EXPORT_STAGES = (payload("1"), payload("2"))


@pytest.fixture(scope="module")
def payload_app(serve_app, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """An app whose demo team has a rep named :data:`REP`, her plan's stages named by payloads, her deals in
    the pipeline snapshots and an account named :data:`ACCOUNT`; yields its URL and her plan's id."""
    from planner import store
    from planner.access import SYSTEM
    from planner.demo import demo_team

    team = demo_team(date.today())  # tables of its own: renaming here changes no other test's demo
    renamed = dict(zip([s.name for s in team.plans[0].inputs.stages], PLAN_STAGES, strict=True))
    ana = team.plans[0]
    stages = tuple(replace(s, name=renamed[s.name]) for s in ana.inputs.stages)
    weeks = tuple(replace(w, stage_counts={renamed[k]: v for k, v in w.stage_counts.items()}) for w in ana.weeks)
    ana = replace(ana, rep=REP, inputs=replace(ana.inputs, stages=stages, won_stage=PLAN_WON), weeks=weeks)
    for _, deals in team.snapshots:
        deals.loc[deals["owner"] == team.plans[0].rep, ["owner", "account"]] = [REP, ACCOUNT]
    team = replace(  # she is REP everywhere the demo names her: last quarter's plan and forecasts too
        team,
        reps=tuple(replace(r, name=REP) if r.name == team.plans[0].rep else r for r in team.reps),
        plans=(ana, *team.plans[1:]),
        past_plans=tuple(replace(p, rep=REP) if p.rep == team.plans[0].rep else p for p in team.past_plans),
        projections=tuple(
            (day, currency, tuple(replace(p, rep=REP) if p.rep == team.plans[0].rep else p for p in made))
            for day, currency, made in team.projections
        ),
    )
    workdir = tmp_path_factory.mktemp("backplan-e2e-chart-text")
    con = store.connect(workdir / "backplan.duckdb")
    try:
        plan_id = store.load_team(con, SYSTEM, team)[0]
        rep = next(r.id for r in store.list_reps(con) if r.name == REP)
        store.add_account(con, SYSTEM, ACCOUNT, date(2027, 1, 1), date(2027, 12, 31), owner_rep_id=rep)
    finally:
        con.close()
    with serve_app(workdir) as url:
        yield url, plan_id


#: Text Plotly styled: it draws <span style>, <b>, <i> as tspans with a style (a colour becomes a fill).
#: Streamlit's own bold chart titles are the one exception.
STYLED = "tspan[style]:not(.gtitle tspan), tspan[style*='fill']"


def expect_charts_inert(ui, count: int, *shown: str) -> None:
    """``count`` charts drawn, none holding a link or styled text, and every text in ``shown`` there as typed."""
    plots = ui.page.locator(".js-plotly-plot")
    expect(plots).to_have_count(count)
    for plot in plots.all():
        expect(plot.locator(".main-svg").first).to_be_visible()
    expect(plots.locator("a")).to_have_count(0)  # Plotly draws <a href> as an SVG link
    expect(plots.locator(STYLED)).to_have_count(0)
    for text in shown:
        expect(plots.filter(has_text=text).first).to_be_visible()


def test_a_plan_with_such_stage_names_shows_them_as_text_in_every_chart(open_ui, payload_app) -> None:
    url, plan_id = payload_app
    ui = open_ui(f"{url}/?plan={plan_id}")  # the Plan page is the app's default page
    expect(ui.stage_name(1)).to_have_text(PLAN_STAGES[0])
    ui.wait_for_idle()
    expect_charts_inert(ui, 5, *PLAN_STAGES, PLAN_WON)  # milestones, funnel, coverage, levers, what-if
    expect(ui.funnel_stage_names()).to_have_text([PLAN_WON, *PLAN_STAGES[::-1]])  # bottom-up, exactly as typed
    ui.screenshot("chart-text-plan.png")

    ui = open_ui(f"{url}/track?plan={plan_id}")
    expect(ui.chart("Burn-up")).to_be_visible()
    expect_charts_inert(ui, 1)
    ui.screenshot("chart-text-track.png")


def test_a_rep_named_so_is_text_in_the_team_charts_and_their_hover(open_ui, payload_app) -> None:
    url, _ = payload_app
    ui = open_ui(f"{url}/team")
    burnup = ui.chart("Team burn-up")
    expect(burnup).to_be_visible()
    expect_charts_inert(ui, 3, REP)  # team burn-up (the rep's line in the legend), forecast vs actual, the waterfall
    expect(burnup.locator("g.legend text.legendtext").filter(has_text=REP)).to_have_count(1)
    # Hovering her last point names her in the hover label, still as text. The legend lists the traces in
    # their order (the target, the milestones, the whole team's line, then the reps worst first).
    legend = burnup.locator("g.legend text.legendtext").all_text_contents()
    hers = next(i for i, name in enumerate(legend) if REP in name)
    burnup.locator("g.scatterlayer g.trace").nth(hers).locator("path.point").last.hover(force=True)
    hover = burnup.locator("g.hoverlayer")
    expect(hover).to_contain_text(REP)
    expect(hover.locator("a")).to_have_count(0)
    expect(hover.locator(STYLED)).to_have_count(0)
    ui.screenshot("chart-text-team.png")

    ui.sidebar_link("Accounts").click()
    # The picker shows the name as typed (Markdown elsewhere carries invisible joiners that keep its URL a text).
    expect(ui.page.get_by_role("combobox", name="Account", exact=True)).to_have_value(ACCOUNT)
    ui.wait_for_idle()
    expect(ui.page.locator(".js-plotly-plot").locator(f"a, {STYLED}")).to_have_count(0)


def test_a_profile_calibrated_from_such_an_export_carries_its_stage_names_into_the_plan_as_text(
    open_ui, payload_app, tmp_path: Path
) -> None:
    url, _ = payload_app
    ui = open_ui(url)
    page = ui.page
    ui.sidebar_link("Calibrate").click()
    expect(page.get_by_role("heading", name="Calibrate from last year's deals")).to_be_visible()
    ui.wait_for_idle()
    export = tmp_path / "export.csv"
    with export.open("w", newline="") as file:
        rows = csv.writer(file)
        rows.writerow(["Deal", "Owner", "Stage", "Status", "Amount", "Created", "Closed"])
        # The lost deals stay in the stage they were lost at (the status says lost), so the funnel has a step per
        # stage and every stage name reaches the conversion chart.
        deals = [*((s, "open") for s in EXPORT_STAGES * 3), ("Won", "won"), ("Won", "won"),
                 (EXPORT_STAGES[0], "lost"), (EXPORT_STAGES[-1], "lost")]  # fmt: skip
        for n, (stage, status) in enumerate(deals):
            rows.writerow([f"D-{n}", "Ana", stage, status, 1_000 + n * 100, f"2025-01-{n + 2:02d}", "2025-03-01"])
    deals_uploader = page.get_by_role("region", name=re.compile("^Upload last year's deals"))
    deals_uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(export)
    expect(page.get_by_role("heading", name=export.name)).to_be_visible()
    ui.wait_for_idle()
    expect(ui.chart("Stage conversion")).to_be_visible()
    expect_charts_inert(ui, page.locator(".js-plotly-plot").count(), *EXPORT_STAGES)
    ui.screenshot("chart-text-calibrate.png")
    ui.commit(page.get_by_role("textbox", name="Profile name"), "Payload stages")
    ui.wait_for_idle()
    page.get_by_role("button", name="Save as profile").click()
    expect(page.get_by_text("Saved. Open the Plan page")).to_be_visible()
    ui.wait_for_idle()

    ui.sidebar_link("Plan").click()
    profile = page.get_by_role("combobox", name="Calibration profile")
    profile.click()
    page.get_by_role("option", name=re.compile(r"^Payload stages")).click()
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(ui.stage_name(1)).to_have_text(EXPORT_STAGES[0])
    ui.wait_for_idle()
    expect_charts_inert(ui, 5, *EXPORT_STAGES)
    ui.screenshot("chart-text-plan-from-profile.png")
