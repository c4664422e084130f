"""Account plans: the customer's view, goals → SMART objectives → actions, the planning cycle, reviews.

A plan is built top down (goals, then objectives, then actions) and executed
bottom up: progress rolls up from actions to objectives to goals to the plan.
Every function here is pure; storage is :mod:`planner.store`, drawing is the page's.

>>> from datetime import date
>>> goal = Goal(1, 1, "roadmap to revenue", "Grow the platform footprint")
>>> objective = Objective(1, 1, "Win the EMEA rollout", "revenue", 120_000, 20_000, "Two sites asked", date(2027, 5, 1))
>>> actions = [Action(1, 1, "Map the buying group", 1, status="done"), Action(2, 1, "Run the pilot", 1)]
>>> rollup([goal], [objective], actions).progress
0.5
>>> check_smart(objective, date(2027, 1, 1), date(2027, 12, 31)).letters
'SMART'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from planner.units import markdown_text, money

__all__ = [
    "ACTION_STATUSES",
    "CYCLE_STEPS",
    "DEFAULT_STALE_DAYS",
    "GOAL_CATEGORIES",
    "REALISTIC_MULTIPLE",
    "RISK_TOLERANCES",
    "SMART_WORDS",
    "Account",
    "AccountPlan",
    "Action",
    "CycleStep",
    "Goal",
    "GoalProgress",
    "Objective",
    "ObjectiveProgress",
    "OpenItem",
    "PersonLoad",
    "PlanProgress",
    "Review",
    "ReviewStatus",
    "SmartCheck",
    "SmartGap",
    "accountability",
    "check_smart",
    "default_cycle",
    "fiscal_year_bounds",
    "fiscal_year_of",
    "is_overdue",
    "match_owners",
    "new_plan_year",
    "open_items",
    "plan_fiscal_year",
    "plan_markdown",
    "rescheduled",
    "revenue_total",
    "review_status",
    "rollup",
]

#: The three kinds of goal every account plan needs.
GOAL_CATEGORIES = ("relationship management", "roadmap to revenue", "customer success")
RISK_TOLERANCES = ("low", "medium", "high")
ACTION_STATUSES = ("to do", "in progress", "done")
#: The planning cycle, in order; step numbers are 1-based positions in this tuple.
CYCLE_STEPS = (
    "Assemble the team",
    "Kick-off meeting",
    "Homework assigned",
    "Account planning meeting",
    "Finalise and present to leadership",
)
#: Days after the start of the fiscal year's third quarter each step is due (the last: the quarter's end).
CYCLE_OFFSETS_DAYS = (14, 28, 49, 70, None)
DEFAULT_STALE_DAYS = 30
SMART_WORDS = {"S": "specific", "M": "measurable", "A": "attainable", "R": "realistic", "T": "time-bound"}
#: A revenue objective above this multiple of what the account has ever bought is not realistic.
REALISTIC_MULTIPLE = 2.0
NO_OWNER = "(no owner)"


# --------------------------------------------------------------------------- the plan's parts


@dataclass(frozen=True, slots=True)
class Account:
    """An account and the customer's view of their own business.

    ``owner_rep_id`` is who owns it, and so who may see and change its plan; None
    when nobody on file does (then only sales ops). ``owner`` is only a label: the
    owner's name as on file, or the name typed or imported before it matched anyone.
    """

    id: int
    name: str
    period_start: date
    period_end: date
    owner: str = ""
    segment: str = ""
    aims: str = ""  # what the customer is trying to accomplish
    priorities: tuple[str, ...] = ()  # ranked: the first matters most
    timeframes: str = ""
    risk_tolerance: str = "medium"
    notes: str = ""
    created_on: date | None = None
    owner_rep_id: int | None = None


@dataclass(frozen=True, slots=True)
class Goal:
    id: int
    account_id: int
    category: str
    title: str


@dataclass(frozen=True, slots=True)
class Objective:
    """What a goal must achieve, to be checked against SMART."""

    id: int
    goal_id: int
    statement: str
    metric: str = ""
    target_value: float | None = None
    current_value: float | None = None
    rationale: str = ""
    due: date | None = None
    revenue: bool = False


@dataclass(frozen=True, slots=True)
class Action:
    """Something someone will do; it should serve an objective (``objective_id``)."""

    id: int
    account_id: int
    description: str
    objective_id: int | None = None
    owner: str = ""
    due: date | None = None
    status: str = "to do"

    @property
    def done(self) -> bool:
        return self.status == "done"


@dataclass(frozen=True, slots=True)
class CycleStep:
    """One step (1 to 5) of an account's planning cycle for a fiscal year."""

    step: int
    owner: str
    due: date
    done_on: date | None = None

    @property
    def name(self) -> str:
        return CYCLE_STEPS[self.step - 1]


@dataclass(frozen=True, slots=True)
class Review:
    id: int
    account_id: int
    reviewed_on: date
    reviewer: str
    what_changed: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class AccountPlan:
    """Everything stored for one account."""

    account: Account
    goals: tuple[Goal, ...] = ()
    objectives: tuple[Objective, ...] = ()
    actions: tuple[Action, ...] = ()
    reviews: tuple[Review, ...] = ()


# --------------------------------------------------------------------------- SMART


@dataclass(frozen=True, slots=True)
class SmartGap:
    """A SMART letter an objective misses, and why."""

    letter: str
    reason: str


@dataclass(frozen=True, slots=True)
class SmartCheck:
    gaps: tuple[SmartGap, ...] = ()

    @property
    def letters(self) -> str:
        """The letters the objective meets, in SMART order ("SMART" when it meets them all)."""
        missing = {g.letter for g in self.gaps}
        return "".join(letter for letter in SMART_WORDS if letter not in missing)

    @property
    def missing(self) -> str:
        """The letters it misses, in SMART order."""
        missing = {g.letter for g in self.gaps}
        return "".join(letter for letter in SMART_WORDS if letter in missing)

    @property
    def is_smart(self) -> bool:
        return not self.gaps

    def meets(self, letter: str) -> bool:
        return letter in self.letters


def _blank(text: str) -> bool:
    return not text.strip()


def check_smart(
    objective: Objective,
    period_start: date,
    period_end: date,
    *,
    open_pipeline: float | None = None,
    won_history: float | None = None,
    currency: str = "USD",
) -> SmartCheck:
    """Which SMART letters ``objective`` misses, each with the reason.

    - specific: there is a statement of what will be achieved;
    - measurable: a metric, a target value and the current value;
    - attainable and realistic: a rationale; for a revenue objective also what is
      still to win (target - current) fits in the account's ``open_pipeline``
      (attainable), and the target is at most :data:`REALISTIC_MULTIPLE` × what
      was won from the account before, ``won_history`` (realistic). Either number
      left as None (no data yet) skips its comparison;
    - time-bound: a due date inside the plan's period.

    >>> from datetime import date
    >>> vague = Objective(1, 1, "Be their favourite vendor")
    >>> check = check_smart(vague, date(2027, 1, 1), date(2027, 12, 31))
    >>> check.letters, check.missing
    ('S', 'MART')
    >>> due = date(2027, 6, 30)
    >>> grow = Objective(2, 1, "Double spend", "revenue", 200_000, 0, "Budget approved", due, revenue=True)
    >>> [g.reason for g in check_smart(grow, date(2027, 1, 1), date(2027, 12, 31), open_pipeline=50_000).gaps]
    ['$200,000 still to win, but the open pipeline on this account is only $50,000.']
    """
    gaps: list[SmartGap] = []
    if _blank(objective.statement):
        gaps.append(SmartGap("S", "No statement of what will be achieved."))
    unmeasured = [
        name
        for name, absent in (
            ("a metric", _blank(objective.metric)),
            ("a target value", objective.target_value is None),
            ("the current value", objective.current_value is None),
        )
        if absent
    ]
    if unmeasured:
        gaps.append(SmartGap("M", f"Needs {_and(unmeasured)}."))
    no_rationale = _blank(objective.rationale)
    if no_rationale:
        gaps.append(SmartGap("A", "No rationale for why it can be done."))
    elif objective.revenue and objective.target_value is not None and open_pipeline is not None:
        to_win = objective.target_value - (objective.current_value or 0.0)
        if to_win > open_pipeline:
            gaps.append(
                SmartGap(
                    "A",
                    f"{money(to_win, currency)} still to win, but the open pipeline on this account is only "
                    f"{money(open_pipeline, currency)}.",
                )
            )
    if no_rationale:
        gaps.append(SmartGap("R", "No rationale for why it is realistic."))
    elif objective.revenue and objective.target_value is not None and won_history is not None:
        if won_history <= 0 and not open_pipeline:
            gaps.append(SmartGap("R", "Nothing won from this account yet and no open pipeline to build on."))
        elif won_history > 0 and objective.target_value > REALISTIC_MULTIPLE * won_history:
            gaps.append(
                SmartGap(
                    "R",
                    f"{money(objective.target_value, currency)} is {objective.target_value / won_history:.1f}× the "
                    f"{money(won_history, currency)} won from this account so far.",
                )
            )
    if objective.due is None:
        gaps.append(SmartGap("T", "No due date."))
    elif objective.due < period_start:
        gaps.append(
            SmartGap("T", f"Due {objective.due:%Y-%m-%d}, before the period starts on {period_start:%Y-%m-%d}.")
        )
    elif objective.due > period_end:
        gaps.append(SmartGap("T", f"Due {objective.due:%Y-%m-%d}, after the period ends on {period_end:%Y-%m-%d}."))
    return SmartCheck(tuple(gaps))


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------- progress


@dataclass(frozen=True, slots=True)
class ObjectiveProgress:
    objective: Objective
    actions: tuple[Action, ...]

    @property
    def done(self) -> int:
        return sum(a.done for a in self.actions)

    @property
    def total(self) -> int:
        return len(self.actions)

    @property
    def progress(self) -> float:
        """Share of its actions done; 0 for an objective nobody acts on yet."""
        return self.done / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class GoalProgress:
    goal: Goal
    objectives: tuple[ObjectiveProgress, ...]

    @property
    def progress(self) -> float:
        """Mean of its objectives' progress; 0 for a goal with no objectives."""
        return _mean([o.progress for o in self.objectives])

    @property
    def done(self) -> int:
        return sum(o.done for o in self.objectives)

    @property
    def total(self) -> int:
        return sum(o.total for o in self.objectives)


@dataclass(frozen=True, slots=True)
class PlanProgress:
    goals: tuple[GoalProgress, ...]
    busywork: tuple[Action, ...] = field(default=())  # actions that serve no objective

    @property
    def progress(self) -> float:
        """Mean of its goals' progress: 1 only when every goal's every objective has all its actions done."""
        return _mean([g.progress for g in self.goals])

    @property
    def done(self) -> int:
        return sum(g.done for g in self.goals)

    @property
    def total(self) -> int:
        return sum(g.total for g in self.goals)


def _mean(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    if all(v == 1.0 for v in values):
        return 1.0
    return min(sum(values) / len(values), 1.0)


def rollup(goals: Iterable[Goal], objectives: Iterable[Objective], actions: Iterable[Action]) -> PlanProgress:
    """Progress from actions up to objectives, goals and the plan; actions with no objective are busywork.

    >>> goal = Goal(1, 1, "customer success", "Adoption")
    >>> done = rollup([goal], [Objective(1, 1, "80% weekly users")], [Action(1, 1, "Newsletter")])
    >>> done.progress, [a.description for a in done.busywork]
    (0.0, ['Newsletter'])
    """
    goals, objectives, actions = list(goals), list(objectives), list(actions)
    by_objective: dict[int, list[Action]] = {o.id: [] for o in objectives}
    busywork = []
    for action in actions:
        if action.objective_id is not None and action.objective_id in by_objective:
            by_objective[action.objective_id].append(action)
        else:
            busywork.append(action)
    goal_rows = []
    for goal in goals:
        rows = tuple(ObjectiveProgress(o, tuple(by_objective[o.id])) for o in objectives if o.goal_id == goal.id)
        goal_rows.append(GoalProgress(goal, rows))
    return PlanProgress(tuple(goal_rows), tuple(busywork))


def revenue_total(objectives: Iterable[Objective]) -> float:
    """The sum of the revenue objectives' target values.

    >>> revenue_total([Objective(1, 1, "a", target_value=50.0, revenue=True), Objective(2, 1, "b", target_value=9.0)])
    50.0
    """
    return float(sum(o.target_value for o in objectives if o.revenue and o.target_value is not None))


# --------------------------------------------------------------------------- the planning cycle


def fiscal_year_of(day: date, start_month: int = 1) -> int:
    """The fiscal year ``day`` falls in, named by the calendar year it ends in.

    >>> fiscal_year_of(date(2026, 11, 22)), fiscal_year_of(date(2026, 11, 22), start_month=4)
    (2026, 2027)
    """
    _check_month(start_month)
    if start_month == 1:
        return day.year
    return day.year + 1 if day.month >= start_month else day.year


def fiscal_year_bounds(fiscal_year: int, start_month: int = 1) -> tuple[date, date]:
    """First and last day of a fiscal year.

    >>> fiscal_year_bounds(2027, start_month=4)
    (datetime.date(2026, 4, 1), datetime.date(2027, 3, 31))
    """
    _check_month(start_month)
    start = date(fiscal_year if start_month == 1 else fiscal_year - 1, start_month, 1)
    return start, _add_months(start, 12) - timedelta(days=1)


def _check_month(month: int) -> None:
    if not 1 <= month <= 12:
        raise ValueError(f"A fiscal year starts in a month from 1 to 12, not {month}.")


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)


def default_cycle(fiscal_year: int, start_month: int = 1, owner: str = "") -> tuple[CycleStep, ...]:
    """The five steps of planning fiscal year ``fiscal_year``, owned by ``owner``, in the previous year's third quarter.

    Next year is planned during this year's third quarter, so the plan is
    presented before the year it covers begins.

    >>> [f"{s.due:%Y-%m-%d}" for s in default_cycle(2027)]
    ['2026-07-15', '2026-07-29', '2026-08-19', '2026-09-09', '2026-09-30']
    """
    start, _ = fiscal_year_bounds(fiscal_year - 1, start_month)
    q3_start = _add_months(start, 6)
    q3_end = _add_months(start, 9) - timedelta(days=1)
    return tuple(
        CycleStep(number, owner, q3_end if offset is None else q3_start + timedelta(days=offset))
        for number, offset in enumerate(CYCLE_OFFSETS_DAYS, start=1)
    )


def new_plan_year(today: date, start_month: int = 1) -> int:
    """The fiscal year a new account plan covers: next year's from the third quarter on, when it is being planned.

    Before then this year still has half or more to run, and is the one to plan. With
    a fiscal year starting in April, FY2027 runs April 2026 to March 2027 and FY2028
    is planned from October 2026.

    >>> new_plan_year(date(2026, 11, 29)), new_plan_year(date(2026, 3, 2)), new_plan_year(date(2026, 11, 29), 4)
    (2027, 2026, 2028)
    """
    this_year = fiscal_year_of(today, start_month)
    q3_start = _add_months(fiscal_year_bounds(this_year, start_month)[0], 6)
    return this_year + 1 if today >= q3_start else this_year


def plan_fiscal_year(account: Account, start_month: int = 1) -> int:
    """The fiscal year an account plan is for: the one holding the middle of its period.

    >>> plan_fiscal_year(Account(1, "Acme", date(2027, 1, 1), date(2027, 12, 31)))
    2027
    """
    middle = account.period_start + (account.period_end - account.period_start) / 2
    return fiscal_year_of(middle, start_month)


def match_owners(names: Iterable[str], people: Iterable[tuple[int, str]]) -> dict[str, int | None]:
    """Each owner name as typed or imported → the id of the one person on file it names, or None.

    Names compare ignoring case and surrounding spaces; a name matching nobody, or
    more than one person, matches None (the account is then unassigned).

    >>> match_owners(["ana lima ", "Eve", ""], [(1, "Ana Lima"), (2, "Ben Carter")])
    {'ana lima ': 1, 'Eve': None, '': None}
    """
    by_name: dict[str, list[int]] = {}
    for person_id, name in people:
        by_name.setdefault(name.strip().casefold(), []).append(person_id)
    found = {}
    for name in names:
        ids = by_name.get(name.strip().casefold(), []) if name.strip() else []
        found[name] = ids[0] if len(ids) == 1 else None
    return found


def rescheduled(cycle: Iterable[CycleStep], fiscal_year: int, start_month: int = 1) -> tuple[CycleStep, ...]:
    """The steps of a saved cycle still on the old schedule's dates, each moved to the current schedule's.

    The old schedule planned FY N in its own third quarter, the dates the current one gives FY N+1.
    A step is moved only when it is not done and its due date is still the one the old schedule
    gave it: a date someone chose, or a step done, stays as it is. Empty when nothing would move.

    >>> old = default_cycle(2028, owner="Ana")  # FY2027's cycle as the old schedule set it up
    >>> [f"{s.due:%Y-%m-%d}" for s in rescheduled(old[:2], 2027)]
    ['2026-07-15', '2026-07-29']
    """
    old = {s.step: s.due for s in default_cycle(fiscal_year + 1, start_month)}
    new = {s.step: s.due for s in default_cycle(fiscal_year, start_month)}
    return tuple(
        CycleStep(s.step, s.owner, new[s.step]) for s in cycle if s.done_on is None and s.due == old.get(s.step)
    )


def is_overdue(due: date | None, finished: bool, today: date) -> bool:
    """Past its due date and not finished.

    >>> is_overdue(date(2027, 1, 1), False, date(2027, 1, 2)), is_overdue(date(2027, 1, 1), True, date(2027, 1, 2))
    (True, False)
    """
    return not finished and due is not None and due < today


# --------------------------------------------------------------------------- accountability


@dataclass(frozen=True, slots=True)
class OpenItem:
    """A planning-cycle step or an action someone still owes."""

    person: str
    account: str
    kind: str  # "step" or "action"
    what: str
    due: date | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class PersonLoad:
    person: str
    open_steps: int
    overdue_steps: int
    open_actions: int
    overdue_actions: int


def _person(name: str) -> str:
    return name.strip() or NO_OWNER


def open_items(
    steps: Iterable[tuple[str, CycleStep]], actions: Iterable[tuple[str, Action]], today: date
) -> list[OpenItem]:
    """Every unfinished step and action, given as (account name, item) pairs; overdue first, then by due date.

    >>> step, action = CycleStep(2, "Ana", date(2027, 1, 5)), Action(1, 1, "Call")
    >>> items = open_items([("Acme", step)], [("Acme", action)], date(2027, 2, 1))
    >>> [(i.person, i.what, i.overdue) for i in items]
    [('Ana', 'Kick-off meeting', True), ('(no owner)', 'Call', False)]
    """
    items = [
        OpenItem(_person(s.owner), account, "step", s.name, s.due, is_overdue(s.due, False, today))
        for account, s in steps
        if s.done_on is None
    ]
    items += [
        OpenItem(_person(a.owner), account, "action", a.description, a.due, is_overdue(a.due, False, today))
        for account, a in actions
        if not a.done
    ]
    return sorted(items, key=lambda i: (not i.overdue, i.due or date.max, i.person, i.account, i.what))


def accountability(items: Iterable[OpenItem]) -> list[PersonLoad]:
    """Per person, their open and overdue steps and actions; most overdue first.

    >>> item = OpenItem("Ana", "Acme", "action", "Call", None, False)
    >>> accountability([item])
    [PersonLoad(person='Ana', open_steps=0, overdue_steps=0, open_actions=1, overdue_actions=0)]
    """
    counts: dict[str, list[int]] = {}
    for item in items:
        row = counts.setdefault(item.person, [0, 0, 0, 0])
        offset = 0 if item.kind == "step" else 2
        row[offset] += 1
        row[offset + 1] += item.overdue
    loads = [PersonLoad(person, *row) for person, row in counts.items()]
    return sorted(loads, key=lambda p: (-(p.overdue_steps + p.overdue_actions), p.person))


# --------------------------------------------------------------------------- a living plan


@dataclass(frozen=True, slots=True)
class ReviewStatus:
    last: date | None
    days: int | None  # since the last review, or since the plan was created if never reviewed
    stale: bool

    @property
    def label(self) -> str:
        if self.last is None:
            return "Never reviewed"
        if not self.days:
            return "Reviewed today"
        return f"Last reviewed {self.days} day{'s' if self.days != 1 else ''} ago"


def review_status(
    reviewed_on: Iterable[date], today: date, *, created: date | None = None, stale_days: int = DEFAULT_STALE_DAYS
) -> ReviewStatus:
    """When a plan was last reviewed, and whether that is more than ``stale_days`` ago.

    A plan never reviewed goes stale ``stale_days`` after it was created.

    >>> status = review_status([date(2027, 1, 1), date(2027, 2, 1)], date(2027, 3, 15))
    >>> status.label, status.stale
    ('Last reviewed 42 days ago', True)
    """
    dates = list(reviewed_on)
    last = max(dates) if dates else None
    since = last or created
    days = max((today - since).days, 0) if since is not None else None
    return ReviewStatus(last, days if last is not None else None, days is not None and days > stale_days)


def _value(number: float | None) -> str:
    return "—" if number is None else f"{number:,.10g}"


def plan_markdown(
    plan: AccountPlan,
    today: date,
    *,
    cycle: Sequence[CycleStep] = (),
    fiscal_year: int | None = None,
    open_pipeline: float | None = None,
    won_history: float | None = None,
    stale_days: int = DEFAULT_STALE_DAYS,
    currency: str = "USD",
) -> str:
    """The plan as Markdown for the leadership presentation; everything users typed is escaped.

    >>> account = Account(1, "Acme", date(2027, 1, 1), date(2027, 12, 31), owner="Ana")
    >>> print(plan_markdown(AccountPlan(account), date(2027, 3, 1)).splitlines()[0])
    # Account plan: Acme
    """
    account = plan.account
    progress = rollup(plan.goals, plan.objectives, plan.actions)
    status = review_status(
        (r.reviewed_on for r in plan.reviews), today, created=account.created_on, stale_days=stale_days
    )

    def esc(text: str, inline: bool = True) -> str:
        return markdown_text(text, inline=inline, document=True)

    out = [
        f"# Account plan: {esc(account.name)}",
        "",
        f"Owner: {esc(account.owner) or '—'} · Segment: {esc(account.segment) or '—'} · "
        f"Period: {account.period_start:%Y-%m-%d} to {account.period_end:%Y-%m-%d}  ",
        f"Progress: {progress.progress:.0%} ({progress.done} of {progress.total} actions done) · "
        f"{status.label}{' (stale)' if status.stale else ''}  ",
        f"Exported {today:%Y-%m-%d}",
        "",
        "## The customer's view",
        "",
        f"**What they are trying to accomplish:** {esc(account.aims, inline=False) or '—'}",
        "",
        "**Their priorities, most important first:**" if account.priorities else "**Their priorities:** —",
        "",
        *[f"{rank}. {esc(p)}" for rank, p in enumerate(account.priorities, start=1)],
        *([""] if account.priorities else []),
        f"**Timeframes:** {esc(account.timeframes, inline=False) or '—'}",
        "",
        f"**Risk tolerance:** {account.risk_tolerance}",
        "",
        f"**Notes:** {esc(account.notes, inline=False) or '—'}",
        "",
        "## Goals, objectives and actions",
        "",
    ]
    revenue = revenue_total(plan.objectives)
    if revenue:
        out += [f"Revenue objectives add up to {money(revenue, currency)}.", ""]
    if not progress.goals:
        out += ["No goals yet.", ""]
    for goal in progress.goals:
        out += [f"### {goal.goal.category.capitalize()}: {esc(goal.goal.title)} — {goal.progress:.0%}", ""]
        if not goal.objectives:
            out += ["No objectives yet.", ""]
        for row in goal.objectives:
            o = row.objective
            check = check_smart(
                o,
                account.period_start,
                account.period_end,
                open_pipeline=open_pipeline,
                won_history=won_history,
                currency=currency,
            )
            smart = "SMART" if check.is_smart else f"meets {check.letters or 'none'}, misses {check.missing}"
            out += [
                f"#### Objective: {esc(o.statement) or '(no statement)'}{' (revenue)' if o.revenue else ''}",
                "",
                f"- SMART: {smart}",
                *[f"  - {g.letter} ({SMART_WORDS[g.letter]}): {esc(g.reason)}" for g in check.gaps],
                f"- Measure: {esc(o.metric) or '—'}, now {_value(o.current_value)} of {_value(o.target_value)}",
                f"- Due: {o.due:%Y-%m-%d}" if o.due else "- Due: —",
                f"- Rationale: {esc(o.rationale) or '—'}",
                f"- Progress: {row.done} of {row.total} actions done",
                "",
                *[_action_line(a) for a in row.actions],
                *([""] if row.actions else []),
            ]
    if progress.busywork:
        out += ["## Actions that serve no objective", "", *[_action_line(a) for a in progress.busywork], ""]
    if cycle:
        title = f"## Planning cycle FY{fiscal_year}" if fiscal_year else "## Planning cycle"
        out += [title, "", "| Step | Owner | Due | Done |", "|---|---|---|---|"]
        for step in cycle:
            done = (
                f"{step.done_on:%Y-%m-%d}"
                if step.done_on
                else ("**overdue**" if is_overdue(step.due, False, today) else "—")
            )
            out.append(f"| {step.name} | {esc(step.owner) or '—'} | {step.due:%Y-%m-%d} | {done} |")
        out.append("")
    out += ["## Review log", ""]
    if not plan.reviews:
        out.append("Not reviewed yet.")
    for review in sorted(plan.reviews, key=lambda r: (r.reviewed_on, r.id), reverse=True):
        notes = f" — {esc(review.notes)}" if review.notes.strip() else ""
        out.append(f"- {review.reviewed_on:%Y-%m-%d}, {esc(review.reviewer)}: {esc(review.what_changed) or '—'}{notes}")
    return "\n".join(out) + "\n"


def _action_line(action: Action) -> str:
    mark = "x" if action.done else " "
    owner = markdown_text(action.owner, document=True)
    details = [text for text in (owner, f"due {action.due:%Y-%m-%d}" if action.due else "") if text]
    suffix = f" ({', '.join(details)})" if details else ""
    status = "" if action.status in ("done", "to do") else f" — {action.status}"
    return f"- [{mark}] {markdown_text(action.description, document=True)}{suffix}{status}"
