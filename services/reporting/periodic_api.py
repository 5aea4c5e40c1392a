"""Reporting routes of issue 16, items 7 and 8: the secretariat's view of the periodic reports submitted for a
period, a submitted report fetched exactly as submitted, and a ministry's usage rules in force at a moment.

The submission itself is made on the registry (``POST /v1/ministries/{code}/periodic-reports/{period}/submission``)
by the designated CAIO, naming the report this service served by its content hash, positions and ``as_of``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from services.registry.contract import PERIOD_PATTERN
from services.reporting import submissions
from services.reporting.api import AsOf, RegistryPosition, RiskPosition, check_as_of, queries
from services.reporting.schemas import PeriodicReport, PeriodicSubmissions, UsageRulesInForce
from shared.auth import CurrentPrincipal
from shared.pagination import Paging

router = APIRouter(prefix="/v1")
Period = Annotated[str, Path(pattern=PERIOD_PATTERN, description="Half-year, e.g. 2026H2.")]


@router.get(
    "/periodic-reports/{period}",
    response_model=PeriodicSubmissions,
    tags=["reports"],
    operation_id="get_periodic_submissions",
    summary="Every ministry's periodic report for the period: submitted (when, by whom), not, or out of date since",
)
def get_periodic_submissions(
    period: Period, request: Request, principal: CurrentPrincipal, paging: Paging, as_of: AsOf = None,
    registry_position: RegistryPosition = None, risk_position: RiskPosition = None,
) -> PeriodicSubmissions:  # fmt: skip
    check_as_of(as_of)
    reads = queries(request)
    with reads.session() as session:
        moment = reads.moment(session, as_of, registry_position, risk_position)
        items = submissions.submissions_view(reads, session, period, moment)
    page = paging.page(items, lambda item: (item["ministry"],))
    body = {"positions": moment.positions, "as_of": as_of.isoformat() if as_of else None}
    return PeriodicSubmissions.model_validate({**body, "period": period, "count": len(items), **page})


@router.get(
    "/ministries/{code}/periodic-reports/{period}/submission",
    response_model=PeriodicReport,
    tags=["reports"],
    operation_id="get_submitted_periodic_report",
    summary="The ministry's periodic report for the period exactly as its CAIO submitted it (the latest submission)",
)
def get_submitted_periodic_report(code: str, period: Period, request: Request, principal: CurrentPrincipal) -> Response:
    reads = queries(request)
    with reads.session() as session:
        body, submission = submissions.submitted_report(reads, session, code, period)
    headers = {
        "ETag": f'"{submission["content_hash"]}"',
        "Aigov-Submitted-At": submission["submitted_at"],
        "Aigov-Submission-Position": f"registry={submission['position']}",
    }
    return Response(body, media_type="application/json", headers=headers)


@router.get(
    "/ministries/{code}/usage-rules",
    response_model=UsageRulesInForce,
    tags=["reports"],
    operation_id="get_usage_rules_in_force",
    summary="The ministry's usage rules for generative AI in force (as of a moment), with every version issued",
)
def get_usage_rules_in_force(
    code: str, request: Request, principal: CurrentPrincipal, as_of: AsOf = None,
    registry_position: RegistryPosition = None, risk_position: RiskPosition = None,
) -> Any:  # fmt: skip
    check_as_of(as_of)
    at = as_of or datetime.now(UTC)
    reads = queries(request)
    with reads.session() as session:
        moment = reads.moment(session, as_of, registry_position, risk_position)
        _ministry, versions, in_force = submissions.usage_rules_at(reads, session, code, moment, at)
    positions = {"positions": moment.positions, "as_of": as_of.isoformat() if as_of else None}
    return {**positions, "ministry": code, "in_force_at": at.isoformat(), "in_force": in_force, "versions": versions}
