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
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from planner.milestones import WeekActual

__all__ = [
    "DATE_ORDERS",
    "DEAL_FIELDS",
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
    "date_order_needed",
    "decode_text",
    "detect_mapping",
    "guess_outcome",
    "guess_stage_order",
    "parse_amount",
    "parse_amount_list",
    "parse_amounts",
    "parse_count",
    "parse_dates",
    "parse_day",
    "parse_flags",
    "read_actuals_csv",
    "read_deals",
    "read_table",
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
        return None, f"“{text[:40]}” is not a date — write it as YYYY-MM-DD"
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


def column_list(names: Sequence[str], shown: int = 20) -> str:
    """Column names for a message: quoted, each cut to 40 characters, the first ``shown`` and how many more.

    >>> column_list(["Week", "x" * 50, *map(str, range(30))], shown=4)
    '“Week”, “xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…”, “0”, “1” and 28 more'
    """
    quoted = [f"“{n[:39]}…”" if len(n) > 40 else f"“{n}”" for n in map(str, names[:shown])]
    more = f" and {len(names) - shown:,} more" if len(names) > shown else ""
    return ", ".join(quoted) + more if quoted else "none"


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
        found = column_list(header)
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


# =========================================================================== CRM deal exports
#
# A CRM export is read in three steps, each of which the Calibrate page shows:
#   read_table      bytes → every cell as text, with the layout it found (delimiter, encoding, sheet)
#   detect_mapping  header row → which column holds which field, from a preset or common spellings
#   read_deals      text cells + mapping + stage → outcome map → typed deals, and a problem per bad cell
# Everything after read_table works on whole columns at once: a 1,000,000-row export has no Python loop per row.

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
}
OUTCOMES = ("won", "lost", "open")
DATE_ORDERS = ("MDY", "DMY")

#: Largest export accepted; the page's upload limit (.streamlit/config.toml) is the same.
MAX_EXPORT_BYTES = 200 * 1024 * 1024
#: Problems listed one by one; past this the report says how many more there were.
MAX_LISTED_PROBLEMS = 10_000


class ImportFailure(ValueError):
    """The file cannot be read at all; the message is one line a user can act on."""


@dataclass(frozen=True, slots=True)
class Preset:
    """A known export layout: how to recognise its header and which column is which field."""

    name: str
    label: str
    #: every one of these (normalised) headers must be present
    signature: tuple[str, ...]
    #: field → candidate headers, most specific first
    columns: dict[str, tuple[str, ...]]


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
                "created at", "opened", "open date", "opened on"),
    "closed": ("close date", "closed date", "closedate", "closed on", "close", "closed at", "closed"),
    "owner": ("owner", "deal owner", "opportunity owner", "sales agent", "salesperson", "sales person", "rep",
              "sales rep", "account executive", "owner name", "ownerid"),
    "account": ("account", "account name", "company", "customer", "organization", "organisation", "org name",
                "accountid"),
    "won_time": ("won time", "won date"),
    "lost_time": ("lost time", "lost date"),
}  # fmt: skip

PRESETS: tuple[Preset, ...] = (
    Preset(
        "salesforce_history",
        "Salesforce stage history (OpportunityHistory)",
        ("opportunityid", "stagename"),
        {
            "deal_id": ("opportunityid",),
            "stage": ("stagename",),
            "amount": ("amount",),
            "created": ("createddate",),
            "closed": ("closedate",),
            "owner": ("createdbyid", "owner"),
        },
    ),
    Preset(
        "salesforce",
        "Salesforce opportunities (API names)",
        ("stagename", "amount", "closedate"),
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
        },
    ),
    Preset(
        "salesforce_report",
        "Salesforce opportunity report",
        ("stage", "amount", "close date"),
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
        },
    ),
    Preset(
        "hubspot",
        "HubSpot deals",
        ("deal stage", "amount"),
        {
            "deal_id": ("record id", "deal id", "deal name"),
            "stage": ("deal stage",),
            "amount": ("amount",),
            "created": ("create date",),
            "closed": ("close date",),
            "owner": ("deal owner",),
            "account": ("associated company", "company name", "associated company name"),
        },
    ),
    Preset(
        "pipedrive",
        "Pipedrive deals",
        ("status", "value", "stage"),
        {
            "deal_id": ("id", "title"),
            "stage": ("stage",),
            "amount": ("value",),
            "created": ("add time", "deal created"),
            "closed": ("close time", "expected close date"),
            "owner": ("owner", "owner name", "user id"),
            "account": ("organization", "org name", "organization name"),
            "status": ("status",),
            "won_time": ("won time",),
            "lost_time": ("lost time",),
        },
    ),
    Preset("generic", "Generic CSV (matched by common column names)", (), _GENERIC_COLUMNS),
)
PRESET_NAMES = tuple(p.name for p in PRESETS)

#: A column named like this holds the date a deal entered a stage (HubSpot: `Date entered "Stage (Pipeline)"`).
_ENTERED = re.compile(r"^\s*date entered\s+[\"'“]?(?P<stage>.+?)[\"'”]?\s*$", re.IGNORECASE)


def _entered_stage(header: str) -> str | None:
    match = _ENTERED.match(header)
    if not match:
        return None
    stage = match.group("stage").strip()
    return re.sub(r"\s*\([^()]*\)\s*$", "", stage) or stage  # drop HubSpot's "(Sales Pipeline)"


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

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]


@dataclass(frozen=True, slots=True)
class Mapping:
    """Which column holds each field, and which columns record the date a deal entered each stage."""

    preset: str
    fields: dict[str, str]
    #: stage name (as in the stage column) → its "Date entered …" column
    entered: dict[str, str] = field(default_factory=dict)

    def missing(self) -> list[str]:
        """Fields a calibration cannot do without, in the user's words."""
        needed = []
        if "stage" not in self.fields and "status" not in self.fields and "is_won" not in self.fields:
            needed.append(DEAL_FIELDS["stage"])
        if "amount" not in self.fields:
            needed.append(DEAL_FIELDS["amount"])
        return needed


def _sniff_delimiter(text: str) -> str:
    lines = [line for line in text[:65_536].splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t|").delimiter
    except csv.Error:
        # The sniffer gives up on ragged files: take the candidate the header uses most.
        counts = {d: lines[0].count(d) for d in ",;\t|"}
        best = max(counts, key=counts.__getitem__)
        return best if counts[best] else ","


#: A workbook is a zip: what it unpacks to, not its size on disk, is what reading it costs.
MAX_XLSX_UNPACKED_BYTES = 4 * MAX_EXPORT_BYTES


def _unpacked_size(data: bytes) -> int:
    """Bytes the workbook's parts take once unzipped (0 when it is no zip: openpyxl then says what is wrong)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return sum(part.file_size for part in book.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return 0


def _read_xlsx(data: bytes, sheet: str | None) -> tuple[list[list[str]], tuple[str, ...], str]:
    import openpyxl  # imported here: only Excel uploads pay for it

    unpacked = _unpacked_size(data)
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise ImportFailure(
            f"This workbook unpacks to {unpacked / 2**20:,.0f} MB, over the {MAX_XLSX_UNPACKED_BYTES / 2**20:,.0f} MB "
            "limit: export the deals alone, or save the sheet as CSV."
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
        chosen = sheet if sheet in names else names[0]
        rows = []
        for values in book[chosen].iter_rows(values_only=True):
            rows.append(
                ["" if v is None else v.isoformat() if isinstance(v, datetime | date) else str(v) for v in values]
            )
        return rows, names, chosen
    finally:
        book.close()


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


def read_table(data: bytes, filename: str = "export.csv", sheet: str | None = None) -> RawTable:
    """Every cell of a CSV or .xlsx export as text; :class:`ImportFailure` when the file cannot be read.

    CSV: any of , ; tab | as delimiter, UTF-8 with or without a byte-order mark, else Latin-1.
    Excel: the first sheet, or ``sheet``. Lines with more cells than the header are reported
    and left out; blank lines are skipped but keep the row numbers a spreadsheet shows.

    >>> table = read_table(b"Stage;Amount\\nClosed Won;1.234,50\\n\\nClosed Lost;\\n", "deals.csv")
    >>> table.columns, table.frame["Amount"].tolist(), table.row_numbers.tolist(), table.layout
    (['Stage', 'Amount'], ['1.234,50', ''], [2, 4], 'CSV, “;”-separated, UTF-8')
    """
    if len(data) > MAX_EXPORT_BYTES:
        raise ImportFailure(
            f"The file is {len(data) / 2**20:,.0f} MB; the limit is {MAX_EXPORT_BYTES / 2**20:,.0f} MB. "
            "Export fewer columns or one year at a time."
        )
    if not data[:65_536].strip() and not data.strip():  # the prefix settles it without copying a big file
        raise ImportFailure("The file is empty.")
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        rows, sheets, chosen = _read_xlsx(data, sheet)
        frame, numbers = _frame_from_rows(rows)
        return RawTable(frame, numbers, filename, f"Excel, sheet “{chosen}”", sheets, chosen)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFailure("This is an old Excel .xls file: save it as .xlsx or CSV and upload that.")
    head = data[:65_536]
    if b"\x00" in head or sum(b < 9 or 13 < b < 32 for b in head) > len(head) // 100 + 1:
        raise ImportFailure("This is not a text file: export the report as CSV or .xlsx and upload that.")
    try:
        text, encoding = data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "Latin-1"
    text = text.replace("\x00", "")
    delimiter = _sniff_delimiter(text)
    frame = _read_csv_fast(text, delimiter)
    caught: list[warnings.WarningMessage] = []
    if frame is None:
        frame = _read_csv_checked(text, delimiter, caught)
    skipped = sorted(int(m.group(1)) for w in caught for m in re.finditer(r"[Ss]kipping line (\d+)", str(w.message)))
    frame = frame.fillna("").astype("str")
    numbers = np.arange(1, len(frame) + 1, dtype=np.int64)
    for line in skipped:  # each skipped line pushes every later row down one
        numbers[numbers >= line] += 1
    filled = np.zeros(len(frame), dtype=bool)
    for column in frame.columns:  # a row's first non-blank cell settles it, usually in the first column
        todo = ~filled
        if not todo.any():
            break
        filled[todo] = (frame.loc[todo, column].str.strip() != "").to_numpy()
    if not filled.all():
        frame, numbers = frame[filled], numbers[filled]
    if frame.empty:
        raise ImportFailure("The file is empty.")
    header = _unique_headers(frame.iloc[0].tolist())
    body = frame.iloc[1:].reset_index(drop=True)
    body.columns = header
    problems = tuple(
        RowProblem(line, "", f"This line has more cells than the header's {len(header)}; it was left out.")
        for line in skipped[:MAX_LISTED_PROBLEMS]
    )
    name = {",": "“,”", ";": "“;”", "\t": "tab", "|": "“|”"}[delimiter]
    return RawTable(body, numbers[1:], filename, f"CSV, {name}-separated, {encoding}", problems=problems)


def _read_csv_fast(text: str, delimiter: str) -> pd.DataFrame | None:
    """Arrow's multi-threaded CSV reader, for the common clean file; None when the file needs the careful path.

    Arrow skips blank lines (so row numbers would drift) and stops at the first ragged row
    (where the careful reader reports each one): such files go the careful way.
    """
    if re.search(r"\n[ \t\r]*\n", text):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.read_csv(
                io.BytesIO(text.encode("utf-8")),
                sep=delimiter,
                dtype=str,
                keep_default_na=False,
                engine="pyarrow",
                header=None,
            )
    except Exception:  # any refusal just means: read it the careful way
        return None


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
    chosen = next(p for p in PRESETS if (p.name == preset if preset else all(s in normalised for s in p.signature)))
    fields: dict[str, str] = {}
    taken: set[str] = set()
    for name in DEAL_FIELDS:
        candidates = chosen.columns.get(name, ()) + (_GENERIC_COLUMNS.get(name, ()) if chosen.name != "generic" else ())
        for candidate in candidates:
            column = normalised.get(candidate)
            if column is not None and column not in taken:
                fields[name] = column
                taken.add(column)
                break
    entered = {}
    for column in columns:
        stage = _entered_stage(str(column))
        if stage:
            entered[stage] = str(column)
    return Mapping(chosen.name, fields, entered)


# --------------------------------------------------------------------------- typed columns


_BOOL_TRUE = {"true", "1", "yes", "y", "t", "won", "closed"}
_BOOL_FALSE = {"false", "0", "no", "n", "f", ""}


def parse_amounts(cells: pd.Series) -> pd.Series:
    """:func:`parse_amount` over a whole column: float, NaN for blanks and for text that is no amount.

    >>> parse_amounts(pd.Series(["$1,234.50", "1.234,50 €", "12,500", "(300)", "", "abc", "7"])).tolist()
    [1234.5, 1234.5, 12500.0, -300.0, nan, nan, 7.0]
    """
    text = cells.astype("str").str.strip()
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    todo = values.isna() & (text != "")
    if not todo.any():
        return values
    s = text[todo].str.replace(r"[^\d,.\-()]", "", regex=True)
    negative = s.str.startswith("(") & s.str.endswith(")")
    s = s.str.strip("()")
    last_comma, last_dot = s.str.rfind(","), s.str.rfind(".")
    commas, dots = s.str.count(","), s.str.count(r"\.")
    both = (commas > 0) & (dots > 0)
    comma_decimal = both & (last_comma > last_dot)
    dot_decimal = both & ~comma_decimal
    after_comma = s.str.len() - last_comma - 1
    comma_only = (commas > 0) & (dots == 0)
    comma_groups = comma_only & ((commas > 1) | (after_comma == 3))
    comma_point = comma_only & ~comma_groups
    out = s.copy()
    out[comma_decimal] = s[comma_decimal].str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    out[dot_decimal | comma_groups] = s[dot_decimal | comma_groups].str.replace(",", "", regex=False)
    out[comma_point] = s[comma_point].str.replace(",", ".", regex=False)
    many_dots = (commas == 0) & (dots > 1)
    out[many_dots] = s[many_dots].str.replace(".", "", regex=False)
    parsed = pd.to_numeric(out, errors="coerce").astype("float64")
    parsed[negative] = -parsed[negative]
    parsed[~np.isfinite(parsed)] = np.nan
    values[todo] = parsed
    return values


_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}")
_SLASHED = (
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})"  # the date
    r"(?:[ T,]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?)?$"  # an optional time, dropped
)


def date_order_needed(*columns: pd.Series) -> str | None:
    """ "MDY" or "DMY" when the slashed dates in these columns settle it, "ambiguous" when none does, None if ISO.

    >>> date_order_needed(pd.Series(["12/25/2026"])), date_order_needed(pd.Series(["25/12/2026", "03/04/2026"]))
    ('MDY', 'DMY')
    >>> date_order_needed(pd.Series(["03/04/2026"])), date_order_needed(pd.Series(["2026-03-04"]))
    ('ambiguous', None)
    """
    firsts, seconds = [], []
    for column in columns:
        text = column.astype("str").str.strip()
        text = text[(text != "") & ~text.str.match(_ISO)]  # ISO dates settle nothing; skip them before the regex
        parts = text.str.extract(_SLASHED).dropna()
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


def _iso_days(text: pd.Series) -> pd.Series | None:
    """Every "YYYY-MM-DD…" cell as a day, in one pass of Arrow's compute kernels (NaT elsewhere).

    The common case of a large export; None when the cells are not Arrow strings, so the caller
    takes the general path.
    """
    try:
        cells = pa.array(text, type=pa.string())
        days = pc.strptime(pc.utf8_slice_codeunits(cells, 0, 10), format="%Y-%m-%d", unit="s", error_is_null=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    return pd.Series(days.to_numpy(zero_copy_only=False), index=text.index, dtype="datetime64[s]")


def parse_dates(cells: pd.Series, order: str = "MDY") -> pd.Series:
    """Dates from ISO dates or datetimes ("2024-01-22T16:14:25.000+0000"), or slashed in ``order``
    ("2/23/26 4:05 PM"); NaT for blanks and for anything else. Times are dropped: a deal closes on a day.

    >>> parse_dates(pd.Series(["2024-01-22T16:14:25.000+0000", "2/23/26 4:05 PM", "31/12/2025", ""])).tolist()
    [Timestamp('2024-01-22 00:00:00'), Timestamp('2026-02-23 00:00:00'), NaT, NaT]
    """
    text = cells.astype("str").str.strip()
    result = _iso_days(text)
    if result is None:
        result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[s]")
        iso = text.str.match(_ISO)
        if iso.any():
            result[iso] = pd.to_datetime(text[iso].str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    else:
        iso = result.notna()
    rest = ~iso & (text != "")
    if rest.any():
        parts = text[rest].str.extract(_SLASHED).dropna()
        if not parts.empty:
            first, second, year = (pd.to_numeric(parts[i]) for i in range(3))
            year = year.where(year >= 100, year + 2000)
            month, day = (first, second) if order == "MDY" else (second, first)
            result[parts.index] = pd.to_datetime(
                pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce"
            )
    return result


def parse_flags(cells: pd.Series) -> pd.Series:
    """True / False / NA from "true", "1", "yes" … as CRMs write booleans."""
    text = cells.astype("str").str.strip().str.casefold()
    out = pd.Series(pd.NA, index=text.index, dtype="boolean")
    out[text.isin(_BOOL_TRUE)] = True
    out[text.isin(_BOOL_FALSE) & (text != "")] = False
    return out


# --------------------------------------------------------------------------- stages and outcomes


#: Stage orders of the CRMs' default pipelines, used to put a file's stages in order.
KNOWN_STAGE_ORDERS: tuple[tuple[str, ...], ...] = (
    ("prospecting", "qualification", "needs analysis", "value proposition", "id. decision makers",
     "perception analysis", "proposal/price quote", "negotiation/review", "closed won"),  # Salesforce
    ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
     "contractsent", "closedwon"),  # HubSpot internal names
    ("appointment scheduled", "qualified to buy", "presentation scheduled", "decision maker bought-in",
     "contract sent", "closed won"),  # HubSpot labels
    ("lead in", "contact made", "demo scheduled", "proposal made", "negotiations started", "won"),  # Pipedrive
    ("prospecting", "engaging", "won"),
)  # fmt: skip


def guess_outcome(stage: str) -> str:
    """won / lost / open from a stage's name, as CRMs usually spell them.

    >>> [guess_outcome(s) for s in ["Closed Won", "closedwon", "Won", "Closed Lost", "Lost", "Negotiation"]]
    ['won', 'won', 'won', 'lost', 'lost', 'open']
    """
    folded = re.sub(r"[^a-z]", "", stage.casefold())
    if re.search(r"lost|dead|disqualified|unqualified|cancel|rejected|churn", folded):
        return "lost"
    if re.search(r"won|closedwon|booked|signed|purchased", folded) and "wonder" not in folded:
        return "won"
    return "open"


def guess_stage_order(stages: Sequence[str]) -> list[str]:
    """Open and won stages in funnel order (won last); lost stages are not in the funnel.

    Known pipelines give the order; unknown stages keep the order they were listed in.

    >>> guess_stage_order(["Closed Won", "Negotiation/Review", "Prospecting", "Closed Lost"])
    ['Prospecting', 'Negotiation/Review', 'Closed Won']
    """
    funnel = [s for s in dict.fromkeys(stages) if guess_outcome(s) != "lost"]

    def rank(position_and_stage: tuple[int, str]) -> tuple[bool, float]:
        position, stage = position_and_stage
        folded = stage.strip().casefold()
        known = next((order.index(folded) / len(order) for order in KNOWN_STAGE_ORDERS if folded in order), None)
        return guess_outcome(stage) == "won", known if known is not None else position / max(len(funnel), 1)

    return [s for _, s in sorted(enumerate(funnel), key=rank)]


@dataclass(frozen=True, slots=True)
class DealImport:
    """Deals read from an export, ready to calibrate, with every problem found on the way.

    ``deals`` has one row per deal: ``row`` (its spreadsheet row), ``deal_id``, ``owner``,
    ``account``, ``stage``, ``outcome`` (won / lost / open), ``amount`` (NaN when blank),
    ``created``, ``closed`` (NaT when blank), ``furthest`` (index in ``stage_order`` of the
    furthest stage reached) and, with stage history, ``entered_<i>`` per funnel stage.
    """

    deals: pd.DataFrame
    problems: pd.DataFrame
    rows_read: int
    stage_order: tuple[str, ...]
    has_history: bool
    notes: tuple[str, ...]
    preset: str = "generic"

    @property
    def rows_bad(self) -> int:
        return self.rows_read - len(self.deals)


def _problems_frame(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame({"row": pd.Series(dtype="int64"), "column": pd.Series(dtype="str"),
                             "reason": pd.Series(dtype="str")})  # fmt: skip
    return pd.concat(parts, ignore_index=True).sort_values(["row", "column"], kind="stable", ignore_index=True)


def _quoted(cells: pd.Series) -> pd.Series:
    return "“" + cells.astype("str").str.slice(0, 40) + "”"


def _history_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Salesforce OpportunityHistory has a row per stage change: fold it to a row per deal.

    The deal's stage, amount and close date are those of its latest change; it was created at
    its first; the first change into each stage is when it entered that stage.
    """
    frame = frame.sort_values(["deal_id", "created", "row"], kind="stable")
    latest = frame.groupby("deal_id", sort=False).tail(1).set_index("deal_id")
    first = frame.groupby("deal_id", sort=False)["created"].min()
    latest["created"] = first
    entered = frame.groupby(["deal_id", "stage"], sort=False)["created"].min().unstack()
    latest = latest.join(entered.add_prefix("__entered__"))
    return latest.reset_index()


def read_deals(
    table: RawTable,
    mapping: Mapping,
    outcome_map: dict[str, str] | None = None,
    stage_order: Sequence[str] | None = None,
    date_order: str = "MDY",
) -> DealImport:
    """Typed deals from an export's text cells; every bad cell becomes a problem and its row is left out.

    ``outcome_map`` says which stages are won, lost or open (missing stages are guessed
    from their names); ``stage_order`` lists the funnel's stages, won last (guessed when
    None). A status or is-won / is-closed column, when mapped, decides the outcome instead.

    >>> raw = read_table(b"Stage,Amount,Created,Closed\\nClosed Won,100,2025-01-01,2025-01-31\\n"
    ...                  b"Closed Lost,-5,2025-01-01,2025-01-02\\nProposal,x,2025-02-01,\\n")
    >>> result = read_deals(raw, detect_mapping(raw.columns))
    >>> result.deals[["stage", "outcome", "amount"]].values.tolist()
    [['Closed Won', 'won', 100.0]]
    >>> result.problems.values.tolist()
    [[3, 'Amount', '“-5” is negative: amounts must be 0 or more.'], [4, 'Amount', '“x” is not an amount.']]
    """
    missing = mapping.missing()
    if missing:
        found = column_list(table.columns)
        raise ImportFailure(f"Missing {' and '.join(missing)} column; the columns found: {found}.")
    if date_order not in DATE_ORDERS:
        raise ImportFailure(f"Date order must be one of {', '.join(DATE_ORDERS)}.")
    raw = table.frame
    cols = mapping.fields
    problems: list[pd.DataFrame] = []
    bad = pd.Series(False, index=raw.index)
    notes: list[str] = []

    def flag(mask: pd.Series, column: str, reasons: Callable[[pd.Series], pd.Series] | str) -> None:
        """``reasons(mask)`` words the flagged rows only: a clean million-row file builds no messages."""
        nonlocal bad
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        bad = bad | mask
        reason = reasons(mask) if callable(reasons) else reasons
        problems.append(pd.DataFrame({"row": table.row_numbers[mask.to_numpy()], "column": column, "reason": reason}))

    def text(name: str) -> pd.Series:
        return raw[cols[name]].astype("str").str.strip() if name in cols else pd.Series("", index=raw.index)

    deals = pd.DataFrame({"row": table.row_numbers}, index=raw.index)
    by_row = "row " + pd.Series(table.row_numbers, index=raw.index).astype("str")
    deals["deal_id"] = text("deal_id") if "deal_id" in cols else by_row
    # A blank ID is no ID: such deals stay apart (a profile stores one row per deal ID).
    deals["deal_id"] = deals["deal_id"].where(deals["deal_id"] != "", by_row)
    deals["owner"] = text("owner")
    deals["account"] = text("account")
    deals["stage"] = text("stage")

    amount_text = text("amount")
    amounts = parse_amounts(amount_text)
    flag(amounts.isna() & (amount_text != ""), cols["amount"], lambda m: _quoted(amount_text[m]) + " is not an amount.")
    flag(amounts < 0, cols["amount"], lambda m: _quoted(amount_text[m]) + " is negative: amounts must be 0 or more.")
    deals["amount"] = amounts

    for name in ("created", "closed", "won_time", "lost_time"):
        cells = text(name)
        parsed = parse_dates(cells, date_order)
        if name in cols:
            flag(
                parsed.isna() & (cells != ""),
                cols[name],
                lambda m, cells=cells: (
                    _quoted(cells[m])
                    + f" is not a date: use YYYY-MM-DD or {'MM/DD/YYYY' if date_order == 'MDY' else 'DD/MM/YYYY'}."
                ),
            )
        deals[name] = parsed
    for stage, column in mapping.entered.items():
        cells = raw[column].astype("str").str.strip()
        parsed = parse_dates(cells, date_order)
        flag(parsed.isna() & (cells != ""), column, lambda m, cells=cells: _quoted(cells[m]) + " is not a date.")
        deals[f"__entered__{stage}"] = parsed

    # Stage history has a row per stage change: fold it to a row per deal once its cells are checked.
    history = mapping.preset == "salesforce_history" and "deal_id" in cols
    if history:
        deals = _history_rows(deals[~bad])
        bad = pd.Series(False, index=deals.index)

    # Outcome: an explicit status wins over flags, flags over the stage's name.
    stages_seen = [s for s in pd.unique(deals["stage"]) if s]
    outcome_map = {s: (outcome_map or {}).get(s) or guess_outcome(s) for s in stages_seen}
    # object, not float: with no stage named at all the map gives NaN floats, which "won" / "open" cannot fill.
    outcome = deals["stage"].map(outcome_map).astype("object")
    if "status" in cols and not history:
        status = text("status").str.casefold()
        known = status.isin(OUTCOMES)
        flag(~known & (status != ""), cols["status"], lambda m: _quoted(status[m]) + " is not open, won or lost.")
        outcome = status.where(known & (status != ""), outcome)
    if "is_won" in cols and not history:
        won_flag = parse_flags(text("is_won"))
        closed_flag = parse_flags(text("is_closed")) if "is_closed" in cols else None
        outcome = outcome.where(~won_flag.fillna(False).astype(bool), "won")
        if closed_flag is not None:
            lost = closed_flag.fillna(False).astype(bool) & ~won_flag.fillna(False).astype(bool)
            still_open = ~closed_flag.fillna(True).astype(bool)
            outcome = outcome.where(~lost, "lost").where(~still_open, "open")
    no_outcome = outcome.isna()
    flag(no_outcome & (deals["stage"] == ""), cols.get("stage") or cols.get("status") or "", "The stage is empty.")
    deals["outcome"] = outcome.fillna("open").astype("str")

    if "won_time" in cols or "lost_time" in cols:
        deals["closed"] = deals["closed"].where(
            deals["closed"].notna(),
            deals["won_time"].where(deals["outcome"] == "won", deals["lost_time"].where(deals["outcome"] == "lost")),
        )
    closes_early = deals["closed"].notna() & deals["created"].notna() & (deals["closed"] < deals["created"])
    flag(
        closes_early,
        cols.get("closed", cols.get("won_time", "")),
        lambda m: (
            "Closes on "
            + deals["closed"][m].dt.strftime("%Y-%m-%d").fillna("")
            + ", before it was created on "
            + deals["created"][m].dt.strftime("%Y-%m-%d").fillna("")
            + "."
        ),
    )
    if "deal_id" in cols and not history:
        repeated = deals.duplicated("deal_id", keep="first") & (deals["deal_id"] != "")
        flag(
            repeated,
            cols["deal_id"],
            lambda m: (
                "Deal ID "
                + _quoted(deals["deal_id"][m])
                + " already appeared in row "
                + deals["deal_id"][m].map(deals.drop_duplicates("deal_id").set_index("deal_id")["row"]).astype("str")
                + "; only the first is used."
            ),
        )

    good = deals[~bad].copy()
    # Stages deals passed through (OpportunityHistory rows) belong in the funnel too, not only current ones.
    passed = [c.removeprefix("__entered__") for c in good.columns if c.startswith("__entered__")]
    order = (
        list(stage_order)
        if stage_order
        else guess_stage_order(
            [s for s in passed if s] + [s for s in pd.unique(good["stage"]) if s] + list(mapping.entered)
        )
    )
    order = list(dict.fromkeys(order))
    if not order or outcome_map.get(order[-1], guess_outcome(order[-1])) != "won":
        # Pipedrive keeps a won deal in its last pipeline stage (the status says won): the funnel
        # still ends in a won stage, or open deals in the last stage would count as won.
        order.append("Won")
    position = {s: i for i, s in enumerate(order)}
    won_stage_index = len(order) - 1
    furthest = good["stage"].map(position).astype("float64")
    entered_cols = [f"__entered__{s}" for s in order if f"__entered__{s}" in good]
    has_history = bool(entered_cols)
    for i, stage in enumerate(order):
        column = f"__entered__{stage}"
        if column in good:
            furthest = np.fmax(furthest, np.where(good[column].notna(), i, np.nan))
    furthest = furthest.where(good["outcome"] != "won", won_stage_index)
    unknown = furthest.isna()
    if unknown.any():
        lost_unknown = int((unknown & (good["outcome"] == "lost")).sum())
        if lost_unknown:
            notes.append(
                f"{lost_unknown:,} lost deals do not say how far they got"
                + (" (no stage history)" if not has_history else "")
                + f"; they count as lost at the first stage, “{order[0] if order else '—'}”."
            )
    good["furthest"] = furthest.fillna(0).astype("int64") if order else 0
    for i, stage in enumerate(order):
        column = f"__entered__{stage}"
        good[f"entered_{i}"] = (
            good[column] if column in good else pd.Series(pd.NaT, index=good.index, dtype="datetime64[s]")
        )
    good = good[["row", "deal_id", "owner", "account", "stage", "outcome", "amount", "created", "closed", "furthest",
                 *[f"entered_{i}" for i in range(len(order))]]].reset_index(drop=True)  # fmt: skip
    rows_read = len(deals) if history else len(raw)
    unread = [{"row": p.row, "column": p.column, "reason": p.reason} for p in table.problems]
    listed = _problems_frame([*problems, pd.DataFrame(unread)])
    return DealImport(
        good, listed, rows_read + len(table.problems), tuple(order), has_history, tuple(notes), mapping.preset
    )
