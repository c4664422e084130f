"""Will we hit it? A forecast range from the open deals, forecast categories, and how accurate past forecasts were.

Each open deal in the latest pipeline snapshot gets a chance to close inside its owner's period::

    chance = stage win rate × age factor × slip factor          (0 when the close date is after the period end)
    stage win rate = ∏ conversion k → k+1, from the deal's stage to won   (the calibrated profile)
    age factor     = min(1, usual days at the stage / days the deal has been there)
    slip factor    = ½ ^ (times its close date has slipped)

Each simulated period then wins every deal with its chance, independently, at its full amount::

    bookings = booked so far + Σ amount × won          (per rep; the team is the sum per simulation)
    mean     = booked + Σ amount × chance,   variance = Σ amount² × chance × (1 − chance)

P10 / P50 / P90 are the bookings that 10% / 50% / 90% of simulated periods end at or below, and the
chance of hitting is the share of simulated periods that reach the target. Without the largest open
deal (or the largest N), the same simulated periods are read again with those deals never won, so the
difference is the deal's, not sampling noise.

Forecast accuracy compares every recorded projection (run-rate, pipeline-weighted, P50, commit) with the
period's final bookings::

    % error = (projected − actual) / actual,   MAPE = mean |% error|,   bias = mean % error (+ = too high)

Example -- a rep with 60,000 booked of a 100,000 target and two deals at a 50% stage, one closing too late:

>>> import pandas as pd
>>> from datetime import date
>>> from planner.calibrate import calibrate
>>> history = pd.DataFrame({"outcome": ["won", "lost"], "amount": [1.0, 1.0], "furthest": [1, 0]})
>>> profile = calibrate(history, ("Proposal", "Won"))          # 1 of 2 proposals won: 50%
>>> deals = pd.DataFrame({"deal_id": ["A", "B"], "owner": "Ana", "stage": "Proposal",
...                       "amount": [40_000.0, 30_000.0], "close_date": pd.to_datetime(["2027-03-20", "2027-05-01"])})
>>> ana = RepStanding("Ana", target=100_000, booked=60_000, period_start=date(2027, 1, 1),
...                   period_end=date(2027, 3, 31))
>>> result = forecast(deals, profile, [ana], as_of=date(2027, 3, 1), simulations=2_000)
>>> row = result.base.team
>>> row.expected, row.pipeline, round(row.chance_of_hitting, 1)   # B closes after the period: no chance
(80000.0, 40000.0, 0.5)
>>> row.p10, row.p90
(60000.0, 100000.0)
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

from planner.calibrate import Calibration
from planner.currency import Rates
from planner.funnel import FunnelPlan, build_plan
from planner.milestones import Pace, Recovery, plan_pace, recovery_plan
from planner.team import CurrencyView, ReviewInput, TeamReview, convert_pipeline, in_one_currency, team_review

__all__ = [
    "CATEGORIES",
    "CONCENTRATION_FLAG",
    "DEFAULT_METHOD",
    "FALLBACK_METHOD",
    "METHODS",
    "NO_CATEGORIES",
    "PERCENTILES",
    "SEED",
    "SIMULATIONS",
    "SLIP_FACTOR",
    "TEAM",
    "TEAM_LABEL",
    "Accuracy",
    "Categories",
    "CategoryRow",
    "Forecast",
    "ForecastError",
    "ForecastRange",
    "MethodAccuracy",
    "RangeRow",
    "RecordedProjection",
    "RepStanding",
    "TeamOutlook",
    "accuracy_by_week",
    "days_at_stage",
    "deal_chances",
    "forecast",
    "forecast_accuracy",
    "forecast_categories",
    "headline_method",
    "normalise_category",
    "period_actuals",
    "record_projections",
    "recovery_after_pipeline",
    "recovery_asks",
    "rep_standings",
    "simulate_wins",
    "team_outlook",
    "weekly_ask",
]

SIMULATIONS = 10_000
SEED = 20_271_017
PERCENTILES = (0.1, 0.5, 0.9)
#: The share of open pipeline in one deal above which the forecast leans on that deal.
CONCENTRATION_FLAG = 0.30
#: Each slip of a deal's close date multiplies its chance by this.
SLIP_FACTOR = 0.5
#: The rep of a team-level recorded projection (the team has no rep).
TEAM = ""
#: The label of the team's row in a range or category table.
TEAM_LABEL = "Team"
#: Forecast categories, most certain first, as the roll-ups use them.
CATEGORIES = ("closed", "commit", "best case", "pipeline", "omitted")
#: Projection methods Backplan shows, and records for accuracy.
METHODS = ("run-rate", "pipeline-weighted", "P50", "commit")
NO_CATEGORIES = (
    "The pipeline snapshot carries no forecast category. Export it with Forecast Category (Salesforce "
    "ForecastCategoryName, HubSpot “Forecast category”, Zoho “Forecast Category”) to compare the reps' commit "
    "with the simulated P50."
)

# Chances are simulated to 1/256 per batch of simulations, rounded up or down at random in proportion, so
# every simulated period draws each deal with exactly its chance (see simulate_wins).
_LEVELS = 8
#: Deal bytes (8 deals) × simulations per batch: with its 8-byte lookup index, about 4 MB per worker.
_BYTES_PER_CHUNK = 1 << 19
_WORKERS = min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
_BYTE_BITS = ((np.arange(256)[:, None] >> np.arange(8)) & 1).astype(np.float32)  # 256 × 8: bit i of each byte


class ForecastError(ValueError):
    """The forecast cannot be made; the message says what is missing and how to get it."""


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class RepStanding:
    """Where one rep stands on the forecast date: the target, what is booked, and the period."""

    rep: str
    target: float
    booked: float
    period_start: date
    period_end: date


def rep_standings(reps: Sequence[ReviewInput], review: TeamReview) -> tuple[RepStanding, ...]:
    """Each reviewed rep's target, booked and period, in the review's order (worst first).

    >>> from planner.funnel import PlanInputs
    >>> from planner.team import team_review
    >>> plan = PlanInputs(100_000, 5_000, date(2027, 1, 4), date(2027, 3, 26))
    >>> ana = ReviewInput("Ana", 1, "Q1", plan, (), {date(2027, 1, 4): 8_000.0})
    >>> rep_standings([ana], team_review([ana], date(2027, 1, 10)))
    (RepStanding(rep='Ana', target=100000.0, booked=8000.0, period_start=datetime.date(2027, 1, 4), \
period_end=datetime.date(2027, 3, 26)),)
    """
    periods = {r.rep: (r.inputs.period_start, r.inputs.period_end) for r in reps}
    return tuple(RepStanding(row.rep, row.target, row.booked, *periods[row.rep]) for row in review.rows)


def days_at_stage(history: pd.DataFrame, as_of: date) -> pd.Series:
    """Days each deal has been at its latest stage, counted from the first snapshot that shows it there.

    ``history`` has snapshot_date, deal_id and stage, one row per deal per snapshot. A deal that left
    its stage and came back counts from its return. Deals older than the snapshots look younger.

    >>> h = pd.DataFrame({"snapshot_date": pd.to_datetime(["2027-01-04", "2027-01-11", "2027-01-18", "2027-01-18"]),
    ...                   "deal_id": ["A", "A", "A", "B"], "stage": ["Demo", "Proposal", "Proposal", "Demo"]})
    >>> days_at_stage(h, date(2027, 1, 20)).to_dict()
    {'A': 9, 'B': 2}
    """
    frame = history[["snapshot_date", "deal_id", "stage"]].sort_values(["deal_id", "snapshot_date"])
    frame = frame.assign(snapshot_date=pd.to_datetime(frame["snapshot_date"]))
    new_run = (frame["stage"] != frame.groupby("deal_id")["stage"].shift()).astype(int)
    frame = frame.assign(run=new_run.groupby(frame["deal_id"]).cumsum())
    last = frame.groupby("deal_id")["run"].transform("max")
    started = frame[frame["run"] == last].groupby("deal_id")["snapshot_date"].min()
    days = (pd.Timestamp(as_of) - started).dt.days.clip(lower=0)
    return days.astype("int64").rename("days_at_stage")


# --------------------------------------------------------------------------- forecast categories

_CATEGORY_NAMES = {
    # Salesforce ForecastCategoryName and ForecastCategory (API: "Forecast" is Commit, "BestCase", "MostLikely")
    "pipeline": "pipeline",
    "bestcase": "best case",
    "mostlikely": "best case",
    "commit": "commit",
    "forecast": "commit",
    "closed": "closed",
    "omitted": "omitted",
    # HubSpot hs_forecast_category / hs_manual_forecast_category: OMIT, PIPELINE, BEST_CASE, COMMIT, CLOSED
    "omit": "omitted",
    "notforecasted": "omitted",
    "closedwon": "closed",
    # Zoho Forecast Category (Committed) and the older Forecast Type (Open / Closed Won / Closed Lost)
    "committed": "commit",
    "open": "pipeline",
    "closedlost": "omitted",
    "won": "closed",
    "lost": "omitted",
}


def _fold(text: object) -> str:
    return re.sub(r"[^0-9a-z]+", "", str(text).casefold())


def normalise_category(value: object) -> str | None:
    """A CRM's forecast category as one of :data:`CATEGORIES`, or None when it is blank or unknown.

    >>> [normalise_category(v) for v in ["Best Case", "BEST_CASE", "Forecast", "Committed", "OMIT", "", "Maybe"]]
    ['best case', 'best case', 'commit', 'commit', 'omitted', None, None]
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return _CATEGORY_NAMES.get(_fold(value))


# --------------------------------------------------------------------------- each deal's chance


def _stage_rates(profile: Calibration) -> tuple[dict[str, tuple[float | None, float | None, str]], float | None]:
    """Stage key → (win rate from that stage, usual days there, stage name); and the overall win rate."""
    conversions = profile.overall.conversions
    rates: dict[str, tuple[float | None, float | None, str]] = {}
    product: float | None = 1.0
    for i in range(len(conversions) - 1, -1, -1):
        rate = conversions[i].rate
        product = product * rate if product is not None and rate is not None else None
        lag = profile.lag_days[i] if i < len(profile.lag_days) else None
        rates[_fold(conversions[i].from_stage)] = (product, lag if lag and lag > 0 else None, conversions[i].from_stage)
    return rates, profile.overall.win_rate


def deal_chances(
    deals: pd.DataFrame,
    profile: Calibration,
    reps: Sequence[RepStanding],
    *,
    slips: Mapping[str, int] | None = None,
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Each open deal of the reps with its chance to close in its owner's period, and notes on what was assumed.

    ``deals`` has deal_id, owner, stage, amount, close_date and optionally outcome (only "open" deals
    count), days_at_stage (see :func:`days_at_stage`) and forecast_category. ``slips`` is how many
    times each deal's close date has slipped (``planner.store.slip_counts``). The result has one row
    per open deal of a rep: deal_id, owner, account, stage, amount, close_date, in_period,
    stage_win_rate, days_at_stage, usual_days, age_factor, slips, slip_factor, chance, category.

    >>> from planner.calibrate import calibrate
    >>> history = pd.DataFrame({"outcome": ["won", "lost", "lost", "lost"], "amount": 1.0, "furthest": [1, 0, 0, 0],
    ...                         "created": pd.Timestamp("2026-01-01"),
    ...                         "closed": pd.to_datetime(["2026-01-21", None, None, None])})
    >>> profile = calibrate(history, ("Demo", "Won"))           # 1 in 4 demos won; 20 days a demo
    >>> deals = pd.DataFrame({"deal_id": ["A", "B", "C"], "owner": "Ana", "stage": "Demo", "amount": 10.0,
    ...                       "close_date": pd.to_datetime(["2027-03-01", "2027-03-01", "2027-09-01"]),
    ...                       "days_at_stage": [10, 40, 10]})
    >>> ana = RepStanding("Ana", 100.0, 0.0, date(2027, 1, 1), date(2027, 3, 31))
    >>> table, notes = deal_chances(deals, profile, [ana], slips={"A": 1})
    >>> table[["deal_id", "stage_win_rate", "age_factor", "slip_factor", "chance"]].to_dict("split")["data"]
    [['A', 0.25, 1.0, 0.5, 0.125], ['B', 0.25, 0.5, 1.0, 0.125], ['C', 0.25, 1.0, 1.0, 0.0]]
    """
    missing = [c for c in ("deal_id", "owner", "stage", "amount", "close_date") if c not in deals.columns]
    if missing:
        raise ForecastError(
            f"The pipeline snapshot has no {', '.join(missing)} column: the forecast needs each open deal's ID, "
            "owner, stage, amount and close date. Upload the snapshot again with them."
        )
    frame = deals
    if "outcome" in frame.columns:
        frame = frame[frame["outcome"].fillna("open") == "open"]
    notes: list[str] = []
    # Lookups by position (get_indexer, factorize): a dict per row is slow on 20,000-deal snapshots.
    owner = pd.Index([r.rep for r in reps]).get_indexer(frame["owner"])
    if (owner < 0).any():
        notes.append(
            f"{int((owner < 0).sum()):,} open deals belong to people without a plan in this period; they are left out."
        )
        frame = frame[owner >= 0]
        owner = owner[owner >= 0]
    frame = frame.reset_index(drop=True)
    amount = pd.to_numeric(frame["amount"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    usable = np.isfinite(amount) & (amount > 0)
    if not usable.all():
        notes.append(f"{int((~usable).sum()):,} open deals have no amount, so they add nothing to the range.")
    close = pd.to_datetime(frame["close_date"])
    ends = np.array([np.datetime64(r.period_end, "ns") for r in reps])
    in_period = (close.isna() | (close.to_numpy() <= ends[owner])).to_numpy(dtype=bool)

    rates, overall = _stage_rates(profile)
    stage = frame["stage"].fillna("").astype(str)
    codes, names = pd.factorize(stage)
    found = [rates.get(_fold(name), (None, None, name)) for name in names]
    name_rate = np.array([np.nan if f[0] is None else f[0] for f in found])
    name_usual = np.array([np.nan if f[1] is None else f[1] for f in found])
    unknown = np.isnan(name_rate)
    if unknown.any():
        count = int(unknown[codes].sum())
        listed = ", ".join(sorted(name or "(blank)" for name in names[unknown])[:5])
        if overall is not None:
            notes.append(
                f"{count:,} open deals are at stages the profile cannot follow to won ({listed}); they get the "
                f"overall win rate, {overall:.0%}."
            )
        else:
            notes.append(f"{count:,} open deals are at stages the profile does not know ({listed}).")
    stage_rate = np.where(unknown, overall if overall is not None else 0.0, name_rate)[codes]
    usual = name_usual[codes]

    if "days_at_stage" in frame.columns:
        days = pd.to_numeric(frame["days_at_stage"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    else:
        days = np.full(len(frame), np.nan)
    with np.errstate(invalid="ignore"):
        older = (days > usual) & (usual > 0)
    age_factor = np.where(older, usual / np.where(older, days, 1.0), 1.0)
    deal_id = frame["deal_id"].astype(str)
    slip_count = np.zeros(len(frame), dtype=np.int64)
    if slips:
        at = pd.Index([str(k) for k in slips]).get_indexer(deal_id)
        slip_count = np.where(at >= 0, np.array(list(slips.values()), dtype=np.int64)[at], 0)
    slip_factor = SLIP_FACTOR ** slip_count.astype(float)
    chance = np.where(in_period & usable, stage_rate * age_factor * slip_factor, 0.0)
    category = (
        [normalise_category(v) for v in frame["forecast_category"]]
        if "forecast_category" in frame.columns
        else [None] * len(frame)
    )
    table = pd.DataFrame(
        {
            "deal_id": deal_id,
            "owner": frame["owner"],
            "account": frame["account"] if "account" in frame.columns else "",
            "stage": frame["stage"],
            "amount": np.where(usable, amount, 0.0),
            "close_date": close,
            "in_period": in_period,
            "stage_win_rate": stage_rate,
            "days_at_stage": days,
            "usual_days": usual,
            "age_factor": age_factor,
            "slips": slip_count,
            "slip_factor": slip_factor,
            "chance": np.clip(chance, 0.0, 1.0),
            "category": pd.Series(category, dtype=object),
        }
    )
    return table, tuple(notes)


def _assumptions(profile: Calibration, profile_name: str, simulations: int, has_ages: bool) -> tuple[str, ...]:
    """What the forecast assumed, one sentence each, in the words the page prints."""
    rates, overall = _stage_rates(profile)
    named = f"the profile “{profile_name}”" if profile_name else "the calibrated profile"
    stage_list = "; ".join(f"{name} {rate:.0%}" for rate, _, name in reversed(list(rates.values())) if rate is not None)
    start = f"Each open deal starts from the share of past deals at its stage that went on to be won, from {named}"
    slipped = "halves" if SLIP_FACTOR == 0.5 else f"is multiplied by {SLIP_FACTOR:g}"
    return (
        start + (f": {stage_list}." if stage_list else f" (the overall win rate, {overall or 0:.0%})."),
        "A deal that has been at its stage longer than deals usually stay there loses chance in proportion: "
        "twice the usual time, half the chance."
        + ("" if has_ages else " (The snapshot gives no time at stage, so no deal is marked down for age.)"),
        f"Each time a deal's close date has slipped, its chance {slipped}.",
        "A deal whose close date is after the period end cannot count this period; an open deal with no close "
        "date, or one already overdue, is taken to close in the period.",
        "Deals are won or lost independently of each other, at their full amount.",
        f"What is already booked is certain. The range comes from {simulations:,} simulated periods: P10, P50 and "
        "P90 are the bookings that 10%, half and 90% of them end at or below, and the chance of hitting is the "
        "share that reach the target.",
    )


# --------------------------------------------------------------------------- the simulation


@dataclass(frozen=True, slots=True)
class _Lanes:
    """Deals laid out as bits ("lanes") of 64-bit words for :func:`simulate_wins`.

    Owners are ordered by how many bytes (8 lanes) their deals fill, each padded to whole bytes, so
    the owners filling k bytes form one block whose sums are a reshape and a sum. ``owners`` lists
    the owners with a deal that can be won, in that order.
    """

    whole: np.ndarray  # each lane's chance in whole 256ths (uint16)
    fraction: np.ndarray  # and the rest: the chance of rounding up for a batch
    table: np.ndarray  # byte group × 256 patterns: the won amount of each pattern of its 8 lanes
    blocks: tuple[tuple[int, int, int, int], ...]  # (first byte, first owner, owners, bytes each)
    lane_of_deal: np.ndarray  # −1 for a deal that cannot be won
    owners: np.ndarray

    @property
    def words(self) -> int:
        return self.whole.size // 64

    def planes(self) -> tuple[np.ndarray, np.ndarray]:
        """The bits of each lane's whole 256ths, one 64-lane word per lane word and level, and the certain lanes."""
        bits = np.unpackbits((self.whole & 255).astype(np.uint8)[:, None], axis=1, bitorder="little")
        levels = np.packbits(np.ascontiguousarray(bits.T), axis=1, bitorder="little").view("<u8")
        return levels, np.packbits(self.whole >= 256, bitorder="little").view("<u8")

    @classmethod
    def of(cls, amount: np.ndarray, chance: np.ndarray, owner: np.ndarray, owners: int) -> _Lanes:
        live = np.flatnonzero((chance > 0) & (amount > 0))
        counts = np.bincount(owner[live], minlength=owners)
        size = (counts + 7) // 8
        by_size = np.argsort(size, kind="stable")
        rank = np.empty(owners, dtype=np.intp)
        rank[by_size] = np.arange(owners)
        deals = live[np.argsort(rank[owner[live]], kind="stable")]
        first_byte = np.concatenate([[0], np.cumsum(size[by_size])[:-1]])
        first_deal = np.concatenate([[0], np.cumsum(counts[by_size])[:-1]])
        ranked = rank[owner[deals]]
        lane = first_byte[ranked] * 8 + np.arange(deals.size) - first_deal[ranked]
        lanes = (max(int(size.sum()), 1) * 8 + 63) // 64 * 64
        lane_amount = np.zeros(lanes, dtype=np.float32)
        lane_amount[lane] = amount[deals]
        scaled = np.zeros(lanes)
        scaled[lane] = chance[deals] * 256
        lane_of_deal = np.full(amount.size, -1, dtype=np.intp)
        lane_of_deal[deals] = lane
        with_deals = by_size[size[by_size] > 0]
        blocks = []
        for k in np.unique(size[with_deals]):
            first = int(np.searchsorted(size[with_deals], k))
            blocks.append((int(first_byte[rank[with_deals[first]]]), first, int((size == k).sum()), int(k)))
        table = (lane_amount.reshape(-1, 8) @ _BYTE_BITS.T).ravel()
        whole = np.floor(scaled)
        return cls(whole.astype(np.uint16), scaled - whole, table, tuple(blocks), lane_of_deal, with_deals)


def _chunk_wins(
    rng: np.random.Generator,
    lanes: _Lanes,
    planes: tuple[np.ndarray, np.ndarray],
    wins: np.ndarray,
    index: np.ndarray,
    watch: np.ndarray,
) -> np.ndarray:
    """One batch of simulations into ``wins`` (``lanes.owners`` × sims); returns the watched lanes' outcomes.

    A lane is won with probability (w + c) / 256, built bit by bit from the least significant bit of
    its whole 256ths w: won ← random | won where the bit is 1, random & won where it is 0, starting
    from the carry c -- 1 for the whole batch with the chance's leftover fraction, else 0 -- so over
    batches the lane is won with exactly its chance. ``planes`` holds the bits of w (level × word)
    and the lanes certain to be won. Each byte of 8 lanes then looks its won amount up in a
    256-entry table; ``index`` holds 256 × byte group already, so writing a byte into its lowest
    byte makes the lookup index without arithmetic.
    """
    bits, certain = planes
    sims = wins.shape[1]
    carry = np.packbits(rng.random(lanes.whole.size) < lanes.fraction, bitorder="little").view("<u8")
    # Random words level by level: small arrays the allocator reuses, rather than one big one per batch.
    won = rng.bit_generator.random_raw(sims * lanes.words).reshape(sims, lanes.words)
    scratch = np.bitwise_xor(won, carry)
    scratch &= bits[0]
    won &= carry
    won |= scratch
    for level in range(1, _LEVELS):
        draw = rng.bit_generator.random_raw(won.size).reshape(won.shape)
        np.bitwise_xor(draw, won, out=scratch)
        scratch &= bits[level]
        won &= draw
        won |= scratch
    won |= certain
    patterns = won.astype("<u8", copy=False).view(np.uint8).T  # byte group × sims
    index.view(np.uint8).reshape(*index.shape, 8)[:, :sims, 0] = patterns
    amounts = np.take(lanes.table, index[:, :sims], mode="clip")
    for first, row, owners, size in lanes.blocks:
        # Slice by slice: adding k (owners × sims) slices is about twice as quick as np.sum over the middle axis.
        parts = amounts[first : first + owners * size].reshape(owners, size, sims)
        into = wins[row : row + owners]
        if size == 1:
            np.copyto(into, parts[:, 0])
            continue
        np.add(parts[:, 0], parts[:, 1], out=into)
        for part in range(2, size):
            into += parts[:, part]
    return ((won[:, watch // 64] >> (watch % 64).astype(np.uint64)) & np.uint64(1)).astype(bool).T


def simulate_wins(
    amounts: Sequence[float] | np.ndarray,
    chances: Sequence[float] | np.ndarray,
    owners: Sequence[int] | np.ndarray,
    owner_count: int,
    *,
    simulations: int = SIMULATIONS,
    seed: int = SEED,
    watch: Sequence[int] = (),
    leave_out: Sequence[int] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Won amount per owner in each simulated period, and whether each watched deal was won.

        wins[r, s] = Σ over deals d of owner r: amount_d · [d won in simulation s],   P(won) = chance_d

    Deals are independent Bernoulli draws, 8 random bits each, packed 64 to a machine word; batches
    of simulations run on up to two threads, each from its own seeded stream, so a seed always gives
    the same answer. ``leave_out`` deals are never won, and every other deal sees the same random
    draws as without them: leaving deals out can only lower each simulated period. Amounts are
    summed in float32 (seven significant digits). Returns (owner_count × simulations) float32 and
    (len(watch) × simulations) bool.

    >>> wins, watched = simulate_wins([100.0, 50.0, 20.0], [1.0, 0.0, 0.5], [0, 0, 1], 2, simulations=1_000,
    ...                               watch=[2])
    >>> sorted(set(wins[0].tolist())), round(float(watched.mean()), 1), bool((watched[0] == (wins[1] == 20)).all())
    ([100.0], 0.5, True)
    """
    amount = np.asarray(amounts, dtype=float)
    chance = np.clip(np.asarray(chances, dtype=float), 0.0, 1.0)
    owner = np.asarray(owners, dtype=np.intp)
    watch_idx = np.asarray(watch, dtype=np.intp)
    if simulations < 1:
        raise ForecastError("The forecast needs at least one simulation.")
    wins = np.zeros((owner_count, simulations), dtype=np.float32)
    watched = np.zeros((watch_idx.size, simulations), dtype=bool)
    lanes = _Lanes.of(amount, chance, owner, owner_count)
    if not lanes.blocks:
        return wins, watched
    ranked = np.empty((lanes.owners.size, simulations), dtype=np.float32)
    dropped = lanes.lane_of_deal[np.asarray(leave_out, dtype=np.intp)]
    dropped = dropped[dropped >= 0]
    lanes.whole[dropped] = 0  # same lanes, same draws: a left-out deal simply never wins
    lanes.fraction[dropped] = 0.0
    planes = lanes.planes()
    watch_lane = lanes.lane_of_deal[watch_idx]
    watch_live = watch_lane >= 0
    watch_at = np.where(watch_live, watch_lane, 0)
    groups = lanes.words * 8
    per_chunk = int(min(max(_BYTES_PER_CHUNK // groups, 16), 1024))
    bounds = list(range(0, simulations, per_chunk))
    streams = np.random.SeedSequence(seed).spawn(len(bounds))
    workers = min(_WORKERS, len(bounds))

    def run(worker: int) -> None:
        # One lookup index per worker, reused batch after batch: 256 × byte group in every element.
        index = np.repeat(np.arange(groups, dtype="<i8")[:, None] * 256, min(per_chunk, simulations), axis=1)
        for batch in range(worker, len(bounds), workers):
            start = bounds[batch]
            sims = min(per_chunk, simulations - start)
            # SFC64: a well-tested generator some 15% quicker than PCG64 at raw 64-bit words, the bulk of the work.
            rng = np.random.Generator(np.random.SFC64(streams[batch]))
            seen = _chunk_wins(rng, lanes, planes, ranked[:, start : start + sims], index, watch_at)
            watched[:, start : start + sims] = seen & watch_live[:, None]

    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, range(workers)))
    else:
        run(0)
    wins[lanes.owners] = ranked
    return wins, watched


def _percentile_ranks(simulations: int) -> tuple[int, int, int]:
    """Sorted positions of P10, P50, P90: the smallest value with at least that share at or below it."""
    ranks = [min(max(math.ceil(q * simulations - 1e-9) - 1, 0), simulations - 1) for q in PERCENTILES]
    return ranks[0], ranks[1], ranks[2]


def _percentiles(values: np.ndarray) -> np.ndarray:
    """P10, P50, P90 along the last axis (rows × 3), partitioning ``values`` in place.

    One partition at the median, then each half on its own: two passes over the data, not three.
    """
    k10, k50, k90 = _percentile_ranks(values.shape[-1])
    values.partition(k50, axis=-1)
    middle = values[..., k50]
    low = values[..., :k50]
    if k10 < k50:
        low.partition(k10, axis=-1)
        p10 = low[..., k10]
    else:
        p10 = middle
    high = values[..., k50 + 1 :]
    if k90 > k50:
        high.partition(k90 - k50 - 1, axis=-1)
        p90 = high[..., k90 - k50 - 1]
    else:
        p90 = middle
    return np.stack([p10, middle, p90], axis=-1)


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, slots=True)
class RangeRow:
    """One rep's (or the team's) forecast range and what it leans on.

    ``pipeline`` is the open amount closing by the period end (as on Team review); ``coverage`` is
    pipeline ÷ what is left of the target (inf once the target is booked); ``concentration`` is
    the largest such deal's share of the pipeline, ``concentrated`` when above the flag.
    """

    rep: str
    target: float
    booked: float
    pipeline: float
    deals: int
    expected: float
    sd: float
    p10: float
    p50: float
    p90: float
    chance_of_hitting: float
    coverage: float
    largest_deal: float
    concentration: float
    concentrated: bool

    @property
    def remaining(self) -> float:
        return max(self.target - self.booked, 0.0)


@dataclass(frozen=True, slots=True)
class ForecastRange:
    """Every rep's range and the team's, with ``without_top`` of the team's largest deals left out."""

    without_top: int
    rows: tuple[RangeRow, ...]
    team: RangeRow
    removed: tuple[str, ...] = ()
    removed_amount: float = 0.0

    def row(self, rep: str) -> RangeRow:
        """The row of ``rep`` (or of the team, for "Team" when no rep has that name)."""
        found = [r for r in self.rows if r.rep == rep]
        if found:
            return found[0]
        if rep == TEAM_LABEL:
            return self.team
        raise KeyError(rep)

    def table(self) -> pd.DataFrame:
        """The range as pages and exports show it: the team first, then each rep."""
        records = []
        for r in (self.team, *self.rows):
            records.append(
                {
                    "Rep": r.rep,
                    "Target": round(r.target),
                    "Booked": round(r.booked),
                    "P10": round(r.p10),
                    "P50": round(r.p50),
                    "P90": round(r.p90),
                    "Chance of hitting %": round(r.chance_of_hitting * 100),
                    "Expected": round(r.expected),
                    "Pipeline in period": round(r.pipeline),
                    "Coverage of what is left": None if math.isinf(r.coverage) else round(r.coverage, 2),
                    "Largest deal": round(r.largest_deal),
                    "Largest deal % of pipeline": round(r.concentration * 100),
                }
            )
        return pd.DataFrame.from_records(records)


@dataclass(frozen=True, slots=True)
class Forecast:
    """The forecast: the range with every deal, and without the largest ones; the deals; what it assumed."""

    as_of: date
    simulations: int
    seed: int
    reps: tuple[RepStanding, ...]
    base: ForecastRange
    without: tuple[ForecastRange, ...]
    deals: pd.DataFrame = field(compare=False)
    assumptions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    concentration_flag: float = CONCENTRATION_FLAG

    def without_top(self, n: int) -> ForecastRange:
        """The range with the team's ``n`` largest open deals left out (0: every deal)."""
        if n == 0:
            return self.base
        for scenario in self.without:
            if scenario.without_top == n:
                return scenario
        raise KeyError(f"the forecast was made without the top {[s.without_top for s in self.without]}, not {n}")


@dataclass(frozen=True, slots=True)
class _Pipeline:
    """Per rep: the deals counted (closing in the period, not left out) and their analytic moments."""

    mean: np.ndarray
    variance: np.ndarray
    amount: np.ndarray
    deals: np.ndarray
    largest: np.ndarray

    @classmethod
    def of(cls, owner: np.ndarray, amount: np.ndarray, chance: np.ndarray, counted: np.ndarray, reps: int) -> _Pipeline:
        weights = np.where(counted, amount, 0.0)
        largest = np.zeros(reps)
        np.maximum.at(largest, owner, weights)
        return cls(
            mean=np.bincount(owner, weights=weights * chance, minlength=reps),
            variance=np.bincount(owner, weights=weights**2 * chance * (1 - chance), minlength=reps),
            amount=np.bincount(owner, weights=weights, minlength=reps),
            deals=np.bincount(owner, weights=counted.astype(float), minlength=reps).astype(np.int64),
            largest=largest,
        )


def _rows(
    who: Sequence[tuple[str, float, float]],
    wins: np.ndarray,
    stats: _Pipeline,
    pick: np.ndarray | slice,
    flag: float,
) -> list[RangeRow]:
    """Rows for ``who`` ((rep, target, booked) each) from their simulated wins (rows × sims, partitioned in
    place) and the pipeline figures at ``pick``."""
    target = np.array([t for _, t, _ in who], dtype=float)
    booked = np.array([b for _, _, b in who], dtype=float)
    remaining = np.maximum(target - booked, 0.0)
    # Reached the target: simulated wins at least what was left, to the half cent.
    need = (remaining - 0.005).astype(wins.dtype)[:, None]
    hits = np.where(remaining > 0, np.count_nonzero(wins >= need, axis=1) / wins.shape[1], 1.0)
    percentiles = _percentiles(wins) + booked[:, None]
    mean, variance = stats.mean[pick], stats.variance[pick]
    amount, deals, largest = stats.amount[pick], stats.deals[pick], stats.largest[pick]
    rows = []
    for i, (rep, _, _) in enumerate(who):
        concentration = float(largest[i] / amount[i]) if amount[i] > 0 else 0.0
        rows.append(
            RangeRow(
                rep=rep,
                target=float(target[i]),
                booked=float(booked[i]),
                pipeline=float(amount[i]),
                deals=int(deals[i]),
                expected=float(booked[i] + mean[i]),
                sd=float(math.sqrt(max(variance[i], 0.0))),
                p10=float(percentiles[i, 0]),
                p50=float(percentiles[i, 1]),
                p90=float(percentiles[i, 2]),
                chance_of_hitting=float(hits[i]),
                coverage=float(amount[i] / remaining[i]) if remaining[i] > 0 else math.inf,
                largest_deal=float(largest[i]),
                concentration=concentration,
                concentrated=concentration > flag,
            )
        )
    return rows


def _team_row(reps: Sequence[RepStanding], wins: np.ndarray, stats: _Pipeline, flag: float) -> RangeRow:
    """The team's row: the sum per simulated period of every rep's wins (``wins``, sims)."""
    team = _Pipeline(
        mean=np.array([stats.mean.sum()]),
        variance=np.array([stats.variance.sum()]),
        amount=np.array([stats.amount.sum()]),
        deals=np.array([stats.deals.sum()]),
        largest=np.array([stats.largest.max(initial=0.0)]),
    )
    who = [(TEAM_LABEL, sum(r.target for r in reps), sum(r.booked for r in reps))]
    return _rows(who, wins[None, :], team, slice(None), flag)[0]


def forecast(
    deals: pd.DataFrame | None,
    profile: Calibration | None,
    reps: Sequence[RepStanding],
    as_of: date,
    *,
    slips: Mapping[str, int] | None = None,
    without_top: Sequence[int] = (1, 3),
    leave_out: Collection[str] = (),
    simulations: int = SIMULATIONS,
    seed: int = SEED,
    concentration_flag: float = CONCENTRATION_FLAG,
    profile_name: str = "",
) -> Forecast:
    """The forecast range per rep and for the team, with and without the team's largest open deals.

    ``deals`` is the latest pipeline snapshot (see :func:`deal_chances` for its columns), ``profile``
    the calibration whose win rates and stage times apply, ``reps`` each rep's target, booked and
    period. ``without_top`` lists how many of the team's largest deals closing in the period to
    leave out in the extra scenarios; ``leave_out`` names deals to leave out of everything. Raises
    :class:`ForecastError` when the profile, the snapshot or the reps are missing.
    """
    if profile is None:
        raise ForecastError(
            "The forecast needs a calibrated profile for its win rates: calibrate last year's deals on the "
            "Calibrate page (or with `backplan calibrate`) and apply the profile to the plans."
        )
    if profile.overall.won + profile.overall.lost == 0:
        raise ForecastError(
            "The profile has no won or lost deals, so it gives no win rates: calibrate from an export that "
            "includes closed deals."
        )
    if deals is None or deals.empty:
        raise ForecastError(
            "The forecast needs a pipeline snapshot: upload this week's open deals on Team review (deal ID, "
            "owner, stage, amount and close date)."
        )
    if not reps:
        raise ForecastError("No rep has a plan for this period, so there is no target to forecast against.")
    if len({r.rep for r in reps}) != len(reps):
        raise ForecastError("Each rep can appear once in a forecast; two standings share a name.")
    table, notes = deal_chances(deals, profile, reps, slips=slips)
    owner = pd.Index([r.rep for r in reps]).get_indexer(table["owner"]).astype(np.intp)
    amount = table["amount"].to_numpy(dtype=float)
    chance = table["chance"].to_numpy(dtype=float)
    left_out = table["deal_id"].isin([str(d) for d in leave_out]).to_numpy()
    counted = table["in_period"].to_numpy(dtype=bool) & (amount > 0) & ~left_out
    # The largest deals closing in the period, largest first (ties: deal ID), for the "without" scenarios.
    order = np.lexsort((table["deal_id"].to_numpy(dtype=str), -amount))
    tops = sorted({int(n) for n in without_top if n > 0})
    top = [int(i) for i in order[counted[order]][: max(tops, default=0)]]
    wins, watched = simulate_wins(
        amount,
        chance,
        owner,
        len(reps),
        simulations=simulations,
        seed=seed,
        watch=top,
        leave_out=np.flatnonzero(left_out).tolist(),
    )
    team_wins = wins.sum(axis=0, dtype=np.float64)
    # The same simulated periods with the largest deals never won: only their owners' rows change.
    touched = sorted({int(owner[d]) for d in top})
    touched_wins = wins[touched]  # a copy: the base rows below partition ``wins`` in place
    stats = _Pipeline.of(owner, amount, chance, counted, len(reps))
    who = [(r.rep, r.target, r.booked) for r in reps]
    base_rows = tuple(_rows(who, wins, stats, slice(None), concentration_flag))
    base = ForecastRange(
        0,
        base_rows,
        _team_row(reps, team_wins.copy(), stats, concentration_flag),
        tuple(table["deal_id"][left_out]),
        float(amount[left_out].sum()),
    )
    scenarios = []
    for n in tops:
        removed = top[:n]
        still = counted.copy()
        still[removed] = False
        lost = touched_wins.copy()
        team_lost = team_wins.copy()
        for j, deal in enumerate(removed):
            lost[touched.index(int(owner[deal]))] -= np.float32(amount[deal]) * watched[j]
            team_lost -= amount[deal] * watched[j]
        stats_n = _Pipeline.of(owner, amount, chance, still, len(reps))
        picked = np.array(touched, dtype=np.intp)
        redone = _rows([who[i] for i in touched], lost, stats_n, picked, concentration_flag)
        changed = dict(zip(touched, redone, strict=True))
        rows = tuple(changed.get(i, row) for i, row in enumerate(base_rows))
        team = _team_row(reps, team_lost, stats_n, concentration_flag)
        ids = tuple(table["deal_id"].iloc[removed])
        scenarios.append(ForecastRange(n, rows, team, ids, float(amount[removed].sum())))
    has_ages = "days_at_stage" in deals.columns and table["days_at_stage"].notna().any()
    return Forecast(
        as_of=as_of,
        simulations=simulations,
        seed=seed,
        reps=tuple(reps),
        base=base,
        without=tuple(scenarios),
        deals=table,
        assumptions=_assumptions(profile, profile_name, simulations, bool(has_ages)),
        notes=notes,
        concentration_flag=concentration_flag,
    )


def recovery_after_pipeline(plan: FunnelPlan, progress: Pace, row: RangeRow) -> Recovery:
    """The recovery plan for what the open pipeline is not expected to bring: target − expected bookings.

    :func:`planner.milestones.recovery_plan` pushes what is left back through the funnel; here "what
    is left" is net of the pipeline's expected wins, so leaving the biggest deal out asks for more.
    """
    return recovery_plan(plan, replace(progress, remaining=max(row.target - row.expected, 0.0)))


# --------------------------------------------------------------------------- forecast categories, rolled up


@dataclass(frozen=True, slots=True)
class CategoryRow:
    """One rep's (or the team's) forecast by category, cumulative as CRMs roll them up.

    ``closed`` is what is booked (as on Track); ``commit`` = closed + open Commit deals closing in
    the period; ``best_case`` = commit + open Best Case deals; ``pipeline``, ``omitted`` and
    ``uncategorised`` are the open amounts in those categories alone. ``commit_vs_p50`` is commit −
    the simulated P50: above 0 the rep calls more than the deals' history suggests.
    """

    rep: str
    closed: float
    commit: float
    best_case: float
    pipeline: float
    omitted: float
    uncategorised: float
    p50: float
    commit_vs_p50: float


@dataclass(frozen=True, slots=True)
class Categories:
    """Each rep's category roll-up (in the forecast's rep order) and the team's, with notes on gaps."""

    rows: tuple[CategoryRow, ...]
    team: CategoryRow
    notes: tuple[str, ...] = ()

    def table(self) -> pd.DataFrame:
        """Team first, then each rep, in money rounded to units."""
        return pd.DataFrame.from_records(
            {
                "Rep": r.rep,
                "Closed": round(r.closed),
                "Commit": round(r.commit),
                "Best case": round(r.best_case),
                "Pipeline": round(r.pipeline),
                "Omitted": round(r.omitted),
                "No category": round(r.uncategorised),
                "Simulated P50": round(r.p50),
                "Commit − P50": round(r.commit_vs_p50),
            }
            for r in (self.team, *self.rows)
        )


def _category_row(rep: str, booked: float, p50: float, amounts: Mapping[str | None, float]) -> CategoryRow:
    commit = booked + amounts.get("commit", 0.0)
    best = commit + amounts.get("best case", 0.0)
    return CategoryRow(
        rep=rep,
        closed=booked,
        commit=commit,
        best_case=best,
        pipeline=amounts.get("pipeline", 0.0),
        omitted=amounts.get("omitted", 0.0),
        uncategorised=amounts.get(None, 0.0),
        p50=p50,
        commit_vs_p50=commit - p50,
    )


def forecast_categories(result: Forecast) -> Categories | None:
    """Roll the snapshot's forecast categories up per rep and for the team; None when it carries none.

    Open deals closing in the period count under their category; a deal marked Closed that is still
    open counts as commit, since it is not booked yet. Booked revenue is the closed figure, the same
    booked the simulated range starts from, so commit and P50 compare like with like.

    >>> import pandas as pd
    >>> from planner.calibrate import calibrate
    >>> history = pd.DataFrame({"outcome": ["won", "lost"], "amount": 1.0, "furthest": [1, 0]})
    >>> profile = calibrate(history, ("Demo", "Won"))
    >>> deals = pd.DataFrame({"deal_id": ["A", "B", "C"], "owner": "Ana", "stage": "Demo",
    ...                       "amount": [50.0, 30.0, 20.0], "close_date": pd.Timestamp("2027-03-01"),
    ...                       "forecast_category": ["COMMIT", "Best Case", ""]})
    >>> ana = RepStanding("Ana", 200.0, 100.0, date(2027, 1, 1), date(2027, 3, 31))
    >>> team = forecast_categories(forecast(deals, profile, [ana], date(2027, 2, 1), simulations=100)).team
    >>> team.closed, team.commit, team.best_case, team.uncategorised
    (100.0, 150.0, 180.0, 20.0)
    """
    deals = result.deals
    if deals["category"].isna().all():
        return None
    counted = deals[deals["in_period"] & (deals["amount"] > 0)]
    category = counted["category"].where(counted["category"] != "closed", "commit")
    sums = counted.assign(category=category).groupby(["owner", category.fillna("")], dropna=False)["amount"].sum()
    amounts: dict[str, dict[str | None, float]] = {}
    for (owner, name), value in sums.items():
        amounts.setdefault(str(owner), {})[name or None] = float(value)
    rows = tuple(
        _category_row(r.rep, r.booked, row.p50, amounts.get(r.rep, {}))
        for r, row in zip(result.reps, result.base.rows, strict=True)
    )
    team_amounts: dict[str | None, float] = {}
    for by_rep in amounts.values():
        for name, value in by_rep.items():
            team_amounts[name] = team_amounts.get(name, 0.0) + value
    team = _category_row(TEAM_LABEL, sum(r.booked for r in result.reps), result.base.team.p50, team_amounts)
    notes = []
    blank = int(counted["category"].isna().sum())
    if blank:
        notes.append(f"{blank:,} open deals have no forecast category Backplan knows; they show under “No category”.")
    return Categories(rows, team, tuple(notes))


# --------------------------------------------------------------------------- forecast accuracy


@dataclass(frozen=True, slots=True)
class RecordedProjection:
    """A projection as shown on ``as_of``: a rep's (``rep`` = :data:`TEAM` for the team) period total by ``method``."""

    team: str
    rep: str
    as_of: date
    period_start: date
    period_end: date
    method: str
    projected: float


def record_projections(
    team: str,
    result: Forecast | None,
    review: TeamReview | None = None,
    categories: Categories | None = None,
    reps: Sequence[RepStanding] = (),
) -> list[RecordedProjection]:
    """Every projection shown on the forecast's date, per rep and for the team, ready to store.

    Run-rate and pipeline-weighted come from the review, P50 from the forecast, commit from the
    categories; a method that was not shown is not recorded. Without a forecast (no profile yet)
    the review's projections are recorded on its date, with the periods of ``reps``.

    >>> import pandas as pd
    >>> from planner.calibrate import calibrate
    >>> profile = calibrate(pd.DataFrame({"outcome": ["won"], "amount": 1.0, "furthest": [1]}), ("Demo", "Won"))
    >>> deals = pd.DataFrame({"deal_id": ["A"], "owner": "Ana", "stage": "Demo", "amount": [50.0],
    ...                       "close_date": pd.Timestamp("2027-03-01")})
    >>> ana = RepStanding("Ana", 200.0, 100.0, date(2027, 1, 1), date(2027, 3, 31))
    >>> made = record_projections("East", forecast(deals, profile, [ana], date(2027, 2, 1), simulations=10))
    >>> [(p.rep, p.method, p.projected, p.period_end.isoformat()) for p in made]
    [('Ana', 'P50', 150.0, '2027-03-31'), ('', 'P50', 150.0, '2027-03-31')]
    """
    records = []
    standings = result.reps if result is not None else reps
    as_of = result.as_of if result is not None else review.as_of if review is not None else None
    if not standings or as_of is None:
        return records
    periods = {r.rep: (r.period_start, r.period_end) for r in standings}
    team_period = (min(p[0] for p in periods.values()), max(p[1] for p in periods.values()))
    by_method: dict[str, list[tuple[str, float]]] = {method: [] for method in METHODS}
    if review is not None:
        for r in (*review.rows, review.totals):
            who = TEAM if r is review.totals else r.rep
            by_method["run-rate"].append((who, r.run_rate_projection))
            by_method["pipeline-weighted"].append((who, r.weighted_projection))
    if result is not None:
        for row in (*result.base.rows, result.base.team):
            by_method["P50"].append((TEAM if row is result.base.team else row.rep, row.p50))
    if categories is not None:
        for c in (*categories.rows, categories.team):
            by_method["commit"].append((TEAM if c is categories.team else c.rep, c.commit))
    for method in METHODS:
        for who, projected in by_method[method]:
            start, end = team_period if who == TEAM else periods.get(who, team_period)
            records.append(RecordedProjection(team, who, as_of, start, end, method, float(projected)))
    return records


@dataclass(frozen=True, slots=True)
class MethodAccuracy:
    """How far one method's projections for one rep (or the team) were from the final bookings.

    ``mape`` is the mean absolute percentage error (0.12: 12% off on average), ``bias`` the mean
    signed one (above 0: projections ran high).
    """

    rep: str
    method: str
    projections: int
    mape: float
    bias: float


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Every rep's and the team's error by method, the team first, and the team's most accurate method."""

    rows: tuple[MethodAccuracy, ...]
    #: the team's most accurate method (lowest MAPE), None until a period with projections has finished
    best_method: str | None
    notes: tuple[str, ...] = ()

    def table(self) -> pd.DataFrame:
        """One row per rep (the team first) and method, errors in percent."""
        return pd.DataFrame(
            [
                {
                    "Rep": r.rep or TEAM_LABEL,
                    "Method": r.method,
                    "Projections": r.projections,
                    "Error % (MAPE)": round(r.mape * 100, 1),
                    "Bias %": round(r.bias * 100, 1),
                }
                for r in self.rows
            ],
            columns=["Rep", "Method", "Projections", "Error % (MAPE)", "Bias %"],
        )


def _errors(projections: Sequence[RecordedProjection], actuals: Mapping[tuple[str, date], float]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [(p.rep, p.as_of, p.period_end, p.method, p.projected) for p in projections],
        columns=["rep", "as_of", "period_end", "method", "projected"],
    )
    frame["actual"] = [actuals.get((rep, end)) for rep, end in zip(frame["rep"], frame["period_end"], strict=True)]
    frame["actual"] = frame["actual"].astype(float)
    frame["error"] = (frame["projected"] - frame["actual"]) / frame["actual"]
    return frame


def forecast_accuracy(projections: Sequence[RecordedProjection], actuals: Mapping[tuple[str, date], float]) -> Accuracy:
    """Each method's error and bias per rep and for the team, over every finished period.

    ``actuals`` maps (rep, period end) to the period's final bookings, the team's under
    (:data:`TEAM`, its period end); projections of periods without an actual are still open and
    wait. The team's most accurate method has the lowest team MAPE (without team projections, the
    lowest over all reps' projections together); ties go to the earlier of :data:`METHODS`.

        % error = (projected − actual) / actual,   MAPE = mean |% error|,   bias = mean % error

    >>> end = date(2027, 3, 31)
    >>> made = [RecordedProjection("East", TEAM, date(2027, 3, d), date(2027, 1, 1), end, m, v)
    ...         for d, m, v in [(1, "run-rate", 80.0), (8, "run-rate", 90.0), (1, "P50", 110.0), (8, "P50", 100.0)]]
    >>> result = forecast_accuracy(made, {(TEAM, end): 100.0})
    >>> [(r.method, round(r.mape, 2), round(r.bias, 2)) for r in result.rows], result.best_method
    ([('run-rate', 0.15, -0.15), ('P50', 0.05, 0.05)], 'P50')
    """
    frame = _errors(projections, actuals)
    notes = []
    waiting = frame["actual"].isna()
    if waiting.any():
        notes.append(f"{int(waiting.sum()):,} projections are for periods that have not finished; they wait.")
    zero = ~waiting & ~(frame["actual"] > 0)
    if zero.any():
        notes.append(
            f"{int(zero.sum()):,} projections are for periods that booked nothing, so a percentage error "
            "cannot be taken; they are left out."
        )
    done = frame[~waiting & ~zero].assign(absolute=lambda f: f["error"].abs())
    rank = {m: i for i, m in enumerate(METHODS)}
    grouped = done.groupby(["rep", "method"]).agg(
        projections=("error", "size"), mape=("absolute", "mean"), bias=("error", "mean")
    )
    rows = sorted(
        (
            MethodAccuracy(str(rep), str(method), int(g.projections), float(g.mape), float(g.bias))
            for (rep, method), g in grouped.iterrows()
        ),
        key=lambda r: (r.rep != TEAM, r.rep, rank.get(r.method, len(rank)), r.method),
    )
    team_rows = done[done["rep"] == TEAM]
    pool = team_rows if not team_rows.empty else done
    best = None
    if not pool.empty:
        mape = pool.groupby("method")["absolute"].mean()
        best = min(mape.index, key=lambda m: (round(float(mape[m]), 12), rank.get(m, len(rank)), m))
    return Accuracy(tuple(rows), best, tuple(notes))


def accuracy_by_week(
    projections: Sequence[RecordedProjection],
    actuals: Mapping[tuple[str, date], float],
    rep: str = TEAM,
    period_end: date | None = None,
) -> pd.DataFrame:
    """Each method's projection for one period by snapshot date, beside the final bookings: the chart's data.

    The period is ``period_end``, or the latest one of ``rep`` that has an actual. Columns: as_of,
    method, projected, actual; empty when no period of ``rep`` has finished.
    """
    frame = _errors([p for p in projections if p.rep == rep], actuals).dropna(subset=["actual"])
    if period_end is None and not frame.empty:
        period_end = max(frame["period_end"])
    frame = frame[frame["period_end"] == period_end]
    rank = {m: i for i, m in enumerate(METHODS)}
    frame = frame.assign(order=frame["method"].map(rank)).sort_values(["order", "as_of"])
    return frame[["as_of", "method", "projected", "actual"]].reset_index(drop=True)


# --------------------------------------------------------------------------- a team's forecast, as shown

#: The method the headline shows until a finished period says which has been most accurate.
DEFAULT_METHOD = "P50"
#: Without a forecast (no profile or snapshot yet), the headline is the review's own projection.
FALLBACK_METHOD = "pipeline-weighted"


@dataclass(frozen=True, slots=True)
class TeamOutlook:
    """A team's forecast on a day, as Team review and the command line show it, and what it records.

    ``missing`` says what stops the forecast and how to get it ("" when there is one); the
    review's projections are still there to show and record without it.
    """

    team: str
    forecast: Forecast | None
    categories: Categories | None
    missing: str
    assumptions: tuple[str, ...]
    projections: tuple[RecordedProjection, ...]

    def projection(self, method: str, rep: str = TEAM) -> float | None:
        """The projection ``method`` gives ``rep`` (:data:`TEAM` for the team), None when it is not shown."""
        for p in self.projections:
            if p.method == method and p.rep == rep:
                return p.projected
        return None


def _profile_sentence(profile_name: str, profile_plans: int, plans: int) -> str:
    if not profile_name:
        return ""
    if plans == 1:
        if profile_plans:
            return f"The win rates are those of “{profile_name}”, the profile this plan applies."
        return (
            f"This plan applies no calibration profile, so “{profile_name}”, the one the team's forecast reads, "
            "gives the win rates; apply a profile to the plan on the Plan page to choose another."
        )
    if profile_plans == 0:
        return (
            f"No plan of the team applies a calibration profile, so the newest one, “{profile_name}”, gives the win "
            "rates; apply a profile to the plans on the Plan page to choose another."
        )
    if profile_plans < plans:
        return (
            f"The win rates are those of “{profile_name}”, the profile {profile_plans} of the team's {plans} plans "
            "apply."
        )
    return f"The win rates are those of “{profile_name}”, the profile the team's plans apply."


def team_outlook(
    team: str,
    view: CurrencyView,
    review: TeamReview,
    pipeline: pd.DataFrame | None,
    profile: Calibration | None,
    *,
    history: pd.DataFrame | None = None,
    slips: Mapping[str, int] | None = None,
    profile_name: str = "",
    profile_plans: int = 0,
    plans: int = 0,
    without_top: Sequence[int] = (1, 3),
    simulations: int = SIMULATIONS,
    seed: int = SEED,
) -> TeamOutlook:
    """The forecast of the reps of ``review`` (a Team review of ``view``, the team in one currency) from their
    owners' ``pipeline``.

    ``pipeline`` is the snapshot as stored, each deal in its owner's plan's currency (converted here
    as the review converts it); ``history`` the snapshots' sightings of its deals
    (:func:`days_at_stage`), ``slips`` how often each deal's close date slipped. ``profile_plans``
    of the team's ``plans`` apply the profile (0: none does, and it is the newest on file).
    """
    standings = rep_standings(view.reps, review)
    result: Forecast | None = None
    missing = ""
    if not standings:
        missing = "No rep of the team has a plan for this period, so there is no target to forecast against."
    else:
        deals = convert_pipeline(pipeline, view.owner_rates) if pipeline is not None else None
        if deals is not None and history is not None and not history.empty:
            deals = deals.assign(days_at_stage=deals["deal_id"].map(days_at_stage(history, review.as_of)))
        try:
            result = forecast(
                deals,
                profile,
                standings,
                review.as_of,
                slips=slips,
                without_top=without_top,
                simulations=simulations,
                seed=seed,
                profile_name=profile_name,
            )
        except ForecastError as error:
            missing = str(error)
    categories = forecast_categories(result) if result is not None else None
    chosen = _profile_sentence(profile_name, profile_plans, plans)
    assumptions = (*(result.assumptions if result is not None else ()), *((chosen,) if result and chosen else ()))
    projections = record_projections(team, result, review, categories, standings) if standings else []
    return TeamOutlook(team, result, categories, missing, assumptions, tuple(projections))


def period_actuals(
    finished: Mapping[date, Sequence[ReviewInput]], currency: str | None, rates: Rates
) -> dict[tuple[str, date], float]:
    """What each rep, and the team, booked in each finished period: the actuals projections are judged against.

    ``finished`` holds, per period end, the team's plans as of that day (``store.forecast_sources``);
    a rep counts for the period their plan ends on that day, in ``currency`` (with ``rates``), and the
    team's figure is the sum of those reps. Keys: (rep, period end), the team's (:data:`TEAM`, period end).

    >>> from planner.funnel import PlanInputs
    >>> q1 = PlanInputs(100_000, 5_000, date(2027, 1, 4), date(2027, 3, 26))
    >>> ana = ReviewInput("Ana", 1, "Q1", q1, (), {date(2027, 1, 4): 60_000.0, date(2027, 3, 22): 30_000.0})
    >>> period_actuals({date(2027, 3, 26): [ana]}, "USD", {})
    {('Ana', datetime.date(2027, 3, 26)): 90000.0, ('', datetime.date(2027, 3, 26)): 90000.0}
    """
    actuals: dict[tuple[str, date], float] = {}
    for end, reps in finished.items():
        ending = [r for r in in_one_currency(reps, currency, rates).reps if r.inputs.period_end == end]
        if not ending:
            continue
        review = team_review(ending, end)
        actuals.update({(row.rep, end): row.booked for row in review.rows})
        actuals[(TEAM, end)] = review.totals.booked
    return actuals


def headline_method(outlook: TeamOutlook, accuracy: Accuracy | None, rep: str = TEAM) -> tuple[str, str]:
    """The method the headline figure shows for ``rep``, and why, in the page's words.

    The team's most accurate method over finished periods when it is shown today; else the P50,
    or without a forecast the pipeline-weighted projection.
    """
    best = accuracy.best_method if accuracy is not None else None
    if best is not None and outlook.projection(best, rep) is not None:
        return best, "the most accurate method for this team over its finished periods"
    if outlook.projection(DEFAULT_METHOD, rep) is not None:
        why = "no period with recorded projections has finished yet" if best is None else f"{best} is not shown today"
        return DEFAULT_METHOD, f"until a finished period says which method is most accurate ({why})"
    return FALLBACK_METHOD, "there is no forecast range to take a P50 from"


def weekly_ask(recovery: Recovery) -> str:
    """What a recovery plan asks for a week, stage by stage, in words ("too late" for a stage out of time).

    >>> from planner.milestones import RecoveryStage
    >>> weekly_ask(Recovery(9_000, 2, (RecoveryStage("Calls", 30, 0.0, math.inf, 9.0, False),
    ...                                RecoveryStage("Meetings", 8, 0.4, 20.0, 2.0, True),
    ...                                RecoveryStage("Deals won", 2, 2.0, 1.0, 0.5, True)), False, 27_000))
    '20 Meetings, 1 Deals won (too late for new Calls)'
    """
    if recovery.remaining <= 0:
        return "nothing: the pipeline is expected to cover it"
    asks = ", ".join(f"{round(s.per_week_needed, 1):,g} {s.name}" for s in recovery.stages if s.in_time)
    late = [s.name for s in recovery.stages if not s.in_time]
    return asks + (f" (too late for new {', '.join(late)})" if late else "")


def recovery_asks(reps: Sequence[ReviewInput], scenario: ForecastRange, as_of: date) -> pd.DataFrame:
    """What each rep's recovery plan asks for a week once the pipeline brings what it is expected to.

    One row per rep of ``scenario`` whose plan is in ``reps``: what is left after the expected
    bookings, the deals that is, and each stage's activity a week from the day on
    (:func:`recovery_after_pipeline`); "too late" for a stage with no time left.
    """
    by_rep = {r.rep: r for r in reps}
    rows = []
    for row in scenario.rows:
        rep = by_rep.get(row.rep)
        if rep is None:
            continue
        plan = build_plan(rep.inputs)
        progress = plan_pace(rep.inputs, rep.milestones, rep.weekly_revenue, as_of, rep.daily_revenue)
        recovery = recovery_after_pipeline(plan, progress, row)
        rows.append(
            {
                "Rep": row.rep,
                "Left after the expected pipeline": round(recovery.remaining),
                "Deals": recovery.deals_needed,
                "A week from now": weekly_ask(recovery),
            }
        )
    return pd.DataFrame(rows, columns=["Rep", "Left after the expected pipeline", "Deals", "A week from now"])
