"""Who sees what once sign-in is on: the rules in planner.access."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from planner.access import OPEN, PAGES, SYSTEM, Owner, resolve_viewer
from planner.store import Rep

TEAM = [
    Rep(1, "Ana Lima", "East", "rep", "ana@acme.test"),
    Rep(2, "Ben Carter", "East", "rep", "ben@acme.test"),
    Rep(3, "Maya Brooks", "East", "manager", "maya@acme.test"),
    Rep(4, "Wes Hall", "West", "rep", "wes@acme.test"),
    Rep(5, "Olu Ade", "", "ops", "olu@acme.test"),
    Rep(6, "No Email", "West", "rep", ""),
]


def test_a_rep_sees_only_themselves_and_only_rep_pages() -> None:
    ana = resolve_viewer("ana@acme.test", TEAM)
    assert ana is not None and ana.role == "rep" and ana.rep_id == 1
    assert [r.id for r in TEAM if ana.can_see_rep(r.id)] == [1]
    assert ana.can_see_account(1) and not ana.can_see_account(2) and not ana.can_see_account(None)
    assert ana.owns(Owner(1, "East")) and not ana.owns(Owner(2, "East")) and not ana.owns(None)
    assert not ana.may_add_rep("East") and not ana.can_load_demo
    assert [p for p in PAGES if ana.may_open(p)] == ["plan", "track", "accounts", "guide"]
    assert not ana.can_review("East") and not ana.can_manage_people and not ana.can_calibrate


def test_a_manager_sees_their_team_and_reviews_only_it() -> None:
    maya = resolve_viewer("maya@acme.test", TEAM)
    assert maya is not None and maya.role == "manager"
    assert maya.visible_rep_ids == {1, 2, 3}
    assert not maya.can_see_rep(4) and not maya.can_see_account(4) and not maya.can_see_account(None)
    assert maya.owns(Owner(2, "East")) and not maya.owns(Owner(4, "West"))
    assert maya.may_add_rep("East") and not maya.may_add_rep("West") and not maya.may_add_rep("East", "manager")
    assert maya.can_review("East") and not maya.can_review("West") and not maya.can_review("")
    assert maya.may_open("team") and not maya.may_open("calibrate") and not maya.can_manage_people


def test_a_manager_without_a_team_sees_only_themselves() -> None:
    lone = resolve_viewer("lone@acme.test", [Rep(9, "Lone Wolf", "", "manager", "lone@acme.test")])
    assert lone is not None and lone.visible_rep_ids == {9} and not lone.can_review("")


def test_sales_ops_see_everything_whether_on_file_or_named_in_the_secrets() -> None:
    olu = resolve_viewer("olu@acme.test", TEAM)
    boot = resolve_viewer("first@acme.test", [], ops_emails=["First@Acme.test"])
    for ops in (olu, boot):
        assert ops is not None and ops.role == "ops" and ops.sees_everyone
        assert all(ops.may_open(p) for p in PAGES) and ops.can_calibrate and ops.can_manage_people
        assert ops.can_review("West") and ops.can_see_account(None) and ops.owns(None) and ops.may_add_rep("", "ops")
    assert boot is not None and boot.name == "first" and boot.rep_id is None


def test_emails_match_ignoring_case_and_spaces_and_strangers_get_nothing() -> None:
    assert resolve_viewer("  ANA@acme.TEST ", TEAM).rep_id == 1  # type: ignore[union-attr]
    assert resolve_viewer("eve@evil.test", TEAM) is None
    assert resolve_viewer("", TEAM) is None  # a rep with no email cannot be claimed by an empty one


def test_sign_in_off_and_the_command_line_open_everything() -> None:
    for everything in (OPEN, SYSTEM):
        assert not everything.signed_in and everything.sees_everyone and everything.can_load_demo
        assert all(everything.may_open(p) for p in PAGES) and everything.can_see_rep(123)
        assert everything.can_review("any") and everything.owns(None) and everything.can_manage_people
    assert SYSTEM.signature == "the command line"


people = st.lists(
    st.builds(
        Rep,
        id=st.integers(1, 10_000),
        name=st.text(min_size=1, max_size=8),
        team=st.sampled_from(["", "East", "West"]),
        role=st.sampled_from(["rep", "manager"]),
        email=st.sampled_from(["", "a@x.test", "b@x.test", "c@x.test", "d@x.test"]),
    ),
    max_size=12,
    unique_by=(lambda p: p.id, lambda p: p.email or str(p.id)),
)


@given(people, st.sampled_from(["a@x.test", "b@x.test", "c@x.test", "d@x.test"]))
def test_nobody_but_ops_sees_outside_their_own_team(everyone: list[Rep], email: str) -> None:
    who = resolve_viewer(email, everyone)
    me = next((p for p in everyone if p.email == email), None)
    if me is None:
        assert who is None
        return
    assert who is not None and who.can_see_rep(me.id)
    for other in everyone:
        if who.can_see_rep(other.id) and other.id != me.id:
            assert who.role == "manager" and me.team and other.team == me.team


@given(people, st.sampled_from(["a@x.test", "b@x.test", "c@x.test", "d@x.test"]))
def test_what_a_viewer_sees_is_what_they_own(everyone: list[Rep], email: str) -> None:
    """The store's rule for a write (owns) and the pages' rule for a read (can_see_rep) never disagree."""
    who = resolve_viewer(email, everyone)
    if who is None:
        return
    for other in everyone:
        assert who.can_see_rep(other.id) == who.owns(Owner(other.id, other.team))
