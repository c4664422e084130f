"""Sign-in on (an ``[auth]`` section in the secrets), under AppTest with a seeded ``st.user``.

The browser tests (tests/e2e/test_sign_in.py) go through a real OIDC provider;
these pin every rule quickly, including the ones a browser cannot reach, such
as a session whose state names someone else's plan.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bench._fragments import fragment_runs, run_in_fragment
from planner import store
from planner.access import SYSTEM
from planner.demo import demo_email, demo_team
from planner.units import WORD_JOINER
from tests.conftest import AUTH, ISSUER, ROOT, Pair, open_store, signed_in, slider
from tests.conftest import session_as as session
from ui import auth
from ui.session import KEPT

ANA, BEN, MAYA = demo_email("Ana Lima"), demo_email("Ben Carter"), demo_email("Maya Brooks")


@pytest.fixture
def plans(database: Path) -> dict[str, int]:
    """The demo team loaded; each rep's plan id by name."""
    with open_store(database) as con:
        store.load_team(con, SYSTEM, demo_team(date.today()))
        return {p.rep_name: p.id for p in store.list_plans(con)}


def texts(at: AppTest) -> str:
    return " ".join(
        str(e.value) for kind in ("title", "markdown", "caption", "info", "warning", "error") for e in at.get(kind)
    )


def test_a_signed_out_visitor_sees_a_sign_in_button_and_nothing_else(plans: dict[str, int]) -> None:
    at = session(None)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.selectbox and not at.metric and not at.get("plotly_chart")
    assert "Ana Lima" not in texts(at)
    for page in ("pages/track.py", "pages/team.py", "pages/calibrate.py", "pages/plan.py"):
        with pytest.raises(ValueError, match=r"Known pages: \['Sign in'\]"):  # no page but sign-in exists
            at.switch_page(page)


def test_an_email_on_no_team_is_told_who_to_ask_and_sees_nothing(plans: dict[str, int]) -> None:
    at = session("eve@elsewhere.test")
    said = at.warning[0].value.replace(WORD_JOINER, "")  # the joiner that keeps the address from being a link
    assert "not on a Backplan team yet" in said and "eve@elsewhere.test" in said
    assert [b.label for b in at.button] == ["Sign out"] and not at.selectbox


def test_a_rep_sees_only_their_own_plans(plans: dict[str, int]) -> None:
    at = session(ANA)
    assert "Ana Lima · rep" in " ".join(c.value for c in at.sidebar.caption)
    picks = at.selectbox(key="plan.pick").options
    assert len(picks) == 2 and all(p.startswith("Ana Lima · ") for p in picks)  # this quarter's and last
    assert at.selectbox(key="plan.rep").options == ["Ana Lima"] and at.selectbox(key="plan.rep").disabled
    assert "plan.new_rep" not in [t.key for t in at.text_input]  # a rep cannot add reps
    at.switch_page("pages/track.py").run()
    assert at.selectbox(key="track.rep").options == ["Ana Lima"]


def test_a_rep_cannot_open_team_review_or_calibrate(plans: dict[str, int]) -> None:
    at = session(ANA)
    for page in ("pages/team.py", "pages/calibrate.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def test_a_rep_whose_session_names_another_reps_plan_cannot_save_over_it(plans: dict[str, int], database) -> None:
    at = session(ANA)
    before = None
    with open_store(database) as con:
        before = store.get_plan(con, plans["Ben Carter"])
    # Forge the state the Plan page saves from: "editing Ben's plan, for Ben".
    at.session_state["plan.loaded_id"] = plans["Ben Carter"]
    at.session_state["plan.rep"] = at.selectbox(key="plan.rep").value
    at.session_state["plan.name"] = "Hijacked"
    at.run()
    at.button(key="btn.plan_save").click().run()
    assert "not one of yours" in " ".join(e.value for e in at.sidebar.error)
    with open_store(database) as con:
        assert store.get_plan(con, plans["Ben Carter"]) == before
        assert "Hijacked" not in [p.name for p in store.list_plans(con)]


def test_a_rep_whose_session_names_another_rep_sees_their_own_track(plans: dict[str, int]) -> None:
    at = session(ANA)
    # The kept copies app.py restores on a page change, as a team review click sets them.
    at.session_state[KEPT] = at.session_state[KEPT] | {"track.rep": "Ben Carter", "track.plan": "Q1"}
    at.switch_page("pages/track.py").run()
    assert not at.exception
    assert at.selectbox(key="track.rep").value == "Ana Lima"
    assert "Ben Carter" not in texts(at)


def test_a_link_to_another_reps_plan_is_refused(plans: dict[str, int]) -> None:
    at = session(ANA)
    at.query_params["plan"] = str(plans["Ben Carter"])
    at.switch_page("pages/track.py").run()
    assert "not one of yours" in at.error[0].value
    assert at.selectbox(key="track.rep").value == "Ana Lima"
    at = session(ANA)
    at.query_params["plan"] = str(plans["Ben Carter"])
    at.run()
    assert "not one of yours" in " ".join(e.value for e in at.sidebar.error)
    assert at.session_state["plan.loaded_id"] != plans["Ben Carter"]


def test_a_link_to_their_own_plan_opens_it(plans: dict[str, int]) -> None:
    at = session(ANA)
    at.query_params["plan"] = str(plans["Ana Lima"])
    at.run()
    assert at.session_state["plan.loaded_id"] == plans["Ana Lima"]


def test_a_manager_sees_their_team_and_reviews_it_but_cannot_change_roles(plans: dict[str, int]) -> None:
    at = session(MAYA)
    assert set(at.selectbox(key="plan.rep").options) == {
        "Ana Lima",
        "Ben Carter",
        "Chloe Nguyen",
        "Dev Patel",
        "Maya Brooks",
    }
    at.switch_page("pages/team.py").run()
    assert not at.exception
    assert at.selectbox(key="team.name").options == ["Mid-Market East — managed by Maya Brooks"]
    assert "Teams and roles" not in [e.label for e in at.expander]


def test_a_manager_cannot_see_another_team(plans: dict[str, int], database) -> None:
    with open_store(database) as con:
        wes = store.add_rep(con, SYSTEM, "Wes Hall", "West", "rep", "wes@acme.test")
        store.save_plan(con, SYSTEM, wes, "West plan", store.get_plan(con, plans["Ana Lima"]).inputs)
    at = session(MAYA)
    assert "Wes Hall" not in at.selectbox(key="plan.rep").options
    assert all("Wes Hall" not in o for o in at.selectbox(key="plan.pick").options)
    at.switch_page("pages/team.py").run()
    assert [o for o in at.selectbox(key="team.name").options if o.startswith("West")] == []


def test_sales_ops_named_in_the_secrets_see_calibrate_and_teams_and_roles(plans: dict[str, int]) -> None:
    at = session("ops@acme.test", ops=["ops@acme.test"])
    at.switch_page("pages/calibrate.py").run()
    assert not at.exception and at.title[0].value.startswith("Calibrate")
    at.switch_page("pages/team.py").run()
    assert "Teams and roles" in [e.label for e in at.expander]


def test_a_rep_saves_a_new_plan_as_their_own(plans: dict[str, int], database) -> None:
    at = session(ANA)
    at.text_input(key="plan.name").set_value("Stretch plan").run()
    at.button(key="btn.plan_save").click().run()
    assert not at.exception, at.exception
    assert not at.sidebar.error, [e.value for e in at.sidebar.error]
    with open_store(database) as con:
        mine = [p for p in store.list_plans(con) if p.name == "Stretch plan"]
    assert [p.rep_name for p in mine] == ["Ana Lima"]


def test_a_manager_adds_a_new_rep_to_their_own_team(plans: dict[str, int], database) -> None:
    at = session(MAYA)
    at.session_state["plan.rep"] = None
    at.run()
    at.text_input(key="plan.new_rep").set_value("Nia Okafor")
    at.text_input(key="plan.name").set_value("Ramp plan").run()
    at.button(key="btn.plan_save").click().run()
    assert not at.exception, at.exception
    with open_store(database) as con:
        nia = [r for r in store.list_reps(con) if r.name == "Nia Okafor"]
    assert [(r.team, r.role) for r in nia] == [("Mid-Market East", "rep")]


def test_each_named_identity_provider_gets_its_own_sign_in_button() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    shared = {k: AUTH[k] for k in ("redirect_uri", "cookie_secret")}
    provider = {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    at.secrets["auth"] = shared | {"google": provider, "microsoft_entra": provider}
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception, at.exception
    assert [b.label for b in at.button] == ["Sign in with Google", "Sign in with Microsoft Entra"]


# --------------------------------------------------------------------------- sign-out that holds, idle sessions


def returning(user: dict[str, object], idle_hours: float | None = None) -> AppTest:
    """A new session of a browser presenting the sign-in cookie ``user`` (as a copy of it would)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.secrets["auth"] = AUTH
    at.secrets["backplan"] = {"ops": []} | ({} if idle_hours is None else {"idle_hours": idle_hours})
    at.user = user
    at.run()
    assert not at.exception, at.exception
    return at


def signed_in_as(at: AppTest) -> str:
    return " ".join(c.value for c in at.sidebar.caption if c.value.startswith("Signed in as"))


def test_a_sign_in_cookie_replayed_after_sign_out_signs_nobody_in(plans: dict[str, int]) -> None:
    cookie = signed_in(ANA)
    at = returning(cookie)
    assert "Ana Lima · rep" in signed_in_as(at)
    at.button(key="btn.sign_out").click().run()
    assert not at.exception, at.exception

    replayed = returning(cookie)  # the same cookie, copied before the sign-out, in a fresh session
    assert signed_in_as(replayed) == ""
    assert [b.label for b in replayed.button] == ["Sign in"]
    assert "You signed out" in replayed.info[0].value
    assert "Ana Lima" not in texts(replayed) and not replayed.metric


def test_signing_out_ends_older_sign_ins_of_that_person_but_not_later_ones(plans: dict[str, int]) -> None:
    now = int(time.time())
    laptop, phone, later = signed_in(ANA, now - 600), signed_in(ANA, now - 60), signed_in(ANA, now + 5)
    returning(laptop)
    returning(phone).button(key="btn.sign_out").click().run()
    assert [b.label for b in returning(laptop).button] == ["Sign in"]  # older: ended too
    assert "Ana Lima · rep" in signed_in_as(returning(later))  # signed in again afterwards
    other_person = returning(signed_in(BEN, now - 600))
    assert "Ben Carter · rep" in signed_in_as(other_person)
    same_subject_elsewhere = returning(signed_in(ANA, now - 600, iss="https://other-id.test"))
    assert "Ana Lima · rep" in signed_in_as(same_subject_elsewhere)  # a subject is only unique at its issuer


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The server's clock for sign-ins (UTC), moved by the test: idle limits judged in hours, never by how fast
    this machine runs a session (a loaded one took over a second per run, more than a limit of seconds)."""
    now = [datetime.now(UTC).replace(tzinfo=None)]
    monkeypatch.setattr(auth, "_utc_now", lambda: now[0])
    return now


def test_a_session_unused_for_the_idle_limit_is_signed_out(plans: dict[str, int], clock: list[datetime]) -> None:
    cookie = signed_in(ANA)
    at = returning(cookie, idle_hours=2)
    assert "Ana Lima · rep" in signed_in_as(at)
    clock[0] += timedelta(hours=2, minutes=1)
    at.run()  # the next thing they do, in the same session
    assert signed_in_as(at) == ""
    assert "without using Backplan" in at.info[0].value and [b.label for b in at.button] == ["Sign in"]
    assert [b.label for b in returning(cookie, 2).button] == ["Sign in"]  # and in a new session


def test_a_session_in_use_is_not_signed_out(plans: dict[str, int], clock: list[datetime]) -> None:
    at = returning(signed_in(ANA), idle_hours=2)
    for _ in range(4):  # used every 90 minutes, six hours in all: never 2 hours idle
        clock[0] += timedelta(minutes=90)
        at.run()
        assert "Ana Lima · rep" in signed_in_as(at)


def test_a_sign_in_without_an_issue_time_is_not_trusted(plans: dict[str, int]) -> None:
    at = returning({"is_logged_in": True, "email": ANA, "iss": ISSUER, "sub": ANA})
    assert signed_in_as(at) == "" and "could not be checked" in at.info[0].value


# --------------------------------------------------------------------------- a slider move reruns the Plan alone


def target_slider(at: AppTest) -> Pair:
    return slider(at, "Drag to change the revenue target")


def test_a_slider_move_after_the_sign_in_ended_shows_the_sign_in_page(plans: dict[str, int]) -> None:
    # A slider move reruns only the Plan page's fragment, not app.py's sign-in gate: the fragment checks too.
    with fragment_runs():
        at = returning(signed_in(ANA), idle_hours=0.5 / 3600)
        time.sleep(0.7)
        run_in_fragment(target_slider(at).set_value(500_000))
        assert not at.exception, at.exception
        assert "without using Backplan" in at.info[0].value and [b.label for b in at.button] == ["Sign in"]
        assert not at.metric


def test_slider_moves_alone_keep_a_sign_in_in_use(plans: dict[str, int]) -> None:
    with fragment_runs():
        at = returning(signed_in(ANA), idle_hours=1.5 / 3600)
        for n in range(4):  # only the fragment runs, every half second: never 1.5 seconds idle
            time.sleep(0.5)
            run_in_fragment(target_slider(at).set_value(400_000 + 5_000 * n))
            assert at.metric[0].value == f"{-(-(400_000 + 5_000 * n) // 3_850):,}"
    at.run()
    assert "Ana Lima · rep" in signed_in_as(at)
