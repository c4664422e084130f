"""Properties of calibration that hold for any export: what must never change the won / lost counts or the win
rate, and a funnel whose stage-to-stage rates multiply out to the win rate."""

from __future__ import annotations

import csv
import io
import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.calibrate import calibrate, calibrate_export

PROPERTY = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STAGES = ["Prospecting", "Qualification", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"]
HEADER = ["Id", "Name", "StageName", "Amount", "CreatedDate", "CloseDate", "Description"]
TEXT = st.text(alphabet="abcdeéñüçÀ -,;\"'", max_size=12)


@st.composite
def exports(draw: st.DrawFn) -> list[list[str]]:
    """Rows of a Salesforce opportunity export: random stages, amounts, dates and free text."""
    rows = []
    for number in range(draw(st.integers(1, 15))):
        created = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 300)))
        closed = created + timedelta(days=draw(st.integers(0, 120)))
        amount = draw(st.one_of(st.just(""), st.integers(0, 90_000).map(str), st.sampled_from(["abc", "-5"])))
        rows.append([f"006{number:04d}", draw(TEXT), draw(st.sampled_from(STAGES)), amount,
                     f"{created:%Y-%m-%d}T09:00:00.000Z", f"{closed:%Y-%m-%d}", draw(TEXT)])  # fmt: skip
    return rows


def as_csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue()


def counts(data: bytes) -> tuple[int, int, float | None]:
    _, result = calibrate_export(data, "Opportunity.csv")
    return result.overall.won, result.overall.lost, result.overall.win_rate


@PROPERTY
@given(exports(), st.randoms(use_true_random=False))
def test_shuffling_the_rows_changes_nothing(rows: list[list[str]], random) -> None:
    shuffled = rows[:]
    random.shuffle(shuffled)
    assert counts(as_csv(shuffled).encode()) == counts(as_csv(rows).encode())


@PROPERTY
@given(exports(), st.data())
def test_nul_bytes_in_a_text_field_change_nothing(rows: list[list[str]], data: st.DataObject) -> None:
    dirty = [r[:] for r in rows]
    for row in dirty:
        cut = data.draw(st.integers(0, len(row[6])))
        row[6] = row[6][:cut] + "\x00" * data.draw(st.integers(1, 3)) + row[6][cut:]
    assert counts(as_csv(dirty).encode()) == counts(as_csv(rows).encode())


@PROPERTY
@given(exports(), st.sampled_from(["cp1252", "utf-16", "utf-16-le", "utf-8-sig"]))
def test_re_encoding_changes_nothing(rows: list[list[str]], encoding: str) -> None:
    text = as_csv(rows)
    if encoding == "utf-16-le":
        text = text.replace(",", "\t")  # Excel's "Unicode text": tab separated, a BOM
        data = b"\xff\xfe" + text.encode(encoding)
    else:
        data = text.encode(encoding)
    assert counts(data) == counts(text.encode())


@PROPERTY
@given(exports(), st.data())
def test_deals_created_after_they_closed_change_no_count(rows: list[list[str]], data: st.DataObject) -> None:
    migrated = [r[:] for r in rows]
    for row in migrated:
        if data.draw(st.booleans()):  # a migration loaded this deal after it closed
            row[4] = "2025-06-30T22:10:00.000Z"
    assert counts(as_csv(migrated).encode()) == counts(as_csv(rows).encode())


@st.composite
def deal_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Deals through a random funnel; a lost deal's furthest stage is sometimes unknown (NaN)."""
    stages = draw(st.integers(2, 6))
    order = (*(f"Stage {i}" for i in range(stages - 1)), "Won")
    size = draw(st.integers(1, 60))
    outcome = draw(st.lists(st.sampled_from(["won", "lost", "open"]), min_size=size, max_size=size))
    furthest = []
    for o in outcome:
        if o == "won":
            furthest.append(float(stages - 1))
        elif o == "lost" and draw(st.integers(0, 9)) == 0:
            furthest.append(math.nan)
        else:
            furthest.append(float(draw(st.integers(0, stages - 2))))
    frame = pd.DataFrame(
        {"owner": draw(st.lists(st.sampled_from(["Ana", "Ben"]), min_size=size, max_size=size)),
         "outcome": outcome, "amount": np.full(size, 100.0), "furthest": furthest}
    )  # fmt: skip
    return frame, order


@PROPERTY
@given(deal_frames())
def test_the_stage_rates_over_closed_deals_multiply_out_to_the_win_rate(case: tuple[pd.DataFrame, tuple]) -> None:
    deals, order = case
    result = calibrate(deals, order)
    for figures in (result.overall, *result.by_owner):
        if figures.won + figures.lost == 0:
            continue
        product = 1.0
        for conversion in figures.conversions:
            product *= conversion.rate if conversion.rate is not None else 0.0
        assert math.isclose(product, figures.win_rate, rel_tol=1e-9), (figures, product)
        assert all(c.rate is None or 0.0 <= c.rate <= 1.0 for c in figures.conversions)
