"""The problem responses of every operation, written into each service's OpenAPI document.

Why: clients generated from the document must know every status an operation can answer and that errors
come as ``application/problem+json`` (RFC 9457), not FastAPI's default ``application/json`` validation body.
The statuses follow from what the shared machinery does for every route (authentication and the policy
table, path lookups, validation, storage outages) and, for writes, from optimistic concurrency.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from shared.openapi_examples import add_operation_examples, operations
from shared.policy import PUBLIC, rule_for
from shared.positions import AFTER_HEADER, POSITION_HEADER
from shared.problems import (
    PROBLEM_MEDIA_TYPE,
    Conflict,
    Forbidden,
    InvalidIdempotencyKey,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    Unauthorized,
    Unprocessable,
    storage_unavailable,
)

PROBLEM_SCHEMA_NAME = "Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `errors` names each field at fault in invalid input.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:aigov:problem:validation"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": ["string", "null"]},
        "reason": {
            "type": "string",
            "description": "Why, where a problem type has several causes (e.g. storage-unavailable: read-only).",
        },
        "missing": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Every step or part still missing (409 at the gate to operation, 422 when incomplete).",
        },
        "allowed": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The lifecycle steps allowed from the current stage (409 of a refused transition).",
        },
        "current_stage": {"type": "string", "description": "The project's stage when a transition was refused."},
        "current_version": {
            "type": "integer",
            "description": "The resource's current version when If-Match named another (412).",
        },
        "current_classification": {
            "type": ["object", "null"],
            "description": "The classification in force when a command rested on a superseded one (409).",
            "required": ["assessment_id", "classification"],
            "properties": {"assessment_id": {"type": "string"}, "classification": {"type": "string"}},
        },
        "duty": {"type": "string", "description": "The separation-of-duties rule a refused action would break (403)."},
        "submitted_hash": {
            "type": "string",
            "description": "The content hash a periodic-report submission recorded (409: no report at its positions).",
        },
        "computed_hash": {
            "type": "string",
            "description": "The content hash of the report at the submission's positions and time (409).",
        },
        "checks": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "`/readyz` (503): each check by name and what is wrong with it.",
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string", "examples": ["body.ministry"]},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}
DESCRIPTIONS = {
    400: "Malformed request (e.g. an unreadable cursor or If-Match).",
    401: "No, or no valid, bearer token.",
    403: "The identity may not perform this action here (role, ministry or designation).",
    404: "No such resource.",
    409: "Conflicts with the current state, or a concurrent change was recorded first.",
    412: "If-Match names a version that is no longer current.",
    413: "Request body too large.",
    422: "Invalid input: `errors` names each field at fault.",
    428: "This change needs If-Match.",
    503: (
        "Storage temporarily unavailable, or (`follower-behind`) this service has not yet processed the log "
        "positions required; retry after Retry-After seconds."
    ),
}
#: A typical body of each documented problem status, as shared.problems writes it (the document's examples).
PROBLEM_EXAMPLES: dict[int, dict[str, Any]] = {
    problem.status: problem.body()
    for problem in (
        InvalidIdempotencyKey("Idempotency-Key must be 1 to 255 visible ASCII characters."),
        Unauthorized(
            "No bearer token: send 'Authorization: Bearer <JWT>'; `aigov token` prints one for development.",
            reason="missing",
        ),
        Forbidden("A planner of MHLW cannot act for ministry MIC."),
        NotFound("No project with id 3f6c2a9e-8d41-4b7a-9c5e-2b7d4e1f0a93."),
        Conflict("A concurrent change was recorded first; reload the resource and retry."),
        PreconditionFailed(
            'The project is at version 5; If-Match names "4". Read it again and retry.', current_version=5
        ),
        PayloadTooLarge("The request body is larger than 1048576 bytes."),
        Unprocessable(
            "Invalid request: body.title",
            errors=[{"field": "body.title", "message": "Field required", "type": "missing"}],
        ),
        PreconditionRequired('Send If-Match with the ETag of the version you are changing, e.g. If-Match: "3".'),
        storage_unavailable("unreachable"),
    )
}
#: ``/readyz`` answers 503 with its checks as well as the problem members.
NOT_READY_EXAMPLE: dict[str, Any] = {
    "status": 503,
    "checks": {"database": "unreachable: OperationalError"},
    "type": "urn:aigov:problem:not-ready",
    "title": "Not ready",
    "detail": "database: unreachable: OperationalError",
}
IDEMPOTENCY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Retry safely: a retry with the same key and body returns the first response and records "
        "nothing more; the same key with another body is 422. Kept durably, per caller."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]{1,255}$"},
}
READ_STATUSES = (400, 401, 403, 404, 422, 503)
#: Public operations that take input (the transparency log's proofs): no token, but invalid input and storage.
PUBLIC_WITH_INPUT = {
    "get_log_checkpoint": (503,),
    "get_inclusion_proof": (404, 422, 503),
    "get_consistency_proof": (422, 503),
    # the public register: filters and cursors can be invalid; an unpublished project is 404
    "list_public_projects": (422, 503),
    "get_public_projects_csv": (422, 503),
    "get_public_projects_html": (422, 503),
    "get_public_project_html": (404, 422, 503),
    "get_public_project": (404, 422, 503),
    "get_public_project_version": (404, 422, 503),
    # the public register's usage rules of a ministry (issue 16, item 8)
    "get_public_usage_rules": (404, 422, 503),
}
WRITE_STATUSES = READ_STATUSES + (409, 412, 413, 428)
#: Reads that may also conflict: a submitted periodic report whose recorded hash no report at its positions has.
READ_CONFLICTS = {"get_submitted_periodic_report"}


def statuses_of(method: str, operation_id: str) -> tuple[int, ...]:
    if rule_for(operation_id) is PUBLIC:
        return (503,) if operation_id == "readyz" else PUBLIC_WITH_INPUT.get(operation_id, ())
    if method == "get":
        return READ_STATUSES + (409,) if operation_id in READ_CONFLICTS else READ_STATUSES
    return WRITE_STATUSES


def require_if_match(operation: dict[str, Any]) -> None:
    """Mark If-Match a required string: the route declares it optional only so that its absence is 428, not
    FastAPI's 422; the document says what a client must send, so generated clients type it ``str``, not ``None``."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"] == "If-Match":
            parameter["required"] = True
            parameter["schema"] = {
                "type": "string",
                "minLength": 1,
                "description": parameter["schema"].get("description", ""),
            }


def add_problem_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Document the problem responses of every operation of ``document``, in place."""
    document.setdefault("components", {}).setdefault("schemas", {})[PROBLEM_SCHEMA_NAME] = PROBLEM_SCHEMA
    reference = {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"}
    for method, _, operation in operations(document):
        if method == "post":
            operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
        require_if_match(operation)
        responses = operation.setdefault("responses", {})
        for status in statuses_of(method, operation["operationId"]):
            example = NOT_READY_EXAMPLE if operation["operationId"] == "readyz" else PROBLEM_EXAMPLES[status]
            responses[str(status)] = {
                "description": DESCRIPTIONS[status],
                "content": {PROBLEM_MEDIA_TYPE: {"schema": reference, "example": example}},
            }
    document["components"]["schemas"].pop("HTTPValidationError", None)
    document["components"]["schemas"].pop("ValidationError", None)
    return document


AFTER_PARAMETER: dict[str, Any] = {
    "name": AFTER_HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Log positions this request must observe, e.g. `registry=57,risk=112` (the `Aigov-Position` of earlier "
        "writes, on any service): the service answers once its followers processed them, waiting at most "
        "AIGOV_CONSISTENCY_WAIT_SECONDS, else 503 `follower-behind` with Retry-After."
    ),
    "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_-]*=[0-9]{1,19}(,[a-z][a-z0-9_-]*=[0-9]{1,19})*$"},
    "example": "registry=1",
}
POSITION_RESPONSE_HEADER: dict[str, Any] = {
    "description": (
        "The last position this write recorded in this service's log, e.g. `registry=57` (absent when it recorded "
        "no event, e.g. a dry run); send it as `Aigov-After` to any service to read this write there."
    ),
    "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_-]*=[0-9]{1,19}$"},
}


def add_consistency_headers(document: dict[str, Any]) -> dict[str, Any]:
    """``Aigov-After`` on every operation, ``Aigov-Position`` on every write's success responses, so that clients
    generated from the document carry both (shared.consistency)."""
    for method, _, operation in operations(document):
        if rule_for(operation["operationId"]) is PUBLIC:
            continue  # health, readiness and metrics answer at once
        operation.setdefault("parameters", []).append(AFTER_PARAMETER)
        if method == "get":
            continue
        for status, response in operation.get("responses", {}).items():
            if status.startswith("2"):
                response.setdefault("headers", {})[POSITION_HEADER] = POSITION_RESPONSE_HEADER
    return document


def install_problem_documentation(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the document with every problem response documented, and the examples of
    ``app.state.openapi_examples`` (operationId → ``OperationExamples``, set by the service's ``create_app``)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            examples = getattr(app.state, "openapi_examples", {})
            documented = add_consistency_headers(add_problem_responses(generate()))
            app.openapi_schema = add_operation_examples(documented, examples)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
