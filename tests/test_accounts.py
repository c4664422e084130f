"""Account plans: the SMART check, the roll-up, staleness, the planning cycle, accountability, the export."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.accounts import (
    CYCLE_STEPS,
    Account,
    AccountPlan,
    Action,
    CycleStep,
    Goal,
    Objective,
    Review,
    accountability,
    check_smart,
    default_cycle,
    fiscal_year_bounds,
    fiscal_year_of,
    is_overdue,
    open_items,
    plan_markdown,
    rescheduled,
    revenue_total,
    review_status,
    rollup,
)
from planner.units import markdown_text

START, END = date(2027, 1, 1), date(2027, 12, 31)
SMART = Objective(
    1, 1, "Roll out to the EMEA sites", "sites live", 5, 1, "Two sites have asked for it", date(2027, 6, 30)
)


# --------------------------------------------------------------------------- SMART


def test_a_complete_objective_meets_every_letter() -> None:
    check = check_smart(SMART, START, END)
    assert check.is_smart and check.letters == "SMART" and check.missing == ""


def test_an_empty_objective_misses_every_letter_with_a_reason_for_each() -> None:
    check = check_smart(Objective(1, 1, "  "), START, END)
    assert check.missing == "SMART"
    reasons = {g.letter: g.reason for g in check.gaps}
    assert reasons["S"] == "No statement of what will be achieved."
    assert reasons["M"] == "Needs a metric, a target value and the current value."
    assert reasons["T"] == "No due date."


def test_measurable_names_exactly_what_is_missing() -> None:
    no_current = Objective(1, 1, "Grow usage", "weekly users", 500, None, "Pilot went well", date(2027, 3, 1))
    check = check_smart(no_current, START, END)
    assert check.missing == "M"
    assert check.gaps[0].reason == "Needs the current value."


def test_a_zero_current_value_counts_as_measured() -> None:
    assert check_smart(Objective(1, 1, "New logo", "deals", 1, 0, "Asked us in", date(2027, 3, 1)), START, END).is_smart


@pytest.mark.parametrize(
    ("due", "reason"),
    [
        (date(2026, 12, 31), "Due 2026-12-31, before the period starts on 2027-01-01."),
        (date(2028, 1, 1), "Due 2028-01-01, after the period ends on 2027-12-31."),
    ],
)
def test_time_bound_means_due_inside_the_period(due: date, reason: str) -> None:
    check = check_smart(Objective(1, 1, "x", "m", 1, 0, "r", due), START, END)
    assert check.missing == "T" and check.gaps[0].reason == reason


def test_the_period_boundaries_are_inside_it() -> None:
    for due in (START, END):
        assert check_smart(Objective(1, 1, "x", "m", 1, 0, "r", due), START, END).meets("T")


REVENUE = Objective(1, 1, "Expand to the data team", "revenue", 200_000, 50_000, "Budget set", date(2027, 9, 30), True)


def test_a_revenue_objective_beyond_the_open_pipeline_is_not_attainable() -> None:
    check = check_smart(REVENUE, START, END, open_pipeline=100_000, won_history=150_000)
    assert check.missing == "A"
    assert check.gaps[0].reason == "$150,000 still to win, but the open pipeline on this account is only $100,000."
    assert check_smart(REVENUE, START, END, open_pipeline=150_000, won_history=150_000).is_smart


def test_a_revenue_objective_far_above_history_is_not_realistic() -> None:
    check = check_smart(REVENUE, START, END, open_pipeline=500_000, won_history=80_000, currency="EUR")
    assert check.missing == "R"
    assert check.gaps[0].reason == "€200,000 is 2.5× the €80,000 won from this account so far."


def test_a_revenue_objective_with_nothing_won_or_open_is_not_realistic() -> None:
    check = check_smart(REVENUE, START, END, open_pipeline=None, won_history=0)
    assert check.missing == "R"
    assert "Nothing won from this account yet" in check.gaps[0].reason


def test_without_pipeline_or_history_only_the_rationale_is_checked() -> None:
    assert check_smart(REVENUE, START, END).is_smart
    assert check_smart(Objective(1, 1, "x", "m", 1, 0, "", date(2027, 2, 1), True), START, END).missing == "AR"


def test_pipeline_and_history_do_not_judge_objectives_that_are_not_revenue() -> None:
    assert check_smart(SMART, START, END, open_pipeline=0, won_history=0).is_smart


# --------------------------------------------------------------------------- roll-up


GOALS = [Goal(1, 1, "roadmap to revenue", "Grow"), Goal(2, 1, "customer success", "Adoption")]
OBJECTIVES = [Objective(10, 1, "a"), Objective(11, 1, "b"), Objective(20, 2, "c")]


def test_progress_rolls_up_from_actions_to_objectives_goals_and_plan() -> None:
    actions = [
        Action(1, 1, "one", 10, status="done"),
        Action(2, 1, "two", 10),
        Action(3, 1, "three", 11, status="done"),
        Action(4, 1, "four", 20, status="in progress"),
    ]
    plan = rollup(GOALS, OBJECTIVES, actions)
    grow, adoption = plan.goals
    assert [o.progress for o in grow.objectives] == [0.5, 1.0]
    assert grow.progress == 0.75 and adoption.progress == 0.0
    assert plan.progress == 0.375
    assert (plan.done, plan.total) == (2, 4)
    assert plan.busywork == ()


def test_an_action_with_no_objective_is_busywork_and_counts_for_nothing() -> None:
    actions = [Action(1, 1, "golf day"), Action(2, 1, "orphan", objective_id=999, status="done")]
    plan = rollup(GOALS, OBJECTIVES, actions)
    assert [a.description for a in plan.busywork] == ["golf day", "orphan"]
    assert plan.progress == 0.0 and plan.total == 0


def test_an_empty_plan_has_made_no_progress() -> None:
    assert rollup([], [], []).progress == 0.0
    assert rollup(GOALS, [], []).progress == 0.0


statuses = st.sampled_from(["to do", "in progress", "done"])


@st.composite
def plans(draw):
    goals = [Goal(g, 1, "customer success", f"g{g}") for g in range(draw(st.integers(0, 4)))]
    objectives = []
    for goal in goals:
        for _ in range(draw(st.integers(0, 3))):
            objectives.append(Objective(len(objectives), goal.id, f"o{len(objectives)}"))
    object_ids = st.sampled_from([o.id for o in objectives]) if objectives else st.none()
    actions = [
        Action(i, 1, f"a{i}", draw(st.one_of(st.none(), object_ids)), status=draw(statuses))
        for i in range(draw(st.integers(0, 12)))
    ]
    return goals, objectives, actions


@given(plans())
def test_progress_is_always_between_0_and_1_and_1_only_when_everything_is_done(plan) -> None:
    goals, objectives, actions = plan
    result = rollup(goals, objectives, actions)
    values = [result.progress] + [g.progress for g in result.goals]
    values += [o.progress for g in result.goals for o in g.objectives]
    assert all(0.0 <= v <= 1.0 for v in values)
    served = [a for a in actions if a.objective_id is not None]
    every_objective_acted_on = all(any(a.objective_id == o.id for a in served) for o in objectives)
    everything_done = (
        bool(goals)
        and all(any(o.goal_id == g.id for o in objectives) for g in goals)
        and every_objective_acted_on
        and all(a.done for a in served)
    )
    assert (result.progress == 1.0) == everything_done
    assert len(result.busywork) == len(actions) - len(served)


@given(plans(), st.data())
def test_finishing_an_action_never_lowers_progress(plan, data) -> None:
    goals, objectives, actions = plan
    open_actions = [a for a in actions if not a.done]
    if not open_actions:
        return
    finish = data.draw(st.sampled_from(open_actions))
    after = [
        Action(a.id, a.account_id, a.description, a.objective_id, status="done") if a == finish else a for a in actions
    ]
    assert rollup(goals, objectives, after).progress >= rollup(goals, objectives, actions).progress


def test_revenue_objectives_add_their_targets() -> None:
    objectives = [REVENUE, SMART, Objective(3, 1, "no target yet", revenue=True)]
    assert revenue_total(objectives) == 200_000


# --------------------------------------------------------------------------- staleness


def test_last_reviewed_counts_days_from_the_latest_review() -> None:
    status = review_status([date(2027, 3, 1), date(2027, 3, 10)], date(2027, 3, 15))
    assert (status.last, status.days, status.stale, status.label) == (
        date(2027, 3, 10),
        5,
        False,
        "Last reviewed 5 days ago",
    )


def test_a_plan_goes_stale_after_more_than_30_days_or_the_configured_number() -> None:
    reviewed = [date(2027, 1, 1)]
    assert not review_status(reviewed, date(2027, 1, 31)).stale  # 30 days: not yet
    assert review_status(reviewed, date(2027, 2, 1)).stale  # 31 days
    assert review_status(reviewed, date(2027, 1, 9), stale_days=7).stale


def test_a_plan_never_reviewed_goes_stale_from_when_it_was_created() -> None:
    fresh = review_status([], date(2027, 1, 10), created=date(2027, 1, 1))
    assert fresh.label == "Never reviewed" and not fresh.stale
    assert review_status([], date(2027, 3, 1), created=date(2027, 1, 1)).stale


def test_labels_read_naturally() -> None:
    assert review_status([date(2027, 1, 1)], date(2027, 1, 1)).label == "Reviewed today"
    assert review_status([date(2027, 1, 1)], date(2027, 1, 2)).label == "Last reviewed 1 day ago"


# --------------------------------------------------------------------------- the planning cycle


@pytest.mark.parametrize(
    ("start_month", "fiscal_year", "bounds"),
    [
        (1, 2027, (date(2027, 1, 1), date(2027, 12, 31))),
        (4, 2027, (date(2026, 4, 1), date(2027, 3, 31))),
        (7, 2027, (date(2026, 7, 1), date(2027, 6, 30))),
        (12, 2027, (date(2026, 12, 1), date(2027, 11, 30))),
    ],
)
def test_fiscal_years_are_named_by_the_year_they_end_in(start_month: int, fiscal_year: int, bounds) -> None:
    assert fiscal_year_bounds(fiscal_year, start_month) == bounds
    first, last = bounds
    assert fiscal_year_of(first, start_month) == fiscal_year == fiscal_year_of(last, start_month)
    assert fiscal_year_of(first - timedelta(days=1), start_month) == fiscal_year - 1


def test_a_fiscal_year_cannot_start_in_month_13() -> None:
    with pytest.raises(ValueError, match="from 1 to 12"):
        fiscal_year_of(date(2027, 1, 1), 13)


def test_a_fiscal_years_cycle_runs_in_the_third_quarter_of_the_year_before() -> None:
    steps = default_cycle(2027, start_month=4, owner="Ana Lima")
    assert [s.name for s in steps] == list(CYCLE_STEPS)
    assert all(s.owner == "Ana Lima" and s.done_on is None for s in steps)
    # FY2027 from April runs Apr 2026 to Mar 2027; it is planned in FY2026's Q3: Oct to Dec 2025.
    q3_start, q3_end = date(2025, 10, 1), date(2025, 12, 31)
    assert all(q3_start <= s.due <= q3_end for s in steps)
    assert steps[-1].due == q3_end
    assert [s.due for s in steps] == sorted(s.due for s in steps)


@pytest.mark.parametrize("start_month", [1, 4])
def test_a_cycle_saved_on_the_old_schedule_moves_only_the_steps_still_on_its_dates(start_month: int) -> None:
    """Before, FY N was planned in its own third quarter: those dates are the new schedule's for FY N+1."""
    old = default_cycle(2028, start_month, "Ana")  # FY2027's cycle as the old schedule set it up
    new = default_cycle(2027, start_month, "Ana")
    saved = [
        old[0],
        replace(old[1], done_on=old[1].due),  # done: its dates are history
        replace(old[2], due=old[2].due + timedelta(days=3)),  # a date the user chose
        replace(old[3], owner="Ben"),  # a new owner, still the old date
        old[4],
    ]
    moved = rescheduled(saved, 2027, start_month)
    assert [(s.step, s.owner, s.due) for s in moved] == [
        (1, "Ana", new[0].due),
        (4, "Ben", new[3].due),
        (5, "Ana", new[4].due),
    ]
    assert rescheduled(new, 2027, start_month) == ()  # already on the new schedule: nothing to move
    assert rescheduled([], 2027, start_month) == ()


def test_a_step_is_overdue_once_its_due_date_passes_until_it_is_done() -> None:
    due = date(2027, 7, 15)
    assert not is_overdue(due, False, due)
    assert is_overdue(due, False, due + timedelta(days=1))
    assert not is_overdue(due, True, due + timedelta(days=1))
    assert not is_overdue(None, False, due)


# --------------------------------------------------------------------------- accountability


def test_accountability_counts_each_persons_open_and_overdue_work_across_accounts() -> None:
    today = date(2027, 8, 1)
    steps = [
        ("Acme", CycleStep(1, "Ana", date(2027, 7, 15), done_on=date(2027, 7, 14))),  # done: not owed
        ("Acme", CycleStep(2, "Ana", date(2027, 7, 29))),  # overdue
        ("Globex", CycleStep(3, "Ben", date(2027, 8, 19))),  # open
    ]
    actions = [
        ("Acme", Action(1, 1, "Call the CFO", 1, "Ben", date(2027, 7, 1))),  # overdue
        ("Globex", Action(2, 2, "Pilot", 2, " Ana ", date(2027, 9, 1), "in progress")),
        ("Globex", Action(3, 2, "Done already", 2, "Ana", date(2027, 7, 1), "done")),
        ("Globex", Action(4, 2, "Nobody's", None, "")),
    ]
    items = open_items(steps, actions, today)
    assert [(i.person, i.account, i.what, i.overdue) for i in items][:2] == [
        ("Ben", "Acme", "Call the CFO", True),
        ("Ana", "Acme", "Kick-off meeting", True),
    ]
    loads = {load.person: load for load in accountability(items)}
    assert set(loads) == {"Ana", "Ben", "(no owner)"}
    assert (loads["Ana"].open_steps, loads["Ana"].overdue_steps, loads["Ana"].open_actions) == (1, 1, 1)
    assert (loads["Ben"].open_steps, loads["Ben"].open_actions, loads["Ben"].overdue_actions) == (1, 1, 1)
    assert loads["(no owner)"].open_actions == 1


# --------------------------------------------------------------------------- the Markdown export


def _plan() -> AccountPlan:
    account = Account(
        7,
        "Acme *Corp*",
        START,
        END,
        owner="Ana Lima",
        segment="Enterprise",
        aims="Cut reporting time in half\n# not a heading",
        priorities=("Speed", "Cost"),
        timeframes="Board decision in March",
        risk_tolerance="low",
        notes="<script>alert(1)</script>",
        created_on=date(2027, 1, 5),
    )
    return AccountPlan(
        account,
        goals=(Goal(1, 7, "roadmap to revenue", "Expand"), Goal(2, 7, "relationship management", "Exec access")),
        objectives=(REVENUE, Objective(2, 2, "Meet the CIO quarterly")),
        actions=(
            Action(1, 7, "Send the proposal", 1, "Ana Lima", date(2027, 3, 1), "done"),
            Action(2, 7, "Book the QBR", 1, "Ben", None),
            Action(3, 7, "Golf day", None),
        ),
        reviews=(Review(1, 7, date(2027, 2, 1), "Dana", "Raised the target", "CFO on board"),),
    )


def test_the_export_tells_leadership_the_whole_plan() -> None:
    text = plan_markdown(_plan(), date(2027, 2, 11), cycle=default_cycle(2027, 1, "Ana Lima"), fiscal_year=2027)
    assert text.startswith("# Account plan: Acme \\*Corp\\*\n")
    assert "Progress: 25% (1 of 2 actions done) · Last reviewed 10 days ago" in text
    assert "**Risk tolerance:** low" in text
    assert "1. Speed\n2. Cost" in text
    assert "### Roadmap to revenue: Expand — 50%" in text
    assert "#### Objective: Expand to the data team (revenue)" in text
    assert "- SMART: SMART" in text
    assert "- SMART: meets S, misses MART" in text
    assert "  - T (time-bound): No due date." in text
    assert "- [x] Send the proposal (Ana Lima, due 2027-03-01)" in text
    assert "- [ ] Book the QBR (Ben)" in text
    assert "## Actions that serve no objective\n\n- [ ] Golf day" in text
    assert "## Planning cycle FY2027" in text
    assert "| Kick-off meeting | Ana Lima | 2026-07-29 | **overdue** |" in text  # FY2027 was planned in 2026
    assert "- 2027-02-01, Dana: Raised the target — CFO on board" in text
    assert "Revenue objectives add up to $200,000." in text


def test_the_export_marks_overdue_steps_and_stale_plans() -> None:
    text = plan_markdown(_plan(), date(2027, 8, 1), cycle=default_cycle(2028), fiscal_year=2028)
    assert "| Assemble the team | — | 2027-07-15 | **overdue** |" in text
    assert "(stale)" in text


def test_typed_text_cannot_become_markup_or_html_in_the_export() -> None:
    text = plan_markdown(_plan(), date(2027, 2, 11))
    assert "<script>" not in text
    assert "\\<script\\>alert(1)\\</script\\>" in text
    assert "\n# not a heading" not in text and "\\# not a heading" in text


def test_the_export_reads_as_typed_with_no_escaped_brackets_or_colons() -> None:
    plan = _plan()
    plan = replace(plan, account=replace(plan.account, timeframes="Decision (board): March", segment="EMEA: Tier 1"))
    text = plan_markdown(plan, date(2027, 2, 11))
    assert "**Timeframes:** Decision (board): March" in text and "Segment: EMEA: Tier 1" in text
    assert "\\(" not in text and "\\:" not in text and "\\)" not in text


@given(st.text())
def test_escaped_text_keeps_every_character_and_leaves_no_bare_markup(text: str) -> None:
    escaped = markdown_text(text, inline=False, document=True)  # as the export writes it
    assert "<" not in escaped.replace("\\<", "")
    assert "[" not in escaped.replace("\\[", "")
    unescaped = escaped.replace("  \n", "\n").replace("\\", "")
    assert [c for c in unescaped if c not in " \n\\"] == [
        c for c in "\n".join(text.strip().splitlines()) if c not in " \n\\"
    ]
