"""Coming and going: the demo team loaded into a team of its own and removed in one click; a person removed.

Demo people are marked (``reps.demo``), so the demo never mixes with a team's
own: it gets a team nobody real is in, a demo rep whose name a real person has
takes "(demo)" after it, and removing the demo removes only what is marked.

Removing people deletes their plans (softly, as :func:`planner.store.delete_plan`
does: hidden from every read, their milestones and actuals with them, purged for
good by :func:`planner.store.purge_deleted_plans`), then the people, in one
transaction. Accounts they owned stay, unassigned (only sales ops see them) with
the owner's name kept as a label, so no account plan is lost with its owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import duckdb

from planner.access import Viewer
from planner.demo import DemoTeam
from planner.store import StaleWrite, StoreError, _query, retry_conflicts, transaction
from planner.store.actuals import _insert_new_actuals
from planner.store.ownership import authorise, checked_id
from planner.store.people import _insert_rep
from planner.store.plans import _author, _write_plan
from planner.store.profiles import _insert_profile
from planner.store.projections import _write_projections
from planner.store.snapshots import _write_snapshot

__all__ = ["RemovedDemo", "RepHoldings", "demo_loaded", "load_team", "remove_demo", "remove_rep", "rep_holdings"]


@dataclass(frozen=True, slots=True)
class RepHoldings:
    """What removing a person takes with them (plans, weeks of actuals) and leaves unassigned (accounts)."""

    name: str
    plans: int
    weeks: int
    accounts: int

    @property
    def going(self) -> str:
        """What goes with them, in words: "their 1 plan and 8 weeks of actuals"."""
        return f"their {_count(self.plans, 'plan')} and {_count(self.weeks, 'week')} of actuals"

    @property
    def question(self) -> str:
        """The confirmation to ask before removing them, naming how many of each go."""
        kept = (
            f" Their {_count(self.accounts, 'account plan')} stay{'s' if self.accounts == 1 else ''}, unassigned."
            if self.accounts
            else ""
        )
        return f"Remove {self.name} with {self.going}?{kept}"


@dataclass(frozen=True, slots=True)
class RemovedDemo:
    """What removing the demo team removed."""

    people: int
    plans: int
    snapshots: int


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'s' if n != 1 else ''}"


def _holdings(cur: duckdb.DuckDBPyConnection, rep_id: int) -> RepHoldings | None:
    row = cur.execute(
        "SELECT r.name,"
        " (SELECT count(*) FROM plans p WHERE p.rep_id = r.id AND p.deleted_at IS NULL),"
        " (SELECT count(*) FROM actuals a JOIN plans p ON p.id = a.plan_id"
        "  WHERE p.rep_id = r.id AND p.deleted_at IS NULL),"
        " (SELECT count(*) FROM accounts c WHERE c.owner_rep_id = r.id)"
        " FROM reps r WHERE r.id = ?",
        [rep_id],
    ).fetchone()
    return RepHoldings(str(row[0]), int(row[1]), int(row[2]), int(row[3])) if row else None


def rep_holdings(con: duckdb.DuckDBPyConnection, rep_id: int) -> RepHoldings | None:
    """What removing rep ``rep_id`` would take with them, or None when they are not on file."""
    cur = con.cursor()
    try:
        return _holdings(cur, rep_id)
    finally:
        cur.close()


def _remove_people(cur: duckdb.DuckDBPyConnection, viewer: Viewer, rep_ids: Sequence[int]) -> int:
    """Delete these people's plans (softly), unassign their accounts, delete them; return the plans gone.

    Their rows are taken first (``writes + 1``): a plan saved for one of them at the same moment conflicts.
    """
    ids = list(rep_ids)
    if not ids:
        return 0
    cur.execute("UPDATE reps SET writes = writes + 1 WHERE list_contains(?::INTEGER[], id)", [ids])
    live = "list_contains(?::INTEGER[], rep_id) AND deleted_at IS NULL"
    row = cur.execute(f"SELECT count(*) FROM plans WHERE {live}", [ids]).fetchone()
    by_rep, by_name = _author(viewer)
    # No RETURNING: DuckDB refuses it on rows a foreign key references (milestones and actuals do).
    cur.execute(
        "UPDATE plans SET deleted_at = now(), version = version + 1, writes = writes + 1, updated_by_rep_id = ?,"
        f" updated_by = ? WHERE {live}",
        [by_rep, by_name, ids],
    )
    cur.execute(
        "UPDATE accounts SET owner_rep_id = NULL, writes = writes + 1, updated_at = now()"
        " WHERE list_contains(?::INTEGER[], owner_rep_id)",
        [ids],
    )
    cur.execute("DELETE FROM reps WHERE list_contains(?::INTEGER[], id)", [ids])
    return int(row[0]) if row else 0


@retry_conflicts
def remove_rep(
    con: duckdb.DuckDBPyConnection, viewer: Viewer | None, rep_id: int, *, plans: int, weeks: int
) -> RepHoldings:
    """Remove a person with their plans and actuals; sales ops only, never themselves. Returns what went.

    ``plans`` and ``weeks`` are the counts the confirmation named: if the person
    holds others by now (someone saved meanwhile), nothing is removed and the
    refusal (:class:`StaleWrite`) names the new counts, to confirm again.
    """
    rep_id = checked_id(rep_id, "That person")
    with transaction(con) as cur:
        who = authorise(viewer, lambda v: v.can_manage_people, "Only sales ops can remove people.")
        if who.rep_id == rep_id:
            raise StoreError("You cannot remove yourself — ask someone else in sales ops.")
        held = _holdings(cur, rep_id)
        if held is None:
            raise StoreError("That person is no longer on file — they may have been removed already.")
        if (held.plans, held.weeks) != (plans, weeks):
            raise StaleWrite(f"{held.name} has changed since you asked: {held.question} Confirm again to remove them.")
        _remove_people(cur, who, [rep_id])
    return held


def _free(taken: set[str], name: str) -> str:
    """``name``, or ``name (demo)``, ``name (demo 2)`` … whichever nobody has yet (compared ignoring case)."""
    for n in range(1, 1000):
        candidate = name if n == 1 and name.casefold() not in taken else f"{name} (demo{'' if n == 1 else f' {n}'})"
        if candidate.casefold() not in taken:
            return candidate
    raise StoreError("Could not find a free name for the demo team.")


@retry_conflicts
def load_team(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, team: DemoTeam) -> list[int]:
    """Load the demo team's people, plans (this quarter's and last), milestones, actuals, pipeline, profile and
    recorded projections into a team of their own; return the ids of this quarter's plans.

    At any time, beside a team's own data, never mixed with it: the demo gets a
    team nobody real is in (each of its teams does, for a generated team of many)
    and its people are marked demo. Only once: remove it (:func:`remove_demo`) to
    load it afresh.
    """
    plan_ids = []
    with transaction(con) as cur:
        authorise(viewer, lambda v: v.can_load_demo, "Only sales ops can load the demo team.")
        if cur.execute("SELECT 1 FROM reps WHERE demo LIMIT 1").fetchone():
            raise StoreError("The demo team is already loaded — remove it first to load it afresh.")
        teams = {
            str(t).casefold()
            for (t,) in cur.execute("SELECT team FROM reps UNION SELECT team FROM pipeline_snapshots").fetchall()
        }
        team_names: dict[str, str] = {}  # each of the demo's teams → a name nobody real uses
        for name in dict.fromkeys([team.team, *(rep.team for rep in team.reps)]):
            team_names[name] = _free(teams, name)
            teams.add(team_names[name].casefold())
        names = {str(n).casefold() for (n,) in cur.execute("SELECT name FROM reps").fetchall()}
        emails = {str(e) for (e,) in cur.execute("SELECT email FROM reps WHERE email <> ''").fetchall()}
        rep_ids, renamed = {}, {}
        for rep in team.reps:
            renamed[rep.name] = _free(names, rep.name)
            names.add(renamed[rep.name].casefold())
            email = "" if rep.email.lower() in emails else rep.email
            rep_ids[rep.name] = _insert_rep(
                cur, renamed[rep.name], team_names[rep.team], rep.role, email, by="the demo", demo=True
            )
        profile_id = None
        if team.profile is not None:  # the win rates its forecast reads, under a name nobody's profile has
            profiles = {str(n).casefold() for (n,) in cur.execute("SELECT name FROM profiles").fetchall()}
            profile = team.profile
            profile_id = _insert_profile(cur, _free(profiles, profile.name), profile.source_file, profile.result,
                                         profile.deals, profile.rows_read, profile.rows_bad, demo=True)  # fmt: skip
        plans = (*team.plans, *team.past_plans)
        for plan in plans:
            plan_ids.append(
                _write_plan(
                    cur,
                    rep_ids[plan.rep],
                    plan.name,
                    plan.inputs,
                    plan.currency,
                    plan.milestone_shape,
                    "auto",
                    (),
                    None,
                    profile_id,
                )
            )
        _insert_new_actuals(cur, [(plan_id, plan.weeks) for plan_id, plan in zip(plan_ids, plans, strict=True)])
        for snapshot_date, deals in team.snapshots:
            owners = deals.assign(owner=deals["owner"].map(lambda o: renamed.get(o, o)))
            _write_snapshot(cur, team_names[team.team], snapshot_date, owners)
        for as_of, currency, made in team.projections:  # what Team review would have recorded on each snapshot
            named = [replace(p, team=team_names[team.team], rep=renamed.get(p.rep, p.rep)) for p in made]
            _write_projections(cur, team_names[team.team], as_of, named, currency)
    return plan_ids[: len(team.plans)]


def demo_loaded(con: duckdb.DuckDBPyConnection) -> bool:
    """True while the demo team is loaded."""
    return bool(_query(con, "SELECT count(*) FROM reps WHERE demo")[0][0])


@retry_conflicts
def remove_demo(con: duckdb.DuckDBPyConnection, viewer: Viewer | None) -> RemovedDemo:
    """Remove the demo team: its people, their plans and actuals, its pipeline snapshots and recorded projections,
    and its calibration profile, all or nothing.

    Snapshots and projections of the demo's team go only if nobody real has since joined that team.
    """
    with transaction(con) as cur:
        who = authorise(viewer, lambda v: v.can_load_demo, "Only sales ops can remove the demo team.")
        people = cur.execute("SELECT id, team FROM reps WHERE demo").fetchall()
        if not people:
            raise StoreError("The demo team is not loaded.")
        teams = sorted({str(team) for _, team in people if team})
        real = {str(t) for (t,) in cur.execute("SELECT DISTINCT team FROM reps WHERE NOT demo").fetchall()}
        demo_only = [t for t in teams if t not in real]
        snapshots = cur.execute(
            "DELETE FROM pipeline_snapshots WHERE list_contains(?::VARCHAR[], team) RETURNING team, snapshot_date",
            [demo_only],
        ).fetchall()
        cur.execute("DELETE FROM projections WHERE list_contains(?::VARCHAR[], team)", [demo_only])
        plans = _remove_people(cur, who, [int(i) for i, _ in people])
        # The demo's profile, as delete_profile removes one: a plan that applied it keeps its figures.
        cur.execute("UPDATE plans SET profile_id = NULL WHERE profile_id IN (SELECT id FROM profiles WHERE demo)")
        cur.execute("DELETE FROM deals WHERE profile_id IN (SELECT id FROM profiles WHERE demo)")
        cur.execute("DELETE FROM profiles WHERE demo")
    return RemovedDemo(len(people), plans, len(set(snapshots)))
