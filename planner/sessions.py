"""When a signed-in browser is still signed in: sign-out that holds, and sessions that end when idle.

Streamlit's sign-in cookie is signed by the server and lasts 30 days; signing
out deletes it from that browser, but a copy (another tab's, a proxy log's, a
stolen one) would still sign the person in. So the server keeps a record of
every sign-in, keyed by the identity's issuer and subject and the identity
token's issue time (``iss``, ``sub``, ``iat``: every OpenID Connect token has
them), and decides here whether a cookie still counts::

    ended  if this sign-in was signed out
           or the person signed out of a sign-in issued at or after this one
              (signing out ends every older sign-in of theirs too)
    idle   if it has not been used for the idle limit (12 hours unless configured)
    else   it counts, and its use is noted (at most every minute)

Issue times compare with issue times only (the identity provider's clock), and
idle times with the server's, so clocks that disagree never end a session early.

>>> from datetime import datetime, timedelta
>>> now = datetime(2026, 11, 23, 9, 0)
>>> signed_in = SignInRecord(last_seen=now - timedelta(hours=1), signed_out=False, latest_signed_out=None)
>>> sign_in_verdict(signed_in, datetime(2026, 11, 23, 8, 0), now, timedelta(hours=12))
'active'
>>> sign_in_verdict(signed_in, datetime(2026, 11, 23, 8, 0), now, timedelta(minutes=30))
'idle'
>>> older = SignInRecord(None, False, latest_signed_out=datetime(2026, 11, 23, 8, 30))
>>> sign_in_verdict(older, datetime(2026, 11, 23, 8, 0), now, timedelta(hours=12))
'signed out'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from planner.units import plural

__all__ = [
    "DEFAULT_IDLE_HOURS",
    "SignInKey",
    "SignInRecord",
    "idle_limit",
    "idle_words",
    "note_due",
    "sign_in_key",
    "sign_in_verdict",
]

DEFAULT_IDLE_HOURS = 12.0
#: A session's use is written down at most this often (less for tiny idle limits).
_NOTE_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class SignInKey:
    """One sign-in: who (issuer and subject of the identity token) and when the token was issued (UTC)."""

    issuer: str
    subject: str
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class SignInRecord:
    """What the server knows of a sign-in: its last use (None: never seen), whether it was signed out, and
    the issue time of the person's latest sign-in that was signed out (None: never signed out)."""

    last_seen: datetime | None
    signed_out: bool
    latest_signed_out: datetime | None


def sign_in_key(claims: Mapping[str, object]) -> SignInKey | None:
    """The key of the sign-in ``claims`` (``st.user``) describe, or None when they lack ``iss``, ``sub`` or ``iat``.

    >>> sign_in_key({"iss": "https://id.acme.test", "sub": "ana", "iat": 1795424400})
    SignInKey(issuer='https://id.acme.test', subject='ana', issued_at=datetime.datetime(2026, 11, 23, 9, 0))
    >>> sign_in_key({"sub": "ana", "email": "ana@acme.test"}) is None
    True
    """
    issuer, subject, issued = claims.get("iss"), claims.get("sub"), claims.get("iat")
    if not isinstance(issuer, str) or not isinstance(subject, str) or not issuer or not subject:
        return None
    if isinstance(issued, bool) or not isinstance(issued, int | float):
        return None
    try:
        at = datetime.fromtimestamp(issued, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None
    return SignInKey(issuer, subject, at)


def sign_in_verdict(record: SignInRecord, issued_at: datetime, now: datetime, idle: timedelta) -> str:
    """'active', 'signed out' or 'idle', by the rule in this module's docstring."""
    if record.signed_out or (record.latest_signed_out is not None and issued_at <= record.latest_signed_out):
        return "signed out"
    if record.last_seen is not None and now - record.last_seen > idle:
        return "idle"
    return "active"


def note_due(record: SignInRecord, now: datetime, idle: timedelta) -> bool:
    """True when an active sign-in's use should be written down now: first seen, or not noted for a while.

    >>> note_due(SignInRecord(None, False, None), datetime(2026, 1, 1), timedelta(hours=12))
    True
    """
    if record.last_seen is None:
        return True
    return now - record.last_seen >= min(_NOTE_EVERY, idle / 20)


def idle_limit(secret: object = None, env: str | None = None) -> timedelta:
    """The idle limit: ``[backplan] idle_hours`` in the secrets, else ``BACKPLAN_IDLE_HOURS``, else 12 hours.

    Raises ValueError naming the setting and the form it wants.

    >>> idle_limit(), idle_limit(8), idle_limit(None, "0.5")
    (datetime.timedelta(seconds=43200), datetime.timedelta(seconds=28800), datetime.timedelta(seconds=1800))
    >>> idle_limit("soon")
    Traceback (most recent call last):
    ...
    ValueError: [backplan] idle_hours is 'soon'; give a number of hours above 0, such as 12.
    """
    name, value = ("[backplan] idle_hours", secret) if secret is not None else ("BACKPLAN_IDLE_HOURS", env)
    if value is None or (isinstance(value, str) and not value.strip()):
        return timedelta(hours=DEFAULT_IDLE_HOURS)
    try:
        hours = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        hours = float("nan")
    if not 0 < hours <= 24 * 365:  # NaN fails this too
        raise ValueError(f"{name} is {value!r}; give a number of hours above 0, such as 12.")
    return timedelta(hours=hours)


def idle_words(idle: timedelta) -> str:
    """The idle limit as a person says it.

    >>> idle_words(timedelta(hours=12)), idle_words(timedelta(minutes=90)), idle_words(timedelta(seconds=8))
    ('12 hours', '90 minutes', '8 seconds')
    """
    seconds = idle.total_seconds()
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and (seconds / size).is_integer():
            return plural(int(seconds // size), unit)
    return plural(round(seconds), "second") if seconds < 60 else plural(round(seconds / 60), "minute")
