"""Account plans in the store: round trips on real files, the goal cascade, writes that fail whole."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from planner import access, store
from planner.access import SYSTEM
from planner.accounts import Account, Action, CycleStep, Objective, Review, default_cycle
from planner.funnel import PlanInputs, Stage

#: Every test here runs on DuckDB and on PostgreSQL (tests/backends.py).
pytestmark = pytest.mark.both_backends

START, END = date(2027, 1, 1), date(2027, 12, 31)


@pytest.fixture
def db_path(database: store.Target) -> store.Target:
    """The test's database: a DuckDB file, or a PostgreSQL database's URL."""
    return database


@pytest.fixture
def con(db_path: Path) -> duckdb.DuckDBPyConnection:
    connection = store.connect(db_path)
    yield connection
    connection.close()


def ana(con: duckdb.DuckDBPyConnection) -> int:
    """Ana Lima's rep id, adding her the first time."""
    found = [r.id for r in store.list_reps(con) if r.name == "Ana Lima"]
    return found[0] if found else store.add_rep(con, SYSTEM, "Ana Lima", "East")


def build_plan(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int, list[int]]:
    account = store.add_account(con, SYSTEM, "Acme", START, END, owner_rep_id=ana(con), segment="Enterprise")
    goal = store.add_goal(con, SYSTEM, account, "roadmap to revenue", "Expand into the data team")
    objective = store.add_objective(
        con,
        SYSTEM,
        Objective(0, goal, "Win the data team", "revenue", 120_000, 0, "Budget set", date(2027, 6, 30), True),
    )
    actions = [
        store.add_action(
            con, SYSTEM, Action(0, account, "Map the buying group", objective, "Ana Lima", date(2027, 2, 1))
        ),
        store.add_action(con, SYSTEM, Action(0, account, "Run the pilot", objective, "Ben", None, "in progress")),
    ]
    return account, goal, objective, actions


def test_a_whole_account_plan_reopens_exactly_as_saved_after_a_restart(db_path: Path) -> None:
    con = store.connect(db_path)
    account, goal, objective, actions = build_plan(con)
    store.update_account(
        con,
        SYSTEM,
        Account(
            account,
            "Acme",
            START,
            END,
            owner_rep_id=ana(con),
            segment="Enterprise",
            aims="Halve reporting time — 報告 ✓",
            priorities=("Speed", " ", "Cost"),
            timeframes="Board decision in March",
            risk_tolerance="low",
            notes="<script>alert(1)</script>",
        ),
    )
    store.set_action_status(con, SYSTEM, actions[0], "done")
    store.save_cycle(con, SYSTEM, account, 2027, default_cycle(2027, 1, "Ana Lima"))
    store.add_review(con, SYSTEM, Review(0, account, date(2027, 2, 1), "Dana", "Raised the target", "CFO on board"))
    con.close()

    reopened = store.connect(db_path)
    plan = store.get_account_plan(reopened, account)
    assert plan is not None
    saved = plan.account
    assert (saved.owner, saved.owner_rep_id) == ("Ana Lima", ana(reopened))
    assert (saved.aims, saved.priorities, saved.risk_tolerance, saved.notes) == (
        "Halve reporting time — 報告 ✓",
        ("Speed", "Cost"),
        "low",
        "<script>alert(1)</script>",
    )
    assert saved.created_on == date.today()
    assert [(g.id, g.category, g.title) for g in plan.goals] == [
        (goal, "roadmap to revenue", "Expand into the data team")
    ]
    assert plan.objectives == (
        Objective(objective, goal, "Win the data team", "revenue", 120_000, 0, "Budget set", date(2027, 6, 30), True),
    )
    assert [(a.description, a.status, a.owner, a.due) for a in plan.actions] == [
        ("Map the buying group", "done", "Ana Lima", date(2027, 2, 1)),
        ("Run the pilot", "in progress", "Ben", None),
    ]
    assert plan.reviews == (Review(1, account, date(2027, 2, 1), "Dana", "Raised the target", "CFO on board"),)
    assert store.get_cycle(reopened, account, 2027) == list(default_cycle(2027, 1, "Ana Lima"))
    assert store.get_cycle(reopened, account, 2028) == []
    reopened.close()


def test_editing_a_cycle_step_replaces_only_that_step(con: duckdb.DuckDBPyConnection) -> None:
    account, *_ = build_plan(con)
    store.save_cycle(con, SYSTEM, account, 2027, default_cycle(2027))
    store.save_cycle(con, SYSTEM, account, 2027, [CycleStep(2, "Ben", date(2027, 8, 1), done_on=date(2027, 7, 30))])
    steps = store.get_cycle(con, account, 2027)
    assert len(steps) == 5
    assert steps[1] == CycleStep(2, "Ben", date(2027, 8, 1), date(2027, 7, 30))
    assert [(a, y, s.step) for a, y, s in store.list_cycle_steps(con)][:2] == [(account, 2027, 1), (account, 2027, 2)]


def test_deleting_a_goal_removes_its_objectives_and_their_actions_and_nothing_else(
    con: duckdb.DuckDBPyConnection,
) -> None:
    account, goal, _, _ = build_plan(con)
    other_goal = store.add_goal(con, SYSTEM, account, "customer success", "Adoption")
    other_objective = store.add_objective(con, SYSTEM, Objective(0, other_goal, "80% weekly users"))
    kept = store.add_action(con, SYSTEM, Action(0, account, "Training", other_objective))
    busywork = store.add_action(con, SYSTEM, Action(0, account, "Golf day"))

    store.delete_goal(con, SYSTEM, goal)
    plan = store.get_account_plan(con, account)
    assert plan is not None
    assert [g.title for g in plan.goals] == ["Adoption"]
    assert [o.id for o in plan.objectives] == [other_objective]
    assert sorted(a.id for a in plan.actions) == [kept, busywork]


def test_a_goal_delete_that_fails_part_way_leaves_everything_in_place(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, goal, objective, actions = build_plan(con)
    real = store.transaction

    class Boom(RuntimeError):
        pass

    def failing_transaction(connection):
        class Failing:
            def __enter__(self):
                self.inner = real(connection)
                self.cur = self.inner.__enter__()
                return self

            def execute(self, sql, params=()):
                if sql.startswith("DELETE FROM goals"):
                    raise Boom("disk full")
                return self.cur.execute(sql, params)

            def __exit__(self, *exc):
                return self.inner.__exit__(*exc)

        return Failing()

    monkeypatch.setattr(store.accounts, "transaction", failing_transaction)
    with pytest.raises(Boom):
        store.delete_goal(con, SYSTEM, goal)
    monkeypatch.setattr(store.accounts, "transaction", real)
    plan = store.get_account_plan(con, account)
    assert plan is not None
    assert [g.id for g in plan.goals] == [goal]
    assert [o.id for o in plan.objectives] == [objective]
    assert sorted(a.id for a in plan.actions) == actions


def test_a_failed_crm_import_adds_no_account_at_all(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(store.StoreError, match="needs a name"):
        store.add_accounts(
            con, SYSTEM, [store.CrmAccount("Acme", "Ana", 3), store.CrmAccount("  ", "Ben", 1)], START, END
        )
    assert store.list_accounts(con) == []


def test_bad_input_is_refused_in_words_and_writes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    account, goal, objective, _ = build_plan(con)
    before = store.get_account_plan(con, account)
    with pytest.raises(store.StoreError, match="already an account called “ACME”"):
        store.add_account(con, SYSTEM, "ACME", START, END)
    with pytest.raises(store.StoreError, match="needs a name"):
        store.add_account(con, SYSTEM, "   ", START, END)
    with pytest.raises(store.StoreError, match="must end after it starts"):
        store.add_account(con, SYSTEM, "Globex", END, START)
    with pytest.raises(store.StoreError, match="category is one of"):
        store.add_goal(con, SYSTEM, account, "world domination", "Everything")
    with pytest.raises(store.StoreError, match="needs a statement"):
        store.add_objective(con, SYSTEM, Objective(0, goal, " "))
    with pytest.raises(store.StoreError, match="goal no longer exists"):
        store.add_objective(con, SYSTEM, Objective(0, 999, "Orphan"))
    with pytest.raises(store.StoreError, match="status is one of"):
        store.add_action(con, SYSTEM, Action(0, account, "Call", objective, status="maybe"))
    with pytest.raises(store.StoreError, match="objective no longer exists"):
        store.add_action(con, SYSTEM, Action(0, account, "Call", 999))
    with pytest.raises(store.StoreError, match="Say who reviewed"):
        store.add_review(con, SYSTEM, Review(0, account, date(2027, 2, 1), " "))
    with pytest.raises(store.StoreError, match="Risk tolerance"):
        store.update_account(con, SYSTEM, Account(account, "Acme", START, END, risk_tolerance="reckless"))
    assert store.get_account_plan(con, account) == before
    assert [a.name for a in store.list_accounts(con)] == ["Acme"]


def test_deleting_an_account_removes_its_whole_plan(con: duckdb.DuckDBPyConnection) -> None:
    account, *_ = build_plan(con)
    other = store.add_account(con, SYSTEM, "Globex", START, END)
    store.add_goal(con, SYSTEM, other, "customer success", "Adoption")
    store.save_cycle(con, SYSTEM, account, 2027, default_cycle(2027))
    store.delete_account(con, SYSTEM, account)
    assert store.get_account_plan(con, account) is None
    assert [p.account.name for p in store.list_account_plans(con)] == ["Globex"]
    assert store.list_cycle_steps(con) == []
    assert con.execute("SELECT count(*) FROM actions").fetchone()[0] == 0


def _deal(con, profile: int, deal: str, owner: str, account: str, outcome: str, amount: float) -> None:
    con.execute(
        "INSERT INTO deals (profile_id, deal_id, owner, account, stage, outcome, amount) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [profile, deal, owner, account, "x", outcome, amount],
    )


def test_accounts_come_from_crm_deals_with_their_most_frequent_owner(con: duckdb.DuckDBPyConnection) -> None:
    assert store.crm_accounts(con) == []
    _deal(con, 1, "d1", "Ana", "Acme", "won", 100)
    _deal(con, 1, "d2", "Ben", "Acme", "open", 50)
    _deal(con, 1, "d3", "Ben", " Acme ", "lost", 50)
    _deal(con, 1, "d4", "Cy", "", "lost", 10)
    _deal(con, 1, "d5", "", "Initech", "won", 10)
    assert store.crm_accounts(con) == [
        store.CrmAccount("Acme", "Ben", 3),
        store.CrmAccount("Initech", "", 1),
    ]
    store.add_account(con, SYSTEM, "acme", START, END)
    done = store.add_accounts(con, SYSTEM, store.crm_accounts(con), START, END)
    assert len(done.ids) == 1  # Acme is there already, in other letters
    assert [(a.name, a.owner) for a in store.list_accounts(con)] == [("Initech", ""), ("acme", "")]


def test_an_account_shows_its_open_opportunities_from_the_latest_snapshot_and_its_won_history(
    con: duckdb.DuckDBPyConnection,
) -> None:
    empty = store.account_deals(con, "Acme")
    assert (empty.snapshot_date, empty.open_deals, empty.has_deals, empty.won_amount) == (None, (), False, 0.0)
    _deal(con, 1, "d1", "Ana", "Acme", "won", 100)
    _deal(con, 2, "d1", "Ana", "Acme", "won", 120)  # re-imported: counts once, as the newest profile has it
    _deal(con, 2, "d2", "Ana", "acme", "won", 30)
    _deal(con, 2, "d3", "Ana", "Acme", "lost", 999)
    _deal(con, 2, "d4", "Ana", "Globex", "won", 999)
    con.execute(
        "INSERT INTO pipeline_snapshots (snapshot_date, deal_id, owner, account, stage, amount, close_date) VALUES"
        " ('2027-01-01', 'p1', 'Ana', 'Acme', 'Proposal', 40, '2027-02-01'),"
        " ('2027-01-08', 'p2', 'Ana', 'Acme', 'Demo', 70, '2027-03-01'),"
        " ('2027-01-08', 'p3', 'Ben', 'Acme', 'Proposal', 20, '2027-02-15'),"
        " ('2027-01-08', 'p4', 'Ben', 'Globex', 'Proposal', 500, '2027-02-15')"
    )
    deals = store.account_deals(con, "Acme")
    assert deals.snapshot_date == date(2027, 1, 8)
    assert [d.deal_id for d in deals.open_deals] == ["p3", "p2"]  # by close date
    assert deals.open_amount == 90
    assert (deals.has_deals, deals.won_count, deals.won_amount) == (True, 2, 150)


def test_revenue_objectives_compare_with_the_owners_plan_for_the_period(con: duckdb.DuckDBPyConnection) -> None:
    inputs = PlanInputs(
        target=400_000,
        deal_size=4_000,
        period_start=date(2027, 1, 1),
        period_end=date(2027, 3, 31),
        stages=(Stage("Meetings", 2.0, 7),),
        won_stage="Won",
    )
    store.save_plan(con, SYSTEM, "Ana Lima", "Q1 2027", inputs)
    found = store.owner_plan(con, ana(con), START, END)
    assert found is not None and (found.name, found.target) == ("Q1 2027", 400_000)
    assert store.owner_plan(con, ana(con), date(2028, 1, 1), date(2028, 12, 31)) is None
    assert store.owner_plan(con, ana(con) + 1, START, END) is None


@pytest.mark.duckdb_only
@pytest.mark.duckdb_only
def test_an_older_database_gains_the_account_tables(db_path: Path) -> None:
    old = duckdb.connect(str(db_path))
    store.migrate(old, upto=3)
    old.close()
    con = store.connect(db_path)
    assert store.schema_version(con) == store.LATEST_VERSION >= 4
    assert store.list_accounts(con) == []
    con.close()


@pytest.mark.duckdb_only
def test_an_older_database_gives_each_account_the_one_rep_its_owner_names(db_path: Path) -> None:
    old = duckdb.connect(str(db_path))
    owners_by_id = next(m for m in store.MIGRATIONS if "owned by a rep's id" in m[1])[0]
    store.migrate(old, upto=owners_by_id - 1)  # owners were names then
    old.execute("INSERT INTO reps (name, team) VALUES ('Ana Lima', 'East'), ('Ben Carter', 'West')")
    for name, owner in (("Acme", " ana LIMA "), ("Globex", "Eve Okafor"), ("Hooli", ""), ("Initech", "Ben Carter")):
        sql = "INSERT INTO accounts (name, owner, period_start, period_end) VALUES (?, ?, ?, ?)"
        old.execute(sql, [name, owner, START, END])
    old.close()
    con = store.connect(db_path)
    ids = {r.name: r.id for r in store.list_reps(con)}
    owners = {a.name: (a.owner_rep_id, a.owner) for a in store.list_accounts(con)}
    assert owners == {
        "Acme": (ids["Ana Lima"], "Ana Lima"),  # matched ignoring case and spaces: shown by the name on file
        "Globex": (None, "Eve Okafor"),  # nobody on file: unassigned, the name kept as a label
        "Hooli": (None, ""),
        "Initech": (ids["Ben Carter"], "Ben Carter"),
    }
    ana = access.resolve_viewer("a@x.test", [store.Rep(ids["Ana Lima"], "Ana Lima", "East", "rep", "a@x.test")])
    assert [a.name for a in store.list_accounts(con) if ana.can_see_account(a.owner_rep_id)] == ["Acme"]
    con.close()
