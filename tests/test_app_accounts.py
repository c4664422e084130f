"""The Accounts page under AppTest: accounts, goals → SMART objectives → actions, the cycle, reviews."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from planner import access, store
from planner.access import SYSTEM
from planner.accounts import Action, CycleStep, Objective, Review, default_cycle, fiscal_year_of, new_plan_year
from tests.conftest import forge, metric, open_store, session_as

TODAY = date.today()


def open_accounts(app: AppTest) -> AppTest:
    app.switch_page("pages/accounts.py").run()
    assert not app.exception, app.exception
    return app


def texts(app: AppTest) -> str:
    """Everything the page says in Markdown, captions and alerts, as one string."""
    parts = [m.value for m in app.markdown] + [c.value for c in app.caption]
    parts += [e.value for kind in ("info", "warning", "error", "success") for e in getattr(app, kind)]
    return "\n".join(parts)


def add_account(app: AppTest, name: str, owner: str | None = None) -> None:
    """Add an account through the form, owned by the person labelled ``owner`` (else the form's default)."""
    app.text_input(key="accounts.new.name").input(name)
    if owner is not None:
        picker = app.selectbox(key="accounts.new.owner")
        picker.select_index(picker.options.index(owner))
    app.button(key="accounts.btn.add_account").click().run()
    assert not app.exception, app.exception


def seed(database, *, reviewed_days_ago: int | None = None) -> int:
    """An account with one goal, one objective and two actions, written straight to the store."""
    start, end = date(TODAY.year, 1, 1), date(TODAY.year, 12, 31)
    with open_store(database) as con:
        ana = store.add_rep(con, SYSTEM, "Ana Lima", "East")
        account = store.add_account(con, SYSTEM, "Acme", start, end, owner_rep_id=ana)
        goal = store.add_goal(con, SYSTEM, account, "roadmap to revenue", "Expand into the data team")
        objective = store.add_objective(con, SYSTEM, Objective(0, goal, "Win the data team"))
        store.add_action(
            con, SYSTEM, Action(0, account, "Map the buying group", objective, "Ana Lima", TODAY - timedelta(3))
        )
        store.add_action(con, SYSTEM, Action(0, account, "Run the pilot", objective, "Ben"))
        if reviewed_days_ago is not None:
            store.add_review(con, SYSTEM, Review(0, account, TODAY - timedelta(reviewed_days_ago), "Dana", "Targets"))
    return account


def test_an_empty_database_says_how_to_start(app: AppTest) -> None:
    open_accounts(app)
    said = texts(app)
    assert "No accounts yet" in said
    assert "No CRM export imported yet — upload one on Calibrate" in said


def test_building_a_plan_by_hand_rolls_progress_up(app: AppTest) -> None:
    open_accounts(app)
    add_account(app, "Globex")
    assert "Added Globex." in texts(app)
    assert app.selectbox(key="accounts.pick.account").value is not None
    assert metric(app, "Plan progress") == "0%"

    app.selectbox(key="accounts.new_goal.category").select("roadmap to revenue")
    app.text_input(key="accounts.new_goal.title").input("Expand into the data team")
    app.button(key="accounts.btn.add_goal").click().run()
    app.text_input(key="accounts.new_objective.statement").input("Win the data team")
    app.button(key="accounts.btn.add_objective").click().run()
    for action in ("Map the buying group", "Run the pilot"):
        app.text_input(key="accounts.new_action.description").input(action)
        app.button(key="accounts.btn.add_action").click().run()
    assert not app.exception, app.exception
    assert metric(app, "Actions done") == "0 of 2"
    boxes = {box.label.split(" — ")[0]: box for box in app.checkbox if box.key.startswith("accounts.done.")}
    assert list(boxes) == ["Map the buying group", "Run the pilot"]

    boxes["Map the buying group"].check().run()
    assert metric(app, "Actions done") == "1 of 2"
    assert metric(app, "Plan progress") == "50%"
    assert app.checkbox(key=boxes["Map the buying group"].key).value is True


def test_an_objective_shows_the_smart_letters_it_misses_and_why(app: AppTest, database) -> None:
    seed(database)
    open_accounts(app)
    said = texts(app)
    assert ":green-badge[S] :red-badge[M] :red-badge[A] :red-badge[R] :red-badge[T]" in said
    assert "Missing **M** (measurable): Needs a metric, a target value and the current value." in said
    assert "Missing **T** (time-bound): No due date." in said


def test_editing_an_objective_fixes_its_smart_letters(app: AppTest, database) -> None:
    seed(database)
    open_accounts(app)
    prefix = "accounts.objective.1."
    app.text_input(key=prefix + "metric").input("seats")
    app.number_input(key=prefix + "target").set_value(500)
    app.number_input(key=prefix + "current").set_value(120)
    app.text_input(key=prefix + "rationale").input("The pilot team asked for it")
    app.date_input(key=prefix + "due").set_value(date(TODAY.year, 11, 30))
    app.button(key="FormSubmitter:accounts.form.objective.1-Save objective").click().run()
    assert not app.exception, app.exception
    said = texts(app)
    assert "Saved the objective." in said
    assert ":green-badge[S] :green-badge[M] :green-badge[A] :green-badge[R] :green-badge[T]" in said
    assert "Missing" not in said


def test_an_action_with_no_objective_is_flagged_as_busywork(app: AppTest, database) -> None:
    account = seed(database)
    with open_store(database) as con:
        store.add_action(con, SYSTEM, Action(0, account, "Golf day"))
    open_accounts(app)
    assert "1 action serves no objective" in texts(app)
    assert any(box.label.startswith("Golf day") for box in app.checkbox)


def test_an_overdue_action_is_marked(app: AppTest, database) -> None:
    seed(database)
    open_accounts(app)
    overdue = [box.label for box in app.checkbox if "overdue" in box.label]
    assert len(overdue) == 1 and overdue[0].startswith("Map the buying group")


def test_deleting_a_goal_with_objectives_asks_first_then_removes_them_all(app: AppTest, database) -> None:
    account = seed(database)
    open_accounts(app)
    app.button(key="accounts.btn.delete_goal.1").click().run()
    assert "Delete this goal with its 1 objective and 2 actions?" in texts(app)
    app.button(key="accounts.btn.delete_goal_no.1").click().run()
    assert "Delete this goal" not in texts(app)
    with open_store(database) as con:
        assert len(store.get_account_plan(con, account).goals) == 1

    app.button(key="accounts.btn.delete_goal.1").click().run()
    app.button(key="accounts.btn.delete_goal_yes.1").click().run()
    assert not app.exception, app.exception
    assert "Deleted the goal with its objectives and their actions." in texts(app)
    assert "No goals yet" in texts(app)
    with open_store(database) as con:
        plan = store.get_account_plan(con, account)
        assert (plan.goals, plan.objectives, plan.actions) == ((), (), ())


def test_deleting_an_objective_with_actions_asks_first(app: AppTest, database) -> None:
    account = seed(database)
    open_accounts(app)
    app.button(key="accounts.btn.delete_objective.1").click().run()
    assert "Delete this objective and its 2 actions?" in texts(app)
    with open_store(database) as con:
        assert len(store.get_account_plan(con, account).objectives) == 1  # nothing gone before "Yes"
    app.button(key="accounts.btn.delete_objective_yes.1").click().run()
    assert not app.exception, app.exception
    assert "Deleted the objective and its actions." in texts(app)
    with open_store(database) as con:
        plan = store.get_account_plan(con, account)
        assert (len(plan.goals), plan.objectives, plan.actions) == (1, (), ())


def test_an_action_is_deleted_from_its_own_button(app: AppTest, database) -> None:
    account = seed(database)
    open_accounts(app)
    with open_store(database) as con:
        first, second = store.get_account_plan(con, account).actions
    app.button(key=f"accounts.btn.delete_action.{first.id}").click().run()
    assert not app.exception, app.exception
    assert "Deleted the action." in texts(app)
    with open_store(database) as con:
        assert [a.id for a in store.get_account_plan(con, account).actions] == [second.id]
    assert not any(box.label.startswith(first.description) for box in app.checkbox)


def test_an_action_is_edited_in_place(app: AppTest, database) -> None:
    account = seed(database)
    open_accounts(app)
    with open_store(database) as con:
        first = store.get_account_plan(con, account).actions[0]
    prefix = f"accounts.action.{first.id}."
    app.text_input(key=prefix + "description").set_value("Map the whole buying group")
    app.text_input(key=prefix + "owner").set_value("Ben Carter")
    app.selectbox(key=prefix + "status").set_value("in progress")
    app.button(key=f"FormSubmitter:accounts.form.action.{first.id}-Save action").click().run()
    assert not app.exception, app.exception
    assert "Saved the action." in texts(app)
    with open_store(database) as con:
        saved = next(a for a in store.get_account_plan(con, account).actions if a.id == first.id)
    assert (saved.description, saved.owner, saved.status, saved.objective_id) == (
        "Map the whole buying group",
        "Ben Carter",
        "in progress",
        first.objective_id,
    )
    assert any(box.label.startswith("Map the whole buying group — Ben Carter") for box in app.checkbox)


def test_an_action_emptied_of_its_description_is_refused(app: AppTest, database) -> None:
    account = seed(database)
    open_accounts(app)
    with open_store(database) as con:
        first = store.get_account_plan(con, account).actions[0]
    app.text_input(key=f"accounts.action.{first.id}.description").set_value("  ")
    app.button(key=f"FormSubmitter:accounts.form.action.{first.id}-Save action").click().run()
    assert "The action was not saved\\: An action needs a description." in texts(app)  # flash text is escaped
    with open_store(database) as con:
        assert store.get_account_plan(con, account).actions[0].description == first.description


def test_deleting_an_account_plan_asks_first_then_removes_it_whole(app: AppTest, database) -> None:
    account = seed(database)
    open_accounts(app)
    app.button(key=f"accounts.btn.delete_account.{account}").click().run()
    assert "with its 1 goal, 1 objective, 2 actions, planning cycle and review log?" in texts(app)
    app.button(key=f"accounts.btn.delete_account_yes.{account}").click().run()
    assert not app.exception, app.exception
    assert "Deleted the account plan with everything in it." in texts(app)
    assert "No accounts yet" in texts(app)
    with open_store(database) as con:
        assert store.list_accounts(con) == [] and store.get_account_plan(con, account) is None


def test_a_plan_not_reviewed_for_over_30_days_is_flagged_and_a_review_clears_it(app: AppTest, database) -> None:
    seed(database, reviewed_days_ago=45)
    open_accounts(app)
    listing = app.dataframe[0].value
    assert listing["Last reviewed"].tolist() == ["Last reviewed 45 days ago"]
    assert listing["Stale"].tolist() == ["stale"]
    assert "1 plan not reviewed for more than 30 days." in texts(app)

    app.text_input(key="accounts.review.who").input("Dana")
    app.text_input(key="accounts.review.what").input("New CIO; goals re-ranked")
    app.button(key="accounts.btn.add_review").click().run()
    assert not app.exception, app.exception
    assert "Review logged." in texts(app)
    assert app.dataframe[0].value["Stale"].tolist() == [""]
    assert "**Reviewed today**" in texts(app)


def test_the_stale_threshold_is_configurable(app: AppTest, database) -> None:
    seed(database, reviewed_days_ago=10)
    open_accounts(app)
    assert app.dataframe[0].value["Stale"].tolist() == [""]
    app.number_input(key="accounts.pick.stale_days").set_value(7).run()
    assert app.dataframe[0].value["Stale"].tolist() == ["stale"]


def test_the_planning_cycle_is_set_up_with_the_default_schedule_and_shows_overdue_steps(app: AppTest, database) -> None:
    account = seed(database)
    open_accounts(app)
    year = fiscal_year_of(TODAY)
    assert f"No planning cycle set up for FY{year} yet" in texts(app)
    # This year's cycle was due in last year's third quarter: the page says so before it is set up.
    assert f"That quarter ended on {default_cycle(year)[-1].due:%d %b %Y}, so every step would start overdue" in texts(
        app
    )
    app.button(key="accounts.btn.set_up_cycle").click().run()
    assert not app.exception, app.exception
    with open_store(database) as con:
        assert store.get_cycle(con, account, year) == list(default_cycle(year, 1, "Ana Lima"))
    late = [s for s in default_cycle(year) if s.due < TODAY]
    if late:
        assert f"{len(late)} step{'s' if len(late) != 1 else ''} overdue" in texts(app)
    else:
        assert "No step is overdue." in texts(app)


def test_accountability_lists_each_persons_open_and_overdue_work(app: AppTest, database) -> None:
    seed(database)
    open_accounts(app)
    people = next(df.value for df in app.dataframe if "Person" in df.value.columns and "Open steps" in df.value)
    rows = people.set_index("Person")
    assert rows.loc["Ana Lima", "Open actions"] == 1 and rows.loc["Ana Lima", "Overdue actions"] == 1
    assert rows.loc["Ben", "Open actions"] == 1 and rows.loc["Ben", "Overdue actions"] == 0


def test_the_customers_view_is_saved_and_typed_markup_stays_text(app: AppTest, database) -> None:
    account = seed(database)
    open_accounts(app)
    prefix = f"accounts.view.{account}."
    app.text_area(key=prefix + "aims").input("Halve month-end reporting")
    app.text_area(key=prefix + "priorities").input("Speed\nCost\n<b>Security</b>")
    app.radio(key=prefix + "risk").set_value("low")
    app.text_input(key=prefix + "name").input("Acme **bold** <script>alert(1)</script>")
    app.button(key=f"FormSubmitter:accounts.form.view.{account}-Save the customer's view").click().run()
    assert not app.exception, app.exception
    assert "Saved the account and the customer's view." in texts(app)
    with open_store(database) as con:
        saved = store.get_account_plan(con, account).account
    assert (saved.aims, saved.priorities, saved.risk_tolerance) == (
        "Halve month-end reporting",
        ("Speed", "Cost", "<b>Security</b>"),
        "low",
    )
    assert app.subheader[1].value == "Acme \\*\\*bold\\*\\* \\<script\\>alert\\(1\\)\\</script\\>"
    assert app.dataframe[0].value["Account"].tolist() == ["Acme **bold** <script>alert(1)</script>"]


def test_crm_accounts_are_imported_and_missing_pipeline_is_said_plainly(app: AppTest, database) -> None:
    with open_store(database) as con:
        store.add_rep(con, SYSTEM, "Ana Lima", "East")
        con.execute(
            "INSERT INTO deals (profile_id, deal_id, owner, account, stage, outcome, amount) VALUES"
            " (1, 'd1', 'Ana Lima', 'Initech', 'Won', 'won', 50000), (1, 'd2', 'Ben', 'Hooli', 'Lost', 'lost', 9000)"
        )
    open_accounts(app)
    assert app.multiselect(key="accounts.import_pick").value == ["Hooli", "Initech"]
    app.button(key="accounts.btn.import").click().run()
    assert not app.exception, app.exception
    # Owners are matched to people on file once, at import: Ben is not on file, so Hooli comes in unassigned.
    assert "Imported 2 accounts from the CRM export. 1 account imported unassigned" in texts(app)
    assert app.dataframe[0].value["Owner"].tolist() == ["(unassigned)", "Ana Lima"]
    with open_store(database) as con:
        owners = {a.name: (a.owner_rep_id is not None, a.owner) for a in store.list_accounts(con)}
    assert owners == {"Hooli": (False, "Ben"), "Initech": (True, "Ana Lima")}
    app.selectbox(key="accounts.pick.account").select("Initech").run()
    said = texts(app)
    assert "No pipeline snapshot yet — upload one on Team review" in said
    assert "Won from this account so far: 1 deal, $50,000." in said


def test_an_open_opportunity_past_its_close_date_is_flagged(app: AppTest, database) -> None:
    seed(database)
    late, soon = TODAY - timedelta(days=10), TODAY + timedelta(days=20)
    with open_store(database) as con:
        con.execute(
            "INSERT INTO pipeline_snapshots (snapshot_date, deal_id, owner, account, stage, amount, close_date)"
            " VALUES (?, 'p1', 'Ana Lima', 'Acme', 'Proposal', 40000, ?),"
            " (?, 'p2', 'Ana Lima', 'Acme', 'Demo', 9000, ?)",
            [TODAY, late, TODAY, soon],
        )
    open_accounts(app)
    deals = next(d.value for d in app.dataframe if "Close date" in d.value.columns)
    assert deals["Deal"].tolist() == ["p1", "p2"]
    assert deals["Past its close date"].tolist() == ["⚠ 10 days", ""]
    assert "1 of them has a close date already past: ask its owner to win, lose or re-date it." in texts(app)


def test_the_chosen_account_survives_a_page_switch(app: AppTest, database) -> None:
    seed(database)
    with open_store(database) as con:
        store.add_account(con, SYSTEM, "Zeta", date(TODAY.year, 1, 1), date(TODAY.year, 12, 31))
    open_accounts(app)
    app.selectbox(key="accounts.pick.account").select("Zeta").run()
    app.switch_page("pages/plan.py").run()
    open_accounts(app)
    assert app.subheader[1].value == "Zeta"  # the plan shown is Zeta's


# --------------------------------------------------------------------------- who may change what (sign-in on)

ANA_EMAIL, BEN_EMAIL, MAYA_EMAIL = "ana@acme.test", "ben@acme.test", "maya@acme.test"


@pytest.fixture
def two_reps(database) -> dict[str, int]:
    """Ana (East) and Ben (West), each owning an account plan with one goal; Maya manages East."""
    start, end = date(TODAY.year, 1, 1), date(TODAY.year, 12, 31)
    ids = {}
    with open_store(database) as con:
        ana = store.add_rep(con, SYSTEM, "Ana Lima", "East", "rep", ANA_EMAIL)
        ben = store.add_rep(con, SYSTEM, "Ben Carter", "West", "rep", BEN_EMAIL)
        store.add_rep(con, SYSTEM, "Maya Brooks", "East", "manager", MAYA_EMAIL)
        for name, owner in (("Ana Co", ana), ("Ben Co", ben)):
            account = store.add_account(con, SYSTEM, name, start, end, owner_rep_id=owner)
            ids[name] = account
            ids[f"{name} goal"] = store.add_goal(con, SYSTEM, account, "roadmap to revenue", f"Grow {name}")
    return ids


def objectives_of(database, account: int) -> list[str]:
    with open_store(database) as con:
        return [o.statement for o in store.get_account_plan(con, account).objectives]


def test_a_goal_id_never_offered_is_refused_and_nothing_is_written(two_reps: dict[str, int], database) -> None:
    at = open_accounts(session_as(ANA_EMAIL))
    assert at.selectbox(key="accounts.pick.account").options == ["Ana Co"]
    at.text_input(key="accounts.new_objective.statement").input("Sneak into Ben's plan")
    forge(at.selectbox(key="accounts.new_objective.goal"), str(two_reps["Ben Co goal"]))  # as a tampered browser
    at.button(key="accounts.btn.add_objective").click().run()
    assert not at.exception, at.exception
    assert "That goal is not one on the list" in texts(at)
    assert objectives_of(database, two_reps["Ben Co"]) == [] and objectives_of(database, two_reps["Ana Co"]) == []


def test_the_store_refuses_another_reps_account_whatever_the_page_lets_through(
    two_reps: dict[str, int], database
) -> None:
    with open_store(database) as con:
        ana = next(v for v in [access.resolve_viewer(ANA_EMAIL, store.list_reps(con))] if v is not None)
        with pytest.raises(store.Refused, match="not yours to change"):
            store.add_objective(con, ana, Objective(0, two_reps["Ben Co goal"], "Sneak in"))
        with pytest.raises(store.Refused):
            store.add_goal(con, ana, two_reps["Ben Co"], "customer success", "Sneak in")
        mine = store.add_objective(con, ana, Objective(0, two_reps["Ana Co goal"], "Mine"))
        with pytest.raises(store.StoreError, match="not on this account"):  # moving it under Ben's goal
            store.update_objective(con, ana, Objective(mine, two_reps["Ben Co goal"], "Mine"))
    assert objectives_of(database, two_reps["Ben Co"]) == []


def test_a_manager_gains_no_account_by_adding_a_rep_named_like_its_owner(two_reps: dict[str, int], database) -> None:
    with open_store(database) as con:  # sales ops import a CRM account whose owner is nobody on file yet
        done = store.add_accounts(
            con, SYSTEM, [store.CrmAccount("Zed Corp", "Zed Ray", 4)], date(TODAY.year, 1, 1), date(TODAY.year, 12, 31)
        )
    maya = session_as(MAYA_EMAIL)
    maya.session_state["plan.rep"] = None
    maya.run()
    maya.text_input(key="plan.new_rep").set_value("Zed Ray")
    maya.text_input(key="plan.name").set_value("Ramp plan").run()
    maya.button(key="btn.plan_save").click().run()
    assert not maya.exception and not maya.sidebar.error, [e.value for e in maya.sidebar.error]
    open_accounts(maya)
    assert "Zed Corp" not in maya.selectbox(key="accounts.pick.account").options  # still sales ops' to assign
    with open_store(database) as con:
        zed = store.get_account_plan(con, done.ids[0]).account
        assert (zed.owner_rep_id, zed.owner) == (None, "Zed Ray")
        viewer = access.resolve_viewer(MAYA_EMAIL, store.list_reps(con))
        with pytest.raises(store.Refused):
            store.add_goal(con, viewer, done.ids[0], "customer success", "Mine now")


def test_an_owner_is_picked_from_the_people_a_viewer_may_give_accounts_to(two_reps: dict[str, int], database) -> None:
    maya = open_accounts(session_as(MAYA_EMAIL))
    assert sorted(maya.selectbox(key="accounts.new.owner").options) == ["Ana Lima", "Maya Brooks"]
    assert maya.selectbox(key="accounts.new.owner").value == next(
        r.id for r in store_reps(database) if r.name == "Maya Brooks"
    )
    ana = open_accounts(session_as(ANA_EMAIL))
    assert ana.selectbox(key="accounts.new.owner").options == ["Ana Lima"]


def store_reps(database) -> list[store.Rep]:
    with open_store(database) as con:
        return store.list_reps(con)


# --------------------------------------------------------------------------- the year a plan is for


def test_a_new_account_plan_covers_the_fiscal_year_being_planned(app: AppTest, database) -> None:
    open_accounts(app)
    add_account(app, "Globex")
    with open_store(database) as con:
        account = store.list_accounts(con)[0]
    expected = new_plan_year(TODAY)
    assert (account.period_start, account.period_end) == (date(expected, 1, 1), date(expected, 12, 31))
    if TODAY.month >= 7:  # from the third quarter on, next year is the one being planned
        assert expected == TODAY.year + 1
    assert (account.period_end - account.period_start).days >= 364


def test_the_cycle_tab_opens_on_the_plans_own_year_planned_the_year_before(app: AppTest, database) -> None:
    with open_store(database) as con:
        account = store.add_account(con, SYSTEM, "Initech", date(2031, 1, 1), date(2031, 12, 31))
        store.save_cycle(con, SYSTEM, account, 2031, default_cycle(2031, 1, "Ana"))
    open_accounts(app)
    assert app.selectbox(key="accounts.pick.fiscal_year").value == 2031
    assert app.session_state["accounts.pick.fiscal_year"] == 2031
    assert "No planning cycle set up" not in texts(app)  # FY2031's, set up above
    assert "No step is overdue." in texts(app)  # due in Q3 2030, not Q3 2031
    assert app.data_editor[0].value["Due"].tolist()[0] == date(2030, 7, 15)


def test_a_cycle_saved_on_the_old_schedule_is_pointed_out_and_moved_only_when_asked(app: AppTest, database) -> None:
    """Saved dates are the user's: nothing moves them until the user says so, and then only the old defaults."""
    old = default_cycle(2032, 1, "Ana")  # FY2031's cycle as it was set up when FY N was planned in its own Q3
    with open_store(database) as con:
        account = store.add_account(con, SYSTEM, "Hooli", date(2031, 1, 1), date(2031, 12, 31))
        store.save_cycle(con, SYSTEM, account, 2031, [*old[:4], CycleStep(5, "Ben", date(2031, 9, 12))])
    open_accounts(app)
    said = texts(app)
    assert "4 steps of this cycle are still on the old schedule's dates, in FY2031's own third quarter" in said
    assert "Moved, they would be due: Assemble the team 15 Jul 2030;" in said
    with open_store(database) as con:
        assert store.get_cycle(con, account, 2031)[0].due == date(2031, 7, 15)  # opening the page moved nothing
    app.button(key="accounts.btn.reschedule").click().run()
    assert not app.exception, app.exception
    with open_store(database) as con:
        saved = store.get_cycle(con, account, 2031)
    assert [(s.owner, s.due) for s in saved] == [
        ("Ana", date(2030, 7, 15)),
        ("Ana", date(2030, 7, 29)),
        ("Ana", date(2030, 8, 19)),
        ("Ana", date(2030, 9, 9)),
        ("Ben", date(2031, 9, 12)),  # chosen by someone: kept
    ]
    assert "still on the old schedule's dates" not in texts(app)


def test_progress_in_the_accounts_list_is_a_whole_percent(app: AppTest, database) -> None:
    account = seed(database)
    with open_store(database) as con:
        goal = store.get_account_plan(con, account).goals[0].id
        third = store.add_objective(con, SYSTEM, Objective(0, goal, "A third objective"))
        for n in range(3):
            action = store.add_action(con, SYSTEM, Action(0, account, f"Step {n}", third))
            if n == 0:
                store.set_action_status(con, SYSTEM, action, "done")
    open_accounts(app)  # objectives 0/2 and 1/3 done: the goal is 16.67% along
    assert app.dataframe[0].value["Progress"].tolist() == [17]
    assert metric(app, "Plan progress") == "17%"
