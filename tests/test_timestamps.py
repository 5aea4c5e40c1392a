"""Times clients send (``as_of``, an incident's ``occurred_at``) are RFC 3339 date-times with their offset.

Proves that every RFC 3339 rendering of an aware moment is read as that very instant, whatever its offset,
and that what pydantic alone would also take (seconds since 1970, a date alone, a time without offset) is
refused, here and through HTTP in tests/test_reporting_http.py and tests/test_risk_http.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from shared.schemas import Timestamp

TIMESTAMP = TypeAdapter(Timestamp)
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
MOMENTS = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS)


@given(MOMENTS, st.sampled_from(["T", "t", " "]))
def test_any_rfc_3339_rendering_is_read_as_the_same_instant(moment: datetime, separator: str) -> None:
    assert TIMESTAMP.validate_python(moment.isoformat(sep=separator)) == moment


@given(MOMENTS)
def test_z_stands_for_utc(moment: datetime) -> None:
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    assert TIMESTAMP.validate_python(utc.isoformat() + "Z") == moment


@pytest.mark.parametrize(
    "sent",
    [
        "1700000000",
        1700000000,
        "2026-11-25",
        "2026-11-25T09:00:00",
        "2026-11-25T09:00+09:00",
        "25/11/2026 09:00 JST",
        "2026-11-25T09:00:00+0900",
        "",
    ],
)
def test_what_rfc_3339_does_not_allow_is_refused(sent: object) -> None:
    with pytest.raises(ValidationError):
        TIMESTAMP.validate_python(sent)
