"""The OpenAPI contract: exported documents match the code, every operation is named, tagged and summarised."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

from aigov.cli import OPENAPI_DIRECTORY, openapi_documents
from shared.openapi_examples import operations
from shared.policy import PUBLIC, rule_for

DOCUMENTS = openapi_documents()


@pytest.mark.parametrize("service", sorted(DOCUMENTS))
def test_the_committed_document_matches_the_code(service: str) -> None:
    committed = (OPENAPI_DIRECTORY / f"{service}.json").read_text(encoding="utf-8")
    assert committed == DOCUMENTS[service], f"docs/openapi/{service}.json drifted: run `.venv/bin/aigov openapi export`"


@pytest.mark.parametrize("service", sorted(DOCUMENTS))
def test_every_operation_has_an_id_a_tag_and_a_summary(service: str) -> None:
    document = json.loads(DOCUMENTS[service])
    assert document["openapi"].startswith("3.1")
    ids = []
    for method, path, operation in operations(document):
        assert operation.get("operationId") and operation.get("tags") and operation.get("summary"), (
            service,
            method,
            path,
        )
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("service", sorted(DOCUMENTS))
def test_the_document_validates_as_openapi_3_1(service: str) -> None:
    validate(json.loads(DOCUMENTS[service]))


@pytest.mark.parametrize("service", sorted(DOCUMENTS))
def test_every_protected_operation_documents_its_problem_responses_as_problem_json(service: str) -> None:
    document = json.loads(DOCUMENTS[service])
    for method, path, operation in operations(document):
        if rule_for(operation["operationId"]) is PUBLIC:  # no token: no 401/403 to document
            continue
        for status in ("401", "403", "422", "503") + (("409", "412", "428") if method != "get" else ()):
            content = operation["responses"][status]["content"]
            assert list(content) == ["application/problem+json"], (service, method, path, status)
            assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}, (
                service,
                method,
                path,
                status,
            )
            assert content["application/problem+json"]["example"]["status"] == int(status), (
                service,
                method,
                path,
                status,
            )
        if method == "post":
            assert any(parameter["name"] == "Idempotency-Key" for parameter in operation["parameters"]), (service, path)


def test_an_oversized_body_is_refused_with_413(stack) -> None:  # type: ignore[no-untyped-def]
    response = stack.client("registry", stack.token("root", ["admin"])).post(
        "/v1/ministries", content=b"{" + b" " * 2_000_000 + b"}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413 and response.headers["content-type"].startswith("application/problem+json")
