"""The Calibrate page under AppTest: from an export to figures, problems and a saved profile."""

from __future__ import annotations

import hashlib

import pytest
from streamlit.testing.v1 import AppTest

from planner import store
from tests.conftest import metric, open_store


@pytest.fixture
def calibrate_page(app: AppTest) -> AppTest:
    app.switch_page("pages/calibrate.py").run()
    assert not app.exception, app.exception
    return app


def give_file(at: AppTest, name: str, data: bytes) -> AppTest:
    """What the uploader's callback stores, as if the user had uploaded ``data``."""
    at.session_state["calibrate.source"] = {"name": name, "data": data, "digest": hashlib.sha256(data).hexdigest()}
    at.run()
    assert not at.exception, at.exception
    return at


def test_before_a_file_the_page_says_what_an_export_needs(calibrate_page: AppTest) -> None:
    assert "stage" in calibrate_page.info[0].value and "amount" in calibrate_page.info[0].value
    assert not calibrate_page.metric


def test_the_sample_export_gives_its_figures_and_saves_as_a_profile(calibrate_page: AppTest, database) -> None:
    at = calibrate_page.button(key="btn.calibrate_sample").click().run()
    assert not at.exception
    assert metric(at, "Rows read") == "1,500"
    assert metric(at, "Rows left out") == "0"
    assert metric(at, "Win rate") == "11.1%"
    assert metric(at, "Average deal size") == "14,595"
    assert metric(at, "Sales cycle") == "36 days"
    assert metric(at, "Suggested coverage") == "8.4×"
    assert at.selectbox(key="calibrate.preset").value == "hubspot"
    # 380 lost deals carry no amount: the page says what it assumed for them.
    assert any("lost deals have no amount" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 4  # conversion, seasonality, deal sizes, cycle

    at.text_input(key="calibrate.profile_name").set_value("FY2025 deals").run()
    at.button(key="btn.calibrate_save").click().run()
    assert "Saved." in at.success[-1].value
    with open_store(database) as con:
        profiles = store.list_profiles(con)
        assert [(p.name, p.source_file, p.rows_used) for p in profiles] == [
            ("FY2025 deals", "sample_crm_export.csv", 1_500)
        ]
    assert "**FY2025 deals**" in [m.value for m in at.markdown]  # listed under Saved profiles, escaped


def test_a_second_profile_with_the_same_name_is_refused(calibrate_page: AppTest, database) -> None:
    at = calibrate_page.button(key="btn.calibrate_sample").click().run()
    at.text_input(key="calibrate.profile_name").set_value("FY2025").run()
    at.button(key="btn.calibrate_save").click().run()
    at.button(key="btn.calibrate_save").click().run()
    assert "already a profile called “FY2025”" in at.error[0].value
    with open_store(database) as con:
        assert len(store.list_profiles(con)) == 1


def test_missing_columns_are_named_with_the_columns_found(calibrate_page: AppTest) -> None:
    at = give_file(calibrate_page, "deals.csv", b"Name,Owner\nAcme,Ana\n")
    error = at.error[0].value
    assert "Stage and Amount" in error
    assert "Name" in error and "Owner" in error


def test_a_binary_file_is_refused_in_words(calibrate_page: AppTest) -> None:
    at = give_file(calibrate_page, "deals.csv", bytes(range(256)) * 20)
    assert "not a text file" in at.error[0].value
    assert not at.metric


def test_bad_rows_are_listed_and_a_bad_field_costs_only_the_figures_that_need_it(calibrate_page: AppTest) -> None:
    export = (
        b"Deal,Stage,Amount,Created,Closed\n"
        b"1,Closed Won,1000,2025-01-01,2025-01-31\n"
        b"2,Closed Won,abc,2025-01-01,2025-01-31\n"
        b"3,Closed Lost,500,2025-02-10,2025-02-01\n"
        b"4,Closed Lost,-50,2025-01-01,2025-01-31\n"
        b"5,Closed Lost,800,2025-01-01,2025-03-01\n"
    )
    at = give_file(calibrate_page, "deals.csv", export)
    assert metric(at, "Rows read") == "5"
    assert metric(at, "Deals used") == "5"  # every deal still has an outcome
    assert metric(at, "Rows left out") == "0"
    problems = next(d.value for d in at.dataframe if "Problem" in d.value.columns)
    assert problems["Row"].tolist() == [3, 4, 5]
    assert "“abc” is not an amount" in problems["Problem"].iloc[0]
    assert "before it was created" in problems["Problem"].iloc[1]
    assert "negative" in problems["Problem"].iloc[2]
    assert problems["Left out of"].tolist() == [
        "deal size, value win rate, seasonality",
        "sales cycle, stage lags",
        "deal size, value win rate, seasonality",
    ]
    assert metric(at, "Win rate") == "40.0%"  # 2 won of 5 closed: the bad amounts and the odd dates still count
    assert metric(at, "Average deal size") == "1,000"  # only deal 1 has a usable amount among the won
    assert metric(at, "Sales cycle") == "30 days"  # deals 1 and 2, Jan 1 → Jan 31


def test_ambiguous_dates_ask_which_order(calibrate_page: AppTest) -> None:
    export = b"Stage,Amount,Created,Closed\nWon,100,01/02/2025,01/03/2025\nLost,100,01/02/2025,05/06/2025\n"
    at = give_file(calibrate_page, "deals.csv", export)
    assert at.radio(key="calibrate.date_order").value == "MDY"
    assert metric(at, "Sales cycle") == "1 day"  # 2 Jan → 3 Jan
    at.radio(key="calibrate.date_order").set_value("DMY").run()
    assert metric(at, "Sales cycle") == "28 days"  # 1 Feb → 1 Mar


def test_no_won_deals_explains_what_cannot_be_computed(calibrate_page: AppTest) -> None:
    at = give_file(calibrate_page, "deals.csv", b"Stage,Amount\nProposal,100\nClosed Lost,50\n")
    assert metric(at, "Win rate") == "0.0%"
    assert metric(at, "Average deal size") == "—"
    assert any("no won deals" in i.value for i in at.info)
    assert at.button(key="btn.calibrate_save").disabled


def test_stage_outcomes_are_guessed_from_their_names(calibrate_page: AppTest) -> None:
    at = give_file(calibrate_page, "deals.csv", b"Stage,Amount\nSigned,100\nNegotiation,50\nDead,10\n")
    # "Signed" reads as won and "Dead" as lost from their names.
    assert metric(at, "Win rate") == "50.0%"


def test_several_currencies_are_never_added_and_rates_bring_them_in(calibrate_page: AppTest) -> None:
    export = (
        b"Opportunity Name,Stage,Amount Currency,Amount,Close Date\n"
        b"U1,Closed Won,USD,100,2024-01-10\nU2,Closed Lost,USD,100,2024-01-10\n"
        b"E1,Closed Won,EUR,1000,2024-01-10\nE2,Closed Won,EUR,3000,2024-01-10\nE3,Closed Lost,EUR,4000,2024-01-10\n"
    )
    at = give_file(calibrate_page, "deals.csv", export)
    # EUR has the most deals: amounts in EUR (won 1,000 and 3,000); the win rate counts all five deals (3 of 5).
    assert at.selectbox(key="calibrate.currency").value == "EUR"
    assert (metric(at, "Average deal size"), metric(at, "Win rate")) == ("2,000", "60.0%")
    currencies = next(d.value for d in at.dataframe if "Currency" in d.value.columns).set_index("Currency")
    assert currencies.loc["USD", "Average deal"] == 100 and currencies.loc["EUR", "Average deal"] == 2_000
    at.selectbox(key="calibrate.currency").set_value("USD").run()
    assert metric(at, "Average deal size") == "100"
    # 1 EUR = 1.1 USD: won 100 + 1,100 + 3,300 = 4,500 over 3 deals
    at.number_input(key="calibrate.rate.EUR.USD").set_value(1.1).run()
    assert metric(at, "Average deal size") == "1,500"
    assert any("1 EUR = 1.1 USD" in i.value for i in at.info)


def test_a_stage_history_that_belongs_to_no_deal_is_one_sentence(calibrate_page: AppTest) -> None:
    at = calibrate_page
    at.session_state["calibrate.history_source"] = {
        "name": "History.csv",
        "data": b"OpportunityId,StageName,CreatedDate\n006Z,Prospecting,2024-01-01\n",
        "digest": "h1",
    }
    at = give_file(at, "Opportunity.csv", b"Id,StageName,Amount,CloseDate\n006A,Closed Won,5,2024-02-01\n")
    [error] = at.error
    assert "History.csv" in error.value and "shares no opportunity ID" in error.value
    assert not at.metric


def test_a_sales_cycle_nobody_can_date_says_so_plainly(calibrate_page: AppTest) -> None:
    """Without created and close dates there are no quartiles: the card says "—", never "—–—"."""
    at = give_file(calibrate_page, "deals.csv", b"Stage,Amount\nClosed Won,100\nClosed Lost,50\n")
    card = next(m for m in at.metric if m.label == "Sales cycle")
    assert card.value == "—"
    assert card.delta == "middle half unknown"
    assert "—–—" not in card.delta


def test_a_file_with_no_stage_before_won_says_there_is_no_conversion_to_show(calibrate_page: AppTest) -> None:
    """Only won and lost stages: no empty conversion table, no "come from the none", no lost deal "at Closed Won"."""
    at = give_file(calibrate_page, "deals.csv", b"Stage,Amount\nClosed Won,100\nClosed Lost,50\nClosed Won,70\n")
    assert not [d for d in at.dataframe if "From" in d.value.columns]
    assert not [d for d in at.dataframe if list(d.value.columns) == ["Owner"]]  # nor a by-owner table of names
    said = [c.value for c in at.caption] + [i.value for i in at.info]
    assert "The file names no stage before won, so there is no stage-to-stage conversion to show." in said
    assert not [t for t in said if "the none" in t or "“Closed Won”" in t]


def test_lost_deals_placed_at_the_first_stage_are_counted_in_the_singular_too() -> None:
    from planner.calibrate import calibrate_export

    # Ten lost deals whose status and stage say they reached Demo, one whose stage says only "Closed Lost".
    export = b"Stage,Status,Amount\nClosed Won,Won,100\nClosed Lost,Lost,50\n" + b"Demo,Lost,5\n" * 10
    notes = calibrate_export(export, "deals.csv")[1].notes
    assert "1 of 11 lost deals does not say how far it got; it counts as lost at the first stage, “Demo”." in notes
    alone = calibrate_export(b"Stage,Amount\nClosed Won,100\nDemo,10\nClosed Lost,50\n", "deals.csv")[1].notes
    assert any(n.startswith("1 lost deal does not say how far it got (") for n in alone)  # the one-step funnel's note
