"""The numbered schema migrations, append only: :func:`planner.store.migrate` applies each once."""

from __future__ import annotations

__all__ = ["LATEST_VERSION", "MIGRATIONS"]

#: (version, what it does, SQL). Append only: a released migration never changes.
#: No FOREIGN KEY clauses: DuckDB refuses ALTER TABLE on a table others reference,
#: which would block every later migration; the writes below keep children and
#: parents together in one transaction instead.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
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
        "accounts owned by a rep's id, not a name: names matching exactly one rep are mapped, the rest unassigned",
        # An owner name matching one rep (ignoring case and surrounding spaces; names are unique, so at most
        # one can match) becomes that rep's id. Any other account is unassigned: only sales ops see and
        # change it until they give it an owner. The typed name stays in `owner` as a label either way.
        """
        ALTER TABLE accounts ADD COLUMN owner_rep_id INTEGER;  -- NULL: unassigned, for sales ops only
        UPDATE accounts SET owner_rep_id = (
            SELECT min(r.id) FROM reps r WHERE lower(trim(r.name)) = lower(trim(accounts.owner))
            HAVING count(*) = 1
        ) WHERE trim(owner) <> '';
        """,
    ),
    (
        8,
        "a version on each rep, who changed them last and when; demo people marked as such",
        """
        ALTER TABLE reps ADD COLUMN version INTEGER NOT NULL DEFAULT 1;  -- +1 on every change
        ALTER TABLE reps ADD COLUMN changed_by VARCHAR NOT NULL DEFAULT '';
        ALTER TABLE reps ADD COLUMN changed_at TIMESTAMP;
        ALTER TABLE reps ADD COLUMN demo BOOLEAN NOT NULL DEFAULT false;  -- loaded with the demo team
        """,
    ),
)


LATEST_VERSION = MIGRATIONS[-1][0]
