"""Who may see and change what, once a team turns sign-in on.

On a laptop sign-in is off and the one person using Backplan sees everything
(:data:`OPEN`).  With sign-in on, the signed-in email is matched to a rep
(``reps.email``, set under Team review → Teams and roles) or to the sales-ops
list in the deployment's secrets, and the role decides the rest:

=========  =========================================  ==============================
role       plans and actuals they see and change      pages
=========  =========================================  ==============================
rep        their own                                  Plan, Track, Accounts, guide
manager    their own and their team's reps'           the above and Team review
ops        everyone's                                 every page, incl. Calibrate
=========  =========================================  ==============================

An email matched to nobody gets no :class:`Viewer` at all and sees nothing;
neither does a signed-out visitor.  Every rule is a method of :class:`Viewer`,
so the pages ask one object and the rules live in one place.

>>> from planner.store import Rep
>>> reps = [Rep(1, "Ana Lima", "East", "rep", "ana@acme.test"),
...         Rep(2, "Ben Carter", "East", "rep", "ben@acme.test"),
...         Rep(3, "Maya Brooks", "East", "manager", "maya@acme.test")]
>>> ana = resolve_viewer("Ana@Acme.test", reps)
>>> ana.role, ana.can_see_rep(1), ana.can_see_rep(2), ana.may_open("team")
('rep', True, False, False)
>>> resolve_viewer("maya@acme.test", reps).visible_rep_ids
frozenset({1, 2, 3})
>>> resolve_viewer("stranger@elsewhere.test", reps) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "OPEN",
    "PAGES",
    "PersonLike",
    "Viewer",
    "resolve_viewer",
]

#: The app's pages by the key each page checks, in navigation order.
PAGES = ("plan", "track", "team", "calibrate", "accounts", "guide")

_PAGES_BY_ROLE: dict[str, frozenset[str]] = {
    "open": frozenset(PAGES),
    "ops": frozenset(PAGES),
    "manager": frozenset({"plan", "track", "team", "accounts", "guide"}),
    "rep": frozenset({"plan", "track", "accounts", "guide"}),
}


class PersonLike(Protocol):
    """What access needs to know of a person on file (``planner.store.Rep`` is one)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def team(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def email(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person using this session, and everything they may see and change.

    ``visible_rep_ids`` is None when they may see every rep (sales ops, or
    sign-in off); ``visible_rep_names`` likewise, for account plans, whose
    owner is a name.
    """

    email: str
    name: str
    role: str  # "rep", "manager", "ops", or "open" when sign-in is off
    rep_id: int | None
    team: str
    visible_rep_ids: frozenset[int] | None
    visible_rep_names: frozenset[str] | None

    @property
    def signed_in(self) -> bool:
        return self.role != "open"

    @property
    def sees_everyone(self) -> bool:
        return self.visible_rep_ids is None

    def may_open(self, page: str) -> bool:
        """True if ``page`` (one of :data:`PAGES`) is theirs to open."""
        return page in _PAGES_BY_ROLE[self.role]

    def can_see_rep(self, rep_id: int | None) -> bool:
        """True if the plans and actuals of rep ``rep_id`` are theirs to see and change."""
        return self.visible_rep_ids is None or (rep_id is not None and rep_id in self.visible_rep_ids)

    def can_see_owner(self, owner: str) -> bool:
        """True if an account plan owned by ``owner`` (a person's name, maybe "") is theirs."""
        return self.visible_rep_names is None or owner in self.visible_rep_names

    def can_review(self, team: str) -> bool:
        """True if they may open ``team``'s review and store its pipeline snapshots."""
        if self.role in ("open", "ops"):
            return True
        return self.role == "manager" and bool(team) and team == self.team

    @property
    def can_manage_people(self) -> bool:
        """Teams, roles and sign-in emails: sales ops' job (anyone's, with sign-in off)."""
        return self.role in ("open", "ops")

    @property
    def can_set_rates(self) -> bool:
        """The exchange rates team figures are added up with: sales ops' (anyone's, with sign-in off)."""
        return self.role in ("open", "ops")

    @property
    def can_calibrate(self) -> bool:
        """Uploading CRM exports and saving or deleting calibration profiles."""
        return self.may_open("calibrate")

    @property
    def can_add_reps(self) -> bool:
        """Adding a rep by saving a plan for a new name: everyone but a rep."""
        return self.role != "rep"

    @property
    def team_for_new_reps(self) -> str:
        """The team a rep they add joins: a manager's own; sales ops place people in Teams and roles."""
        return self.team if self.role == "manager" else ""

    @property
    def can_load_demo(self) -> bool:
        return self.role in ("open", "ops")

    @property
    def label(self) -> str:
        """How the sidebar names them: "Ana Lima · rep"."""
        return f"{self.name} · {'sales ops' if self.role == 'ops' else self.role}"


#: Sign-in is off: the one user of a laptop install sees and changes everything.
OPEN = Viewer("", "", "open", None, "", None, None)


def _normal(email: str) -> str:
    return email.strip().lower()


def resolve_viewer(email: str, people: Sequence[PersonLike], ops_emails: Iterable[str] = ()) -> Viewer | None:
    """The :class:`Viewer` for a signed-in ``email``, or None when it belongs to nobody on file.

    Emails compare ignoring case and surrounding spaces, as mail servers do.
    ``ops_emails`` (from the deployment's secrets) are sales ops even before
    anyone is on file, so a new team's first person can set everyone else up.

    >>> resolve_viewer("ops@acme.test", [], ops_emails=["OPS@acme.test"]).role
    'ops'
    """
    email = _normal(email)
    if not email:
        return None
    me = next((p for p in people if p.email and _normal(p.email) == email), None)
    if email in {_normal(e) for e in ops_emails} or (me is not None and me.role == "ops"):
        name = me.name if me is not None else email.split("@")[0]
        return Viewer(email, name, "ops", me.id if me else None, me.team if me else "", None, None)
    if me is None:
        return None
    if me.role == "manager" and me.team:
        mine = [p for p in people if p.team == me.team or p.id == me.id]
    else:
        mine = [me]
    return Viewer(
        email,
        me.name,
        "manager" if me.role == "manager" else "rep",
        me.id,
        me.team,
        frozenset(p.id for p in mine),
        frozenset(p.name for p in mine),
    )
