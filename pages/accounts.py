"""Accounts: living account plans — the customer's view, goals → SMART objectives → actions, the cycle.

Everything users type is shown as text: in Markdown it goes through
``planner.units.markdown_text``, elsewhere into dataframes, option labels or plain fields.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from planner import store
from planner.accounts import (
    ACTION_STATUSES,
    CYCLE_STEPS,
    GOAL_CATEGORIES,
    RISK_TOLERANCES,
    SMART_WORDS,
    Account,
    AccountPlan,
    Action,
    CycleStep,
    Objective,
    PlanProgress,
    Review,
    ReviewStatus,
    SmartCheck,
    accountability,
    check_smart,
    default_cycle,
    fiscal_year_bounds,
    fiscal_year_of,
    is_overdue,
    match_owners,
    new_plan_year,
    open_items,
    plan_fiscal_year,
    plan_markdown,
    rescheduled,
    revenue_total,
    review_status,
    rollup,
)
from planner.units import markdown_text as md
from planner.units import money, plural
from ui import auth, data, session, widgets

viewer = auth.enter_page("accounts")

state = st.session_state
today = date.today()
NO_OBJECTIVE = 0  # the action form's "serves no objective" choice
NO_OWNER = 0  # the owner pickers' "nobody yet" choice (sales ops only): rep ids start at 1
#: What the viewer is told for an account plan that is not theirs to change.
NOT_YOURS = "That account plan is not one of yours to change."


# --------------------------------------------------------------------------- small helpers


def _flash(kind: str, text: str) -> None:
    """A message for the next run to show at the top of the page."""
    widgets.flash("accounts", kind, text)


def _flash_error(text: str) -> None:
    _flash("error", text)


def _remember(widget_key: str, kept_key: str) -> None:
    """Copy a widget's value to a plain key: Streamlit forgets widget keys when another page runs."""
    state[kept_key] = state[widget_key]


def _bring_back(widget_key: str, kept_key: str, options: list) -> None:
    """Before drawing a widget: give it back its kept value (the first option if that is gone, or never was one)."""
    if not widgets.offered(state.get(kept_key), options):
        state[kept_key] = options[0]
    if not widgets.offered(state.get(widget_key), options):
        state[widget_key] = state[kept_key]


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:,.10g}"


def _new_plan_years() -> list[int]:
    """The fiscal years a new account plan may cover, the default first: next year's once it is being planned."""
    start_month = state["accounts.fy_start_month"]
    default, this_year = new_plan_year(today, start_month), fiscal_year_of(today, start_month)
    return [default, *(y for y in (this_year, this_year + 1) if y != default)]


def _fiscal_year_label(year: int, start_month: int) -> str:
    start, end = fiscal_year_bounds(year, start_month)
    return f"FY{year} ({start:%d %b %Y} to {end:%d %b %Y})"


def _select_account(account_id: int) -> None:
    state["accounts.selected"] = account_id
    state["accounts.pick.account"] = account_id
    state["accounts.fiscal_year"] = None  # the cycle tab opens on the account plan's own year


def _account_picked() -> None:
    _remember("accounts.pick.account", "accounts.selected")
    state["accounts.fiscal_year"] = None


def _owners_offered() -> dict[int, str]:
    """The people the viewer may give an account to, by id, and (for sales ops) nobody yet: what owner pickers offer."""
    people = {r.id: r.name for r in data.reps() if viewer.can_see_rep(r.id)}
    nobody = "(nobody yet: only sales ops see it)" if viewer.signed_in else "(nobody yet)"
    return ({NO_OWNER: nobody} if viewer.sees_everyone else {}) | people


def _owner_label(account: Account) -> str:
    """The owner as the page shows it (Markdown): their name, or why there is none."""
    if account.owner_rep_id is not None:
        return md(account.owner)
    if account.owner:
        return f"{md(account.owner)} (not on file: unassigned)"
    return "— (unassigned)"


# --------------------------------------------------------------------------- permission


def _may_own(owner_rep_id: int | None) -> bool:
    """Whether the viewer may give an account to rep ``owner_rep_id`` (None: nobody); if not, the page says why."""
    yours = f"You can own accounts only for yourself{' and your team' if viewer.role == 'manager' else ''}."
    return auth.permitted(lambda who: who.can_see_account(owner_rep_id), yours, _flash_error)


def _may_change(account_id: int) -> bool:
    """Every callback that changes an account's plan asks first: is the account, as saved now, the viewer's?

    An account deleted meanwhile passes: the store, which asks again inside the write, then says it is gone.
    """
    found = store.get_account_plan(data.db(), account_id)
    if found is None:
        return True
    return auth.permitted(lambda who: who.can_see_account(found.account.owner_rep_id), NOT_YOURS, _flash_error)


def _picked(key: str, options: Collection[Any], what: str) -> Any | None:
    """The value of picker ``key`` if it is one of ``options`` as drawn; else None, and the page says so."""
    value = widgets.chosen(key, options)
    if value is None:
        _flash_error(f"That {what} is not one on the list — pick it again.")
    return value


# --------------------------------------------------------------------------- callbacks


def _add_account(owners: list[int], years: list[int]) -> None:
    """Add account: ``owners`` and ``years`` are what the form's pickers were drawn with."""
    owner = _picked("accounts.new.owner", owners, "owner")
    year = _picked("accounts.new.fiscal_year", years, "fiscal year")
    if owner is None or year is None:
        return
    owner_rep_id = None if owner == NO_OWNER else int(owner)
    if not _may_own(owner_rep_id):
        return
    start, end = fiscal_year_bounds(int(year), state["accounts.fy_start_month"])
    try:
        account_id = store.add_account(
            data.db(),
            auth.viewer(),
            state["accounts.new.name"],
            start,
            end,
            owner_rep_id=owner_rep_id,
            segment=state["accounts.new.segment"],
        )
    except data.WRITE_ERRORS as error:
        _flash("error", data.failure(error))
        return
    _flash("success", f"Added {state['accounts.new.name'].strip()}.")
    for field in ("name", "segment"):
        state[f"accounts.new.{field}"] = ""
    _select_account(account_id)


def _import_accounts(choices: dict[str, store.CrmAccount], owners: dict[str, int | None]) -> None:
    """Import the CRM accounts picked (of ``choices``), their owners as matched when the list was drawn."""
    picked = [choices[name] for name in state["accounts.import_pick"] if name in choices]
    if not all(_may_own(owners[c.owner]) for c in picked):
        return
    start, end = fiscal_year_bounds(_new_plan_years()[0], state["accounts.fy_start_month"])
    try:
        done = store.add_accounts(data.db(), auth.viewer(), picked, start, end)
    except data.WRITE_ERRORS as error:
        _flash("error", f"Nothing was imported: {data.failure(error)}")
        return
    count = len(done.ids)
    _flash("success", f"Imported {count} account{'s' if count != 1 else ''} from the CRM export. {done.note}".strip())
    if done.ids:
        _select_account(done.ids[0])


def _save_view(account: Account, owners: list[int]) -> None:
    key = f"accounts.view.{account.id}."
    owner = _picked(key + "owner", owners, "owner")
    risk = _picked(key + "risk", RISK_TOLERANCES, "risk tolerance")
    if owner is None or risk is None:
        return
    owner_rep_id = None if owner == NO_OWNER else int(owner)
    if not (_may_change(account.id) and _may_own(owner_rep_id)):
        return
    priorities = tuple(line.strip() for line in state[key + "priorities"].splitlines() if line.strip())
    updated = Account(
        id=account.id,
        name=state[key + "name"],
        period_start=state[key + "start"],
        period_end=state[key + "end"],
        segment=state[key + "segment"],
        aims=state[key + "aims"],
        priorities=priorities,
        timeframes=state[key + "timeframes"],
        risk_tolerance=str(risk),
        notes=state[key + "notes"],
        owner_rep_id=owner_rep_id,
    )
    try:
        store.update_account(data.db(), auth.viewer(), updated)
    except data.WRITE_ERRORS as error:
        _flash("error", data.failure(error))
    else:
        _flash("success", "Saved the account and the customer's view.")


def _add_goal(account_id: int) -> None:
    category = _picked("accounts.new_goal.category", GOAL_CATEGORIES, "goal category")
    if category is None or not _may_change(account_id):
        return
    try:
        goal_id = store.add_goal(data.db(), auth.viewer(), account_id, str(category), state["accounts.new_goal.title"])
    except data.WRITE_ERRORS as error:
        _flash("error", data.failure(error))
        return
    state["accounts.new_goal.title"] = ""
    state["accounts.new_objective.goal"] = goal_id  # the next objective most likely serves it


#: What each kind of deletion removes, in the words of its success message.
_DELETED = {
    "goal": (store.delete_goal, "Deleted the goal with its objectives and their actions."),
    "objective": (store.delete_objective, "Deleted the objective and its actions."),
    "action": (store.delete_action, "Deleted the action."),
    "account": (store.delete_account, "Deleted the account plan with everything in it."),
}


def _ask_delete(account_id: int, kind: str, item_id: int, needs_confirm: bool) -> None:
    """A delete button: ask first when the item holds more than itself, else delete at once."""
    if needs_confirm:
        state["accounts.confirm_delete"] = (kind, item_id)
    else:
        _delete(account_id, kind, item_id)


def _delete(account_id: int, kind: str, item_id: int) -> None:
    state["accounts.confirm_delete"] = None
    if not _may_change(account_id):
        return
    delete, done = _DELETED[kind]
    try:
        delete(data.db(), auth.viewer(), item_id)
    except data.WRITE_ERRORS as error:
        _flash("error", f"Nothing was deleted: {data.failure(error)}")
    else:
        _flash("success", done)
        if kind == "account":
            state["accounts.selected"] = None


def _objective_from_form(prefix: str, objective_id: int, goal_id: int) -> Objective:
    return Objective(
        id=objective_id,
        goal_id=goal_id,
        statement=state[prefix + "statement"],
        metric=state[prefix + "metric"],
        target_value=state[prefix + "target"],
        current_value=state[prefix + "current"],
        rationale=state[prefix + "rationale"],
        due=state[prefix + "due"],
        revenue=state[prefix + "revenue"],
    )


def _add_objective(account_id: int, due: date, goal_ids: list[int]) -> None:
    """Add objective: under the goal picked, one of ``goal_ids`` (this account's goals, as the form offered)."""
    prefix = "accounts.new_objective."
    if not goal_ids:
        _flash("error", "Add a goal first: every objective serves one.")
        return
    goal_id = _picked(prefix + "goal", goal_ids, "goal")
    if goal_id is None or not _may_change(account_id):
        return
    try:
        objective = _objective_from_form(prefix, 0, int(goal_id))
        objective_id = store.add_objective(data.db(), auth.viewer(), objective)
    except data.WRITE_ERRORS as error:
        _flash("error", data.failure(error))
        return
    state.update(session.new_objective_form(due))
    state["accounts.new_action.objective"] = objective_id


def _save_objective(account_id: int, objective: Objective) -> None:
    if not _may_change(account_id):
        return
    prefix = f"accounts.objective.{objective.id}."
    try:
        store.update_objective(data.db(), auth.viewer(), _objective_from_form(prefix, objective.id, objective.goal_id))
    except data.WRITE_ERRORS as error:
        _flash("error", data.failure(error))
    else:
        _flash("success", "Saved the objective.")


#: The fields of an action a person types, in the new-action form and in each action's edit form.
_ACTION_INPUTS = ("description", "owner", "due", "status")


def _typed_action(prefix: str) -> dict[str, object]:
    return {name: state[prefix + name] for name in _ACTION_INPUTS}


def _save_action(action: Action) -> None:
    prefix = f"accounts.action.{action.id}."
    if _picked(prefix + "status", ACTION_STATUSES, "status") is not None and _may_change(action.account_id):
        try:
            store.update_action(data.db(), auth.viewer(), replace(action, **_typed_action(prefix)))
        except data.WRITE_ERRORS as error:
            _flash("error", f"The action was not saved: {data.failure(error)}")
        else:
            _flash("success", "Saved the action.")
    for name in _ACTION_INPUTS:  # the next draw starts from what is saved
        state.pop(prefix + name, None)


def _add_action(account_id: int, objective_ids: list[int]) -> None:
    """Add action: for the objective picked, one of ``objective_ids`` (this account's, or none, as offered)."""
    prefix = "accounts.new_action."
    objective = _picked(prefix + "objective", objective_ids, "objective")
    status = _picked(prefix + "status", ACTION_STATUSES, "status")
    if objective is None or status is None or not _may_change(account_id):
        return
    action = Action(
        id=0,
        account_id=account_id,
        objective_id=None if objective == NO_OBJECTIVE else int(objective),
        **_typed_action(prefix),  # type: ignore[arg-type]
    )
    try:
        store.add_action(data.db(), auth.viewer(), action)
    except data.WRITE_ERRORS as error:
        _flash("error", data.failure(error))
        return
    state.update(session.new_action_form(today))


def _toggle_action(action: Action, key: str) -> None:
    if not _may_change(action.account_id):
        return
    try:
        store.set_action_status(data.db(), auth.viewer(), action.id, "done" if state[key] is True else "to do")
    except data.WRITE_ERRORS as error:
        _flash("error", data.failure(error))


def _set_up_cycle(account_id: int, fiscal_year: int, owner: str) -> None:
    _save_steps(account_id, fiscal_year, default_cycle(fiscal_year, state["accounts.fy_start_month"], owner))


def _save_steps(account_id: int, fiscal_year: int, steps: Sequence[CycleStep]) -> None:
    """Save these steps of a cycle (a new one's five, or those the user asked to move to the current schedule)."""
    if not _may_change(account_id):
        return
    try:
        store.save_cycle(data.db(), auth.viewer(), account_id, fiscal_year, steps)
    except data.WRITE_ERRORS as error:
        _flash("error", data.failure(error))


def _save_cycle_edits(account_id: int, fiscal_year: int, steps: list[CycleStep], editor_key: str) -> None:
    if not _may_change(account_id):
        return
    changed = []
    for row, edits in state[editor_key]["edited_rows"].items():
        step = steps[int(row)]
        due = edits.get("Due", step.due)
        if due is None:
            _flash("error", f"“{step.name}” needs a due date; that change was not saved.")
            continue
        changed.append(CycleStep(step.step, edits.get("Owner", step.owner) or "", due, edits.get("Done", step.done_on)))
    try:
        store.save_cycle(data.db(), auth.viewer(), account_id, fiscal_year, changed)
    except data.WRITE_ERRORS as error:
        _flash("error", f"Could not save that change: {data.failure(error)}")


def _add_review(account_id: int) -> None:
    if not _may_change(account_id):
        return
    prefix = "accounts.review."
    review = Review(
        id=0,
        account_id=account_id,
        reviewed_on=state[prefix + "date"] or today,
        reviewer=state[prefix + "who"],
        what_changed=state[prefix + "what"],
        notes=state[prefix + "notes"],
    )
    try:
        store.add_review(data.db(), auth.viewer(), review)
    except data.WRITE_ERRORS as error:
        _flash("error", data.failure(error))
        return
    state.update(session.review_form(today))
    _flash("success", "Review logged.")


# --------------------------------------------------------------------------- the accounts


def _settings() -> tuple[int, int]:
    """The page's settings; returns the fiscal year's first month and the days after which a plan is stale."""
    with st.expander("Settings", icon=":material/settings:"):
        months = list(range(1, 13))
        month_col, stale_col = st.columns(2)
        _bring_back("accounts.pick.fy_start_month", "accounts.fy_start_month", months)
        month_col.selectbox(
            "Fiscal year starts in",
            months,
            key="accounts.pick.fy_start_month",
            format_func=lambda m: calendar.month_name[m],
            on_change=_remember,
            args=("accounts.pick.fy_start_month", "accounts.fy_start_month"),
            help="A fiscal year is named by the calendar year it ends in.",
        )
        if "accounts.pick.stale_days" not in state:
            state["accounts.pick.stale_days"] = state["accounts.stale_days"]
        stale_col.number_input(
            "Flag plans not reviewed for more than (days)",
            min_value=1,
            max_value=365,
            step=1,
            key="accounts.pick.stale_days",
            on_change=_remember,
            args=("accounts.pick.stale_days", "accounts.stale_days"),
        )
    return state["accounts.fy_start_month"], state["accounts.stale_days"]


def _accounts_list(plans: list[AccountPlan], statuses: dict[int, ReviewStatus], stale_days: int) -> None:
    st.subheader("Accounts")
    if not plans:
        st.info("No accounts yet. Add one below, or import the accounts named in a CRM export.", icon=":material/info:")
        return
    stale, stale_slot = [p.account.name for p in plans if statuses[p.account.id].stale], st.empty()
    if stale:
        stale_slot.warning(
            f"{len(stale)} plan{'s' if len(stale) != 1 else ''} not reviewed for more than {stale_days} days.",
            icon=":material/history:",
        )
    st.dataframe(
        [
            {
                "Account": p.account.name,
                "Owner": p.account.owner if p.account.owner_rep_id is not None else "(unassigned)",
                "Segment": p.account.segment,
                "Progress": round(100 * rollup(p.goals, p.objectives, p.actions).progress),
                "Last reviewed": statuses[p.account.id].label,
                "Stale": "stale" if statuses[p.account.id].stale else "",
            }
            for p in plans
        ],
        hide_index=True,
        # Whole percent, as the header's cards say it: "17%", never "16.67%".
        column_config={
            "Progress": st.column_config.ProgressColumn("Progress", format="%d%%", min_value=0, max_value=100)
        },
        key="accounts.list",
    )


def _new_account_form() -> None:
    owners, years, start_month = _owners_offered(), _new_plan_years(), state["accounts.fy_start_month"]
    if not widgets.offered(state["accounts.new.owner"], list(owners)):  # yourself, if you are on file
        state["accounts.new.owner"] = viewer.rep_id if viewer.rep_id in owners else next(iter(owners), None)
    if not widgets.offered(state["accounts.new.fiscal_year"], years):
        state["accounts.new.fiscal_year"] = years[0]
    if not owners:
        st.caption("You are not on file as a rep yet, so there is nobody you can give an account to.")
        return
    with st.form("accounts.form.new_account", border=False):
        st.text_input("Account name", key="accounts.new.name")
        st.selectbox(
            "Owner",
            list(owners),
            key="accounts.new.owner",
            format_func=owners.get,
            help="Who owns the account: they, their manager and sales ops see and change its plan",
            disabled=len(owners) == 1,
        )
        st.text_input("Segment", key="accounts.new.segment", placeholder="Enterprise, Mid-Market…")
        st.selectbox(
            "The plan covers",
            years,
            key="accounts.new.fiscal_year",
            format_func=lambda y: _fiscal_year_label(y, start_month),
            help="Next fiscal year from its planning season (the third quarter of this one) on",
        )
        st.form_submit_button(
            "Add account",
            on_click=_add_account,
            args=(list(owners), years),
            type="primary",
            key="accounts.btn.add_account",
        )


def _import_form(plans: list[AccountPlan]) -> None:
    crm = store.crm_accounts(data.db())
    if not crm:
        st.info(
            "No CRM export imported yet — upload one on Calibrate; the accounts its deals name can then be "
            "imported here.",
            icon=":material/info:",
        )
        return
    # Each CRM owner's name is matched to a rep once, here as on import: the account is theirs from then on.
    people = data.reps()
    owners = match_owners({c.owner for c in crm}, [(r.id, r.name) for r in people])
    names = {r.id: r.name for r in people}
    have = {p.account.name.casefold() for p in plans}
    fresh = {c.name: c for c in crm if c.name.casefold() not in have and viewer.can_see_account(owners[c.owner])}
    if not fresh:
        st.caption("Every account in the CRM export that you may own is here already.")
        return

    def label(name: str) -> str:
        account = fresh[name]
        owner = owners[account.owner]
        who = names[owner] if owner is not None else f"{account.owner or 'no owner'}: not on file, unassigned"
        return f"{name} ({who}, {account.deals} deals)"

    state.setdefault("accounts.import_pick", list(fresh))
    st.multiselect("Accounts to import", list(fresh), key="accounts.import_pick", format_func=label)
    count = len([n for n in state["accounts.import_pick"] if n in fresh])
    unmatched = len([n for n in state["accounts.import_pick"] if n in fresh and owners[fresh[n].owner] is None])
    if unmatched:
        st.caption(
            f"{unmatched} of them name an owner who is not on file: they come in unassigned, the name kept as a "
            "label, and only sales ops see them until they give each an owner."
        )
    st.button(
        f"Import {count} account{'s' if count != 1 else ''}",
        key="accounts.btn.import",
        disabled=not count,
        on_click=_import_accounts,
        args=(fresh, owners),
    )


# --------------------------------------------------------------------------- one account's plan


@dataclass(frozen=True, slots=True)
class _Shown:
    """The account plan on screen, with what its tabs show worked out once per run."""

    plan: AccountPlan
    status: ReviewStatus
    progress: PlanProgress
    deals: store.AccountDeals
    owner_target: store.PlanSummary | None
    years: list[int]
    fiscal_year: int
    cycle: list[CycleStep]
    start_month: int
    stale_days: int
    own_year: int  # the fiscal year the account plan is for
    own_cycle: list[CycleStep]  # that year's planning cycle, which the export shows

    @property
    def account(self) -> Account:
        return self.plan.account

    @property
    def currency(self) -> str:
        return self.owner_target.currency if self.owner_target else "USD"

    @property
    def open_pipeline(self) -> float | None:
        return self.deals.open_amount if self.deals.snapshot_date is not None else None

    @property
    def won_history(self) -> float | None:
        return self.deals.won_amount if self.deals.has_deals else None

    def check(self, objective: Objective) -> SmartCheck:
        """Which SMART letters ``objective`` meets, judged against this account's period, pipeline and history."""
        return check_smart(
            objective,
            self.account.period_start,
            self.account.period_end,
            open_pipeline=self.open_pipeline,
            won_history=self.won_history,
            currency=self.currency,
        )


def _pick_account(
    plans: list[AccountPlan], statuses: dict[int, ReviewStatus], start_month: int, stale_days: int
) -> _Shown:
    """The account picker, and the chosen account's plan with what is worked out from it."""
    by_id = {p.account.id: p for p in plans}
    ids = list(by_id)
    _bring_back("accounts.pick.account", "accounts.selected", ids)
    st.divider()
    st.selectbox(
        "Account",
        ids,
        key="accounts.pick.account",
        format_func=lambda i: by_id[i].account.name,
        on_change=_account_picked,
    )
    plan = by_id[state["accounts.pick.account"]]
    account = plan.account
    con = data.db()
    owner_target = (
        store.owner_plan(con, account.owner_rep_id, account.period_start, account.period_end)
        if account.owner_rep_id is not None
        else None
    )
    own_year = plan_fiscal_year(account, start_month)
    current_fy = fiscal_year_of(today, start_month)
    years = sorted({own_year - 1, own_year, own_year + 1, current_fy, current_fy + 1})
    if state["accounts.fiscal_year"] is None:
        state["accounts.fiscal_year"] = own_year  # the cycle of the year the plan is for
        state.pop("accounts.pick.fiscal_year", None)
    _bring_back("accounts.pick.fiscal_year", "accounts.fiscal_year", years)
    fiscal_year: int = state["accounts.pick.fiscal_year"]
    return _Shown(
        plan=plan,
        status=statuses[account.id],
        progress=rollup(plan.goals, plan.objectives, plan.actions),
        deals=store.account_deals(con, account.name),
        owner_target=owner_target,
        years=years,
        fiscal_year=fiscal_year,
        cycle=store.get_cycle(con, account.id, fiscal_year),
        start_month=start_month,
        stale_days=stale_days,
        own_year=own_year,
        own_cycle=store.get_cycle(con, account.id, own_year),
    )


def _account_header(shown: _Shown) -> None:
    account, status, progress, currency = shown.account, shown.status, shown.progress, shown.currency
    head, export = st.columns([3, 1], vertical_alignment="bottom")
    head.subheader(md(account.name))
    head.caption(
        f"Owner: {_owner_label(account)} · Segment: {md(account.segment) or '—'} · "
        f"Plan period {account.period_start:%d %b %Y} to {account.period_end:%d %b %Y} · {status.label}"
    )
    slug = re.sub(r"[^A-Za-z0-9]+", "-", account.name).strip("-").lower() or "account"
    export.download_button(
        "Export as Markdown",
        plan_markdown(
            shown.plan,
            today,
            cycle=shown.own_cycle,
            fiscal_year=shown.own_year,
            open_pipeline=shown.open_pipeline,
            won_history=shown.won_history,
            stale_days=shown.stale_days,
            currency=currency,
        ),
        file_name=f"account-plan-{slug}.md",
        mime="text/markdown",
        icon=":material/download:",
        key="accounts.btn.export",
        help="Goals, objectives with their SMART status, actions, the customer's view, the cycle and reviews",
    )
    stale_slot = st.empty()
    if status.stale:
        stale_slot.warning(
            f"{status.label}: this plan has not been reviewed for more than {shown.stale_days} days. Review it with "
            "the account team and log what changed.",
            icon=":material/history:",
        )
    cards = st.columns(4)
    cards[0].metric(
        "Plan progress", f"{progress.progress:.0%}", border=True, help="Actions → objectives → goals → plan"
    )
    cards[1].metric("Actions done", f"{progress.done} of {progress.total}", border=True)
    cards[2].metric("Revenue objectives", money(revenue_total(shown.plan.objectives), currency), border=True)
    cards[3].metric(
        "Open pipeline",
        money(shown.open_pipeline, currency) if shown.open_pipeline is not None else "—",
        border=True,
        help="This account's opportunities in the latest pipeline snapshot",
    )


def _confirm_delete(account_id: int, kind: str, item_id: int, question: str) -> None:
    """The "are you sure?" box under an item whose delete button was pressed; nothing otherwise."""
    if state["accounts.confirm_delete"] != (kind, item_id):
        return
    widgets.confirm_delete(
        question,
        (f"accounts.btn.delete_{kind}_yes.{item_id}", f"accounts.btn.delete_{kind}_no.{item_id}"),
        on_yes=_delete,
        on_no=lambda: state.update({"accounts.confirm_delete": None}),
        args=(account_id, kind, item_id),
        yes_label="Yes, delete" if kind != "goal" else "Yes, delete them all",
    )


# --------------------------------------------------------------------------- goals, objectives, actions


def _action_box(action: Action) -> None:
    key = f"accounts.done.{action.id}"
    state[key] = action.done  # the database decides; the box only asks for a change
    details = [md(action.owner), f"due {action.due:%d %b %Y}" if action.due else "", ""]
    if action.status == "in progress":
        details.append("in progress")
    label = md(action.description) + (f" — {', '.join(d for d in details if d)}" if any(details) else "")
    if is_overdue(action.due, action.done, today):
        label += " :red[**overdue**]"
    box, edit, delete = st.columns([11, 1, 1], vertical_alignment="center")
    box.checkbox(label, key=key, on_change=_toggle_action, args=(action, key))
    with edit.popover("", icon=":material/edit:", help="Edit this action"):
        prefix = f"accounts.action.{action.id}."
        with st.form(f"accounts.form.action.{action.id}", border=False):
            st.text_input("Action", value=action.description, key=prefix + "description")
            st.text_input("Owner", value=action.owner, key=prefix + "owner")
            st.date_input("Due", value=action.due, key=prefix + "due", format="YYYY-MM-DD")
            st.selectbox(
                "Status",
                ACTION_STATUSES,
                index=ACTION_STATUSES.index(action.status),
                key=prefix + "status",
                format_func=str.capitalize,
            )
            st.form_submit_button("Save action", on_click=_save_action, args=(action,), type="primary")
    delete.button(
        "",
        key=f"accounts.btn.delete_action.{action.id}",
        icon=":material/delete:",
        help="Delete this action",
        on_click=_ask_delete,
        args=(action.account_id, "action", action.id, False),
        type="tertiary",
    )


def _badges(check: SmartCheck) -> str:
    return " ".join(f":{'green' if check.meets(letter) else 'red'}-badge[{letter}]" for letter in SMART_WORDS)


def _objective_fields(prefix: str) -> None:
    st.text_input("Objective", key=prefix + "statement", help="Specific: what will be achieved")
    metric_col, target_col, current_col = st.columns([1.6, 1.2, 1.2])
    metric_col.text_input("Metric", key=prefix + "metric", help="Measurable: what you count")
    target_col.number_input("Target value", key=prefix + "target", value=None, step=1.0, format="%g")
    current_col.number_input("Current value", key=prefix + "current", value=None, step=1.0, format="%g")
    st.text_input("Why it is attainable and realistic", key=prefix + "rationale")
    due_col, revenue_col = st.columns(2)
    due_col.date_input("Due", key=prefix + "due", value=None, format="YYYY-MM-DD", help="Time-bound: inside the period")
    revenue_col.checkbox("Revenue objective", key=prefix + "revenue", help="Its target counts toward the revenue total")


def _objective_editor(account_id: int, objective: Objective, action_count: int) -> None:
    prefix = f"accounts.objective.{objective.id}."
    if prefix + "statement" not in state:
        state[prefix + "statement"] = objective.statement
        state[prefix + "metric"] = objective.metric
        state[prefix + "target"] = objective.target_value
        state[prefix + "current"] = objective.current_value
        state[prefix + "rationale"] = objective.rationale
        state[prefix + "due"] = objective.due
        state[prefix + "revenue"] = objective.revenue
    with st.expander("Edit this objective", icon=":material/edit:"):
        with st.form(f"accounts.form.objective.{objective.id}", border=False):
            _objective_fields(prefix)
            st.form_submit_button("Save objective", on_click=_save_objective, args=(account_id, objective))
        st.button(
            "Delete this objective",
            key=f"accounts.btn.delete_objective.{objective.id}",
            on_click=_ask_delete,
            args=(account_id, "objective", objective.id, bool(action_count)),
            help="Deletes its actions too",
        )
        _confirm_delete(
            account_id, "objective", objective.id, f"Delete this objective and its {plural(action_count, 'action')}?"
        )


def _revenue_against_target(shown: _Shown) -> None:
    account, owner_target, currency = shown.account, shown.owner_target, shown.currency
    revenue = revenue_total(shown.plan.objectives)
    if account.owner_rep_id is None:
        st.caption("Give the account an owner on file to weigh its revenue objectives against their plan target.")
    elif owner_target is None:
        st.caption(
            f"Revenue objectives add up to {money(revenue, currency)}. {md(account.owner)} has no saved plan "
            "covering this period — save one on Plan to compare."
        )
    else:
        share = revenue / owner_target.target if owner_target.target else 0.0
        st.caption(
            f"Revenue objectives add up to {money(revenue, currency)}: {share:.0%} of {md(account.owner)}'s plan "
            f"target of {money(owner_target.target, currency)} ({md(owner_target.name)})."
        )


def _goals(shown: _Shown) -> None:
    account_id = shown.account.id
    for goal_row in shown.progress.goals:
        goal = goal_row.goal
        with st.container(border=True, key=f"accounts.goal.{goal.id}"):
            title, delete = st.columns([5, 1], vertical_alignment="center")
            title.markdown(f":blue-badge[{goal.category.capitalize()}] **{md(goal.title)}**")
            delete.button(
                "Delete goal",
                key=f"accounts.btn.delete_goal.{goal.id}",
                icon=":material/delete:",
                on_click=_ask_delete,
                args=(account_id, "goal", goal.id, bool(goal_row.objectives)),
            )
            _confirm_delete(
                account_id,
                "goal",
                goal.id,
                f"Delete this goal with its {plural(len(goal_row.objectives), 'objective')} and "
                f"{plural(goal_row.total, 'action')}?",
            )
            st.progress(
                goal_row.progress,
                text=f"Goal: {goal_row.progress:.0%} — {goal_row.done} of {goal_row.total} actions done",
            )
            if not goal_row.objectives:
                st.caption("No objectives yet: add one below.")
            for row in goal_row.objectives:
                objective = row.objective
                check = shown.check(objective)
                st.markdown(
                    f"{_badges(check)} **{md(objective.statement) or '(no statement)'}**"
                    + (" :violet-badge[revenue]" if objective.revenue else "")
                )
                facts = [
                    f"Measure: {md(objective.metric) or '—'}, now {_number(objective.current_value)} of "
                    f"{_number(objective.target_value)}",
                    f"due {objective.due:%d %b %Y}" if objective.due else "no due date",
                ]
                st.caption(" · ".join(facts))
                if check.gaps:
                    st.caption(
                        "  \n".join(
                            f"Missing **{g.letter}** ({SMART_WORDS[g.letter]}): {md(g.reason)}" for g in check.gaps
                        )
                    )
                st.progress(row.progress, text=f"Objective: {row.done} of {row.total} actions done")
                if not row.actions:
                    st.caption("No actions yet: an objective nobody acts on makes no progress.")
                for action in row.actions:
                    _action_box(action)
                _objective_editor(account_id, objective, len(row.actions))


def _new_goal_form(account_id: int) -> None:
    with st.form("accounts.form.new_goal"):
        st.markdown("**A goal**")
        st.selectbox("Category", GOAL_CATEGORIES, key="accounts.new_goal.category", format_func=str.capitalize)
        st.text_input("Goal", key="accounts.new_goal.title", placeholder="Become their standard for analytics")
        st.form_submit_button("Add goal", on_click=_add_goal, args=(account_id,), key="accounts.btn.add_goal")


def _new_objective_form(plan: AccountPlan) -> None:
    goal_titles = {g.id: f"{g.category.capitalize()}: {g.title}" for g in plan.goals}
    prefix = "accounts.new_objective."
    with st.form("accounts.form.new_objective"):
        st.markdown("**An objective**")
        if prefix + "statement" not in state:
            state.update(session.new_objective_form(plan.account.period_end))
        if not widgets.offered(state.get(prefix + "goal"), list(goal_titles)):
            state[prefix + "goal"] = next(iter(goal_titles), None)
        st.selectbox("For the goal", list(goal_titles), key=prefix + "goal", format_func=goal_titles.get)
        _objective_fields(prefix)
        st.form_submit_button(
            "Add objective",
            on_click=_add_objective,
            args=(plan.account.id, plan.account.period_end, list(goal_titles)),
            disabled=not plan.goals,
            key="accounts.btn.add_objective",
        )


def _new_action_form(plan: AccountPlan) -> None:
    objective_titles = {NO_OBJECTIVE: "(none: busywork)", **{o.id: o.statement for o in plan.objectives}}
    prefix = "accounts.new_action."
    with st.form("accounts.form.new_action"):
        st.markdown("**An action**")
        if prefix + "description" not in state:
            state.update(session.new_action_form(today))
        if not widgets.offered(state.get(prefix + "objective"), list(objective_titles)):
            state[prefix + "objective"] = plan.objectives[0].id if plan.objectives else NO_OBJECTIVE
        st.selectbox(
            "For the objective", list(objective_titles), key=prefix + "objective", format_func=objective_titles.get
        )
        st.text_input("Action", key=prefix + "description", placeholder="Map the buying group")
        owner_col, due_col = st.columns(2)
        owner_col.text_input("Owner", key=prefix + "owner")
        due_col.date_input("Due", key=prefix + "due", format="YYYY-MM-DD")
        st.selectbox("Status", ACTION_STATUSES, key=prefix + "status", format_func=str.capitalize)
        st.form_submit_button(
            "Add action",
            on_click=_add_action,
            args=(plan.account.id, list(objective_titles)),
            key="accounts.btn.add_action",
        )


def _opportunities(shown: _Shown) -> None:
    deals, currency = shown.deals, shown.currency
    st.subheader("Open opportunities")
    if deals.snapshot_date is None:
        st.info(
            "No pipeline snapshot yet — upload one on Team review to list this account's open opportunities here.",
            icon=":material/info:",
        )
    elif not deals.open_deals:
        st.caption(f"The latest pipeline snapshot ({deals.snapshot_date:%d %b %Y}) has no opportunities for it.")
    else:
        # Open, with a close date already gone by: a forecast nobody updated (Team review lists them too).
        late = sum(is_overdue(d.close_date, False, today) for d in deals.open_deals)
        which = "It has" if len(deals.open_deals) == 1 else f"{late} of them {'has' if late == 1 else 'have'}"
        past = (
            f" {which} a close date already past: ask {'its owner' if late == 1 else 'their owners'} to win, lose "
            f"or re-date {'it' if late == 1 else 'them'}."
            if late
            else ""
        )
        st.caption(
            f"From the latest pipeline snapshot ({deals.snapshot_date:%d %b %Y}): "
            f"{plural(len(deals.open_deals), 'opportunity')}, {money(deals.open_amount, currency)} in all.{past}"
        )
        st.dataframe(
            [
                {
                    "Deal": d.deal_id,
                    "Owner": d.owner,
                    "Stage": d.stage,
                    "Amount": d.amount,
                    "Close date": d.close_date,
                    "Past its close date": (
                        f"⚠ {plural((today - d.close_date).days, 'day')}"
                        if is_overdue(d.close_date, False, today)
                        else ""
                    ),
                }
                for d in deals.open_deals
            ],
            hide_index=True,
            column_config={"Amount": st.column_config.NumberColumn(format="localized")},
        )
    if not deals.has_deals:
        st.caption("No CRM export imported yet — import one on Calibrate to weigh revenue objectives against history.")
    else:
        st.caption(
            f"Won from this account so far: {deals.won_count} deal{'s' if deals.won_count != 1 else ''}, "
            f"{money(deals.won_amount, currency)}."
        )


def _goals_tab(shown: _Shown) -> None:
    progress, plan = shown.progress, shown.plan
    st.progress(
        progress.progress,
        text=f"Plan: {progress.progress:.0%} — {progress.done} of {progress.total} actions done across "
        f"{len(progress.goals)} goal{'s' if len(progress.goals) != 1 else ''}",
    )
    _revenue_against_target(shown)
    if not plan.goals:
        st.info(
            "No goals yet. Every plan needs goals in three categories: relationship management, a roadmap to "
            "revenue and customer success. Add one below.",
            icon=":material/flag:",
        )
    _goals(shown)
    if progress.busywork:
        st.warning(
            f"{plural(len(progress.busywork), 'action')} {'serves' if len(progress.busywork) == 1 else 'serve'} "
            "no objective. Activity that serves no objective is busywork: tie it to one or drop it.",
            icon=":material/report:",
        )
        for action in progress.busywork:
            _action_box(action)
    st.subheader("Add to the plan")
    goal_col, objective_col, action_col = st.columns([1, 1.6, 1.2])
    with goal_col:
        _new_goal_form(plan.account.id)
    with objective_col:
        _new_objective_form(plan)
    with action_col:
        _new_action_form(plan)
    _opportunities(shown)


# --------------------------------------------------------------------------- the customer's view


def _view_tab(shown: _Shown) -> None:
    account, plan = shown.account, shown.plan
    prefix = f"accounts.view.{account.id}."
    owners = _owners_offered()
    if account.owner_rep_id is not None and account.owner_rep_id not in owners:
        owners[account.owner_rep_id] = account.owner  # kept as it is: the store refuses giving it to them again
    if prefix + "name" not in state:
        state[prefix + "name"] = account.name
        state[prefix + "owner"] = NO_OWNER if account.owner_rep_id is None else account.owner_rep_id
        state[prefix + "segment"] = account.segment
        state[prefix + "start"] = account.period_start
        state[prefix + "end"] = account.period_end
        state[prefix + "aims"] = account.aims
        state[prefix + "priorities"] = "\n".join(account.priorities)
        state[prefix + "timeframes"] = account.timeframes
        state[prefix + "risk"] = account.risk_tolerance
        state[prefix + "notes"] = account.notes
    with st.form(f"accounts.form.view.{account.id}", border=False):
        name_col, owner_col, segment_col = st.columns(3)
        name_col.text_input("Account name", key=prefix + "name")
        if not widgets.offered(state[prefix + "owner"], list(owners)):
            state[prefix + "owner"] = next(iter(owners), NO_OWNER)
        owner_col.selectbox("Owner", list(owners), key=prefix + "owner", format_func=owners.get)
        segment_col.text_input("Segment", key=prefix + "segment")
        start_col, end_col = st.columns(2)
        start_col.date_input("Plan period from", key=prefix + "start", format="YYYY-MM-DD")
        end_col.date_input("to", key=prefix + "end", format="YYYY-MM-DD")
        st.text_area("What they are trying to accomplish", key=prefix + "aims", help="In the customer's words")
        st.text_area("Their priorities, most important first (one a line)", key=prefix + "priorities")
        st.text_input("Their timeframes", key=prefix + "timeframes", placeholder="Board decision in March…")
        st.radio("Their risk tolerance", RISK_TOLERANCES, key=prefix + "risk", horizontal=True)
        st.text_area("Notes", key=prefix + "notes")
        st.form_submit_button(
            "Save the customer's view", on_click=_save_view, args=(account, list(owners)), type="primary"
        )
    st.button(
        "Delete this account plan…",
        key=f"accounts.btn.delete_account.{account.id}",
        icon=":material/delete:",
        on_click=_ask_delete,
        args=(account.id, "account", account.id, True),
    )
    _confirm_delete(
        account.id,
        "account",
        account.id,
        f"Delete the account plan for {md(account.name)} with its {plural(len(plan.goals), 'goal')}, "
        f"{plural(len(plan.objectives), 'objective')}, {plural(len(plan.actions), 'action')}, planning cycle and "
        "review log?",
    )
    if account.priorities:
        st.caption("Priorities as saved, ranked:")
        st.dataframe(
            [{"Rank": rank, "Priority": p} for rank, p in enumerate(account.priorities, start=1)], hide_index=True
        )


# --------------------------------------------------------------------------- the planning cycle


def _cycle_tab(shown: _Shown) -> None:
    account, fiscal_year, start_month, cycle = shown.account, shown.fiscal_year, shown.start_month, shown.cycle
    st.selectbox(
        "Planning cycle for",
        shown.years,
        key="accounts.pick.fiscal_year",
        format_func=lambda y: f"{_fiscal_year_label(y, start_month)}{' — this plan' if y == shown.own_year else ''}",
        on_change=_remember,
        args=("accounts.pick.fiscal_year", "accounts.fiscal_year"),
        help="Each fiscal year is planned in the third quarter of the year before it",
    )
    if not cycle:
        owner = account.owner if account.owner_rep_id is not None else ""  # a label is nobody to own a step
        proposed = default_cycle(fiscal_year, start_month, owner)
        st.info(
            f"No planning cycle set up for FY{fiscal_year} yet. The default schedule plans it in the third quarter "
            f"of FY{fiscal_year - 1}, each step owned by the account owner until you change it"
            + (
                f". That quarter ended on {proposed[-1].due:%d %b %Y}, so every step would start overdue: set it up, "
                "then give each step the date it will really happen"
                if proposed[-1].due < today
                else ""
            )
            + ":",
            icon=":material/event:",
        )
        st.dataframe(
            [{"Step": s.name, "Owner": s.owner, "Due": s.due} for s in proposed],
            hide_index=True,
            column_config={"Due": st.column_config.DateColumn(format="YYYY-MM-DD")},
        )
        st.button(
            f"Set up the FY{fiscal_year} cycle",
            key="accounts.btn.set_up_cycle",
            on_click=_set_up_cycle,
            args=(account.id, fiscal_year, owner),
            type="primary",
        )
        return
    _old_schedule(account.id, fiscal_year, rescheduled(cycle, fiscal_year, start_month))
    late = [s for s in cycle if is_overdue(s.due, s.done_on is not None, today)]
    if late:
        st.error(
            f"{len(late)} step{'s' if len(late) != 1 else ''} overdue: "
            + "; ".join(f"{s.name} (due {s.due:%d %b %Y}, {md(s.owner) or 'no owner'})" for s in late),
            icon=":material/alarm:",
        )
    else:
        st.caption("No step is overdue. Type an owner or a date to change it; set the done date when it is done.")
    editor_key = f"accounts.cycle_editor.{account.id}.{fiscal_year}"
    steps = pd.DataFrame(
        [
            {
                "Step": s.name,
                "Owner": s.owner,
                "Due": s.due,
                "Done": s.done_on,
                "Status": "done" if s.done_on else ("⚠ overdue" if is_overdue(s.due, False, today) else "open"),
            }
            for s in cycle
        ]
    )
    st.data_editor(
        steps,
        key=editor_key,
        on_change=_save_cycle_edits,
        args=(account.id, fiscal_year, cycle, editor_key),
        hide_index=True,
        num_rows="fixed",
        disabled=["Step", "Status"],
        column_config={
            "Due": st.column_config.DateColumn("Due", format="YYYY-MM-DD", required=True),
            "Done": st.column_config.DateColumn("Done", format="YYYY-MM-DD"),
        },
    )
    st.caption(f"The five steps: {' → '.join(CYCLE_STEPS)}.")


def _old_schedule(account_id: int, fiscal_year: int, moved: tuple[CycleStep, ...]) -> None:
    """Steps saved when FY N was planned in its own third quarter: said, and moved only if the user asks.

    Saved dates are the user's; nothing rewrites them on its own (see docs/design.md, Planning cycle).
    """
    if not moved:
        return
    one = len(moved) == 1
    st.info(
        f"{plural(len(moved), 'step')} of this cycle {'is' if one else 'are'} still on the old schedule's dates, in "
        f"FY{fiscal_year}'s own third quarter; FY{fiscal_year} is now planned in the third quarter of "
        f"FY{fiscal_year - 1}. Moved, {'it' if one else 'they'} would be due: "
        + "; ".join(f"{s.name} {s.due:%d %b %Y}" for s in moved)
        + ". Steps done, or given another date, stay as they are.",
        icon=":material/event_repeat:",
    )
    st.button(
        f"Move {'it' if one else 'them'} to FY{fiscal_year - 1}'s third quarter",
        key="accounts.btn.reschedule",
        on_click=_save_steps,
        args=(account_id, fiscal_year, moved),
    )


# --------------------------------------------------------------------------- reviews


def _reviews_tab(shown: _Shown) -> None:
    status, plan = shown.status, shown.plan
    st.markdown(f"**{status.label}**" + (" — :red[stale]" if status.stale else ""))
    prefix = "accounts.review."
    if prefix + "who" not in state:
        state.update(session.review_form(today))
    with st.form("accounts.form.review"):
        when_col, who_col = st.columns(2)
        when_col.date_input("Reviewed on", key=prefix + "date", format="YYYY-MM-DD")
        who_col.text_input("Who reviewed it", key=prefix + "who")
        st.text_input("What changed", key=prefix + "what")
        st.text_area("Notes", key=prefix + "notes")
        st.form_submit_button(
            "Add review", on_click=_add_review, args=(plan.account.id,), key="accounts.btn.add_review"
        )
    if plan.reviews:
        st.dataframe(
            [
                {"Date": r.reviewed_on, "Who": r.reviewer, "What changed": r.what_changed, "Notes": r.notes}
                for r in plan.reviews
            ],
            hide_index=True,
            column_config={"Date": st.column_config.DateColumn(format="YYYY-MM-DD")},
        )
    else:
        st.caption("No reviews logged yet.")


# --------------------------------------------------------------------------- accountability


def _accountability_tab(plans: list[AccountPlan]) -> None:
    names = {p.account.id: p.account.name for p in plans}
    items = open_items(
        ((names[account_id], step) for account_id, _, step in store.list_cycle_steps(data.db()) if account_id in names),
        ((names[p.account.id], a) for p in plans for a in p.actions),
        today,
    )
    if not items:
        st.success("Nobody owes anything: every planning step and action is done.", icon=":material/task_alt:")
        return
    st.caption("Open planning-cycle steps and actions across every account, per person.")
    st.dataframe(
        [
            {
                "Person": load.person,
                "Open steps": load.open_steps,
                "Overdue steps": load.overdue_steps,
                "Open actions": load.open_actions,
                "Overdue actions": load.overdue_actions,
            }
            for load in accountability(items)
        ],
        hide_index=True,
        key="accounts.accountability",
    )
    detail = pd.DataFrame(
        [
            {
                "Person": i.person,
                "Account": i.account,
                "What": i.what,
                "Kind": i.kind,
                "Due": i.due,
                "Overdue": "overdue" if i.overdue else "",
            }
            for i in items
        ]
    )
    st.dataframe(
        detail.style.apply(lambda row: ["background-color: #fde2e1" if row["Overdue"] else "" for _ in row], axis=1),
        hide_index=True,
        column_config={"Due": st.column_config.DateColumn(format="YYYY-MM-DD")},
    )


# --------------------------------------------------------------------------- the page


st.title("Account plans")
st.caption(
    "A living plan per account: the customer's view, goals → SMART objectives → actions, the planning cycle "
    "and who owes what. Built top down, executed bottom up, reviewed as the relationship evolves."
)
widgets.show_flash("accounts")
fy_start_month, stale_after_days = _settings()
account_plans = [p for p in store.list_account_plans(data.db()) if viewer.can_see_account(p.account.owner_rep_id)]
review_statuses = {
    p.account.id: review_status(
        (r.reviewed_on for r in p.reviews), today, created=p.account.created_on, stale_days=stale_after_days
    )
    for p in account_plans
}
_accounts_list(account_plans, review_statuses, stale_after_days)
add_col, import_col = st.columns(2)
with add_col.expander("Add an account", icon=":material/add_business:", expanded=not account_plans):
    _new_account_form()
with import_col.expander("Import accounts from CRM deals", icon=":material/cloud_download:"):
    _import_form(account_plans)
if not account_plans:
    st.stop()

on_screen = _pick_account(account_plans, review_statuses, fy_start_month, stale_after_days)
_account_header(on_screen)
tab_plan, tab_view, tab_cycle, tab_reviews, tab_people = st.tabs(
    ["Goals and actions", "Customer's view", "Planning cycle", "Review log", "Accountability"],
    key="accounts.tab",
    on_change="rerun",  # a tracked tab stays open when what is drawn above it changes
)
with tab_plan:
    _goals_tab(on_screen)
with tab_view:
    _view_tab(on_screen)
with tab_cycle:
    _cycle_tab(on_screen)
with tab_reviews:
    _reviews_tab(on_screen)
with tab_people:
    _accountability_tab(account_plans)
