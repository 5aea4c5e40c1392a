"""Risk HTTP routes (port 8002)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, FastAPI, Request

from services.registry.application import RegistryApplication
from services.risk.application import RiskApplication
from services.risk.domain import RiskStatus
from services.risk.followers import RegistryPolicy
from services.risk.schemas import ProjectRiskOut
from shared.auth import CurrentPrincipal
from shared.follower import Follower, FollowerThreads
from shared.settings import Settings
from shared.web import create_service_app, log_router

router = APIRouter(prefix="/v1")


def risk_app(request: Request) -> RiskApplication:
    return request.app.state.risk


@router.get("/projects/{project_id}/risk", response_model=ProjectRiskOut, tags=["risk"], operation_id="get_project_risk", summary="The project's risk-evaluation state")
def get_project_risk(project_id: UUID, request: Request, principal: CurrentPrincipal) -> ProjectRiskOut:
    risk = risk_app(request).project_risk(project_id)
    follower: Follower = request.app.state.registry_follower
    return ProjectRiskOut(
        project_id=str(project_id),
        ministry=risk.ministry,
        status=risk.status,
        evaluation_due=risk.status in (RiskStatus.due, RiskStatus.stale),
        assessment_ids=risk.assessment_ids,
        pending=risk.pending(),
        stale_causes=risk.stale_causes,
        version=risk.version,
        registry_position=follower.position(),
    )


def build_registry_follower(settings: Settings, risk: RiskApplication) -> Follower:
    upstream = RegistryApplication(settings.upstream_url("registry"))
    return Follower(upstream, risk.recorder, RegistryPolicy(risk), batch_size=settings.follower_batch_size, poll_interval=settings.follower_poll_interval)  # type: ignore[arg-type]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The risk service; it follows the registry log."""
    settings = settings or Settings()

    def build(app: FastAPI) -> FollowerThreads:
        app.state.risk = RiskApplication(settings.database_url)
        app.state.registry_follower = build_registry_follower(settings, app.state.risk)
        return FollowerThreads([app.state.registry_follower])

    app = create_service_app(
        title="aigov risk",
        description="The guideline's risk evaluation, mitigation measures, Advisory Board submissions and decisions.",
        settings=settings,
        build=build,
    )
    app.include_router(router)
    app.include_router(log_router(risk_app))
    return app
