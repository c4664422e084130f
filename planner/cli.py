"""The ``backplan`` command: the same math as the app, headless, JSON out.

backplan plan --target 385000 --deal-size 3850 --ratios 2,2,2 --json

It never shows a traceback: a bad argument is one line on stderr and exit
status 2 (as argparse does), any other failure one line and status 1, Ctrl-C
status 130, and a reader that goes away (``| head``) ends it quietly with
status 141, as SIGPIPE ends other Unix tools. ``BACKPLAN_DEBUG=1`` lets an
unexpected error's traceback through, for developers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from planner.access import SYSTEM
from planner.calibrate import CalibrationError, calibrate_export, summary_dict
from planner.funnel import (
    DEFAULT_STAGES,
    DEFAULT_WON_STAGE,
    FunnelPlan,
    PlanInputError,
    PlanInputs,
    Stage,
    build_plan,
    default_period,
    levers,
    twelve_months_from,
)
from planner.imports import DATE_ORDERS, DEAL_FIELDS, OUTCOMES, PRESET_NAMES, ImportFailure, read_export_file
from planner.milestones import (
    CADENCES,
    FILL_SHAPES,
    SHAPES,
    MilestoneError,
    bookings,
    build_milestones,
    plan_pace,
    recovery_plan,
)
from planner.units import CURRENCIES, ratio_label

if TYPE_CHECKING:
    import duckdb

    from planner.forecast import ForecastRange, RangeRow
    from planner.team import ReviewInput

T = TypeVar("T")

# The database (duckdb, planner.store) and the team review are imported by the commands that use them: importing
# them costs a command that needs neither, such as calibrating a file, a sixth of a second.

#: The --db option's help, for every command that reads or backs up the database.
_DB_HELP = "database file or postgresql:// URL (default: BACKPLAN_DB, else data/backplan.duckdb)"

__all__ = ["main", "plan_to_dict"]


#: Exit status when the reader of our output went away: 128 + SIGPIPE, what the shell reports for `yes | head`.
BROKEN_PIPE_STATUS = 141
#: Exit status after Ctrl-C: 128 + SIGINT.
INTERRUPTED_STATUS = 130


def _one_line(text: str) -> str:
    """``text`` on one line: a line break or other control character typed into an argument shows escaped."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit status 2, and every refusal one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, _one_line(f"{self.prog}: error: {message}") + "\n")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        super().exit(status, None if message is None else _one_line(message.rstrip("\n")) + "\n")


def _list(kind: Callable[[str], Any], what: str) -> Callable[[str], list[Any]]:
    """An argparse type for "a,b,c" lists of ``kind``."""

    def parse(text: str) -> list[Any]:
        try:
            return [kind(item.strip()) for item in text.split(",")]
        except (ValueError, argparse.ArgumentTypeError):
            raise argparse.ArgumentTypeError(f"expected {what} separated by commas, got {text!r}") from None

    return parse


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def _field_column(text: str) -> tuple[str, str]:
    field, equals, column = text.partition("=")
    field = field.strip()
    if not equals or not field:
        raise argparse.ArgumentTypeError(f"write FIELD=COLUMN, as stage=STAGE_ID, not {text!r}")
    if field not in DEAL_FIELDS:
        raise argparse.ArgumentTypeError(f"“{field}” is not a field; the fields: {', '.join(DEAL_FIELDS)}")
    return field, column.strip()


def _currency_code(text: str) -> str:
    code = text.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise argparse.ArgumentTypeError(f"a currency is a three-letter code such as USD, not {text!r}")
    return code


def _rate(text: str) -> tuple[str, float]:
    code, equals, value = text.partition("=")
    try:
        rate = float(value)
        code = _currency_code(code)
    except (ValueError, argparse.ArgumentTypeError):
        rate = math.nan
    if not equals or not math.isfinite(rate) or rate <= 0:
        raise argparse.ArgumentTypeError(f"write CODE=RATE with a rate above 0, as EUR=1.08, not {text!r}")
    return code, rate


#: The most deals ``--without-top`` leaves out: beyond a team's handful of big deals it says nothing new.
MOST_LEFT_OUT = 100


def _deal_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = -1
    if not 0 <= count <= MOST_LEFT_OUT:
        raise argparse.ArgumentTypeError(f"a whole number of deals from 0 to {MOST_LEFT_OUT}, not {text!r}")
    return count


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="backplan",
        description="Backward sales planning: from the revenue target to the weekly activity it takes.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    plan = commands.add_parser(
        "plan",
        help="walk the funnel back from a revenue target",
        description="Walk the funnel back from a revenue target to deals, stage totals and weekly activity.",
        epilog="example: backplan plan --target 385000 --deal-size 3850 --ratios 2,2,2 --json",
    )
    plan.add_argument("--target", type=float, required=True, help="revenue to book in the period")
    plan.add_argument("--deal-size", type=float, required=True, help="average value of a won deal")
    plan.add_argument(
        "--ratios",
        type=_list(float, "numbers"),
        default=[s.ratio for s in DEFAULT_STAGES],
        help="N of each stage per 1 of the next, top of the funnel down (default 2,2,2)",
    )
    plan.add_argument(
        "--stages",
        type=_list(str, "names"),
        help="stage names top down, the won stage last: one more name than ratios "
        f"(default {','.join(s.name for s in DEFAULT_STAGES)},{DEFAULT_WON_STAGE})",
    )
    plan.add_argument("--lags", type=_list(int, "whole days"), help="days from each stage to the next, one per ratio")
    plan.add_argument("--start", type=_iso_date, help="period start, YYYY-MM-DD (default: first of next month)")
    plan.add_argument("--end", type=_iso_date, help="period end, YYYY-MM-DD (default: twelve months after the start)")
    plan.add_argument(
        "--holiday-weeks", type=_list(_iso_date, "YYYY-MM-DD dates"), default=[], help="any day of each week not worked"
    )
    plan.add_argument("--coverage", type=float, default=3.0, help="pipeline coverage ratio (default 3)")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.set_defaults(handler=_plan_command, subparser=plan)

    steps = commands.add_parser(
        "milestones",
        help="cumulative checkpoints counted back from the target date",
        description="Cumulative checkpoints counted back from the target date, in the shape you choose.",
        epilog="example: backplan milestones --target 50000 --start 2026-12-01 --end 2026-12-28 "
        "--shape custom --custom 42000,30000,20000 --json",
    )
    steps.add_argument("--target", type=float, required=True, help="revenue to book by the end date")
    steps.add_argument("--start", type=_iso_date, required=True, help="period start, YYYY-MM-DD")
    steps.add_argument("--end", type=_iso_date, required=True, help="target date, YYYY-MM-DD")
    steps.add_argument("--shape", choices=SHAPES, default="linear", help="how the target is spread (default linear)")
    steps.add_argument(
        "--cadence",
        choices=("auto", *CADENCES),
        default="auto",
        help="weekly or monthly checkpoints (default: weekly for a quarter, else monthly)",
    )
    steps.add_argument(
        "--custom",
        type=_list(float, "amounts"),
        help="for --shape custom: amounts booked with 1, 2, 3 ... checkpoints to go",
    )
    steps.add_argument(
        "--fill",
        choices=FILL_SHAPES,
        default="linear",
        help="for --shape custom: the shape the checkpoints not given follow (default linear)",
    )
    steps.add_argument(
        "--shares",
        type=_list(float, "numbers"),
        help="for --shape historical: one share per checkpoint, or 12 calendar-month shares",
    )
    steps.add_argument("--json", action="store_true", help="print the checkpoints as JSON")
    steps.set_defaults(handler=_milestones_command, subparser=steps)

    track = commands.add_parser(
        "track",
        help="attainment, gap, projection and required pace of a saved plan",
        description="Where a saved plan stands: attainment, gap to the latest milestone, run-rate projection, "
        "the weekly pace now required and the recovery plan, read from the database.",
        epilog="example: backplan track --plan 1 --json",
    )
    track.add_argument("--plan", type=int, required=True, help="the saved plan's id")
    track.add_argument("--as-of", type=_iso_date, help="the day to judge it on, YYYY-MM-DD (default today)")
    track.add_argument("--db", help=_DB_HELP)
    track.add_argument("--json", action="store_true", help="print the figures as JSON")
    track.set_defaults(handler=_track_command, subparser=track)

    review = commands.add_parser(
        "review",
        help="the manager's weekly review of a team, from the database",
        description="One row per rep (target, booked, milestone to date, attainment, pipeline, coverage, "
        "projections, status) and the team's totals, worst first.",
        epilog="example: backplan review --team 'Mid-Market East' --json",
    )
    review.add_argument("--team", required=True, help="the team's name, as on the Team review page")
    review.add_argument("--as-of", type=_iso_date, help="the day to judge it on, YYYY-MM-DD (default today)")
    review.add_argument(
        "--currency",
        choices=list(CURRENCIES),
        help="add every plan up in this currency, with the rates entered on Team review "
        "(default: the one most of the team's plans are in)",
    )
    review.add_argument("--db", help=_DB_HELP)
    review.add_argument("--json", action="store_true", help="print the review as JSON")
    review.set_defaults(handler=_review_command, subparser=review)

    ahead = commands.add_parser(
        "forecast",
        help="will the team hit it: a range from the open deals, the chance, and how accurate past forecasts were",
        description="The forecast range (P10 / P50 / P90) and the chance of hitting the target, per rep and for "
        "the team, from the latest pipeline snapshot and the calibrated win rates; without the largest open "
        "deals if asked; the forecast categories; and each projection method's error over finished periods.",
        epilog="example: backplan forecast --team 'Mid-Market East' --without-top 1 --json",
    )
    ahead.add_argument("--team", required=True, help="the team's name, as on the Team review page")
    ahead.add_argument("--rep", help="only this rep's rows (the team's are always shown)")
    ahead.add_argument("--as-of", type=_iso_date, help="the day to forecast on, YYYY-MM-DD (default today)")
    ahead.add_argument(
        "--without-top",
        type=_deal_count,
        default=0,
        metavar="N",
        help="leave the team's N largest open deals out: what if they slip (default 0: every deal)",
    )
    ahead.add_argument(
        "--currency", choices=list(CURRENCIES), help="add every plan up in this currency (default: as review does)"
    )
    ahead.add_argument("--db", help=_DB_HELP)
    ahead.add_argument("--json", action="store_true", help="print the forecast as JSON")
    ahead.set_defaults(handler=_forecast_command, subparser=ahead)

    calibrate = commands.add_parser(
        "calibrate",
        help="ratios from a CRM export (CSV or .xlsx)",
        description="Read last year's deals and print win rates, deal size, cycle and stage conversion. The page's "
        "choices, headless: which column is which field, which stages are won or lost, the funnel's order, the "
        "currency and exchange rates, and a stage-history file.",
        epilog="example: backplan calibrate deals.csv OpportunityHistory.csv --map stage=STAGE_ID "
        "--won C2:WON --rate EUR=1.08 --json",
    )
    calibrate.add_argument("file", help="the export: CSV (any delimiter or encoding) or .xlsx")
    calibrate.add_argument(
        "history", nargs="?", help="a stage-history export to go with it (Salesforce OpportunityHistory)"
    )
    calibrate.add_argument("--preset", choices=PRESET_NAMES, help="the export's layout (default: recognised)")
    calibrate.add_argument("--sheet", help="the .xlsx sheet to read (default: the first)")
    calibrate.add_argument(
        "--date-order", choices=DATE_ORDERS, type=str.upper, help="for dates like 03/04/2025: month or day first"
    )
    calibrate.add_argument(
        "--map",
        action="append",
        type=_field_column,
        default=[],
        metavar="FIELD=COLUMN",
        help=f"the column holding a field (repeatable; FIELD= for none): {', '.join(DEAL_FIELDS)}",
    )
    for outcome in OUTCOMES:
        calibrate.add_argument(f"--{outcome}", action="append", default=[], metavar="STAGE",
                               help=f"a stage that means {outcome} (repeatable)")  # fmt: skip
    calibrate.add_argument(
        "--stage",
        action="append",
        default=[],
        metavar="STAGE",
        dest="stages",
        help="the funnel's stages in order, top first, the won stage last (repeatable)",
    )
    calibrate.add_argument("--currency", type=_currency_code, help="the profile's currency (default: of most deals)")
    calibrate.add_argument(
        "--rate",
        action="append",
        type=_rate,
        default=[],
        metavar="CODE=RATE",
        help="1 CODE is RATE of the profile's currency, to count those deals' amounts (repeatable)",
    )
    calibrate.add_argument("--json", action="store_true", help="print JSON")
    calibrate.set_defaults(handler=_calibrate_command, subparser=calibrate)

    backup = commands.add_parser(
        "backup",
        help="copy the whole database into a new folder (DuckDB EXPORT DATABASE)",
        description="Copy every plan, actual, profile and account plan into FOLDER, which must be new or empty: "
        "SQL scripts and one Parquet file per table. Restore it with `backplan restore`.",
        epilog="example: backplan backup backups/$(date +%%F)",
    )
    backup.add_argument("folder", help="where to write the backup (a new or empty folder)")
    backup.add_argument("--db", help=_DB_HELP)
    backup.set_defaults(handler=_backup_command, subparser=backup)

    restore = commands.add_parser(
        "restore",
        help="build a new database file from a backup folder",
        description="Build a new database file from a `backplan backup` folder; an existing file is never "
        "overwritten. Point BACKPLAN_DB at the new file and restart the app.",
        epilog="example: backplan restore backups/2026-11-22 --to data/restored.duckdb",
    )
    restore.add_argument("folder", help="the backup folder")
    restore.add_argument(
        "--to", required=True, metavar="PATH", help="the new database file, or an empty postgresql:// database"
    )
    restore.set_defaults(handler=_restore_command, subparser=restore)

    copy_db = commands.add_parser(
        "copy-db",
        help="copy a whole database, DuckDB file or PostgreSQL, into another; every row checked",
        description="Copy every table from one database to another (a DuckDB file or a postgresql:// URL each), in "
        "one transaction, then read both back and compare every table row by row. The target must hold no data "
        "unless --replace. Stop the app on a DuckDB source first (DuckDB lets one process open the file).",
        epilog="example: backplan copy-db --from data/backplan.duckdb --to postgresql://backplan@db.internal/backplan",
    )
    copy_db.add_argument("--from", dest="source", required=True, metavar="DB", help="the database to copy")
    copy_db.add_argument("--to", dest="target", required=True, metavar="DB", help="the database to copy into")
    copy_db.add_argument("--replace", action="store_true", help="remove what the target holds, in the same transaction")
    copy_db.add_argument("--json", action="store_true", help="print each table's rows as JSON")
    copy_db.set_defaults(handler=_copy_db_command, subparser=copy_db)
    return parser


def _stage_names(count: int, given: list[str] | None, parser: argparse.ArgumentParser) -> list[str]:
    if given is not None:
        if len(given) != count + 1:
            parser.error(f"--stages needs {count + 1} names (one per ratio, then the won stage), got {len(given)}")
        return given
    if count == len(DEFAULT_STAGES):
        return [s.name for s in DEFAULT_STAGES] + [DEFAULT_WON_STAGE]
    return [f"Stage {n}" for n in range(1, count + 1)] + [DEFAULT_WON_STAGE]


def _inputs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> PlanInputs:
    ratios: list[float] = args.ratios
    names = _stage_names(len(ratios), args.stages, parser)
    lags: list[int] = args.lags if args.lags is not None else [0] * len(ratios)
    if len(lags) != len(ratios):
        parser.error(f"--lags needs one value per ratio ({len(ratios)}), got {len(lags)}")
    if args.start is None:
        start, end = default_period(date.today())
        end = args.end or end
    else:
        start = args.start
        end = args.end or twelve_months_from(start)
    return PlanInputs(
        target=args.target,
        deal_size=args.deal_size,
        period_start=start,
        period_end=end,
        stages=tuple(Stage(n, r, lag) for n, r, lag in zip(names[:-1], ratios, lags, strict=True)),
        won_stage=names[-1],
        holiday_weeks=tuple(args.holiday_weeks),
        coverage_ratio=args.coverage,
    )


def plan_to_dict(plan: FunnelPlan) -> dict[str, Any]:
    """A plan as plain JSON-ready data: the contract of ``backplan plan --json``."""
    inputs = plan.inputs
    names = [s.name for s in plan.stages]
    return {
        "target": inputs.target,
        "deal_size": inputs.deal_size,
        "deals_exact": plan.deals_exact,
        "deals_needed": plan.deals_needed,
        "period_start": inputs.period_start.isoformat(),
        "period_end": inputs.period_end.isoformat(),
        "working_days": plan.working_days,
        "working_weeks": plan.working_weeks,
        "start_by": plan.start_by.isoformat(),
        "coverage_ratio": inputs.coverage_ratio,
        "overall_win_rate": plan.overall_win_rate,
        "stages": [asdict(s) | {"conversion_rate": s.conversion_rate} for s in plan.stages],
        "pipeline_coverage": [asdict(c) | {"month": c.month.isoformat()} for c in plan.coverage],
        "weeks": [
            {
                "week_start": str(week),
                "working_days": int(days),
                "in_period": bool(inside),
                "activity": dict(zip(names, (int(n) for n in counts), strict=True)),
            }
            for week, days, inside, counts in zip(
                plan.week_starts, plan.week_working_days, plan.week_in_period, plan.weekly.T, strict=True
            )
        ],
        "levers": [asdict(lv) for lv in levers(inputs)],
    }


def _print_plan(plan: FunnelPlan) -> None:
    inputs = plan.inputs
    print(f"{inputs.target:,.0f} at {inputs.deal_size:,.0f} a deal: {plan.deals_needed:,} deals needed")
    print(
        f"{inputs.period_start} to {inputs.period_end}: {plan.working_days} working days "
        f"({plan.working_weeks:.1f} working weeks); start prospecting by {plan.start_by}"
    )
    print()
    width = max(len(s.name) for s in plan.stages)
    print(f"{'Stage':<{width}}  {'Ratio':<20}  {'Total':>8}  {'Per week':>9}  {'Per day':>8}")
    for s in plan.stages:
        ratio = ratio_label(s.ratio) if s.ratio else ""
        print(f"{s.name:<{width}}  {ratio:<20}  {s.total:>8,}  {s.per_week:>9.1f}  {s.per_day:>8.1f}")


def _plan_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        plan = build_plan(_inputs(args, parser))
    except PlanInputError as error:
        parser.error(str(error).replace("an end date", "an --end date"))
    if args.json:
        json.dump(plan_to_dict(plan), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        _print_plan(plan)
    return 0


def _milestones_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        checkpoints = build_milestones(
            args.target,
            args.start,
            args.end,
            args.cadence,
            args.shape,
            shares=args.shares,
            custom_to_go=args.custom,
            fill=args.fill,
        )
    except MilestoneError as error:
        parser.error(str(error))
    rows = [{"date": m.due.isoformat(), "cumulative": m.cumulative} for m in checkpoints]
    if args.shape == "custom":  # which checkpoints the --fill shape set
        rows = [row | {"filled": m.filled} for row, m in zip(rows, checkpoints, strict=True)]
    if args.json:
        out = {
            "target": args.target,
            "period_start": args.start.isoformat(),
            "period_end": args.end.isoformat(),
            "shape": args.shape,
            "cadence": args.cadence,
            "milestones": rows,
        }
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        for row in rows:
            print(f"{row['date']}  {row['cumulative']:>14,.0f}{'  (filled)' if row.get('filled') else ''}")
    return 0


def _open_database(
    args: argparse.Namespace, parser: argparse.ArgumentParser, *, read_only: bool = True
) -> duckdb.DuckDBPyConnection:
    """The existing database ``--db`` (or BACKPLAN_DB) names, or exit 1 with one line that says why not.

    A path with no database at it is refused, never created: a typo must not back up a new, empty one.
    """
    import duckdb

    from planner import store

    if store.is_server_url(args.db or store.default_target()):
        try:
            return store.connect(args.db or store.default_target(), read_only=read_only)
        except store.StoreError as error:  # not reachable, or at an older schema: the store says which
            parser.exit(1, f"{parser.prog}: error: {error}\n")
    target = Path(args.db).expanduser() if args.db else store.default_path()
    if target.is_dir():
        parser.exit(1, f"{parser.prog}: error: {target} is a folder — give the path of the database file in it\n")
    if not target.exists():
        parser.exit(1, f"{parser.prog}: error: There is no database at {target} — check the path, or set BACKPLAN_DB\n")
    try:
        return store.connect(target, read_only=read_only)
    except store.StoreError as error:  # in use by the app, or at an older schema: the store says which
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    except duckdb.Error as error:
        parser.exit(1, f"{parser.prog}: error: {target} is not a Backplan database ({_first_line(error)})\n")


def _first_line(error: BaseException) -> str:
    """The first line of what ``error`` says, or its kind when it says nothing."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _known_team(con: duckdb.DuckDBPyConnection, team: str, parser: argparse.ArgumentParser) -> None:
    """Exit 1 with the teams there are unless ``team`` is one of them."""
    from planner import store

    teams = [name for name, _ in store.list_teams(con)]
    if team not in teams:
        known = ", ".join(teams) or "none yet"
        parser.exit(1, f"{parser.prog}: error: there is no team {team!r}; teams: {known}\n")


def _team_reads(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    as_of: date,
    more: Callable[[duckdb.DuckDBPyConnection], T],
) -> tuple[list[ReviewInput], dict[tuple[str, str], float], T]:
    """``--team``'s plans on ``as_of``, the exchange rates, and what ``more`` reads, from the database given."""
    from planner import store

    con = _open_database(args, parser)
    try:
        _known_team(con, args.team, parser)
        reps = store.review_inputs(con, args.team, as_of)
        rates = {(r.from_currency, r.to_currency): r.rate for r in store.list_rates(con)}
        return reps, rates, more(con)
    finally:
        con.close()


def _latest_pipeline(con: duckdb.DuckDBPyConnection, team: str, as_of: date) -> tuple[date | None, Any]:
    from planner import store

    snapshot_date = store.latest_snapshot_date(con, team, as_of)
    return snapshot_date, store.get_snapshot(con, team, snapshot_date) if snapshot_date else None


def _review_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from planner.team import STATUS_RULE, RepReview, team_rollup

    as_of = args.as_of or date.today()
    reps, rates, (snapshot_date, pipeline) = _team_reads(
        args, parser, as_of, lambda con: _latest_pipeline(con, args.team, as_of)
    )
    rollup = team_rollup(reps, as_of, pipeline, args.currency, rates)
    review, view = rollup.review, rollup.view

    def row(r: RepReview) -> dict[str, Any]:
        return {
            "rep": r.rep,
            "plan": r.plan_name,
            "status": r.status,
            "target": r.target,
            "booked": r.booked,
            "milestone_to_date": r.milestone,
            "attainment": r.attainment,
            "ahead_behind": r.gap,
            "pipeline_in_period": r.pipeline,
            "coverage_of_remaining": None if math.isinf(r.coverage) else r.coverage,
            "required_coverage": r.required_coverage,
            "run_rate_projection": r.run_rate_projection,
            "weighted_projection": r.weighted_projection,
        }

    report = {
        "team": args.team,
        "as_of": as_of.isoformat(),
        "currency": view.currency,
        "left_out": list(view.left_out),
        "missing_rates": [f"{c} to {view.currency}" for c in view.missing],
        "pipeline_snapshot": snapshot_date.isoformat() if snapshot_date else None,
        "status_rule": STATUS_RULE.replace("**", ""),
        "totals": row(review.totals),
        "rows": [row(r) for r in review.rows],
    }
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
        return 0
    print(f"{args.team} on {as_of}: {review.totals.booked:,.0f} of {review.totals.target:,.0f} {view.currency} booked")
    if view.left_out:
        print(f"  left out, no rate from {' or '.join(view.missing)} to {view.currency}: {', '.join(view.left_out)}")
    for r in review.rows:
        print(
            f"  {r.status:<9} {r.rep}: {r.attainment:.0%}, {r.gap:+,.0f} against the milestone, coverage "
            f"{'—' if math.isinf(r.coverage) else f'{r.coverage:.1f}×'} of {r.required_coverage:g}× needed"
        )
    return 0


def _finite(value: float) -> float | None:
    """A figure for JSON: None where it is infinite (coverage once the target is booked)."""
    return value if math.isfinite(value) else None


def _range_row(r: RangeRow) -> dict[str, Any]:
    return {
        "rep": r.rep,
        "target": r.target,
        "booked": r.booked,
        "p10": r.p10,
        "p50": r.p50,
        "p90": r.p90,
        "chance_of_hitting": r.chance_of_hitting,
        "expected": r.expected,
        "pipeline_in_period": r.pipeline,
        "open_deals": r.deals,
        "coverage_of_remaining": _finite(r.coverage),
        "largest_deal": r.largest_deal,
        "largest_deal_share": r.concentration,
        "concentrated": r.concentrated,
    }


def _forecast_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from planner import store
    from planner.calibrate import Calibration
    from planner.forecast import (
        TEAM,
        TEAM_LABEL,
        forecast_accuracy,
        headline_method,
        period_actuals,
        recovery_asks,
        team_outlook,
    )
    from planner.team import team_rollup

    as_of = args.as_of or date.today()
    reps, rates, sources = _team_reads(args, parser, as_of, lambda con: store.forecast_sources(con, args.team, as_of))
    rollup = team_rollup(reps, as_of, sources.pipeline, args.currency, rates)
    view, review = rollup.view, rollup.review
    if args.rep is not None and args.rep not in {r.rep for r in review.rows}:
        known = ", ".join(r.rep for r in review.rows[:20]) or "none with a plan"
        parser.exit(1, f"{parser.prog}: error: {args.team} has no rep {args.rep!r} with a plan; reps: {known}\n")
    profile = Calibration.from_dict(sources.profile_result) if sources.profile_result else None
    outlook = team_outlook(
        args.team,
        view,
        review,
        sources.pipeline,
        profile,
        history=sources.history,
        slips=sources.slips,
        profile_name=sources.profile.name if sources.profile else "",
        profile_plans=sources.profile_plans,
        plans=sources.plans,
        without_top=sorted({1, 3, args.without_top} - {0}),
    )
    result = outlook.forecast
    if result is None:
        parser.exit(1, f"{parser.prog}: error: {outlook.missing}\n")
    accuracy = forecast_accuracy(
        sources.projections.get(view.currency, []), period_actuals(sources.finished, view.currency, rates)
    )
    method, why = headline_method(outlook, accuracy)
    scenario = result.without_top(args.without_top)
    shown = [r for r in scenario.rows if args.rep in (None, r.rep)]
    wanted = {TEAM, *(r.rep for r in shown)}
    categories = outlook.categories
    report = {
        "team": args.team,
        "as_of": as_of.isoformat(),
        "currency": view.currency,
        "left_out": list(view.left_out),
        "pipeline_snapshot": sources.snapshot_date.isoformat() if sources.snapshot_date else None,
        "profile": sources.profile.name if sources.profile else None,
        "simulations": result.simulations,
        "seed": result.seed,
        "headline": {"method": method, "projection": outlook.projection(method), "why": why},
        "without_top": args.without_top,
        "left_out_deals": list(scenario.removed),
        "left_out_amount": scenario.removed_amount,
        "concentration_flag": result.concentration_flag,
        "team_range": _range_row(scenario.team),
        "with_every_deal": _range_row(result.base.team) if args.without_top else None,
        "reps": [_range_row(r) for r in shown],
        "recovery": recovery_asks([r for r in view.reps if r.rep in wanted], scenario, as_of)
        .rename(columns=lambda c: c.lower().replace(" ", "_"))
        .to_dict("records"),
        "categories": None
        if categories is None
        else [
            {k.lower().replace(" ", "_").replace("−", "minus"): v for k, v in row.items()}
            for row in categories.table().to_dict("records")
            if row["Rep"] in {TEAM_LABEL, *wanted}
        ],
        "accuracy": {
            "best_method": accuracy.best_method,
            "rows": [asdict(r) | {"rep": r.rep or TEAM_LABEL} for r in accuracy.rows if r.rep in wanted],
            "notes": list(accuracy.notes),
        },
        "assumptions": list(outlook.assumptions),
        "notes": list(result.notes),
    }
    if args.json:
        json.dump(report, sys.stdout, indent=2, allow_nan=False, ensure_ascii=False)
        print()
        return 0
    _print_forecast(args, report, scenario)
    return 0


def _print_forecast(args: argparse.Namespace, report: dict[str, Any], scenario: ForecastRange) -> None:
    team, currency = report["team_range"], report["currency"]
    print(
        f"{args.team} on {report['as_of']}, in {currency}: pipeline snapshot of {report['pipeline_snapshot']}, "
        f"{report['simulations']:,} simulated periods"
    )
    if scenario.without_top:
        print(f"without the {len(scenario.removed)} largest open deal(s) ({', '.join(scenario.removed)}, "
              f"{scenario.removed_amount:,.0f})")  # fmt: skip
    print(
        f"Team: {team['booked']:,.0f} booked of {team['target']:,.0f}; P10 {team['p10']:,.0f} · P50 "
        f"{team['p50']:,.0f} · P90 {team['p90']:,.0f}; chance of hitting {team['chance_of_hitting']:.0%}"
    )
    headline = report["headline"]
    print(f"headline: {headline['method']} {headline['projection']:,.0f} ({headline['why']})")
    rows = [("Rep", "Target", "Booked", "P10", "P50", "P90", "Chance", "Coverage", "Largest")]
    for r in report["reps"]:
        coverage = "—" if r["coverage_of_remaining"] is None else f"{r['coverage_of_remaining']:.1f}×"
        flag = "!" if r["concentrated"] else ""
        rows.append((r["rep"], *(f"{r[k]:,.0f}" for k in ("target", "booked", "p10", "p50", "p90")),
                     f"{r['chance_of_hitting']:.0%}", coverage, f"{r['largest_deal_share']:.0%}{flag}"))  # fmt: skip
    _print_table(rows)
    print(f"(! the largest deal is over {report['concentration_flag']:.0%} of the rep's pipeline)")
    accuracy = report["accuracy"]
    if not accuracy["rows"]:
        print("accuracy: no period with recorded projections has finished yet")
        return
    print(f"accuracy over finished periods (most accurate for the team: {accuracy['best_method']})")
    _print_table([("Rep", "Method", "Projections", "Error %", "Bias %")] + [
        (r["rep"], r["method"], f"{r['projections']:,}", f"{r['mape']:.1%}", f"{r['bias']:+.1%}")
        for r in accuracy["rows"]
    ])  # fmt: skip


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    """Rows of text in columns: the first left-aligned, the rest right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [row[0].ljust(widths[0]), *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True))]
        print("  ".join(cells).rstrip())


def _track_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from planner import store

    con = _open_database(args, parser)
    try:
        saved = store.get_plan(con, args.plan)
        if saved is None:
            parser.exit(1, f"{parser.prog}: error: there is no plan {args.plan}\n")
        steps = store.get_milestones(con, args.plan)
        weeks = store.get_actuals(con, args.plan)
    finally:
        con.close()
    inputs = saved.inputs
    as_of = args.as_of or date.today()
    weekly, daily = bookings(weeks)
    progress = plan_pace(inputs, steps, weekly, as_of, daily)  # ahead or behind as Track says it
    recovery = recovery_plan(build_plan(inputs), progress, weeks)
    latest = progress.latest_milestone

    def finite(value: float) -> float | None:
        return value if value != float("inf") else None

    report = {
        "plan": {"id": saved.id, "name": saved.name, "rep_id": saved.rep_id},
        "as_of": as_of.isoformat(),
        "target": progress.target,
        "booked": progress.booked,
        "attainment": progress.attainment,
        "latest_milestone": {"date": latest.due.isoformat(), "cumulative": latest.cumulative} if latest else None,
        "due_to_date": progress.due_to_date,
        "gap": progress.gap_to_milestone,
        "behind": progress.behind,
        "run_rate_projection": progress.run_rate_projection,
        "remaining": progress.remaining,
        "working_weeks_left": progress.working_weeks_left,
        "required_per_week": finite(progress.required_per_week),
        "planned_per_week": finite(progress.planned_per_week),
        "recovery": {
            "deals_needed": recovery.deals_needed,
            "cycle_too_long": recovery.cycle_too_long,
            "pipeline_needed": recovery.pipeline_needed,
            "stages": [
                {
                    "name": s.name,
                    "needed": s.needed,
                    "weeks_available": s.weeks_available,
                    "per_week_needed": finite(s.per_week_needed),
                    "planned_per_week": s.planned_per_week,
                    "extra_per_week": finite(s.extra_per_week),
                    "in_time": s.in_time,
                    "best_week": s.best_week,
                    "within_reach": s.within_reach,
                }
                for s in recovery.stages
            ],
            "instead": None
            if recovery.instead is None
            else {
                "deal_size": recovery.instead.deal_size,
                "end_date": recovery.instead.end_date.isoformat() if recovery.instead.end_date else None,
                "pipeline": recovery.instead.pipeline,
            },
        },
    }
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        state = "behind" if progress.behind else "ahead of"
        print(f"{saved.name}: {progress.booked:,.0f} of {progress.target:,.0f} booked ({progress.attainment:.0%})")
        if as_of >= inputs.period_start:
            print(
                f"{abs(progress.gap_to_milestone):,.0f} {state} the milestones: {progress.due_to_date:,.0f} "
                f"due by {as_of} (pro rata between them)"
            )
        print(
            f"run-rate projection {progress.run_rate_projection:,.0f}; "
            f"{progress.required_per_week:,.0f} a week needed over {progress.working_weeks_left:.1f} weeks"
        )
    return 0


def _calibrate_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    outcomes = {stage: outcome for outcome in OUTCOMES for stage in getattr(args, outcome)}
    try:
        # Held in a list only to be handed over (pop): calibrate_export lets the bytes go once the file is read,
        # which a name here would prevent (a million-row export is 130 MB).
        data = [read_export_file(args.file)]
        history = None
        if args.history:
            try:
                history = (read_export_file(args.history), args.history)
            except ImportFailure as error:
                raise ImportFailure(f"{args.history}: {error}") from None
        deals, result = calibrate_export(
            data.pop(),
            args.file,
            history=history,
            preset=args.preset,
            sheet=args.sheet,
            date_order=args.date_order,
            columns=dict(args.map),
            outcome_map=outcomes or None,
            stage_order=args.stages or None,
            currency=args.currency,
            rates=dict(args.rate),
        )
    except (ImportFailure, CalibrationError) as error:
        print(_one_line(f"backplan calibrate: {args.file}: {error}"), file=sys.stderr)
        return 1
    report = summary_dict(result, deals)
    if args.json:
        json.dump(report, sys.stdout, indent=2, allow_nan=False, ensure_ascii=False)
        print()
        return 0
    o = result.overall
    money = f" {result.currency}" if result.currency else ""

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:.1%}"

    def num(value: float | None) -> str:
        return "—" if value is None else f"{value:,.0f}"

    print(f"{report['rows']:,} rows read, {report['bad_rows']:,} left out")
    print(f"{o.won:,} won, {o.lost:,} lost, {o.open:,} open")
    print(f"win rate {pct(o.win_rate)} by count, {pct(o.win_rate_value)} by value")
    print(f"deal size {num(o.avg_deal_size)}{money} average, {num(o.median_deal_size)}{money} median")
    print(f"sales cycle {num(o.cycle_median_days)} days median")
    for c in o.conversions:
        print(f"  {c.from_stage} → {c.to_stage}: {pct(c.rate)} of {c.reached:,} (95% {c.low:.0%}–{c.high:.0%})")
    coverage = o.suggested_coverage
    print(f"suggested coverage {'—' if coverage is None else f'{coverage:.1f}×'}")
    for f in result.by_currency:
        print(f"  {f.currency}: {f.won:,} won, {f.lost:,} lost, win rate {pct(f.win_rate)}, "
              f"{pct(f.win_rate_value)} by value, deal size {num(f.avg_deal_size)} {f.currency}")  # fmt: skip
    for note in result.notes:
        print(f"note: {note}")
    return 0


def _backup_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import duckdb

    from planner import store

    con = _open_database(args, parser, read_only=False)
    try:
        folder = store.backup(con, SYSTEM, args.folder)
    except store.StoreError as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    except (OSError, duckdb.Error) as error:
        parser.exit(1, f"{parser.prog}: error: could not write the backup: {_first_line(error)}\n")
    finally:
        con.close()
    print(f"backed up {store.describe(args.db or store.default_target())} to {folder}")
    return 0


def _restore_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import duckdb

    from planner import store

    try:
        target = store.restore(args.folder, args.to)
    except store.StoreError as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    except (OSError, duckdb.Error) as error:
        parser.exit(1, f"{parser.prog}: error: could not restore: {_first_line(error)}\n")
    print(
        f"restored {args.folder} into {store.describe(target)}; "
        f"set BACKPLAN_DB={store.describe(target)} and restart the app to use it"
    )
    return 0


def _copy_db_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from planner import store

    source = args.source if store.is_server_url(args.source) else Path(args.source).expanduser()
    if not store.is_server_url(args.source) and not source.is_file():
        parser.exit(1, f"{parser.prog}: error: There is no database at {source} — check the path\n")
    target = args.target if store.is_server_url(args.target) else Path(args.target).expanduser()
    try:
        report = store.copy_database(source, target, replace=args.replace)
    except store.StoreError as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    except (OSError, duckdb.Error) as error:
        parser.exit(1, f"{parser.prog}: error: could not copy: {_first_line(error)}\n")
    if args.json:
        json.dump({"tables": report.tables, "rows": report.rows, "sequences": report.sequences}, sys.stdout, indent=2)
        print()
    else:
        print(
            f"copied {report.rows:,} rows in {len(report.tables)} tables from {store.describe(source)} "
            f"to {store.describe(target)}; every row checked"
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``backplan`` with ``argv`` (default: the process arguments); return the exit status.

    The last line of defence: whatever goes wrong is one line on stderr, never a traceback.
    Bad arguments and known refusals leave through argparse's ``SystemExit`` (status 2 or 1).
    """
    parser = _parser()
    command = "backplan"
    debug = os.environ.get("BACKPLAN_DEBUG", "") not in ("", "0")
    try:
        with warnings.catch_warnings():
            if not debug:  # a library's warning is a second line for the developer, not the user
                warnings.simplefilter("ignore")
            args = parser.parse_args(argv)
            command = args.subparser.prog
            status = args.handler(args, args.subparser)
        sys.stdout.flush()  # a reader that went away is found here, not at exit
        return status
    except BrokenPipeError:
        _silence_stdout()
        return BROKEN_PIPE_STATUS
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return INTERRUPTED_STATUS
    except Exception as error:
        if debug:
            raise
        what = _one_line(f"{type(error).__name__}: {_first_line(error)}")
        print(f"{command}: error: failed with {what} (BACKPLAN_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so Python's own flush at exit finds no broken pipe to complain about.

    The way the Python documentation recommends for SIGPIPE (``signal`` module notes).
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests capture it)
        pass


if __name__ == "__main__":
    raise SystemExit(main())
