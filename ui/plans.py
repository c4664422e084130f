"""Saved plans on the pages: links (``?plan=ID``), the refusal a plan that is not the viewer's gets, the demo."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import streamlit as st

from planner import store
from planner.access import Viewer
from planner.calibrate import ConfidenceLevel, plan_for_chance
from planner.demo import demo_team
from planner.funnel import FunnelPlan
from planner.units import markdown_text, money
from ui import auth, data

__all__ = [
    "GONE",
    "NOT_YOURS",
    "chance_caption",
    "linked_plan_id",
    "load_demo",
    "may_change_plan",
    "plan_refusal",
    "planned_funnel",
    "show_plan_in_url",
]

#: What a signed-in person is told for a plan that is not theirs, the same whether or not it exists.
NOT_YOURS = "That plan is not one of yours to open — it belongs to someone outside your team, or no longer exists."
#: The same, with sign-in off: every plan is the user's, so it can only be gone.
GONE = "That plan no longer exists — it may have been deleted in another window, or the link is mistyped."


def _plan_check(plan_id: int | None) -> tuple[Callable[[Viewer], bool], str]:
    """Whether a viewer may see and change saved plan ``plan_id``, and the words for one who may not."""
    who = auth.viewer()
    saved = store.get_plan(data.db(), plan_id) if plan_id is not None else None
    refused = GONE if who is not None and not who.signed_in else NOT_YOURS
    return (lambda viewer: saved is not None and viewer.can_see_rep(saved.rep_id)), refused


def plan_refusal(plan_id: int | None) -> str | None:
    """None if the viewer may see and change saved plan ``plan_id``; else why not, in words fitting their sign-in."""
    return auth.refusal(*_plan_check(plan_id))


def may_change_plan(plan_id: int | None, tell: Callable[[str], None] | None = None) -> bool:
    """A write callback's check (:func:`ui.auth.permitted`) that saved plan ``plan_id`` is the viewer's."""
    return auth.permitted(*_plan_check(plan_id), tell=tell)


def linked_plan_id(page: str) -> int | None:
    """The plan a ``?plan=ID`` link asks ``page`` to open, once per link; None when there is none.

    The caller still checks the viewer may see it: a link is only a request.
    """
    wanted = st.query_params.get("plan")
    seen_key = f"{page}.linked"
    if wanted is None or st.session_state.get(seen_key) == wanted:
        return None
    st.session_state[seen_key] = wanted
    try:
        return int(wanted)
    except ValueError:
        return -1  # not a plan id: refused like any plan that is not theirs


def show_plan_in_url(page: str, plan_id: int | None) -> None:
    """Keep ``?plan=ID`` in the address bar on the plan shown, so the address can be bookmarked or shared."""
    if plan_id is None:
        st.query_params.pop("plan", None)
        return
    st.query_params["plan"] = str(plan_id)
    st.session_state[f"{page}.linked"] = str(plan_id)  # already acted on: not a new link


def load_demo() -> None:
    """Button callback: load the demo team, its plans, actuals and pipeline snapshots, into a team of its own."""
    if not auth.permitted(lambda who: who.can_load_demo, "Only sales ops can load demo data."):
        return
    try:
        store.load_team(data.db(), auth.viewer(), demo_team(date.today()))
    except data.WRITE_ERRORS as error:
        st.toast(data.failure(error), icon=":material/error:")
    else:
        st.toast("Demo team loaded: four reps part-way through this quarter.", icon=":material/check:")


def planned_funnel(saved: store.SavedPlan) -> tuple[FunnelPlan, ConfidenceLevel | None]:
    """The funnel a saved plan's activity follows, and the chance it was planned for.

    A plan saved for a chance of hitting the target (with a calibration profile) is that plan, as on the Plan
    page; otherwise, or when its profile has since been deleted, the expected case and None.
    """
    certainty = data.confidence(saved.profile_id, saved.inputs) if saved.confidence is not None else None
    return plan_for_chance(saved.inputs, certainty, saved.confidence if certainty is not None else None)


def chance_caption(saved: store.SavedPlan, chance: ConfidenceLevel | None) -> str | None:
    """The line (Markdown) that says which case a saved plan's activity is planned for; None for the expected case."""
    target = saved.inputs.target
    if chance is not None:
        return (
            f"Planned for a **{chance.level:.0%} chance** of hitting {markdown_text(money(target, saved.currency))}: "
            f"its activity is what an expected {markdown_text(money(target * chance.multiplier, saved.currency))} "
            f"takes (×{chance.multiplier:.2f})."
        )
    if saved.confidence is not None:
        return (
            f"Saved for a {saved.confidence:.0%} chance of hitting the target, but its calibration profile is gone: "
            "the activity shown is the expected case."
        )
    return None
