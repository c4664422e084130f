"""Writes hubspot_ui_deals.xlsx, the corpus's Excel file: a HubSpot deals export saved as .xlsx from the UI.

Run it from this folder (``python make_hubspot_xlsx.py``); the committed file is what it writes. Create and close
dates are real Excel dates, the "Date entered …" columns text as HubSpot writes them ("2023-05-16 14:02"), amounts
numbers, and the workbook's only sheet is called "All deals".
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl

STAGES = ("Appointment Scheduled", "Presentation Scheduled", "Contract Sent", "Closed Won", "Closed Lost")
HEADER = [
    "Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Close Date", "Create Date", "Deal owner",
    "Forecast category", "Deal probability",
    *[f'Date entered "{stage} (Sales Pipeline)"' for stage in STAGES],
]  # fmt: skip
# stage, amount, create, close, owner, forecast, probability, date entered per stage (None: never)
DEALS = [
    ("Closed Won", 10000, "2023-01-09 09:15", "2023-02-08 17:40", "Maya", "Closed won", 1.0,
     ("2023-01-09 09:15", "2023-01-20 10:00", "2023-01-30 11:00", "2023-02-08 17:40", None)),
    ("Closed Won", 4000, "2023-03-01 08:00", "2023-03-21 12:00", "Omar", "Closed won", 1.0,
     ("2023-03-01 08:00", None, "2023-03-10 09:00", "2023-03-21 12:00", None)),
    ("Closed Lost", 6000, "2023-04-03 10:00", "2023-05-02 10:00", "Maya", "Not forecasted", 0.0,
     ("2023-04-03 10:00", "2023-04-14 15:30", None, None, "2023-05-02 10:00")),
    ("Closed Lost", 2000, "2023-05-16 14:02", "2023-05-30 09:00", "Omar", "Not forecasted", 0.0,
     ("2023-05-16 14:02", None, None, None, "2023-05-30 09:00")),
    ("Contract Sent", 8000, "2023-06-01 09:00", "2023-07-31 12:00", "Maya", "Commit", 0.8,
     ("2023-06-01 09:00", "2023-06-08 09:00", "2023-06-20 09:00", None, None)),
    ("Closed Won", 6000, "2023-02-01 11:00", "2023-04-12 16:00", "Omar", "Closed won", 1.0,
     ("2023-02-01 11:00", "2023-02-15 11:00", "2023-03-20 11:00", "2023-04-12 16:00", None)),
]  # fmt: skip


def main() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "All deals"
    sheet.append(HEADER)
    for number, (stage, amount, create, close, owner, forecast, probability, entered) in enumerate(DEALS, 1):
        sheet.append(
            [
                14_000_000 + number, f"Deal {number}", stage, "Sales Pipeline", amount,
                datetime.fromisoformat(close), datetime.fromisoformat(create), owner, forecast, probability,
                *entered,
            ]
        )  # fmt: skip
    book.properties.created = book.properties.modified = datetime(2023, 8, 1)  # the same bytes on every run
    book.save(Path(__file__).with_name("hubspot_ui_deals.xlsx"))


if __name__ == "__main__":
    main()
