"""What every aigov web service shares: correlation ids, problem details, health, and its log read-only."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response

from shared.auth import CurrentPrincipal
from shared.eventlog import AuditedApplication
from shared.follower import FollowerThreads
from shared.gatekeeper import install_gatekeeper, install_position_header
from shared.idempotency import install_idempotency
from shared.meta import correlation_id_var
from shared.observability import follower_gauges, install_metrics, install_readiness, pool_gauge
from shared.openapi import install_problem_documentation
from shared.pagination import PageRequest, decode_cursor, invalid_cursor
from shared.policy import enforce_policy, require_complete_policy
from shared.positions import MAX_POSITION
from shared.problems import Problem, install_problem_handlers
from shared.schemas import Health, LogPage, VerificationOut
from shared.settings import Settings

REQUEST_ID_HEADER = "X-Request-ID"
request_log = logging.getLogger("aigov.requests")
MAX_REQUEST_ID_LENGTH = 128


def install_correlation_ids(app: FastAPI) -> None:
    """Take the caller's ``X-Request-ID`` (or make one), expose it to commands, and echo it back."""

    @app.middleware("http")
    async def _correlate(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        given = request.headers.get(REQUEST_ID_HEADER, "").strip()
        correlation_id = given[:MAX_REQUEST_ID_LENGTH] if given else str(uuid.uuid4())
        token = correlation_id_var.set(correlation_id)
        started = time.perf_counter()
        try:
            response = await call_next(request)
            request_log.info(
                "%s %s -> %s in %.1f ms",
                request.method,
                request.url.path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
        finally:
            correlation_id_var.reset(token)
        response.headers[REQUEST_ID_HEADER] = correlation_id
        return response


def log_router(get_app: Callable[[Request], AuditedApplication]) -> APIRouter:
    """``GET /v1/log`` and ``GET /v1/log/verify``: the service's own log, read-only, for followers and auditors."""
    router = APIRouter(prefix="/v1/log", tags=["log"])

    @router.get("", response_model=LogPage, operation_id="read_log", summary="Read this service's event log")
    def read_log(
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
        after: Annotated[
            int,
            Query(ge=0, le=MAX_POSITION, description="Return events after this position (followers page by position)."),
        ] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        cursor: Annotated[
            str | None, Query(max_length=1024, description="`next_cursor` of the previous page; overrides `after`.")
        ] = None,
    ) -> LogPage:
        app = get_app(request)
        after = log_position(cursor) if cursor else after
        paging = PageRequest(limit=limit, after=(after,), request=request, response=response)
        page = paging.fetched(app.read_log(after=after, limit=limit + 1), lambda entry: (entry.position,))
        shown = page["items"]
        next_after = shown[-1].position if page["next_cursor"] else None
        items = [entry.as_dict() for entry in shown]
        return LogPage.model_validate(
            {
                **page,
                "service": app.name,
                "after": after,
                "head_position": app.head_position(),
                "items": items,
                "next_after": next_after,
            }
        )

    @router.get(
        "/verify", response_model=VerificationOut, operation_id="verify_log", summary="Verify this service's hash chain"
    )
    def verify(request: Request, principal: CurrentPrincipal) -> VerificationOut:
        app = get_app(request)
        return VerificationOut.model_validate({"service": app.name, **app.verify_log().as_dict()})

    return router


def log_position(cursor: str) -> int:
    """The position a log cursor names."""
    key = decode_cursor(cursor)
    if len(key) != 1 or not isinstance(key[0], int) or not 0 <= key[0] <= MAX_POSITION:
        raise invalid_cursor()
    return key[0]


def create_service_app(
    *,
    service: str,
    title: str,
    description: str,
    settings: Settings,
    build: Callable[[FastAPI], FollowerThreads | None],
) -> FastAPI:
    """A FastAPI app whose ``build`` hook constructs the service's applications and followers at startup.

    ``build`` sets ``app.state.applications`` (whose engines readiness and metrics watch) and returns the
    follower threads."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        require_complete_policy(app)
        threads = build(app)
        for application in app.state.applications:
            if isinstance(application, AuditedApplication):
                application.on_recorded = lambda types: [metrics.events.labels(service, name).inc() for name in types]
                application.on_batch = metrics.group_commits.labels(service).observe
                if settings.group_commit:
                    application.enable_group_commit()
        if threads is not None and settings.run_followers:
            threads.start()
        app.state.followers = threads
        try:
            yield
        finally:
            if threads is not None:
                threads.stop()

    app = FastAPI(
        title=title, description=description, version="1.0.0", lifespan=lifespan, dependencies=[Depends(enforce_policy)]
    )
    app.state.settings = settings
    app.state.applications = []
    install_problem_handlers(app)
    install_problem_documentation(app)
    metrics = install_metrics(app, service)
    install_position_header(app)
    install_idempotency(app, service, lambda: engines()[0])
    install_gatekeeper(app, settings)
    install_correlation_ids(app)

    def engines() -> list[Any]:
        return [
            engine
            for engine in (_engine_of(application) for application in app.state.applications)
            if engine is not None
        ]

    def followers() -> list[Any]:
        threads = getattr(app.state, "followers", None)
        return [follower for follower in (threads.followers if threads else []) if hasattr(follower, "lag_report")]

    metrics.collectors += [follower_gauges(followers), pool_gauge(engines)]
    install_readiness(app, engines, followers, settings.ready_max_lag)

    @app.get("/healthz", tags=["operations"], operation_id="healthz", summary="Process is alive")
    def healthz() -> Health:
        return Health(status="ok")

    return app


@dataclass(frozen=True)
class ServiceDescription:
    """What one service is made of, declared once in its assembly module (``services/<service>/service.py``):
    its name and documentation, its routers and OpenAPI examples, and how it builds its applications,
    followers and workers at start-up."""

    service: str
    title: str
    description: str
    routers: Sequence[APIRouter]
    examples: Mapping[str, Any]
    build: Callable[[FastAPI, Settings], FollowerThreads | None]

    def app(self, settings: Settings | None = None) -> FastAPI:
        """The service's web app (``build`` runs when it starts)."""
        configured = settings or Settings()
        app = create_service_app(
            service=self.service,
            title=self.title,
            description=self.description,
            settings=configured,
            build=lambda app: self.build(app, configured),
        )
        for router in self.routers:
            app.include_router(router)
        app.state.openapi_examples = self.examples
        return app


def _engine_of(application: Any) -> Any:
    recorder = getattr(application, "recorder", None) or getattr(application, "tracking", None)
    return getattr(getattr(recorder, "datastore", None), "engine", None)


__all__ = ["Problem", "ServiceDescription", "create_service_app", "log_router"]
