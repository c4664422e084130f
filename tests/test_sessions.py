"""The sign-in rule (planner/sessions.py) and its records in the store (planner/store/sign_ins.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner import store
from planner.sessions import SignInKey, SignInRecord, idle_limit, sign_in_verdict
from tests.conftest import open_store

MOMENTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1))


@given(issued=MOMENTS, signed_out=MOMENTS, now=MOMENTS, idle_hours=st.floats(0.01, 48))
def test_no_sign_in_issued_at_or_before_a_sign_out_ever_counts(issued, signed_out, now, idle_hours) -> None:
    record = SignInRecord(last_seen=now, signed_out=False, latest_signed_out=signed_out)
    verdict = sign_in_verdict(record, issued, now, timedelta(hours=idle_hours))
    assert (verdict == "signed out") == (issued <= signed_out)


@given(last_seen=MOMENTS, later=st.timedeltas(timedelta(0), timedelta(days=40)), idle_hours=st.floats(0.01, 48))
def test_a_sign_in_counts_exactly_while_it_has_been_used_within_the_idle_limit(last_seen, later, idle_hours) -> None:
    idle = timedelta(hours=idle_hours)
    record = SignInRecord(last_seen=last_seen, signed_out=False, latest_signed_out=None)
    verdict = sign_in_verdict(record, last_seen - timedelta(hours=1), last_seen + later, idle)
    assert verdict == ("active" if later <= idle else "idle")


@pytest.mark.parametrize("bad", ["0", "-3", "nan", "inf", "twelve", True])
def test_a_mistyped_idle_limit_is_named(bad: object) -> None:
    with pytest.raises(ValueError, match="idle_hours"):
        idle_limit(bad)
    with pytest.raises(ValueError, match="BACKPLAN_IDLE_HOURS"):
        idle_limit(None, str(bad))


def test_sign_ins_are_kept_per_issuer_subject_and_issue_time(database: Path) -> None:
    ana = SignInKey("https://id.acme.test", "ana", datetime(2026, 11, 23, 8, 0))
    again = SignInKey("https://id.acme.test", "ana", datetime(2026, 11, 23, 9, 0))
    with open_store(database) as con:
        generation = store.data_generation()
        assert store.get_sign_in(con, ana) == SignInRecord(None, False, None)
        store.note_sign_in(con, ana, datetime(2026, 11, 23, 8, 1))
        store.note_sign_in(con, ana, datetime(2026, 11, 23, 8, 5))
        assert store.get_sign_in(con, ana) == SignInRecord(datetime(2026, 11, 23, 8, 5), False, None)
        store.end_sign_in(con, ana, datetime(2026, 11, 23, 8, 6))
        store.end_sign_in(con, ana, datetime(2026, 11, 23, 8, 7))  # a second sign-out keeps the first time
        assert store.get_sign_in(con, ana).signed_out
        assert store.get_sign_in(con, again) == SignInRecord(None, False, datetime(2026, 11, 23, 8, 0))
        assert store.data_generation() == generation  # no cached read shows sign-ins: none is thrown away
