"""Small hand-made CRM exports in every preset's layout, calibrated, with the figures worked out by hand.

Definitions (docs/design.md, "Calibration"): win rate = won / (won + lost); value win rate =
won amount / (won + lost amount); deal size = mean (and median) won amount; cycle = median days
created → closed over won deals; conversion i → i+1 = closed deals that reached i+1 / closed deals that
reached i (the steps multiply out to the win rate); suggested coverage = 1 / value win rate.
"""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest
from pytest import approx

import planner.imports as imports
from planner.calibrate import Calibration, CalibrationError, calibrate, calibrate_export, summary_dict
from planner.imports import (
    DealImport,
    ImportFailure,
    date_order_needed,
    detect_mapping,
    guess_outcome,
    guess_stage_order,
    parse_amounts,
    parse_dates,
    read_deals,
    read_table,
)


def calib(data: bytes, name: str = "deals.csv", **options: object) -> tuple[DealImport, Calibration]:
    return calibrate_export(data, name, **options)  # type: ignore[arg-type]


def conversions(result: Calibration) -> list[tuple[str, str, int, int]]:
    return [(c.from_stage, c.to_stage, c.reached, c.advanced) for c in result.overall.conversions]


def problems(deals: DealImport) -> list[tuple[int, str, str]]:
    return [tuple(p) for p in deals.problems[["row", "column", "reason"]].itertuples(index=False)]


# =========================================================================== presets, figures by hand

SALESFORCE_API = b"""Id,Name,StageName,Amount,CloseDate,CreatedDate,IsWon,IsClosed,OwnerId
006A,Acme,Closed Won,1000,2025-02-10,2025-01-01T09:00:00.000+0000,true,true,005X
006B,Beta,Closed Won,3000,2025-03-01,2025-01-11T09:00:00.000+0000,true,true,005X
006C,Gamma,Closed Lost,2000,2025-02-01,2025-01-01T09:00:00.000+0000,false,true,005Y
006D,Delta,Closed Lost,4000,2025-02-15,2025-01-05T09:00:00.000+0000,false,true,005Y
006E,Eps,Negotiation/Review,5000,2025-06-30,2025-03-01T09:00:00.000+0000,false,false,005Y
006F,Zeta,Prospecting,500,2025-06-30,2025-03-01T09:00:00.000+0000,false,false,005X
"""


def test_salesforce_api_names() -> None:
    # Stages in Salesforce's default order: Prospecting (0) → Negotiation/Review (1) → Closed Won (2).
    # won A, B; lost C, D in "Closed Lost" with no stage history; open E at 1, F at 0.
    # win rate 2 / 4 = 0.5; value 4000 / (4000 + 6000) = 0.4; coverage 1 / 0.4 = 2.5
    # deal size mean (1000 + 3000) / 2 = 2000, median 2000
    # cycle A: Jan 1 → Feb 10 = 40 days, B: Jan 11 → Mar 1 = 49 days; median 44.5
    # Nothing says how far C and D got: no stage-to-stage rate can be told, so the funnel is one step at the win rate
    # (4 closed, 2 won) rather than steps invented at 100%; its lag is the whole cycle.
    deals, result = calib(SALESFORCE_API)
    assert deals.preset == "salesforce"
    assert deals.stage_order == ("Prospecting", "Negotiation/Review", "Closed Won")
    o = result.overall
    assert (o.won, o.lost, o.open) == (2, 2, 2)
    assert o.win_rate == 0.5
    assert o.win_rate_value == approx(0.4)
    assert (o.avg_deal_size, o.median_deal_size) == (2000.0, 2000.0)
    assert o.cycle_median_days == 44.5
    assert conversions(result) == [("Opportunities", "Closed Won", 4, 2)]
    assert o.conversions[0].rate == approx(0.5) and result.one_step
    assert o.suggested_coverage == approx(2.5)
    # no stage dates: the cycle is the one step's lag, and the notes say so
    assert result.lag_days == (44.5,) and result.lag_source == "sales cycle"
    assert any("no stage dates" in n for n in result.notes)
    assert any("2 lost deals do not say how far they got" in n for n in result.notes)
    # per owner: 005X won both of theirs (1 open), 005Y lost both (1 open)
    owners = {f.owner: f for f in result.by_owner}
    assert (owners["005X"].won, owners["005X"].lost, owners["005X"].win_rate) == (2, 0, 1.0)
    assert (owners["005Y"].won, owners["005Y"].lost, owners["005Y"].win_rate) == (0, 2, 0.0)
    assert owners["005Y"].avg_deal_size is None
    # seasonality: won 1000 closes in February, 3000 in March
    assert result.seasonality[1:3] == approx((0.25, 0.75))


def test_salesforce_flags_decide_the_outcome_over_the_stage_name() -> None:
    # a stage named like an open one, but IsWon / IsClosed say won and lost
    data = b"""Id,StageName,Amount,CloseDate,IsWon,IsClosed
1,Signed Off,100,2025-01-10,true,true
2,Stalled,100,2025-01-10,false,true
3,Evaluation,100,2025-01-10,false,false
4,Closed Won,100,2025-01-10,false,false
"""
    deals, result = calib(data)
    assert dict(zip(deals.deals["deal_id"], deals.deals["outcome"], strict=True)) == {
        "1": "won",
        "2": "lost",
        "3": "open",
        "4": "open",  # IsClosed false: still open whatever the stage says
    }
    assert (result.overall.won, result.overall.lost, result.overall.open) == (1, 1, 2)


SALESFORCE_REPORT = b"""Opportunity Name,Account Name,Stage,Amount,Close Date,Created Date,Opportunity Owner
Big deal,Acme,Closed Won,"$10,000.00",3/15/2025,1/15/2025,Ana Lima
Small deal,Beta,Closed Won,"$2,000.00",2/14/2025,2/4/2025,Ben Carter
Lost one,Gamma,Closed Lost,"$8,000.00",3/1/2025,1/1/2025,Ana Lima
Open one,Delta,Proposal/Price Quote,"$5,000.00",6/30/2025,3/1/2025,Ben Carter
Early,Eps,Qualification,"$1,000.00",6/30/2025,3/2/2025,Ana Lima
"""


def test_salesforce_report_labels() -> None:
    # Qualification (0) → Proposal/Price Quote (1) → Closed Won (2); M/D/YYYY dates, "$10,000.00" amounts
    # won Big (10,000; Jan 15 → Mar 15 = 59 days), Small (2,000; Feb 4 → Feb 14 = 10 days); lost 8,000
    # win rate 2/3; value 12,000 / 20,000 = 0.6; coverage 1/0.6 = 1.667; deal size 6,000 mean and median
    # cycle median (59 + 10) / 2 = 34.5
    # "Lost one" is Closed Lost with nothing saying how far it got: one step, 3 closed, 2 won
    deals, result = calib(SALESFORCE_REPORT)
    assert deals.preset == "salesforce_report"
    assert deals.stage_order == ("Qualification", "Proposal/Price Quote", "Closed Won")
    o = result.overall
    assert (o.won, o.lost, o.open) == (2, 1, 2)
    assert o.win_rate == approx(2 / 3)
    assert o.win_rate_value == approx(0.6)
    assert (o.avg_deal_size, o.median_deal_size) == (6000.0, 6000.0)
    assert o.cycle_median_days == 34.5
    assert conversions(result) == [("Opportunities", "Closed Won", 3, 2)]
    assert o.suggested_coverage == approx(1 / 0.6)
    owners = {f.owner: f for f in result.by_owner}
    assert set(owners) == {"Ana Lima", "Ben Carter"}
    assert (owners["Ana Lima"].win_rate, owners["Ana Lima"].avg_deal_size, owners["Ana Lima"].cycle_median_days) == (
        0.5,
        10_000.0,
        59.0,
    )
    assert (owners["Ben Carter"].won, owners["Ben Carter"].open, owners["Ben Carter"].cycle_median_days) == (1, 1, 10.0)
    assert deals.deals.loc[deals.deals["deal_id"] == "Big deal", "account"].item() == "Acme"


SALESFORCE_HISTORY = b"""OpportunityId,StageName,Amount,CloseDate,CreatedDate
006A,Prospecting,1000,2025-03-01,2025-01-01
006A,Proposal,1000,2025-03-01,2025-01-11
006A,Closed Won,1200,2025-02-20,2025-02-20
006B,Prospecting,2000,2025-04-01,2025-01-05
006B,Proposal,2000,2025-04-01,2025-01-25
006B,Closed Lost,2000,2025-03-01,2025-03-01
006C,Prospecting,500,2025-05-01,2025-02-01
006C,Closed Lost,500,2025-02-15,2025-02-15
006D,Prospecting,800,2025-06-01,2025-03-01
006D,Proposal,800,2025-06-01,2025-03-21
"""


def test_salesforce_opportunity_history_folds_to_one_deal_each() -> None:
    # A row per stage change; the latest change gives stage, amount and close date, the first the created date.
    # A: Prospecting Jan 1 → Proposal Jan 11 → Closed Won Feb 20 at 1,200 (won; cycle Jan 1 → Feb 20 = 50 days)
    # B: Prospecting Jan 5 → Proposal Jan 25 → Closed Lost at 2,000 (lost, reached Proposal)
    # C: Prospecting Feb 1 → Closed Lost at 500 (lost, reached Prospecting only)
    # D: Prospecting Mar 1 → Proposal Mar 21 (open at Proposal)
    # win rate 1/3; value 1,200 / (1,200 + 2,500) = 0.3243; coverage 3,700 / 1,200
    # over the closed deals: 0 → 1: A B C (3) reached Prospecting, A B (2) Proposal; 1 → 2: A B (2), A (1)
    # 2/3 × 1/2 = 1/3, the win rate
    # lags from history: Prospecting → Proposal = 10, 20, 20 days → median 20; Proposal → Won = A's 40 days
    deals, result = calib(SALESFORCE_HISTORY)
    assert deals.preset == "salesforce_history"
    assert deals.rows_read == 4 and len(deals.deals) == 4
    assert deals.stage_order == ("Prospecting", "Proposal", "Closed Won")
    assert deals.has_history and result.has_history
    by_id = deals.deals.set_index("deal_id")
    assert by_id.loc["006A", ["stage", "outcome", "amount"]].tolist() == ["Closed Won", "won", 1200.0]
    assert by_id.loc["006A", "created"] == pd.Timestamp("2025-01-01")
    assert by_id.loc["006A", "closed"] == pd.Timestamp("2025-02-20")
    assert by_id["furthest"].to_dict() == {"006A": 2, "006B": 1, "006C": 0, "006D": 1}
    o = result.overall
    assert (o.won, o.lost, o.open) == (1, 2, 1)
    assert o.win_rate == approx(1 / 3)
    assert o.win_rate_value == approx(1200 / 3700)
    assert (o.avg_deal_size, o.median_deal_size, o.cycle_median_days) == (1200.0, 1200.0, 50.0)
    assert conversions(result) == [("Prospecting", "Proposal", 3, 2), ("Proposal", "Closed Won", 2, 1)]
    assert o.suggested_coverage == approx(3700 / 1200)
    assert result.lag_days == (20.0, 40.0) and result.lag_source == "stage history"
    assert not any("do not say how far" in n for n in result.notes)


HUBSPOT = b'''Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,\
"Date entered ""Appointment Scheduled (Sales Pipeline)""","Date entered ""Contract Sent (Sales Pipeline)""",\
"Date entered ""Closed Won (Sales Pipeline)"""
1,A,Closed Won,"$1,000.00",2025-02-01 10:00,2025-01-01 09:00,Ana,2025-01-01 09:00,2025-01-11 09:00,2025-02-01 10:00
2,B,Closed Won,"$3,000.00",2025-03-01 10:00,2025-01-01 09:00,Ben,2025-01-01 09:00,2025-01-21 09:00,2025-03-01 10:00
3,C,Closed Lost,,2025-02-10 10:00,2025-01-05 09:00,Ana,2025-01-05 09:00,2025-01-15 09:00,
4,D,Closed Lost,"$500.00",2025-02-10 10:00,2025-01-05 09:00,Ben,2025-01-05 09:00,,
5,E,Contract Sent,"$2,000.00",,2025-02-05 09:00,Ana,2025-02-05 09:00,2025-02-20 09:00,
'''


def test_hubspot_with_date_entered_columns() -> None:
    # Appointment Scheduled (0) → Contract Sent (1) → Closed Won (2), "reached" from the Date entered columns:
    # A, B won; C lost after reaching Contract Sent; D lost at Appointment Scheduled; E open at Contract Sent.
    # win rate 2/4 = 0.5; deal size (1,000 + 3,000) / 2 = 2,000, median 2,000
    # value: C has no amount, but 1 of 2 lost deals does, so C counts as the lost average (500):
    #        4,000 / (4,000 + 500 + 500) = 0.8, coverage 1.25
    # cycle A: Jan 1 → Feb 1 = 31, B: Jan 1 → Mar 1 = 59; median 45
    # over the 4 closed deals: 0 → 1: 4 reached 0, A B C (3) reached 1; 1 → 2: 3, A B (2)
    # lags 0 → 1: A 10, B 20, C 10, E 15 → median 12.5; 1 → 2: A Jan 11 → Feb 1 = 21, B Jan 21 → Mar 1 = 39 → 30
    deals, result = calib(HUBSPOT)
    assert deals.preset == "hubspot"
    assert deals.stage_order == ("Appointment Scheduled", "Contract Sent", "Closed Won")
    o = result.overall
    assert (o.won, o.lost, o.open) == (2, 2, 1)
    assert o.win_rate == 0.5
    assert o.win_rate_value == approx(0.8)
    assert (o.avg_deal_size, o.median_deal_size, o.cycle_median_days) == (2000.0, 2000.0, 45.0)
    assert (o.cycle_q1_days, o.cycle_q3_days) == (38.0, 52.0)
    assert conversions(result) == [
        ("Appointment Scheduled", "Contract Sent", 4, 3),
        ("Contract Sent", "Closed Won", 3, 2),
    ]
    assert o.suggested_coverage == approx(1.25)
    assert result.lag_days == (12.5, 30.0) and result.lag_source == "stage history"
    assert any("1 of 2 lost deals have no amount" in n and "(500)" in n for n in result.notes)
    owners = {f.owner: f for f in result.by_owner}
    assert (owners["Ana"].won, owners["Ana"].lost, owners["Ana"].open, owners["Ana"].avg_deal_size) == (1, 1, 1, 1000.0)
    assert (owners["Ben"].win_rate, owners["Ben"].avg_deal_size, owners["Ben"].cycle_median_days) == (0.5, 3000.0, 59.0)


PIPEDRIVE = b"""id,title,status,value,stage,add_time,won_time,lost_time,owner_name
1,A,won,1000,Negotiations Started,2025-01-02 10:00:00,2025-01-22 10:00:00,,Ana
2,B,won,2000,Negotiations Started,2025-01-02 10:00:00,2025-02-11 10:00:00,,Ana
3,C,won,6000,Negotiations Started,2025-01-05 10:00:00,2025-02-04 10:00:00,,Ben
4,D,lost,1000,Lead In,2025-01-05 10:00:00,,2025-01-15 10:00:00,Ben
5,E,lost,1000,Demo Scheduled,2025-01-05 10:00:00,,2025-01-25 10:00:00,Ben
6,F,open,3000,Negotiations Started,2025-03-01 10:00:00,,,Ana
"""


def test_pipedrive_status_won_time_and_lost_time() -> None:
    # status decides the outcome; the close date is won_time or lost_time; won deals stay in their last
    # pipeline stage, so the funnel ends in a "Won" stage after Lead In → Demo Scheduled → Negotiations Started.
    # win rate 3/5 = 0.6; value 9,000 / 11,000; deal size mean 3,000, median 2,000
    # cycle A 20, B 40, C 30 days → median 30
    # F is open in Negotiations Started: it says nothing yet about its step.
    # over the 5 closed deals: 0 → 1: 5, all but D (4); 1 → 2: 4, A B C (3); 2 → Won: 3, 3 (4/5 × 3/4 = 3/5)
    deals, result = calib(PIPEDRIVE)
    assert deals.preset == "pipedrive"
    assert deals.stage_order == ("Lead In", "Demo Scheduled", "Negotiations Started", "Won")
    assert deals.deals["closed"].dt.strftime("%Y-%m-%d").tolist()[:5] == [
        "2025-01-22",
        "2025-02-11",
        "2025-02-04",
        "2025-01-15",
        "2025-01-25",
    ]
    o = result.overall
    assert (o.won, o.lost, o.open) == (3, 2, 1)
    assert o.win_rate == approx(0.6)
    assert o.win_rate_value == approx(9 / 11)
    assert (o.avg_deal_size, o.median_deal_size, o.cycle_median_days) == (3000.0, 2000.0, 30.0)
    assert conversions(result) == [
        ("Lead In", "Demo Scheduled", 5, 4),
        ("Demo Scheduled", "Negotiations Started", 4, 3),
        ("Negotiations Started", "Won", 3, 3),
    ]
    assert o.suggested_coverage == approx(11 / 9)


def test_pipedrive_deal_prefixed_headers() -> None:
    # "Deal - Status" style headers (Pipedrive's own export); capitalised statuses
    # won A (1,000; Jan 2 → Jan 22 = 20 days), lost B (500): win rate 0.5, value 1,000 / 1,500, coverage 1.5
    data = b"""Deal - ID,Deal - Title,Deal - Status,Deal - Value,Deal - Stage,Deal - Deal created,Deal - Won time,\
Deal - Lost time,Deal - Owner
1,A,Won,1000,Proposal Made,2025-01-02,2025-01-22,,Ana
2,B,Lost,500,Lead In,2025-01-02,,2025-01-12,Ana
"""
    deals, result = calib(data)
    assert deals.preset == "pipedrive"
    mapping = detect_mapping(read_table(data).columns)
    assert mapping.fields["status"] == "Deal - Status" and mapping.fields["amount"] == "Deal - Value"
    o = result.overall
    assert (o.won, o.lost, o.open, o.win_rate) == (1, 1, 0, 0.5)
    assert o.win_rate_value == approx(2 / 3) and o.suggested_coverage == approx(1.5)
    assert o.cycle_median_days == 20.0
    assert conversions(result) == [("Lead In", "Proposal Made", 2, 1), ("Proposal Made", "Won", 1, 1)]


GENERIC = b"""opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value
1,Ana,X,Acme,Won,2024-01-01,2024-01-31,1000
2,Ana,X,Acme,Lost,2024-01-01,2024-01-11,0
3,Ben,X,Beta,Engaging,2024-02-01,,
4,Ben,X,Beta,Prospecting,,,
5,Ben,X,Beta,Won,2024-02-01,2024-04-01,3000
"""


def test_generic_common_spellings() -> None:
    # deal_stage / engage_date / close_date / close_value / sales_agent, as in the public CRM sample datasets
    # Prospecting (0) → Engaging (1) → Won (2); won 1, 5; lost 2, whose engage date says it reached Engaging;
    # open 3 at 1, 4 at 0
    # win rate 2/3; lost deal's amount is 0 (none recorded) → lost deals assumed average won size (2,000):
    #   value = 4,000 / (4,000 + 2,000) = 2/3 (= the count rate, not a flattering 100%)
    # cycle 30 and 60 days → 45; deal size 2,000
    # over the 3 closed deals: 0 → 1: 3, 3; 1 → 2: 3, 2 (the win rate)
    deals, result = calib(GENERIC)
    assert deals.preset == "generic"
    mapping = detect_mapping(read_table(GENERIC).columns)
    assert {k: mapping.fields[k] for k in ("stage", "amount", "created", "closed", "owner", "account")} == {
        "stage": "deal_stage",
        "amount": "close_value",
        "created": "engage_date",
        "closed": "close_date",
        "owner": "sales_agent",
        "account": "account",
    }
    o = result.overall
    assert (o.won, o.lost, o.open) == (2, 1, 2)
    assert o.win_rate == approx(2 / 3) and o.win_rate_value == approx(2 / 3)
    assert (o.avg_deal_size, o.cycle_median_days) == (2000.0, 45.0)
    assert conversions(result) == [("Prospecting", "Engaging", 3, 3), ("Engaging", "Won", 3, 2)]
    assert o.suggested_coverage == approx(1.5)
    owners = {f.owner: f for f in result.by_owner}
    assert (owners["Ana"].win_rate, owners["Ben"].win_rate, owners["Ben"].cycle_median_days) == (0.5, 1.0, 60.0)


def test_generic_plain_names_stage_amount_owner() -> None:
    # stage / amount / created / closed / rep
    data = b"stage,amount,created,closed,rep\nClosed Won,200,2025-01-01,2025-01-05,Zoe\nDemo,50,2025-01-02,,Zoe\n"
    _, result = calib(data)
    mapping = detect_mapping(read_table(data).columns)
    assert mapping.preset == "generic" and mapping.fields["owner"] == "rep"
    assert (result.overall.won, result.overall.open, result.overall.cycle_median_days) == (1, 1, 4.0)
    assert [f.owner for f in result.by_owner] == ["Zoe"]


def xlsx_bytes() -> bytes:
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["Exported by the CRM on 2 Jan 2026"])
    sheet = book.create_sheet("Deals")
    sheet.append(["Deal Stage", "Amount", "Create Date", "Close Date", "Deal owner"])
    sheet.append(["closedwon", 1500, datetime(2025, 1, 1, 9, 30), datetime(2025, 1, 21, 10, 0), "Ana"])
    sheet.append(["closedlost", 500.0, date(2025, 1, 1), date(2025, 1, 5), "Ana"])
    sheet.append([None, None, None, None, None])  # a blank row keeps the row numbers
    sheet.append(["contractsent", None, date(2025, 2, 1), None, "Ben"])
    sheet.append(["closedwon", "lots", date(2025, 2, 1), date(2025, 2, 2), "Ben"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_first_sheet_by_default_and_a_named_sheet() -> None:
    data = xlsx_bytes()
    first = read_table(data, "deals.xlsx")
    assert first.sheets == ("Notes", "Deals") and first.sheet == "Notes"
    assert first.columns == ["Exported by the CRM on 2 Jan 2026"]
    with pytest.raises(ImportFailure, match="Missing Stage and Amount column; the columns found: “Exported by"):
        calib(data, "deals.xlsx")

    table = read_table(data, "deals.xlsx", "Deals")
    assert table.layout == "Excel, sheet “Deals”"
    assert table.row_numbers.tolist() == [2, 3, 5, 6]
    # HubSpot's internal stage names: contractsent (0) → closedwon (1)
    # won 1,500 (Jan 1 → Jan 21 = 20 days) and row 6 (Feb 1 → Feb 2 = 1 day), whose amount "lots" is reported: it
    # still counts as won, as an average deal (1,500) in the value win rate; lost 500; open contractsent
    # win rate 2/3; value 3,000 / 3,500; cycle 20 and 1 → 10.5; the lost deal says nothing of how far it got: one step
    deals, result = calib(data, "deals.xlsx", sheet="Deals")
    assert deals.preset == "hubspot"
    assert deals.stage_order == ("contractsent", "closedwon")
    assert problems(deals) == [(6, "Amount", "“lots” is not an amount.")]
    o = result.overall
    assert (o.won, o.lost, o.open, o.win_rate) == (2, 1, 1, approx(2 / 3))
    assert o.win_rate_value == approx(3000 / 3500)
    assert (o.avg_deal_size, o.cycle_median_days) == (1500.0, 10.5)
    assert conversions(result) == [("Opportunities", "closedwon", 3, 2)]
    assert (result.rows_read, result.rows_bad) == (4, 0)


# =========================================================================== layouts, encodings, amounts, dates


@pytest.mark.parametrize(
    ("data", "layout"),
    [
        (b"Stage;Amount\nClosed Won;1.234,50 \xe2\x82\xac\nProposal;\n", "CSV, “;”-separated, UTF-8"),
        (b"\xef\xbb\xbfStage\tAmount\nClosed Won\t$1,234.50\nProposal\t\n", "CSV, tab-separated, UTF-8 with BOM"),
        (
            b"Stage|Amount|Account\nClosed Won|1234.5|Soci\xe9t\xe9 G\xe9n\xe9rale\nProposal||x\n",
            "CSV, “|”-separated, Windows-1252",
        ),
    ],
)
def test_delimiters_and_encodings(data: bytes, layout: str) -> None:
    table = read_table(data, "deals.csv")
    assert table.layout == layout
    assert table.columns[:2] == ["Stage", "Amount"]  # the BOM is not part of the first header
    deals, result = calib(data)
    assert result.overall.won == 1 and result.overall.avg_deal_size == 1234.5
    assert deals.deals["amount"].isna().tolist() == [False, True]


def test_quotes_inside_a_text_field_do_not_change_the_delimiter() -> None:
    # Found by test_calibrate_properties: csv.Sniffer read “;'” … “'” in free text as a ";"-separated file quoted
    # with "'", and the whole header became one column.
    data = (b"Id,Name,StageName,Amount,CreatedDate,CloseDate,Description\n"
            b"0060000,;',Closed Won,100,2024-01-01T09:00:00.000Z,2024-01-01,'\n")  # fmt: skip
    assert read_table(data, "Opportunity.csv").layout == "CSV, “,”-separated, UTF-8"
    _, result = calib(data, "Opportunity.csv")
    assert (result.overall.won, result.overall.avg_deal_size) == (1, 100.0)


def test_latin1_names_survive() -> None:
    deals, _ = calib(b"Stage,Amount,Owner\nClosed Won,100,Soci\xe9t\xe9 G\xe9n\xe9rale\nDemo,1,Ren\xe9e\n")
    assert deals.deals["owner"].tolist() == ["Société Générale", "Renée"]


def test_amounts_as_people_type_them() -> None:
    cells = pd.Series(["$1,234.50", "1.234,50 €", "", "  ", "12,500", "€ 99", "1 000,50", "abc"])
    values = parse_amounts(cells).tolist()
    assert values[:2] == [1234.5, 1234.5]
    assert pd.isna(values[2]) and pd.isna(values[3]) and pd.isna(values[7])
    assert values[4:7] == [12500.0, 99.0, 1000.5]


def test_dates_in_every_format_we_promise() -> None:
    cells = pd.Series(
        ["2025-01-22", "01/22/2025", "1/22/25", "2024-01-22T16:14:25.000+0000", "2/23/26 4:05 PM", "", "soon"]
    )
    parsed = parse_dates(cells, "MDY").tolist()
    assert parsed[:5] == [
        pd.Timestamp("2025-01-22"),
        pd.Timestamp("2025-01-22"),
        pd.Timestamp("2025-01-22"),
        pd.Timestamp("2024-01-22"),
        pd.Timestamp("2026-02-23"),
    ]
    assert pd.isna(parsed[5]) and pd.isna(parsed[6])
    assert parse_dates(pd.Series(["22/01/2025", "03/04/2025"]), "DMY").tolist() == [
        pd.Timestamp("2025-01-22"),
        pd.Timestamp("2025-04-03"),
    ]


def test_date_order_is_settled_by_a_day_over_12_or_asked_for() -> None:
    assert date_order_needed(pd.Series(["01/22/2025", "03/04/2025"])) == "MDY"
    assert date_order_needed(pd.Series(["03/04/2025"]), pd.Series(["22/01/2025"])) == "DMY"
    assert date_order_needed(pd.Series(["03/04/2025", "05/06/25 4:05 PM"])) == "ambiguous"
    assert date_order_needed(pd.Series(["2025-03-04", ""])) is None


DMY_FILE = (
    b"Deal ID,Stage,Amount,Created,Close Date\n1,Closed Won,100,03/01/2025,05/02/2025\n2,Proposal,5,01/02/2025,\n"
)


def test_ambiguous_dates_ask_for_the_order_then_read_it() -> None:
    with pytest.raises(ImportFailure, match=r"could be day/month or month/day: say which with MDY or DMY"):
        calib(DMY_FILE)
    # DMY: created 3 Jan, closed 5 Feb = 33 days; MDY: created Mar 1, closed May 2 = 62 days
    _, dmy = calib(DMY_FILE, date_order="DMY")
    _, mdy = calib(DMY_FILE, date_order="MDY")
    assert (dmy.overall.cycle_median_days, mdy.overall.cycle_median_days) == (33.0, 62.0)


def test_day_first_file_is_recognised_without_asking() -> None:
    data = (
        b"Deal ID,Stage,Amount,Created,Close Date\n1,Closed Won,100,22/01/2025,23/02/2025\n2,Proposal,5,03/04/2025,\n"
    )
    deals, result = calib(data)
    assert result.overall.cycle_median_days == 32.0  # 22 Jan → 23 Feb
    assert deals.deals["created"].tolist()[1] == pd.Timestamp("2025-04-03")


def test_outcome_and_stage_order_guesses() -> None:
    assert [guess_outcome(s) for s in ("Closed Won", "closedwon", "Won", "Closed Lost", "lost", "Demo")] == [
        "won",
        "won",
        "won",
        "lost",
        "lost",
        "open",
    ]
    assert guess_stage_order(["closedwon", "contractsent", "appointmentscheduled", "closedlost"]) == [
        "appointmentscheduled",
        "contractsent",
        "closedwon",
    ]


def test_edited_outcome_map_and_stage_order_are_used() -> None:
    # "Booked" guessed won already; say "Parked" is lost and give the order Intro → Pitch → Booked
    data = b"Stage,Amount\nBooked,100\nParked,50\nPitch,10\nIntro,10\nPitch,10\n"
    table = read_table(data)
    deals = read_deals(table, detect_mapping(table.columns), {"Parked": "lost"}, ["Intro", "Pitch", "Booked"])
    assert deals.deals["outcome"].tolist() == ["won", "lost", "open", "open", "open"]
    assert deals.stage_order == ("Intro", "Pitch", "Booked")
    result = calibrate(deals.deals, deals.stage_order)
    # Parked (lost) says nothing of how far it got: one step over the 2 closed deals, Booked won
    assert conversions(result) == [("Opportunities", "Booked", 2, 1)]
    assert result.overall.win_rate == 0.5


# =========================================================================== bad input: clear words, no crash


def test_empty_file() -> None:
    for data in (b"", b"   \n\n"):
        with pytest.raises(ImportFailure, match=r"^The file is empty\.$"):
            read_table(data, "deals.csv")


def test_only_a_header_reads_but_cannot_calibrate() -> None:
    table = read_table(b"Deal ID,Stage,Amount,Created,Close Date\n")
    assert table.frame.empty
    deals = read_deals(table, detect_mapping(table.columns))
    assert deals.deals.empty and deals.problems.empty
    with pytest.raises(CalibrationError, match="No deals to calibrate from"):
        calib(b"Deal ID,Stage,Amount,Created,Close Date\n")


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (bytes(range(256)) * 20, "deals.csv", "This is not a text file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(500), "deals.csv", "This is a PNG image, not a text file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "deals.csv", "old Excel .xls file"),
        (b"PK\x03\x04 not really a zip", "deals.csv", "This .xlsx file could not be opened"),
    ],
)
def test_binary_files_renamed_csv(data: bytes, name: str, words: str) -> None:
    with pytest.raises(ImportFailure, match=words) as caught:
        calib(data, name)
    assert "\n" not in str(caught.value)


def test_wrong_delimiter_names_missing_columns_and_lists_those_found() -> None:
    with pytest.raises(ImportFailure) as caught:
        calib(b"Stage:Amount:Close Date\nClosed Won:100:2025-01-01\n")
    assert str(caught.value) == "Missing Stage and Amount column; the columns found: “Stage:Amount:Close Date”."


def test_missing_amount_column_lists_the_columns_found() -> None:
    with pytest.raises(ImportFailure) as caught:
        calib(b"Name,Stage,Owner,Close Date\nA,Closed Won,Ana,2025-01-01\n")
    message = str(caught.value)
    assert message.startswith("Missing Amount column")
    assert "“Name”, “Stage”, “Owner”, “Close Date”" in message
    with pytest.raises(ImportFailure, match="Missing Stage column; the columns found: “Name”, “Amount”"):
        calib(b"Name,Amount\nA,100\n")


HEADER = b"Deal ID,Stage,Amount,Created,Close Date\n"


def test_non_numeric_amount_is_reported_and_the_good_rows_still_count() -> None:
    deals, result = calib(HEADER + b"1,Closed Won,abc,2025-01-01,2025-02-01\n2,Closed Won,100,2025-01-01,2025-02-01\n"
                          b"3,Proposal,50,2025-01-01,\n")  # fmt: skip
    assert problems(deals) == [(2, "Amount", "“abc” is not an amount.")]
    # deal 1 still counts as won: only its amount is left out
    assert (result.rows_read, result.rows_bad, result.overall.won, result.overall.avg_deal_size) == (3, 0, 2, 100.0)


def test_unparseable_dates_are_reported() -> None:
    deals, result = calib(HEADER + b"1,Closed Won,100,yesterday,2025-02-01\n2,Closed Won,100,2025-01-01,2025-13-45\n"
                          b"3,Proposal,50,2025-01-01,\n4,Closed Won,70,2025-01-01,2025-01-02\n")  # fmt: skip
    assert problems(deals) == [
        (2, "Created", "“yesterday” is not a date: use YYYY-MM-DD or MM/DD/YYYY."),
        (3, "Close Date", "“2025-13-45” is not a date: use YYYY-MM-DD or MM/DD/YYYY."),
    ]
    # the three won deals count (average 90); only deal 4 has both dates for the cycle
    assert (result.overall.won, result.overall.avg_deal_size, result.overall.cycle_median_days) == (3, 90.0, 1.0)


def test_close_before_create_is_reported() -> None:
    deals, result = calib(HEADER + b"1,Closed Won,100,2025-03-01,2025-02-01\n2,Closed Won,100,2025-01-01,2025-02-01\n"
                          b"3,Proposal,50,2025-01-01,\n")  # fmt: skip
    assert problems(deals) == [(2, "Created", "Closes on 2025-02-01, before it was created on 2025-03-01.")]
    # still won, with its amount: only the cycle leaves it out
    assert result.overall.won == 2 and result.overall.cycle_median_days == 31.0


def test_negative_amounts_are_reported() -> None:
    deals, result = calib(HEADER + b"1,Closed Won,-100,,\n2,Closed Won,(100),,\n3,Closed Won,100,,\n4,Proposal,50,,\n")
    assert problems(deals) == [
        (2, "Amount", "“-100” is negative: amounts must be 0 or more."),
        (3, "Amount", "“(100)” is negative: amounts must be 0 or more."),
    ]
    assert (result.overall.won, result.rows_bad, result.overall.avg_deal_size) == (3, 0, 100.0)


def test_duplicate_ids_keep_the_first() -> None:
    deals, result = calib(HEADER + b"7,Closed Won,100,,\n8,Proposal,50,,\n7,Closed Lost,100,,\n")
    assert problems(deals) == [(4, "Deal ID", "Deal ID “7” already appeared in row 2; only the first is used.")]
    assert (result.overall.won, result.overall.lost, result.overall.open) == (1, 0, 1)


def test_empty_stage_is_reported() -> None:
    deals, _ = calib(b"Stage,Amount\n,100\nClosed Won,100\nOpen,5\n")
    assert problems(deals) == [(2, "Stage", "The stage is empty.")]


def test_lines_with_too_many_cells_are_reported_by_line() -> None:
    deals, result = calib(b"Stage,Amount\nClosed Won,100,extra,cells\nClosed Won,100\nProposal,5\n")
    assert problems(deals) == [(2, "", "This line has more cells than the header's 2; it was left out.")]
    assert (result.rows_read, result.rows_bad, result.overall.won) == (3, 1, 1)


def test_every_row_bad_gives_a_calibration_error_not_a_crash() -> None:
    # a bad amount no longer costs a row; a row without any stage does, and with every row like that, nothing is left
    with pytest.raises(CalibrationError, match="No deals to calibrate from: every row had a problem"):
        calib(HEADER + b"1,,abc,,\n2,,-4,,\n")


def test_no_won_deals_explains_what_cannot_be_computed() -> None:
    # 0 won, 2 lost, 1 open: win rate 0 (not a division by zero), no deal size, cycle or coverage
    deals, result = calib(HEADER + b"1,Proposal,100,2025-01-01,\n2,Closed Lost,50,2025-01-01,2025-02-01\n"
                          b"3,Closed Lost,50,2025-01-01,2025-02-01\n")  # fmt: skip
    assert deals.problems.empty
    o = result.overall
    assert (o.won, o.lost, o.open, o.win_rate, o.win_rate_value) == (0, 2, 1, 0.0, 0.0)
    assert o.avg_deal_size is None and o.median_deal_size is None and o.cycle_median_days is None
    assert o.suggested_coverage is None and result.seasonality == ()
    note = next(n for n in result.notes if "no won deals" in n)
    assert "deal size, sales cycle, seasonality and suggested coverage cannot be computed" in note
    summary = summary_dict(result)
    assert summary["win_rate"] == 0.0 and summary["avg_deal_size"] is None


def test_lost_deals_without_amounts_do_not_inflate_the_value_win_rate() -> None:
    # won 1,000 and 3,000; three lost deals with no amount; one open.
    # Counting the lost deals as 0 would give a value win rate of 100%. Instead they are assumed to be the
    # size of an average won deal (2,000): 4,000 / (4,000 + 3 × 2,000) = 0.4, which equals the count rate 2/5.
    deals, result = calib(HEADER + b"1,Closed Won,1000,,\n2,Closed Won,3000,,\n3,Closed Lost,,,\n4,Closed Lost,,,\n"
                          b"5,Closed Lost,,,\n6,Proposal,10,,\n")  # fmt: skip
    o = result.overall
    assert o.win_rate == approx(0.4) and o.win_rate_value == approx(0.4)
    assert o.suggested_coverage == approx(2.5)
    note = next(n for n in result.notes if "lost deals have no amount" in n)
    assert "3 of 3 lost deals have no amount" in note and "average won deal (2,000)" in note
    assert deals.problems.empty  # a blank amount is not a problem


def test_won_deals_without_amounts_count_in_the_win_rate_only() -> None:
    # won 1,000 and one without amount, lost 1,000: deal size 1,000 from the one that has it;
    # the blank one counts as an average deal in the value rate: 2,000 / 3,000
    _, result = calib(HEADER + b"1,Closed Won,1000,,\n2,Closed Won,,,\n3,Closed Lost,1000,,\n4,Proposal,10,,\n")
    o = result.overall
    assert (o.win_rate, o.avg_deal_size, o.won_with_amount) == (approx(2 / 3), 1000.0, 1)
    assert o.win_rate_value == approx(2 / 3)
    assert any("1 won deals have no amount" in n for n in result.notes)


def test_a_file_over_the_limit_is_refused_before_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "MAX_EXPORT_BYTES", 1024 * 1024)
    data = b"Stage,Amount\n" + b"Closed Won,100\n" * 110_000  # 1.6 MB
    with pytest.raises(ImportFailure) as caught:
        calib(data)
    assert str(caught.value) == ("The file is 2 MB; the limit is 1 MB. Export fewer columns or one year at a time.")
    assert read_table(data[: 1024 * 1024]).frame.shape[1] == 2  # at the limit it still reads


def test_unknown_preset_and_date_order_are_refused_in_words() -> None:
    with pytest.raises(ImportFailure, match="There is no preset “sap”; pick one of salesforce_field_history"):
        calib(SALESFORCE_API, preset="sap")
    with pytest.raises(ImportFailure, match="Date order must be one of MDY, DMY"):
        calib(SALESFORCE_API, date_order="YMD")
