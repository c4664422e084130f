"""Calibrate tells the truth on the exports people really have (issue 12), item by item.

Each test is a shape real exports take; the figures are worked out by hand in comments.
"""

from __future__ import annotations

import io
import json
import math
import tracemalloc
import zipfile
from datetime import date

import openpyxl
import pandas as pd
import pytest
from pytest import approx

from planner import imports
from planner.calibrate import ONE_STEP_STAGE, CalibrationError, calibrate, calibrate_export, summary_dict
from planner.imports import (
    ImportFailure,
    detect_mapping,
    funnel_order,
    parse_amount,
    parse_amounts,
    parse_dates,
    parse_day,
    read_actuals_csv,
    read_deals,
    read_table,
    stage_table,
    type_deals,
)
from tests.test_hostile_input import xlsx


def conversions(result) -> list[tuple[str, str, int, int]]:
    return [(c.from_stage, c.to_stage, c.reached, c.advanced) for c in result.overall.conversions]


def problems(deals) -> list[tuple[int, str, str]]:
    return [tuple(p) for p in deals.problems[["row", "column", "left_out_of"]].itertuples(index=False)]


# =========================================================================== 1. a bad field never costs the row


MIGRATED = b"""Id,StageName,Amount,CloseDate,CreatedDate,IsWon,IsClosed
1,Closed Won,100,2024-02-01,2024-01-01T09:00:00.000Z,true,true
2,Closed Won,300,2024-02-10,2024-06-30T22:00:00.000Z,true,true
3,Closed Lost,200,2024-02-05,2024-06-30T22:00:00.000Z,false,true
4,Closed Lost,200,2024-03-01,2024-01-01T09:00:00.000Z,false,true
5,Prospecting,50,2024-09-30,2024-08-01T09:00:00.000Z,false,false
"""


def test_a_deal_created_after_it_closed_still_counts_everywhere_but_the_cycle() -> None:
    # Deals 2 and 3 were "created" by a migration on 30 June, after they closed.
    # won 1 (100) and 2 (300): win rate 2 / 4, average 200, value 400 / 800; both close in February.
    # cycle: only deal 1, Jan 1 -> Feb 1 = 31 days.
    deals, result = calibrate_export(MIGRATED, "opportunities.csv")
    o = result.overall
    assert (o.won, o.lost, o.open, deals.rows_bad) == (2, 2, 1, 0)
    assert (o.win_rate, o.avg_deal_size, o.win_rate_value) == (0.5, 200.0, 0.5)
    assert (o.cycle_median_days, o.cycle_deals) == (31.0, 1)
    assert result.seasonality[1] == 1.0  # all won amount closed in February, the migrated deal's too
    assert problems(deals) == [
        (3, "CreatedDate", "sales cycle, stage lags"),
        (4, "CreatedDate", "sales cycle, stage lags"),
    ]
    note = next(n for n in result.notes if "created after they closed" in n)
    assert note.startswith("2 deals were created after they closed")


def test_an_unreadable_amount_costs_the_deal_only_the_amount_figures() -> None:
    # won 1 ("abc") and 2 (100), lost 3 (100): win rate 2/3; deal size from deal 2 only.
    data = b"Deal ID,Stage,Amount\n1,Closed Won,abc\n2,Closed Won,100\n3,Closed Lost,100\n"
    deals, result = calibrate_export(data, "deals.csv")
    assert (result.overall.won, result.overall.lost, result.overall.avg_deal_size) == (2, 1, 100.0)
    assert result.overall.win_rate == approx(2 / 3)
    assert problems(deals) == [(2, "Amount", "deal size, value win rate, seasonality")]
    assert deals.rows_bad == 0


def test_the_pipeline_upload_keeps_open_deals_whose_expected_close_date_is_before_creation() -> None:
    # Team review's pipeline snapshot needs no created date: no open deal may be dropped over one.
    data = b"Deal ID,Stage,Amount,Created,Close Date,Owner\n1,Proposal,100,2024-05-01,2024-04-30,Ana\n" \
           b"2,Demo,50,2024-05-01,2024-06-30,Ana\n"  # fmt: skip
    table = read_table(data, "pipeline.csv")
    deals = read_deals(table, detect_mapping(table.columns))
    assert deals.deals["deal_id"].tolist() == ["1", "2"]
    assert deals.deals["closed"].tolist() == [pd.Timestamp("2024-04-30"), pd.Timestamp("2024-06-30")]


def test_a_row_without_any_outcome_is_the_only_kind_left_out_entirely() -> None:
    deals, result = calibrate_export(b"Stage,Amount\n,100\nClosed Won,100\nOpen,5\n", "deals.csv")
    assert (deals.rows_bad, result.overall.won, result.overall.open) == (1, 1, 1)
    assert problems(deals) == [(2, "Stage", "every figure")]


# =========================================================================== 2. stray control characters


def test_nul_and_control_characters_are_stripped_with_a_note() -> None:
    data = b'Stage,Amount,Description\r\nClosed Won,100,"Call\x00 back\x0b later"\r\nClosed Lost,50,ok\x00\r\n'
    table = read_table(data, "opportunities.csv")
    assert table.frame["Description"].tolist() == ["Call back later", "ok"]
    assert any("3 control characters" in n for n in table.notes)
    _, result = calibrate_export(data, "opportunities.csv")
    assert (result.overall.won, result.overall.lost) == (1, 1)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(500), "a PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "a PDF"),
        (bytes(range(256)) * 20, "not a text file"),
    ],
)
def test_real_binaries_are_still_refused_in_one_line(data: bytes, words: str) -> None:
    with pytest.raises(ImportFailure, match=words) as caught:
        read_table(data, "deals.csv")
    assert "\n" not in str(caught.value)


def test_a_zip_that_is_no_workbook_is_refused_as_such() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("deals.csv", "Stage,Amount\nClosed Won,5\n")
    with pytest.raises(ImportFailure, match="zip archive, not an Excel workbook"):
        read_table(buffer.getvalue(), "deals.csv")


# =========================================================================== 3. encodings and languages


@pytest.mark.parametrize(
    ("encoding", "bom", "stage", "owner"),
    [
        ("cp1252", b"", "Negociación – fase 2", "José"),
        ("cp1251", b"", "Выдано", "Иван Петров"),
        ("utf-8", b"", "Выдано", "Zoë"),
        ("utf-8", b"\xef\xbb\xbf", "Negociação", "João"),
        ("utf-16-le", b"\xff\xfe", "Выдано", "Jürgen"),
        ("utf-16-be", b"\xfe\xff", "Negociación", "Ñuño"),
    ],
)
def test_stage_names_are_kept_exactly_as_written(encoding: str, bom: bytes, stage: str, owner: str) -> None:
    text = f"Stage\tAmount\tOwner\r\n{stage}\t100\t{owner}\r\n{stage}\t200\t{owner}\r\nClosed Lost\t50\tAna\r\n"
    table = read_table(bom + text.encode(encoding), "deals.txt")
    assert table.frame["Stage"].tolist()[:2] == [stage, stage]
    assert table.frame["Owner"].tolist() == [owner, owner, "Ana"]
    deals = read_deals(table, detect_mapping(table.columns), {stage: "won"})
    assert deals.deals["outcome"].tolist() == ["won", "won", "lost"]


def test_excel_unicode_text_without_a_byte_order_mark_is_read_too() -> None:
    table = read_table("Stage\tAmount\r\nClosed Won\t5\r\n".encode("utf-16-le"), "deals.txt")
    assert (table.columns, table.frame["Amount"].tolist()) == (["Stage", "Amount"], ["5"])


# =========================================================================== 4. HubSpot API names and stage IDs


def test_hubspot_api_names_and_internal_stage_ids() -> None:
    data = b"""hs_object_id,dealname,dealstage,amount,closedate,createdate,pipeline,hubspot_owner_id,\
hs_forecast_category
1,A,closedwon,100,2024-02-01T10:00:00Z,2024-01-01T10:00:00Z,default,77,CLOSED
2,B,closedlost,100,2024-02-01T10:00:00Z,2024-01-01T10:00:00Z,default,77,OMIT
3,C,appointmentscheduled,100,2024-06-01T10:00:00Z,2024-05-01T10:00:00Z,default,78,PIPELINE
4,D,88123456,100,2024-06-01T10:00:00Z,2024-05-01T10:00:00Z,default,78,COMMIT
"""
    table = read_table(data, "deals.csv")
    mapping = detect_mapping(table.columns)
    assert mapping.preset == "hubspot_api"
    assert {k: mapping.fields[k] for k in ("deal_id", "stage", "amount", "closed", "created", "owner")} == {
        "deal_id": "hs_object_id", "stage": "dealstage", "amount": "amount", "closed": "closedate",
        "created": "createdate", "owner": "hubspot_owner_id",
    }  # fmt: skip
    deals = read_deals(table, mapping)
    assert deals.deals["outcome"].tolist() == ["won", "lost", "open", "open"]  # an unknown ID is open
    assert deals.deals["forecast_category"].tolist() == ["CLOSED", "OMIT", "PIPELINE", "COMMIT"]
    # ... until the user says otherwise on the stage table
    assert read_deals(table, mapping, {"88123456": "lost"}).deals["outcome"].tolist()[3] == "lost"


# =========================================================================== 5. more CRMs from the header row


@pytest.mark.parametrize(
    ("header", "preset", "fields"),
    [
        (["Record Id", "Deal Owner", "Deal Name", "Amount", "Closing Date", "Account Name", "Stage",
          "Created Time", "Forecast Type"], "zoho",
         {"deal_id": "Record Id", "owner": "Deal Owner", "closed": "Closing Date", "created": "Created Time",
          "forecast_category": "Forecast Type", "account": "Account Name"}),
        (["Potential Name", "Potential Owner", "Stage", "Amount", "Closing Date", "Created Time"], "zoho",
         {"deal_id": "Potential Name", "owner": "Potential Owner", "closed": "Closing Date"}),
        (["opportunityid", "name", "statecode", "stepname", "estimatedvalue", "actualvalue", "estimatedclosedate",
          "actualclosedate", "createdon", "owneridname"], "dynamics",
         {"status": "statecode", "stage": "stepname", "amount": "actualvalue", "amount_estimated": "estimatedvalue",
          "closed": "actualclosedate", "expected_close": "estimatedclosedate", "created": "createdon"}),
        (["(Do Not Modify) Opportunity", "(Do Not Modify) Row Checksum", "Topic", "Status", "Est. Revenue",
          "Actual Revenue", "Est. Close Date", "Actual Close Date", "Created On", "Owner"], "dynamics",
         {"deal_id": "(Do Not Modify) Opportunity", "status": "Status", "amount": "Actual Revenue",
          "amount_estimated": "Est. Revenue", "closed": "Actual Close Date"}),
        (["id", "name", "stage_id", "expected_revenue", "date_closed", "create_date", "probability", "active",
          "user_id"], "odoo",
         {"stage": "stage_id", "amount": "expected_revenue", "closed": "date_closed", "created": "create_date",
          "probability": "probability", "active": "active", "owner": "user_id"}),
        (["ID", "TITLE", "STAGE_ID", "OPPORTUNITY", "CURRENCY_ID", "DATE_CREATE", "CLOSEDATE", "CLOSED",
          "ASSIGNED_BY_ID"], "bitrix24",
         {"stage": "STAGE_ID", "amount": "OPPORTUNITY", "created": "DATE_CREATE", "closed": "CLOSEDATE",
          "is_closed": "CLOSED", "currency": "CURRENCY_ID"}),
        (["Deal - Title", "Deal - Value", "Deal - Status", "Deal - Won time", "Deal - Lost time",
          "Deal - Deal created", "Deal - Expected close date", "Deal - Stage", "Deal - Owner",
          "Deal - Organization"], "pipedrive",
         {"deal_id": "Deal - Title", "amount": "Deal - Value", "status": "Deal - Status",
          "won_time": "Deal - Won time", "lost_time": "Deal - Lost time", "created": "Deal - Deal created",
          "expected_close": "Deal - Expected close date", "stage": "Deal - Stage", "owner": "Deal - Owner",
          "account": "Deal - Organization"}),
        (["id", "title", "value", "currency", "status", "stage_id", "add_time", "won_time", "lost_time",
          "expected_close_date", "user_id", "org_id"], "pipedrive",
         {"stage": "stage_id", "amount": "value", "created": "add_time", "expected_close": "expected_close_date",
          "currency": "currency"}),
        (["Opportunity Owner", "Account Name", "Opportunity Name", "Stage", "Amount", "Probability (%)",
          "Close Date", "Created Date", "Forecast Category"], "salesforce_report",
         {"owner": "Opportunity Owner", "forecast_category": "Forecast Category", "probability": "Probability (%)"}),
        (["Id", "StageName", "Amount", "CloseDate", "CreatedDate", "ForecastCategoryName", "CurrencyIsoCode",
          "Probability"], "salesforce",
         {"forecast_category": "ForecastCategoryName", "currency": "CurrencyIsoCode", "probability": "Probability"}),
        (["Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date", "Create Date", "Forecast category"],
         "hubspot", {"forecast_category": "Forecast category", "stage": "Deal Stage"}),
    ],
)  # fmt: skip
def test_crms_are_recognised_from_their_header_row(header: list[str], preset: str, fields: dict) -> None:
    mapping = detect_mapping(header)
    assert mapping.preset == preset
    assert {k: mapping.fields.get(k) for k in fields} == fields


def test_dynamics_takes_actual_value_and_close_date_for_closed_deals_and_estimated_ones_otherwise() -> None:
    data = b"""opportunityid,statecode,estimatedvalue,actualvalue,estimatedclosedate,actualclosedate,createdon
a,Won,100,90,2024-03-31,2024-03-20,2024-03-01
b,Lost,400,0,2024-04-30,2024-04-02,2024-03-01
c,Open,700,,2024-09-30,,2024-03-01
d,1,50,,2024-05-31,,2024-05-01
"""
    table = read_table(data, "opportunity.csv")
    deals = read_deals(table, detect_mapping(table.columns)).deals.set_index("deal_id")
    assert deals["outcome"].to_dict() == {"a": "won", "b": "lost", "c": "open", "d": "won"}  # statecode 1 is Won
    assert deals["amount"].to_dict() == {"a": 90.0, "b": 400.0, "c": 700.0, "d": 50.0}
    assert deals["closed"].dt.strftime("%Y-%m-%d").to_dict() == {
        "a": "2024-03-20", "b": "2024-04-02", "c": "2024-09-30", "d": "2024-05-31"}  # fmt: skip


def test_odoo_archived_leads_are_lost_and_bitrix_stage_ids_say_won_or_lost() -> None:
    odoo = read_table(b"name,stage_id,expected_revenue,active\nA,Won,10,True\nB,Proposition,10,False\nC,New,1,True\n")
    assert read_deals(odoo, detect_mapping(odoo.columns)).deals["outcome"].tolist() == ["won", "lost", "open"]
    bitrix = read_table(b"ID,STAGE_ID,OPPORTUNITY,CLOSED\n1,C2:WON,5,Y\n2,C2:LOSE,5,Y\n3,LOSE,5,Y\n4,WON,5,Y\n"
                        b"5,C2:APOLOGY,5,Y\n6,C2:PREPARATION,5,N\n")  # fmt: skip
    outcomes = read_deals(bitrix, detect_mapping(bitrix.columns)).deals["outcome"].tolist()
    assert outcomes == ["won", "lost", "lost", "won", "lost", "open"]


# =========================================================================== 6. dates and money as CRMs write them


def test_dates_as_crms_write_them() -> None:
    cells = pd.Series(
        ["15 Apr, 2021 00:02:00", "2023-05-16 14:02", "2021-03-04T10:00:00+03:00", "Apr 15, 2021",
         "15-Apr-2021", "2024/04/15", "2021-03-04T23:30:00.000Z", "28 May, 2021", "", "soon"]
    )  # fmt: skip
    assert parse_dates(cells, "MDY").tolist() == [
        pd.Timestamp("2021-04-15"), pd.Timestamp("2023-05-16"), pd.Timestamp("2021-03-04"),
        pd.Timestamp("2021-04-15"), pd.Timestamp("2021-04-15"), pd.Timestamp("2024-04-15"),
        pd.Timestamp("2021-03-04"), pd.Timestamp("2021-05-28"), pd.NaT, pd.NaT,
    ]  # fmt: skip
    assert parse_dates(pd.Series(["04.03.2021 10:00:00", "25.12.2021"]), "DMY").tolist() == [
        pd.Timestamp("2021-03-04"), pd.Timestamp("2021-12-25")]  # fmt: skip


def test_the_cycle_is_counted_in_calendar_days_whatever_the_file_mixes() -> None:
    # created 1 Mar 23:30 UTC, closed 2 Mar (a date): 1 day; created 4 Mar 01:00 at +03:00 (3 Mar in UTC),
    # closed 4 Mar: 0 days, as the dates are written; created "15 Apr, 2021 00:02:00" closed 2021-04-16: 1 day
    data = b"""Stage,Amount,Created,Closed
Won,1,2024-03-01T23:30:00.000Z,2024-03-02
Won,1,2024-03-04T01:00:00+03:00,2024-03-04
Won,1,"15 Apr, 2021 00:02:00",2021-04-16
"""
    _, result = calibrate_export(data, "deals.csv")
    o = result.overall
    assert (o.cycle_q1_days, o.cycle_median_days, o.cycle_q3_days, o.cycle_deals) == (0.5, 1.0, 1.0, 3)


@pytest.mark.parametrize(
    ("text", "value"),
    [("$22,700.00", 22700.0), ("1.234,56 €", 1234.56), ("(1,200)", -1200.0), ("", None), ("1.5E+05", 150000.0),
     ("EUR 1.000", 1000.0), ("1e400", None), ("inf", None), ("NaN", None), ("R$ 10.000,00", 10000.0),
     ("150 000,00", 150000.0), ("-5", -5.0), ("12,500", 12500.0), ("0.125", 0.125), ("$ 1,5", 1.5)],
)  # fmt: skip
def test_one_number_parser_for_every_reader(text: str, value: float | None) -> None:
    assert parse_amount(text) == value
    vectorised = parse_amounts(pd.Series([text])).iloc[0]
    assert (value is None and math.isnan(vectorised)) or vectorised == value


def test_track_actuals_read_numbers_as_calibrate_does() -> None:
    data = b"Week,Revenue,Deals\n2027-01-04,1.5E+05,2\n2027-01-11,EUR 1.000,1\n2027-01-18,1e400,1\n"
    result = read_actuals_csv(data, [], date(2027, 1, 1), date(2027, 3, 31))
    assert [w.revenue for w in result.weeks] == [150000.0, 1000.0]
    assert [(p.row, p.column) for p in result.problems] == [(4, "Revenue")]


def test_an_absurd_amount_is_refused_as_an_amount_and_sums_cannot_overflow() -> None:
    data = b"Stage,Amount\nClosed Won,1e308\nClosed Won,1e308\nClosed Won,100\nClosed Lost,1e400\nClosed Lost,50\n"
    deals, result = calibrate_export(data, "deals.csv")
    assert (result.overall.won, result.overall.lost, result.overall.avg_deal_size) == (3, 2, 100.0)
    assert [p[0] for p in problems(deals)] == [2, 3, 5]
    assert "too large" in deals.problems["reason"].iloc[0] and "not an amount" in deals.problems["reason"].iloc[2]
    json.dumps(summary_dict(result), allow_nan=False)  # no NaN or Infinity anywhere


def test_parse_day_explains_what_it_could_not_read() -> None:
    assert parse_day("15 Apr, 2021")[0] == date(2021, 4, 15)
    assert parse_day("03/04/2026")[1] == "could be 3 April or 4 March — write it as YYYY-MM-DD"
    assert parse_day("soon")[1] == "“soon” is not a date — write it as YYYY-MM-DD"


# =========================================================================== 7. several currencies


CURRENCIES = b"""Opportunity Name,Stage,Amount Currency,Amount,Close Date
U1,Closed Won,USD,100,2024-01-10
U2,Closed Lost,USD,100,2024-01-10
E1,Closed Won,EUR,1000,2024-01-10
E2,Closed Won,EUR,3000,2024-01-10
E3,Closed Lost,EUR,4000,2024-01-10
"""


def test_amounts_are_never_averaged_across_currencies() -> None:
    # EUR has the most deals: amount figures in EUR (average 2,000, value 4,000 / 8,000); the win rate counts all
    # five (3 / 5). Per currency: USD 1 of 2 won at 100; EUR 2 of 3 at 2,000.
    _, result = calibrate_export(CURRENCIES, "deals.csv")
    assert result.currency == "EUR"
    assert (result.overall.win_rate, result.overall.avg_deal_size, result.overall.win_rate_value) == (0.6, 2000, 0.5)
    by = {f.currency: f for f in result.by_currency}
    assert (by["USD"].won, by["USD"].avg_deal_size, by["EUR"].won, by["EUR"].avg_deal_size) == (1, 100, 2, 2000)
    assert any("2 currencies" in n and "never added across currencies" in n for n in result.notes)


def test_the_profile_currency_can_be_picked_or_amounts_converted_with_typed_rates() -> None:
    _, usd = calibrate_export(CURRENCIES, "deals.csv", currency="USD")
    assert (usd.currency, usd.overall.avg_deal_size, usd.overall.win_rate) == ("USD", 100.0, 0.6)
    # 1 EUR = 1.1 USD: won 100 + 1,100 + 3,300 = 4,500 over 3 -> 1,500; lost 100 + 4,400 -> value 4,500 / 9,000
    _, converted = calibrate_export(CURRENCIES, "deals.csv", currency="USD", rates={"EUR": 1.1})
    assert converted.overall.avg_deal_size == approx(1500.0)
    assert converted.overall.win_rate_value == approx(0.5)
    assert any("1 EUR = 1.1 USD" in n for n in converted.notes)


# =========================================================================== 8. stage history files


FIELD_HISTORY = b"""Id,OpportunityId,CreatedById,CreatedDate,Field,DataType,OldValue,NewValue,IsDeleted
1,006A,005X,2024-01-01T10:00:00.000+0000,created,Text,,,false
2,006A,005X,2024-01-11T10:00:00.000+0000,StageName,Picklist,Prospecting,Proposal/Price Quote,false
3,006A,005X,2024-02-01T10:00:00.000+0000,StageName,Picklist,Proposal/Price Quote,Closed Won,false
4,006B,005X,2024-01-05T10:00:00.000+0000,created,Text,,,false
5,006B,005X,2024-01-25T10:00:00.000+0000,StageName,Picklist,Prospecting,Closed Lost,false
"""
OPPORTUNITIES = b"""Id,StageName,Amount,CloseDate,CreatedDate
006A,Closed Won,1000,2024-02-01,2024-01-01T10:00:00.000Z
006B,Closed Lost,500,2024-01-25,2024-01-05T10:00:00.000Z
"""


def test_field_history_alone_gives_reached_stage_conversion() -> None:
    # A: Prospecting -> Proposal/Price Quote -> Closed Won (won); B: Prospecting -> Closed Lost (lost at 0)
    deals, result = calibrate_export(FIELD_HISTORY, "OpportunityFieldHistory.csv")
    assert deals.preset == "salesforce_field_history"
    assert (result.overall.won, result.overall.lost) == (1, 1)
    assert conversions(result) == [("Prospecting", "Proposal/Price Quote", 2, 1),
                                   ("Proposal/Price Quote", "Closed Won", 1, 1)]  # fmt: skip
    assert result.lag_days == (10.0, 21.0)


@pytest.mark.parametrize("swap", [False, True])
def test_history_with_its_opportunity_file_in_either_order(swap: bool) -> None:
    files = [(OPPORTUNITIES, "Opportunity.csv"), (FIELD_HISTORY, "OpportunityFieldHistory.csv")]
    (data, name), history = files[::-1] if swap else files
    deals, result = calibrate_export(data, name, history=history)
    assert deals.preset == "salesforce" and result.overall.avg_deal_size == 1000.0
    assert conversions(result)[0] == ("Prospecting", "Proposal/Price Quote", 2, 1)


@pytest.mark.parametrize(
    ("history", "words"),
    [
        ((OPPORTUNITIES, "Opportunity (2).csv"), "is not a stage history"),
        ((FIELD_HISTORY.replace(b"006A", b"006Z").replace(b"006B", b"006Y"), "h.csv"), "shares no opportunity"),
        ((b"\x89PNG\r\n\x1a\n" + bytes(100), "h.csv"), "a PNG image"),
        ((b"", "h.csv"), "empty"),
    ],
)
def test_a_wrong_companion_is_one_clear_sentence(history: tuple[bytes, str], words: str) -> None:
    with pytest.raises(ImportFailure, match=words) as caught:
        calibrate_export(OPPORTUNITIES, "Opportunity.csv", history=history)
    assert "\n" not in str(caught.value)


# =========================================================================== 10. stage conversion that adds up


def test_lost_deals_without_evidence_give_one_step_at_the_win_rate_not_invented_100_percent_steps() -> None:
    # 63 won and 37 lost, lost deals all "Closed Lost" with nothing saying how far they got; 30 open deals at later
    # stages. Counted at the first stage the funnel would read 100% after it; instead one step at 63%.
    rows = ["Stage,Amount"] + ["Closed Won,10"] * 63 + ["Closed Lost,10"] * 37 + ["Negotiation/Review,10"] * 30
    _, result = calibrate_export("\n".join(rows).encode(), "deals.csv")
    assert conversions(result) == [(ONE_STEP_STAGE, "Closed Won", 100, 63)]
    assert result.overall.conversions[0].rate == approx(0.63) == result.overall.win_rate
    assert any("37 lost deals do not say how far they got" in n for n in result.notes)


def test_a_lost_deal_is_placed_at_the_furthest_stage_its_own_fields_prove() -> None:
    # Deal 3 is lost with probability 60: open deals at Proposal carry 60, at Negotiation 80, so it reached Proposal.
    data = b"""Stage,Amount,Probability
Qualification,1,20
Proposal,1,60
Closed Lost,1,60
Negotiation,1,80
Closed Won,1,100
Closed Lost,1,20
"""
    deals, result = calibrate_export(data, "deals.csv")
    assert deals.stage_order == ("Qualification", "Proposal", "Negotiation", "Closed Won")
    # closed: won (3), lost at Proposal (1), lost at Qualification (0)
    assert conversions(result) == [("Qualification", "Proposal", 3, 2), ("Proposal", "Negotiation", 2, 1),
                                   ("Negotiation", "Closed Won", 1, 1)]  # fmt: skip


def test_under_twelve_months_of_history_is_warned_about() -> None:
    _, result = calibrate_export(b"Stage,Amount,Close Date\nWon,1,2024-01-10\nLost,1,2024-06-30\n", "d.csv")
    assert any("only 6 months" in n for n in result.notes)
    _, year = calibrate_export(b"Stage,Amount,Close Date\nWon,1,2023-01-10\nLost,1,2024-06-30\n", "d.csv")
    assert not any("months" in n for n in year.notes)


def test_the_page_and_the_command_line_take_the_stage_order_from_one_function() -> None:
    # Stages in no known pipeline and nothing else to order them by: the page's stage table and the command line
    # get the same order from one function, and the notes say it is a guess the user should check.
    data = b"Stage,Amount\nPitch,1\nBooked,1\nIntro,1\nParked,1\nIntro,1\nPitch,1\n"
    table = read_table(data)
    mapping = detect_mapping(table.columns)
    outcomes, order = funnel_order(stage_table(type_deals(table, mapping)))
    assert order == ("Pitch", "Intro", "Parked", "Booked")
    deals = read_deals(table, mapping)
    assert deals.stage_order == order == read_deals(table, mapping, outcomes, order).stage_order
    assert any("order of the stages Pitch, Intro, Parked is a guess" in n for n in deals.notes)
    # numbered stages are put in their numbers' order
    numbered = read_table(b"Stage,Amount\n10 Won,1\n2 Demo,1\n1 Lead,1\n3 Offer,1\n")
    assert funnel_order(stage_table(type_deals(numbered, detect_mapping(numbered.columns))))[1] == (
        "1 Lead", "2 Demo", "3 Offer", "10 Won")  # fmt: skip


def test_a_history_covering_deals_that_never_closed_is_not_an_error() -> None:
    _, result = calibrate_export(b"Stage,Amount\nProposal,1\nDemo,2\n", "open.csv")
    assert (result.overall.won, result.overall.win_rate) == (0, None)


def test_calibrate_refuses_an_empty_deal_list_in_words() -> None:
    with pytest.raises(CalibrationError, match="No deals"):
        calibrate(pd.DataFrame(columns=["outcome", "amount"]), ("A", "Won"))


# =========================================================================== xlsx bounds (issue 13)


def test_a_sheet_that_does_not_exist_is_refused_not_swapped_for_the_first() -> None:
    book = openpyxl.Workbook()
    book.active.title = "Deals"
    book.active.append(["Stage", "Amount"])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(ImportFailure, match=r"no sheet “Oportunidades”.*“Deals”"):
        read_table(buffer.getvalue(), "deals.xlsx", "Oportunidades")


def test_a_2_mb_workbook_that_unpacks_to_700_mb_is_refused_before_anything_is_unpacked() -> None:
    buffer = io.BytesIO()
    row = b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>' * 20_000
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("xl/workbook.xml", "<workbook/>")
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            for _ in range(700 * 2**20 // len(row)):
                part.write(row)
    data = buffer.getvalue()
    assert len(data) < 3 * 2**20
    tracemalloc.start()
    try:
        with pytest.raises(ImportFailure, match=r"unpacks to 700 MB from 2\.0 MB") as caught:
            read_table(data, "deals.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20  # the sheet was never unpacked
    assert "save the sheet as CSV" in str(caught.value)


def test_a_sheet_with_too_many_cells_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "MAX_XLSX_CELLS", 10)
    with pytest.raises(ImportFailure, match="has over 10 cells"):
        read_table(xlsx([["Stage", "Amount", "Owner"]] + [["Won", 1, "Ana"]] * 4), "deals.xlsx")


def test_a_workbook_that_takes_too_long_is_refused_while_it_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "XLSX_SECONDS", -1.0)  # any time is too long: the reader stops at its next check
    with pytest.raises(ImportFailure, match=r"took over -1 s: save it as CSV"):
        read_table(xlsx([["Stage", "Amount"]] + [["Won", 1]] * 1_000), "deals.xlsx")
