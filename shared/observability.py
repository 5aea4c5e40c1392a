"""Operations: readiness, Prometheus metrics and structured JSON logs carrying the correlation id."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from alembic.script import ScriptDirectory
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text

from shared.meta import correlation_id_var
from shared.migrate import alembic_config
from shared.problems import PROBLEM_MEDIA_TYPE
from shared.schemas import Readiness

EVENTS_APPENDED = "aigov_events_appended_total"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the correlation id of the request or event being handled."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": correlation_id_var.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def json_log_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config`` dict for uvicorn and aigov: everything as JSON lines on stderr."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    loggers = {
        name: {"handlers": ["default"], "level": level, "propagate": False}
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aigov")
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": handler},
        "loggers": loggers,
        "root": {"handlers": ["default"], "level": level},
    }


class ServiceMetrics:
    """The metrics of one service instance, in their own registry (several apps can share a process in tests)."""

    def __init__(self, service: str):
        self.service = service
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "aigov_http_request_duration_seconds",
            "HTTP request latency",
            ["service", "route", "method", "status"],
            registry=self.registry,
        )
        self.events = Counter(
            EVENTS_APPENDED,
            "Events appended to this service's log, by type",
            ["service", "type"],
            registry=self.registry,
        )
        self.group_commits = Histogram(
            "aigov_group_commit_saves",
            "Saves of concurrent commands recorded together in one transaction (group commit)",
            ["service"],
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )
        self.collectors: list[Callable[[], Iterable[GaugeMetricFamily]]] = []
        self.registry.register(self)  # type: ignore[arg-type]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        for collector in self.collectors:
            yield from collector()

    def describe(self) -> list[Any]:
        return []


def install_metrics(app: FastAPI, service: str) -> ServiceMetrics:
    metrics = ServiceMetrics(service)
    app.state.metrics = metrics

    @app.middleware("http")
    async def _measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.requests.labels(service, route, request.method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response

    @app.get(
        "/metrics", tags=["operations"], operation_id="metrics", summary="Prometheus metrics", include_in_schema=False
    )
    def _metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return metrics


def follower_gauges(followers: Callable[[], list[Any]]) -> Callable[[], Iterable[GaugeMetricFamily]]:
    """Position and lag (events and seconds) of each upstream log a service follows."""

    def collect() -> Iterable[GaugeMetricFamily]:
        position = GaugeMetricFamily(
            "aigov_follower_position", "Last upstream position whose effects are committed", labels=["upstream"]
        )
        lag_events = GaugeMetricFamily(
            "aigov_follower_lag_events", "Upstream events not yet processed", labels=["upstream"]
        )
        lag_seconds = GaugeMetricFamily(
            "aigov_follower_lag_seconds", "Age of the oldest unprocessed upstream event", labels=["upstream"]
        )
        for follower in followers():
            for upstream, (at, head, oldest) in follower.lag_report().items():
                position.add_metric([upstream], at)
                lag_events.add_metric([upstream], max(0, head - at))
                lag_seconds.add_metric([upstream], max(0.0, time.time() - oldest) if oldest else 0.0)
        yield from (position, lag_events, lag_seconds)

    return collect


def pool_gauge(engines: Callable[[], list[Any]]) -> Callable[[], Iterable[GaugeMetricFamily]]:
    def collect() -> Iterable[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "aigov_db_pool_connections_in_use", "Database connections checked out of the pool", labels=["pool"]
        )
        for index, engine in enumerate(engines()):
            checked_out = getattr(engine.pool, "checkedout", lambda: 0)()
            gauge.add_metric([str(index)], checked_out)
        yield gauge

    return collect


def migration_head() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""


def install_readiness(
    app: FastAPI, engines: Callable[[], list[Any]], followers: Callable[[], list[Any]], max_lag: int
) -> None:
    """``/readyz``: the database answers, its schema is at the migrations' head, followers are within lag."""
    head = migration_head()

    @app.get(
        "/readyz",
        tags=["operations"],
        operation_id="readyz",
        summary="Ready to serve: database, schema and followers",
        responses={200: {"model": Readiness}, 503: {"content": {PROBLEM_MEDIA_TYPE: {}}}},
    )
    def readyz() -> JSONResponse:
        checks: dict[str, Any] = {}
        try:
            for engine in engines()[:1]:
                with engine.connect() as connection:
                    version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
            checks["database"] = "ok"
            checks["schema"] = "ok" if version == head else f"at {version}, code expects {head}"
        except Exception as error:  # noqa: BLE001 - any failure means not ready
            checks["database"] = f"unreachable: {type(error).__name__}"
        if checks.get("database") == "ok":
            for follower in followers():
                for upstream, (at, head_position, _) in follower.lag_report().items():
                    checks[f"follower:{upstream}"] = (
                        "ok" if head_position - at <= max_lag else f"lagging {head_position - at} events"
                    )
                    if getattr(follower, "halted", None):
                        checks[f"follower:{upstream}"] = follower.halted
            for check in getattr(app.state, "readiness_checks", []):  # e.g. the transparency log's consistency
                checks.update(check())
        ready = all(value == "ok" for value in checks.values())
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        if not ready:
            body.update(
                type="urn:aigov:problem:not-ready",
                title="Not ready",
                status=503,
                detail="; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok"),
            )
        return JSONResponse(
            body,
            status_code=200 if ready else 503,
            media_type="application/json" if ready else PROBLEM_MEDIA_TYPE,
            headers={} if ready else {"Retry-After": "5"},
        )
