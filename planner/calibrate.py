"""Calibration: last year's deals in, the ratios every plan should start from out.

Definitions (one meaning each, everywhere; see docs/design.md)::

    win rate (count)     = won / (won + lost)
    win rate (value)     = won amount / (won amount + lost amount)
    average deal size    = mean amount of won deals       (the median is shown beside it)
    sales cycle          = median days from created to close, won deals (with quartiles)
    conversion i → i+1   = closed deals that reached i+1 / closed deals that reached i
                           (so the rates multiply out to the win rate, always)
    suggested coverage   = 1 / win rate (value)
    seasonality          = share of won amount by calendar month

A lost deal counts at the furthest stage its own fields prove it reached (see
:func:`planner.imports.finish_deals`); when more than one lost deal in ten says nothing
about how far it got, the funnel is one step at the win rate rather than a guess with
100% steps. Amounts are never added across currencies: amount figures are in one
currency (the profile's), converted with rates the user gives or left out.

Conversion intervals are 95% Wilson score intervals: a 2 : 1 ratio learned from 30
deals is far less certain than one from 3,000, and the interval says by how much.
numpy does the counting (:func:`deal_tables`, whole columns at once); this module turns
counts into figures, handles the edge cases in one place, and says what it assumed.

Example -- six deals through a three-stage funnel:

>>> import pandas as pd
>>> deals = pd.DataFrame({
...     "owner": ["Ana"] * 6, "outcome": ["won", "won", "lost", "lost", "lost", "open"],
...     "amount": [100.0, 300.0, 50.0, 50.0, 100.0, 80.0], "furthest": [2, 2, 1, 0, 0, 1],
...     "created": pd.to_datetime(["2025-01-01"] * 6),
...     "closed": pd.to_datetime(["2025-01-11", "2025-01-31"] + [None] * 4)})
>>> result = calibrate(deals, ("Meeting", "Proposal", "Won"))
>>> result.overall.win_rate, result.overall.win_rate_value, result.overall.avg_deal_size
(0.4, 0.6666666666666666, 200.0)
>>> [(c.from_stage, c.reached, c.advanced) for c in result.overall.conversions]
[('Meeting', 5, 3), ('Proposal', 3, 2)]
>>> result.overall.suggested_coverage, result.overall.cycle_median_days
(1.5, 20.0)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from planner.funnel import FunnelPlan, PlanInputs, Stage, build_plan, deals_needed, stage_totals
from planner.imports import (
    DEAL_FIELDS,
    DealImport,
    ImportFailure,
    Mapping,
    column_list,
    date_order_needed,
    detect_mapping,
    finish_deals,
    pair_exports,
    read_history,
    read_table,
    type_deals,
)
from planner.units import plural

__all__ = [
    "CONFIDENCE_LEVELS",
    "ONE_STEP_STAGE",
    "Calibration",
    "CalibrationError",
    "Confidence",
    "ConfidenceLevel",
    "DealTables",
    "Figures",
    "PlanSettings",
    "StageConversion",
    "calibrate",
    "calibrate_export",
    "confidence",
    "deal_tables",
    "json_safe",
    "plan_confidence",
    "plan_for_chance",
    "plan_settings",
    "summary_dict",
    "wilson_interval",
]

#: The chances of hitting the target a plan can be built for, besides the expected case.
CONFIDENCE_LEVELS = (0.5, 0.8, 0.9)
#: The one funnel stage of a file that only says won or lost.
ONE_STEP_STAGE = "Opportunities"
#: Ratio used for a stage the history says nothing about.
FALLBACK_RATIO = 2.0
#: Above this share of lost deals that do not say how far they got, stage-to-stage rates would be invented.
UNPLACED_LOST_LIMIT = 0.1
_Z95 = 1.959963984540054


class CalibrationError(ValueError):
    """The deals cannot support what was asked; the message says what is missing."""


def wilson_interval(advanced: int, reached: int, z: float = _Z95) -> tuple[float, float]:
    """95% Wilson score interval for a conversion rate of ``advanced`` out of ``reached``.

        centre = (p + z²/2n) / (1 + z²/n),  half = z·√(p(1-p)/n + z²/4n²) / (1 + z²/n)

    >>> [round(v, 3) for v in wilson_interval(15, 30)], [round(v, 3) for v in wilson_interval(1500, 3000)]
    ([0.332, 0.668], [0.482, 0.518])
    >>> wilson_interval(0, 0)
    (0.0, 1.0)
    """
    if reached <= 0:
        return 0.0, 1.0
    p = advanced / reached
    denominator = 1 + z * z / reached
    centre = (p + z * z / (2 * reached)) / denominator
    half = z * math.sqrt(p * (1 - p) / reached + z * z / (4 * reached * reached)) / denominator
    # min / max: rounding must not leave the observed rate outside its own interval (0 of 975 gave 4e-19).
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


@dataclass(frozen=True, slots=True)
class StageConversion:
    """How many deals that reached ``from_stage`` (and are no longer open there) went on to ``to_stage``."""

    from_stage: str
    to_stage: str
    reached: int
    advanced: int
    rate: float | None
    low: float
    high: float

    @property
    def ratio(self) -> float | None:
        """N of this stage per 1 of the next: the Plan page's ratio."""
        return 1 / self.rate if self.rate else None


@dataclass(frozen=True, slots=True)
class Figures:
    """Every calibrated figure, for the whole file (``owner`` None) or one owner."""

    owner: str | None
    deals: int
    won: int
    lost: int
    open: int
    win_rate: float | None
    win_rate_value: float | None
    avg_deal_size: float | None
    median_deal_size: float | None
    deal_size_sd: float | None
    won_with_amount: int
    cycle_median_days: float | None
    cycle_q1_days: float | None
    cycle_q3_days: float | None
    cycle_deals: int
    suggested_coverage: float | None
    conversions: tuple[StageConversion, ...]
    #: the currency of the amount figures (per-currency figures; None when the file names none)
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Calibration:
    """A calibration result: what a profile stores and a plan starts from."""

    overall: Figures
    by_owner: tuple[Figures, ...]
    stage_order: tuple[str, ...]
    #: median days from each funnel stage to the next (None where unknown)
    lag_days: tuple[float | None, ...]
    lag_source: str  # "stage history", "sales cycle" or "none"
    #: share of won amount by calendar month, January first; empty with no dated won deals
    seasonality: tuple[float, ...]
    quarter_weeks: tuple[float, ...]
    #: histogram of won deal sizes (edges, counts) and of won deals' cycle days
    deal_size_bins: tuple[tuple[float, ...], tuple[int, ...]]
    cycle_bins: tuple[tuple[float, ...], tuple[int, ...]]
    notes: tuple[str, ...] = ()
    rows_read: int = 0
    rows_bad: int = 0
    has_history: bool = False
    #: the currency every amount figure is in (None: the file names none)
    currency: str | None = None
    #: figures of each currency's deals in their own currency, when the file has several
    by_currency: tuple[Figures, ...] = ()
    #: the funnel is one step at the win rate: lost deals did not say how far they got
    one_step: bool = False

    def to_dict(self) -> dict:
        """Plain JSON-able data, as a profile stores it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        def figures(d: dict) -> Figures:
            conversions = tuple(StageConversion(**c) for c in d["conversions"])
            return Figures(**{**d, "conversions": conversions})

        return cls(
            overall=figures(data["overall"]),
            by_owner=tuple(figures(d) for d in data["by_owner"]),
            stage_order=tuple(data["stage_order"]),
            lag_days=tuple(data["lag_days"]),
            lag_source=data["lag_source"],
            seasonality=tuple(data["seasonality"]),
            quarter_weeks=tuple(data["quarter_weeks"]),
            deal_size_bins=(tuple(data["deal_size_bins"][0]), tuple(data["deal_size_bins"][1])),
            cycle_bins=(tuple(data["cycle_bins"][0]), tuple(data["cycle_bins"][1])),
            notes=tuple(data.get("notes", ())),
            rows_read=int(data.get("rows_read", 0)),
            rows_bad=int(data.get("rows_bad", 0)),
            has_history=bool(data.get("has_history", False)),
            currency=data.get("currency"),
            by_currency=tuple(figures(d) for d in data.get("by_currency", ())),
            one_step=bool(data.get("one_step", False)),
        )


def _number(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _share(won_amount: float, lost_amount: float) -> float | None:
    """Won amount ÷ (won + lost amount): the value win rate; None when nothing won or lost was worth anything."""
    total = won_amount + lost_amount
    return won_amount / total if total > 0 else None


def _conversions(reached: pd.DataFrame, order: Sequence[str]) -> tuple[StageConversion, ...]:
    """Stage conversions over closed deals, from deal counts by furthest stage (and how many are still open).

    Open deals say nothing yet about the step they are on, and counting those past a step would
    make the steps multiply out to more than the win rate: a plan from them would ask too little.
    """
    closed = np.zeros(len(order), dtype=np.int64)
    for furthest, deals, still_open in reached[["furthest", "deals", "open"]].itertuples(index=False):
        if 0 <= furthest < len(order):
            closed[int(furthest)] += int(deals) - int(still_open)
    at_or_beyond = closed[::-1].cumsum()[::-1]
    out = []
    for i in range(len(order) - 1):
        decided = int(at_or_beyond[i])
        advanced = int(at_or_beyond[i + 1])
        rate = advanced / decided if decided else None
        low, high = wilson_interval(advanced, decided)
        out.append(StageConversion(order[i], order[i + 1], decided, advanced, rate, low, high))
    return tuple(out)


def _value_figures(row: pd.Series | None, notes: list[str] | None) -> dict:
    """Deal size and value win rate from one summary row of deals whose amounts share a currency."""
    none = {"avg_deal_size": None, "median_deal_size": None, "deal_size_sd": None, "won_with_amount": 0,
            "win_rate_value": None, "suggested_coverage": None}  # fmt: skip
    if row is None:
        return none
    won, lost = int(row["won"]), int(row["lost"])
    avg = _number(row["avg_won"])
    won_amount = float(row["won_amount"])
    missing_won = won - int(row["won_with_amount"])
    if missing_won and avg is not None:
        won_amount += missing_won * avg
        if notes is not None:
            notes.append(
                f"{missing_won:,} won deals have no amount: they count in the win rate, not in the deal size, "
                "and as an average deal in the value win rate."
            )
    lost_amount = float(row["lost_amount"])
    lost_with_amount = int(row["lost_with_amount"])
    if lost == 0:
        value_rate = 1.0 if won_amount > 0 else None
    elif avg is None:
        value_rate = 0.0 if won == 0 else None
    elif lost_with_amount == lost:
        value_rate = _share(won_amount, lost_amount)
    elif lost_with_amount >= lost / 2:
        # A few lost deals lost their amount: they were probably like the other lost deals.
        estimate = lost_amount + (lost - lost_with_amount) * (lost_amount / lost_with_amount)
        value_rate = _share(won_amount, estimate)
        if notes is not None:
            notes.append(
                f"{lost - lost_with_amount:,} of {lost:,} lost deals have no amount; they count at the average "
                f"of the lost deals that have one ({lost_amount / lost_with_amount:,.0f}) in the value win rate."
            )
    else:
        # Most lost deals carry no amount (a common CRM habit): assume they were average won-sized deals,
        # so the value win rate equals the count win rate instead of a flattering near-100%.
        value_rate = _share(won_amount, lost * avg)
        if notes is not None:
            notes.append(
                f"{lost - lost_with_amount:,} of {lost:,} lost deals have no amount, so lost deals are assumed to "
                f"be the size of an average won deal ({avg:,.0f}); the value win rate then follows the count "
                "win rate. Export lost deals with their amounts for a true value win rate."
            )
    return {
        "avg_deal_size": avg,
        "median_deal_size": _number(row["median_won"]),
        "deal_size_sd": _number(row["sd_won"]),
        "won_with_amount": int(row["won_with_amount"]),
        "win_rate_value": value_rate,
        "suggested_coverage": 1 / value_rate if value_rate else None,
    }


def _figures(
    row: pd.Series,
    amount_row: pd.Series | None,
    reached: pd.DataFrame,
    order: Sequence[str],
    notes: list[str] | None,
    currency: str | None = None,
) -> Figures:
    """Figures from a summary row of every deal (counts, cycle, conversion) and one of the deals whose amounts can
    be used (``amount_row``: the profile's currency); ``notes`` (the team's) collects what had to be assumed."""
    won, lost, opened = int(row["won"]), int(row["lost"]), int(row["open"])
    cycle = row["cycle"]
    has_cycle = isinstance(cycle, list | tuple | np.ndarray) and len(cycle) == 3
    q1, median, q3 = (_number(v) for v in cycle) if has_cycle else (None, None, None)
    return Figures(
        owner=None if bool(row["is_team"]) else str(row["owner"]),
        deals=int(row["deals"]),
        won=won,
        lost=lost,
        open=opened,
        win_rate=won / (won + lost) if won + lost else None,
        cycle_median_days=median,
        cycle_q1_days=q1,
        cycle_q3_days=q3,
        cycle_deals=int(row["cycle_deals"]),
        conversions=_conversions(reached, order),
        currency=currency,
        **_value_figures(amount_row, notes),
    )


def _shares(table: pd.DataFrame, key: str, size: int) -> tuple[float, ...]:
    values = np.zeros(size)
    for k, amount in table[[key, "amount"]].itertuples(index=False):
        values[int(k) - 1] += float(amount)
    total = values.sum()
    return tuple(float(v) for v in values / total) if total > 0 else ()


def _histogram(values: np.ndarray, bins: int = 30) -> tuple[tuple[float, ...], tuple[int, ...]]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (), ()
    # The top 1% of deal sizes would stretch the axis until the rest is one bar; they land in the last bin.
    high = float(np.quantile(values, 0.99)) if values.size > 100 else float(values.max())
    low = float(values.min())
    if high <= low:
        high = low + 1
    counts, edges = np.histogram(np.clip(values, low, high), bins=bins, range=(low, high))
    return tuple(float(e) for e in edges), tuple(int(c) for c in counts)


def _placed(
    frame: pd.DataFrame, order: tuple[str, ...], notes: list[str]
) -> tuple[pd.DataFrame, tuple[str, ...], bool]:
    """Every deal at a funnel position: lost deals that do not say how far they got decide how.

    A few (one lost deal in ten at most) count at the first stage; more, and stage-to-stage rates
    cannot be told apart, so the funnel is one step at the win rate, with a note saying why.
    """
    furthest = pd.to_numeric(frame["furthest"], errors="coerce").astype("float64")
    outcome = frame["outcome"]
    lost = (outcome == "lost").to_numpy()
    unplaced = lost & np.isnan(furthest.to_numpy())
    n_lost, n_unplaced = int(lost.sum()), int(unplaced.sum())
    history = any(c.startswith("entered_") and frame[c].notna().any() for c in frame.columns)
    if n_unplaced and n_unplaced > UNPLACED_LOST_LIMIT * n_lost and len(order) > 1:
        won, closed = int((outcome == "won").sum()), n_lost + int((outcome == "won").sum())
        why = (
            "no stage history or stage of theirs says"
            if history
            else "their stage is lost and the file has no stage history"
        )
        one = n_unplaced == 1
        notes.append(
            f"{plural(n_unplaced, 'lost deal')} {'does' if one else 'do'} not say how far {'it' if one else 'they'} "
            f"got ({why}), so stage-to-stage rates cannot be told "
            f"apart: the funnel is one step at the win rate ({won / closed:.0%}) rather than steps made up at 100%. "
            "Upload the stage history (Salesforce OpportunityHistory) or an export with “Date entered …” columns "
            "for rates stage by stage."
        )
        one = frame.drop(columns=[c for c in frame.columns if c.startswith("entered_")])
        return one.assign(furthest=np.where(outcome == "won", 1, 0)), (ONE_STEP_STAGE, order[-1]), True
    if n_unplaced and len(order) > 1:  # with the won stage alone there is no stage to place them at
        one = n_unplaced == 1
        notes.append(
            f"{n_unplaced:,} of {plural(n_lost, 'lost deal')} {'does' if one else 'do'} not say how far "
            f"{'it' if one else 'they'} got; {'it counts' if one else 'they count'} as lost at the first stage, "
            f"“{order[0]}”."
        )
    return frame.assign(furthest=furthest.fillna(0).astype("int64")), order, False


def _currency_choice(codes: pd.Series, outcome: pd.Series) -> str:
    """The currency of the most deals (then the most won deals, then the first alphabetically)."""
    names = [str(name) for name in codes.cat.categories]
    numbers = codes.cat.codes.to_numpy()
    deals = np.bincount(numbers, minlength=len(names))
    won = np.bincount(numbers, weights=(outcome == "won").to_numpy(dtype=bool), minlength=len(names))
    ranked = sorted((-deals[i], -won[i], name) for i, name in enumerate(names) if name and deals[i])
    return ranked[0][2]


def _currency_codes(frame: pd.DataFrame) -> pd.Series:
    """Each deal's currency code, upper case and trimmed ("" where none), as a categorical: each distinct text is
    cleaned once, and comparing a million deals' codes compares small integers."""
    cells = frame["currency"].fillna("").astype("str") if "currency" in frame else None
    if cells is None or not pc.max(pc.binary_length(pa.array(cells))).as_py():  # (no currency at all: no more work)
        return pd.Series(pd.Categorical.from_codes(np.zeros(len(frame), np.int8), [""]), index=frame.index)
    codes, texts = pd.factorize(cells)
    cleaned = pd.Series(texts, dtype="str").str.upper().str.strip()
    merged, names = pd.factorize(cleaned)  # "usd" and "USD " are one currency
    if not len(names):
        return pd.Series(pd.Categorical.from_codes(np.zeros(len(frame), np.int8), [""]), index=frame.index)
    return pd.Series(pd.Categorical.from_codes(merged[codes], list(names)), index=frame.index)


def _in_one_currency(
    frame: pd.DataFrame, codes: pd.Series, currency: str | None, rates: dict[str, float] | None, notes: list[str]
) -> tuple[pd.DataFrame, str | None, list[str]]:
    """The deals whose amounts can be used in the profile's currency (converted with ``rates``), that currency,
    and every currency the file has when it has more than one (amounts are never added across currencies).

    ``codes`` are the deals' currencies (:func:`_currency_codes`). When every deal can be used as it is, the
    frame itself comes back (not a copy), so its figures are counted once.
    """
    counts = codes[codes != ""].value_counts()
    counts = counts[counts > 0].astype("int64")
    counts.index = counts.index.astype("str")
    several = len(counts) > 1
    rates = {k.upper(): float(v) for k, v in (rates or {}).items()}
    if not len(counts) and not currency:
        return frame, None, []
    profile = currency.upper() if currency else _currency_choice(codes, frame["outcome"])
    usable = (codes == profile) | (codes == "")
    factor = pd.Series(1.0, index=frame.index)
    for code, rate in rates.items():
        if code != profile:
            factor[codes == code] = rate
            usable |= codes == code
    if usable.all() and (factor == 1.0).all():
        converted = frame
    else:
        converted = frame.assign(amount=frame["amount"] * factor)[usable.to_numpy()]
    left_out = counts[[c for c in counts.index if not usable[codes == c].any()]]
    if several or len(left_out):
        listing = ", ".join(f"{code} {n:,}" for code, n in counts.items())
        note = (f"The file has deals in {len(counts)} currenc{'ies' if len(counts) > 1 else 'y'} ({listing}): amounts "
                f"are never added across currencies. Amount figures are in {profile}")  # fmt: skip
        if rates:
            note += "; " + ", ".join(f"1 {code} = {rate:g} {profile}" for code, rate in rates.items() if code in counts)
        if len(left_out):
            note += (f"; the {int(left_out.sum()):,} deals in {', '.join(left_out.index)} count only where no amount "
                     f"is needed (win rate, sales cycle, conversion). Give exchange rates (how many {profile} one "
                     f"{left_out.index[0]} is: on the page, or --rate {left_out.index[0]}=1.08 on the command line) "
                     f"to count them in {profile}, or pick another currency")  # fmt: skip
        notes.append(note + ".")
    return converted, profile, list(counts.index) if several else []


def _span_note(closed: tuple[int, int] | None) -> str | None:
    """A warning when the closed deals cover less than a year (``closed``: their first and last close, in seconds,
    as :attr:`DealTables.closed` has them): a season's win rate is not a year's."""
    if closed is None:
        return None
    first, last = (pd.Timestamp(v, unit="s") for v in closed)
    days = (last - first).days
    if days >= 365:
        return None
    months = max(1, round(days / 30.44))
    return (f"The closed deals span only {months} month{'s' if months != 1 else ''} ({first:%d %b %Y} to "
            f"{last:%d %b %Y}): win rates and seasonality from under a year may not hold for a whole one.")  # fmt: skip


def calibrate(
    deals: pd.DataFrame,
    stage_order: Sequence[str],
    *,
    rows_read: int | None = None,
    notes: Sequence[str] = (),
    currency: str | None = None,
    rates: dict[str, float] | None = None,
) -> Calibration:
    """Every calibrated figure from a deal list, overall, per owner and per currency.

    ``deals`` needs ``owner``, ``outcome`` (won / lost / open), ``amount``, ``created``,
    ``closed``, ``furthest`` (index into ``stage_order``, won stage last; NaN for a lost deal
    that does not say how far it got), optionally ``currency`` and, with stage history,
    ``entered_<i>`` dates. ``currency`` is the profile's (default: that of most deals) and
    ``rates`` convert others into it (1 unit of the key = rate units of ``currency``). Figures
    that cannot be computed are None, and :attr:`Calibration.notes` says why.
    """
    order = tuple(stage_order)
    if deals.empty:  # before the stage check: a file with no deals also has no stages, and that is the news
        raise CalibrationError("No deals to calibrate from: every row had a problem, or the file has none.")
    if not order:
        raise CalibrationError(
            "Calibration needs the funnel's stages, ending in the won stage: check the stage column and the "
            "stage → outcome map."
        )
    frame = deals
    for column, default in (("owner", ""), ("created", pd.NaT), ("closed", pd.NaT), ("furthest", 0), ("currency", "")):
        if column not in frame.columns:
            frame = frame.assign(**{column: default})
    all_notes = list(notes)
    frame, order, one_step = _placed(frame, order, all_notes)
    codes = _currency_codes(frame)
    amounts, profile_currency, currencies = _in_one_currency(frame, codes, currency, rates, all_notes)
    tables = deal_tables(frame, len(order))
    money = tables if amounts is frame else deal_tables(amounts, len(order))
    team = tables.summary[tables.summary["is_team"]].iloc[0]
    money_rows = money.summary.set_index(["is_team", "owner"])

    def amount_row(is_team: bool, owner: str) -> pd.Series | None:
        key = (is_team, owner)
        return money_rows.loc[key] if key in money_rows.index else None

    overall = _figures(team, amount_row(True, ""), tables.reached[tables.reached["is_team"]], order, all_notes,
                       profile_currency)  # fmt: skip
    by_owner = tuple(
        _figures(
            row,
            amount_row(False, row["owner"]),
            tables.reached[~tables.reached["is_team"] & (tables.reached["owner"] == row["owner"])],
            order,
            None,
            profile_currency,
        )
        for _, row in tables.summary[~tables.summary["is_team"]].iterrows()
    )
    by_currency = []
    for code in currencies:
        part = deal_tables(frame[(codes == code).to_numpy()], len(order))
        row = part.summary[part.summary["is_team"]].iloc[0]
        by_currency.append(_figures(row, row, part.reached[part.reached["is_team"]], order, None, code))
    if overall.won == 0:
        all_notes.append(
            "There are no won deals, so deal size, sales cycle, seasonality and suggested coverage cannot be "
            "computed, and the win rate is 0. Check the stage → outcome map: is a won stage marked won?"
        )
    elif overall.won + overall.lost == 0:
        all_notes.append("No deal is closed yet: win rates need won or lost deals.")
    span = _span_note(tables.closed)
    if span:
        all_notes.append(span)

    lag_days: list[float | None] = [None] * (len(order) - 1)
    lag_source = "none"
    with_history = tables.lags.dropna(subset=["median_days"])
    if not with_history.empty:
        for stage, median_days in with_history[["stage", "median_days"]].itertuples(index=False):
            lag_days[int(stage)] = float(median_days)
        lag_source = "stage history"
    elif overall.cycle_median_days is not None and len(order) > 1:
        lag_days = [overall.cycle_median_days / (len(order) - 1)] * (len(order) - 1)
        lag_source = "sales cycle"
        all_notes.append(
            f"The file has no stage dates, so the median sales cycle ({overall.cycle_median_days:,.0f} days) is "
            + ("split evenly between the stages as lags." if len(order) > 2 else "the lag of its one step.")
        )
    return Calibration(
        overall=overall,
        by_owner=by_owner,
        stage_order=order,
        lag_days=tuple(lag_days),
        lag_source=lag_source,
        seasonality=_shares(money.months, "month", 12),
        quarter_weeks=_shares(money.quarter_weeks, "week", 13),
        deal_size_bins=_histogram(money.won_amounts),
        cycle_bins=_histogram(tables.cycle_days),
        notes=tuple(all_notes),
        rows_read=rows_read if rows_read is not None else len(frame),
        rows_bad=(rows_read - len(frame)) if rows_read is not None else 0,
        has_history=any(c.startswith("entered_") and frame[c].notna().any() for c in frame.columns),
        currency=profile_currency,
        by_currency=tuple(by_currency),
        one_step=one_step,
    )


def _with_columns(mapping: Mapping, columns: dict[str, str], table_columns: Sequence[str], source: str) -> Mapping:
    """The mapping with the user's own column choices (``field → column``; an empty column: not in the file)."""
    fields = dict(mapping.fields)
    for name, column in columns.items():
        if name not in DEAL_FIELDS:
            raise ImportFailure(f"“{name}” is not a field; the fields: {', '.join(DEAL_FIELDS)}.")
        if column and column not in table_columns:
            raise ImportFailure(
                f"there is no column “{column}” in {source}; its columns: {column_list(table_columns)}."
            )
        fields = {k: v for k, v in fields.items() if v != column and k != name}
        if column:
            fields[name] = column
    return Mapping(mapping.preset, fields, mapping.entered)


def _date_order(table, mapping: Mapping, date_order: str | None) -> str:
    if date_order is not None:
        return date_order
    date_columns = [table.frame[c] for k, c in mapping.fields.items() if k in ("created", "closed", "changed_at")]
    found = date_order_needed(*date_columns)
    if found == "ambiguous":
        raise ImportFailure(
            "Dates such as 03/04 could be day/month or month/day: say which with MDY or DMY (--date-order)."
        )
    return found or "MDY"


def calibrate_export(
    data: bytes,
    filename: str,
    *,
    history: tuple[bytes, str] | None = None,
    preset: str | None = None,
    sheet: str | None = None,
    date_order: str | None = None,
    mapping: Mapping | None = None,
    columns: dict[str, str] | None = None,
    outcome_map: dict[str, str] | None = None,
    stage_order: Sequence[str] | None = None,
    currency: str | None = None,
    rates: dict[str, float] | None = None,
) -> tuple[DealImport, Calibration]:
    """A CRM export's bytes to its deals and calibration, in one call (the command line's path).

    ``history`` is a stage-history export (Salesforce OpportunityHistory or OpportunityFieldHistory)
    given with the deals; the two are told apart whichever comes first. ``columns`` overrides the
    recognised columns (``field → column``). Raises :class:`planner.imports.ImportFailure` when a
    file cannot be read, a history does not belong with the deals, or dates could be day-first or
    month-first and ``date_order`` does not say which; :class:`CalibrationError` when the deals
    cannot be calibrated.
    """
    table = read_table(data, filename, sheet)
    del data  # the caller passes the bytes in and keeps no reference (the command line): they go now, not at return
    mapping = mapping or detect_mapping(table.columns, preset)
    if columns:
        mapping = _with_columns(mapping, columns, table.columns, filename)
    stage_history = None
    if history is not None:
        other_data, other_name = history
        try:
            other = read_table(other_data, other_name)
        except ImportFailure as error:
            raise ImportFailure(f"{other_name}: {error}") from None
        deals_table, history_table = pair_exports(table, other)
        if deals_table is not table:  # the history came first: the other file holds the deals
            table = deals_table
            mapping = detect_mapping(table.columns, preset)
            if columns:
                mapping = _with_columns(mapping, columns, table.columns, table.source)
        history_mapping = detect_mapping(history_table.columns)
        stage_history = read_history(history_table, history_mapping, _date_order(history_table, history_mapping, None))
    missing = mapping.missing()
    if missing:  # before asking about dates: without these columns there is nothing to read
        raise ImportFailure(f"Missing {' and '.join(missing)} column; the columns found: {column_list(table.columns)}.")
    order = _date_order(table, mapping, date_order)
    typed = type_deals(table, mapping, order, stage_history)
    del table, stage_history  # the typed columns keep what they use of the file's text; the rest goes now
    deals = finish_deals(typed, outcome_map, stage_order)
    del typed
    result = calibrate(
        deals.deals, deals.stage_order, rows_read=deals.rows_read, notes=deals.notes, currency=currency, rates=rates
    )
    return deals, result


def json_safe(value: object) -> object:
    """``value`` with every NaN or infinity replaced by None, as JSON allows (recursively through lists and dicts).

    >>> json_safe({"a": float("nan"), "b": [1.5, float("inf")], "c": "x"})
    {'a': None, 'b': [1.5, None], 'c': 'x'}
    """
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def summary_dict(result: Calibration, deals: DealImport | None = None) -> dict:
    """The headline figures, as the command line prints them (JSON-safe: no NaN or infinity)."""
    o = result.overall
    report = {
        "rows": result.rows_read,
        "bad_rows": result.rows_bad,
        "won": o.won,
        "lost": o.lost,
        "open": o.open,
        "win_rate": o.win_rate,
        "win_rate_value": o.win_rate_value,
        "avg_deal_size": o.avg_deal_size,
        "median_deal_size": o.median_deal_size,
        "median_cycle_days": o.cycle_median_days,
        "cycle_quartiles_days": [o.cycle_q1_days, o.cycle_q3_days],
        "currency": result.currency,
        "stage_order": list(result.stage_order),
        "funnel": "one step at the win rate" if result.one_step else "stage by stage",
        "stage_conversion": [
            {
                "from": c.from_stage,
                "to": c.to_stage,
                "reached": c.reached,
                "advanced": c.advanced,
                "rate": c.rate,
                "low": c.low,
                "high": c.high,
            }
            for c in o.conversions
        ],
        "suggested_coverage": o.suggested_coverage,
        "lag_days": list(result.lag_days),
        "seasonality": list(result.seasonality),
        "by_owner": [
            {
                "owner": f.owner,
                "deals": f.deals,
                "won": f.won,
                "lost": f.lost,
                "win_rate": f.win_rate,
                "avg_deal_size": f.avg_deal_size,
                "median_cycle_days": f.cycle_median_days,
            }
            for f in result.by_owner
        ],
        "by_currency": [
            {
                "currency": f.currency,
                "deals": f.deals,
                "won": f.won,
                "lost": f.lost,
                "open": f.open,
                "win_rate": f.win_rate,
                "win_rate_value": f.win_rate_value,
                "avg_deal_size": f.avg_deal_size,
                "median_deal_size": f.median_deal_size,
                "suggested_coverage": f.suggested_coverage,
            }
            for f in result.by_currency
        ],
        "notes": list(result.notes),
    }
    if deals is not None:
        report["preset"] = deals.preset
        report["stages"] = dict(deals.outcomes)
        report["problems"] = deals.problems.head(50).to_dict("records")
    return json_safe(report)  # type: ignore[return-value]


# --------------------------------------------------------------------------- into a plan


@dataclass(frozen=True, slots=True)
class PlanSettings:
    """What applying a profile puts on the Plan page."""

    deal_size: float
    stages: tuple[Stage, ...]
    won_stage: str
    coverage_ratio: float | None
    notes: tuple[str, ...] = field(default_factory=tuple)


def plan_settings(result: Calibration) -> PlanSettings:
    """Deal size, funnel (ratio = 1 / conversion, lag = median days to the next stage), won stage, coverage.

    >>> import pandas as pd
    >>> deals = pd.DataFrame({"outcome": ["won", "lost", "lost", "lost"], "amount": [500.0, None, None, None],
    ...                       "furthest": [1, 0, 0, 0]})
    >>> settings = plan_settings(calibrate(deals, ("Demo", "Won")))
    >>> settings.deal_size, [(s.name, s.ratio) for s in settings.stages], settings.won_stage
    (500.0, [('Demo', 4.0)], 'Won')
    """
    figures = result.overall
    if figures.avg_deal_size is None or figures.won == 0:
        raise CalibrationError("This profile has no won deals with an amount, so it cannot set a deal size.")
    notes = []
    stages = []
    for conversion, lag in zip(figures.conversions, result.lag_days, strict=True):
        ratio = conversion.ratio
        if ratio is None:
            ratio = FALLBACK_RATIO
            notes.append(
                f"No deal that reached “{conversion.from_stage}” went on to “{conversion.to_stage}”: "
                f"its ratio is set to {FALLBACK_RATIO:g} : 1 — check it."
            )
        stages.append(Stage(conversion.from_stage, round(ratio, 2), round(lag) if lag is not None else 0))
    if not stages and figures.win_rate:
        # Only won and lost in the file: the whole funnel is one step, opportunities to wins.
        cycle = round(figures.cycle_median_days) if figures.cycle_median_days is not None else 0
        stages.append(Stage(ONE_STEP_STAGE, round(1 / figures.win_rate, 2), cycle))
        notes.append(f"The file has no stages between open and won: the funnel is one step, {ONE_STEP_STAGE} → won.")
    return PlanSettings(
        deal_size=round(figures.avg_deal_size, 2),
        stages=tuple(stages),
        won_stage=result.stage_order[-1],
        coverage_ratio=figures.suggested_coverage,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- confidence


@dataclass(frozen=True, slots=True)
class ConfidenceLevel:
    """Top-of-funnel activity that hits the target with probability ``level``."""

    level: float
    top_of_funnel: int
    multiplier: float


@dataclass(frozen=True, slots=True)
class Confidence:
    expected_top: int
    levels: tuple[ConfidenceLevel, ...]
    chance_plan_hits: float
    simulations: int

    def at(self, level: float) -> ConfidenceLevel:
        """The level computed for a ``level`` chance (one of those asked for)."""
        return next(lv for lv in self.levels if math.isclose(lv.level, level))


def confidence(
    target: float,
    rates: Sequence[float],
    sample_sizes: Sequence[int],
    deal_size: float,
    deal_size_sd: float,
    deal_size_deals: int,
    planned_top: int,
    *,
    levels: Sequence[float] = CONFIDENCE_LEVELS,
    simulations: int = 20_000,
    seed: int = 20_261_122,
) -> Confidence:
    """How much top-of-funnel activity each chance of hitting ``target`` needs, and the chance ``planned_top`` hits.

    Each simulated year draws every conversion rate from what ``sample_sizes`` deals
    could have shown (Beta(k + ½, n − k + ½), k = rate · n) and the average deal size
    from its standard error (sd / √deals); then each top-of-funnel activity becomes a
    sale with probability q = ∏ rates, so the activity needed for D sales is D plus a
    negative-binomial number of misses, and a plan's sales are Binomial(planned, q).
    Vectorised numpy, fixed seed: the same inputs always give the same answer.

    >>> c = confidence(385_000, [0.5, 0.5, 0.5], [3000, 3000, 3000], 3850, 1000, 3000, planned_top=800)
    >>> c.expected_top, [lv.top_of_funnel for lv in c.levels], round(c.chance_plan_hits, 1)
    (800, [802, 871, 908], 0.5)
    """
    rates_arr = np.asarray(rates, dtype=float)
    sizes = np.asarray(sample_sizes, dtype=float)
    if rates_arr.size == 0 or rates_arr.size != sizes.size:
        raise CalibrationError("Confidence needs one sample size per conversion rate.")
    if np.any((rates_arr <= 0) | (rates_arr > 1)) or deal_size <= 0 or target <= 0:
        raise CalibrationError("Confidence needs conversion rates above 0%, a deal size and a target above 0.")
    rng = np.random.default_rng(seed)
    n = np.maximum(sizes, 1.0)
    k = rates_arr * n
    drawn_rates = rng.beta(k + 0.5, n - k + 0.5, size=(simulations, rates_arr.size))
    q = np.clip(drawn_rates.prod(axis=1), 1e-9, 1.0)
    sd = max(float(deal_size_sd or 0.0), 0.0)
    mean_size = deal_size + rng.standard_normal(simulations) * sd / math.sqrt(max(deal_size_deals, 1))
    mean_size = np.maximum(mean_size, deal_size * 0.05)
    deals_needed = np.ceil(target / mean_size)
    top_needed = deals_needed + rng.negative_binomial(deals_needed, q)
    expected_top = math.ceil(math.ceil(target / deal_size) / float(rates_arr.prod()) - 1e-9)
    out_levels = []
    for level in levels:
        top = math.ceil(np.quantile(top_needed, level))
        out_levels.append(ConfidenceLevel(level, top, top / expected_top))
    wins = rng.binomial(max(int(planned_top), 0), q)
    revenue = wins * mean_size + np.sqrt(wins) * sd * rng.standard_normal(simulations)
    return Confidence(expected_top, tuple(out_levels), float(np.mean(revenue >= target)), simulations)


def plan_confidence(
    result: Calibration, inputs: PlanInputs, *, levels: Sequence[float] = CONFIDENCE_LEVELS
) -> Confidence:
    """:func:`confidence` for a plan: its own ratios and deal size, with the profile's sample sizes.

    Stage k of the plan takes the sample size of the profile's stage k (the last one's when the
    plan has more stages than the profile), so a rep who edits a ratio keeps the profile's certainty.
    """
    figures = result.overall
    if figures.won == 0:
        raise CalibrationError("This profile has no won deals, so it cannot say how sure a plan is.")
    samples = [c.reached for c in figures.conversions] or [figures.won + figures.lost]
    rates = [1 / s.ratio for s in inputs.stages]
    sizes = [samples[min(i, len(samples) - 1)] for i in range(len(rates))]
    planned_top = int(stage_totals(deals_needed(inputs.target, inputs.deal_size), inputs.stages)[0])
    return confidence(
        inputs.target,
        rates,
        sizes,
        inputs.deal_size,
        result.overall.deal_size_sd or 0.0,
        result.overall.won_with_amount,
        planned_top,
        levels=levels,
    )


def plan_for_chance(
    inputs: PlanInputs, certainty: Confidence | None, level: float | None
) -> tuple[FunnelPlan, ConfidenceLevel | None]:
    """The plan whose activity hits ``inputs.target`` with a ``level`` chance, and that level.

    It is the expected plan for the target times the level's multiplier (top of the funnel needed for that
    chance ÷ the expected top of the funnel), so every stage and week scales alike. Without a ``certainty``
    (no profile) or a ``level`` (the expected case): the expected plan, and None.

    >>> from datetime import date
    >>> inputs = PlanInputs(385_000, 3_850, date(2027, 1, 4), date(2027, 3, 26))
    >>> sure = Confidence(800, (ConfidenceLevel(0.9, 880, 1.1),), 0.5, 20_000)
    >>> plan, chosen = plan_for_chance(inputs, sure, 0.9)
    >>> plan.deals_needed, chosen.level, plan_for_chance(inputs, sure, None)[0].deals_needed
    (110, 0.9, 100)
    """
    if certainty is None or level is None:
        return build_plan(inputs), None
    chosen = certainty.at(level)
    return build_plan(replace(inputs, target=inputs.target * chosen.multiplier)), chosen


# --------------------------------------------------------------------------- counting


@dataclass(frozen=True, slots=True)
class DealTables:
    """What calibration needs from a deal list, aggregated.

    ``summary``: one row for the team (``is_team``) and one per owner: deal counts by
    outcome, won and lost amounts, deal size and sales-cycle quantiles.
    ``reached``: deals by owner and furthest stage index, with how many are still open there.
    ``lags``: median days from entering stage i to entering stage i+1, and the deals behind it.
    ``months`` / ``quarter_weeks``: won amount by calendar month and by week of the quarter.
    ``won_amounts`` / ``cycle_days``: the raw values, for the distribution charts.
    ``closed``: the first and last close of a won or lost deal (seconds since 1970), None without one.
    """

    summary: pd.DataFrame
    reached: pd.DataFrame
    lags: pd.DataFrame
    months: pd.DataFrame
    quarter_weeks: pd.DataFrame
    won_amounts: np.ndarray
    cycle_days: np.ndarray
    closed: tuple[int, int] | None = None


_OUTCOME_CODES = {"won": 1, "lost": 2, "open": 3}


#: An unknown date, as int64 seconds (NaT's own bit pattern).
_UNKNOWN = np.iinfo(np.int64).min


def _seconds(deals: pd.DataFrame, column: str, rows: np.ndarray | None = None) -> np.ndarray:
    """A date column (only ``rows``, when given) as int64 seconds since 1970, :data:`_UNKNOWN` where unknown.

    The parsed dates are datetime64[s] already: this is a view of them, not a copy.
    """
    if column not in deals.columns:
        return np.full(len(deals) if rows is None else int(np.count_nonzero(rows)), _UNKNOWN)
    values = deals[column].to_numpy()
    if rows is not None:
        values = values[rows]
    if values.dtype.kind != "M":
        values = pd.to_datetime(values).to_numpy()
    return values.astype("datetime64[s]", copy=False).view("int64")


def _between(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calendar days from ``start`` to ``end`` (seconds, as :func:`_seconds` gives them) where both are known, as
    floats counted as date_diff('day', …) counts them (midnights crossed); and which rows those are."""
    known = (start != _UNKNOWN) & (end != _UNKNOWN)
    return (end[known] // 86_400 - start[known] // 86_400).astype("float64"), known


def _group_quantiles(values: np.ndarray, groups: np.ndarray, size: int, qs: Sequence[float]) -> np.ndarray:
    """Each group's quantiles of ``values``, interpolated linearly between the two nearest values (as numpy's
    and DuckDB's quantile_cont do): one row per group, one column per quantile, NaN for an empty group."""
    out = np.full((size, len(qs)), np.nan)
    counts = np.bincount(groups, minlength=size)
    if not len(values):
        return out
    if size == 1:
        ordered = np.sort(values)
    else:  # by value, then (stably) by group: two plain sorts beat one lexsort on two keys
        by_value = np.argsort(values)
        ordered = values[by_value[np.argsort(groups[by_value], kind="stable")]]
    starts = np.cumsum(counts) - counts
    filled = counts > 0
    for j, q in enumerate(qs):
        at = starts[filled] + q * (counts[filled] - 1)
        low, high = np.floor(at).astype(np.int64), np.ceil(at).astype(np.int64)
        out[filled, j] = ordered[low] + (ordered[high] - ordered[low]) * (at - low)
    return out


def _money_and_cycle(amount: np.ndarray, cycle: np.ndarray, has_cycle: np.ndarray, groups: np.ndarray, size: int,
                     lost_amount: np.ndarray, lost_groups: np.ndarray) -> dict[str, object]:  # fmt: skip
    """Won and lost amounts, deal size and sales-cycle quartiles per group, from the won deals' amounts (NaN where
    unknown), the cycles of those ``has_cycle`` marks, and the lost deals' amounts above 0."""
    priced = ~np.isnan(amount)
    counted = np.bincount(groups[priced], minlength=size)
    total = np.bincount(groups[priced], amount[priced], minlength=size)
    mean = np.divide(total, counted, out=np.full(size, np.nan), where=counted > 0)
    spread = np.bincount(groups[priced], (amount[priced] - mean[groups[priced]]) ** 2, minlength=size)
    sd = np.sqrt(np.divide(spread, counted - 1, out=np.full(size, np.nan), where=counted > 1))
    median = _group_quantiles(amount[priced], groups[priced], size, (0.5,))[:, 0]
    quartiles = _group_quantiles(cycle, groups[has_cycle], size, (0.25, 0.5, 0.75))
    cycle_deals = np.bincount(groups[has_cycle], minlength=size)
    return {
        "won_amount": total,
        "won_with_amount": counted,
        "avg_won": mean,
        "median_won": median,
        "sd_won": sd,
        "cycle": [tuple(row) if n else None for row, n in zip(quartiles.tolist(), cycle_deals, strict=True)],
        "cycle_deals": cycle_deals,
        "lost_amount": np.bincount(lost_groups, lost_amount, minlength=size),
        "lost_with_amount": np.bincount(lost_groups, minlength=size),
    }


def _outcome_codes(words: pd.Series) -> np.ndarray:
    """Each deal's outcome as a small code (1 won, 2 lost, 3 open, 0 anything else), in one pass."""
    found = pc.index_in(pa.array(words), value_set=pa.array(list(_OUTCOME_CODES)))
    return (pc.fill_null(found, -1).to_numpy(zero_copy_only=False) + 1).astype(np.int8)


def _stacked(team: object, owners: object) -> list | np.ndarray:
    """The team's figure above the owners' (lists of quartiles or arrays)."""
    if isinstance(team, list) and isinstance(owners, list):
        return team + owners
    return np.concatenate([np.asarray(team), np.asarray(owners)])


def _amount_by(key: np.ndarray, amount: np.ndarray, size: int, name: str) -> pd.DataFrame:
    """Amounts summed by a small key (0 … size-1), for the keys that have any, numbered from 1."""
    deals = np.bincount(key, minlength=size)
    return pd.DataFrame(
        {name: np.flatnonzero(deals) + 1, "amount": np.bincount(key, amount, minlength=size)[deals > 0]}
    )


def deal_tables(deals: pd.DataFrame, stage_count: int) -> DealTables:
    """Aggregate a deal list (the shape :func:`planner.imports.read_deals` returns) for calibration.

    Whole columns at once: each deal's owner and outcome become small codes, and every count, sum
    and quantile is a bincount or a sort over them. The won deals are set apart once for the amount
    and cycle figures; nothing goes row by row, and no copy of the frame is made.
    """
    outcome = _outcome_codes(deals["outcome"])
    codes, names = pd.factorize(deals["owner"].fillna("").astype("str"), sort=True)
    owners = len(names)
    furthest = pd.to_numeric(deals["furthest"]).to_numpy(dtype="float64", na_value=np.nan)
    placed = ~np.isnan(furthest)
    stages = int(np.nanmax(furthest)) + 1 if placed.any() else 0
    place = np.where(placed, furthest, 0).astype(np.int64)
    by_outcome = np.bincount(codes * 4 + outcome, minlength=owners * 4).reshape(owners, 4)
    is_open = outcome == _OUTCOME_CODES["open"]
    reach = np.bincount(codes[placed] * stages + place[placed], minlength=owners * stages).reshape(owners, stages)
    still_open = np.bincount(codes[placed & is_open] * stages + place[placed & is_open], minlength=owners * stages)
    still_open = still_open.reshape(owners, stages)

    amount = pd.to_numeric(deals["amount"]).to_numpy(dtype="float64", na_value=np.nan)
    won = outcome == _OUTCOME_CODES["won"]
    lost = (outcome == _OUTCOME_CODES["lost"]) & (amount > 0)
    closed = _seconds(deals, "closed", won)
    cycle, has_cycle = _between(_seconds(deals, "created", won), closed)
    won_amount, won_owner = amount[won], codes[won]
    team = _money_and_cycle(won_amount, cycle, has_cycle, np.zeros(len(won_owner), np.int64), 1, amount[lost],
                            np.zeros(int(lost.sum()), np.int64))  # fmt: skip
    each = _money_and_cycle(won_amount, cycle, has_cycle, won_owner, owners, amount[lost], codes[lost])
    counts = np.vstack([by_outcome.sum(axis=0), by_outcome])  # the team's row first, then each owner's
    summary = pd.DataFrame(
        {
            "is_team": [True] + [False] * owners,
            "owner": ["", *map(str, names)],
            "deals": counts.sum(axis=1),
            **{word: counts[:, number] for word, number in _OUTCOME_CODES.items()},
            **{key: _stacked(team[key], each[key]) for key in team},
        }
    )
    grid = np.vstack([reach.sum(axis=0), reach])
    open_grid = np.vstack([still_open.sum(axis=0), still_open])
    row, stage = np.nonzero(grid)
    reached = pd.DataFrame(
        {
            "is_team": row == 0,
            "owner": np.array(["", *map(str, names)], dtype=object)[row],
            "furthest": stage,
            "deals": grid[row, stage],
            "open": open_grid[row, stage],
        }
    )

    lag_rows = []
    entered = [_seconds(deals, f"entered_{i}") if f"entered_{i}" in deals.columns else None for i in range(stage_count)]
    for i, (frm, to) in enumerate(itertools.pairwise(entered)):
        if frm is not None and to is not None:
            ahead = (frm != _UNKNOWN) & (to >= frm)  # (a stage entered before the one before it says nothing)
            days = (to[ahead] // 86_400 - frm[ahead] // 86_400).astype("float64")
            lag_rows.append({"stage": i, "median_days": float(np.median(days)) if len(days) else None,
                             "deals": len(days)})  # fmt: skip
    lags = pd.DataFrame(lag_rows, columns=["stage", "median_days", "deals"])

    # Seasonality: won amounts by calendar month and by week of the quarter (the 13th takes a long quarter's end).
    booked = (closed != _UNKNOWN) & (won_amount > 0)
    day, value = (closed[booked] // 86_400).astype("datetime64[D]"), won_amount[booked]
    month = day.astype("datetime64[M]")
    of_year = month.astype(np.int64) % 12
    quarter_start = (month - (of_year % 3).astype("timedelta64[M]")).astype("datetime64[D]")
    week = np.minimum((day - quarter_start).astype(np.int64) // 7 + 1, 13)
    months = _amount_by(of_year, value, 12, "month")
    quarter_weeks = _amount_by(week - 1, value, 13, "week")
    decided = _seconds(deals, "closed", won | (outcome == _OUTCOME_CODES["lost"]))
    decided = decided[decided != _UNKNOWN]
    span = (int(decided.min()), int(decided.max())) if len(decided) else None
    return DealTables(summary, reached, lags, months, quarter_weeks, won_amount[~np.isnan(won_amount)], cycle,
                      span)  # fmt: skip
