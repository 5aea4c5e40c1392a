"""The authorization policy: one table decides every route of every service, and the services obey it.

The route list comes from each app's route table, so a new route without a policy line fails here (and the
service refuses to start). The HTTP matrix then calls every route of the running services with every role
and with no token: a role outside the route's policy line gets 403 problem+json, an allowed role never gets
401/403 for its role (the ids are unknown, so it gets 404/422 and writes nothing), and planners and CAIOs of
a foreign ministry get 403 on another ministry's project with otherwise valid requests.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.registry.service import create_app as registry_app
from services.reporting.service import create_app as reporting_app
from services.risk.service import create_app as risk_app
from shared import policy
from shared.auth import ROLES
from tests.support import ServiceStack, project_body, wait_for
from tests.support.scenarios import new_ministry

APPS = {"registry": registry_app, "risk": risk_app, "reporting": reporting_app}
PROBLEM = "application/problem+json"
INCIDENT = {
    "occurred_at": "2026-11-20T09:00:00+09:00",
    "what_happened": "A draft cited a repealed ordinance",
    "harm": "none",
    "severity": "low",
    "immediate_actions": "Draft corrected",
}


def service_operations() -> Iterator[tuple[str, str, str, str]]:
    for service, factory in APPS.items():
        for operation, method, path in policy.operations(factory()):
            yield service, operation, method, path


ROUTES = sorted(set(service_operations()))


def test_every_route_of_every_service_has_exactly_one_policy_line_and_every_line_is_used() -> None:
    operations = {operation for _, operation, _, _ in ROUTES}
    assert "" not in operations, "a route without an operationId"
    assert operations == set(policy.POLICY), (
        f"unused lines: {set(policy.POLICY) - operations}; missing: {operations - set(policy.POLICY)}"
    )
    assert len(ROUTES) >= 50


@pytest.mark.parametrize("operation", sorted(policy.POLICY))
def test_removing_any_policy_line_stops_the_service_that_serves_it(
    operation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(policy.POLICY, operation)
    services = {service for service, op, _, _ in ROUTES if op == operation}
    for service in services:
        with pytest.raises(LookupError, match=operation):
            policy.require_complete_policy(APPS[service]())


def test_the_table_keeps_the_guideline_separation_of_duties() -> None:
    writes = {operation: rule for operation, rule in policy.POLICY.items() if rule.writes}
    assert not [
        operation
        for operation, rule in writes.items()
        if "auditor" in rule.roles
        and operation not in {"rescore_ruleset", "export_audit_log", "get_board_queue", "read_log", "verify_log"}
    ]
    for decision in ("classify_assessment", "record_board_advice", "record_caio_decision", "submit_board_submission"):
        assert "admin" not in policy.POLICY[decision].roles
    for decision in ("classify_assessment", "record_caio_decision", "submit_board_submission", "report_incident"):
        assert policy.POLICY[decision].roles == ("caio",) and policy.POLICY[decision].designation
    assert policy.POLICY["record_board_advice"].roles == ("board_member", "secretariat")


# -- the matrix over HTTP -------------------------------------------------------------------------------------


def concrete(path: str) -> str:
    """Fill every path parameter with an identifier nobody has: allowed callers then meet 404, not a write."""
    path = re.sub(r"\{(\w*_id)\}", lambda _: str(uuid.uuid4()), path)
    path = path.replace("{version}", "1")
    return re.sub(r"\{\w+\}", "ZZNOSUCH", path)


def call(client: httpx.Client, method: str, path: str) -> httpx.Response:
    body = {} if method in {"POST", "PUT", "PATCH"} else None
    return client.request(method, concrete(path), json=body, headers={"If-Match": '"1"'} if method != "GET" else {})


@pytest.fixture(scope="module")
def foreign_ministry(stack: ServiceStack) -> str:
    return new_ministry(stack)


def test_each_role_is_refused_exactly_the_routes_its_policy_line_leaves_out(
    stack: ServiceStack, foreign_ministry: str
) -> None:
    failures: list[str] = []
    for service, operation, method, path in ROUTES:
        rule = policy.POLICY[operation]
        anonymous = stack.client(service).request(method, concrete(path))
        if rule is policy.PUBLIC:
            if anonymous.status_code in (401, 403):
                failures.append(f"{operation}: public, but {anonymous.status_code} without a token")
            continue
        if anonymous.status_code != 401:
            failures.append(f"{operation}: {anonymous.status_code} without a token, expected 401")
        for role in ROLES:
            response = call(stack.client(service, stack.token(f"{role}-x", [role], foreign_ministry)), method, path)
            if role in rule.roles and response.status_code in (401, 403):
                failures.append(f"{operation}: {role} is allowed but got {response.status_code}: {response.text[:120]}")
            if role not in rule.roles and (
                response.status_code != 403 or not response.headers["content-type"].startswith(PROBLEM)
            ):
                failures.append(f"{operation}: {role} is not allowed but got {response.status_code}")
    assert not failures, "\n".join(failures)


def test_planners_and_caios_of_another_ministry_cannot_touch_a_project(
    stack: ServiceStack, foreign_ministry: str
) -> None:
    home = new_ministry(stack)
    owner = stack.client("registry", stack.token("owner", ["planner"], home))
    project = owner.post("/v1/projects", json=project_body(home)).json()
    wait_for(
        lambda: (
            stack.client("risk", stack.token("a", ["auditor"])).get(f"/v1/projects/{project['id']}/risk").status_code
            == 200
        )
    )
    attempts: list[tuple[str, str, str, dict[str, Any] | None]] = [
        ("registry", "POST", "/v1/projects", project_body(home)),
        ("registry", "PATCH", f"/v1/projects/{project['id']}", {"title": "Taken over", "reason": "foreign"}),
        ("registry", "POST", f"/v1/projects/{project['id']}/transitions", {"to": "procurement", "reason": "foreign"}),
        ("risk", "POST", f"/v1/projects/{project['id']}/assessments", None),
        ("risk", "POST", f"/v1/projects/{project['id']}/incidents", INCIDENT),
    ]
    for role in ("planner", "caio"):
        for service, method, path, body in attempts:
            client = stack.client(service, stack.token(f"{role}-foreign", [role], foreign_ministry))
            response = client.request(method, path, json=body, headers={"If-Match": '"1"'})
            if role not in policy.POLICY[operation_at(service, method, path)].roles:
                continue  # the role may not use this action anywhere: the role matrix above proves the refusal
            assert response.status_code == 403, f"{role} {method} {path}: {response.status_code} {response.text}"
            assert (
                response.headers["content-type"].startswith(PROBLEM) and foreign_ministry in response.json()["detail"]
            )
    events = (
        stack.client("registry", stack.token("a", ["auditor"]))
        .get(f"/v1/projects/{project['id']}/events")
        .json()["items"]
    )
    assert [event["type"] for event in events] == ["ProjectRegistered"]


def operation_at(service: str, method: str, path: str) -> str:
    """The operationId the route table matches for a concrete request."""
    for route_service, operation, route_method, route_path in ROUTES:
        pattern = "^" + re.sub(r"\{\w+\}", "[^/]+", route_path) + "$"
        if route_service == service and route_method == method and re.match(pattern, path):
            return operation
    raise LookupError(f"{method} {path} matches no route of {service}")
