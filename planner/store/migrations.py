"""The numbered schema migrations, append only: :func:`planner.store.migrate` applies each once."""

from __future__ import annotations

import json
from collections.abc import Callable

import duckdb

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Step"]

#: What a migration runs: SQL, or a function given the migration's cursor (for data that SQL cannot reshape).
Step = str | Callable[[duckdb.DuckDBPyConnection], None]


def _plans_with_identity(cur: duckdb.DuckDBPyConnection) -> None:
    """Plans get a version, a soft delete and stage ids; milestones and actuals reference their plan.

    DuckDB cannot add a FOREIGN KEY to a table, nor drop a UNIQUE constraint,
    with ALTER TABLE, so the three tables are rebuilt. ``plans`` loses
    UNIQUE (rep_id, name): DuckDB runs an UPDATE of an indexed column as a
    delete and an insert, which a referenced row refuses, so renaming a plan
    would fail; the plan writes check the name inside their transaction, with
    the rep's row locked (see planner.store.plans). Rows of milestones and
    actuals under a plan that no longer exists (left by deletes before this
    version) cannot be kept under a key that must exist, and are dropped.
    """
    cur.execute(_PLANS_WITH_IDENTITY)
    # Each stage gets an id from one sequence, so an id never comes back after its stage is removed;
    # counts recorded under a stage's name move to its id. A name no stage has any more stays, hidden,
    # under "name:<old name>" (it was hidden already).
    for plan_id, funnel in cur.execute("SELECT id, funnel FROM plans ORDER BY id").fetchall():
        stages = json.loads(funnel)
        for stage in stages:
            row = cur.execute("SELECT nextval('stage_ids')").fetchone()
            assert row is not None
            stage["id"] = int(row[0])
        cur.execute("UPDATE plans SET funnel = ? WHERE id = ?", [json.dumps(stages), plan_id])
        ids = {str(s["name"]).strip().casefold(): s["id"] for s in stages}
        weeks = cur.execute("SELECT week_start, stage_counts FROM actuals WHERE plan_id = ?", [plan_id]).fetchall()
        for week, counts in weeks:
            moved = {}
            for name, count in json.loads(counts).items():
                stage_id = ids.get(name.strip().casefold())
                moved[str(stage_id) if stage_id is not None else f"name:{name}"] = count
            cur.execute(
                "UPDATE actuals SET stage_counts = ? WHERE plan_id = ? AND week_start = ?",
                [json.dumps(moved, sort_keys=True), plan_id, week],
            )


_PLANS_WITH_IDENTITY = """
    CREATE SEQUENCE stage_ids START 1;
    ALTER TABLE reps ADD COLUMN writes BIGINT NOT NULL DEFAULT 0;  -- +1 by each plan write for the rep (a row lock)
    ALTER TABLE plans RENAME TO plans_before;
    CREATE TABLE plans (
        id INTEGER PRIMARY KEY DEFAULT nextval('plans_id'),
        rep_id INTEGER NOT NULL,
        name VARCHAR NOT NULL,              -- unique per rep among live plans, checked by the writes
        target DOUBLE NOT NULL,
        currency VARCHAR NOT NULL DEFAULT 'USD',
        period_start DATE NOT NULL,
        period_end DATE NOT NULL,
        avg_deal_size DOUBLE NOT NULL,
        coverage_ratio DOUBLE NOT NULL DEFAULT 3,
        milestone_shape VARCHAR NOT NULL DEFAULT 'linear',
        funnel VARCHAR NOT NULL,            -- JSON: [{"id", "name", "ratio", "lag_days"}], top down
        won_stage VARCHAR NOT NULL,
        holiday_weeks VARCHAR NOT NULL DEFAULT '[]',
        profile_id INTEGER,
        created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        cadence VARCHAR NOT NULL DEFAULT 'auto',
        milestone_custom VARCHAR NOT NULL DEFAULT '[]',
        version INTEGER NOT NULL DEFAULT 1,         -- +1 on every save: a save from an older one is refused
        writes BIGINT NOT NULL DEFAULT 0,           -- +1 on every write to the plan or under it (the row lock)
        updated_by_rep_id INTEGER,                  -- who saved last: their rep id when signed in
        updated_by VARCHAR NOT NULL DEFAULT '',     -- ... and their name as it was then ('' with sign-in off)
        deleted_at TIMESTAMP                        -- set by a delete: hidden from every read, kept for the FKs
    );
    INSERT INTO plans (id, rep_id, name, target, currency, period_start, period_end, avg_deal_size,
                       coverage_ratio, milestone_shape, funnel, won_stage, holiday_weeks, profile_id,
                       created_at, updated_at, cadence, milestone_custom)
        SELECT id, rep_id, name, target, currency, period_start, period_end, avg_deal_size,
               coverage_ratio, milestone_shape, funnel, won_stage, holiday_weeks, profile_id,
               created_at, updated_at, cadence, milestone_custom
        FROM plans_before;
    DROP TABLE plans_before;
    ALTER TABLE milestones RENAME TO milestones_before;
    CREATE TABLE milestones (
        plan_id INTEGER NOT NULL REFERENCES plans (id),
        due_date DATE NOT NULL,
        cumulative_target DOUBLE NOT NULL,
        PRIMARY KEY (plan_id, due_date)
    );
    INSERT INTO milestones SELECT m.plan_id, m.due_date, m.cumulative_target FROM milestones_before m
        WHERE m.plan_id IN (SELECT id FROM plans);
    DROP TABLE milestones_before;
    ALTER TABLE actuals RENAME TO actuals_before;
    CREATE TABLE actuals (
        plan_id INTEGER NOT NULL REFERENCES plans (id),
        week_start DATE NOT NULL,
        revenue DOUBLE NOT NULL DEFAULT 0,
        deals_won INTEGER NOT NULL DEFAULT 0,
        stage_counts VARCHAR NOT NULL DEFAULT '{}',   -- JSON: {"stage id": count}
        daily_revenue VARCHAR NOT NULL DEFAULT '{}',  -- JSON: {"YYYY-MM-DD": amount}, for weeks recorded by day
        updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        version INTEGER NOT NULL DEFAULT 1,           -- +1 on every change of the week
        updated_by_rep_id INTEGER,
        updated_by VARCHAR NOT NULL DEFAULT '',
        PRIMARY KEY (plan_id, week_start)
    );
    INSERT INTO actuals (plan_id, week_start, revenue, deals_won, stage_counts, updated_at)
        SELECT a.plan_id, a.week_start, a.revenue, a.deals_won, a.stage_counts, a.updated_at FROM actuals_before a
        WHERE a.plan_id IN (SELECT id FROM plans);
    DROP TABLE actuals_before;
"""

#: (version, what it does, step). Append only: a released migration never changes.
#: The early migrations have no FOREIGN KEY clauses; since plans got their identity, milestones and
#: actuals reference plans. DuckDB (2.0) has no ON DELETE CASCADE, and deleting the children and then the parent in
#: one transaction fails its FK check, so a plan is deleted softly (``deleted_at``, hidden by every
#: read) in one transaction, and purged later in two (:func:`planner.store.purge_deleted_plans`).
#: A referenced row cannot have an indexed column updated, nor be updated with RETURNING.
MIGRATIONS: tuple[tuple[int, str, Step], ...] = (
    (
        1,
        "reps, plans, milestones and weekly actuals",
        """
        CREATE SEQUENCE reps_id START 1;
        CREATE TABLE reps (
            id INTEGER PRIMARY KEY DEFAULT nextval('reps_id'),
            name VARCHAR NOT NULL UNIQUE,
            team VARCHAR NOT NULL DEFAULT '',
            role VARCHAR NOT NULL DEFAULT 'rep' CHECK (role IN ('rep', 'manager', 'ops'))
        );
        CREATE SEQUENCE plans_id START 1;
        CREATE TABLE plans (
            id INTEGER PRIMARY KEY DEFAULT nextval('plans_id'),
            rep_id INTEGER NOT NULL,
            name VARCHAR NOT NULL,
            target DOUBLE NOT NULL,
            currency VARCHAR NOT NULL DEFAULT 'USD',
            period_start DATE NOT NULL,
            period_end DATE NOT NULL,
            avg_deal_size DOUBLE NOT NULL,
            coverage_ratio DOUBLE NOT NULL DEFAULT 3,
            milestone_shape VARCHAR NOT NULL DEFAULT 'linear',
            funnel VARCHAR NOT NULL,            -- JSON: [{"name", "ratio", "lag_days"}], top down
            won_stage VARCHAR NOT NULL,
            holiday_weeks VARCHAR NOT NULL DEFAULT '[]',  -- JSON: ISO dates
            profile_id INTEGER,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            UNIQUE (rep_id, name)
        );
        CREATE TABLE milestones (
            plan_id INTEGER NOT NULL,
            due_date DATE NOT NULL,
            cumulative_target DOUBLE NOT NULL,
            PRIMARY KEY (plan_id, due_date)
        );
        CREATE TABLE actuals (
            plan_id INTEGER NOT NULL,
            week_start DATE NOT NULL,
            revenue DOUBLE NOT NULL DEFAULT 0,
            deals_won INTEGER NOT NULL DEFAULT 0,
            stage_counts VARCHAR NOT NULL DEFAULT '{}',  -- JSON: {"stage name": count}
            updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (plan_id, week_start)
        );
        """,
    ),
    (
        2,
        "milestone cadence and custom checkpoints on plans",
        """
        ALTER TABLE plans ADD COLUMN cadence VARCHAR NOT NULL DEFAULT 'auto';
        ALTER TABLE plans ADD COLUMN milestone_custom VARCHAR NOT NULL DEFAULT '[]';  -- JSON: amounts, k to go
        """,
    ),
    (
        3,
        "calibration profiles, their deals, and pipeline snapshots",
        """
        CREATE SEQUENCE profiles_id START 1;
        CREATE TABLE profiles (
            id INTEGER PRIMARY KEY DEFAULT nextval('profiles_id'),
            name VARCHAR NOT NULL UNIQUE,
            source_file VARCHAR NOT NULL,
            result VARCHAR NOT NULL,            -- JSON: the calibration result (planner.calibrate)
            rows_read INTEGER NOT NULL,
            rows_used INTEGER NOT NULL,
            rows_bad INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        CREATE TABLE deals (
            profile_id INTEGER NOT NULL,
            deal_id VARCHAR NOT NULL,
            owner VARCHAR NOT NULL DEFAULT '',
            account VARCHAR NOT NULL DEFAULT '',
            stage VARCHAR NOT NULL DEFAULT '',
            outcome VARCHAR NOT NULL CHECK (outcome IN ('won', 'lost', 'open')),
            amount DOUBLE,
            created DATE,
            closed DATE,
            PRIMARY KEY (profile_id, deal_id)
        );
        CREATE TABLE pipeline_snapshots (
            snapshot_date DATE NOT NULL,
            team VARCHAR NOT NULL DEFAULT '',
            deal_id VARCHAR NOT NULL,
            owner VARCHAR NOT NULL DEFAULT '',
            account VARCHAR NOT NULL DEFAULT '',
            stage VARCHAR NOT NULL DEFAULT '',
            amount DOUBLE,
            close_date DATE,
            PRIMARY KEY (snapshot_date, team, deal_id)
        );
        """,
    ),
    (
        4,
        "account plans: accounts, goals, objectives, actions, planning-cycle steps, reviews",
        """
        CREATE SEQUENCE accounts_id START 1;
        CREATE TABLE accounts (
            id INTEGER PRIMARY KEY DEFAULT nextval('accounts_id'),
            name VARCHAR NOT NULL,              -- unique ignoring case, checked by the writes
            owner VARCHAR NOT NULL DEFAULT '',
            segment VARCHAR NOT NULL DEFAULT '',
            period_start DATE NOT NULL,
            period_end DATE NOT NULL,
            aims VARCHAR NOT NULL DEFAULT '',   -- what the customer is trying to accomplish
            priorities VARCHAR NOT NULL DEFAULT '[]',  -- JSON: ranked, most important first
            timeframes VARCHAR NOT NULL DEFAULT '',
            risk_tolerance VARCHAR NOT NULL DEFAULT 'medium' CHECK (risk_tolerance IN ('low', 'medium', 'high')),
            notes VARCHAR NOT NULL DEFAULT '',
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        CREATE SEQUENCE goals_id START 1;
        CREATE TABLE goals (
            id INTEGER PRIMARY KEY DEFAULT nextval('goals_id'),
            account_id INTEGER NOT NULL,
            category VARCHAR NOT NULL
                CHECK (category IN ('relationship management', 'roadmap to revenue', 'customer success')),
            title VARCHAR NOT NULL
        );
        CREATE SEQUENCE objectives_id START 1;
        CREATE TABLE objectives (
            id INTEGER PRIMARY KEY DEFAULT nextval('objectives_id'),
            goal_id INTEGER NOT NULL,
            statement VARCHAR NOT NULL,
            metric VARCHAR NOT NULL DEFAULT '',
            target_value DOUBLE,
            current_value DOUBLE,
            rationale VARCHAR NOT NULL DEFAULT '',
            due_date DATE,
            is_revenue BOOLEAN NOT NULL DEFAULT false
        );
        CREATE SEQUENCE actions_id START 1;
        CREATE TABLE actions (
            id INTEGER PRIMARY KEY DEFAULT nextval('actions_id'),
            account_id INTEGER NOT NULL,
            description VARCHAR NOT NULL,
            objective_id INTEGER,               -- NULL: an action that serves no objective
            owner VARCHAR NOT NULL DEFAULT '',
            due_date DATE,
            status VARCHAR NOT NULL DEFAULT 'to do' CHECK (status IN ('to do', 'in progress', 'done'))
        );
        CREATE TABLE cycle_steps (
            account_id INTEGER NOT NULL,
            fiscal_year INTEGER NOT NULL,
            step INTEGER NOT NULL CHECK (step BETWEEN 1 AND 5),
            owner VARCHAR NOT NULL DEFAULT '',
            due_date DATE NOT NULL,
            done_date DATE,
            PRIMARY KEY (account_id, fiscal_year, step)
        );
        CREATE SEQUENCE reviews_id START 1;
        CREATE TABLE reviews (
            id INTEGER PRIMARY KEY DEFAULT nextval('reviews_id'),
            account_id INTEGER NOT NULL,
            reviewed_on DATE NOT NULL,
            reviewer VARCHAR NOT NULL,
            what_changed VARCHAR NOT NULL DEFAULT '',
            notes VARCHAR NOT NULL DEFAULT '',
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        """,
    ),
    (
        5,
        "won / lost / open on pipeline snapshots, so a week-over-week diff sees wins and losses",
        """
        ALTER TABLE pipeline_snapshots ADD COLUMN outcome VARCHAR NOT NULL DEFAULT 'open';
        """,
    ),
    (
        6,
        "each rep's sign-in email, so a signed-in person is matched to their rep, team and role",
        """
        ALTER TABLE reps ADD COLUMN email VARCHAR NOT NULL DEFAULT '';  -- lower case; unique when set
        """,
    ),
    (
        7,
        "plans versioned and deleted softly, stages with ids, milestones and actuals bound to their plan by "
        "foreign keys, actuals per stage id with a version and who changed them",
        _plans_with_identity,
    ),
    (
        8,
        "a record of every sign-in, so a signed-out or idle sign-in cookie no longer signs anyone in",
        """
        CREATE TABLE sign_ins (
            issuer VARCHAR NOT NULL,            -- the identity token's iss
            subject VARCHAR NOT NULL,           -- its sub: the person, at that issuer
            issued_at TIMESTAMP NOT NULL,       -- its iat, UTC: one sign-in of that person
            first_seen TIMESTAMP NOT NULL,      -- server time, UTC
            last_seen TIMESTAMP NOT NULL,       -- server time, UTC: for the idle limit
            signed_out_at TIMESTAMP,            -- server time, UTC; NULL while signed in
            PRIMARY KEY (issuer, subject, issued_at)
        );
        """,
    ),
    (
        9,
        "exchange rates sales ops enter, so a team's plans in several currencies add up in one",
        """
        CREATE TABLE exchange_rates (
            from_currency VARCHAR NOT NULL,
            to_currency VARCHAR NOT NULL CHECK (to_currency <> from_currency),
            rate DOUBLE NOT NULL CHECK (rate > 0),  -- 1 from_currency = rate to_currency
            updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            updated_by VARCHAR NOT NULL DEFAULT '',
            PRIMARY KEY (from_currency, to_currency)
        );
        """,
    ),
    (
        10,
        "the chance of hitting the target a plan is built for, and the shape that fills custom checkpoints",
        """
        ALTER TABLE plans ADD COLUMN confidence DOUBLE;  -- 0.5, 0.8 or 0.9; NULL: the expected case
        -- Nullable (read as 'linear'): DuckDB refuses a NOT NULL column on a table foreign keys reference.
        ALTER TABLE plans ADD COLUMN milestone_fill VARCHAR DEFAULT 'linear';
        """,
    ),
    (
        11,
        "accounts owned by a rep's id, not a name: names matching exactly one rep are mapped, the rest unassigned",
        # An owner name matching one rep (ignoring case and surrounding spaces; names are unique, so at most
        # one can match) becomes that rep's id. Any other account is unassigned: only sales ops see and
        # change it until they give it an owner. The typed name stays in `owner` as a label either way.
        """
        ALTER TABLE accounts ADD COLUMN owner_rep_id INTEGER;  -- NULL: unassigned, for sales ops only
        ALTER TABLE accounts ADD COLUMN writes BIGINT NOT NULL DEFAULT 0;  -- +1 by every write to its plan (a row lock)
        UPDATE accounts SET owner_rep_id = (
            SELECT min(r.id) FROM reps r WHERE lower(trim(r.name)) = lower(trim(accounts.owner))
            HAVING count(*) = 1
        ) WHERE trim(owner) <> '';
        """,
    ),
    (
        12,
        "a version on each rep, who changed them last and when; demo people marked as such",
        """
        ALTER TABLE reps ADD COLUMN version INTEGER NOT NULL DEFAULT 1;  -- +1 on every change
        ALTER TABLE reps ADD COLUMN changed_by VARCHAR NOT NULL DEFAULT '';
        ALTER TABLE reps ADD COLUMN changed_at TIMESTAMP;
        ALTER TABLE reps ADD COLUMN demo BOOLEAN NOT NULL DEFAULT false;  -- loaded with the demo team
        """,
    ),
    (
        13,
        "forecast categories on pipeline snapshots, every projection shown recorded for forecast accuracy, and the "
        "demo's own calibration profile marked",
        """
        -- As the CRM exported it (Commit, BEST_CASE, Omitted ...); '' when the export had none.
        ALTER TABLE pipeline_snapshots ADD COLUMN forecast_category VARCHAR NOT NULL DEFAULT '';
        -- Loaded with the demo team and removed with it; never a real team's fallback for win rates.
        ALTER TABLE profiles ADD COLUMN demo BOOLEAN NOT NULL DEFAULT false;
        CREATE TABLE projections (
            team VARCHAR NOT NULL,
            rep VARCHAR NOT NULL,               -- the rep's name as on the snapshot; '' for the whole team
            as_of DATE NOT NULL,                -- the snapshot date the projection was made on
            method VARCHAR NOT NULL CHECK (method IN ('run-rate', 'pipeline-weighted', 'P50', 'commit')),
            period_start DATE NOT NULL,
            period_end DATE NOT NULL,
            projected DOUBLE NOT NULL,          -- the period's bookings, as projected that day
            currency VARCHAR NOT NULL,          -- the team's figures' currency that day
            recorded_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (team, rep, as_of, method)
        );
        """,
    ),
)


LATEST_VERSION = MIGRATIONS[-1][0]
