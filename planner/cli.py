"""The ``backplan`` command: the same math as the app, headless, JSON out.

backplan plan --target 385000 --deal-size 3850 --ratios 2,2,2 --json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import date
from typing import Any, NoReturn

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
)
from planner.units import ratio_label

__all__ = ["main", "plan_to_dict"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


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
    default_start, default_end = default_period(date.today())
    start = args.start or default_start
    end = args.end or (default_end if args.start is None else start.replace(year=start.year + 1))
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
        parser.error(str(error))
    if args.json:
        json.dump(plan_to_dict(plan), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        _print_plan(plan)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``backplan`` with ``argv`` (default: the process arguments); return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    return args.handler(args, args.subparser)


if __name__ == "__main__":
    raise SystemExit(main())
