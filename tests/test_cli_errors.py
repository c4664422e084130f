"""The backplan command never shows a traceback: every failure is one line on stderr and a known status.

Each case below printed a Python traceback before; the property test at the end throws random
argument lists at the parser and every command and holds the same promise for all of them.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from planner import cli, store
from planner.access import SYSTEM
from planner.funnel import PlanInputs

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> tuple[int, str, str]:
    """``backplan ARGS`` in this process: (exit status, stdout, stderr), as the shell would see them."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            status = cli.main(list(args))
        except SystemExit as stopped:  # argparse's way out: --help, bad arguments
            code = stopped.code
            status = code if isinstance(code, int) else (0 if code is None else 1)
    return status, out.getvalue(), err.getvalue()


def assert_one_line_refusal(status: int, err: str, expected_status: int, *words: str) -> None:
    assert status == expected_status, err
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("backplan"), err
    for word in words:
        assert word.casefold() in err.casefold(), err


# --------------------------------------------------------------------------- dates at the calendar's edges


def test_a_period_starting_on_29_february_runs_to_28_february_next_year() -> None:
    status, out, err = run("plan", "--target", "1000", "--deal-size", "10", "--start", "2028-02-29", "--json")
    assert status == 0, err
    plan = json.loads(out)
    assert (plan["period_start"], plan["period_end"]) == ("2028-02-29", "2029-02-28")


def test_twelve_months_after_a_start_late_in_9999_is_refused_asking_for_an_end_date() -> None:
    status, _, err = run("plan", "--target", "1000", "--deal-size", "10", "--start", "9999-03-01")
    assert_one_line_refusal(status, err, 2, "--end")


def test_a_plan_in_the_last_year_of_the_calendar_is_computed() -> None:
    status, out, err = run(
        "plan", "--target", "1000", "--deal-size", "10", "--start", "9999-01-01", "--json"
    )  # twelve months from 1 Jan 9999 end on 31 Dec 9999
    assert status == 0, err
    assert json.loads(out)["period_end"] == "9999-12-31"


@pytest.mark.parametrize(
    "period", [("0001-01-01", "0001-12-31"), ("0001-01-01", "0001-01-20"), ("9999-01-01", "9999-12-31")]
)
@pytest.mark.parametrize("cadence", ["weekly", "monthly", "auto"])
def test_milestones_in_year_1_and_year_9999_are_counted_back_without_leaving_the_calendar(
    period: tuple[str, str], cadence: str
) -> None:
    start, end = period
    status, out, err = run(
        "milestones", "--target", "1000", "--start", start, "--end", end, "--cadence", cadence, "--json"
    )
    assert status == 0, err
    steps = json.loads(out)["milestones"]
    assert steps[-1] == {"date": end, "cumulative": 1000.0}
    assert all(start <= s["date"] <= end for s in steps)


def test_historical_milestones_through_december_9999() -> None:
    status, out, err = run(
        "milestones", "--target", "1200", "--start", "9999-01-01", "--end", "9999-12-31",
        "--shape", "historical", "--shares", ",".join(["1"] * 12), "--json",
    )  # fmt: skip
    assert status == 0, err
    assert json.loads(out)["milestones"][-1] == {"date": "9999-12-31", "cumulative": 1200.0}


def test_lags_that_would_start_prospecting_before_year_1_are_refused_naming_the_lags() -> None:
    status, _, err = run("plan", "--target", "1000", "--deal-size", "10", "--start", "0001-01-01", "--lags", "7,0,0")
    assert_one_line_refusal(status, err, 2, "lag")


def test_an_enormous_lag_is_refused_naming_the_stage_and_the_limit() -> None:
    status, _, err = run("plan", "--target", "1000", "--deal-size", "10", "--lags", "999999999,0,0")
    assert_one_line_refusal(status, err, 2, "lag after Connection requests", "730 days")


def seed(path: Path) -> int:
    """A database at ``path`` with one rep of team East and her H1 2027 plan; returns the plan's id."""
    con = store.connect(path)
    try:
        rep = store.add_rep(con, SYSTEM, "Ana Lima", team="East")
        return store.save_plan(
            con, SYSTEM, rep, "H1 2027", PlanInputs(100_000, 5_000, date(2027, 1, 4), date(2027, 6, 27))
        )
    finally:
        con.close()


@pytest.fixture
def saved_plan(database: Path) -> int:
    """A plan in the test's own database (BACKPLAN_DB points at it)."""
    return seed(database)


@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01"])
def test_track_on_the_first_or_last_day_of_the_calendar(saved_plan: int, as_of: str) -> None:
    status, out, err = run("track", "--plan", str(saved_plan), "--as-of", as_of, "--json")
    assert status == 0, err
    report = json.loads(out)
    assert report["as_of"] == as_of
    assert report["working_weeks_left"] == (0 if as_of.startswith("9999") else pytest.approx(25))


def test_review_on_the_last_day_of_the_calendar(saved_plan: int) -> None:
    status, out, err = run("review", "--team", "East", "--as-of", "9999-12-31", "--json")
    assert status == 0, err
    assert json.loads(out)["rows"][0]["rep"] == "Ana Lima"


# --------------------------------------------------------------------------- backup --db


def test_backup_of_a_folder_instead_of_a_database_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a folder").mkdir()
    status, _, err = run("backup", str(tmp_path / "copy"), "--db", str(tmp_path / "a folder"))
    assert_one_line_refusal(status, err, 1, "is a folder")
    assert not (tmp_path / "copy").exists()


def test_backup_of_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n")
    status, _, err = run("backup", str(tmp_path / "copy"), "--db", str(notes))
    assert_one_line_refusal(status, err, 1, "not a Backplan database")
    assert notes.read_text() == "not a database\n"
    assert not (tmp_path / "copy").exists()


def test_backup_of_a_missing_database_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo.duckdb"
    status, _, err = run("backup", str(tmp_path / "copy"), "--db", str(missing))
    assert_one_line_refusal(status, err, 1, "no database at")
    assert not missing.exists() and not (tmp_path / "copy").exists()


def test_track_of_a_file_that_is_not_a_database_says_so_without_blaming_a_lock(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n")
    status, _, err = run("track", "--plan", "1", "--db", str(notes))
    assert_one_line_refusal(status, err, 1, "not a Backplan database")
    assert "open for writing" not in err


# --------------------------------------------------------------------------- the wrapper around main


def test_an_unexpected_error_is_one_line_naming_the_command_and_the_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the planner fell over\nwith a second line")

    monkeypatch.setattr(cli, "build_plan", broken)
    status, out, err = run("plan", "--target", "1000", "--deal-size", "10")
    assert_one_line_refusal(status, err, 1, "plan", "RuntimeError", "the planner fell over", "BACKPLAN_DEBUG=1")
    assert out == ""


def test_backplan_debug_shows_the_traceback_for_developers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "build_plan", lambda *_: 1 / 0)
    monkeypatch.setenv("BACKPLAN_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        cli.main(["plan", "--target", "1000", "--deal-size", "10"])


def test_ctrl_c_is_one_line_and_status_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_plan", interrupted)
    try:
        status, _, err = run("plan", "--target", "1000", "--deal-size", "10")
    except KeyboardInterrupt:  # caught here, or pytest would take it for the tester's own Ctrl-C and stop
        pytest.fail("Ctrl-C escaped backplan as a traceback")
    assert_one_line_refusal(status, err, 130, "interrupted")


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--target", "1", "--deal-size", "1", "extra\nline"],
        ["plan", "--target", "1", "--deal-size", "1", "--stages", "a\nb,a\nb,c,d"],
        ["plan", "--target", "1", "--deal-size", "1", "--stages", "a\u2028b,a\u2028b,c,d"],
    ],
)
def test_a_line_break_typed_into_an_argument_stays_on_the_one_line(args: list[str]) -> None:
    status, _, err = run(*args)
    assert status == 2
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err


def test_piping_into_head_exits_quietly_with_status_141() -> None:
    # 141 = 128 + SIGPIPE: what the shell reports for `yes | head -1`, so `set -o pipefail` scripts see
    # the same status from backplan as from any other Unix tool whose reader went away.
    proc = subprocess.Popen(
        [sys.executable, "-m", "planner.cli", "plan", "--target", "385000", "--deal-size", "3850", "--json"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before a byte is written, as with `| head -0`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == ""


def test_a_real_process_shows_no_traceback_for_a_date_overflow() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "planner.cli", "plan", "--target", "1", "--deal-size", "1", "--lags", "999999999,0,0"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr


# --------------------------------------------------------------------------- random argument lists

ERAS = (date(1, 1, 1), date(2028, 2, 29), date(9999, 12, 31))
ODD_NUMBERS = ["0", "-1", "1e308", "-1e308", "1e400", "nan", "inf", "-inf", "", "1e-320", "9" * 40, "0x10", "1,5"]
ODD_DATES = ["2028-02-30", "0000-01-01", "10000-01-01", "", "2028-2-3", "today"]


def _date() -> st.SearchStrategy[str]:
    """Mostly a date near this example's era (one era per example, so a period stays years, not millennia,
    long), else text that is not a date."""
    era = st.shared(st.sampled_from(ERAS), key="era").map(date.toordinal)
    near = era.flatmap(lambda c: st.integers(max(1, c - 800), min(date.max.toordinal(), c + 800))).map(
        lambda n: date.fromordinal(n).isoformat()
    )
    return st.one_of(near, near, near, st.sampled_from(ODD_DATES))


def _number(plausible: st.SearchStrategy[int]) -> st.SearchStrategy[str]:
    """Mostly a plausible number, else one at the edge of what floats and ints hold, or not a number."""
    odd = st.one_of(st.sampled_from(ODD_NUMBERS), st.floats().map(repr), st.integers(-(10**30), 10**30).map(str))
    return st.one_of(plausible.map(str), plausible.map(str), plausible.map(str), odd)


TEXT = st.text(max_size=12)
#: The values of each flag; a list flag's items (it is "a,b,c" on the command line).
VALUES: dict[str, st.SearchStrategy[str]] = {
    "--target": _number(st.integers(1, 10**7)),
    "--deal-size": _number(st.integers(1, 10**5)),
    "--start": _date(),
    "--end": _date(),
    "--as-of": _date(),
    "--coverage": _number(st.integers(1, 6)),
    "--shape": st.one_of(st.sampled_from(["linear", "front-loaded", "back-loaded", "historical", "custom"]), TEXT),
    "--cadence": st.one_of(st.sampled_from(["auto", "weekly", "monthly"]), TEXT),
    "--fill": st.one_of(st.sampled_from(["linear", "front-loaded", "back-loaded", "historical"]), TEXT),
    "--plan": _number(st.sampled_from([1, 2])),
    "--team": st.one_of(st.just("East"), TEXT),
    "--rep": st.one_of(st.just("Ana Lima"), TEXT),
    "--without-top": _number(st.integers(0, 5)),
    "--preset": st.one_of(st.sampled_from(["salesforce", "hubspot", "generic"]), TEXT),
    "--sheet": st.one_of(st.just("Sheet1"), TEXT),
    "--date-order": st.one_of(st.sampled_from(["MDY", "DMY", "ymd"]), TEXT),
}
ITEMS: dict[str, st.SearchStrategy[str]] = {
    "--ratios": _number(st.integers(1, 9)),
    "--stages": st.one_of(st.sampled_from(["Calls", "Meetings", "Won", "calls", ""]), TEXT),
    "--lags": st.one_of(st.sampled_from(["0", "7", "730", "731", "999999999"]), _number(st.integers(0, 90))),
    "--holiday-weeks": _date(),
    "--custom": _number(st.integers(0, 10**6)),
    "--shares": _number(st.integers(0, 10)),
}
SWITCHES = ("--json", "--help")
#: Each command: its positional arguments (a path each), the flags it needs, and the ones it may take.
COMMANDS: dict[str, tuple[int, tuple[str, ...], tuple[str, ...]]] = {
    "plan": (0, ("--target", "--deal-size"),
             ("--ratios", "--stages", "--lags", "--start", "--end", "--holiday-weeks", "--coverage", "--json")),
    "milestones": (0, ("--target", "--start", "--end"),
                   ("--shape", "--cadence", "--custom", "--fill", "--shares", "--json")),
    "track": (0, ("--plan",), ("--as-of", "--db", "--json")),
    "review": (0, ("--team",), ("--as-of", "--db", "--json")),
    "forecast": (0, ("--team",), ("--rep", "--as-of", "--without-top", "--db", "--json")),
    "calibrate": (1, (), ("--preset", "--sheet", "--date-order", "--json")),
    "backup": (1, (), ("--db",)),
    "restore": (1, ("--to",), ()),
}  # fmt: skip


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Paths the random commands may name: all inside one temporary folder, never the project's data."""
    root = tmp_path_factory.mktemp("cli-fuzz")
    db = root / "team.duckdb"
    seed(db)
    (root / "folder").mkdir()
    (root / "folder" / "file.txt").write_text("x")
    (root / "notes.txt").write_text("not a database\n")
    (root / "deals.csv").write_text(
        "Deal,Stage,Amount,Created,Closed\n"
        "A,Closed Won,100,2026-01-01,2026-02-01\nB,Closed Lost,50,2026-01-02,2026-02-03\n"
    )
    return {"root": root, "db": db}


def _argv(places: dict[str, Path]) -> st.SearchStrategy[list[str]]:
    """A command with its arguments, mostly well formed, with odd values, flags of other commands and junk."""
    root = places["root"]
    fixed = [places["db"], root / "folder", root / "notes.txt", root / "deals.csv", root / "missing.duckdb", ""]
    fresh = st.integers(0, 10**9).map(lambda n: str(root / f"new-{n}"))  # a new backup folder or restored file
    path = st.one_of(st.sampled_from([str(f) for f in fixed]), fresh)
    flags = [*VALUES, *ITEMS, *SWITCHES, "--db", "--to"]

    @st.composite
    def command(draw: st.DrawFn, name: str) -> list[str]:
        positionals, needed, optional = COMMANDS[name]
        chosen = list(needed)
        if chosen and draw(st.integers(0, 9)) == 0:  # now and then a required flag is left out
            chosen.remove(draw(st.sampled_from(chosen)))
        chosen += draw(st.lists(st.sampled_from(optional), unique=True)) if optional else []
        if draw(st.integers(0, 4)) == 0:  # or one that belongs to another command, or is no flag at all
            chosen.append(draw(st.one_of(st.sampled_from([*flags, "--bogus"]), TEXT)))
        # Mostly as many ratios and lags as stages above the won one, as a funnel has.
        ratios = draw(st.integers(1, 4)) if "--ratios" in chosen else 3
        argv = [name, *draw(st.lists(path, min_size=positionals, max_size=positionals))]
        for flag in chosen:
            argv.append(flag)
            if flag in ("--db", "--to"):
                argv.append(draw(path))
            elif flag in VALUES:
                argv.append(draw(VALUES[flag]))
            elif flag in ITEMS:
                size = ratios + (flag == "--stages")
                count = draw(st.one_of(st.just(size), st.just(size), st.just(size), st.integers(0, 5)))
                argv.append(",".join(draw(st.lists(ITEMS[flag], min_size=count, max_size=count))))
        return argv

    return st.one_of(*[command(name) for name in COMMANDS], st.lists(TEXT, max_size=3))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_arguments_never_show_a_traceback(places: dict[str, Path], data: st.DataObject) -> None:
    argv = data.draw(_argv(places))
    status, _, err = run(*argv)
    command = argv[0] if argv and argv[0] in COMMANDS else "no such command"
    event(f"{command}: status {status}")  # see how deep the examples reach: --hypothesis-show-statistics
    assert status in (0, 1, 2), (argv, status, err)
    assert "Traceback" not in err, (argv, err)
    assert len(err.splitlines()) <= 1, (argv, err)
    if status:
        assert err.startswith("backplan") and err.endswith("\n"), (argv, err)
