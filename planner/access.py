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

The store asks the same rules about the object a write touches, through its
ownership chain as the database holds it inside the write's transaction
(action → objective → goal → account → owner rep → team; actuals → plan →
rep → team): :meth:`Viewer.owns` takes the :class:`Owner` found at the end of
the chain, never a name or an id the client sent.  The command line runs on
the server with shell access and writes as :data:`SYSTEM`.

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
    "SYSTEM",
    "Owner",
    "PersonLike",
    "Viewer",
    "resolve_viewer",
]

#: The app's pages by the key each page checks, in navigation order.
PAGES = ("plan", "track", "team", "calibrate", "accounts", "guide")

_PAGES_BY_ROLE: dict[str, frozenset[str]] = {
    "system": frozenset(PAGES),
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


#: Roles that see and change everything: the command line, a laptop with sign-in off, sales ops.
_EVERYTHING = frozenset({"system", "open", "ops"})


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose a plan, its actuals or an account plan is: the owning rep's id and team, as the database has them now.

    An account with no owner on file has no :class:`Owner` (``None``): only
    those who see everyone may change it.
    """

    rep_id: int
    team: str


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person using this session, and everything they may see and change.

    ``visible_rep_ids`` is None when they may see every rep (sales ops, the
    command line, or sign-in off).
    """

    email: str
    name: str
    role: str  # "rep", "manager", "ops"; "open" when sign-in is off; "system" for the command line
    rep_id: int | None
    team: str
    visible_rep_ids: frozenset[int] | None

    @property
    def signed_in(self) -> bool:
        return self.role not in ("open", "system")

    @property
    def sees_everyone(self) -> bool:
        return self.visible_rep_ids is None

    def may_open(self, page: str) -> bool:
        """True if ``page`` (one of :data:`PAGES`) is theirs to open."""
        return page in _PAGES_BY_ROLE[self.role]

    def can_see_rep(self, rep_id: int | None) -> bool:
        """True if the plans and actuals of rep ``rep_id`` are theirs to see and change."""
        return self.visible_rep_ids is None or (rep_id is not None and rep_id in self.visible_rep_ids)

    def owns(self, owner: Owner | None) -> bool:
        """True if what ``owner`` owns (plans, actuals, account plans) is theirs to see and change.

        Their own; as a manager, also their team's; everyone's for sales ops.
        ``None`` (an account nobody owns) is only for those who see everyone.

        >>> maya = Viewer("maya@acme.test", "Maya", "manager", 3, "East", frozenset({3}))
        >>> maya.owns(Owner(3, "")), maya.owns(Owner(8, "East")), maya.owns(Owner(9, "West")), maya.owns(None)
        (True, True, False, False)
        """
        if self.role in _EVERYTHING:
            return True
        if owner is None or self.rep_id is None:
            return False
        return owner.rep_id == self.rep_id or (self.role == "manager" and bool(self.team) and owner.team == self.team)

    def can_see_account(self, owner_rep_id: int | None) -> bool:
        """True if an account plan owned by rep ``owner_rep_id`` (None: nobody) is theirs to see."""
        return self.sees_everyone or self.can_see_rep(owner_rep_id)

    def can_review(self, team: str) -> bool:
        """True if they may open ``team``'s review and store its pipeline snapshots."""
        if self.role in _EVERYTHING:
            return True
        return self.role == "manager" and bool(team) and team == self.team

    @property
    def can_manage_people(self) -> bool:
        """Teams, roles, sign-in emails, removing a person, backups: sales ops' job (anyone's, with sign-in off)."""
        return self.role in _EVERYTHING

    def may_add_rep(self, team: str, role: str = "rep") -> bool:
        """True if they may add a person with ``role`` to ``team``: sales ops anyone, a manager a rep to their team.

        >>> maya = Viewer("maya@acme.test", "Maya", "manager", 3, "East", frozenset({3}))
        >>> maya.may_add_rep("East"), maya.may_add_rep("West"), maya.may_add_rep("East", "ops")
        (True, False, False)
        """
        if self.can_manage_people:
            return True
        return self.role == "manager" and bool(self.team) and team.strip() == self.team and role == "rep"

    @property
    def can_set_rates(self) -> bool:
        """The rates team figures are added up with: sales ops' (anyone's with sign-in off; the command line)."""
        return self.role in _EVERYTHING

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
        """The team a rep they add joins unless they pick another: their own (a manager cannot pick another)."""
        return self.team

    @property
    def can_load_demo(self) -> bool:
        """Loading the demo team into its own team, and removing it."""
        return self.role in _EVERYTHING

    @property
    def label(self) -> str:
        """How the sidebar names them: "Ana Lima · rep"."""
        return f"{self.name} · {'sales ops' if self.role == 'ops' else self.role}"

    @property
    def signature(self) -> str:
        """Who made a change, as a record of it says: their name, else their email, else what they are."""
        return self.name or self.email or {"open": "this computer's user", "system": "the command line"}[self.role]


#: Sign-in is off: the one user of a laptop install sees and changes everything.
OPEN = Viewer("", "", "open", None, "", None)
#: The command line: it runs on the server with shell access, so it is trusted with everything.
SYSTEM = Viewer("", "the command line", "system", None, "", None)


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
        return Viewer(email, name, "ops", me.id if me else None, me.team if me else "", None)
    if me is None:
        return None
    who = Viewer(email, me.name, "manager" if me.role == "manager" else "rep", me.id, me.team, frozenset({me.id}))
    # The same rule the store asks of every write (owns), applied to everyone on file now.
    mine = frozenset(p.id for p in people if who.owns(Owner(p.id, p.team)))
    return Viewer(who.email, who.name, who.role, who.rep_id, who.team, mine | {me.id})
