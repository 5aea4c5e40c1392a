"""Idempotency-Key on POST: retries return the first response and record nothing, even after a restart.

End to end through HTTP against the real services on SQLite and PostgreSQL: one POST of each service is
made, the service is killed and started again, and the retry must give the same status and body, say it is
a replay, and leave the service's log (or reporting's checkpoints) exactly as long as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.support import ServiceStack, new_ministry_code, project_body, wait_for
from tests.support.scenarios import head, new_ministry

PROBLEM = "application/problem+json"


def checkpoint_count(stack: ServiceStack) -> int:
    return len(
        stack.client("reporting", stack.token("auditor", ["auditor"]))
        .get("/v1/audit/checkpoints", params={"limit": 500})
        .json()["items"]
    )


def restart(stack: ServiceStack, service: str) -> None:
    stack.kill(service)
    stack.start(service)


def a_project(stack: ServiceStack, ministry: str) -> str:
    project_id = (
        stack.client("registry", stack.token("p", ["planner"], ministry))
        .post("/v1/projects", json=project_body(ministry))
        .json()["id"]
    )
    wait_for(
        lambda: (
            stack.client("risk", stack.token("a", ["auditor"])).get(f"/v1/projects/{project_id}/risk").status_code
            == 200
        )
    )
    return project_id


def posts(stack: ServiceStack) -> dict[str, tuple[str, httpx.Client, str, dict[str, Any] | None, Callable[[], int]]]:
    """One POST per service: (service, client, path, body, how many things it has recorded)."""
    ministry = new_ministry(stack)
    project_id = a_project(stack, ministry)
    admin = stack.token("root", ["admin"])
    planner = stack.token("p", ["planner"], ministry)
    return {
        "create_ministry": (
            "registry",
            stack.client("registry", admin),
            "/v1/ministries",
            {"code": new_ministry_code(), "name": "Retried"},
            lambda: head(stack, "registry"),
        ),
        "register_project": (
            "registry",
            stack.client("registry", planner),
            "/v1/projects",
            project_body(ministry),
            lambda: head(stack, "registry"),
        ),
        "open_assessment": (
            "risk",
            stack.client("risk", planner),
            f"/v1/projects/{project_id}/assessments",
            None,
            lambda: head(stack, "risk"),
        ),
        "take_checkpoints": (
            "reporting",
            stack.client("reporting", admin),
            "/v1/audit/checkpoints",
            None,
            lambda: checkpoint_count(stack),
        ),
    }


@pytest.mark.parametrize("operation", ["create_ministry", "register_project", "open_assessment", "take_checkpoints"])
def test_a_retry_after_a_restart_returns_the_first_response_and_records_nothing(
    stack: ServiceStack, operation: str
) -> None:
    service, client, path, body, recorded = posts(stack)[operation]
    key = str(uuid.uuid4())
    first = client.post(path, json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    before = recorded()
    restart(stack, service)
    retry = client.post(path, json=body, headers={"Idempotency-Key": key})
    assert (retry.status_code, retry.content) == (first.status_code, first.content)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.headers["content-type"] == first.headers["content-type"]
    assert recorded() == before
    fresh = client.post(path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert "Idempotent-Replayed" not in fresh.headers, "a new key is a new request"


def test_the_same_key_with_another_body_is_refused_and_records_nothing(stack: ServiceStack) -> None:
    ministry = new_ministry(stack)
    client = stack.client("registry", stack.token("p", ["planner"], ministry))
    key = str(uuid.uuid4())
    assert client.post("/v1/projects", json=project_body(ministry), headers={"Idempotency-Key": key}).status_code == 201
    before = head(stack, "registry")
    reused = client.post(
        "/v1/projects", json=project_body(ministry, title="Another project"), headers={"Idempotency-Key": key}
    )
    assert reused.status_code == 422 and reused.headers["content-type"].startswith(PROBLEM)
    assert reused.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert head(stack, "registry") == before


def test_keys_belong_to_their_caller(stack: ServiceStack) -> None:
    ministry = new_ministry(stack)
    key = str(uuid.uuid4())
    alice = stack.client("registry", stack.token("alice", ["planner"], ministry)).post(
        "/v1/projects", json=project_body(ministry), headers={"Idempotency-Key": key}
    )
    bob = stack.client("registry", stack.token("bob", ["planner"], ministry)).post(
        "/v1/projects", json=project_body(ministry), headers={"Idempotency-Key": key}
    )
    assert alice.status_code == bob.status_code == 201 and alice.json()["id"] != bob.json()["id"]
    assert "Idempotent-Replayed" not in bob.headers


def test_concurrent_retries_of_one_key_record_one_project(stack: ServiceStack) -> None:
    ministry = new_ministry(stack)
    token = stack.token("p", ["planner"], ministry)
    key = str(uuid.uuid4())
    before = head(stack, "registry")

    def attempt(_: int) -> httpx.Response:
        return stack.client("registry", token).post(
            "/v1/projects", json=project_body(ministry), headers={"Idempotency-Key": key}
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(attempt, range(8)))
    created = {response.json()["id"] for response in responses if response.status_code == 201}
    assert len(created) == 1, [response.status_code for response in responses]
    assert all(response.status_code in (201, 409) for response in responses)
    assert all(
        response.json()["type"].endswith("idempotency-key-in-flight")
        for response in responses
        if response.status_code == 409
    )
    assert head(stack, "registry") == before + 1


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tinside", "日本".encode()])
def test_a_malformed_key_is_400(stack: ServiceStack, key: str | bytes) -> None:
    ministry = new_ministry(stack)
    before = head(stack, "registry")
    response = stack.client("registry", stack.token("p", ["planner"], ministry)).post(
        "/v1/projects", json=project_body(ministry), headers={"Idempotency-Key": key}
    )
    assert response.status_code == 400 and response.json()["type"].endswith("invalid-idempotency-key")
    assert head(stack, "registry") == before
