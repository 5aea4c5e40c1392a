"""RFC 9457 problem details: every error aigov returns, and the exceptions that produce them."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
import sqlalchemy.exc
from eventsourcing.persistence import DatabaseError, IntegrityError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared import errors
from shared.i18n import ENGLISH, N_, Msg, negotiate, translate

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "urn:aigov:problem:"
logger = logging.getLogger("aigov.problems")


class Problem(Exception):
    """An error with an HTTP status and a stable problem type; raise it anywhere below the router."""

    status = 400
    slug = "bad-request"
    title = N_("Bad request")

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None, language: str = ENGLISH) -> dict[str, Any]:
        """The problem's members; ``title`` and ``detail`` in ``language`` (field names inside stay as they are)."""
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": translate(self.title, language),
            "status": self.status,
            "detail": translate(self.detail, language),
        }
        if instance:
            body["instance"] = instance
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", N_("Authentication required")


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", N_("Not allowed for this identity")


class NotFound(Problem):
    status, slug, title = 404, "not-found", N_("Resource not found")


class Conflict(Problem):
    status, slug, title = 409, "conflict", N_("Conflict with the current state")


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", N_("Request body too large")


class InvalidIdempotencyKey(Problem):
    status, slug, title = 400, "invalid-idempotency-key", N_("Invalid Idempotency-Key")


class IdempotencyKeyInFlight(Conflict):
    slug = "idempotency-key-in-flight"


class PreconditionFailed(Problem):
    status, slug, title = 412, "precondition-failed", N_("The resource has changed (stale If-Match)")


class PreconditionRequired(Problem):
    status, slug, title = 428, "precondition-required", N_("If-Match header required")


class Unprocessable(Problem):
    status, slug, title = 422, "validation-error", N_("The request is not valid")


class ServiceUnavailable(Problem):
    status, slug, title = 503, "storage-unavailable", N_("Storage temporarily unavailable")


#: Why the database refused, as the ``reason`` member of a storage-unavailable problem: (detail, Retry-After seconds).
STORAGE_REASONS: dict[str, tuple[str, str]] = {
    "unreachable": ("The event store cannot be reached; retry shortly.", "2"),
    "busy": (
        "The event store is busy with other writers beyond the wait limit; nothing was recorded; retry shortly.",
        "2",
    ),
    "read-only": (
        (
            "The event store is read-only (e.g. a standby or a read-only file system) and refuses "
            "writes; nothing was recorded. Reads still work; retry later."
        ),
        "10",
    ),
    "full": (
        (
            "The event store is out of disk space and refuses writes; nothing was recorded. Reads "
            "still work; retry once space is freed."
        ),
        "10",
    ),
    "io-error": ("The event store reported an I/O error; nothing was recorded; retry later.", "10"),
}
_SQLITE_REASONS = {
    sqlite3.SQLITE_FULL: "full",
    sqlite3.SQLITE_READONLY: "read-only",
    sqlite3.SQLITE_BUSY: "busy",
    sqlite3.SQLITE_LOCKED: "busy",
    sqlite3.SQLITE_IOERR: "io-error",
    sqlite3.SQLITE_CANTOPEN: "unreachable",
}


def storage_reason(exc: BaseException) -> str | None:
    """The key of ``STORAGE_REASONS`` when ``exc`` (or its cause) is the database refusing or failing to store,
    a condition of the storage (503) rather than a bug (500); ``None`` otherwise."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, sqlite3.Error):
            code = getattr(error, "sqlite_errorcode", None)
            reason = _SQLITE_REASONS.get(code & 0xFF) if code is not None else None
            return reason or ("unreachable" if isinstance(error, sqlite3.OperationalError) else None)
        if isinstance(error, psycopg.Error):
            state = error.sqlstate or ""
            if state == "25006":  # read_only_sql_transaction: a standby, or default_transaction_read_only
                return "read-only"
            if state == "53100":  # disk_full
                return "full"
            if state.startswith(("08", "53", "57P")) or isinstance(error, psycopg.OperationalError):
                return "unreachable"
            return None
        wrapped = (
            error.args[0] if error.args and isinstance(error.args[0], BaseException) else None
        )  # eventsourcing's ``Error(e)``
        error = getattr(error, "orig", None) or error.__cause__ or wrapped or error.__context__
    return "unreachable" if isinstance(exc, (OperationalError, sqlalchemy.exc.OperationalError)) else None


def storage_unavailable(reason: str) -> ServiceUnavailable:
    detail, retry_after = STORAGE_REASONS[reason]
    return ServiceUnavailable(detail, headers={"Retry-After": retry_after}, reason=reason)


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    """The problem as JSON, in the language ``Accept-Language`` prefers (English by default)."""
    instance = str(request.url.path) if request is not None else None
    language = negotiate(request.headers.get("accept-language")) if request is not None else ENGLISH
    return JSONResponse(
        problem.body(instance, language),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={**problem.headers, "Content-Language": language},
    )


def field_path(location: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "models", 0, "provider")`` → ``body.models[0].provider``: the field at fault."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"field": field_path(error.get("loc", ())), "message": error.get("msg", ""), "type": error.get("type", "")}
        for error in exc.errors()
    ]


#: Details the framework words itself (an unknown route, a method the route does not take), marked so the
#: catalog translates them like every other detail.
FRAMEWORK_DETAILS = (N_("Not Found"), N_("Method Not Allowed"))

_STATUS_PROBLEMS: dict[int, type[Problem]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    428: PreconditionRequired,
    422: Unprocessable,
}


def problem_for(refused: errors.Refused) -> Problem:
    """The one translation of the domain's refusals into problems (commands' inputs come from request bodies)."""
    if isinstance(refused, errors.NotFound):
        return NotFound(refused.detail, **refused.extra)
    if isinstance(refused, errors.NotAuthorized):
        return Forbidden(refused.detail, **refused.extra)
    if isinstance(refused, errors.StaleVersion):
        return PreconditionFailed(refused.detail, **refused.extra)
    if isinstance(refused, errors.Incomplete):
        listed = [{"field": part, "message": "missing", "type": "missing"} for part in refused.missing]
        return Unprocessable(refused.detail, errors=listed, missing=refused.missing, **refused.extra)
    if isinstance(refused, errors.InvalidInputs):
        listed = [{"field": item.field, "message": item.message, "type": item.kind} for item in refused.problems]
        return Unprocessable(refused.detail, errors=listed, **refused.extra)
    return Conflict(refused.detail, **refused.extra)


def install_problem_handlers(app: FastAPI) -> None:
    """Every failure path of the service ends in problem+json, never a bare 500 page."""

    @app.exception_handler(errors.Refused)
    async def _refused(request: Request, exc: errors.Refused) -> JSONResponse:
        return problem_response(problem_for(exc), request)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        fields = ", ".join(error["field"] for error in errors)
        return problem_response(Unprocessable(Msg("Invalid request: {fields}", fields=fields), errors=errors), request)

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
        return problem_response(
            Conflict(N_("A concurrent change was recorded first; reload the resource and retry.")), request
        )

    @app.exception_handler(DatabaseError)
    @app.exception_handler(sqlalchemy.exc.DBAPIError)
    async def _storage(request: Request, exc: Exception) -> JSONResponse:
        """Storage conditions (unreachable, locked, read-only, full) are 503 with Retry-After; other database
        errors (e.g. a failed SQL statement) are bugs, 500. ``OperationalError`` is always a storage condition."""
        reason = storage_reason(exc)
        if reason is None:
            return await _unexpected(request, exc)
        logger.warning("storage unavailable (%s): %s", reason, exc)
        return problem_response(storage_unavailable(reason), request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error")
        problem = Problem(N_("An unexpected error occurred; it has been logged with the request's correlation id."))
        problem.status, problem.slug, problem.title = 500, "internal-error", N_("Internal error")
        return problem_response(problem, request)
