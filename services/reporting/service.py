"""The reporting service assembled: its store, the routes, the projection follower and periodic checkpoints.

The one place that knows how reporting is put together; ``aigov serve reporting`` and the tests build it here.
It reads the registry and risk logs only through their published contracts.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.reporting import periodic_api, public_usage_rules
from services.reporting.api import router
from services.reporting.examples import EXAMPLES
from services.reporting.followers import PeriodicCheckpoints, ProjectionFollower
from services.reporting.public_api import router as public_router
from services.reporting.readmodel import ReportingStore
from shared.follower import FollowerThreads
from shared.settings import Settings
from shared.web import ServiceDescription


def build(app: FastAPI, settings: Settings) -> FollowerThreads:
    app.state.store = ReportingStore(settings)
    app.state.applications = [app.state.store]
    app.state.projection = ProjectionFollower(
        app.state.store, settings.follower_batch_size, settings.follower_poll_interval
    )
    workers: list[Any] = [app.state.projection]
    if settings.checkpoint_interval > 0:
        workers.append(PeriodicCheckpoints(app.state.store, settings.checkpoint_interval))
    return FollowerThreads(workers, settings)


REPORTING_SERVICE = ServiceDescription(
    service="reporting",
    title="aigov reporting",
    description=(
        "Inventories, the high-risk register, pending work, periodic reports, public records, audit timelines, "
        "replay as of any moment, and verifiable exports."
    ),
    routers=[router, periodic_api.router, public_usage_rules.router, public_router],
    examples=EXAMPLES,
    build=build,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The reporting service; it follows the registry and risk logs."""
    return REPORTING_SERVICE.app(settings)
