"""Reading files people export from spreadsheets and CRMs, with every bad row reported.

Nothing here raises on bad content: readers return what they could read and a
list of :class:`RowProblem` (row number as the spreadsheet shows it, column,
reason), so the good rows still count and the user sees what to fix.

>>> result = read_actuals_csv(b"week,revenue,deals,Meetings\\n2026-12-07,\\"$12,500\\",2,9\\n",
...                           ["Meetings"], date(2026, 12, 1), date(2026, 12, 31))
>>> result.weeks[0].week_start, result.weeks[0].revenue, result.weeks[0].stage_counts
(datetime.date(2026, 12, 7), 12500.0, {'Meetings': 9})
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from planner.milestones import WeekActual

__all__ = [
    "ActualsImport",
    "RowProblem",
    "decode_text",
    "parse_amount",
    "parse_amount_list",
    "parse_count",
    "parse_day",
    "read_actuals_csv",
]

#: A pasted spreadsheet of weekly actuals is small; anything larger is the wrong file.
MAX_ACTUALS_ROWS = 5_000

_WEEK_NAMES = ("week", "week start", "week_start", "week starting", "date")
_REVENUE_NAMES = ("revenue", "revenue booked", "booked", "amount", "sales")
_DEALS_NAMES = ("deals", "deals won", "deals_won", "won")


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One thing wrong in a file: ``row`` as a spreadsheet numbers it (the header is row 1)."""

    row: int
    column: str
    reason: str


@dataclass(frozen=True, slots=True)
class ActualsImport:
    """The weeks that could be read, what was wrong, and columns that were not used."""

    weeks: tuple[WeekActual, ...]
    problems: tuple[RowProblem, ...]
    ignored_columns: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else Latin-1, which every byte decodes as."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_AMOUNT_JUNK = re.compile(r"[^\d,.\-()]")


def parse_amount(text: str) -> float | None:
    """A money amount as people type it, or None when it is not one.

    Currency symbols and spaces are dropped; with both "," and "." the last one
    is the decimal mark; a lone "," followed by exactly three digits groups
    thousands, otherwise it is the decimal mark; "(12)" is negative.

    >>> [parse_amount(t) for t in ["$1,234.50", "1.234,50 €", "1,5", "12,500", "(300)", "", "abc"]]
    [1234.5, 1234.5, 1.5, 12500.0, -300.0, None, None]
    """
    cleaned = _AMOUNT_JUNK.sub("", text.strip())
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    cleaned = cleaned.strip("()")
    if not cleaned or not re.search(r"\d", cleaned):
        return None
    if "," in cleaned and "." in cleaned:
        decimal = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        cleaned = cleaned.replace(thousands, "").replace(decimal, ".")
    elif "," in cleaned:
        parts = cleaned.split(",")
        if len(parts) > 2 or (len(parts) == 2 and len(parts[1]) == 3):
            cleaned = cleaned.replace(",", "")
        else:
            cleaned = cleaned.replace(",", ".")
    elif cleaned.count(".") > 1:
        cleaned = cleaned.replace(".", "")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return -value if negative else value


def parse_amount_list(text: str) -> list[float]:
    """Amounts typed in one line, as "42,000; 30,000", "42000, 30000" or "42000,30000".

    Amounts are separated by ";", a new line, or a comma and a space; bare
    commas separate only when they cannot be thousands separators. Raises
    ValueError naming the piece that is not an amount of 0 or more.

    >>> parse_amount_list("42,000, 30,000; 20,000"), parse_amount_list("42000,30000"), parse_amount_list("")
    ([42000.0, 30000.0, 20000.0], [42000.0, 30000.0], [])
    >>> parse_amount_list("42,000,30,000")
    Traceback (most recent call last):
    ...
    ValueError: “42,000,30,000” could be one amount or several: separate amounts with “; ” or “, ”.
    """
    text = text.strip()
    if not text:
        return []
    parts = [p.strip() for p in re.split(r"[;\n]|,\s+", text) if p.strip()]
    if len(parts) == 1 and "," in text and not re.fullmatch(r"[^\d]*\d{1,3}(,\d{3})+(\.\d+)?[^\d]*", text):
        pieces = text.split(",")
        if any(re.fullmatch(r"\d{3}", p.strip()) for p in pieces[1:]):
            raise ValueError(f"“{text}” could be one amount or several: separate amounts with “; ” or “, ”.")
        parts = [p.strip() for p in pieces if p.strip()]
    amounts = []
    for position, part in enumerate(parts, 1):
        value = parse_amount(part)
        if value is None or value < 0:
            raise ValueError(f"Amount {position} (“{part}”) is not an amount of 0 or more.")
        amounts.append(value)
    return amounts


def parse_count(text: str) -> int | None:
    """A whole, non-negative count ("12", "12.0", "1,200"), or None.

    >>> [parse_count(t) for t in ["12", "12.0", "1,200", "2.5", "-1", "x"]]
    [12, 12, 1200, None, None, None]
    """
    value = parse_amount(text)
    if value is None or value < 0 or value != int(value):
        return None
    return int(value)


def parse_day(text: str) -> tuple[date | None, str]:
    """A date from ISO or an unambiguous day/month order; otherwise None and why.

    >>> parse_day("2026-12-07"), parse_day("25/12/2026")[0], parse_day("12/25/2026")[0]
    ((datetime.date(2026, 12, 7), ''), datetime.date(2026, 12, 25), datetime.date(2026, 12, 25))
    >>> parse_day("03/04/2026")[1]
    'could be 3 April or 4 March — write it as YYYY-MM-DD'
    """
    text = text.strip()
    if not text:
        return None, "is empty"
    try:
        return datetime.fromisoformat(text).date(), ""
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})", text)
    if not match:
        return None, f"“{text}” is not a date — write it as YYYY-MM-DD"
    first, second, year = (int(g) for g in match.groups())
    year += 2000 if year < 100 else 0
    readings = []
    for day, month in ((first, second), (second, first)):  # day first, then month first
        try:
            readings.append(date(year, month, day))
        except ValueError:
            continue
    if not readings:
        return None, f"“{text}” is not a date — write it as YYYY-MM-DD"
    if len(readings) == 2 and readings[0] != readings[1]:
        day_first, month_first = readings
        return (
            None,
            f"could be {day_first.day} {day_first:%B} or {month_first.day} {month_first:%B} — write it as YYYY-MM-DD",
        )
    return readings[0], ""


def _find(header: list[str], names: Sequence[str]) -> int | None:
    folded = [h.strip().casefold() for h in header]
    for name in names:
        if name in folded:
            return folded.index(name)
    return None


def read_actuals_csv(data: bytes, stage_names: Sequence[str], period_start: date, period_end: date) -> ActualsImport:
    """Weekly actuals from a CSV: week, revenue, deals won, and a column per funnel stage.

    Any day of a week stands for that week (its Monday). Stage columns match
    the plan's stage names, ignoring case. Every bad cell is a
    :class:`RowProblem`; a row with one is left out, the others still count.
    """
    text = decode_text(data)
    if "\x00" in text:
        return ActualsImport((), (RowProblem(1, "", "This is not a text file — export the sheet as CSV."),))
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as error:
        return ActualsImport((), (RowProblem(1, "", f"The file could not be read as CSV ({error})."),))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        return ActualsImport((), (RowProblem(1, "", "The file is empty."),))
    header = [h.strip() for h in rows[0]]
    week_col, revenue_col = _find(header, _WEEK_NAMES), _find(header, _REVENUE_NAMES)
    missing = [name for name, col in (("week", week_col), ("revenue", revenue_col)) if col is None]
    if missing:
        found = ", ".join(f"“{h}”" for h in header) or "none"
        return ActualsImport(
            (),
            (
                RowProblem(
                    1, ", ".join(missing), f"Missing column {' and '.join(missing)}; the columns found: {found}."
                ),
            ),
        )
    if len(rows) - 1 > MAX_ACTUALS_ROWS:
        return ActualsImport(
            (),
            (
                RowProblem(
                    1,
                    "",
                    f"The file has {len(rows) - 1:,} rows; actuals are one row a week, "
                    f"so at most {MAX_ACTUALS_ROWS:,} are read.",
                ),
            ),
        )
    deals_col = _find(header, _DEALS_NAMES)
    stage_cols = {name: _find(header, [name.casefold()]) for name in stage_names}
    used = {week_col, revenue_col, deals_col, *stage_cols.values()}
    ignored = tuple(h for i, h in enumerate(header) if i not in used and h)

    weeks: dict[date, WeekActual] = {}
    problems: list[RowProblem] = []
    for number, row in enumerate(rows[1:], start=2):
        cells = row + [""] * (len(header) - len(row))
        row_problems: list[RowProblem] = []
        day, why = parse_day(cells[week_col])
        if day is None:
            row_problems.append(RowProblem(number, header[week_col], f"The week {why}."))
        elif not period_start - timedelta(days=6) <= day <= period_end:
            row_problems.append(
                RowProblem(
                    number,
                    header[week_col],
                    f"{day:%d %b %Y} is outside the plan's period ({period_start:%d %b %Y} to {period_end:%d %b %Y}).",
                )
            )
        revenue = parse_amount(cells[revenue_col]) if cells[revenue_col].strip() else 0.0
        if revenue is None or revenue < 0:
            row_problems.append(
                RowProblem(number, header[revenue_col], f"“{cells[revenue_col][:40]}” is not an amount of 0 or more.")
            )
        counts: dict[str, int] = {}
        deals = 0
        for name, col in [("deals won", deals_col), *stage_cols.items()]:
            if col is None or not cells[col].strip():
                continue
            value = parse_count(cells[col])
            if value is None:
                row_problems.append(
                    RowProblem(number, header[col], f"“{cells[col][:40]}” is not a whole number of 0 or more.")
                )
            elif col == deals_col:
                deals = value
            else:
                counts[name] = value
        if day is not None and not row_problems:
            monday = day - timedelta(days=day.weekday())
            if monday in weeks:
                row_problems.append(
                    RowProblem(
                        number, header[week_col], f"The week of {monday:%d %b %Y} appears twice; keep one row per week."
                    )
                )
            else:
                weeks[monday] = WeekActual(monday, float(revenue or 0.0), deals, counts)
        problems.extend(row_problems)
    return ActualsImport(tuple(sorted(weeks.values(), key=lambda w: w.week_start)), tuple(problems), ignored)
