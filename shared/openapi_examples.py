"""Examples in the OpenAPI documents: a request and a success response for every operation.

Why: integrators (ministry systems, the Digital Agency's tooling) read the document before they call anything,
and generated clients and API consoles show the examples as the starting point of a request. Each service
keeps its examples in one table, ``services/<service>/examples.py``, keyed by operationId; ``create_app`` puts
it on ``app.state.openapi_examples`` and ``shared.openapi`` writes it into the document when the document is
generated. tests/test_openapi_examples.py checks that every operation has one and that each matches its schema.

The helpers below build the bodies every service shares (health, readiness, its log, a page of a list) so that
the services' tables stay short and agree with each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from shared.pagination import encode_cursor

JSON = "application/json"
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


@dataclass(frozen=True)
class OperationExamples:
    """The examples of one operation.

    ``request``: its JSON request body, when it takes one. ``response``: its JSON success body. ``texts``: its
    success body in each non-JSON media type the document lists for it (CSV, HTML, NDJSON), by media type."""

    request: Any | None = None
    response: Any | None = None
    texts: Mapping[str, str] = field(default_factory=dict)


def operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every operation of ``document`` as (method, path, operation)."""
    for path, path_item in document.get("paths", {}).items():
        for method, operation in path_item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def success_status(operation: Mapping[str, Any]) -> str | None:
    """The status of the operation's success response (its lowest documented 2xx), if it documents one."""
    successes = sorted(status for status in operation.get("responses", {}) if status.startswith("2"))
    return successes[0] if successes else None


def success_content(operation: Mapping[str, Any]) -> dict[str, Any]:
    """The media types of the operation's success response."""
    status = success_status(operation)
    return operation["responses"][status].get("content", {}) if status else {}


def request_content(operation: Mapping[str, Any]) -> dict[str, Any] | None:
    """The JSON media type of the operation's request body, if it takes one."""
    return operation.get("requestBody", {}).get("content", {}).get(JSON)


def add_operation_examples(document: dict[str, Any], examples: Mapping[str, OperationExamples]) -> dict[str, Any]:
    """Write each operation's examples into ``document``, in place; operations without examples stay as they are."""
    for _, _, operation in operations(document):
        given = examples.get(operation["operationId"])
        if given is None:
            continue
        body = request_content(operation)
        if body is not None and given.request is not None:
            body["example"] = given.request
        for media_type, content in success_content(operation).items():
            example = given.response if media_type == JSON else given.texts.get(media_type)
            if example is not None:
                content["example"] = example
    return document


# -- bodies every service shares ------------------------------------------------------------------------


def illustrative_hash(*parts: object) -> str:
    """A sha256 hex digest standing in for a real log hash or head hash: the right shape, stable across builds."""
    return hashlib.sha256(":".join(str(part) for part in parts).encode()).hexdigest()


def page(items: list[Any], next_cursor: str | None, next_url: str | None) -> dict[str, Any]:
    """One page of a cursor-paginated list: ``next_cursor`` and ``next`` are null on the last page."""
    return {"items": items, "next_cursor": next_cursor, "next": next_url}


#: Who recorded an event: (actor id, name, role, ministry acted for).
Actor = tuple[str, str, str, str | None]


def log_entry(
    service: str,
    position: int,
    topic: str,
    aggregate: tuple[str, int],
    occurred_at: str,
    actor: Actor,
    reason: str | None,
    data: dict[str, Any],
) -> dict[str, Any]:
    """One entry of ``service``'s log: ``aggregate`` is (aggregate id, aggregate version); the type ends the topic."""
    aggregate_id, aggregate_version = aggregate
    actor_id, actor_name, actor_role, ministry = actor
    correlation_id = str(uuid5(NAMESPACE_URL, f"urn:aigov:example-request:{service}:{position}"))
    return {
        "service": service,
        "position": position,
        "hash": illustrative_hash(service, position),
        "type": topic.rsplit(".", 1)[-1],
        "topic": topic,
        "schema_version": 1,
        "aggregate_id": aggregate_id,
        "aggregate_version": aggregate_version,
        "occurred_at": occurred_at,
        "meta": {
            "actor_id": actor_id,
            "actor_name": actor_name,
            "actor_role": actor_role,
            "ministry": ministry,
            "reason": reason,
            "correlation_id": correlation_id,
        },
        "data": data,
    }


def health_examples(followed: tuple[str, ...]) -> dict[str, OperationExamples]:
    """``healthz`` and ``readyz`` of a service that follows the logs of ``followed``."""
    checks = {"database": "ok", "schema": "ok"} | {f"follower:{upstream}": "ok" for upstream in followed}
    return {
        "healthz": OperationExamples(response={"status": "ok"}),
        "readyz": OperationExamples(response={"status": "ready", "checks": checks}),
    }


def log_examples(service: str, entries: list[dict[str, Any]], head_position: int) -> dict[str, OperationExamples]:
    """``read_log`` (a page holding ``entries``, more to come) and ``verify_log`` (the chain up to
    ``head_position``)."""
    first, last, limit = entries[0]["position"], entries[-1]["position"], len(entries)
    cursor = encode_cursor((last,))
    log_page = {
        "service": service,
        "after": first - 1,
        "head_position": head_position,
        "next_after": last,
        **page(entries, cursor, f"/v1/log?limit={limit}&cursor={cursor}"),
    }
    verification = {
        "service": service,
        "ok": True,
        "checked": head_position,
        "head_position": head_position,
        "head_hash": illustrative_hash(service, head_position),
        "first_bad_position": None,
        "problem": None,
    }
    return {"read_log": OperationExamples(response=log_page), "verify_log": OperationExamples(response=verification)}
