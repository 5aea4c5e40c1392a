"""Times are UTC everywhere; SQLite returns naive datetimes, so they are re-labelled UTC on read."""

from datetime import UTC, datetime


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
