"""Fuzzing the CRM-export reader: whatever the bytes, only ImportFailure or CalibrationError may escape."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from planner.calibrate import CalibrationError, calibrate
from planner.imports import ImportFailure, detect_mapping, read_deals, read_table

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEADERS = [
    "Stage", "Amount", "Deal Stage", "StageName", "CloseDate", "CreatedDate", "IsWon", "IsClosed", "Id",
    "status", "value", "stage", "add_time", "won_time", "lost_time", "Deal ID", "Close Date", "Create Date",
    "Owner", 'Date entered "Won (Sales Pipeline)"', "OpportunityId", "", "x", "Stage",
]  # fmt: skip
CELLS = st.one_of(
    st.sampled_from(["Closed Won", "Closed Lost", "won", "lost", "open", "Proposal", "true", "false", "", " "]),
    st.sampled_from(["$1,234.50", "1.234,50 €", "-5", "(3)", "1e309", "nan", "inf", "0", "12,500", "abc"]),
    st.sampled_from(["2025-01-22", "01/22/2025", "22/01/2025", "2/23/26 4:05 PM", "2024-01-22T16:14:25.000+0000"]),
    st.sampled_from(["13/13/2025", "0/0/00", "2025-02-30", "9999-12-31", "0001-01-01", "99/99/99"]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.text(alphabet="\",;\t|\n\r\x00 \\'aZ0", max_size=8),
)


def calibrate_bytes(data: bytes, name: str = "export.csv") -> None:
    """The whole path the page and the command line take; returns quietly or raises one of the two errors."""
    try:
        table = read_table(data, name)
        mapping = detect_mapping(table.columns)
        for order in ("MDY", "DMY"):
            deals = read_deals(table, mapping, date_order=order)
            assert deals.rows_read >= len(deals.deals)
            assert set(deals.deals["outcome"]) <= {"won", "lost", "open"}
            assert not deals.deals["amount"].lt(0).any()
            if not deals.deals.empty:
                result = calibrate(deals.deals, deals.stage_order, rows_read=deals.rows_read, notes=deals.notes)
                o = result.overall
                assert o.won + o.lost + o.open == len(deals.deals)
                for rate in (o.win_rate, o.win_rate_value, *(c.rate for c in o.conversions)):
                    assert rate is None or 0.0 <= rate <= 1.0
    except (ImportFailure, CalibrationError) as error:
        assert str(error).strip(), "an error a user reads must say something"


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_never_crash(data: bytes) -> None:
    calibrate_bytes(data)


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes_after_a_real_header_never_crash(tail: bytes) -> None:
    calibrate_bytes(b"Deal ID,Stage,Amount,Created,Close Date\n" + tail)


@FUZZ
@given(
    st.lists(st.sampled_from(HEADERS), min_size=1, max_size=7),
    st.lists(st.lists(CELLS, max_size=8), max_size=12),
    st.sampled_from([",", ";", "\t", "|"]),
    st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]),
)
# Found by this test on 3803be9: short rows under a header that names the stage twice crashed read_deals.
@example(["Stage", "Amount", "StageName", "OpportunityId"], [["Closed Won"], ["Closed Won"] * 2], ",", "utf-8")
def test_random_cells_under_real_headers_never_crash(
    header: list[str], rows: list[list[str]], delimiter: str, encoding: str
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    calibrate_bytes(buffer.getvalue().encode(encoding, errors="replace"))


@FUZZ
@given(st.lists(st.lists(st.text(max_size=10), min_size=1, max_size=6), min_size=1, max_size=10))
def test_random_text_joined_by_hand_never_crashes(rows: list[list[str]]) -> None:
    # no quoting at all: stray quotes, delimiters, NULs and newlines inside cells break the layout on purpose
    calibrate_bytes("\n".join(",".join(r) for r in rows).encode("utf-8", errors="replace"))
