"""Exchange rates sales ops enter, and money in one currency from plans in several.

A rate reads as a person says it: ``1 EUR = 1.08 USD`` is ``Rate("EUR", "USD", 1.08)``.
Converting uses the rate entered for that pair, or the inverse of the opposite
pair; there is no guessing through a third currency and no rate from anywhere
but the table, so a figure is either converted the way ops said or not at all::

    amount in B = amount in A x rate(A -> B)        rate(A -> B) = 1 / rate(B -> A) if only that one is entered

>>> rates = {("EUR", "USD"): 1.08, ("USD", "GBP"): 0.79}
>>> rate_between(rates, "EUR", "USD"), round(rate_between(rates, "GBP", "USD"), 4), rate_between(rates, "EUR", "GBP")
(1.08, 1.2658, None)
>>> missing_rates(["EUR", "GBP", "USD"], "USD", rates)
[]
>>> missing_rates(["EUR", "GBP", "USD"], "EUR", rates)
['GBP']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from planner.units import CURRENCIES

__all__ = [
    "RATE_LIMITS",
    "Rate",
    "RateError",
    "Rates",
    "check_rate",
    "missing_rates",
    "rate_between",
]

#: Rates as ops enter them: (from, to) → how many ``to`` one ``from`` is worth.
Rates = Mapping[tuple[str, str], float]
#: A rate outside these is a typing slip (a missing decimal point), not a currency.
RATE_LIMITS = (1e-6, 1e6)


class RateError(ValueError):
    """A rate that cannot be stored, in words naming the field and the fix."""


@dataclass(frozen=True, slots=True)
class Rate:
    """``1 from_currency = rate to_currency``."""

    from_currency: str
    to_currency: str
    rate: float


def check_rate(from_currency: object, to_currency: object, rate: object) -> Rate:
    """The rate ops typed, checked: two known, different currencies and a finite rate in :data:`RATE_LIMITS`.

    >>> check_rate("EUR", "USD", 1.08)
    Rate(from_currency='EUR', to_currency='USD', rate=1.08)
    >>> check_rate("EUR", "EUR", 1.0)
    Traceback (most recent call last):
    ...
    planner.currency.RateError: A rate converts between two currencies: pick another one than EUR under To.
    """
    known = ", ".join(CURRENCIES)
    for label, code in (("From", from_currency), ("To", to_currency)):
        if code not in CURRENCIES:
            raise RateError(f"{label} must be one of {known}.")
    if from_currency == to_currency:
        raise RateError(f"A rate converts between two currencies: pick another one than {from_currency} under To.")
    try:
        value = float(rate)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = math.nan
    low, high = RATE_LIMITS
    if not (math.isfinite(value) and low <= value <= high):
        raise RateError(
            f"The rate must be a number between {low:g} and {high:g} (1 {from_currency} in {to_currency}), "
            f"not {rate!r}."
        )
    return Rate(str(from_currency), str(to_currency), value)


def rate_between(rates: Rates, from_currency: str, to_currency: str) -> float | None:
    """How many ``to_currency`` one ``from_currency`` is worth, or None when no rate says so."""
    if from_currency == to_currency:
        return 1.0
    if (from_currency, to_currency) in rates:
        return float(rates[from_currency, to_currency])
    if (to_currency, from_currency) in rates:
        return 1.0 / float(rates[to_currency, from_currency])
    return None


def missing_rates(currencies: Iterable[str], to_currency: str, rates: Rates) -> list[str]:
    """The currencies among ``currencies`` with no rate into ``to_currency``, sorted."""
    return sorted({c for c in currencies if rate_between(rates, c, to_currency) is None})
