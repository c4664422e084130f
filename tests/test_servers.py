"""Two app servers and the command line on one PostgreSQL database, behind HAProxy, as a team runs them.

Sessions speak Streamlit's own protocol to the servers (tests/servers.py), so every write goes through the
Track page's editor (or the Accounts page's form) and its callback in a real ``streamlit run`` process.
Eight of them, four per server, hammer the same plan's actuals and the same account plan. Nothing
acknowledged is lost, a stale write is refused with its message, and when one server is killed (SIGKILL)
mid-write the other goes on serving.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from datetime import date

import pytest
from websockets.exceptions import ConnectionClosed

from planner import store
from planner.access import SYSTEM
from planner.demo import demo_team
from planner.milestones import REVENUE_COLUMN
from tests.backends import PostgresServer
from tests.servers import ROOT, Team, WireSession, app_servers

WRITERS = 8
EDITS = 6
#: The row of the Track table every writer edits (a week before the period, as the demo has it), and the
#: first of the rows each writer has to itself.
SHARED_ROW, OWN_ROWS = 3, 5
REFUSED = "was not saved; the table shows what is saved now"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="SIGKILL and HAProxy: Linux only")


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Team, int]]:
    from tests.backends import postgres_server

    server: PostgresServer = postgres_server()
    url = server.fresh()
    with store.connect(url) as con:
        plan_id = store.load_team(con, SYSTEM, demo_team(date.today()))[0]
    try:
        with app_servers(url, tmp_path_factory.mktemp("servers"), 2, proxy=True) as running:
            yield running, plan_id
    finally:
        server.drop(url)


def weeks(url: str, plan_id: int) -> list[store.RecordedWeek]:
    with store.connect(url, read_only=True) as con:
        return store.get_recorded_weeks(con, plan_id)


def row_week(session_rows: int, url: str, plan_id: int) -> date:
    """The week a row of the Track table stands for (the table starts at the plan's first prospecting week)."""
    with store.connect(url, read_only=True) as con:
        plan = store.get_plan(con, plan_id)
    from planner.funnel import build_plan
    from planner.milestones import WEEK_COLUMN, actuals_table

    assert plan is not None
    frame = actuals_table(build_plan(plan.inputs), [])
    return frame[WEEK_COLUMN].iloc[session_rows]


def test_a_write_on_one_server_refuses_a_stale_one_from_the_other_with_the_message(team) -> None:
    running, plan_id = team
    rep, manager = WireSession(running.url(0)), WireSession(running.url(1))
    try:
        rep.open_track(plan_id)
        manager.open_track(plan_id)  # both read the week now
        assert not [w for w in rep.edit(plan_id, 1, REVENUE_COLUMN, 4_321).warnings if REFUSED in w]
        refused = manager.edit(plan_id, 1, REVENUE_COLUMN, 9_999)
        assert any(REFUSED in w and "$4,321" in w and "$9,999" in w for w in refused.warnings), refused.warnings
        week = row_week(1, running.database, plan_id)
        assert {w.actual.week_start: w.actual.revenue for w in weeks(running.database, plan_id)}[week] == 4_321
        again = manager.edit(plan_id, 1, REVENUE_COLUMN, 9_999)  # the table now shows what is saved: it lands
        assert not [w for w in again.warnings if REFUSED in w]
        assert {w.actual.week_start: w.actual.revenue for w in weeks(running.database, plan_id)}[week] == 9_999
    finally:
        rep.close()
        manager.close()


def test_eight_writers_on_two_servers_lose_nothing_and_every_acknowledged_write_is_there(team) -> None:
    running, plan_id = team
    url = running.database
    with store.connect(url) as con:
        account = store.add_account(con, SYSTEM, "Acme", date(2027, 1, 1), date(2027, 12, 31))
    shared_week = row_week(SHARED_ROW, url, plan_id)
    before = {w.actual.week_start: w.version for w in weeks(url, plan_id)}
    acked: dict[int, list[float]] = {n: [] for n in range(WRITERS)}
    shared_acks: list[float] = []
    refusals: list[str] = []
    goals: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(WRITERS + 1)

    def writer(n: int) -> None:
        session = WireSession(running.url(n % 2))  # four on each server
        try:
            session.open_track(plan_id)
            start.wait()
            for k in range(EDITS):
                if k:
                    session.open_track(plan_id)  # back from the Accounts page
                row = SHARED_ROW if k % 2 == 0 else OWN_ROWS + n
                value = float(1_000 * (n + 1) + k)
                drawn = session.edit(plan_id, row, REVENUE_COLUMN, value)
                stale = [w for w in drawn.warnings if REFUSED in w]
                assert not drawn.toasts, drawn.toasts
                with lock:
                    if stale:
                        refusals.extend(stale)
                    elif row == SHARED_ROW:
                        shared_acks.append(value)
                    else:
                        acked[n].append(value)
                added = session.add_goal(f"goal {n}.{k}")  # and on the Accounts page, a goal for Acme
                assert not added.errors, added.errors
                with lock:
                    goals.append(f"goal {n}.{k}")
        except BaseException as error:
            failures.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    start.wait()
    for thread in threads:
        thread.join(timeout=600)
    assert not failures, failures

    after = {w.actual.week_start: w for w in weeks(url, plan_id)}
    # The shared week: each acknowledged write made exactly one version; the last one is what it holds.
    assert after[shared_week].version - before.get(shared_week, 0) == len(shared_acks) > 0
    assert after[shared_week].actual.revenue in shared_acks
    assert refusals, "eight writers on one week and no write was ever refused as stale"
    # Each writer's own week holds its last acknowledged value, every one of them counted.
    for n in range(WRITERS):
        own = row_week(OWN_ROWS + n, url, plan_id)
        assert after[own].actual.revenue == acked[n][-1]
        assert after[own].version - before.get(own, 0) == len(acked[n])
    # The account plan: every goal a writer was told was added is there, and nothing else.
    with store.connect(url, read_only=True) as con:
        plan = store.get_account_plan(con, account)
    assert plan is not None
    assert sorted(g.title for g in plan.goals) == sorted(goals)
    assert len(goals) == WRITERS * EDITS


def test_the_command_line_reads_while_both_servers_run(team) -> None:
    running, plan_id = team
    done = subprocess.run(
        [sys.executable, "-m", "planner.cli", "track", "--plan", str(plan_id), "--db", running.database, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_a_server_killed_mid_write_leaves_the_other_serving_and_nothing_committed_lost(team) -> None:
    running, plan_id = team
    url = running.database
    before = {w.actual.week_start: w.version for w in weeks(url, plan_id)}
    acked: dict[int, list[float]] = {n: [] for n in range(4)}
    cut_off: list[int] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    writing = threading.Barrier(5)

    def writer(n: int) -> None:  # even n on the server about to die, odd n on the other
        session = WireSession(running.url(n % 2))
        try:
            session.open_track(plan_id)
            writing.wait()
            for k in range(EDITS):
                value = float(50_000 + 100 * n + k)
                drawn = session.edit(plan_id, OWN_ROWS + n, REVENUE_COLUMN, value)
                if not [w for w in drawn.warnings if REFUSED in w]:
                    with lock:
                        acked[n].append(value)
        except ConnectionClosed:
            with lock:
                cut_off.append(n)
        except BaseException as error:
            failures.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    writing.wait()
    running.processes[0].send_signal(signal.SIGKILL)
    for thread in threads:
        thread.join(timeout=600)
    assert not failures, failures
    assert sorted(cut_off) == [0, 2]  # the sessions of the killed server lost it mid-work, and only they
    after = {w.actual.week_start: w for w in weeks(url, plan_id)}
    for n in range(4):
        own = row_week(OWN_ROWS + n, url, plan_id)
        made = after[own].version - before.get(own, 0)
        if n % 2:  # the surviving server: every write acknowledged and there
            assert made == len(acked[n]) == EDITS
            assert after[own].actual.revenue == acked[n][-1]
        else:  # the killed one: every acknowledged write there, and at most the one in flight besides
            assert len(acked[n]) <= made <= len(acked[n]) + 1
    # The proxy sends new sessions to the server still up, which serves them.
    with urllib.request.urlopen(f"http://127.0.0.1:{running.proxy_port}/_stcore/health", timeout=10) as answer:
        assert answer.read().strip() == b"ok"
    late = WireSession(f"http://127.0.0.1:{running.proxy_port}")
    try:
        late.open_track(plan_id)
        assert not late.edit(plan_id, SHARED_ROW, REVENUE_COLUMN, 77_777).toasts
    finally:
        late.close()
    assert {w.actual.week_start: w.actual.revenue for w in weeks(url, plan_id)}[
        row_week(SHARED_ROW, url, plan_id)
    ] == 77_777
