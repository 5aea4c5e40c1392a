"""Reporting HTTP routes (port 8003): read models built only from the registry and risk logs, as of any moment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse

from services.registry.contract import Stage
from services.reporting import periodic, reports, submissions
from services.reporting.projection import Projection
from services.reporting.queries import Filters, ReportQueries
from services.reporting.readmodel import UPSTREAMS, ReportingStore
from services.reporting.schemas import (
    CheckpointList,
    CheckpointOut,
    HighRiskRegister,
    Inventory,
    Pending,
    PeriodicReport,
    ProjectState,
    PublicKeyOut,
    PublicRecord,
    Timeline,
)
from shared.auth import CurrentPrincipal
from shared.i18n import ENGLISH, JAPANESE, N_, Msg, negotiate
from shared.pagination import PageRequest, Paging
from shared.policy import authorize
from shared.positions import MAX_POSITION
from shared.problems import NotFound, Unprocessable
from shared.schemas import Timestamp

router = APIRouter(prefix="/v1")
AsOf = Annotated[
    Timestamp | None,
    Query(
        description="RFC 3339 date-time with its offset, e.g. 2026-11-25T09:00:00+09:00: "
        "answer as the report stood then (rebuilt from the logs)."
    ),
]
RegistryPosition = Annotated[
    int | None,
    Query(ge=0, le=MAX_POSITION, description="Answer as of this registry log position (with risk_position)."),
]
RiskPosition = Annotated[
    int | None,
    Query(ge=0, le=MAX_POSITION, description="Answer as of this risk log position (with registry_position)."),
]
INVENTORY_COLUMNS = (
    "project_id",
    "ministry",
    "title",
    "stage",
    "risk_status",
    "classification",
    "board_status",
    "caio_officer_id",
    "caio_name",
    "incidents",
    "registered_at",
    "updated_at",
)


def store(request: Request) -> ReportingStore:
    return request.app.state.store


def queries(request: Request) -> ReportQueries:
    return ReportQueries(store(request))


def check_as_of(as_of: datetime | None) -> None:
    if as_of is not None and as_of.tzinfo is None:
        raise Unprocessable(
            N_("as_of needs a time zone (RFC 3339)."),
            errors=[{"field": "query.as_of", "message": "time zone required", "type": "timezone"}],
        )


def registered_page(
    request: Request,
    paging: PageRequest,
    filters: Filters,
    as_of: datetime | None,
    registry_position: int | None,
    risk_position: int | None,
) -> tuple[Projection, int]:
    """One page of registered projects (and how many there are in all), live or as of a moment: SQL pages."""
    check_as_of(as_of)
    reads = queries(request)
    with reads.session() as session:
        moment = reads.moment(session, as_of, registry_position, risk_position)
        docs = reads.registered(session, moment, filters, paging.after, paging.limit + 1)
        count = reads.count(session, moment, filters)
        return reads.projection(session, moment, docs), count


def state_of(
    request: Request, filters: Filters, as_of: datetime | None, registry_position: int | None = None,
    risk_position: int | None = None,
) -> Projection:  # fmt: skip
    """Every registered project the filters select (a ministry's, the pending ones), live or as of a moment."""
    check_as_of(as_of)
    reads = queries(request)
    with reads.session() as session:
        moment = reads.moment(session, as_of, registry_position, risk_position)
        return reads.projection(session, moment, reads.registered(session, moment, filters))


def project_state_of(
    request: Request, project_id: UUID, as_of: datetime | None, registry_position: int | None = None,
    risk_position: int | None = None,
) -> Projection:  # fmt: skip
    """A projection of one project (and the ministries), live or as of a moment."""
    check_as_of(as_of)
    reads = queries(request)
    with reads.session() as session:
        moment = reads.moment(session, as_of, registry_position, risk_position)
        doc = reads.project(session, moment, str(project_id))
        return reads.projection(session, moment, [doc] if doc is not None else [])


def meta(state: Projection, as_of: datetime | None) -> dict[str, Any]:
    return {"positions": dict(state.positions), "as_of": as_of.isoformat() if as_of else None}


def by_registration(item: dict[str, Any]) -> tuple[str, str]:
    """Reports list projects in registration order, the id breaking ties."""
    return (item["registered_at"], item["project_id"])


def wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "")


class CsvResponse(PlainTextResponse):
    """CSV (RFC 4180); its own class so the OpenAPI document declares ``text/csv`` and nothing else."""

    media_type = "text/csv"


class NdjsonResponse(StreamingResponse):
    """Newline-delimited JSON; its own class so the OpenAPI document declares ``application/x-ndjson`` only."""

    media_type = "application/x-ndjson"


@router.get(
    "/inventory",
    response_model=Inventory,
    tags=["reports"],
    operation_id="get_inventory",
    summary="Every generative-AI project: stage, risk, Board status, CAIO",
)
def get_inventory(
    request: Request, principal: CurrentPrincipal, paging: Paging, ministry: str | None = None,
    stage: Stage | None = None, risk: str | None = None,
    as_of: AsOf = None, registry_position: RegistryPosition = None, risk_position: RiskPosition = None,
) -> Any:  # fmt: skip
    filters = Filters(ministry=ministry, stage=stage.value if stage else None, risk=risk)
    state, count = registered_page(request, paging, filters, as_of, registry_position, risk_position)
    items = reports.inventory(state, ministry=ministry, stage=filters.stage, risk=risk)
    page = paging.fetched(items, by_registration)
    if wants_csv(request):  # kept for clients written before get_inventory_csv; documented there
        return inventory_csv(page["items"], paging, state)
    return Inventory.model_validate({**meta(state, as_of), "count": count, **page})


@router.get(
    "/inventory.csv",
    response_class=CsvResponse,
    tags=["reports"],
    operation_id="get_inventory_csv",
    summary="The inventory as CSV, one row per project, paged like the JSON inventory (Link: next)",
)
def get_inventory_csv(
    request: Request,
    principal: CurrentPrincipal,
    paging: Paging,
    ministry: str | None = None,
    stage: Stage | None = None,
    risk: str | None = None,
    as_of: AsOf = None,
    registry_position: RegistryPosition = None,
    risk_position: RiskPosition = None,
) -> CsvResponse:
    filters = Filters(ministry=ministry, stage=stage.value if stage else None, risk=risk)
    state, _ = registered_page(request, paging, filters, as_of, registry_position, risk_position)
    items = reports.inventory(state, ministry=ministry, stage=filters.stage, risk=risk)
    return inventory_csv(paging.fetched(items, by_registration)["items"], paging, state)


def inventory_csv(items: list[dict[str, Any]], paging: Any, state: Projection) -> CsvResponse:
    """One page of the inventory as CSV, with the page's Link and the log positions it reflects as headers."""
    rows = [
        {
            **item,
            "caio_officer_id": (item["caio"] or {}).get("officer_id"),
            "caio_name": (item["caio"] or {}).get("name"),
        }
        for item in items
    ]
    # A response the route returns itself does not get the headers its dependencies set (the page's Link).
    headers = {
        **paging.response.headers,
        "X-Log-Positions": f"registry={state.positions['registry']},risk={state.positions['risk']}",
    }
    return CsvResponse(periodic.as_csv(rows, INVENTORY_COLUMNS), headers=headers)


@router.get(
    "/high-risk-register",
    response_model=HighRiskRegister,
    tags=["reports"],
    operation_id="get_high_risk_register",
    summary="Every project classified high, with submission, advice and decision",
)
def get_high_risk_register(
    request: Request,
    principal: CurrentPrincipal,
    paging: Paging,
    as_of: AsOf = None,
    registry_position: RegistryPosition = None,
    risk_position: RiskPosition = None,
) -> HighRiskRegister:
    state, count = registered_page(request, paging, Filters(high_risk=True), as_of, registry_position, risk_position)
    items = reports.high_risk_register(state)
    return HighRiskRegister.model_validate(
        {**meta(state, as_of), "count": count, **paging.fetched(items, by_registration)}
    )


@router.get(
    "/pending", response_model=Pending, tags=["reports"], operation_id="get_pending", summary="What is waiting on whom"
)
def get_pending(
    request: Request,
    principal: CurrentPrincipal,
    paging: Paging,
    ministry: str | None = None,
    role: str | None = None,
    as_of: AsOf = None,
    registry_position: RegistryPosition = None,
    risk_position: RiskPosition = None,
) -> Pending:
    state = state_of(request, Filters(ministry=ministry, pending=True), as_of, registry_position, risk_position)
    items = reports.pending(state, ministry=ministry, role=role)
    page = paging.page(items, lambda item: (item["project_id"], item["what"], item["role"], item["ministry"] or ""))
    return Pending.model_validate({**meta(state, as_of), "count": len(items), **page})


PeriodQuery = Annotated[str, Query(pattern=r"^20\d\dH[12]$", description="Half-year, e.g. 2026H2.")]


def the_periodic_report(
    request: Request, code: str, period: str, as_of: datetime | None, registry_position: int | None = None,
    risk_position: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The report at the moment's positions, as of ``as_of`` (now when live), with its content hash
    (services/reporting/submissions.py)."""
    check_as_of(as_of)
    reads = queries(request)
    with reads.session() as session:
        moment = reads.moment(session, as_of, registry_position, risk_position)
        return submissions.report_at(reads, session, code, period, moment, as_of or datetime.now(UTC))


@router.get(
    "/ministries/{code}/periodic-report",
    response_model=PeriodicReport,
    tags=["reports"],
    operation_id="get_periodic_report",
    summary="The periodic report to the Digital Agency",
)
def get_periodic_report(
    code: str, request: Request, principal: CurrentPrincipal, period: PeriodQuery, as_of: AsOf = None,
    registry_position: RegistryPosition = None, risk_position: RiskPosition = None,
) -> Any:  # fmt: skip
    report = the_periodic_report(request, code, period, as_of, registry_position, risk_position)
    accept = request.headers.get("accept", "")  # kept for clients written before the .csv and .html operations
    if "text/html" in accept:
        return periodic_html(request, report)
    if "text/csv" in accept:
        return periodic_csv(request, report)
    # The canonical bytes the content hash is taken of: a submission of this report is served as these bytes.
    return Response(periodic.canonical(report), media_type="application/json")


def periodic_html(request: Request, report: dict[str, Any]) -> HTMLResponse:
    """The printable page in Japanese unless ``Accept-Language`` prefers English."""
    language = negotiate(request.headers.get("accept-language"), JAPANESE)
    return HTMLResponse(periodic.as_html(report, language), headers={"Content-Language": language})


def periodic_csv(request: Request, report: dict[str, Any]) -> CsvResponse:
    """The systems as CSV; the header row in Japanese when ``Accept-Language`` prefers it (else column names)."""
    language = negotiate(request.headers.get("accept-language"), ENGLISH)
    return CsvResponse(
        periodic.as_csv(report["systems"], periodic.CSV_COLUMNS, language), headers={"Content-Language": language}
    )


@router.get(
    "/ministries/{code}/periodic-report.csv",
    response_class=CsvResponse,
    tags=["reports"],
    operation_id="get_periodic_report_csv",
    summary="The periodic report's systems as CSV",
)
def get_periodic_report_csv(
    code: str, request: Request, principal: CurrentPrincipal, period: PeriodQuery, as_of: AsOf = None
) -> CsvResponse:
    return periodic_csv(request, the_periodic_report(request, code, period, as_of))


@router.get(
    "/ministries/{code}/periodic-report.html",
    response_class=HTMLResponse,
    tags=["reports"],
    operation_id="get_periodic_report_html",
    summary="The periodic report as a printable page with its chart",
)
def get_periodic_report_html(
    code: str, request: Request, principal: CurrentPrincipal, period: PeriodQuery, as_of: AsOf = None
) -> HTMLResponse:
    return periodic_html(request, the_periodic_report(request, code, period, as_of))


@router.get(
    "/projects/{project_id}/public-record",
    response_model=PublicRecord,
    tags=["reports"],
    operation_id="get_public_record",
    summary="Tier-1 summary and tier-2 detail record of a project",
)
def get_public_record(project_id: UUID, request: Request, principal: CurrentPrincipal, as_of: AsOf = None) -> Any:
    record = periodic.public_record(project_state_of(request, project_id, as_of), str(project_id))
    if record is None:
        raise NotFound(Msg("No project {project_id} in the reporting read models.", project_id=project_id))
    return record


@router.get(
    "/audit/projects/{project_id}/timeline",
    response_model=Timeline,
    tags=["audit"],
    operation_id="get_project_timeline",
    summary="Every event about the project from both logs, in causal order",
)
def get_timeline(project_id: UUID, request: Request, principal: CurrentPrincipal, as_of: AsOf = None) -> Timeline:
    check_as_of(as_of)
    events = store(request).timeline(project_id, as_of)
    if not events:
        raise NotFound(Msg("No events about project {project_id}.", project_id=project_id))
    return Timeline(project_id=str(project_id), as_of=as_of.isoformat() if as_of else None, events=events)


@router.get(
    "/audit/projects/{project_id}/state",
    response_model=ProjectState,
    tags=["audit"],
    operation_id="get_project_state",
    summary="The project's full state as it stood then, rebuilt from the logs",
)
def get_project_state(
    project_id: UUID,
    request: Request,
    principal: CurrentPrincipal,
    as_of: AsOf = None,
    registry_position: RegistryPosition = None,
    risk_position: RiskPosition = None,
) -> ProjectState:
    state = project_state_of(request, project_id, as_of, registry_position, risk_position)
    project = reports.project_state(state, str(project_id))
    if project is None:
        raise NotFound(Msg("Project {project_id} did not exist at that moment.", project_id=project_id))
    return ProjectState.model_validate({**meta(state, as_of), "project": project})


@router.get(
    "/audit/export",
    tags=["audit"],
    operation_id="export_audit_log",
    summary="NDJSON: every event of the registry log, then of the risk log, then each log's checkpoints",
    response_class=NdjsonResponse,
)
def export(request: Request, principal: CurrentPrincipal) -> NdjsonResponse:
    authorize(request, principal)
    lines = (line + "\n" for line in store(request).export_lines())
    return NdjsonResponse(lines, headers={"Content-Disposition": 'attachment; filename="aigov-audit-export.ndjson"'})


@router.get(
    "/audit/checkpoints",
    response_model=CheckpointList,
    tags=["audit"],
    operation_id="list_checkpoints",
    summary="Signed checkpoints taken periodically and on demand, oldest first",
)
def list_checkpoints(request: Request, principal: CurrentPrincipal, paging: Paging) -> CheckpointList:
    return CheckpointList.model_validate(paging.page(store(request).list_checkpoints(), lambda row: (row["id"],)))


@router.post(
    "/audit/checkpoints",
    response_model=list[CheckpointOut],
    status_code=201,
    tags=["audit"],
    operation_id="take_checkpoints",
    summary="Take a signed checkpoint of each log now (admin)",
)
def take_checkpoints(request: Request, principal: CurrentPrincipal) -> list[CheckpointOut]:
    authorize(request, principal)
    return [CheckpointOut.model_validate(store(request).take_checkpoint(service).as_dict()) for service in UPSTREAMS]


@router.get(
    "/audit/public-key",
    response_model=PublicKeyOut,
    tags=["audit"],
    operation_id="get_public_key",
    summary="The Ed25519 public key that verifies checkpoints",
)
def public_key(request: Request) -> PublicKeyOut:
    pem, key_id = store(request).public_key_pem()
    return PublicKeyOut(key_id=key_id, public_key_pem=pem)
