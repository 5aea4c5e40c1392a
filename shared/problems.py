"""RFC 9457 problem details: every error aigov returns, and the exceptions that produce them."""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.persistence import IntegrityError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "urn:aigov:problem:"
logger = logging.getLogger("aigov.problems")


class Problem(Exception):
    """An error with an HTTP status and a stable problem type; raise it anywhere below the router."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": PROBLEM_BASE + self.slug, "title": self.title, "status": self.status, "detail": self.detail}
        if instance:
            body["instance"] = instance
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Not allowed for this identity"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Resource not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict with the current state"


class PreconditionFailed(Problem):
    status, slug, title = 412, "precondition-failed", "The resource has changed (stale If-Match)"


class PreconditionRequired(Problem):
    status, slug, title = 428, "precondition-required", "If-Match header required"


class Unprocessable(Problem):
    status, slug, title = 422, "validation-error", "The request is not valid"


class ServiceUnavailable(Problem):
    status, slug, title = 503, "storage-unavailable", "Storage temporarily unavailable"


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    instance = str(request.url.path) if request is not None else None
    return JSONResponse(problem.body(instance), status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE, headers=problem.headers)


def field_path(location: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "models", 0, "provider")`` → ``body.models[0].provider``: the field at fault."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [{"field": field_path(error.get("loc", ())), "message": error.get("msg", ""), "type": error.get("type", "")} for error in exc.errors()]


_STATUS_PROBLEMS: dict[int, type[Problem]] = {401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 412: PreconditionFailed, 428: PreconditionRequired, 422: Unprocessable}


def install_problem_handlers(app: FastAPI) -> None:
    """Every failure path of the service ends in problem+json, never a bare 500 page."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        fields = ", ".join(error["field"] for error in errors)
        return problem_response(Unprocessable(f"Invalid request: {fields}", errors=errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        problem_class = _STATUS_PROBLEMS.get(exc.status_code)
        if problem_class is None:
            problem = Problem(str(exc.detail))
            problem.status, problem.slug, problem.title = exc.status_code, f"http-{exc.status_code}", str(exc.detail)
        else:
            problem = problem_class(str(exc.detail))
        problem.headers = dict(exc.headers or {})
        return problem_response(problem, request)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        return problem_response(Conflict("A concurrent change was recorded first; reload the resource and retry."), request)

    @app.exception_handler(OperationalError)
    async def _storage(request: Request, exc: OperationalError) -> JSONResponse:
        logger.warning("storage unavailable: %s", exc)
        return problem_response(ServiceUnavailable("The event store cannot be reached; retry shortly.", headers={"Retry-After": "2"}), request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error")
        problem = Problem("An unexpected error occurred; it has been logged with the request's correlation id.")
        problem.status, problem.slug, problem.title = 500, "internal-error", "Internal error"
        return problem_response(problem, request)
