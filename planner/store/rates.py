"""Exchange rates: the rates sales ops enter, one per pair of currencies (either way round)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from planner.currency import Rate, check_rate
from planner.store import _query, retry_conflicts, transaction

__all__ = ["StoredRate", "delete_rate", "list_rates", "set_rate"]


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
def set_rate(con: duckdb.DuckDBPyConnection, rate: Rate, updated_by: str = "") -> None:
    """Store ``1 from = rate to`` (checked by :func:`planner.currency.check_rate`), replacing the pair's rate.

    A pair has one rate: the one entered the other way round is replaced too, so the two can never disagree.
    """
    rate = check_rate(rate.from_currency, rate.to_currency, rate.rate)
    with transaction(con) as cur:
        cur.execute(
            "DELETE FROM exchange_rates WHERE from_currency = ? AND to_currency = ?",
            [rate.to_currency, rate.from_currency],
        )
        cur.execute(
            "INSERT INTO exchange_rates (from_currency, to_currency, rate, updated_at, updated_by)"
            " VALUES (?, ?, ?, now(), ?) ON CONFLICT (from_currency, to_currency)"
            " DO UPDATE SET rate = excluded.rate, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            [rate.from_currency, rate.to_currency, rate.rate, updated_by],
        )


@retry_conflicts
def delete_rate(con: duckdb.DuckDBPyConnection, from_currency: str, to_currency: str) -> None:
    """Remove the rate between two currencies, whichever way round it was entered."""
    with transaction(con) as cur:
        cur.execute(
            "DELETE FROM exchange_rates WHERE (from_currency = ? AND to_currency = ?)"
            " OR (from_currency = ? AND to_currency = ?)",
            [from_currency, to_currency, to_currency, from_currency],
        )
