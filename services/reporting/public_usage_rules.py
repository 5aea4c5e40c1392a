"""The public register's page of a ministry's usage rules (``/public/v1``, no token): the version in force now or
at ``as_of``, and every version issued by then, without officer identities.

A router of its own so the public register (built beside it) can link to it; the policy line is ``PUBLIC``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from services.reporting import submissions
from services.reporting.api import AsOf, check_as_of, queries
from services.reporting.schemas import PublicUsageRules

router = APIRouter(prefix="/public/v1")


@router.get(
    "/ministries/{code}/usage-rules",
    response_model=PublicUsageRules,
    tags=["public"],
    operation_id="get_public_usage_rules",
    summary="A ministry's usage rules for generative AI in force (now or as of a moment), without a token",
)
def get_public_usage_rules(code: str, request: Request, as_of: AsOf = None) -> Any:
    check_as_of(as_of)
    at = as_of or datetime.now(UTC)
    reads = queries(request)
    with reads.session() as session:
        moment = reads.moment(session, as_of)
        ministry, versions, in_force = submissions.usage_rules_at(reads, session, code, moment, at)
    return {
        "ministry": code,
        "ministry_name": ministry.get("name"),
        "in_force_at": at.isoformat(),
        "in_force": submissions.public_usage_rules(in_force),
        "versions": [submissions.public_usage_rules(version) for version in versions],
    }
