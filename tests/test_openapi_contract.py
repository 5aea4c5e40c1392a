"""The committed OpenAPI documents describe what generated clients need, exactly (issue 17, acceptance 3).

Generated clients (openapi-python-client, openapi-typescript) decide how to read a body from its declared media
type and type it from its schema: a CSV declared also as JSON makes them parse CSV as JSON, and a free-form
object gives integrators a dictionary instead of fields. So: one media type per success response, non-JSON
bodies declared as strings of their real media type, every JSON success body a named schema typed down to its
leaves, problem extensions declared on ``Problem``, and headers a change needs declared as required strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from aigov.cli import OPENAPI_DIRECTORY
from shared.openapi_examples import operations

SERVICES = ("registry", "risk", "reporting")
JSON = "application/json"
TEXT_MEDIA_TYPES = {"text/csv", "text/html", "text/plain", "application/x-ndjson"}
#: The one place a JSON success body is open by design: an event's payload in a log entry. Its shape is
#: chosen by the entry's ``type`` and ``schema_version`` (every event type of every version, old ones included).
EVENT_PAYLOAD = re.compile(r"^(LogEntryOut|TimelineEntry)\.data$")
NOUN = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*$")
GENERATED_NAME = re.compile(r"^(Response|Body)|Type\d|Input$|Output$")


def document(service: str) -> dict[str, Any]:
    return json.loads((OPENAPI_DIRECTORY / f"{service}.json").read_text(encoding="utf-8"))


def successes(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(operation id, status, content) of every 2xx response that has a body."""
    for _, _, operation in operations(doc):
        for status, response in operation["responses"].items():
            if status.startswith("2") and response.get("content"):
                yield operation["operationId"], status, response["content"]


def free_form(schema: dict[str, Any], doc: dict[str, Any], where: str, seen: set[str]) -> Iterator[str]:
    """Every place under ``schema`` that a generator can only type as 'any' or 'a dictionary of anything'."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            yield from free_form(doc["components"]["schemas"][name], doc, name, seen)
        return
    for keyword in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(keyword, []):
            yield from free_form(option, doc, where, seen)
    kind = schema.get("type")
    if kind is None and not {"anyOf", "oneOf", "allOf", "enum", "const"} & set(schema):
        yield where
    if kind == "object":
        yield from free_object(schema, doc, where, seen)
    if kind == "array":
        yield from free_form(schema.get("items", {}), doc, f"{where}[]", seen)


def free_object(schema: dict[str, Any], doc: dict[str, Any], where: str, seen: set[str]) -> Iterator[str]:
    """An object is typed when it declares its properties, or is a map whose values have a typed schema."""
    extra = schema.get("additionalProperties")
    if (not schema.get("properties") and not isinstance(extra, dict)) or extra == {}:
        yield where
    if isinstance(extra, dict) and extra:
        yield from free_form(extra, doc, f"{where}{{*}}", seen)
    for name, member in schema.get("properties", {}).items():
        yield from free_form(member, doc, f"{where}.{name}", seen)


@pytest.mark.parametrize("service", SERVICES)
def test_every_success_response_has_one_media_type_and_non_json_bodies_are_text(service: str) -> None:
    for operation_id, status, content in successes(document(service)):
        assert len(content) == 1, f"{operation_id} {status} offers {sorted(content)}: give each its own operation"
        ((media_type, body),) = content.items()
        assert media_type == JSON or media_type in TEXT_MEDIA_TYPES, (operation_id, media_type)
        if media_type != JSON:
            assert body["schema"] == {"type": "string"}, (operation_id, media_type, body.get("schema"))


@pytest.mark.parametrize("service", SERVICES)
def test_every_json_success_body_is_a_named_schema_typed_to_its_leaves(service: str) -> None:
    doc = document(service)
    open_places = []
    for operation_id, _, content in successes(doc):
        if JSON not in content:
            continue
        schema = content[JSON]["schema"]
        named = schema if "$ref" in schema else schema.get("items", {})  # a list of named items is typed too
        assert "$ref" in named, f"{operation_id}: the body is an inline schema, not a named one"
        open_places += [
            where for where in free_form(schema, doc, operation_id, set()) if not EVENT_PAYLOAD.match(where)
        ]
    assert not open_places, f"free-form objects in {service}'s success bodies: {sorted(set(open_places))}"


@pytest.mark.parametrize("service", SERVICES)
def test_schema_names_read_as_nouns(service: str) -> None:
    names = document(service)["components"]["schemas"]
    odd = [name for name in names if not NOUN.match(name) or GENERATED_NAME.search(name)]
    assert not odd, f"generated-looking schema names: {odd}"


@pytest.mark.parametrize("service", SERVICES)
def test_problem_extensions_are_declared_on_the_problem_schema(service: str) -> None:
    problem = document(service)["components"]["schemas"]["Problem"]["properties"]
    declared = {"errors", "reason", "missing", "allowed", "current_stage", "current_version", "checks", "duty"}
    declared |= {"current_classification"}
    assert declared <= set(problem), declared - set(problem)
    assert problem["current_version"]["type"] == "integer"
    assert problem["missing"] == problem["missing"] | {"type": "array", "items": {"type": "string"}}


@pytest.mark.parametrize("service", ("registry", "risk"))
def test_if_match_is_a_required_string(service: str) -> None:
    headers = [
        (operation["operationId"], parameter)
        for _, _, operation in operations(document(service))
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header" and parameter["name"] == "If-Match"
    ]
    assert headers, "no operation takes If-Match"
    for operation_id, parameter in headers:
        assert parameter["required"] is True and parameter["schema"]["type"] == "string", operation_id


def test_the_check_finds_a_free_form_object_and_an_untyped_body() -> None:
    """The walk above can fail: it reports an open object, an untyped member and a list of anything."""
    doc = {
        "components": {
            "schemas": {
                "Open": {"type": "object", "properties": {"data": {"type": "object", "additionalProperties": True}}},
                "Loose": {"type": "object", "properties": {"anything": {}, "list": {"type": "array"}}},
                "Map": {"type": "object", "additionalProperties": {"type": "integer"}},
            }
        }
    }
    found = list(free_form({"$ref": "#/components/schemas/Open"}, doc, "op", set()))
    found += list(free_form({"$ref": "#/components/schemas/Loose"}, doc, "op", set()))
    assert found == ["Open.data", "Loose.anything", "Loose.list[]"]
    assert list(free_form({"$ref": "#/components/schemas/Map"}, doc, "op", set())) == []
