"""The registry service assembled: its application, the routes, and the follower of the risk log.

The one place that knows how the registry is put together; ``aigov serve registry`` and the tests build it
here. It reads the risk service only through the risk service's published contract and log.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.registry.api import registry, router
from services.registry.application import RegistryApplication
from services.registry.examples import EXAMPLES
from services.registry.followers import RiskPolicy
from services.risk.contract import RISK
from shared.follower import Follower, FollowerThreads
from shared.logreader import upstream_log
from shared.settings import Settings
from shared.transparency.web import install_publisher, transparency_examples, transparency_router
from shared.web import ServiceDescription, log_router


def build_risk_follower(settings: Settings, registry_app: RegistryApplication) -> Follower:
    """The registry follows the risk log to keep the gate before operation."""
    upstream = upstream_log(settings, RISK)
    tracking = registry_app.factory.tracking_recorder()
    return Follower.configured(settings, upstream, tracking, RiskPolicy(registry_app))


def build(app: FastAPI, settings: Settings) -> FollowerThreads:
    app.state.registry = RegistryApplication(settings.database_url)
    app.state.applications = [app.state.registry]
    app.state.designated_officer = app.state.registry.designated_officer
    app.state.registry.publish_shipped_check_sheets()
    app.state.risk_follower = build_risk_follower(settings, app.state.registry)
    publisher = install_publisher(app, settings, app.state.registry)
    return FollowerThreads([app.state.risk_follower, publisher], settings)


REGISTRY_SERVICE = ServiceDescription(
    service="registry",
    title="aigov registry",
    description=(
        "Ministries, Chief AI Officer designations, the AI project registry and its lifecycle, procurement records."
    ),
    routers=[router, log_router(registry), transparency_router(lambda request: request.app.state.publisher)],
    examples=EXAMPLES | transparency_examples("registry"),
    build=build,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The registry service; it follows the risk log for the gate before operation."""
    return REGISTRY_SERVICE.app(settings)
