"""Exchange rates: the rates sales ops enter, one per pair of currencies (either way round).

Setting or removing one is sales ops' (anyone's with sign-in off, and the command line's):
:attr:`planner.access.Viewer.can_set_rates`, asked inside the write, and the rate records who set it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from planner.access import Viewer
from planner.currency import Rate, check_rate
from planner.store import _query, retry_conflicts, transaction
from planner.store.ownership import authorise

__all__ = ["RATES_REFUSED", "StoredRate", "delete_rate", "list_rates", "set_rate"]


#: What anyone else is told: who may, and whom to ask.
RATES_REFUSED = (
    "Only sales ops can set or remove exchange rates — ask someone in your sales ops team to enter this one."
)


@dataclass(frozen=True, slots=True)
class StoredRate:
    """A rate on file: ``1 from_currency = rate to_currency``, when and by whom it was last set."""

    from_currency: str
    to_currency: str
    rate: float
    updated_at: datetime
    updated_by: str


def list_rates(con: duckdb.DuckDBPyConnection) -> list[StoredRate]:
    """Every rate on file, by currency pair."""
    rows = _query(
        con,
        "SELECT from_currency, to_currency, rate, updated_at, updated_by FROM exchange_rates"
        " ORDER BY from_currency, to_currency",
    )
    return [StoredRate(a, b, float(rate), at, by) for a, b, rate, at, by in rows]


@retry_conflicts
def set_rate(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, rate: Rate) -> None:
    """Store ``1 from = rate to`` (checked by :func:`planner.currency.check_rate`), replacing the pair's rate.

    A pair has one rate: the one entered the other way round is replaced too, so the two can never disagree.
    Sales ops only (:class:`planner.store.Refused` for anyone else); ``viewer`` is recorded as who set it.
    """
    rate = check_rate(rate.from_currency, rate.to_currency, rate.rate)
    with transaction(con) as cur:
        who = authorise(viewer, lambda v: v.can_set_rates, RATES_REFUSED)
        cur.execute(
            "DELETE FROM exchange_rates WHERE from_currency = ? AND to_currency = ?",
            [rate.to_currency, rate.from_currency],
        )
        cur.execute(
            "INSERT INTO exchange_rates (from_currency, to_currency, rate, updated_at, updated_by)"
            " VALUES (?, ?, ?, now(), ?) ON CONFLICT (from_currency, to_currency)"
            " DO UPDATE SET rate = excluded.rate, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            [rate.from_currency, rate.to_currency, rate.rate, who.signature],
        )


@retry_conflicts
def delete_rate(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, from_currency: str, to_currency: str) -> None:
    """Remove the rate between two currencies, whichever way round it was entered; sales ops only."""
    with transaction(con) as cur:
        authorise(viewer, lambda v: v.can_set_rates, RATES_REFUSED)
        cur.execute(
            "DELETE FROM exchange_rates WHERE (from_currency = ? AND to_currency = ?)"
            " OR (from_currency = ? AND to_currency = ?)",
            [from_currency, to_currency, to_currency, from_currency],
        )
