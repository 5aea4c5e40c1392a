"""Every operation's examples in the three OpenAPI documents: present, current, and valid against their schemas.

Why: the OpenAPI acceptance asks for an example on every operation, and integrators copy examples into their
first requests and into their client tests. An example the schema rejects teaches a wrong payload, and an
example left behind by a renamed operation or field misleads silently; so each example is validated with
Draft 2020-12 against the very document it appears in. Response models are open in JSON Schema unless they
say otherwise, so for that check objects are closed (no members beyond ``properties``): an example naming a
field the schema lacks fails instead of passing unnoticed.

The documents are built from the code, without a database, the way ``aigov openapi export`` builds them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import pytest
from fastapi import FastAPI
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from services.registry.service import create_app as create_registry
from services.reporting.service import create_app as create_reporting
from services.risk.service import create_app as create_risk
from shared.openapi_examples import JSON, OperationExamples, operations, request_content, success_content
from shared.settings import Settings

FACTORIES: dict[str, Callable[[Settings], FastAPI]] = {
    "registry": create_registry,
    "risk": create_risk,
    "reporting": create_reporting,
}
BASE_URI = "urn:aigov:openapi"
#: FastAPI lists application/json for every route; these stream another media type only, so have no JSON body to show.
NO_JSON_BODY = frozenset({"export_audit_log"})
#: Keywords whose values are data, not schemas: closing objects must leave them as they are.
DATA_KEYWORDS = frozenset({"example", "examples", "default", "const", "enum"})


@cache
def app(service: str) -> FastAPI:
    return FACTORIES[service](Settings())


def document(service: str) -> dict[str, Any]:
    return app(service).openapi()


def examples_of(service: str) -> dict[str, OperationExamples]:
    return getattr(app(service).state, "openapi_examples", {})


def is_json(media_type: str) -> bool:
    return media_type == JSON or media_type.endswith("+json")


def escape(token: str) -> str:
    """A JSON Pointer reference token (RFC 6901): paths and media types hold '/'."""
    return token.replace("~", "~0").replace("/", "~1")


def json_examples(method: str, path: str, operation: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """Every JSON example of one operation (request, success and problem bodies) as (where, schema pointer, example)."""
    where = f"/paths/{escape(path)}/{method}"
    body = request_content(operation)
    if body is not None and "example" in body:
        yield "request", f"{where}/requestBody/content/{escape(JSON)}/schema", body["example"]
    for status, response in operation["responses"].items():
        for media_type, content in response.get("content", {}).items():
            if "example" in content and is_json(media_type):
                yield (
                    f"{status} {media_type}",
                    f"{where}/responses/{status}/content/{escape(media_type)}/schema",
                    content["example"],
                )


def closed(schema: Any) -> Any:
    """``schema`` with every object that lists ``properties`` and says nothing about others closed to others."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: value if key in DATA_KEYWORDS else closed(value) for key, value in schema.items()}
    if "properties" in schema and "additionalProperties" not in schema:
        result["additionalProperties"] = False
    return result


@cache
def registry_of(service: str) -> Registry:
    """The document as one schema resource, so that its ``#/components/schemas/...`` references resolve."""
    return Registry().with_resource(
        BASE_URI, Resource.from_contents(closed(document(service)), default_specification=DRAFT202012)
    )


def schema_errors(service: str, pointer: str, example: Any) -> list[str]:
    validator = Draft202012Validator({"$ref": f"{BASE_URI}#{pointer}"}, registry=registry_of(service))
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
        for error in validator.iter_errors(example)
    ]


def missing_examples(operation: dict[str, Any]) -> list[str]:
    """What of ``operation`` has no example: its JSON request body, or a media type of one of its responses."""
    body = request_content(operation)
    missing = ["request body"] if body is not None and "example" not in body else []
    for status, response in operation["responses"].items():
        for media_type, content in response.get("content", {}).items():
            exempt = status.startswith("2") and media_type == JSON and operation["operationId"] in NO_JSON_BODY
            if "example" not in content and not exempt:
                missing.append(f"{status} {media_type}")
    return missing


def stale_parts(operation: dict[str, Any], given: OperationExamples) -> list[str]:
    """What ``given`` has that ``operation`` cannot show: a request it does not take, media types it does not list."""
    listed = success_content(operation)
    stale = (
        ["request (the operation takes no JSON body)"]
        if given.request is not None and request_content(operation) is None
        else []
    )
    stale += [
        f"texts[{media_type!r}] (not a media type of its success response)"
        for media_type in given.texts
        if media_type not in listed or media_type == JSON
    ]
    if given.response is not None and (JSON not in listed or operation["operationId"] in NO_JSON_BODY):
        stale.append("response (the operation documents no JSON success body)")
    return stale


OPERATIONS = [
    pytest.param(service, operation["operationId"], id=f"{service}:{operation['operationId']}")
    for service in FACTORIES
    for _, _, operation in operations(document(service))
]


@pytest.mark.parametrize("service", sorted(FACTORIES))
def test_every_operation_has_its_examples(service: str) -> None:
    missing = {
        operation["operationId"]: parts
        for _, _, operation in operations(document(service))
        if (parts := missing_examples(operation))
    }
    assert not missing, (
        f"{service}: operations without examples (add them to services/{service}/examples.py): {missing}"
    )


@pytest.mark.parametrize("service", sorted(FACTORIES))
def test_the_example_table_names_only_what_the_service_has(service: str) -> None:
    by_id = {operation["operationId"]: operation for _, _, operation in operations(document(service))}
    unknown = sorted(set(examples_of(service)) - set(by_id))
    assert not unknown, f"{service}: examples for operations the service does not have: {unknown}"
    stale = {
        operation_id: parts
        for operation_id, given in examples_of(service).items()
        if (parts := stale_parts(by_id[operation_id], given))
    }
    assert not stale, f"{service}: examples the document cannot show: {stale}"


@pytest.mark.parametrize(("service", "operation_id"), OPERATIONS)
def test_every_json_example_matches_its_schema(service: str, operation_id: str) -> None:
    method, path, operation = next(
        found for found in operations(document(service)) if found[2]["operationId"] == operation_id
    )
    errors = [
        f"{where}: {error}"
        for where, pointer, example in json_examples(method, path, operation)
        for error in schema_errors(service, pointer, example)
    ]
    assert not errors, (
        f"{service} {operation_id} ({method.upper()} {path}): examples that do not match their schemas:\n"
        + "\n".join(errors)
    )
