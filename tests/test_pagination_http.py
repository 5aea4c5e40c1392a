"""Every list of every service pages by cursor: ``limit`` and ``cursor`` in, ``next_cursor``, ``next`` and a
``Link: rel="next"`` header out, in a stable order.

Proves, through HTTP on both databases: walking any list one item at a time by following ``next`` serves
exactly the items of the whole list, in its order, each once; the ``Link`` header names the same URL; the last
page says so (null ``next``, no ``Link``); a project registered while a client is paging appears once, after the
pages already served, and none is skipped; a cursor this service did not issue is a 422 naming ``query.cursor``.
The table of lists below is tied to the OpenAPI documents, so a new list without paging, or one this test does
not walk, fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from aigov.cli import openapi_documents
from shared.openapi_examples import JSON, operations, success_content
from shared.pagination import encode_cursor
from tests.support import ServiceStack, current, pages, wait_for
from tests.support.scenarios import (
    HIGH_RISK,
    Ministry,
    assert_problem,
    assess,
    caught_up,
    complete_submission,
    head,
    ruleset_content,
    version_2,
)

PERIOD = f"{datetime.now(UTC).year}H{1 if datetime.now(UTC).month <= 6 else 2}"


@dataclass(frozen=True)
class Listing:
    """One list operation as a reader calls it: the service, the path, and the filters that keep it small."""

    service: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)


def listings(world: dict[str, Any]) -> dict[str, Listing]:
    """Every list operation by operationId, with filters that bound it to what this module wrote."""
    code, project_id = world["code"], world["project_ids"][0]
    return {
        "registry:read_log": Listing("registry", "/v1/log", {"after": world["registry_head"] - 5}),
        "registry:list_ministries": Listing("registry", "/v1/ministries"),
        "registry:get_caio_history": Listing("registry", f"/v1/ministries/{code}/caio/history"),
        "registry:list_projects": Listing("registry", "/v1/projects", {"ministry": code}),
        "registry:get_project_events": Listing("registry", f"/v1/projects/{project_id}/events"),
        "risk:read_log": Listing("risk", "/v1/log", {"after": world["risk_head"] - 5}),
        "risk:get_board_queue": Listing("risk", "/v1/board/queue"),
        "risk:list_rulesets": Listing("risk", "/v1/rulesets"),
        "reporting:list_checkpoints": Listing("reporting", "/v1/audit/checkpoints"),
        "reporting:get_inventory": Listing("reporting", "/v1/inventory", {"ministry": code}),
        "reporting:get_high_risk_register": Listing("reporting", "/v1/high-risk-register"),
        "reporting:get_pending": Listing("reporting", "/v1/pending", {"ministry": code}),
        "registry:list_check_sheets": Listing("registry", "/v1/check-sheets"),
        "registry:list_usage_rules": Listing("registry", f"/v1/ministries/{code}/usage-rules"),
        "risk:get_board_submission_history": Listing(
            "risk", f"/v1/board-submissions/{world['submission_ids'][0]}/history"
        ),
        "reporting:get_periodic_submissions": Listing("reporting", f"/v1/periodic-reports/{PERIOD}"),
        "reporting:list_public_projects": Listing("reporting", "/public/v1/projects", {"ministry": code}),
    }


def json_success_schemas() -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(service, method, operation, its JSON success schema with a component reference resolved) of every operation."""
    for service, text in openapi_documents().items():
        document = json.loads(text)
        for method, _, operation in operations(document):
            schema = success_content(operation).get(JSON, {}).get("schema", {})
            yield (
                service,
                method,
                operation,
                document["components"]["schemas"].get(schema.get("$ref", "").rsplit("/", 1)[-1], schema),
            )


def paged_operations() -> set[str]:
    """The operations whose success body is a page (it has ``next_cursor``), from the OpenAPI documents."""
    found = set()
    for service, _, operation, schema in json_success_schemas():
        if "next_cursor" in schema.get("properties", {}):
            names = {parameter["name"] for parameter in operation.get("parameters", [])}
            assert {"limit", "cursor"} <= names, f"{service} {operation['operationId']} pages without limit and cursor"
            found.add(f"{service}:{operation['operationId']}")
    return found


def array_operations() -> set[str]:
    """GET operations whose success body is a bare JSON array: a list that cannot page."""
    return {
        f"{service}:{operation['operationId']}"
        for service, method, operation, schema in json_success_schemas()
        if method == "get" and schema.get("type") == "array"
    }


@pytest.fixture(scope="module")
def world(stack: ServiceStack) -> dict[str, Any]:
    """Two ministries, one with three CAIO designations, three high-risk projects awaiting the Board (two of them
    published), two versions of the usage rules, a second ruleset version and two rounds of checkpoints: every list
    has at least two items."""
    ministry, _ = Ministry(stack), Ministry(stack)
    root = stack.client("registry", stack.token("root", ["admin"]))
    for officer_id in ("caio-interim", ministry.caio_id):
        resource = f"/v1/ministries/{ministry.code}"
        assert (
            root.put(
                f"{resource}/caio",
                headers=current(root, resource),
                json={"officer_id": officer_id, "name": "Chie Sato", "reason": "handover"},
            ).status_code
            == 200
        )
    wait_for(ministry.caio_known)
    project_ids = [
        ministry.register(users="public", nature_of_work="public_information", human_review="none") for _ in range(3)
    ]
    submission_ids = []
    for project_id in project_ids:
        assessment = assess(ministry, project_id, HIGH_RISK)
        classified = ministry.caio.post(
            f"/v1/assessments/{assessment['id']}/classification",
            headers=current(ministry.caio, f"/v1/assessments/{assessment['id']}"),
            json={"classification": "high", "reasons": "public-facing"},
        )
        assert classified.status_code == 200, classified.text
        submission_id = ministry.planner.post(
            f"/v1/projects/{project_id}/board-submissions", json=complete_submission(assessment["id"])
        ).json()["id"]
        submitted = ministry.caio.post(
            f"/v1/projects/{project_id}/board-submissions/{submission_id}/submit",
            headers=current(ministry.caio, f"/v1/board-submissions/{submission_id}"),
        )
        assert submitted.status_code == 200, submitted.text
        submission_ids.append(submission_id)
    for project_id in project_ids[:2]:
        assert publish(ministry, project_id).status_code == 200
    for title in ("Rules for staff use of generative AI", "Rules, revised"):
        assert issue_usage_rules(ministry, title).status_code == 201
    assert ministry.transition(project_ids[0], "procurement").status_code == 200
    admin = stack.client("risk", stack.token("root", ["admin"]))
    assert admin.post("/v1/rulesets", json=version_2(ruleset_content(stack))).status_code == 201
    reporting_admin = stack.client("reporting", stack.token("root", ["admin"]))
    for _ in range(2):
        assert reporting_admin.post("/v1/audit/checkpoints").status_code == 201
    caught_up(stack)
    return {
        "ministry": ministry,
        "code": ministry.code,
        "project_ids": project_ids,
        "submission_ids": submission_ids,
        "registry_head": head(stack, "registry"),
        "risk_head": head(stack, "risk"),
    }


def publish(ministry: Ministry, project_id: str) -> httpx.Response:
    client = ministry.caio_registry
    return client.post(
        f"/v1/projects/{project_id}/publications",
        headers=current(client, f"/v1/projects/{project_id}"),
        json={"withheld": [], "reason": "publish in the public register"},
    )


def issue_usage_rules(ministry: Ministry, title: str) -> httpx.Response:
    return ministry.caio_registry.post(
        f"/v1/ministries/{ministry.code}/usage-rules",
        json={"title": title, "effective_from": date.today().isoformat(), "text": title, "reason": "CAIO's rules"},
    )


def reader(stack: ServiceStack, service: str) -> httpx.Client:
    return stack.client(service, stack.token("aud", ["auditor"]))


def walk(client: httpx.Client, listing: Listing, limit: int) -> list[Any]:
    """Every item of a list, following ``next`` from the first page of ``limit`` items; checks each page's links."""
    items: list[Any] = []
    for response in pages(client, listing.path, limit, **listing.params):
        page = response.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        if page["next"] is None:
            assert page["next_cursor"] is None and "Link" not in response.headers
        else:
            assert len(page["items"]) == limit and page["next_cursor"] in page["next"]
            assert response.headers["Link"] == f'<{page["next"]}>; rel="next"'
    return items


def test_every_list_in_the_documents_pages_and_this_test_walks_each(world: dict[str, Any]) -> None:
    assert paged_operations() == set(listings(world)), (
        "a list operation without a cursor, or one this test does not walk"
    )
    assert array_operations() == set(), "a list returned as a bare array cannot page"


@pytest.mark.parametrize("operation", sorted(paged_operations()))
def test_walking_a_list_one_item_at_a_time_serves_the_whole_list_once_in_order(
    stack: ServiceStack, world: dict[str, Any], operation: str
) -> None:
    listing = listings(world)[operation]
    client = reader(stack, listing.service)
    whole = client.get(listing.path, params={**listing.params, "limit": 500})
    assert whole.status_code == 200 and whole.json()["next"] is None, whole.text
    expected = whole.json()["items"]
    assert len(expected) >= 2, f"{operation}: the module's data should fill at least two pages"
    assert walk(client, listing, limit=1) == expected
    assert walk(client, listing, limit=2) == expected


@pytest.mark.parametrize("operation", sorted(paged_operations()))
def test_a_cursor_the_service_did_not_issue_is_refused_naming_the_field(
    stack: ServiceStack, world: dict[str, Any], operation: str
) -> None:
    listing = listings(world)[operation]
    client = reader(stack, listing.service)
    for cursor in (
        "not-base64-json!",
        encode_cursor(("a", "b", "c", "d", "e")),
        "W10",
    ):  # garbage; a key of another list's shape; []
        assert_problem(client.get(listing.path, params={**listing.params, "cursor": cursor}), 422, "query.cursor")


def test_a_project_registered_while_a_client_pages_appears_once_and_none_is_skipped(
    stack: ServiceStack, world: dict[str, Any]
) -> None:
    ministry: Ministry = world["ministry"]
    client = reader(stack, "registry")
    walk = pages(client, "/v1/projects", 2, ministry=ministry.code)
    served = [item["id"] for item in next(walk).json()["items"]]
    newcomer = ministry.register()
    served += [item["id"] for response in walk for item in response.json()["items"]]
    assert served == world["project_ids"] + [newcomer]


def test_the_filters_of_the_first_request_carry_into_the_next_link(stack: ServiceStack, world: dict[str, Any]) -> None:
    page = (
        reader(stack, "registry")
        .get("/v1/projects", params={"ministry": world["code"], "stage": "planning", "limit": 1})
        .json()
    )
    assert page["next"] is not None
    following = httpx.URL(page["next"]).params
    assert following["ministry"] == world["code"] and following["stage"] == "planning" and following["limit"] == "1"
    assert all(item["stage"] == "planning" for item in reader(stack, "registry").get(page["next"]).json()["items"])


def test_a_log_cursor_continues_after_the_position_it_names(stack: ServiceStack, world: dict[str, Any]) -> None:
    client = reader(stack, "risk")
    page = client.get("/v1/log", params={"after": world["risk_head"] - 3, "limit": 1}).json()
    following = client.get("/v1/log", params={"cursor": page["next_cursor"], "after": 0, "limit": 1}).json()
    assert [entry["position"] for entry in following["items"]] == [world["risk_head"] - 1]
    assert following["next_after"] == world["risk_head"] - 1


def test_the_limit_is_bounded(stack: ServiceStack, world: dict[str, Any]) -> None:
    client = reader(stack, "registry")
    assert_problem(client.get("/v1/projects", params={"limit": 0}), 422, "query.limit")
    assert_problem(client.get("/v1/projects", params={"limit": 501}), 422, "query.limit")


def test_the_csv_inventory_pages_by_its_link_header(stack: ServiceStack, world: dict[str, Any]) -> None:
    client = reader(stack, "reporting")
    expected = [
        item["project_id"]
        for item in client.get("/v1/inventory", params={"ministry": world["code"], "limit": 500}).json()["items"]
    ]
    served: list[str] = []
    response = client.get(
        "/v1/inventory", params={"ministry": world["code"], "limit": 1}, headers={"Accept": "text/csv"}
    )
    while True:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        served += [line.split(",", 1)[0] for line in response.text.splitlines()[1:]]
        if "Link" not in response.headers:
            break
        response = client.get(
            response.headers["Link"].removeprefix("<").split(">;", 1)[0], headers={"Accept": "text/csv"}
        )
    assert served == expected
