"""The risk service assembled: its application, the routes, and the follower of the registry log.

The one place that knows how the risk service is put together; ``aigov serve risk`` and the tests build it
here. It reads the registry only through the registry's published contract and log.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.registry.contract import REGISTRY
from services.risk.api import risk_app, router
from services.risk.application import RiskApplication
from services.risk.examples import EXAMPLES
from services.risk.followers import RegistryPolicy
from shared.follower import Follower, FollowerThreads
from shared.logreader import upstream_log
from shared.settings import Settings
from shared.transparency.web import install_publisher, transparency_examples, transparency_router
from shared.web import ServiceDescription, log_router


def build_registry_follower(settings: Settings, risk: RiskApplication) -> Follower:
    """The follower that turns registry facts into risk facts (evaluations due, staleness, designations)."""
    upstream = upstream_log(settings, REGISTRY)
    return Follower.configured(settings, upstream, risk.recorder, RegistryPolicy(risk))


def build(app: FastAPI, settings: Settings) -> FollowerThreads:
    app.state.risk = RiskApplication(settings.database_url)
    app.state.applications = [app.state.risk]
    app.state.designated_officer = app.state.risk.designated_caio  # followed from the registry, as of now
    app.state.risk.publish_shipped_rulesets()
    app.state.registry_follower = build_registry_follower(settings, app.state.risk)
    publisher = install_publisher(app, settings, app.state.risk)
    return FollowerThreads([app.state.registry_follower, publisher], settings)


RISK_SERVICE = ServiceDescription(
    service="risk",
    title="aigov risk",
    description=(
        "The guideline's risk evaluation, mitigation measures, Advisory Board submissions, the Board's advice and "
        "the CAIO's decision."
    ),
    routers=[router, log_router(risk_app), transparency_router(lambda request: request.app.state.publisher)],
    examples=EXAMPLES | transparency_examples("risk"),
    build=build,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The risk service; it follows the registry log."""
    return RISK_SERVICE.app(settings)
