"""Response and request models every service shares: log entries, verification, common field types."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

MinistryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_-]{1,15}$")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
OfficerId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})")


def rfc3339_text(value: object) -> object:
    """Accept only an RFC 3339 date-time with its UTC offset.

    Why: pydantic would also take a bare number (seconds since 1970), a date alone, or a time without offset.
    In a Japanese ministry a time without offset is ambiguous by nine hours (JST or UTC), and a number is more
    likely a log position sent to the wrong parameter; an audit question answered for the wrong moment is worse
    than a 422 that says what to send."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time with its UTC offset, e.g. 2026-11-25T09:00:00+09:00")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(rfc3339_text)]


class StrictModel(BaseModel):
    """Request bodies reject unknown fields: a typo must not silently drop data."""

    model_config = ConfigDict(extra="forbid")


class EventMetaOut(BaseModel):
    actor_id: str
    actor_name: str
    actor_role: str
    ministry: str | None
    reason: str | None
    correlation_id: str


class LogEntryOut(BaseModel):
    service: str
    position: int
    hash: str | None
    type: str
    topic: str
    schema_version: int
    aggregate_id: str
    aggregate_version: int
    occurred_at: str
    meta: EventMetaOut | None
    data: dict[str, Any]


class LogPage(BaseModel):
    service: str
    after: int
    head_position: int
    items: list[LogEntryOut]
    next_after: int | None = Field(
        description="Pass as `after` to read the next page; null when this page reached the head."
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` to read the next page; null when this page reached the head."
    )
    next: str | None = Field(description="The next page's URL; null when this page reached the head.")


class VerificationOut(BaseModel):
    service: str
    ok: bool
    checked: int
    head_position: int | None
    head_hash: str
    first_bad_position: int | None
    problem: str | None


class Health(BaseModel):
    """``/healthz``: the process is alive."""

    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    """``/readyz`` when ready: every check (database, schema, each follower) says ``ok``."""

    status: str = Field(examples=["ready"])
    checks: dict[str, str] = Field(description="Each check by name (`database`, `schema`, `follower:<log>`).")
