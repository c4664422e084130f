"""Files people download: CSV and Excel that a spreadsheet opens safely.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
a formula to Excel and LibreOffice, and a CRM export can carry such text (a deal
named ``=HYPERLINK(...)``). Every export goes through :func:`spreadsheet_safe`,
which puts an apostrophe in front, so the cell shows as typed and never runs.

>>> import pandas as pd
>>> spreadsheet_safe(pd.DataFrame({"deal": ["=1+1", "Acme", "-5 units"], "amount": [1.0, -2.0, 3.0]}))["deal"].tolist()
["'=1+1", 'Acme', "'-5 units"]
"""

from __future__ import annotations

import io
import re

import pandas as pd

__all__ = ["csv_bytes", "spreadsheet_safe", "xlsx_bytes"]

_FORMULA_START = r"^[=+\-@\t\r]"


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell that a spreadsheet would run as a formula prefixed with an apostrophe.

    Numbers stay numbers (a negative amount is not a formula); only text is touched. Column
    headers too: on the Plan page they are the stage names a user typed.
    """
    out = frame.copy()
    out.columns = ["'" + c if isinstance(c, str) and re.match(_FORMULA_START, c) else c for c in out.columns]
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
            continue
        is_text = values.map(lambda v: isinstance(v, str))
        risky = is_text & values.astype("str").str.match(_FORMULA_START)
        if risky.any():
            out[column] = values.astype("object").where(~risky, "'" + values.astype("str"))
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark, so Excel shows accents right; formulas neutralised."""
    # CRLF rows: the csv module then quotes a cell holding a lone CR too. Unquoted, that CR would end the row
    # in Excel and start the rest of the cell ("x\r=1") as a new, unescaped formula cell.
    text = spreadsheet_safe(frame).to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\r\n")
    return text.encode("utf-8-sig")


def xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook with one sheet per frame; formulas neutralised, text stored as text."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            spreadsheet_safe(frame).to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()
