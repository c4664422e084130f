"""Reading files people export from spreadsheets and CRMs, with every bad row reported.

Nothing here raises on bad content: readers return what they could read and the
problems they found (row number as the spreadsheet shows it, column, reason, and
which figures the row was left out of), so the good rows still count and the user
sees what to fix. A file is refused (:class:`ImportFailure`, one line) only when
nothing in it can be used.

One parser serves every reader: :func:`parse_amounts` for numbers and money,
:func:`parse_dates` for dates, each working on a whole column at once.

>>> result = read_actuals_csv(b"week,revenue,deals,Meetings\\n2026-12-07,\\"$12,500\\",2,9\\n",
...                           ["Meetings"], date(2026, 12, 1), date(2026, 12, 31))
>>> result.weeks[0].week_start, result.weeks[0].revenue, result.weeks[0].stage_counts
(datetime.date(2026, 12, 7), 12500.0, {'Meetings': 9})
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import time
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from planner.milestones import WeekActual

__all__ = [
    "DATE_ORDERS",
    "DEAL_FIELDS",
    "HISTORY_FIELDS",
    "MAX_AMOUNT",
    "OUTCOMES",
    "PRESETS",
    "PRESET_NAMES",
    "ActualsImport",
    "DealImport",
    "ImportFailure",
    "Mapping",
    "Preset",
    "RawTable",
    "RowProblem",
    "StageHistory",
    "TypedDeals",
    "date_order_needed",
    "decode_text",
    "detect_mapping",
    "finish_deals",
    "funnel_order",
    "guess_outcome",
    "guess_stage_order",
    "pair_exports",
    "parse_amount",
    "parse_amount_list",
    "parse_amounts",
    "parse_count",
    "parse_dates",
    "parse_day",
    "parse_flags",
    "read_actuals_csv",
    "read_deals",
    "read_export_file",
    "read_history",
    "read_table",
    "stage_table",
    "type_deals",
]

if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
    # Arrow's default allocator (mimalloc) costs a million-row read about half a second of system time, mapping
    # and zeroing fresh pages again and again; jemalloc reuses them, and with no decay gives freed memory back
    # at once, so a big upload's peak does not linger in a long-running server.
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
        pa.jemalloc_set_decay_ms(0)
    except NotImplementedError:  # an Arrow build without jemalloc keeps its default
        pass

#: A pasted spreadsheet of weekly actuals is small; anything larger is the wrong file.
MAX_ACTUALS_ROWS = 5_000
#: Larger than any deal or week of revenue: such a cell is a typo or a placeholder, and a million of them still sum
#: to a finite number.
MAX_AMOUNT = 1e15

_WEEK_NAMES = ("week", "week start", "week_start", "week starting", "date")
_REVENUE_NAMES = ("revenue", "revenue booked", "booked", "amount", "sales")
_DEALS_NAMES = ("deals", "deals won", "deals_won", "won")


class ImportFailure(ValueError):
    """The file cannot be read at all; the message is one line a user can act on."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One thing wrong in a file: ``row`` as a spreadsheet numbers it (the header is row 1)."""

    row: int
    column: str
    reason: str


# =========================================================================== one number parser


#: Arrow text as the readers keep it: one column may arrive in many chunks (the CSV reader's blocks).
Text = pa.Array | pa.ChunkedArray


def _arrow(cells: pd.Series | Text) -> Text:
    """A column as Arrow text, blanks for missing cells: zero-copy for Arrow-backed text, chunks and all.

    Chunks are kept: joining them would copy the column, and every kernel used here takes chunks.
    """
    if isinstance(cells, pd.Series) and cells.dtype == object:
        cells = cells.astype("str")
    array = cells if isinstance(cells, pa.Array | pa.ChunkedArray) else pa.array(cells, from_pandas=True)
    if isinstance(array, pa.ChunkedArray) and array.num_chunks <= 1:
        array = array.chunk(0) if array.num_chunks else pa.array([], pa.string())
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.string())
    return pc.fill_null(array, "") if array.null_count else array


def _text(array: Text) -> Text:
    """Cells without the white space around them."""
    return pc.utf8_trim_whitespace(array)


def _cells(array: Text) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Each non-empty chunk's bytes, and where each of its cells starts and ends in them (views, not copies)."""
    for chunk in array.chunks if isinstance(array, pa.ChunkedArray) else [array]:
        if not len(chunk):
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(chunk.buffers()[1], dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
        values = chunk.buffers()[2]
        data = np.frombuffer(values, dtype=np.uint8) if values is not None else np.zeros(0, np.uint8)
        yield data, offsets[:-1], offsets[1:]


def _value_bytes(array: Text) -> int:
    """How many bytes of text the cells hold (white space trimmed away shows as fewer)."""
    return sum(int(ends[-1] - starts[0]) for _, starts, ends in _cells(array))


def _padded(array: Text) -> bool:
    """Whether a cell may have white space around it, judged by each cell's first and last byte (no copy).

    Any byte up to a space, or of a character beyond ASCII (a no-break space, but also the "ë" of
    "Zoë"), counts: such a column is trimmed the slow way.
    """
    for data, starts, ends in _cells(array):
        if not len(data):
            continue
        first = data[np.minimum(starts, len(data) - 1)]  # an empty cell looks at a neighbour's byte: no harm
        last = data[np.maximum(ends - 1, 0)]
        if ((first <= 32) | (first >= 128) | (last <= 32) | (last >= 128)).any():
            return True
    return False


def _byte_from_end(array: Text, back: int) -> np.ndarray:
    """Each cell's byte ``back`` places before its end (-1 in a shorter cell), read from the buffers in place."""
    parts = [np.zeros(0, np.int16)]
    for data, starts, ends in _cells(array):
        at = ends - back
        found = data[np.clip(at, 0, len(data) - 1)].astype(np.int16) if len(data) else np.zeros(len(at), np.int16)
        parts.append(np.where(at >= starts, found, -1).astype(np.int16))
    return np.concatenate(parts)


def _trimmed(array: Text) -> Text:
    """:func:`_text`, but the cells themselves (no copy kept) when none has white space around it."""
    if not _padded(array):
        return array
    trimmed = _text(array)
    return array if _value_bytes(trimmed) == _value_bytes(array) else trimmed


def _distinct(array: Text) -> tuple[np.ndarray, pa.Array]:
    """Each cell's code into the column's distinct texts, and those texts in the order they are first met.

    Work done on the distinct texts and taken back by code is done once per text, not once per row.
    """
    encoded = pc.dictionary_encode(array)
    if isinstance(encoded, pa.ChunkedArray):  # every chunk shares the one dictionary
        if not encoded.num_chunks:
            return np.zeros(0, dtype=np.int32), pa.array([], array.type)
        encoded = encoded.combine_chunks()
    return encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary


def _spread(array: Text, blocks: int = 100, size: int = 100) -> pa.ChunkedArray:
    """``blocks`` runs of ``size`` cells from evenly over the column (slices: nothing is copied)."""
    column = array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array], array.type)
    if len(column) <= blocks * size:
        return column
    starts = np.linspace(0, len(column) - size, blocks).astype(np.int64)
    return pa.chunked_array([c for start in starts for c in column.slice(int(start), size).chunks], column.type)


def _bools(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow boolean column as numpy (nulls as False)."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


_CURRENCY_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₽": "RUB", "РУБ": "RUB",
                     "R$": "BRL", "₹": "INR", "ZŁ": "PLN", "₩": "KRW", "₺": "TRY"}  # fmt: skip
# \u0440\u0443\u0431 is "rub" in Cyrillic, as roubles are written after an amount.
_CURRENCY = re.compile(r"(R\$|US\$|[$€£¥₽₹₩₺]|\u0440\u0443\u0431|РУБ|zł|ZŁ|\b[A-Z]{3}\b)")
_PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
# One group separator followed by exactly three digits, as "1.000" or "12,500": a thousand, or a decimal?
_AMBIGUOUS = re.compile(r"^[+-]?[1-9]\d{0,2}[.,]\d{3}$")


def _separators(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """For each cleaned cell: does it show "," as a decimal mark, does it show "." as one (by its own shape)."""
    last_comma, last_dot = s.str.rfind(","), s.str.rfind(".")
    commas, dots = s.str.count(","), s.str.count(r"\.")
    length = s.str.len()
    comma_tail, dot_tail = length - last_comma - 1, length - last_dot - 1
    comma_decimal = ((commas > 0) & (dots > 0) & (last_comma > last_dot)) | (
        (commas == 1) & (dots == 0) & (comma_tail != 3)
    )
    dot_decimal = ((commas > 0) & (dots > 0) & (last_dot > last_comma)) | (
        (dots == 1) & (commas == 0) & (dot_tail != 3)
    )
    return comma_decimal, dot_decimal


def _decimal_convention(cells: pd.Series) -> str:
    """ "," or "." when the column's cells agree on the decimal mark, else "" (each cell decides alone)."""
    if cells.empty:
        return ""
    comma, dot = _separators(cells)
    if comma.any() and not dot.any():
        return ","
    if dot.any() and not comma.any():
        return "."
    return ""


def _read_messy(text: pd.Series, convention: str) -> tuple[pd.Series, pd.Series]:
    """Numbers written with currency, group separators, a decimal comma, parentheses or an exponent."""
    currency = text.str.extract(_CURRENCY, expand=False).fillna("")
    s = text.str.replace("−", "-", regex=False).str.replace(r"(\d)[eE]([-+]?\d)", r"\1^\2", regex=True)
    s = s.str.replace(r"[^\d,.\-()^+]", "", regex=True)
    negative = s.str.startswith("(") & s.str.endswith(")")
    s = s.str.strip("()")
    mantissa = s.str.replace(r"\^.*$", "", regex=True)
    exponent = s.str.extract(r"(\^[-+]?\d+)$", expand=False).fillna("").str.replace("^", "e", regex=False)
    comma_decimal, dot_decimal = _separators(mantissa)
    if convention == ",":
        comma_decimal, dot_decimal = mantissa.str.contains(",", regex=False), pd.Series(False, index=s.index)
    elif convention == ".":
        comma_decimal, dot_decimal = pd.Series(False, index=s.index), mantissa.str.contains(".", regex=False)
    out = mantissa.copy()
    out[comma_decimal] = mantissa[comma_decimal].str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    grouped = ~comma_decimal
    out[grouped] = mantissa[grouped].str.replace(",", "", regex=False)
    undecided = grouped & ~dot_decimal & (out.str.count(r"\.") >= 1)
    out[undecided] = out[undecided].str.replace(".", "", regex=False)  # "1.000", "1.234.567": groups of a thousand
    valid = out.str.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)") & s.str.contains(r"\d", regex=True)
    values = pd.to_numeric((out + exponent).where(valid, "x"), errors="coerce").astype("float64")
    values[negative] = -values[negative]
    return values, currency


#: Below this many cells to read the slow way, a plain Python loop beats pandas' per-call overhead.
_SMALL = 2_000


def _separators_one(s: str) -> tuple[bool, bool]:
    """:func:`_separators` for one cell."""
    last_comma, last_dot, commas, dots = s.rfind(","), s.rfind("."), s.count(","), s.count(".")
    comma_decimal = (commas > 0 and dots > 0 and last_comma > last_dot) or (
        commas == 1 and dots == 0 and len(s) - last_comma - 1 != 3
    )
    dot_decimal = (commas > 0 and dots > 0 and last_dot > last_comma) or (
        dots == 1 and commas == 0 and len(s) - last_dot - 1 != 3
    )
    return comma_decimal, dot_decimal


def _messy_one(text: str, convention: str) -> tuple[float, str]:
    """:func:`_read_messy` for one cell (the same steps, in the same order)."""
    found = _CURRENCY.search(text)
    s = re.sub(r"(\d)[eE]([-+]?\d)", r"\1^\2", text.replace("−", "-"))
    s = re.sub(r"[^\d,.\-()^+]", "", s)
    negative = s.startswith("(") and s.endswith(")")
    s = s.strip("()")
    mantissa = re.sub(r"\^.*$", "", s)
    power = re.search(r"(\^[-+]?\d+)$", s)
    exponent = power.group(1).replace("^", "e") if power else ""
    comma_decimal, dot_decimal = _separators_one(mantissa)
    if convention == ",":
        comma_decimal, dot_decimal = "," in mantissa, False
    elif convention == ".":
        comma_decimal, dot_decimal = False, "." in mantissa
    if comma_decimal:
        out = mantissa.replace(".", "").replace(",", ".")
    else:
        out = mantissa.replace(",", "")
        if not dot_decimal and "." in out:
            out = out.replace(".", "")
    value = float("nan")
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", out) and re.search(r"\d", s):
        value = float(out + exponent)
    return (-value if negative else value), (found.group(1) if found else "")


def _numbers(cells: pd.Series | Text) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """A column's numbers (NaN for blanks, text and non-finite values), the currency each cell names if any, and
    which cells are blank.

    Plain numbers go through Arrow's cast in one pass (it refuses white space, so a column it
    reads needs no trimming); only the cells it cannot read take the slower path. The column's
    own cells settle the decimal mark where one cell cannot: "1.000" is a thousand beside
    "1.234,56", and one beside "25920.50".
    """
    text = _arrow(cells)
    blank = pc.equal(text, "")
    missing = pa.scalar(None, text.type)
    try:
        values = pc.cast(pc.if_else(blank, missing, text), pa.float64())
        messy = np.zeros(len(text), dtype=bool)
    except pa.ArrowInvalid:
        text = _trimmed(text)
        blank = pc.equal(text, "")
        plain = pc.match_substring_regex(text, _PLAIN_NUMBER)
        values = pc.cast(pc.if_else(plain, text, missing), pa.float64())
        messy = ~_bools(pc.or_(plain, blank))
    out = np.array(values.to_numpy(zero_copy_only=False), dtype="float64")
    del values
    # A plain "1.000" (one separator, three digits after it) reads as 1 above; it may be a thousand. Only a cell
    # with a "." four bytes from its end can be one: those few are looked at closely.
    suspect = (_byte_from_end(text, 4) == ord(".")) & ~messy
    if suspect.any():
        picked = pc.filter(text, pa.array(suspect))
        suspect[suspect] = _bools(pc.equal(pc.find_substring(picked, "."), pc.subtract(pc.utf8_length(picked), 4)))
    currency: np.ndarray | None = None
    if suspect.any() or messy.any():
        dotted = _bools(pc.greater_equal(pc.find_substring(text, "."), 0)) & ~messy
        series = pd.Series(text.to_pandas(), dtype="str")
        ambiguous = np.zeros(len(series), dtype=bool)
        ambiguous[suspect] = series[suspect].str.fullmatch(_AMBIGUOUS.pattern).to_numpy()
        # Each distinct messy text is read once.
        codes, uniques = pd.factorize(series[messy])
        if len(uniques) < _SMALL:
            shapes = [_separators_one(re.sub(r"[^\d,.]", "", u)) for u in uniques]
            comma_evidence, dot_evidence = any(c for c, _ in shapes), any(d for _, d in shapes)
        else:
            comma, dot = _separators(pd.Series(uniques, dtype="str").str.replace(r"[^\d,.]", "", regex=True))
            comma_evidence, dot_evidence = bool(comma.any()), bool(dot.any())
        # "1.5E+05" is machine output: it says nothing about the column's decimal mark.
        scientific = np.asarray(pc.match_substring_regex(text, "[eE]").to_numpy(zero_copy_only=False), dtype=bool)
        dot_evidence = dot_evidence or bool((dotted & ~ambiguous & ~scientific).any())
        convention = ("," if comma_evidence and not dot_evidence else "." if dot_evidence and not comma_evidence
                      else "")  # fmt: skip
        if ambiguous.any() and convention != ".":
            out[ambiguous] = pd.to_numeric(series[ambiguous].str.replace(".", "", regex=False)).to_numpy("float64")
        if messy.any():
            if len(uniques) < _SMALL:
                pairs = [_messy_one(u, convention) for u in uniques]
                read = np.array([v for v, _ in pairs], dtype="float64")
                named = np.array([c for _, c in pairs], dtype=object)
            else:
                read_series, named_series = _read_messy(pd.Series(uniques, dtype="str"), convention)
                read, named = read_series.to_numpy(dtype="float64"), named_series.to_numpy(dtype=object)
            out[messy] = read[codes]
            if (named != "").any():
                currency = np.full(len(series), "", dtype=object)
                currency[messy] = np.array([_CURRENCY_SYMBOLS.get(c.upper(), c.upper()) for c in named],
                                           dtype=object)[codes]  # fmt: skip
    out[~np.isfinite(out)] = np.nan
    return out, currency, _bools(blank)


def parse_amounts(cells: pd.Series) -> pd.Series:
    """Numbers and money as people and CRMs write them, for a whole column: NaN for blanks and anything else.

    Currency signs and codes and spaces are dropped; with both "," and "." the last one is the
    decimal mark; a lone separator followed by exactly three digits groups thousands unless the
    column shows otherwise; "(12)" is negative; "1.5E+05" is 150,000; infinity is no number.

    >>> parse_amounts(pd.Series(["$1,234.50", "1.234,50 €", "12,500", "(300)", "", "abc", "7", "1.5E+05",
    ...                          "EUR 1.000", "1e400"])).tolist()
    [1234.5, 1234.5, 12500.0, -300.0, nan, nan, 7.0, 150000.0, 1000.0, nan]
    """
    return pd.Series(_numbers(cells)[0], index=cells.index, dtype="float64")


def parse_amount(text: str) -> float | None:
    """One cell through :func:`parse_amounts`: the same reading, or None.

    >>> [parse_amount(t) for t in ["$1,234.50", "1.234,50 €", "1,5", "12,500", "(300)", "", "abc", "1e400"]]
    [1234.5, 1234.5, 1.5, 12500.0, -300.0, None, None, None]
    """
    value = float(_numbers(pd.Series([str(text)], dtype="str"))[0][0])
    return None if np.isnan(value) else value


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
    values = parse_amounts(pd.Series(parts, dtype="str")) if parts else pd.Series(dtype="float64")
    for position, (part, value) in enumerate(zip(parts, values, strict=True), 1):
        if np.isnan(value) or value < 0 or value > MAX_AMOUNT:
            raise ValueError(f"Amount {position} (“{part}”) is not an amount of 0 or more.")
    return values.tolist()


def parse_count(text: str) -> int | None:
    """A whole, non-negative count ("12", "12.0", "1,200"), or None.

    >>> [parse_count(t) for t in ["12", "12.0", "1,200", "2.5", "-1", "x"]]
    [12, 12, 1200, None, None, None]
    """
    value = parse_amount(text)
    if value is None or value < 0 or value != int(value) or value > MAX_AMOUNT:
        return None
    return int(value)


def _amount_reasons(cells: pd.Series, values: np.ndarray) -> np.ndarray:
    """Why each flagged cell (its text and what it read as) is no amount of 0 or more."""
    shown = _quoted(cells).to_numpy(dtype=object)
    return np.where(
        np.isnan(values),
        shown + " is not an amount.",
        np.where(
            values < 0,
            shown + " is negative: amounts must be 0 or more.",
            shown + f" is too large for an amount (the most is {MAX_AMOUNT:,.0f}).",
        ),
    )


# =========================================================================== one date parser


_MONTHS = {name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for name in names}  # fmt: skip
_TIME = r"(?:[ T,]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?(?:\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?)?"
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})" + _TIME + r"\s*$")
_YMD = re.compile(r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})(?!\d)")
_DAY_MONTH = re.compile(
    r"^(?:[A-Za-z]{3,9},?\s+)?(\d{1,2})[\s\-/.]+([A-Za-z]{3,9})\.?[\s,\-/.]+(\d{4}|\d{2})" + _TIME + r"\s*$"
)
_MONTH_DAY = re.compile(
    r"^(?:[A-Za-z]{3,9},?\s+)?([A-Za-z]{3,9})\.?[\s\-]+(\d{1,2})(?:st|nd|rd|th)?,?[\s\-]+(\d{4})" + _TIME + r"\s*$"
)
_EXCEL_SERIAL = re.compile(r"^(\d{5})(?:\.\d+)?$")
_EPOCH_MS = re.compile(r"^(\d{13})$")
DATE_ORDERS = ("MDY", "DMY")


def _calendar(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """datetime64[s] from year / month / day numbers; NaT where they make no date (30 February, month 13)."""
    out = np.full(len(year), np.datetime64("NaT"), dtype="datetime64[s]")
    ok = np.isfinite(year) & np.isfinite(month) & np.isfinite(day)
    ok &= (year >= 1) & (year <= 9999) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    if not ok.any():
        return out
    y, m, d = year[ok].astype("int64"), month[ok].astype("int64"), day[ok].astype("int64")
    first = (y - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (m - 1).astype("timedelta64[M]")
    days = first.astype("datetime64[D]") + (d - 1).astype("timedelta64[D]")
    valid = days.astype("datetime64[M]") == first  # 31 April rolls into May: no date
    out[np.flatnonzero(ok)[valid]] = days[valid].astype("datetime64[s]")
    return out


def _numbers_of(frame: pd.DataFrame) -> list[np.ndarray]:
    return [pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype="float64") for c in frame.columns]


def _other_dates(cells: pd.Series, order: str | None) -> np.ndarray:
    """Dates that are not ISO: slashed or dotted in ``order`` (None: only where a part over 12 settles it), with
    month names, year first with slashes, Excel serial numbers and epoch milliseconds."""
    out = np.full(len(cells), np.datetime64("NaT"), dtype="datetime64[s]")
    todo = np.ones(len(cells), dtype=bool)

    def take(pattern: re.Pattern, build: Callable[[pd.DataFrame], tuple[np.ndarray, ...] | np.ndarray]) -> None:
        nonlocal todo
        if not todo.any():
            return
        parts = cells[todo].str.extract(pattern)
        found = parts.notna().all(axis=1).to_numpy()
        if not found.any():
            return
        built = build(parts[found])
        dates = built if isinstance(built, np.ndarray) and built.dtype.kind == "M" else _calendar(*built)
        index = np.flatnonzero(todo)[found]
        out[index] = dates
        todo[index] = False

    def ymd(parts: pd.DataFrame) -> tuple[np.ndarray, ...]:
        return tuple(_numbers_of(parts))

    def numeric(parts: pd.DataFrame) -> tuple[np.ndarray, ...]:
        first, second, year = _numbers_of(parts.iloc[:, :3])
        year = np.where(year < 100, year + 2000, year)
        if order == "MDY":
            return year, first, second
        if order == "DMY":
            return year, second, first
        # No order given: read a date only where one part over 12 (or both alike) settles which is the day.
        settled = (first > 12) | (second > 12) | (first == second)
        day_first = first > 12
        month = np.where(settled, np.where(day_first, second, first), np.nan)
        day = np.where(settled, np.where(day_first, first, second), np.nan)
        return year, month, day

    def named(day_col: int, month_col: int) -> Callable[[pd.DataFrame], tuple[np.ndarray, ...]]:
        def build(parts: pd.DataFrame) -> tuple[np.ndarray, ...]:
            month = parts.iloc[:, month_col].str.casefold().map(_MONTHS).to_numpy(dtype="float64")
            day = pd.to_numeric(parts.iloc[:, day_col]).to_numpy(dtype="float64")
            year = pd.to_numeric(parts.iloc[:, 2]).to_numpy(dtype="float64")
            return np.where(year < 100, year + 2000, year), month, day

        return build

    def serial(parts: pd.DataFrame) -> np.ndarray:
        days = pd.to_numeric(parts.iloc[:, 0]).to_numpy(dtype="int64")
        dates = np.datetime64("1899-12-30", "D") + days.astype("timedelta64[D]")
        return np.where((days >= 20_000) & (days <= 80_000), dates, np.datetime64("NaT")).astype("datetime64[s]")

    def epoch(parts: pd.DataFrame) -> np.ndarray:
        ms = pd.to_numeric(parts.iloc[:, 0]).to_numpy(dtype="int64")
        return (ms // 86_400_000).astype("datetime64[D]").astype("datetime64[s]")

    take(_YMD, ymd)
    take(_NUMERIC_DATE, numeric)
    take(_DAY_MONTH, named(0, 1))
    take(_MONTH_DAY, named(1, 0))
    take(_EXCEL_SERIAL, serial)
    take(_EPOCH_MS, epoch)
    return out


def _other_date_one(text: str, order: str | None) -> np.datetime64:
    """:func:`_other_dates` for one text (the same patterns, tried in the same order)."""
    nat = np.datetime64("NaT", "s")

    def day(year: int, month: int | None, day_of_month: int) -> np.datetime64:
        if month is None or not 1 <= year <= 9999:
            return nat
        try:
            return np.datetime64(date(year, month, day_of_month), "s")
        except ValueError:
            return nat

    if match := _YMD.match(text):
        return day(*(int(g) for g in match.groups()))
    if match := _NUMERIC_DATE.match(text):
        first, second, year = (int(g) for g in match.groups()[:3])
        year += 2000 if year < 100 else 0
        if order == "MDY":
            return day(year, first, second)
        if order == "DMY":
            return day(year, second, first)
        if first > 12 or second > 12 or first == second:
            return day(year, second, first) if first > 12 else day(year, first, second)
        return nat
    for pattern, day_at, month_at in ((_DAY_MONTH, 0, 1), (_MONTH_DAY, 1, 0)):
        if match := pattern.match(text):
            parts = match.groups()
            year = int(parts[2])
            return day(year + (2000 if year < 100 else 0), _MONTHS.get(parts[month_at].casefold()), int(parts[day_at]))
    if match := _EXCEL_SERIAL.match(text):
        serial = int(match.group(1))
        if 20_000 <= serial <= 80_000:
            return (np.datetime64("1899-12-30", "D") + np.timedelta64(serial, "D")).astype("datetime64[s]")
        return nat
    if match := _EPOCH_MS.match(text):
        return np.datetime64(int(match.group(1)) // 86_400_000, "D").astype("datetime64[s]")
    return nat


def parse_dates(cells: pd.Series, order: str | None = "MDY") -> pd.Series:
    """Dates as CRMs write them, for a whole column; NaT for blanks and for anything else.

    ISO dates and timestamps ("2024-01-22T16:14:25.000+0000", "2023-05-16 14:02") give the
    calendar date written, whatever the offset: a deal closes on a day, and a UTC timestamp next
    to a date-only close date must not move by a day. Also "2/23/26 4:05 PM" in ``order``
    ("MDY" or "DMY"; None reads only dates a part over 12 settles), "04.03.2021", "2024/04/15",
    "15 Apr, 2021 00:02:00", "Apr 15, 2021", "15-Apr-2021", Excel serial numbers and epoch
    milliseconds. Each distinct text is parsed once.

    >>> parse_dates(pd.Series(["2024-01-22T16:14:25.000+0000", "2/23/26 4:05 PM", "31/12/2025", "",
    ...                        "15 Apr, 2021 00:02:00"])).dt.strftime("%Y-%m-%d").tolist()
    ['2024-01-22', '2026-02-23', nan, nan, '2021-04-15']
    """
    values, _ = _dates(cells, order)
    return pd.Series(values, index=cells.index, dtype="datetime64[s]")


def _dates(cells: pd.Series | Text, order: str | None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`parse_dates`'s values, and which cells held text that is no date (blank cells are not such)."""
    array = _arrow(cells)
    # Each distinct text is read once, by its first ten characters. Timestamps to the second rarely repeat, but
    # their days do: such a column is cut to its days before its distinct values are found. Whether its texts
    # repeat is judged from cells spread over the whole column (a file sorted by date repeats little at its top):
    # 10,000 cells drawn from 20,000 distinct texts show about 7,900 of them, from 4,000 about 3,700.
    sample = _spread(array)
    precise = len(sample) > 0 and pc.count_distinct(sample).as_py() > 0.8 * len(sample)
    codes, texts = _distinct(pc.utf8_slice_codeunits(array, 0, 10) if precise else array)
    heads = pc.utf8_slice_codeunits(texts, 0, 10)
    iso = pc.strptime(heads, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 30 February into March: a date counts only if it reads back as written (through a cast to a
    # date, which writes YYYY-MM-DD as strftime does, thirty times faster).
    written = pc.cast(pc.cast(iso, pa.date32()), heads.type)
    iso = pc.if_else(pc.equal(written, heads), iso, pa.scalar(None, iso.type))
    days = iso.to_numpy(zero_copy_only=False).astype("datetime64[s]")
    codes = codes.astype(np.intp)  # once, for both lookups (numpy would convert the codes for each)
    values = days.take(codes)
    unreadable = np.zeros(len(values), dtype=bool)
    others_there = np.isnat(days) & _bools(pc.not_equal(heads, ""))
    if others_there.any():
        rest = others_there.take(codes)
        # The rest (padded with spaces, or not ISO) is read once per distinct text.
        indices, others = _distinct(pc.filter(array, pa.array(rest)))
        uniques = pd.Series(_text(others).to_pandas(), dtype="str")
        if len(uniques) < _SMALL:
            parsed = np.array([_other_date_one(u, order) for u in uniques], dtype="datetime64[s]")
        else:
            parsed = _other_dates(uniques, order)
        values[rest] = parsed[indices]
        unreadable[rest] = (np.isnat(parsed) & (uniques != "").to_numpy())[indices]
    return values, unreadable


def parse_day(text: str) -> tuple[date | None, str]:
    """One date through :func:`parse_dates`, or None and why (a day/month order it cannot settle is asked about).

    >>> parse_day("2026-12-07"), parse_day("25/12/2026")[0], parse_day("12/25/2026")[0]
    ((datetime.date(2026, 12, 7), ''), datetime.date(2026, 12, 25), datetime.date(2026, 12, 25))
    >>> parse_day("03/04/2026")[1]
    'could be 3 April or 4 March — write it as YYYY-MM-DD'
    """
    return _day_reasons(pd.Series([str(text)], dtype="str"))[0]


def _day_reasons(cells: pd.Series) -> list[tuple[date | None, str]]:
    parsed = parse_dates(cells, None)
    out: list[tuple[date | None, str]] = []
    for text, value in zip(cells.astype("str").str.strip(), parsed, strict=True):
        if not pd.isna(value):
            out.append((value.date(), ""))
            continue
        if not text:
            out.append((None, "is empty"))
            continue
        match = _NUMERIC_DATE.match(text)
        readings = []
        if match:
            first, second, year = (int(g) for g in match.groups())
            year += 2000 if year < 100 else 0
            for day, month in ((first, second), (second, first)):
                try:
                    readings.append(date(year, month, day))
                except ValueError:
                    continue
        if len(readings) == 2:
            day_first, month_first = readings
            out.append((None, f"could be {day_first.day} {day_first:%B} or {month_first.day} {month_first:%B} — "
                              "write it as YYYY-MM-DD"))  # fmt: skip
        else:
            out.append((None, f"“{text[:40]}” is not a date — write it as YYYY-MM-DD"))
    return out


def date_order_needed(*columns: pd.Series) -> str | None:
    """ "MDY" or "DMY" when the slashed dates in these columns settle it, "ambiguous" when none does, None if ISO.

    Only each column's distinct date parts are looked at, so a million timestamps cost little.

    >>> date_order_needed(pd.Series(["12/25/2026"])), date_order_needed(pd.Series(["25/12/2026", "03/04/2026"]))
    ('MDY', 'DMY')
    >>> date_order_needed(pd.Series(["03/04/2026"])), date_order_needed(pd.Series(["2026-03-04"]))
    ('ambiguous', None)
    """
    firsts, seconds = [], []
    for column in columns:
        head = pc.unique(pc.utf8_slice_codeunits(_text(pc.unique(_arrow(column))), 0, 10))
        parts = pd.Series(head.to_pandas(), dtype="str").str.extract(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})(?!\d)")
        parts = parts.dropna()
        if not parts.empty:
            firsts.append(pd.to_numeric(parts[0]))
            seconds.append(pd.to_numeric(parts[1]))
    if not firsts:
        return None
    first, second = pd.concat(firsts), pd.concat(seconds)
    if (first > 12).any() and not (second > 12).any():
        return "DMY"
    if (second > 12).any() and not (first > 12).any():
        return "MDY"
    return "ambiguous"


_BOOL_TRUE = {"true", "1", "yes", "y", "t", "won", "closed", "wahr", "да", "sí", "si", "oui", "ja"}
_BOOL_FALSE = {"false", "0", "no", "n", "f", "falsch", "нет", "non", "nein"}


def parse_flags(cells: pd.Series) -> pd.Series:
    """True / False / NA from "true", "1", "yes", "Y" … as CRMs write booleans (each distinct text looked at once).

    >>> parse_flags(pd.Series(["true", "N", "", "maybe"])).tolist()
    [True, False, <NA>, <NA>]
    """
    codes, uniques = pd.factorize(cells.astype("str").str.strip().str.casefold())
    known = pd.Series([True if u in _BOOL_TRUE else False if u in _BOOL_FALSE else pd.NA for u in uniques],
                      dtype="boolean")  # fmt: skip
    out = known.take(np.where(codes < 0, 0, codes)) if len(known) else pd.Series(pd.NA, index=range(len(cells)))
    out = pd.Series(out.to_numpy(), index=cells.index, dtype="boolean")
    out[codes < 0] = pd.NA
    return out


def _quoted(cells: pd.Series) -> pd.Series:
    return "“" + cells.astype("str").str.slice(0, 40) + "”"


def column_list(names: Sequence[str], shown: int = 20) -> str:
    """Column names for a message: quoted, each cut to 40 characters, the first ``shown`` and how many more.

    >>> column_list(["Week", "x" * 50, *map(str, range(30))], shown=4)
    '“Week”, “xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…”, “0”, “1” and 28 more'
    """
    quoted = [f"“{n[:39]}…”" if len(n) > 40 else f"“{n}”" for n in map(str, names[:shown])]
    more = f" and {len(names) - shown:,} more" if len(names) > shown else ""
    return ", ".join(quoted) + more if quoted else "none"


# =========================================================================== reading a file's cells
#
# A CRM export is read in steps, each of which the Calibrate page shows:
#   read_table      bytes → every cell as text, with the layout it found (delimiter, encoding, sheet)
#   detect_mapping  header row → which column holds which field, from a preset or common spellings
#   type_deals      text cells + mapping → typed columns (amounts, dates, status), a problem per bad cell
#   stage_table     the stages found, their guessed outcome and funnel order (the page lets the user edit it)
#   finish_deals    typed columns + stage → outcome map + order → deals ready to calibrate
# Everything after read_table works on whole columns at once: a 1,000,000-row export has no Python loop per row.

#: Largest export accepted; the page's upload limit (.streamlit/config.toml) is the same.
MAX_EXPORT_BYTES = 200 * 1024 * 1024
#: Problems listed one by one; past this the report says how many more there were.
MAX_LISTED_PROBLEMS = 10_000
#: A workbook is a zip: what it unpacks to, not its size on disk, is what reading it costs.
MAX_XLSX_UNPACKED_BYTES = 250 * 1024 * 1024
#: Cells read from one sheet, and how long reading may take, before a workbook is refused as too big for Excel's path.
MAX_XLSX_CELLS = 10_000_000
XLSX_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class RawTable:
    """An export as read: every cell as text, and where each data row was in the file."""

    frame: pd.DataFrame
    #: spreadsheet row number of each frame row (the header is row 1)
    row_numbers: np.ndarray
    source: str
    layout: str
    sheets: tuple[str, ...] = ()
    sheet: str | None = None
    problems: tuple[RowProblem, ...] = ()
    #: what reading had to assume or clean (control characters removed, a report footer left out …)
    notes: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]


def read_export_file(path: str | os.PathLike[str]) -> bytes:
    """An export's bytes from disk, refused in one line before reading when it cannot be one.

    A FIFO, a device (``/dev/zero``) or a directory is no export, and a file over the limit is
    refused by its size: nothing is read in either case.
    """
    try:
        info = os.stat(path)
    except OSError as error:
        raise ImportFailure(f"cannot read it: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = ("directory" if stat.S_ISDIR(info.st_mode) else "FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode)
                else "device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "socket")  # fmt: skip
        raise ImportFailure(f"this {kind} is not a regular file: export the deals to a file and give its path.")
    _check_size(info.st_size)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_EXPORT_BYTES + 1)
    except OSError as error:
        raise ImportFailure(f"cannot read it: {error.strerror or error}") from None
    _check_size(len(data))  # it grew while we looked
    return data


def _check_size(size: int) -> None:
    if size > MAX_EXPORT_BYTES:
        raise ImportFailure(
            f"The file is {size / 2**20:,.0f} MB; the limit is {MAX_EXPORT_BYTES / 2**20:,.0f} MB. "
            "Export fewer columns or one year at a time."
        )


# --------------------------------------------------------------------------- what kind of file, which encoding

_MAGIC = (
    (b"%PDF", "a PDF"), (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"), (b"Rar!", "a RAR archive"), (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"SQLite format 3", "an SQLite database"), (b"{\\rtf", "an RTF document"), (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"), (b"RIFF", "a RIFF media file"), (b"BZh", "a bzip2 archive"),
)  # fmt: skip
_CONTROL_BYTES = bytes([*range(0, 9), 11, 12, *range(14, 32), 127])
_CONTROL_RUN = re.compile(b"[" + re.escape(_CONTROL_BYTES) + b"]+")
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _zip_kind(data: bytes) -> str:
    """ "xlsx" for an Excel workbook; any other zip is refused, saying what it is."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:80] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError, NotImplementedError) as error:
        raise ImportFailure(
            f"This .xlsx file could not be opened ({type(error).__name__}): save it again from Excel."
        ) from None
    if "xl/workbook.xml" in names:
        return "xlsx"
    if b"opendocument.spreadsheet" in mimetype:
        raise ImportFailure("This is an OpenDocument spreadsheet (.ods): save it as .xlsx or CSV and upload that.")
    what = "a Word document" if "word/document.xml" in names else "a zip archive, not an Excel workbook"
    raise ImportFailure(f"This is {what}: unzip or export the deals as CSV or .xlsx and upload that.")


def _file_kind(data: bytes, filename: str) -> str:
    """ "xlsx" or "text"; refuses real binaries (an image, a PDF, a zip that is no workbook) in one line."""
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _zip_kind(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFailure("This is an old Excel .xls file: save it as .xlsx or CSV and upload that.")
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise ImportFailure(f"This is {what}, not a text file: export the report as CSV or .xlsx and upload that.")
    start = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html", b"<table")):
        raise ImportFailure(
            "This is a web page (HTML) saved under a spreadsheet's name: open it in Excel and save it as .xlsx or CSV."
        )
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise ImportFailure("This .xlsx file could not be opened (it is not a zip): save it again from Excel.")
    return "text"


def _utf16_without_bom(head: bytes) -> str | None:
    """Excel's "Unicode text" saved without a byte-order mark still shows it: a NUL in every other byte."""
    head = head[: len(head) // 2 * 2]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    guess = "utf-16-le" if odd_nul > 0.3 and even_nul < 0.05 else "utf-16-be" if even_nul > 0.3 and odd_nul < 0.05 \
        else None  # fmt: skip
    if guess is None:
        return None
    text = head.decode(guess, errors="replace")
    controls = len(_CONTROL_CHARS.findall(text))
    return guess if controls <= 0.05 * len(text) else None  # binary with a NUL every other byte is no text


def _valid_utf8(data: bytes) -> bool:
    """Whether every byte is UTF-8, checked by Arrow without decoding into a Python string."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)]).cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _single_byte_encoding(data: bytes) -> tuple[str, str]:
    """Windows-1251 (Cyrillic words: runs of letters in 0xC0–0xFF) or Windows-1252 (an accent here and there)."""
    sample = data[:262_144]
    high = sum(b >= 0xC0 for b in sample)
    in_words = sum(len(m) for m in re.findall(rb"[\xc0-\xff]{3,}", sample))
    if high and in_words / high > 0.5:
        return "cp1251", "Windows-1251 (Cyrillic)"
    if any(b in sample for b in (0x81, 0x8D, 0x8F, 0x90, 0x9D)):  # bytes Windows-1252 leaves undefined
        return "latin-1", "Latin-1"
    return "cp1252", "Windows-1252"


def _is_binary(head: bytes) -> bool:
    """Text has at most a few stray control characters per line; a binary file has runs of them everywhere.

    (High bytes prove nothing: Russian in Windows-1251 is mostly high bytes.)
    """
    runs = _CONTROL_RUN.findall(head)
    lines = max(head.count(b"\n"), head.count(b"\r")) + 1
    return len(runs) > max(8, 2 * lines) or sum(map(len, runs)) > 0.3 * len(head)


def _undecoded(data: bytes) -> tuple[bytes, str] | None:
    """A text file that should be UTF-8 (with or without a byte-order mark): its bytes, not yet checked, and the
    label; None for UTF-16. A binary file renamed .csv is refused here."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:], "UTF-8 with BOM"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf16_without_bom(data[:4096]) is not None:
        return None
    if _is_binary(data[:65_536]):
        raise ImportFailure("This is not a text file: export the report as CSV or .xlsx and upload that.")
    return data, "UTF-8"


def _clean_utf8(body: bytes) -> bool:
    """Whether bytes are valid UTF-8 with no control character to remove: as they can be read."""
    return _valid_utf8(body) and not _has_control_bytes(body)


def _text_bytes(data: bytes) -> tuple[bytes, str, int]:
    """The file as UTF-8 bytes, the encoding it was in, and how many control characters were removed."""
    found = _undecoded(data)
    if found is None:
        utf16 = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else _utf16_without_bom(data[:4096])
        return _from_text(data.decode(utf16 or "utf-16", errors="replace"), "UTF-16")
    body, label = found
    if not _valid_utf8(body):
        encoding, label = _single_byte_encoding(body)
        try:
            return _from_text(body.decode(encoding), label)
        except UnicodeDecodeError:  # a byte the guessed code page leaves undefined: Latin-1 reads every byte
            return _from_text(body.decode("latin-1"), "Latin-1")
    removed = 0
    if _has_control_bytes(body):
        cleaned = body.translate(None, _CONTROL_BYTES)
        removed, body = len(body) - len(cleaned), cleaned
    return body, label, removed


def _has_control_bytes(body: bytes) -> bool:
    """Whether UTF-8 text holds a control character other than tab, line feed and carriage return.

    Looked at in slices, without a copy: a clean 130 MB file costs a few hundredths of a second.
    """
    view = np.frombuffer(body, dtype=np.uint8)
    step = 4 * 2**20
    for start in range(0, len(view), step):
        chunk = view[start : start + step]
        low = chunk < 32
        low &= chunk != 10  # most files have only line feeds: one more look settles them
        if low.any() and (low & (chunk != 13) & (chunk != 9)).any():
            return True
        if (chunk == 127).any():
            return True
    return False


def _from_text(text: str, label: str) -> tuple[bytes, str, int]:
    text, removed = _CONTROL_CHARS.subn("", text.removeprefix("\ufeff"))
    return text.encode("utf-8"), label, removed


def decode_text(data: bytes) -> str:
    """A text file's characters, whatever its encoding (UTF-8 with or without BOM, UTF-16, Windows-1251 / 1252),
    without control characters.

    >>> decode_text(b"Caf\\xe9 \\x00ok"), decode_text("Выдано".encode("utf-16"))
    ('Café ok', 'Выдано')
    """
    return _text_bytes(data)[0].decode("utf-8")


# --------------------------------------------------------------------------- CSV


_DELIMITERS = ",;\t|"


def _sniff_delimiter(text: str) -> str:
    """The delimiter the first lines line up on: the most of them split into as many cells as the header, which
    must have two at least; then the widest header; then csv.Sniffer's choice among those left.

    Cells are always quoted with '"' here, as CRMs and spreadsheets write them: the Sniffer also guesses the quote
    character, and a "'" in free text once made it read a comma-separated file as ";"-separated.
    """
    lines = [line for line in text[:65_536].splitlines()[:50] if line.strip()]
    sample = "\n".join(lines[:20])
    scores = {}
    for delimiter in _DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=delimiter) if row]
        except csv.Error:
            continue
        if widths and widths[0] >= 2:
            scores[delimiter] = (sum(w == widths[0] for w in widths), widths[0])
    if not scores:
        return ","
    best = max(scores.values())
    tied = [d for d, score in scores.items() if score == best]
    if len(tied) > 1:
        try:
            sniffed = csv.Sniffer().sniff(sample, delimiters="".join(tied)).delimiter
        except csv.Error:
            sniffed = ""
        if sniffed in tied:
            return sniffed
    return tied[0]


def _header_width(text: str, delimiter: str) -> int:
    try:
        first = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except (StopIteration, csv.Error):
        return 1
    return max(len(first), 1)


def _read_csv_fast(data: bytes, delimiter: str, width: int) -> pd.DataFrame | None:
    """Arrow's multi-threaded CSV reader straight from the bytes, for the common clean file; None when the file
    needs the careful path.

    A blank line is read as a row of one empty cell, which makes Arrow stop as it does at the first
    ragged row (where the careful reader reports each one): such files go the careful way, which
    keeps the row numbers a spreadsheet shows.
    """
    names = [f"c{i}" for i in range(width)]
    try:
        table = pcsv.read_csv(
            pa.BufferReader(data),
            # One thread: on two shared cores a second one costs 60% more CPU for the same wall time or worse.
            read_options=pcsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),  # as pandas keeps text: no conversion
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,  # the bytes were checked (or made) UTF-8 already
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):  # any refusal just means: read it the careful way
        return None
    # pandas keeps each column's Arrow chunks as they are: no copy of the file's text is made here.
    return table.to_pandas()


def _read_csv_checked(text: str, delimiter: str, caught: list[warnings.WarningMessage]) -> pd.DataFrame:
    """pandas' C reader: keeps blank lines for the row count and reports every line with too many cells."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                on_bad_lines="warn",
                engine="c",
                header=None,
                quotechar='"',
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as error:
            raise ImportFailure(f"The file could not be read as CSV: {str(error).strip().splitlines()[0]}") from None
    caught.extend(seen)
    return frame


def _unique_headers(header: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for position, name in enumerate(header, start=1):
        name = str(name).strip() or f"Column {position}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _footer(frame: pd.DataFrame) -> int:
    """How many trailing rows are a report footer: after a blank row, lines with only their first cell filled
    ("Confidential Information - Do Not Distribute", "Generated By: …", as Salesforce reports end)."""
    if frame.shape[1] < 3 or len(frame) < 3:
        return 0
    tail = frame.tail(12)
    rest_blank = (tail.iloc[:, 1:].apply(lambda c: c.str.strip() == "")).all(axis=1).to_numpy()
    first_blank = (tail.iloc[:, 0].str.strip() == "").to_numpy()
    count = 0
    for position in range(len(tail) - 1, -1, -1):
        if rest_blank[position] and not first_blank[position]:
            count += 1
            continue
        if rest_blank[position] and first_blank[position] and count:
            return len(tail) - position  # the blank row and the footer under it
        return 0
    return 0


#: Threads that type an export's columns side by side, from this many rows on (a thread costs more than a small
#: file's column takes).
_THREADS = min(2, os.cpu_count() or 1)
_READ_AHEAD_ROWS = 2_000
#: From this size on, a CSV is parsed while its bytes are checked (a thread costs more than a small file takes).
_OVERLAP_BYTES = 4 * 2**20


def _refuse_empty(body: bytes) -> None:
    """:class:`ImportFailure` for a file with nothing but white space in it."""
    if not body[:65_536].strip() and not body.strip():  # the prefix settles it without copying a big file
        raise ImportFailure("The file is empty.")


def _head(body: bytes) -> str:
    """The start of the file as text, enough to find its delimiter and header."""
    return body[:65_536].decode("utf-8", errors="ignore")


def _delimiter(body: bytes) -> str:
    return _sniff_delimiter(_head(body))


def read_table(data: bytes, filename: str = "export.csv", sheet: str | None = None) -> RawTable:
    """Every cell of a CSV or .xlsx export as text; :class:`ImportFailure` when the file cannot be read.

    CSV: any of , ; tab | as delimiter; UTF-8 with or without a byte-order mark, UTF-16 (Excel's
    "Unicode text"), else Windows-1251 or 1252. Control characters (NUL bytes in a long text
    field) are removed and a note says so. Excel: the first sheet, or ``sheet``. Lines with more
    cells than the header are reported and left out; blank lines are skipped but keep the row
    numbers a spreadsheet shows; a report's footer is left out with a note.

    >>> table = read_table(b"Stage;Amount\\nClosed Won;1.234,50\\n\\nClosed Lost;\\n", "deals.csv")
    >>> table.columns, table.frame["Amount"].tolist(), table.row_numbers.tolist(), table.layout
    (['Stage', 'Amount'], ['1.234,50', ''], [2, 4], 'CSV, “;”-separated, UTF-8')
    """
    _check_size(len(data))
    if not data[:65_536].strip() and not data.strip():  # the prefix settles it without copying a big file
        raise ImportFailure("The file is empty.")
    if _file_kind(data, filename) == "xlsx":
        rows, sheets, chosen = _read_xlsx(data, sheet)
        frame, numbers = _frame_from_rows(rows)
        return RawTable(frame, numbers, filename, f"Excel, sheet “{chosen}”", sheets, chosen)
    if sheet:
        raise ImportFailure(f"This is a text file, which has no sheets: there is no sheet “{sheet}” to read.")
    read = False  # whether the bytes were parsed as they are
    found = _undecoded(data)
    if found is not None and len(found[0]) >= _OVERLAP_BYTES:
        body, encoding = found
        _refuse_empty(body)
        delimiter, removed = _delimiter(body), 0
        with ThreadPoolExecutor(max_workers=1) as pool:
            # Nearly every big export is clean UTF-8: it is parsed on one core while the other checks that it is.
            parsed = pool.submit(_read_csv_fast, body, delimiter, _header_width(_head(body), delimiter))
            read = _clean_utf8(body)
            frame = parsed.result()
    if not read:
        body, encoding, removed = _text_bytes(data)
        _refuse_empty(body)
        delimiter = _delimiter(body)
        frame = _read_csv_fast(body, delimiter, _header_width(_head(body), delimiter))
    caught: list[warnings.WarningMessage] = []
    if frame is None:
        frame = _read_csv_checked(body.decode("utf-8"), delimiter, caught).fillna("").astype("str")
    del body
    skipped = sorted(int(m.group(1)) for w in caught for m in re.finditer(r"[Ss]kipping line (\d+)", str(w.message)))
    numbers = np.arange(1, len(frame) + 1, dtype=np.int64)
    for line in skipped:  # each skipped line pushes every later row down one
        numbers[numbers >= line] += 1
    notes = []
    if removed:
        notes.append(
            f"{removed:,} control characters (such as NUL bytes inside long text fields) were removed; "
            "the rest of the file was read as it is."
        )
    footer = _footer(frame)
    if footer:
        frame, numbers = frame.iloc[:-footer], numbers[:-footer]
        notes.append(f"The {footer - 1:,} lines after the last deal are a report footer and were not read as deals.")
    filled = np.zeros(len(frame), dtype=bool)
    for column in frame.columns:  # a row's first non-blank cell settles it, usually in the first column
        todo = ~filled
        if not todo.any():
            break
        cells = _arrow(frame[column])
        if not todo.all():
            cells = pc.filter(cells, pa.array(todo))
        filled[todo] = ~_bools(pc.or_(pc.equal(cells, ""), pc.utf8_is_space(cells)))
    if not filled.all():
        frame, numbers = frame[filled], numbers[filled]
    if frame.empty:
        raise ImportFailure("The file is empty.")
    header = _unique_headers(frame.iloc[0].tolist())
    body_frame = frame.iloc[1:].reset_index(drop=True)
    body_frame.columns = header
    problems = tuple(
        RowProblem(line, "", f"This line has more cells than the header's {len(header)}; it was left out.")
        for line in skipped[:MAX_LISTED_PROBLEMS]
    )
    name = {",": "“,”", ";": "“;”", "\t": "tab", "|": "“|”"}[delimiter]
    return RawTable(body_frame, numbers[1:], filename, f"CSV, {name}-separated, {encoding}", problems=problems,
                    notes=tuple(notes))  # fmt: skip


# --------------------------------------------------------------------------- Excel


def _read_xlsx(data: bytes, sheet: str | None) -> tuple[list[list[str]], tuple[str, ...], str]:
    """A sheet's rows as text, streamed; a workbook too big to read in reasonable time is refused early."""
    import openpyxl  # imported here: only Excel uploads pay for it

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(part.file_size for part in archive.infolist())
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise ImportFailure(
            f"This workbook unpacks to {unpacked / 2**20:,.0f} MB from {len(data) / 2**20:,.1f} MB, over the "
            f"{MAX_XLSX_UNPACKED_BYTES / 2**20:,.0f} MB a workbook may take: export the deals alone, or save the "
            "sheet as CSV."
        )
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise ImportFailure(
            f"This .xlsx file could not be opened ({type(error).__name__}): save it again from Excel."
        ) from None
    try:
        names = tuple(book.sheetnames)
        if not names:
            raise ImportFailure("The workbook has no sheets.")
        if sheet is not None and sheet not in names:
            raise ImportFailure(f"There is no sheet “{sheet}” in this workbook; its sheets: {column_list(names)}.")
        chosen = sheet if sheet is not None else names[0]
        worksheet = book[chosen]
        declared = (worksheet.max_row or 0) * (worksheet.max_column or 0)
        if declared > MAX_XLSX_CELLS:
            raise ImportFailure(_too_many_cells(chosen))
        rows: list[list[str]] = []
        cells, deadline = 0, time.monotonic() + XLSX_SECONDS
        try:
            for values in worksheet.iter_rows(values_only=True):
                rows.append(
                    ["" if v is None else v.isoformat() if isinstance(v, datetime | date) else str(v) for v in values]
                )
                cells += len(values)
                if cells > MAX_XLSX_CELLS:
                    raise ImportFailure(_too_many_cells(chosen))
                if len(rows) % 1_000 == 0 and time.monotonic() > deadline:
                    raise ImportFailure(
                        f"Reading sheet “{chosen}” took over {XLSX_SECONDS:.0f} s: save it as CSV, which reads in "
                        "seconds, and upload that."
                    )
        except ImportFailure:
            raise
        except Exception as error:  # a damaged sheet part
            raise ImportFailure(
                f"Sheet “{chosen}” could not be read ({type(error).__name__}): save the workbook again from Excel."
            ) from None
        return rows, names, chosen
    finally:
        book.close()


def _too_many_cells(sheet: str) -> str:
    return (f"Sheet “{sheet}” has over {MAX_XLSX_CELLS:,} cells, more than a workbook is read for: save it as CSV "
            "and upload that.")  # fmt: skip


def _frame_from_rows(rows: list[list[str]]) -> tuple[pd.DataFrame, np.ndarray]:
    numbered = [(i, r) for i, r in enumerate(rows, start=1) if any(str(c).strip() for c in r)]
    if not numbered:
        raise ImportFailure("The file is empty.")
    _header_row, header = numbered[0]
    width = max(len(r) for _, r in numbered)
    header = [str(h).strip() for h in header] + [""] * (width - len(header))
    body = [r + [""] * (width - len(r)) for _, r in numbered[1:]]
    frame = pd.DataFrame(body, columns=_unique_headers(header), dtype=object).astype("str")
    return frame, np.array([i for i, _ in numbered[1:]], dtype=np.int64)


# =========================================================================== which column is which field

#: What a column can hold, in the order the mapping screen lists them.
DEAL_FIELDS: dict[str, str] = {
    "deal_id": "Deal ID",
    "stage": "Stage",
    "amount": "Amount",
    "created": "Created date",
    "closed": "Close date",
    "owner": "Owner",
    "account": "Account",
    "status": "Status (open / won / lost)",
    "is_won": "Is won (true / false)",
    "is_closed": "Is closed (true / false)",
    "won_time": "Won date",
    "lost_time": "Lost date",
    "currency": "Currency",
    "amount_estimated": "Estimated amount (open deals)",
    "expected_close": "Expected close date (open deals)",
    "probability": "Probability",
    "active": "Active (false = lost, as Odoo archives lost leads)",
    "forecast_category": "Forecast category",
}
#: Columns of a stage-history export (one row per change), which have no place on the deal mapping screen.
HISTORY_FIELDS = ("changed_at", "field_name", "old_value", "new_value")
OUTCOMES = ("won", "lost", "open")


@dataclass(frozen=True, slots=True)
class Preset:
    """A known export layout: how to recognise its header and which column is which field."""

    name: str
    label: str
    #: every header of one of these (normalised) must be present
    signatures: tuple[tuple[str, ...], ...]
    #: field → candidate headers, most specific first
    columns: dict[str, tuple[str, ...]]

    @property
    def is_history(self) -> bool:
        return self.name in ("salesforce_history", "salesforce_field_history")


def _norm(header: str) -> str:
    """A header as presets spell it: no quotes or "Deal - " prefix, case and punctuation folded."""
    text = str(header).strip().strip("\"'").casefold()
    text = re.sub(r"^deal\s*-\s*", "", text)
    text = re.sub(r"[\s_.\-/]+", " ", text)
    return text.strip()


_GENERIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "deal_id": ("deal id", "opportunity id", "record id", "id", "opportunity", "opportunity name", "deal name", "deal",
                "name"),
    "stage": ("stage", "deal stage", "stagename", "stage name", "phase", "status"),
    "amount": ("amount", "value", "close value", "deal value", "revenue", "opportunity amount", "deal amount"),
    "created": ("created", "create date", "created date", "createddate", "created on", "engage date", "add time",
                "created at", "opened", "open date", "opened on", "created time"),
    "closed": ("close date", "closed date", "closedate", "closed on", "close", "closed at", "closed", "closing date"),
    "owner": ("owner", "deal owner", "opportunity owner", "sales agent", "salesperson", "sales person", "rep",
              "sales rep", "account executive", "owner name", "ownerid"),
    "account": ("account", "account name", "company", "customer", "organization", "organisation", "org name",
                "accountid"),
    "won_time": ("won time", "won date"),
    "lost_time": ("lost time", "lost date"),
    # beside a stage column, a status says won / lost / open (a lost deal's stage then says how far it got)
    "status": ("status", "deal status", "opportunity status"),
    "currency": ("currency", "currency code", "amount currency", "currencyisocode", "deal currency code",
                 "opportunity currency"),
    "expected_close": ("expected close date", "expected close", "est close date"),
    "probability": ("probability", "probability (%)", "win probability", "deal probability"),
    "forecast_category": ("forecast category", "forecastcategoryname", "forecastcategory", "forecast type",
                          "hs forecast category"),
}  # fmt: skip

PRESETS: tuple[Preset, ...] = (
    Preset(
        "salesforce_field_history",
        "Salesforce field history (OpportunityFieldHistory)",
        (("opportunityid", "field", "newvalue"), ("opportunity id", "field event", "new value")),
        {
            "deal_id": ("opportunityid", "opportunity id", "opportunity name"),
            "changed_at": ("createddate", "edit date", "created date"),
            "field_name": ("field", "field event"),
            "old_value": ("oldvalue", "old value"),
            "new_value": ("newvalue", "new value"),
        },
    ),
    Preset(
        "salesforce_history",
        "Salesforce stage history (OpportunityHistory)",
        (("opportunityid", "stagename"), ("opportunity id", "to stage")),
        {
            "deal_id": ("opportunityid", "opportunity id"),
            "stage": ("stagename", "to stage"),
            "amount": ("amount",),
            "changed_at": ("createddate", "last modified", "last modified date", "edit date"),
            "closed": ("closedate", "close date"),
            "owner": ("createdbyid", "owner"),
        },
    ),
    Preset(
        "salesforce",
        "Salesforce opportunities (API names)",
        (("stagename", "amount", "closedate"),),
        {
            "deal_id": ("id",),
            "stage": ("stagename",),
            "amount": ("amount",),
            "created": ("createddate",),
            "closed": ("closedate",),
            "owner": ("owner name", "ownerid"),
            "account": ("account name", "accountid"),
            "is_won": ("iswon",),
            "is_closed": ("isclosed",),
            "currency": ("currencyisocode",),
            "probability": ("probability",),
            "forecast_category": ("forecastcategoryname", "forecastcategory"),
        },
    ),
    Preset(
        "salesforce_report",
        "Salesforce opportunity report",
        (("stage", "amount", "close date"),),
        {
            "deal_id": ("opportunity id", "opportunity name"),
            "stage": ("stage",),
            "amount": ("amount",),
            "created": ("created date",),
            "closed": ("close date",),
            "owner": ("opportunity owner", "owner"),
            "account": ("account name",),
            "is_won": ("won",),
            "is_closed": ("closed",),
            "currency": ("amount currency", "opportunity currency", "currency"),
            "probability": ("probability (%)", "probability"),
            "forecast_category": ("forecast category",),
        },
    ),
    Preset(
        "hubspot_api",
        "HubSpot deals (API property names)",
        (("dealstage", "amount"), ("dealstage", "dealname")),
        {
            "deal_id": ("hs object id", "dealid", "id", "dealname"),
            "stage": ("dealstage",),
            "amount": ("amount", "hs tcv"),
            "created": ("createdate",),
            "closed": ("closedate",),
            "owner": ("hubspot owner id",),
            "account": ("associatedcompanyid", "associatedcompanyids"),
            "currency": ("deal currency code",),
            "probability": ("hs deal stage probability",),
            "forecast_category": ("hs forecast category",),
        },
    ),
    Preset(
        "hubspot",
        "HubSpot deals",
        (("deal stage", "amount"),),
        {
            "deal_id": ("record id", "deal id", "deal name"),
            "stage": ("deal stage",),
            "amount": ("amount",),
            "created": ("create date",),
            "closed": ("close date",),
            "owner": ("deal owner",),
            "account": ("associated company", "company name", "associated company name"),
            "currency": ("currency", "deal currency code"),
            "probability": ("deal probability",),
            "forecast_category": ("forecast category",),
        },
    ),
    Preset(
        "zoho",
        "Zoho CRM deals / potentials",
        (("stage", "amount", "closing date"),),
        {
            "deal_id": ("record id", "deal id", "potential id", "id", "deal name", "potential name"),
            "stage": ("stage",),
            "amount": ("amount",),
            "created": ("created time",),
            "closed": ("closing date",),
            "owner": ("deal owner", "potential owner", "owner"),
            "account": ("account name",),
            "currency": ("currency",),
            "probability": ("probability (%)", "probability"),
            "forecast_category": ("forecast type", "forecast category"),
        },
    ),
    Preset(
        "dynamics",
        "Microsoft Dynamics 365 opportunities",
        (
            ("statecode", "estimatedvalue"),
            ("statecode", "actualvalue"),
            ("est revenue", "actual revenue"),
            ("est revenue", "status"),
        ),
        {
            "deal_id": ("opportunityid", "(do not modify) opportunity", "name", "topic"),
            "stage": ("stepname", "pipeline phase", "salesstage", "sales stage", "process stage"),
            "status": ("statecode", "status"),
            "amount": ("actualvalue", "actual revenue"),
            "amount_estimated": ("estimatedvalue", "est revenue"),
            "closed": ("actualclosedate", "actual close date"),
            "expected_close": ("estimatedclosedate", "est close date"),
            "created": ("createdon", "created on"),
            "owner": ("owneridname", "owner", "ownerid"),
            "account": (
                "parentaccountidname",
                "customeridname",
                "potential customer",
                "account",
                "parentaccountid",
                "customerid",
            ),
            "currency": ("transactioncurrencyidname", "currency", "transactioncurrencyid"),
            "probability": ("closeprobability", "probability"),
        },
    ),
    Preset(
        "odoo",
        "Odoo CRM leads / opportunities",
        (("stage id", "expected revenue"), ("stage", "expected revenue", "salesperson")),
        {
            "deal_id": ("id", "name", "opportunity"),
            "stage": ("stage id", "stage"),
            "status": ("won status",),
            "amount": ("expected revenue",),
            "created": ("create date", "created on"),
            "closed": ("date closed", "closed date"),
            "expected_close": ("date deadline", "expected closing"),
            "owner": ("user id", "salesperson"),
            "account": ("partner id", "customer", "partner name"),
            "probability": ("probability",),
            "active": ("active",),
            "currency": ("company currency", "currency"),
        },
    ),
    Preset(
        "bitrix24",
        "Bitrix24 deals (API names)",
        (("stage id", "opportunity"),),
        {
            "deal_id": ("id",),
            "stage": ("stage id",),
            "status": ("stage semantic id",),
            "amount": ("opportunity",),
            "created": ("date create",),
            "closed": ("closedate", "close date"),
            "owner": ("assigned by id", "assigned by"),
            "account": ("company id", "company title"),
            "is_closed": ("closed",),
            "currency": ("currency id",),
            "probability": ("probability",),
        },
    ),
    Preset(
        "pipedrive",
        "Pipedrive deals",
        (("status", "value", "stage"), ("status", "value", "stage id")),
        {
            "deal_id": ("id", "deal id", "title"),
            "stage": ("stage", "stage id"),
            "amount": ("value",),
            "created": ("add time", "deal created", "created"),
            "closed": ("close time",),
            "expected_close": ("expected close date",),
            "owner": ("owner", "owner name", "user id", "creator"),
            "account": ("organization", "org name", "organization name", "org id"),
            "status": ("status",),
            "won_time": ("won time",),
            "lost_time": ("lost time",),
            "currency": ("currency",),
            "probability": ("probability",),
        },
    ),
    Preset("generic", "Generic CSV (matched by common column names)", ((),), _GENERIC_COLUMNS),
)
PRESET_NAMES = tuple(p.name for p in PRESETS)
_PRESETS = {p.name: p for p in PRESETS}

#: A column named like this holds the date a deal entered a stage (HubSpot: `Date entered "Stage (Pipeline)"`,
#: its API: `hs_date_entered_<stage id>` or `hs_v2_date_entered_<stage id>`).
_ENTERED = re.compile(r"^\s*date entered\s+[\"'“]?(?P<stage>.+?)[\"'”]?\s*$", re.IGNORECASE)
_ENTERED_API = re.compile(r"^\s*hs_(?:v2_)?date_entered_(?P<stage>.+?)\s*$", re.IGNORECASE)


def _entered_stage(header: str) -> str | None:
    match = _ENTERED.match(header) or _ENTERED_API.match(header)
    if not match:
        return None
    stage = match.group("stage").strip()
    return re.sub(r"\s*\([^()]*\)\s*$", "", stage) or stage  # drop HubSpot's "(Sales Pipeline)"


@dataclass(frozen=True, slots=True)
class Mapping:
    """Which column holds each field, and which columns record the date a deal entered each stage."""

    preset: str
    fields: dict[str, str]
    #: stage name (as in the stage column) → its "Date entered …" column
    entered: dict[str, str] = field(default_factory=dict)

    @property
    def is_history(self) -> bool:
        return _PRESETS[self.preset].is_history if self.preset in _PRESETS else False

    def missing(self) -> list[str]:
        """Fields a calibration cannot do without, in the user's words."""
        if self.preset == "salesforce_field_history":
            return [n for n, f in (("Opportunity ID", "deal_id"), ("Field", "field_name"), ("New value", "new_value"))
                    if f not in self.fields]  # fmt: skip
        if self.preset == "salesforce_history":  # amounts are welcome, not needed: the stages are the point
            return [DEAL_FIELDS[f] for f in ("deal_id", "stage") if f not in self.fields]
        needed = []
        if not {"stage", "status", "is_won", "active"} & set(self.fields):
            needed.append(DEAL_FIELDS["stage"])
        if "amount" not in self.fields and "amount_estimated" not in self.fields:
            needed.append(DEAL_FIELDS["amount"])
        return needed


def detect_mapping(columns: Sequence[str], preset: str | None = None) -> Mapping:
    """Which column is which field: the named preset, else the first whose header signature fits.

    >>> detect_mapping(["Id", "StageName", "Amount", "CloseDate", "CreatedDate", "IsWon"]).fields["is_won"]
    'IsWon'
    >>> m = detect_mapping(["Deal Name", "Deal Stage", "Amount", 'Date entered "Won (Sales Pipeline)"'])
    >>> m.preset, m.entered
    ('hubspot', {'Won': 'Date entered "Won (Sales Pipeline)"'})
    """
    normalised = {_norm(c): c for c in reversed(list(columns))}  # first spelling wins
    if preset is not None and preset not in PRESET_NAMES:
        raise ImportFailure(f"There is no preset “{preset}”; pick one of {', '.join(PRESET_NAMES)}.")
    chosen = next(
        p for p in PRESETS
        if (p.name == preset if preset else any(all(s in normalised for s in sig) for sig in p.signatures))
    )  # fmt: skip
    fields: dict[str, str] = {}
    # A preset's own columns are never taken by a common spelling of another field ("Status" is Dynamics' status,
    # not its stage).
    taken = {normalised[c] for names in chosen.columns.values() for c in names if c in normalised} \
        if chosen.name != "generic" else set()  # fmt: skip
    claimed: set[str] = set()
    for name in (*DEAL_FIELDS, *HISTORY_FIELDS):
        own = tuple(c for c in chosen.columns.get(name, ()) if normalised.get(c) not in claimed)
        generic = _GENERIC_COLUMNS.get(name, ()) if chosen.name != "generic" and not chosen.is_history else ()
        for candidate in own + generic:
            column = normalised.get(candidate)
            if column is None or column in claimed or _entered_stage(str(column)) is not None:
                continue
            if candidate in own or column not in taken:
                fields[name] = column
                claimed.add(column)
                break
    entered = {}
    for column in columns:
        stage = _entered_stage(str(column))
        if stage:
            entered[stage] = str(column)
    return Mapping(chosen.name, fields, entered)


# =========================================================================== stages and outcomes


#: Stage orders of the CRMs' default pipelines (names folded, a Bitrix24 "C2:" prefix dropped).
KNOWN_STAGE_ORDERS: tuple[tuple[str, ...], ...] = (
    ("prospecting", "qualification", "needs analysis", "value proposition", "id. decision makers",
     "perception analysis", "proposal/price quote", "negotiation/review", "closed won"),  # Salesforce
    ("qualification", "needs analysis", "value proposition", "identify decision makers", "proposal/price quote",
     "negotiation/review", "closed won"),  # Zoho CRM
    ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
     "contractsent", "closedwon"),  # HubSpot internal names
    ("appointment scheduled", "qualified to buy", "presentation scheduled", "decision maker bought-in",
     "contract sent", "closed won"),  # HubSpot labels
    ("lead in", "contact made", "demo scheduled", "proposal made", "negotiations started", "won"),  # Pipedrive
    ("1-qualify", "2-develop", "3-propose", "4-close"), ("qualify", "develop", "propose", "close"),  # Dynamics 365
    ("new", "qualified", "proposition", "won"),  # Odoo
    ("new", "preparation", "prepayment_invoice", "executing", "final_invoice", "won"),  # Bitrix24
    ("prospección", "cualificación", "análisis de necesidades", "propuesta de valor", "propuesta/presupuesto",
     "negociación/revisión", "negociación", "cerrado ganado"),  # Spanish
    ("prospecção", "qualificação", "análise de necessidades", "proposta de valor", "proposta/orçamento",
     "negociação/revisão", "negociação", "fechado ganho"),  # Portuguese
    ("prospecting", "engaging", "won"),
)  # fmt: skip
_LOST_TOKENS = {"lost", "lose", "dead", "apology", "perso", "persa", "perdu", "perdue", "failed", "failure"}
_LOST_PARTS = re.compile(r"lost|disqualif|unqualif|cancel|reject|churn|perdid|verlor|проигр|провал|отказ|отклон")
_WON_PARTS = re.compile(r"won|booked|signed|purchas|ganad|ganho|gagn|gewonn|vint[oa]|выигр|успеш")


def guess_outcome(stage: str) -> str:
    """won / lost / open from a stage's name, as CRMs usually spell them (a few languages too).

    >>> [guess_outcome(s) for s in ["Closed Won", "closedwon", "C2:WON", "Closed Lost", "C2:LOSE", "APOLOGY",
    ...                             "Cerrado ganado", "Fechado perdido", "Negotiation", "Closed"]]
    ['won', 'won', 'won', 'lost', 'lost', 'lost', 'won', 'lost', 'open', 'open']
    """
    tokens = re.findall(r"[^\W\d_]+", stage.casefold())
    if any(t in _LOST_TOKENS or _LOST_PARTS.search(t) for t in tokens):
        return "lost"
    if any(_WON_PARTS.search(t) and "wonder" not in t for t in tokens):
        return "won"
    return "open"


def _folded_stage(stage: str) -> str:
    return re.sub(r"^c\d+:", "", stage.strip().casefold())


def guess_stage_order(stages: Sequence[str]) -> list[str]:
    """Open and won stages in funnel order (won last) by their names alone; lost stages are not in the funnel.

    Known pipelines give the order; stages named with a leading number go by it; other stages keep
    the order they were listed in. (:func:`stage_table` also weighs what the deals show.)

    >>> guess_stage_order(["Closed Won", "Negotiation/Review", "Prospecting", "Closed Lost"])
    ['Prospecting', 'Negotiation/Review', 'Closed Won']
    """
    funnel = [s for s in dict.fromkeys(stages) if guess_outcome(s) != "lost"]
    ranks = _name_ranks(funnel)
    return [s for s in sorted(funnel, key=lambda s: (guess_outcome(s) == "won", ranks[s]))]


def _name_ranks(stages: Sequence[str]) -> dict[str, float]:
    """A rank per stage from its name: a known pipeline's position, else its leading number, else where it was
    first listed (on the same 0–1 scale, so known and unknown stages interleave)."""
    folded = {s: _folded_stage(s) for s in stages}
    for order in KNOWN_STAGE_ORDERS:  # one pipeline that knows every stage settles it
        if all(f in order or guess_outcome(s) == "won" for s, f in folded.items()):
            return {s: (order.index(f) if f in order else len(order)) / len(order) for s, f in folded.items()}
    numbers = {s: re.match(r"^\s*(\d+)", s) for s in stages}
    if stages and all(numbers.values()):
        return {s: float(m.group(1)) for s, m in numbers.items() if m}
    ranks = {}
    for position, (stage, f) in enumerate(folded.items()):
        known = next((order.index(f) / len(order) for order in KNOWN_STAGE_ORDERS if f in order), None)
        ranks[stage] = known if known is not None else position / max(len(stages), 1)
    return ranks


def _unordered(stages: Sequence[str]) -> list[str]:
    """Stages whose place no known pipeline or number gives: their order is only where they first appear."""
    if all(re.match(r"^\s*\d+", s) for s in stages):
        return []
    return [s for s in stages if guess_outcome(s) != "won"
            and not any(_folded_stage(s) in order for order in KNOWN_STAGE_ORDERS)]  # fmt: skip


# =========================================================================== typed deals

_STATUS_WORDS = {
    "won": "won", "win": "won", "closed won": "won", "closedwon": "won", "success": "won", "s": "won",
    "lost": "lost", "lose": "lost", "closed lost": "lost", "closedlost": "lost", "failure": "lost", "f": "lost",
    "open": "open", "pending": "open", "in progress": "open", "active": "open", "p": "open",
    "deleted": "deleted",
}  # fmt: skip
_DYNAMICS_STATE_CODES = {"0": "open", "1": "won", "2": "lost"}
#: What a status or flag says, as a small code per row: nothing, won, lost, open, deleted, closed (won or lost: the
#: stage's name says which).
_SAYS = (None, "won", "lost", "open", "deleted", "closed")
_SAY = {word: code for code, word in enumerate(_SAYS) if word}
_FIGURES_OF = {
    "amount": "deal size, value win rate, seasonality",
    "amount_estimated": "deal size, value win rate, seasonality",
    "created": "sales cycle",
    "closed": "sales cycle, seasonality",
    "won_time": "sales cycle, seasonality",
    "lost_time": "sales cycle, seasonality",
    "expected_close": "the close date of open deals",
    "entered": "stage lags",
    "all": "every figure",
}
_DATE_FIELDS = ("created", "closed", "expected_close", "won_time", "lost_time")


@dataclass(frozen=True, slots=True)
class StageHistory:
    """A stage-history export folded by deal: when each deal entered each stage, and its latest state."""

    #: one row per (deal, stage) the history mentions: ``deal_id``, ``stage``, ``at`` (NaT: reached, time unknown)
    events: pd.DataFrame
    #: one row per deal: ``deal_id``, ``row``, ``stage`` (the latest), ``amount``, ``created``, ``closed``, ``owner``
    deals: pd.DataFrame
    source: str
    preset: str
    problems: tuple[pd.DataFrame, ...] = ()


@dataclass(frozen=True, slots=True)
class TypedDeals:
    """An export's columns typed (amounts, dates, status), before outcomes and the funnel are decided.

    ``data`` holds one array per field, row for row: ``row``, ``deal_id``, ``owner``, ``account``,
    ``stage``, ``currency``, ``forecast_category`` (text), ``amount``, ``amount_estimated``,
    ``probability`` (floats, NaN where blank or bad), the dates of :data:`_DATE_FIELDS` (None
    when not in the file), ``says`` (what a status or flag says, a code of :data:`_SAYS`), and
    ``stage_codes`` into ``stages`` (the distinct stage texts, as first met).
    """

    data: dict[str, object]
    stages: tuple[str, ...]
    #: stage → date each deal entered it (NaT where unknown), and whether it got there at all
    entered: dict[str, np.ndarray]
    reached: dict[str, np.ndarray]
    problems: tuple[pd.DataFrame, ...]
    notes: tuple[str, ...]
    rows_read: int
    preset: str
    columns: dict[str, str]
    #: rows left out of every figure already (a repeated deal ID, a deleted deal)
    dropped: np.ndarray
    #: the created column is an "engage date": a deal with one reached a stage named "Engaging"
    engage_dates: bool = False

    @property
    def size(self) -> int:
        return len(self.data["row"])  # type: ignore[arg-type]


def _problem(rows: np.ndarray, column: str, reasons: pd.Series | np.ndarray | str, figures: str) -> pd.DataFrame:
    return pd.DataFrame({"row": rows, "column": column, "reason": reasons, "left_out_of": figures})


def _problems_frame(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(
            {
                "row": pd.Series(dtype="int64"),
                "column": pd.Series(dtype="str"),
                "reason": pd.Series(dtype="str"),
                "left_out_of": pd.Series(dtype="str"),
            }
        )
    frame = pd.concat(parts, ignore_index=True).sort_values(["row", "column"], kind="stable", ignore_index=True)
    return frame.astype({"row": "int64", "column": "str", "reason": "str", "left_out_of": "str"})


class _Columns:
    """A table's mapped columns, each read from Arrow once and typed, with a problem frame for every bad cell."""

    def __init__(self, table: RawTable, mapping: Mapping, date_order: str) -> None:
        self.table, self.cols, self.date_order = table, mapping.fields, date_order
        self.rows = table.row_numbers
        self.problems: list[pd.DataFrame] = []
        self.size = len(table.frame)
        self._trimmed: dict[str, Text] = {}
        self._blank: pd.Series | None = None
        self._ahead: dict[tuple[str, str], Future] = {}

    def read_ahead(self, pool: Executor, dates: Iterable[str], amounts: Iterable[str]) -> None:
        """Start typing these columns on ``pool``'s threads: Arrow's kernels let go of Python's lock, so another
        core reads the next column. :meth:`dates` and :meth:`amounts` take the results, in their own order."""
        for column in dict.fromkeys(dates):
            self._ahead[("date", column)] = pool.submit(_dates, self.raw(column), self.date_order)
        for column in dict.fromkeys(amounts):
            self._ahead[("amount", column)] = pool.submit(_numbers, self.raw(column))

    def _typed(self, kind: str, column: str, read: Callable[[Text], tuple]) -> tuple:
        """What ``read`` makes of the column: read ahead (each result taken once: the caller may keep it), or now."""
        ahead = self._ahead.pop((kind, column), None)
        return ahead.result() if ahead is not None else read(self.raw(column))

    def raw(self, column: str) -> Text:
        """A column's cells as the file has them (no copy)."""
        return _arrow(self.table.frame[column])

    def arrow(self, column: str) -> Text:
        """A column's cells without surrounding white space (made once; the cells themselves when none has any)."""
        if column not in self._trimmed:
            self._trimmed[column] = _trimmed(self.raw(column))
        return self._trimmed[column]

    def text(self, name: str) -> pd.Series:
        if name not in self.cols:  # one column of blanks serves every field the file lacks (nothing writes in it)
            if self._blank is None:
                self._blank = _blanks(self.size)
            return self._blank
        return pd.Series(self.arrow(self.cols[name]).to_pandas(), dtype="str")

    def flag(
        self, mask: np.ndarray, column: str, reasons: Callable[[np.ndarray], pd.Series | np.ndarray | str], figures: str
    ) -> None:
        """``reasons(mask)`` words the flagged rows only: a clean million-row file builds no messages."""
        if mask.any():
            self.problems.append(_problem(self.rows[mask], column, reasons(mask), figures))

    def cells(self, column: str, mask: np.ndarray) -> pd.Series:
        """The flagged cells, trimmed."""
        return pd.Series(_text(pc.filter(self.raw(column), pa.array(mask))).to_pandas(), dtype="str")

    def shown(self, column: str, mask: np.ndarray) -> pd.Series:
        """The flagged cells, quoted for a message."""
        return _quoted(self.cells(column, mask))

    def amounts(self, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        if name not in self.cols:
            return np.full(self.size, np.nan), None
        column = self.cols[name]
        values, currency, blank = self._typed("amount", column, _numbers)
        bad = (np.isnan(values) & ~blank) | (values < 0) | (values > MAX_AMOUNT)
        if bad.any():
            self.flag(bad, column, lambda m: _amount_reasons(self.cells(column, m), values[m]), _FIGURES_OF[name])
            values = np.where(bad, np.nan, values)
        return values, currency

    def dates(self, name: str, column: str | None = None, figures: str | None = None) -> np.ndarray | None:
        column = column or self.cols.get(name)
        if column is None:
            return None
        values, bad = self._typed("date", column, lambda cells: _dates(cells, self.date_order))
        example = "MM/DD/YYYY" if self.date_order == "MDY" else "DD/MM/YYYY"
        self.flag(
            bad,
            column,
            lambda m: (self.shown(column, m) + f" is not a date: use YYYY-MM-DD or {example}.").to_numpy(),
            figures or _FIGURES_OF[name],
        )
        return values

    def words(self, column: str) -> tuple[np.ndarray, list[str]]:
        """Each cell's code into the column's distinct texts, trimmed and case-folded (looked at once each)."""
        codes, texts = _distinct(self.raw(column))
        return codes, [str(w).casefold() for w in _text(texts).to_pylist()]


def _blanks(size: int) -> pd.Series:
    """``size`` empty texts (no Python string per row)."""
    return pd.Series(pa.repeat(pa.scalar("", pa.large_string()), size).to_pandas(), dtype="str")


def _flag_codes(columns: _Columns, name: str) -> np.ndarray:
    """A true / false column as codes: 1 true, 0 false, -1 blank or unreadable (each distinct text looked at once)."""
    codes, words = columns.words(columns.cols[name])
    meaning = np.array([1 if w in _BOOL_TRUE else 0 if w in _BOOL_FALSE else -1 for w in words] or [-1], dtype=np.int8)
    return meaning[codes]


def _declared_outcome(columns: _Columns, preset: str) -> np.ndarray:
    """What a status column or won / closed / active flags say, before the stage's name is asked (codes of
    :data:`_SAYS`): a status first, then is-won / is-closed, then Odoo's archived (inactive) leads as lost."""
    size, cols = columns.size, columns.cols
    says = np.zeros(size, dtype=np.int8)
    if "status" in cols:
        column = cols["status"]
        indices, texts = columns.words(column)
        words = {**_STATUS_WORDS, **(_DYNAMICS_STATE_CODES if preset == "dynamics" else {})}
        meaning = np.array([_SAY.get(words.get(t, ""), 0) for t in texts] or [0], dtype=np.int8)
        unknown = np.array([t != "" and t not in words for t in texts] or [False])
        says = meaning[indices]
        columns.flag(
            unknown[indices],
            column,
            lambda m: (columns.shown(column, m) + " is not open, won or lost.").to_numpy(),
            "nothing: the stage decides" if "stage" in cols else _FIGURES_OF["all"],
        )
    if "is_won" in cols or "is_closed" in cols:
        won = _flag_codes(columns, "is_won") if "is_won" in cols else np.full(size, -1, dtype=np.int8)
        closed = _flag_codes(columns, "is_closed") if "is_closed" in cols else np.full(size, -1, dtype=np.int8)
        flags = np.select(
            [won == 1, closed == 0, (closed == 1) & (won == 0), closed == 1],
            [_SAY["won"], _SAY["open"], _SAY["lost"], _SAY["closed"]],
            0,
        ).astype(np.int8)
        says = np.where(says == 0, flags, says)
    if "active" in cols:  # Odoo archives lost leads
        says = np.where((says == 0) & (_flag_codes(columns, "active") == 0), _SAY["lost"], says).astype(np.int8)
    return says


def _each_distinct(cells: pd.Series, change: Callable[[str], str]) -> pd.Series:
    """``change`` applied once per distinct text of a column, not once per row."""
    codes, uniques = _distinct(_arrow(cells))
    changed = pa.array([change(str(u)) for u in uniques.to_pylist()], pa.string())
    return pd.Series(pc.take(changed, pa.array(codes)).to_pandas(), index=cells.index, dtype="str")


def _first_of_each(ids: pd.Series) -> np.ndarray:
    """True for the first row of each deal ID (fast when the IDs are already unique and sorted, as exports are)."""
    array = _arrow(ids)
    if len(array) < 2 or pc.all(pc.less(array[:-1], array[1:])).as_py():
        return np.ones(len(array), dtype=bool)
    return ~ids.duplicated(keep="first").to_numpy() | (ids == "").to_numpy()


def read_history(table: RawTable, mapping: Mapping, date_order: str = "MDY") -> StageHistory:
    """A Salesforce OpportunityHistory or OpportunityFieldHistory export folded by deal.

    OpportunityHistory has a row per stage change with the deal's amount and close date at that
    time. OpportunityFieldHistory has a row per changed field: its StageName rows give the stages
    (a deal starts in the first change's old value, at its "created" row), its Amount and
    CloseDate rows the latest amount and close date. Anything else is refused in one sentence.
    """
    if not mapping.is_history:
        raise ImportFailure(
            f"{table.source} is not a stage history: it needs OpportunityId and StageName columns "
            f"(OpportunityHistory) or OpportunityId, Field and NewValue (OpportunityFieldHistory); its columns: "
            f"{column_list(table.columns)}."
        )
    missing = mapping.missing()
    if missing:
        raise ImportFailure(f"{table.source}: the stage history has no {' and no '.join(missing)} column.")
    columns = _Columns(table, mapping, date_order)
    ids = columns.text("deal_id")
    never = np.full(columns.size, np.datetime64("NaT"), dtype="datetime64[s]")
    at = columns.dates("changed_at", figures=_FIGURES_OF["entered"])
    at = never if at is None else at
    rows = pd.Series(columns.rows)
    if mapping.preset == "salesforce_history":
        amounts, _ = columns.amounts("amount")
        closes = columns.dates("closed")
        frame = pd.DataFrame(
            {
                "deal_id": ids,
                "stage": columns.text("stage"),
                "at": at,
                "row": rows,
                "amount": amounts,
                "closed": never if closes is None else closes,
                "owner": columns.text("owner"),
            }
        )
        frame = frame[(frame["deal_id"] != "") & (frame["stage"] != "")]
        frame = frame.sort_values(["deal_id", "at", "row"], kind="stable")
        events = frame[["deal_id", "stage", "at"]]
        latest = frame.groupby("deal_id", sort=False).tail(1).set_index("deal_id")
        deals = pd.DataFrame(
            {
                "row": frame.groupby("deal_id", sort=False)["row"].min(),
                "stage": latest["stage"],
                "amount": latest["amount"],
                "created": frame.groupby("deal_id", sort=False)["at"].min(),
                "closed": latest["closed"].where(latest["closed"].notna(), latest["at"]),
                "owner": latest["owner"],
            }
        )
    else:
        which = columns.text("field_name").str.casefold()
        old, new = columns.text("old_value"), columns.text("new_value")
        frame = pd.DataFrame({"deal_id": ids, "field": which, "old": old, "new": new, "at": at, "row": rows})
        frame = frame[frame["deal_id"] != ""].sort_values(["deal_id", "at", "row"], kind="stable")
        changes = frame[frame["field"].isin(["stagename", "stage"])]
        created = frame[frame["field"].isin(["created", "opportunitycreatedfromlead"])].groupby("deal_id")["at"].min()
        first_change = changes.groupby("deal_id", sort=False).head(1)
        start = pd.DataFrame(
            {
                "deal_id": first_change["deal_id"],
                "stage": first_change["old"],
                "at": first_change["deal_id"].map(created).astype("datetime64[s]"),
            }
        )
        events = pd.concat([start, changes.rename(columns={"new": "stage"})[["deal_id", "stage", "at"]]])
        events = events[events["stage"] != ""]
        latest = changes.groupby("deal_id", sort=False).tail(1).set_index("deal_id")

        def last_value(name: str) -> pd.Series:
            return frame[frame["field"] == name].groupby("deal_id", sort=False).tail(1).set_index("deal_id")["new"]

        everything = frame.groupby("deal_id", sort=False)
        deals = pd.DataFrame({"row": everything["row"].min(), "stage": latest["new"]})
        deals = deals[deals["stage"].notna()]
        amount_text = last_value("amount").reindex(deals.index).astype("str").fillna("")
        deals["amount"] = parse_amounts(amount_text).to_numpy()
        deals["created"] = pd.Series(deals.index.map(created), index=deals.index).astype("datetime64[s]")
        deals["created"] = deals["created"].where(deals["created"].notna(), everything["at"].min())
        close_text = last_value("closedate").reindex(deals.index).astype("str").fillna("")
        closes = parse_dates(close_text, date_order)
        deals["closed"] = closes.where(closes.notna(), latest["at"].reindex(deals.index))
        deals["owner"] = ""
    if deals.empty:
        raise ImportFailure(f"{table.source}: the stage history has no stage changes in it.")
    deals = deals.rename_axis("deal_id").reset_index()
    return StageHistory(events.reset_index(drop=True), deals, table.source, mapping.preset, tuple(columns.problems))


def pair_exports(first: RawTable, second: RawTable) -> tuple[RawTable, RawTable]:
    """The deals export and its stage history, whichever order they came in; one sentence when they are no pair.

    >>> deals = read_table(b"Id,StageName,Amount,CloseDate\\n006A,Closed Won,5,2025-01-01\\n", "Opportunity.csv")
    >>> history = read_table(b"OpportunityId,StageName,CreatedDate\\n006A,Closed Won,2025-01-01\\n", "History.csv")
    >>> [t.source for t in pair_exports(history, deals)]
    ['Opportunity.csv', 'History.csv']
    """
    first_history = detect_mapping(first.columns).is_history
    second_history = detect_mapping(second.columns).is_history
    if first_history and second_history:
        raise ImportFailure(
            f"{first.source} and {second.source} are both stage histories: give the opportunities export and one "
            "stage history with it."
        )
    if first_history:  # given the other way round
        return second, first
    if not second_history:
        read_history(second, detect_mapping(second.columns))  # says in one sentence what a history needs
    return first, second


def _events_by_stage(
    events: pd.DataFrame, position: np.ndarray, size: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """History events placed on the deals they belong to: the first time each deal entered each stage."""
    entered: dict[str, np.ndarray] = {}
    reached: dict[str, np.ndarray] = {}
    matched = events.assign(position=position)[position >= 0]
    for stage, group in matched.groupby("stage", sort=False):
        first = group.groupby("position")["at"].min()
        dates = np.full(size, np.datetime64("NaT"), dtype="datetime64[s]")
        dates[first.index.to_numpy()] = first.to_numpy(dtype="datetime64[s]")
        entered[str(stage)] = dates
        hit = np.zeros(size, dtype=bool)
        hit[group["position"].to_numpy()] = True
        reached[str(stage)] = hit
    return entered, reached


def _stage_codes(stage: pd.Series | pa.Array) -> tuple[np.ndarray, tuple[str, ...]]:
    """Each row's stage as a code into the distinct stage texts, in the order they are first met."""
    codes, stages = _distinct(_arrow(stage))
    return codes.astype(np.int64), tuple(stages.to_pylist())


def type_deals(
    table: RawTable, mapping: Mapping, date_order: str = "MDY", history: StageHistory | None = None
) -> TypedDeals:
    """Every mapped column typed, each bad cell a problem that costs its row only the figures that need it.

    ``history`` is a stage history (:func:`read_history`) uploaded with the export: its stage
    changes are matched to the deals by ID. A table that is itself a stage history is folded to
    a deal each.
    """
    if date_order not in DATE_ORDERS:
        raise ImportFailure(f"Date order must be one of {', '.join(DATE_ORDERS)}.")
    missing = mapping.missing()
    if missing:
        raise ImportFailure(f"Missing {' and '.join(missing)} column; the columns found: {column_list(table.columns)}.")
    if mapping.is_history:
        return _typed_from_history(read_history(table, mapping, date_order), table)
    columns = _Columns(table, mapping, date_order)
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        if columns.size >= _READ_AHEAD_ROWS:
            dated = [mapping.fields[n] for n in _DATE_FIELDS if n in mapping.fields]
            priced = [mapping.fields[n] for n in ("amount", "amount_estimated") if n in mapping.fields]
            columns.read_ahead(pool, [*dated, *mapping.entered.values()], priced)
        return _typed_columns(columns, table, mapping, history)


def _typed_columns(columns: _Columns, table: RawTable, mapping: Mapping, history: StageHistory | None) -> TypedDeals:
    cols = mapping.fields
    size = columns.size
    rows = table.row_numbers
    notes: list[str] = []
    ids = columns.text("deal_id")
    blank_id = (ids == "").to_numpy()
    if blank_id.any():
        # A blank ID is no ID: such deals stay apart (a profile stores one row per deal ID). Labels are made for
        # those rows only.
        ids = ids.copy()
        ids[blank_id] = ("row " + pd.Series(rows[blank_id]).astype("str")).to_numpy()
    amount, currency_in_amount = columns.amounts("amount")
    estimated, currency_in_estimate = columns.amounts("amount_estimated")
    currency = columns.text("currency")
    if "currency" in cols:
        currency = _each_distinct(currency, lambda c: _CURRENCY_SYMBOLS.get(c.upper(), c.upper()))
    for named in (currency_in_amount, currency_in_estimate):
        if named is not None:
            currency = currency.where(currency != "", pd.Series(named).astype("str"))
    probability = _numbers(columns.arrow(cols["probability"]))[0] if "probability" in cols else np.full(size, np.nan)
    stage = columns.text("stage")
    stage_codes, stages = _stage_codes(stage)
    data: dict[str, object] = {
        "row": rows,
        "deal_id": ids,
        "owner": columns.text("owner"),
        "account": columns.text("account"),
        "stage": stage,
        "stage_codes": stage_codes,
        "currency": currency,
        "forecast_category": columns.text("forecast_category"),
        "amount": amount,
        "amount_estimated": estimated,
        "probability": probability,
        **{name: columns.dates(name) for name in _DATE_FIELDS},
        "says": _declared_outcome(columns, mapping.preset),
    }
    dropped = np.zeros(size, dtype=bool)
    deleted = data["says"] == _SAY["deleted"]
    if deleted.any():
        dropped |= deleted
        count = int(deleted.sum())
        notes.append(f"{count:,} deleted deal{'s are' if count > 1 else ' is'} left out.")
    if "deal_id" in cols:
        first = _first_of_each(ids)
        repeated = ~first & ~blank_id
        if repeated.any():
            first_rows = pd.Series(rows[first], index=ids[first]).groupby(level=0).first()
            columns.flag(
                repeated,
                cols["deal_id"],
                lambda m: (
                    "Deal ID "
                    + _quoted(ids[m])
                    + " already appeared in row "
                    + ids[m].map(first_rows).astype("str")
                    + "; only the first is used."
                ).to_numpy(),
                _FIGURES_OF["all"],
            )
            dropped |= repeated
    entered: dict[str, np.ndarray] = {}
    for stage_name, column in mapping.entered.items():
        dates = columns.dates("entered", column, _FIGURES_OF["entered"])
        assert dates is not None
        entered[stage_name] = dates
    reached = {name: ~np.isnat(dates) for name, dates in entered.items()}
    if history is not None:
        position = pd.Index(ids).get_indexer(history.events["deal_id"])
        if (position < 0).all():
            raise ImportFailure(
                f"The stage history in {history.source} shares no opportunity ID with the "
                f"{size:,} deals in {table.source}: export both from the same org, or leave the history out."
            )
        more_entered, more_reached = _events_by_stage(history.events, position, size)
        for name, dates in more_entered.items():
            entered[name] = np.where(np.isnat(dates), entered[name], dates) if name in entered else dates
            reached[name] = more_reached[name] | reached.get(name, np.zeros(size, dtype=bool))
        with_history = len(np.unique(position[position >= 0]))
        if with_history < size:
            notes.append(
                f"{with_history:,} of the {size:,} deals have stage history; the others count by their current stage."
            )
        columns.problems.extend(history.problems)
    engage = _norm(cols.get("created", "")) in ("engage date", "engaged date", "engaged on", "engaged")
    return TypedDeals(
        data,
        stages,
        entered,
        reached,
        (*columns.problems, _unread(table)),
        (*table.notes, *notes),
        size + len(table.problems),
        mapping.preset,
        dict(cols),
        dropped,
        engage,
    )


def _unread(table: RawTable) -> pd.DataFrame:
    """Lines the reader could not take (more cells than the header) as problems costing every figure."""
    return pd.DataFrame(
        {
            "row": [p.row for p in table.problems],
            "column": [p.column for p in table.problems],
            "reason": [p.reason for p in table.problems],
            "left_out_of": _FIGURES_OF["all"],
        }
    )


def _typed_from_history(history: StageHistory, table: RawTable) -> TypedDeals:
    deals = history.deals
    size = len(deals)
    empty = pd.Series("", index=range(size), dtype="str")
    stage = deals["stage"].astype("str").reset_index(drop=True)
    stage_codes, stages = _stage_codes(stage)
    data: dict[str, object] = {
        "row": deals["row"].to_numpy(dtype="int64"),
        "deal_id": deals["deal_id"].astype("str").reset_index(drop=True),
        "owner": deals["owner"].fillna("").astype("str").reset_index(drop=True),
        "account": empty,
        "stage": stage,
        "stage_codes": stage_codes,
        "currency": empty,
        "forecast_category": empty,
        "amount": deals["amount"].to_numpy(dtype="float64"),
        "amount_estimated": np.full(size, np.nan),
        "probability": np.full(size, np.nan),
        "created": deals["created"].to_numpy(dtype="datetime64[s]"),
        "closed": deals["closed"].to_numpy(dtype="datetime64[s]"),
        "expected_close": None,
        "won_time": None,
        "lost_time": None,
        "says": np.zeros(size, dtype=np.int8),
    }
    position = pd.Index(data["deal_id"]).get_indexer(history.events["deal_id"])  # type: ignore[arg-type]
    entered, reached = _events_by_stage(history.events, position, size)
    columns = {"deal_id": "OpportunityId", "created": "CreatedDate", "closed": "CloseDate", "amount": "Amount"}
    return TypedDeals(
        data,
        stages,
        entered,
        reached,
        (*history.problems, _unread(table)),
        table.notes,
        size + len(table.problems),
        history.preset,
        columns,
        np.zeros(size, dtype=bool),
    )


# --------------------------------------------------------------------------- the stage table and the funnel


def _stage_evidence(typed: TypedDeals, stages: Sequence[str]) -> dict[str, float] | None:
    """Median days from a deal's first stage to each stage, when every stage has dated entries (None otherwise):
    deals enter later stages later, whatever the stages are called."""
    if not stages or not all(s in typed.entered and not np.isnat(typed.entered[s]).all() for s in stages):
        return None
    # each deal's first dated stage, in seconds
    first = np.full(typed.size, np.inf)
    for dates in typed.entered.values():
        first = np.fmin(first, np.where(np.isnat(dates), np.inf, dates.view("int64").astype("float64")))
    start = first
    out = {}
    for stage in stages:
        dates = typed.entered[stage]
        known = ~np.isnat(dates)
        out[stage] = float(np.median((dates[known].view("int64") - start[known]) / 86_400))
    return out


def _probability_evidence(typed: TypedDeals, stages: Sequence[str]) -> dict[str, float]:
    """Median probability of the deals in each stage, where the file has probabilities above 0."""
    probability = typed.data["probability"]
    assert isinstance(probability, np.ndarray)
    known = probability > 0
    if not known.any():
        return {}
    codes = typed.data["stage_codes"][known]  # type: ignore[index]
    medians = pd.Series(probability[known]).groupby(codes).median()
    wanted = set(stages)
    return {typed.stages[int(code)]: float(m) for code, m in medians.items() if typed.stages[int(code)] in wanted}


def stage_table(typed: TypedDeals, outcome_map: dict[str, str] | None = None) -> pd.DataFrame:
    """The stages an export has: how many deals are in each, its outcome and its place in the funnel.

    One function decides the funnel's order for the page (which shows this table for editing) and
    the command line alike. Ranks come from, in turn: a known pipeline's order; when every stage
    has "Date entered" dates, how long after a deal's first stage it typically entered each; when
    every stage has probabilities, their median; numbers leading the names; else where each stage
    first appears in the file (``Guessed`` marks such stages). Columns: Stage, Deals, Outcome,
    Order (funnel position, blank for lost stages), Rank (every stage's default place), Guessed.
    """
    counts = np.bincount(typed.data["stage_codes"], minlength=len(typed.stages))  # type: ignore[call-overload]
    by_count = {s: int(c) for s, c in zip(typed.stages, counts, strict=True) if s}
    stages = list(by_count) + [s for s in typed.entered if s not in by_count]
    stages += [s for s in typed.reached if s not in stages]
    outcomes = {s: (outcome_map or {}).get(s) or guess_outcome(s) for s in stages}
    by_name = [s for s in stages if guess_outcome(s) != "lost"]  # ranked by name, whatever the user maps
    ranks = _name_ranks(by_name)
    guessed = set(_unordered(by_name))
    if guessed:
        timing = _stage_evidence(typed, by_name)
        probability = _probability_evidence(typed, by_name)
        if timing is not None:
            ranks, guessed = {s: timing[s] + ranks[s] * 1e-6 for s in by_name}, set()
        elif by_name and all(s in probability for s in by_name if guess_outcome(s) != "won"):
            ranks = {s: probability.get(s, 1e9) + ranks[s] * 1e-6 for s in by_name}
            guessed = set()
    ordered = sorted(by_name, key=lambda s: ranks[s])
    rank = {s: float(i + 1) for i, s in enumerate(ordered)}
    rank.update({s: float(len(ordered) + i + 1) for i, s in enumerate(s for s in stages if s not in rank)})
    funnel = sorted((s for s in stages if outcomes[s] != "lost"), key=lambda s: (outcomes[s] == "won", rank[s]))
    frame = pd.DataFrame(
        {
            "Stage": pd.Series(stages, dtype="str"),
            "Deals": [by_count.get(s, 0) for s in stages],
            "Outcome": [outcomes[s] for s in stages],
            "Order": [float(funnel.index(s) + 1) if s in funnel else np.nan for s in stages],
            "Rank": [rank[s] for s in stages],
            "Guessed": [s in guessed for s in stages],
        }
    )
    # Funnel order top down, lost stages last: the table reads like the pipeline.
    return frame.sort_values(["Order", "Rank"], na_position="last", kind="stable", ignore_index=True)


def funnel_order(stages: pd.DataFrame) -> tuple[dict[str, str], tuple[str, ...]]:
    """The stage → outcome map and the funnel (open stages in order, won last) a stage table says.

    A stage without an Order (one the user turned from lost to open) takes its default Rank.

    >>> frame = pd.DataFrame({"Stage": ["Won", "Demo", "Lost", "Intro"], "Outcome": ["won", "open", "lost", "open"],
    ...                       "Order": [3.0, 2.0, None, None], "Rank": [3.0, 2.0, 4.0, 1.0]})
    >>> funnel_order(frame)
    ({'Won': 'won', 'Demo': 'open', 'Lost': 'lost', 'Intro': 'open'}, ('Intro', 'Demo', 'Won'))
    """
    outcomes = dict(zip(stages["Stage"], stages["Outcome"], strict=True))
    funnel = stages[stages["Outcome"] != "lost"]
    place = funnel["Order"].where(funnel["Order"].notna(), funnel.get("Rank", np.inf))
    ordered = funnel.assign(won=funnel["Outcome"] == "won", place=place).sort_values(["won", "place"], kind="stable")
    return outcomes, tuple(ordered["Stage"])


# --------------------------------------------------------------------------- deals ready to calibrate


@dataclass(frozen=True, slots=True)
class DealImport:
    """Deals read from an export, ready to calibrate, with every problem found on the way.

    ``deals`` has one row per deal: ``row`` (its spreadsheet row), ``deal_id``, ``owner``,
    ``account``, ``stage``, ``outcome`` (won / lost / open), ``amount`` (NaN when blank or bad),
    ``currency``, ``created``, ``closed`` (NaT when blank or bad), ``forecast_category``,
    ``furthest`` (index in ``stage_order`` of the furthest stage the deal's own fields prove it
    reached; NaN for a lost deal nothing says about) and ``entered_<i>`` per funnel stage.
    ``problems`` lists every bad cell with the figures its row was left out of.
    """

    deals: pd.DataFrame
    problems: pd.DataFrame
    rows_read: int
    stage_order: tuple[str, ...]
    has_history: bool
    notes: tuple[str, ...]
    preset: str = "generic"
    #: the stage → outcome map used
    outcomes: dict[str, str] = field(default_factory=dict)

    @property
    def rows_bad(self) -> int:
        """Rows left out of every figure (a problem in one field costs a row only the figures needing that field)."""
        return self.rows_read - len(self.deals)


def _backfill(entered: list[np.ndarray], furthest: np.ndarray) -> list[np.ndarray]:
    """A deal that skipped a stage reached it too, on the day it entered the next stage it did enter.

    A column with nothing to fill is returned as it is (not copied); one that changes is a new array.
    """
    out = list(entered)
    never = np.iinfo(np.int64).max
    later = np.full(len(furthest), never, dtype=np.int64)
    for i in range(len(out) - 1, -1, -1):
        known = ~np.isnat(out[i])
        missing = ~known & (later != never) & (furthest >= i)
        if missing.any():
            out[i] = np.where(missing, later.view("datetime64[s]"), out[i])
        np.minimum(later, np.where(known, out[i].view("int64"), never), out=later)
    return out


_OUTCOME_TEXT = pa.array(["won", "lost", "open"], type=pa.large_string())


def finish_deals(
    typed: TypedDeals, outcome_map: dict[str, str] | None = None, stage_order: Sequence[str] | None = None
) -> DealImport:
    """Outcomes, amounts, close dates and the funnel position of every deal, from its typed columns.

    ``outcome_map`` says which stages are won, lost or open (missing stages are guessed from their
    names); ``stage_order`` lists the funnel's stages, won last (:func:`stage_table` decides it when
    None). A status, is-won / is-closed or active column decides the outcome over the stage's name;
    a lost deal is then still in the stage where it stopped, which says how far it got.
    """
    data, cols, size = typed.data, typed.columns, typed.size
    problems = list(typed.problems)
    notes = list(typed.notes)
    rows = np.asarray(data["row"])
    stages = stage_table(typed, outcome_map)
    outcomes, default_order = funnel_order(stages)
    outcome_map = {**outcomes, **(outcome_map or {})}

    # Outcome codes as _SAYS numbers them (1 won, 2 lost, 3 open; 0 none), from the stage's name, then what a
    # status or flag says over it.
    codes = np.asarray(data["stage_codes"])
    by_name = np.array([_SAY.get(outcome_map.get(s, ""), 0) if s else 0 for s in typed.stages] or [0], dtype=np.int8)
    named = by_name[codes]
    says = np.asarray(data["says"])
    outcome = np.where(says == 0, named, says) if says.any() else named
    closed = outcome == _SAY["closed"]  # a closed flag alone: won if the stage's name says so, else lost
    if closed.any():
        outcome = np.where(closed, np.where(named == _SAY["won"], _SAY["won"], _SAY["lost"]), outcome).astype(np.int8)
    no_outcome = (outcome == 0) & ~typed.dropped
    if no_outcome.any():
        column = cols.get("stage") or cols.get("status") or ""
        problems.append(_problem(rows[no_outcome], column, "The stage is empty.", _FIGURES_OF["all"]))
    keep = ~typed.dropped & (outcome >= _SAY["won"]) & (outcome <= _SAY["open"])  # won, lost or open
    won, lost = outcome == _SAY["won"], outcome == _SAY["lost"]
    closed_deal = won | lost

    amount = np.asarray(data["amount"], dtype="float64")
    if "amount_estimated" in cols:
        estimated = np.asarray(data["amount_estimated"], dtype="float64")
        use_actual = np.where(
            closed_deal, ~np.isnan(amount) & ((amount > 0) | ("amount" not in cols)), np.isnan(estimated)
        )
        amount = np.where(use_actual, amount, estimated)

    never = np.full(size, np.datetime64("NaT"), dtype="datetime64[s]")

    def dates(name: str) -> np.ndarray:
        found = data[name]
        return never if found is None else np.asarray(found)

    close = dates("closed")
    if data["won_time"] is not None:
        close = np.where(won & ~np.isnat(dates("won_time")), dates("won_time"), close)
    if data["lost_time"] is not None:
        close = np.where(lost & ~np.isnat(dates("lost_time")), dates("lost_time"), close)
    if data["expected_close"] is not None:
        expected = dates("expected_close")
        close = np.where(~closed_deal & ~np.isnat(expected), expected, close)
        close = np.where(closed_deal & np.isnat(close), expected, close)
    created = dates("created")
    early = keep & closed_deal & ~np.isnat(created) & ~np.isnat(close) & (close < created)
    if early.any():
        column = cols.get("created", "")
        shown_close = pd.Series(close[early]).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
        shown_created = pd.Series(created[early]).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
        reasons = "Closes on " + shown_close + ", before it was created on " + shown_created + "."
        problems.append(_problem(rows[early], column, reasons, "sales cycle, stage lags"))
        many = early.sum() > 1
        notes.append(
            f"{int(early.sum()):,} deal{'s were' if many else ' was'} created after {'they' if many else 'it'} closed "
            "(a migration or bulk load often sets the created date to the load day): "
            f"{'they count' if many else 'it counts'} in the win rates, deal sizes, conversion and seasonality, but "
            "not in the sales cycle or stage lags."
        )
        created = np.where(early, np.datetime64("NaT"), created)

    order = list(dict.fromkeys(stage_order if stage_order else default_order))
    if not order or outcome_map.get(order[-1], guess_outcome(order[-1])) != "won":
        # Pipedrive keeps a won deal in its last pipeline stage (the status says won): the funnel still ends in
        # a won stage, or open deals in the last stage would count as won.
        order.append("Won")
    if not stage_order:
        unsure = stages[stages["Guessed"] & stages["Stage"].isin(order)]["Stage"].tolist()
        if unsure:
            notes.append(
                f"The order of the stages {', '.join(unsure)} is a guess (the order they first appear in the file): "
                "check it on the stage table, or give the order with --stage."
            )
    won_index = len(order) - 1
    position = {s: i for i, s in enumerate(order[:-1])}
    in_stage = np.array([position.get(s, np.nan) if s else np.nan for s in typed.stages] or [np.nan])
    furthest = in_stage[codes]
    entered: list[np.ndarray] = []
    reached = dict(typed.reached)
    if typed.engage_dates:
        engaging = next((s for s in order[:-1] if s.casefold().startswith("engag")), None)
        if engaging is not None:
            reached[engaging] = reached.get(engaging, np.zeros(size, bool)) | ~np.isnat(dates("created"))
    top = np.zeros(size, dtype=np.int16)  # 1 + the furthest stage a deal's dates or history say it reached; 0: none
    for i, stage in enumerate(order):
        entered.append(typed.entered.get(stage, never))  # not copied: nothing below writes into these
        if stage in reached:
            np.maximum(top, np.asarray(reached[stage], dtype=bool).view(np.int8) * np.int16(i + 1), out=top)
    furthest = np.fmax(furthest, np.where(top > 0, top - 1.0, np.nan))
    probability = np.asarray(data["probability"], dtype="float64")
    if lost.any() and not np.isnan(probability).all():
        typical = _probability_evidence(typed, order[:-1])
        for i, stage in enumerate(order[:-1]):
            if stage in typical:
                furthest = np.where(lost & (probability >= typical[stage]), np.fmax(furthest, i), furthest)
    furthest = np.where(won, float(won_index), furthest)
    entered = _backfill(entered, np.nan_to_num(furthest, nan=-1.0))
    if early.any():
        entered = [np.where(early, np.datetime64("NaT"), column) for column in entered]

    text = pc.take(_OUTCOME_TEXT, pa.array(np.clip(outcome - 1, 0, 2).astype(np.int8)))
    # copy=False: each column stays the array it is, not stacked with its kind into a copy (a million deals' dates).
    out = pd.DataFrame(
        {
            "row": rows,
            "deal_id": data["deal_id"],
            "owner": data["owner"],
            "account": data["account"],
            "stage": data["stage"],
            "outcome": pd.Series(text.to_pandas(), dtype="str"),
            "amount": amount,
            "currency": data["currency"],
            "created": created,
            "closed": close,
            "forecast_category": data["forecast_category"],
            "furthest": furthest,
            **{f"entered_{i}": column for i, column in enumerate(entered)},
        },
        copy=False,
    )
    if not keep.all():
        out = out[keep].reset_index(drop=True)
    has_history = any(not np.isnat(column).all() for column in entered) or bool(typed.reached)
    return DealImport(
        out, _problems_frame(problems), typed.rows_read, tuple(order), has_history, tuple(notes), typed.preset,
        outcome_map,
    )  # fmt: skip


def read_deals(
    table: RawTable,
    mapping: Mapping,
    outcome_map: dict[str, str] | None = None,
    stage_order: Sequence[str] | None = None,
    date_order: str = "MDY",
    history: StageHistory | None = None,
) -> DealImport:
    """Typed deals from an export's text cells: :func:`type_deals`, then :func:`finish_deals`.

    A bad cell is a problem that costs its row only the figures that need that field: a deal
    whose amount is "x" still counts as won in the win rate.

    >>> raw = read_table(b"Stage,Amount,Created,Closed\\nClosed Won,100,2025-01-01,2025-01-31\\n"
    ...                  b"Closed Lost,-5,2025-01-01,2025-01-02\\nProposal,x,2025-02-01,\\n")
    >>> result = read_deals(raw, detect_mapping(raw.columns))
    >>> result.deals[["stage", "outcome", "amount"]].values.tolist()
    [['Closed Won', 'won', 100.0], ['Closed Lost', 'lost', nan], ['Proposal', 'open', nan]]
    >>> result.problems[["row", "reason", "left_out_of"]].values.tolist()[0]
    [3, '“-5” is negative: amounts must be 0 or more.', 'deal size, value win rate, seasonality']
    """
    return finish_deals(type_deals(table, mapping, date_order, history), outcome_map, stage_order)


# =========================================================================== weekly actuals (Track)


@dataclass(frozen=True, slots=True)
class ActualsImport:
    """The weeks that could be read, what was wrong, and columns that were not used."""

    weeks: tuple[WeekActual, ...]
    problems: tuple[RowProblem, ...]
    ignored_columns: tuple[str, ...] = field(default_factory=tuple)
    #: what reading had to clean (control characters removed …)
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def _find(header: list[str], names: Sequence[str]) -> int | None:
    folded = [h.strip().casefold() for h in header]
    for name in names:
        if name in folded:
            return folded.index(name)
    return None


def read_actuals_csv(data: bytes, stage_names: Sequence[str], period_start: date, period_end: date) -> ActualsImport:
    """Weekly actuals from a CSV: week, revenue, deals won, and a column per funnel stage.

    The file is read as a CRM export is (:func:`read_table`: any encoding and delimiter) and its
    cells with the same parsers. Any day of a week stands for that week (its Monday). Stage columns
    match the plan's stage names, ignoring case. Every bad cell is a :class:`RowProblem`; a row with
    one is left out (a week is one record: half of it would be wrong), the others still count.
    """

    def refused(reason: str) -> ActualsImport:
        return ActualsImport((), (RowProblem(1, "", reason),))

    if not data.strip():
        return refused("The file is empty.")
    try:
        table = read_table(data, "actuals.csv")
    except ImportFailure as error:
        return refused(str(error) if "could not be read" in str(error) or "empty" in str(error) or "text file" in str(
            error) else f"The file could not be read: {error}")  # fmt: skip
    header = table.columns
    week_col, revenue_col = _find(header, _WEEK_NAMES), _find(header, _REVENUE_NAMES)
    missing = [name for name, col in (("week", week_col), ("revenue", revenue_col)) if col is None]
    if missing:
        return refused(f"Missing column {' and '.join(missing)}; the columns found: {column_list(header)}.")
    assert week_col is not None and revenue_col is not None
    if len(table.frame) > MAX_ACTUALS_ROWS:
        return refused(f"The file has {len(table.frame):,} rows; actuals are one row a week, so at most "
                       f"{MAX_ACTUALS_ROWS:,} are read.")  # fmt: skip
    deals_col = _find(header, _DEALS_NAMES)
    stage_cols = {name: _find(header, [name.casefold()]) for name in stage_names}
    used = {week_col, revenue_col, deals_col, *stage_cols.values()}
    ignored = tuple(h for i, h in enumerate(header) if i not in used and not h.startswith("Column "))

    frame, rows = table.frame, table.row_numbers
    cell = {i: frame.iloc[:, i].str.strip() for i in used if i is not None}
    days = _day_reasons(cell[week_col])
    revenue = parse_amounts(cell[revenue_col]).to_numpy()
    counted = {i: parse_amounts(cell[i]).to_numpy() for i in [deals_col, *stage_cols.values()] if i is not None}
    weeks: dict[date, WeekActual] = {}
    problems: list[RowProblem] = list(table.problems)
    for position, number in enumerate(rows.tolist()):
        row_problems: list[RowProblem] = []
        day, why = days[position]
        if day is None:
            row_problems.append(RowProblem(number, header[week_col], f"The week {why}."))
        elif not period_start - timedelta(days=6) <= day <= period_end:
            row_problems.append(RowProblem(number, header[week_col], f"{day:%d %b %Y} is outside the plan's period "
                                           f"({period_start:%d %b %Y} to {period_end:%d %b %Y})."))  # fmt: skip
        text = cell[revenue_col].iat[position]
        value = revenue[position] if text else 0.0
        if np.isnan(value) or value < 0 or value > MAX_AMOUNT:
            row_problems.append(
                RowProblem(number, header[revenue_col], f"“{text[:40]}” is not an amount of 0 or more.")
            )
        counts: dict[str, int] = {}
        deals = 0
        for name, col in [("deals won", deals_col), *stage_cols.items()]:
            if col is None or not cell[col].iat[position]:
                continue
            count = counted[col][position]
            if np.isnan(count) or count < 0 or count != int(count) or count > MAX_AMOUNT:
                shown = cell[col].iat[position][:40]
                row_problems.append(RowProblem(number, header[col], f"“{shown}” is not a whole number of 0 or more."))
            elif col == deals_col:
                deals = int(count)
            else:
                counts[name] = int(count)
        if day is not None and not row_problems:
            monday = day - timedelta(days=day.weekday())
            if monday in weeks:
                twice = f"The week of {monday:%d %b %Y} appears twice; keep one row per week."
                row_problems.append(RowProblem(number, header[week_col], twice))
            else:
                weeks[monday] = WeekActual(monday, float(value), deals, counts)
        problems.extend(row_problems)
    return ActualsImport(tuple(sorted(weeks.values(), key=lambda w: w.week_start)), tuple(problems), ignored,
                         table.notes)  # fmt: skip
