"""The How it works page, and the Plan page's inputs surviving a visit to it."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import box, metric, rename_stage, stage_names


def test_the_guide_explains_the_method(app: AppTest) -> None:
    app.switch_page("pages/guide.py").run()
    assert not app.exception
    assert app.title[0].value == "How Backplan works"
    text = app.markdown[0].value if app.markdown else ""
    assert (
        "100 sales need 200 qualified prospects, 400 meetings and 800 connection requests"
        in " ".join(m.value for m in app.markdown)
        or "800 connection requests" in text
    )


def test_plan_inputs_survive_a_trip_to_another_page(app: AppTest) -> None:
    box(app, "Revenue target").set_value(770_000).run()
    rename_stage(app, "Connection requests", "Cold calls")
    app.switch_page("pages/guide.py").run()
    app.switch_page("pages/plan.py").run()
    assert not app.exception
    assert box(app, "Revenue target").value == 770_000
    assert stage_names(app)[0] == "Cold calls"
    assert metric(app, "Deals needed") == "200"
