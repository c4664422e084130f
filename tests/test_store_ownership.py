"""Nobody changes what is not theirs: every store write, as every kind of viewer, against planner.access.

The property drives random sequences of writes, as reps, a manager, sales ops,
the command line, someone signed out and a stranger with a forged identity,
at random targets: their own, other people's, ids that never existed and ids
sent as text. Around each write it takes the whole database, and every row that
changed must be one the viewer may change by access.py's rules, its owner found
by walking the ownership chain in the snapshots themselves (not by the store's
SQL). A refused write changes nothing at all.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import store
from planner.access import SYSTEM, Owner, Viewer, resolve_viewer
from planner.accounts import Account, Action, Objective, Review, default_cycle
from planner.backups import BackupSchedule
from planner.currency import Rate
from planner.demo import DemoTeam, demo_team
from planner.forecast import RecordedProjection
from planner.funnel import PlanInputs, Stage
from planner.milestones import WeekActual
from planner.units import CURRENCIES
from tests.backends import postgres_server

#: Every test here runs on DuckDB and on PostgreSQL (tests/backends.py).
pytestmark = pytest.mark.both_backends

START, END = date(2027, 1, 4), date(2027, 3, 26)
INPUTS = PlanInputs(90_000, 3_000, START, END, stages=(Stage("Meetings", 2.0, 7),), won_stage="Won")
OPS = "olu@acme.test"
PEOPLE = (  # name, team, role, email
    ("Ana Lima", "East", "rep", "ana@acme.test"),
    ("Ben Carter", "East", "rep", "ben@acme.test"),
    ("Maya Brooks", "East", "manager", "maya@acme.test"),
    ("Wes Hall", "West", "rep", "wes@acme.test"),
    ("Olu Ade", "", "ops", OPS),
)
#: Owners as a CRM export names them: someone on file (any case), or nobody on file.
OWNER_NAMES = ("Ana Lima", "wes hall", "Maya Brooks", "Nobody Here")
#: A viewer no sign-in would give: a rep id nobody has, claiming a team.
STRANGER = Viewer("eve@elsewhere.test", "Eve", "rep", 999, "East", frozenset({999}))
WHO = (*(email for *_, email in PEOPLE), "system", "signed out", "stranger")
TABLES = (
    "reps",
    "plans",
    "milestones",
    "actuals",
    "accounts",
    "goals",
    "objectives",
    "actions",
    "cycle_steps",
    "reviews",
    "profiles",
    "deals",
    "pipeline_snapshots",
    "exchange_rates",
    "projections",
)


# --------------------------------------------------------------------------- the world


@functools.cache
def _world_file() -> Path:
    """Everyone in PEOPLE with a plan and a week of actuals; an account plan each for Ana, Ben, Wes and nobody."""
    path = Path(tempfile.mkdtemp(prefix="backplan-world-")) / "world.duckdb"
    con = store.connect(path)
    ids = {name: store.add_rep(con, SYSTEM, name, team, role, email) for name, team, role, email in PEOPLE}
    for name in ("Ana Lima", "Ben Carter", "Wes Hall"):
        plan = store.save_plan(con, SYSTEM, ids[name], f"{name} Q1", INPUTS)
        store.save_actuals(con, SYSTEM, plan, [WeekActual(START, 1_000.0, 1, {"Meetings": 2})])
    for name, owner in (("Ana Co", "Ana Lima"), ("Ben Co", "Ben Carter"), ("Wes Co", "Wes Hall"), ("Stray Co", None)):
        account = store.add_account(con, SYSTEM, name, START, END, owner_rep_id=ids[owner] if owner else None)
        goal = store.add_goal(con, SYSTEM, account, "roadmap to revenue", f"Grow {name}")
        objective = store.add_objective(con, SYSTEM, Objective(0, goal, f"Win {name}"))
        store.add_action(con, SYSTEM, Action(0, account, f"Call {name}", objective))
    store.set_rate(con, SYSTEM, Rate("EUR", "USD", 1.1))
    con.close()
    return path


@functools.cache
def _demo() -> DemoTeam:
    return demo_team(END)


#: The backend of the test running now: world() opens its copy there (hypothesis' examples cannot take fixtures).
_BACKEND = {"name": "duckdb"}


@pytest.fixture(autouse=True)
def _on_backend(backend: str) -> None:
    _BACKEND["name"] = backend


@functools.cache
def _world_database() -> str:
    """The world on PostgreSQL: copied once from the DuckDB file into a database that each world() copies."""
    url = postgres_server().fresh(empty=True)
    store.copy_database(_world_file(), url)
    return url


@contextmanager
def _world_on_postgres() -> Iterator[duckdb.DuckDBPyConnection]:
    server = postgres_server()
    url = server.fresh(like=urlsplit(_world_database()).path.lstrip("/"))
    con = store.connect(url)
    try:
        yield con
    finally:
        con.close()
        server.drop(url)


@contextmanager
def world() -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh copy of the world, open (on the test's backend)."""
    if _BACKEND["name"] == "postgresql":
        with _world_on_postgres() as con:
            yield con
        return
    with tempfile.TemporaryDirectory(prefix="backplan-world-") as folder:
        copy = Path(folder) / "world.duckdb"
        shutil.copyfile(_world_file(), copy)
        con = store.connect(copy)
        try:
            yield con
        finally:
            con.close()


def viewer_of(con: duckdb.DuckDBPyConnection, who: str) -> Viewer | None:
    """The viewer as the app works it out for each request: afresh from the people on file now."""
    if who == "system":
        return SYSTEM
    if who == "signed out":
        return None
    if who == "stranger":
        return STRANGER
    return resolve_viewer(who, store.list_reps(con), [OPS])


def ids(con: duckdb.DuckDBPyConnection, table: str) -> list[int]:
    return [int(i) for (i,) in con.execute(f"SELECT id FROM {table} ORDER BY id").fetchall()]


def target(data: st.DataObject, con: duckdb.DuckDBPyConnection, table: str) -> object:
    """An id to aim at: one of the table's, one that never existed, or one sent as text."""
    existing = ids(con, table)
    return data.draw(
        st.one_of(
            st.sampled_from(existing) if existing else st.just(999),
            st.sampled_from([999, -1, 0]),
            st.sampled_from(existing or [1]).map(str),
        )
    )


# --------------------------------------------------------------------------- the writes


def _objective(data: st.DataObject, con, objective_id: object) -> Objective:
    return Objective(objective_id, target(data, con, "goals"), "Changed")  # type: ignore[arg-type]


def _action(data: st.DataObject, con, action_id: object) -> Action:
    objective = data.draw(st.one_of(st.none(), st.just(target(data, con, "objectives"))))
    return Action(action_id, target(data, con, "accounts"), "Changed", objective)  # type: ignore[arg-type]


def _account(data: st.DataObject, con) -> Account:
    account_id = target(data, con, "accounts")
    owner = data.draw(st.one_of(st.none(), st.just(target(data, con, "reps"))))
    return Account(account_id, f"Renamed {data.draw(st.integers(0, 9))}", START, END, owner_rep_id=owner)


def _save_cells(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, data: st.DataObject) -> None:
    """A cell of a plan's first week, written on the version of that week as stored (or none)."""
    plan_id = target(data, con, "plans")
    row = con.execute("SELECT version FROM actuals WHERE plan_id = ? AND week_start = ?", [plan_id, START]).fetchone()
    versions = {START: int(row[0])} if row else {}
    store.save_actual_cells(con, viewer, plan_id, [store.ActualCell(START, store.REVENUE_FIELD, 7_777.0)], versions)


def _save_projections(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, data: st.DataObject) -> None:
    team = data.draw(st.sampled_from(["East", "West"]))
    made = RecordedProjection(team, "", END, START, END, "run-rate", 80_000.0)
    store.save_projections(con, viewer, team, END, [made], "USD")


def _rate(data: st.DataObject) -> Rate:
    one, other = data.draw(st.permutations(list(CURRENCIES)))[:2]
    return Rate(one, other, data.draw(st.sampled_from([0.5, 1.1, 2.0])))


def _snapshot_deals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": ["D-1"],
            "owner": ["Ana Lima"],
            "account": ["Ana Co"],
            "stage": ["Demo"],
            "outcome": ["open"],
            "amount": [1_000.0],
            "close_date": [pd.Timestamp(END)],
        }
    )


def _profile_deals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": ["P-1"],
            "owner": ["Ana"],
            "account": ["Ana Co"],
            "stage": ["Won"],
            "outcome": ["won"],
            "amount": [5.0],
            "created": [START],
            "closed": [END],
        }
    )


Write = Callable[[duckdb.DuckDBPyConnection, "Viewer | None", st.DataObject], object]
WRITES: dict[str, Write] = {
    "add_account": lambda con, v, d: store.add_account(
        con,
        v,
        f"New {d.draw(st.integers(0, 99))}",
        START,
        END,
        owner_rep_id=d.draw(st.one_of(st.none(), st.just(target(d, con, "reps")))),
    ),
    "add_accounts": lambda con, v, d: store.add_accounts(
        con,
        v,
        [store.CrmAccount(f"Crm {d.draw(st.integers(0, 99))}", d.draw(st.sampled_from(OWNER_NAMES)), 3)],
        START,
        END,
    ),
    "update_account": lambda con, v, d: store.update_account(con, v, _account(d, con)),
    "delete_account": lambda con, v, d: store.delete_account(con, v, target(d, con, "accounts")),
    "add_goal": lambda con, v, d: store.add_goal(con, v, target(d, con, "accounts"), "customer success", "New"),
    "delete_goal": lambda con, v, d: store.delete_goal(con, v, target(d, con, "goals")),
    "add_objective": lambda con, v, d: store.add_objective(con, v, _objective(d, con, 0)),
    "update_objective": lambda con, v, d: store.update_objective(
        con, v, _objective(d, con, target(d, con, "objectives"))
    ),
    "delete_objective": lambda con, v, d: store.delete_objective(con, v, target(d, con, "objectives")),
    "add_action": lambda con, v, d: store.add_action(con, v, _action(d, con, 0)),
    "update_action": lambda con, v, d: store.update_action(con, v, _action(d, con, target(d, con, "actions"))),
    "set_action_status": lambda con, v, d: store.set_action_status(con, v, target(d, con, "actions"), "done"),
    "delete_action": lambda con, v, d: store.delete_action(con, v, target(d, con, "actions")),
    "save_cycle": lambda con, v, d: store.save_cycle(con, v, target(d, con, "accounts"), 2027, default_cycle(2027)),
    "add_review": lambda con, v, d: store.add_review(con, v, Review(0, target(d, con, "accounts"), END, "Dana")),  # type: ignore[arg-type]
    "save_plan": lambda con, v, d: store.save_plan(
        con,
        v,
        target(d, con, "reps"),  # type: ignore[arg-type]
        f"Plan {d.draw(st.integers(0, 99))}",
        INPUTS,
        plan_id=d.draw(st.one_of(st.none(), st.just(target(d, con, "plans")))),  # type: ignore[arg-type]
    ),
    "save_plan_for_a_new_rep": lambda con, v, d: store.save_plan(
        con,
        v,
        f"New rep {d.draw(st.integers(0, 99))}",
        "Plan",
        INPUTS,
        new_rep_team=d.draw(st.sampled_from(["East", "West", ""])),
    ),
    "delete_plan": lambda con, v, d: store.delete_plan(con, v, target(d, con, "plans")),
    "duplicate_plan": lambda con, v, d: store.duplicate_plan(
        con, v, target(d, con, "plans"), f"Copy {d.draw(st.integers(0, 99))}"
    ),
    "save_actuals": lambda con, v, d: store.save_actuals(
        con, v, target(d, con, "plans"), [WeekActual(START, 9_999.0, 3, {"Meetings": 9})]
    ),
    "add_rep": lambda con, v, d: store.add_rep(
        con,
        v,
        f"Person {d.draw(st.integers(0, 99))}",
        d.draw(st.sampled_from(["East", "West"])),
        d.draw(st.sampled_from(store.ROLES)),
    ),
    "update_rep": lambda con, v, d: store.update_rep(
        con, v, target(d, con, "reps"), team=d.draw(st.sampled_from(["East", "West"]))
    ),
    "remove_rep": lambda con, v, d: store.remove_rep(
        con, v, target(d, con, "reps"), plans=d.draw(st.integers(0, 2)), weeks=d.draw(st.integers(0, 2))
    ),
    "save_snapshot": lambda con, v, d: store.save_snapshot(
        con, v, d.draw(st.sampled_from(["East", "West"])), END, _snapshot_deals()
    ),
    "save_profile": lambda con, v, d: store.save_profile(
        con, v, f"Profile {d.draw(st.integers(0, 99))}", "crm.csv", {}, _profile_deals(), rows_read=1, rows_bad=0
    ),
    "delete_profile": lambda con, v, d: store.delete_profile(con, v, target(d, con, "profiles")),
    "load_demo": lambda con, v, d: store.load_team(con, v, _demo()),
    "remove_demo": lambda con, v, d: store.remove_demo(con, v),
    "set_rate": lambda con, v, d: store.set_rate(con, v, _rate(d)),
    "save_actual_cells": lambda con, v, d: _save_cells(con, v, d),
    "purge_deleted_plans": lambda con, v, d: store.purge_deleted_plans(con, v),
    "save_projections": lambda con, v, d: _save_projections(con, v, d),
    "delete_rate": lambda con, v, d: store.delete_rate(
        con, v, *d.draw(st.sampled_from([("EUR", "USD"), ("USD", "EUR"), ("GBP", "CHF")]))
    ),
}


# --------------------------------------------------------------------------- the oracle


Snapshot = dict[str, dict[tuple, dict]]  # table → {row as a tuple: row as a dict}


def snapshot(con: duckdb.DuckDBPyConnection) -> Snapshot:
    """Every row of every table, less the ``writes`` counters: row locks, which every write takes, not data."""
    taken = {}
    for table in TABLES:
        listed = con.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            [table],
        )
        columns = [c for (c,) in listed.fetchall()]
        cur = con.execute(f"SELECT {', '.join(c for c in columns if c != 'writes')} FROM {table}")
        columns = [c[0] for c in cur.description]
        taken[table] = {tuple(row): dict(zip(columns, row, strict=True)) for row in cur.fetchall()}
    return taken


def _by_id(snap: Snapshot, table: str) -> dict[int, dict]:
    return {row["id"]: row for row in snap[table].values()}


def _first(snaps: tuple[Snapshot, Snapshot], table: str, row_id: object) -> dict | None:
    """The row ``row_id`` of ``table`` in the first snapshot that has it (the one the changed row came from first)."""
    for snap in snaps:
        found = _by_id(snap, table).get(row_id)
        if found is not None:
            return found
    return None


def _rep_owner(snaps: tuple[Snapshot, Snapshot], rep_id: object) -> Owner | None:
    rep = _first(snaps, "reps", rep_id)
    return None if rep is None else Owner(rep["id"], rep["team"])


def _account_owner(snaps: tuple[Snapshot, Snapshot], account_id: object) -> Owner | None:
    account = _first(snaps, "accounts", account_id)
    return None if account is None or account["owner_rep_id"] is None else _rep_owner(snaps, account["owner_rep_id"])


def _plan_owner(snaps: tuple[Snapshot, Snapshot], plan_id: object) -> Owner | None:
    plan = _first(snaps, "plans", plan_id)
    return None if plan is None else _rep_owner(snaps, plan["rep_id"])


def allowed(viewer: Viewer | None, table: str, row: dict, snaps: tuple[Snapshot, Snapshot], new: bool) -> bool:
    """May ``viewer`` have added (``new``) or removed this row of ``table``? ``snaps``: where to look its owner up."""
    if viewer is None:
        return False
    if table == "accounts":
        return viewer.owns(_account_owner(snaps, row["id"]))
    if table in ("goals", "actions", "cycle_steps", "reviews"):
        return viewer.owns(_account_owner(snaps, row["account_id"]))
    if table == "objectives":
        goal = _first(snaps, "goals", row["goal_id"])
        return goal is not None and viewer.owns(_account_owner(snaps, goal["account_id"]))
    if table == "plans":
        return viewer.owns(_rep_owner(snaps, row["rep_id"]))
    if table in ("milestones", "actuals"):
        return viewer.owns(_plan_owner(snaps, row["plan_id"]))
    if table == "reps":
        if row["demo"]:
            return viewer.can_load_demo
        return viewer.may_add_rep(row["team"], row["role"]) if new else viewer.can_manage_people
    if table in ("profiles", "deals"):
        return viewer.can_calibrate
    if table == "pipeline_snapshots":
        return viewer.can_review(row["team"])
    if table == "exchange_rates":
        return viewer.can_set_rates
    if table == "projections":
        return viewer.can_review(row["team"])
    raise AssertionError(table)


def trespasses(viewer: Viewer | None, before: Snapshot, after: Snapshot) -> list[str]:
    """Every changed row ``viewer`` may not have changed, in words."""
    found = []
    for table in TABLES:
        gone = [row for key, row in before[table].items() if key not in after[table]]
        came = [row for key, row in after[table].items() if key not in before[table]]
        old_ids = {row.get("id") for row in before[table].values()}
        for row in gone:  # removed, or the old side of a change: judged by its owner as it was
            if not allowed(viewer, table, row, (before, after), new=False):
                found.append(f"{table}: removed or changed {row}")
        for row in came:  # added, or the new side of a change: judged by its owner as it is now
            is_new = "id" not in row or row["id"] not in old_ids
            if not allowed(viewer, table, row, (after, before), new=is_new):
                found.append(f"{table}: added or changed to {row}")
    return found


# --------------------------------------------------------------------------- the property


# The rules are the same whatever holds the tables, and on PostgreSQL each refused write is checked below,
# write by write: twelve random sequences a run on DuckDB alone keep the suite's minutes down.
@pytest.mark.duckdb_only
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_sequence_of_writes_changes_anything_access_does_not_allow(data: st.DataObject) -> None:
    with world() as con:
        # Every write once per example, in a random order (so each runs after others changed the world),
        # as someone random at something random: a missing check anywhere shows within a few examples.
        for name in data.draw(st.permutations(sorted(WRITES)), label="writes"):
            who = data.draw(st.sampled_from(WHO), label=f"{name} as")
            viewer = viewer_of(con, who)
            before = snapshot(con)
            try:
                WRITES[name](con, viewer, data)
            except store.StoreError:
                after = snapshot(con)
                assert after == before, f"{name} as {who} was refused but changed the database"
                continue
            after = snapshot(con)
            assert trespasses(viewer, before, after) == [], f"{name} as {who}"


def test_the_oracle_sees_a_trespass() -> None:
    """The property's own check: a rep's write to another rep's account plan, done behind the store's back."""
    with world() as con:
        ana = viewer_of(con, "ana@acme.test")
        before = snapshot(con)
        con.execute(
            "UPDATE goals SET title = 'Hijacked' WHERE account_id = (SELECT id FROM accounts WHERE name = 'Ben Co')"
        )
        assert trespasses(ana, before, snapshot(con)) != []
        assert trespasses(viewer_of(con, OPS), before, snapshot(con)) == []


@pytest.mark.parametrize("who", ["ana@acme.test", "maya@acme.test", "signed out", "stranger"])
def test_every_write_refused_outright_to_its_target_leaves_no_trace(who: str, tmp_path: Path) -> None:
    """Each public write, aimed at Wes's things (West) by someone not in West: refused, nothing changed."""
    with world() as con:
        wes = next(r.id for r in store.list_reps(con) if r.name == "Wes Hall")
        wes_account = next(a.id for a in store.list_accounts(con) if a.name == "Wes Co")
        wes_plan = next(p.id for p in store.list_plans(con) if p.rep_id == wes)
        plan = store.get_account_plan(con, wes_account)
        assert plan is not None
        goal, objective, action = plan.goals[0].id, plan.objectives[0].id, plan.actions[0].id
        viewer = viewer_of(con, who)
        writes = [
            lambda: store.update_account(con, viewer, Account(wes_account, "Mine", START, END, owner_rep_id=wes)),
            lambda: store.delete_account(con, viewer, wes_account),
            lambda: store.add_goal(con, viewer, wes_account, "customer success", "Mine"),
            lambda: store.delete_goal(con, viewer, goal),
            lambda: store.add_objective(con, viewer, Objective(0, goal, "Mine")),
            lambda: store.update_objective(con, viewer, Objective(objective, goal, "Mine")),
            lambda: store.delete_objective(con, viewer, objective),
            lambda: store.add_action(con, viewer, Action(0, wes_account, "Mine")),
            lambda: store.update_action(con, viewer, Action(action, wes_account, "Mine")),
            lambda: store.set_action_status(con, viewer, action, "done"),
            lambda: store.delete_action(con, viewer, action),
            lambda: store.save_cycle(con, viewer, wes_account, 2027, default_cycle(2027)),
            lambda: store.add_review(con, viewer, Review(0, wes_account, END, "Me")),
            lambda: store.add_account(con, viewer, "Mine too", START, END, owner_rep_id=wes),
            lambda: store.save_plan(con, viewer, wes, "Mine", INPUTS),
            lambda: store.save_plan(con, viewer, wes, "Mine", INPUTS, plan_id=wes_plan),
            lambda: store.delete_plan(con, viewer, wes_plan),
            lambda: store.duplicate_plan(con, viewer, wes_plan, "Mine"),
            lambda: store.save_actuals(con, viewer, wes_plan, [WeekActual(START, 1.0, 0, {})]),
            lambda: store.update_rep(con, viewer, wes, team="East"),
            lambda: store.add_rep(con, viewer, "Newcomer", "West"),
            lambda: store.remove_rep(con, viewer, wes, plans=1, weeks=1),
            lambda: store.save_snapshot(con, viewer, "West", END, _snapshot_deals()),
            lambda: store.save_profile(con, viewer, "Mine", "x.csv", {}, _profile_deals(), rows_read=1, rows_bad=0),
            lambda: store.load_team(con, viewer, _demo()),
            lambda: store.take_backup(con, viewer, BackupSchedule(tmp_path), datetime.now()),
            lambda: store.set_rate(con, viewer, Rate("GBP", "USD", 1.3)),
            lambda: store.set_rate(con, viewer, Rate("USD", "EUR", 0.5)),  # over the rate on file, the other way round
            lambda: store.delete_rate(con, viewer, "EUR", "USD"),
        ]
        before = snapshot(con)
        for write in writes:
            with pytest.raises(store.Refused):
                write()
        assert snapshot(con) == before
        assert list(tmp_path.iterdir()) == []  # no backup written either


def test_exchange_rates_are_sales_ops_to_set_and_the_refusal_says_so() -> None:
    with world() as con:
        for who in ("ana@acme.test", "maya@acme.test"):
            with pytest.raises(store.Refused, match="Only sales ops can set or remove exchange rates"):
                store.set_rate(con, viewer_of(con, who), Rate("EUR", "USD", 2.0))
        store.set_rate(con, viewer_of(con, OPS), Rate("EUR", "USD", 1.2))
        assert [(r.rate, r.updated_by) for r in store.list_rates(con)] == [(1.2, "Olu Ade")]  # who, from the viewer


#: Public store functions that change the database, by how their names start.
WRITE_NAMES = (
    "add_",
    "save_",
    "update_",
    "delete_",
    "set_",
    "load_",
    "duplicate_",
    "remove_",
    "purge_",
    "take_backup",
    "backup",
    "note_",
    "end_",
)
#: The writes that take no viewer, and why that is safe.
WITHOUT_A_VIEWER = {
    # A sign-in's record is written before anyone is a viewer (it decides whether the cookie still counts), and
    # for an email on no team too, so its sign-out holds once they are added. Its key comes only from the
    # identity token Streamlit verified and signed (ui.auth), and the write touches that one sign-in's row.
    "note_sign_in",
    "end_sign_in",
}


def test_every_store_write_takes_the_viewer_first() -> None:
    """A write added without the viewer would have nothing to authorise against: each takes it after ``con``."""
    import inspect

    writes = [
        name
        for name in store.__all__
        if name.startswith(WRITE_NAMES) and inspect.isfunction(getattr(store, name)) and name not in WITHOUT_A_VIEWER
    ]
    assert {"set_rate", "delete_rate", "save_plan", "add_objective", "take_backup"} <= set(writes)
    without = [n for n in writes if list(inspect.signature(getattr(store, n)).parameters)[1:2] != ["viewer"]]
    assert without == []
    # And the property drives each one (backups write files, not rows: the outright refusal covers them).
    driven = {"load_team" if name == "load_demo" else name for name in WRITES}
    assert sorted(set(writes) - driven - {"backup", "take_backup"}) == []
