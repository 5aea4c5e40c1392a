"""Reporting HTTP routes (port 8003): read models built only from the registry and risk logs, as of any moment."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse

from services.registry.domain import Stage
from services.reporting import periodic, reports
from services.reporting.examples import EXAMPLES
from services.reporting.followers import ProjectionFollower
from services.reporting.projection import Projection
from services.reporting.readmodel import UPSTREAMS, ReportingStore
from services.reporting.schemas import (
    CheckpointList,
    CheckpointOut,
    HighRiskRegister,
    Inventory,
    Pending,
    ProjectState,
    PublicKeyOut,
    Timeline,
)
from shared.auth import CurrentPrincipal
from shared.follower import FollowerThreads
from shared.pagination import Paging
from shared.policy import authorize
from shared.positions import MAX_POSITION
from shared.problems import NotFound, Unprocessable
from shared.schemas import Timestamp
from shared.settings import Settings
from shared.web import create_service_app

router = APIRouter(prefix="/v1")
AsOf = Annotated[
    Timestamp | None,
    Query(
        description=(
            "RFC 3339 date-time with its offset, e.g. 2026-11-25T09:00:00+09:00: "
            "answer as the report stood then (rebuilt from the logs)."
        )
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


def state_for(
    request: Request, as_of: datetime | None, registry_position: int | None = None, risk_position: int | None = None
) -> Projection:
    """Live state from the tables, or the state rebuilt from the logs at a moment or at positions."""
    if as_of is not None and as_of.tzinfo is None:
        raise Unprocessable(
            "as_of needs a time zone (RFC 3339).",
            errors=[{"field": "query.as_of", "message": "time zone required", "type": "timezone"}],
        )
    if as_of is None and registry_position is None and risk_position is None:
        return store(request).load()
    return store(request).replay(as_of, registry_position, risk_position)


def meta(state: Projection, as_of: datetime | None) -> dict[str, Any]:
    return {"positions": dict(state.positions), "as_of": as_of.isoformat() if as_of else None}


def by_registration(item: dict[str, Any]) -> tuple[str, str]:
    """Reports list projects in registration order, the id breaking ties."""
    return (item["registered_at"], item["project_id"])


def wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "")


@router.get(
    "/inventory",
    response_model=Inventory,
    tags=["reports"],
    operation_id="get_inventory",
    summary="Every generative-AI project: stage, risk, Board status, CAIO (JSON or CSV)",
    responses={200: {"content": {"text/csv": {}}}},
)
def get_inventory(
    request: Request, principal: CurrentPrincipal, paging: Paging, ministry: str | None = None,
    stage: Stage | None = None, risk: str | None = None,
    as_of: AsOf = None, registry_position: RegistryPosition = None, risk_position: RiskPosition = None,
) -> Any:  # fmt: skip
    state = state_for(request, as_of, registry_position, risk_position)
    items = reports.inventory(state, ministry=ministry, stage=stage.value if stage else None, risk=risk)
    page = paging.page(items, by_registration)
    if wants_csv(request):
        rows = [
            {
                **item,
                "caio_officer_id": (item["caio"] or {}).get("officer_id"),
                "caio_name": (item["caio"] or {}).get("name"),
            }
            for item in page["items"]
        ]
        # A response the route returns itself does not get the headers its dependencies set (the page's Link).
        headers = {
            **paging.response.headers,
            "X-Log-Positions": f"registry={state.positions['registry']},risk={state.positions['risk']}",
        }
        return PlainTextResponse(periodic.as_csv(rows, INVENTORY_COLUMNS), media_type="text/csv", headers=headers)
    return Inventory.model_validate({**meta(state, as_of), "count": len(items), **page})


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
    state = state_for(request, as_of, registry_position, risk_position)
    items = reports.high_risk_register(state)
    return HighRiskRegister.model_validate(
        {**meta(state, as_of), "count": len(items), **paging.page(items, by_registration)}
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
    state = state_for(request, as_of, registry_position, risk_position)
    items = reports.pending(state, ministry=ministry, role=role)
    page = paging.page(items, lambda item: (item["project_id"], item["what"], item["role"], item["ministry"] or ""))
    return Pending.model_validate({**meta(state, as_of), "count": len(items), **page})


@router.get(
    "/ministries/{code}/periodic-report",
    tags=["reports"],
    operation_id="get_periodic_report",
    summary="The periodic report to the Digital Agency (JSON, CSV or printable HTML)",
    responses={200: {"content": {"text/csv": {}, "text/html": {}}}},
)
def get_periodic_report(
    code: str,
    request: Request,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(pattern=r"^20\d\dH[12]$")],
    as_of: AsOf = None,
) -> Any:
    report = periodic.periodic_report(state_for(request, as_of), code, period)
    if report["ministry_name"] is None:
        raise NotFound(f"No ministry with code {code}.")
    accept = request.headers.get("accept", "")
    if "text/html" in accept:
        return HTMLResponse(periodic.as_html(report))
    if "text/csv" in accept:
        return PlainTextResponse(periodic.as_csv(report["systems"], periodic.CSV_COLUMNS), media_type="text/csv")
    return report


@router.get(
    "/projects/{project_id}/public-record",
    tags=["reports"],
    operation_id="get_public_record",
    summary="Tier-1 summary and tier-2 detail record of a project",
)
def get_public_record(
    project_id: UUID, request: Request, principal: CurrentPrincipal, as_of: AsOf = None
) -> dict[str, Any]:
    record = periodic.public_record(state_for(request, as_of), str(project_id))
    if record is None:
        raise NotFound(f"No project {project_id} in the reporting read models.")
    return record


@router.get(
    "/audit/projects/{project_id}/timeline",
    response_model=Timeline,
    tags=["audit"],
    operation_id="get_project_timeline",
    summary="Every event about the project from both logs, in causal order",
)
def get_timeline(project_id: UUID, request: Request, principal: CurrentPrincipal, as_of: AsOf = None) -> Timeline:
    events = store(request).timeline(project_id, as_of)
    if not events:
        raise NotFound(f"No events about project {project_id}.")
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
    state = (
        store(request).replay(as_of, registry_position, risk_position)
        if (as_of or registry_position is not None or risk_position is not None)
        else store(request).replay()
    )
    project = reports.project_state(state, str(project_id))
    if project is None:
        raise NotFound(f"Project {project_id} did not exist at that moment.")
    return ProjectState.model_validate({**meta(state, as_of), "project": project})


@router.get(
    "/audit/export",
    tags=["audit"],
    operation_id="export_audit_log",
    summary="NDJSON of every log, then a signed checkpoint per log",
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export(request: Request, principal: CurrentPrincipal) -> StreamingResponse:
    authorize(request, principal)
    lines = (line + "\n" for line in store(request).export_lines())
    return StreamingResponse(
        lines,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="aigov-audit-export.ndjson"'},
    )


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


class PeriodicCheckpoints:
    """Takes a checkpoint of each log every ``interval`` seconds."""

    def __init__(self, reporting: ReportingStore, interval: float):
        self.reporting, self.interval = reporting, interval
        self.lock_name = "checkpoints"

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            for service in UPSTREAMS:
                try:
                    self.reporting.take_checkpoint(service)
                except Exception:  # noqa: BLE001 - a failed checkpoint is retried next period
                    logging.getLogger("aigov.reporting").exception("checkpoint of %s failed", service)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The reporting service; it follows the registry and risk logs."""
    settings = settings or Settings()

    def build(app: FastAPI) -> FollowerThreads:
        app.state.store = ReportingStore(settings)
        app.state.applications = [app.state.store]
        app.state.projection = ProjectionFollower(
            app.state.store, settings.follower_batch_size, settings.follower_poll_interval
        )
        workers: list[Any] = [app.state.projection]
        if settings.checkpoint_interval > 0:
            workers.append(PeriodicCheckpoints(app.state.store, settings.checkpoint_interval))
        return FollowerThreads(workers, settings)

    app = create_service_app(
        service="reporting",
        title="aigov reporting",
        description=(
            "Inventories, the high-risk register, pending work, periodic reports, public records, "
            "audit timelines, replay as of any moment, and verifiable exports."
        ),
        settings=settings,
        build=build,
    )
    app.include_router(router)
    app.state.openapi_examples = EXAMPLES
    return app
