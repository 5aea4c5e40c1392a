"""Response and request models every service shares: log entries, verification, common field types."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MinistryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_-]{1,15}$")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
OfficerId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


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
    next_after: int | None = Field(description="Pass as `after` to read the next page; null when this page reached the head.")
    next_cursor: str | None = Field(description="Pass as `cursor` to read the next page; null when this page reached the head.")
    next: str | None = Field(description="The next page's URL; null when this page reached the head.")


class VerificationOut(BaseModel):
    service: str
    ok: bool
    checked: int
    head_position: int | None
    head_hash: str
    first_bad_position: int | None
    problem: str | None
