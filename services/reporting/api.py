"""Reporting HTTP routes (port 8003): read models built only from the registry and risk logs."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request

from services.registry.application import RegistryApplication
from services.registry.domain import Stage
from services.reporting.followers import on_registry_event, on_risk_event
from services.reporting.readmodel import ReportingStore
from services.reporting.schemas import Inventory
from services.risk.application import RiskApplication
from shared.auth import CurrentPrincipal
from shared.follower import Follower, FollowerThreads
from shared.settings import Settings
from shared.web import create_service_app

router = APIRouter(prefix="/v1")


def store(request: Request) -> ReportingStore:
    return request.app.state.store


@router.get("/inventory", response_model=Inventory, tags=["reports"], operation_id="get_inventory", summary="Every generative-AI project, with stage and risk status")
def get_inventory(request: Request, principal: CurrentPrincipal, ministry: str | None = None, stage: Stage | None = None, risk: str | None = None) -> Inventory:
    reporting = store(request)
    positions = reporting.positions()
    items = reporting.inventory(ministry=ministry, stage=stage.value if stage else None, risk=risk)
    return Inventory.model_validate({"positions": positions, "count": len(items), "items": items})


def build_followers(settings: Settings, reporting: ReportingStore) -> list[Follower]:
    """One follower per upstream log, each tracking its own position in reporting's tracking table."""
    options = {"batch_size": settings.follower_batch_size, "poll_interval": settings.follower_poll_interval}
    return [
        Follower(RegistryApplication(settings.upstream_url("registry")), reporting.tracking, on_registry_event, **options),
        Follower(RiskApplication(settings.upstream_url("risk")), reporting.tracking, on_risk_event, **options),
    ]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The reporting service; it follows the registry and risk logs."""
    settings = settings or Settings()

    def build(app: FastAPI) -> FollowerThreads:
        app.state.store = ReportingStore(settings.database_url)
        app.state.followers_list = build_followers(settings, app.state.store)
        return FollowerThreads(app.state.followers_list)

    app = create_service_app(
        title="aigov reporting",
        description="Inventories, the high-risk register, audit timelines and replay, built only from the registry and risk logs.",
        settings=settings,
        build=build,
    )
    app.include_router(router)
    return app
