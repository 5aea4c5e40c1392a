"""The registry end to end through HTTP, with the risk and reporting services following its log."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support import ServiceStack, current, new_ministry_code, project_body, wait_for
from tests.support.scenarios import admin, answer_sheets, assert_problem, head, new_ministry, planner


def test_the_full_registry_path_reaches_reporting_with_every_step_accountable(stack: ServiceStack) -> None:
    code = new_ministry_code()
    root = admin(stack)
    assert (
        root.post(
            "/v1/ministries",
            json={"code": code, "name": "Ministry of Internal Affairs"},
            headers={"X-Request-ID": "req-create"},
        ).status_code
        == 201
    )
    designated = root.put(
        f"/v1/ministries/{code}/caio",
        headers=current(root, f"/v1/ministries/{code}"),
        json={"officer_id": "caio-1", "name": "Chie Sato", "reason": "appointed by cabinet order"},
    )
    assert designated.status_code == 200 and designated.json()["caio"] == {"officer_id": "caio-1", "name": "Chie Sato"}

    alice = planner(stack, code)
    registered = alice.post("/v1/projects", json=project_body(code))
    assert registered.status_code == 201 and registered.headers["ETag"] == '"1"'
    project_id = registered.json()["id"]

    amended = alice.patch(
        f"/v1/projects/{project_id}",
        json={"reason": "pilot extended to a second bureau", "expected_users": 600},
        headers={"If-Match": '"1"'},
    )
    assert amended.status_code == 200 and amended.headers["ETag"] == '"2"'
    etag = amended.headers["ETag"]
    for stage, reason in (("procurement", "budget approved"), ("development", "contract signed")):
        if stage == "development":  # the gate before development: the procurement sheet answered
            answered = answer_sheets(alice, project_id)
            assert answered.status_code == 200, answered.text
            etag = answered.headers["ETag"]
        moved = alice.post(
            f"/v1/projects/{project_id}/transitions", json={"to": stage, "reason": reason}, headers={"If-Match": etag}
        )
        assert moved.status_code == 200 and moved.json()["stage"] == stage
        etag = moved.headers["ETag"]

    inventory = planner(stack, code, "reporting")

    def reflected() -> dict[str, Any] | None:
        """Reporting has followed both logs: the registry's last transition and the risk service's record."""
        items = inventory.get("/v1/inventory", params={"ministry": code}).json()["items"]
        return (
            items[0]
            if items and items[0]["stage"] == "development" and items[0]["risk_status"] != "not_known_to_risk"
            else None
        )

    item = wait_for(reflected)
    assert item["project_id"] == project_id and item["ministry"] == code
    assert item["caio"] == {"officer_id": "caio-1", "name": "Chie Sato"}
    assert item["risk_status"] == "due"

    events = alice.get(f"/v1/projects/{project_id}/events").json()["items"]
    assert [event["type"] for event in events] == [
        "ProjectRegistered",
        "ProjectAmended",
        "ProjectStageChanged",
        "CheckSheetsAnswered",
        "ProjectStageChanged",
    ]
    assert all(event["meta"]["actor_id"] == "alice" and event["meta"]["actor_role"] == "planner" for event in events)
    assert [event["meta"]["reason"] for event in events[1:]] == [
        "pilot extended to a second bureau",
        "budget approved",
        None,
        "contract signed",
    ]
    assert events[1]["data"]["material"] is False and events[1]["data"]["changes"] == {"expected_users": 600}

    ministry_events = root.get("/v1/log", params={"after": 0, "limit": 1000}).json()["items"]
    created = next(
        event for event in ministry_events if event["type"] == "MinistryEstablished" and event["data"]["code"] == code
    )
    assert created["meta"]["correlation_id"] == "req-create"


def test_caio_replacement_and_revocation_keep_the_history(stack: ServiceStack) -> None:
    code = new_ministry(stack)
    root = admin(stack)
    root.put(
        f"/v1/ministries/{code}/caio",
        headers=current(root, f"/v1/ministries/{code}"),
        json={"officer_id": "o-1", "name": "First", "reason": "appointed"},
    )
    root.put(
        f"/v1/ministries/{code}/caio",
        headers=current(root, f"/v1/ministries/{code}"),
        json={"officer_id": "o-2", "name": "Second", "reason": "reshuffle"},
    )
    assert root.get(f"/v1/ministries/{code}/caio").json()["caio"]["officer_id"] == "o-2"
    assert (
        root.delete(
            f"/v1/ministries/{code}/caio",
            headers=current(root, f"/v1/ministries/{code}"),
            params={"reason": "post abolished"},
        ).json()["caio"]
        is None
    )
    history = root.get(f"/v1/ministries/{code}/caio/history").json()["items"]
    assert [(entry["officer_id"], entry["ended_how"], entry["end_reason"]) for entry in history] == [
        ("o-1", "replaced", "reshuffle"),
        ("o-2", "revoked", "post abolished"),
    ]
    assert_problem(
        root.delete(
            f"/v1/ministries/{code}/caio", headers=current(root, f"/v1/ministries/{code}"), params={"reason": "again"}
        ),
        409,
    )


def registered_project(stack: ServiceStack) -> tuple[str, str, httpx.Client]:
    code = new_ministry(stack)
    alice = planner(stack, code)
    response = alice.post("/v1/projects", json=project_body(code))
    assert response.status_code == 201
    return code, response.json()["id"], alice


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda body: body.pop("title"), "body.title"),
        (lambda body: body.update(users="everyone"), "body.users"),
        (
            lambda body: body.update(models=[{"provider": "x", "model": "y", "deployment": "cloud"}]),
            "body.models[0].deployment",
        ),
        (lambda body: body.update(expected_users=-1), "body.expected_users"),
        (lambda body: body.update(unexpected="field"), "body.unexpected"),
        (lambda body: body["data"].pop("personal_data"), "body.data.personal_data"),
        (lambda body: body.update(title="x" * 201), "body.title"),
        (lambda body: body.update(expected_users=False), "body.expected_users"),
        (lambda body: body.update(expected_users="300"), "body.expected_users"),
        (lambda body: body["data"].update(personal_data="no"), "body.data.personal_data"),
        (lambda body: body["data"].update(personal_data=0), "body.data.personal_data"),
    ],
)
def test_invalid_registrations_name_the_field_and_leave_no_event(stack: ServiceStack, mutate: Any, field: str) -> None:
    code = new_ministry(stack)
    body = project_body(code)
    mutate(body)
    before = head(stack)
    assert_problem(planner(stack, code).post("/v1/projects", json=body), 422, field)
    assert head(stack) == before


def test_a_body_that_is_not_json_is_a_problem_not_a_crash(stack: ServiceStack) -> None:
    code = new_ministry(stack)
    before = head(stack)
    response = planner(stack, code).post(
        "/v1/projects", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 422)
    assert head(stack) == before


def test_unknown_ids_are_404_problems(stack: ServiceStack) -> None:
    code, _, alice = registered_project(stack)
    before = head(stack)
    missing = uuid.uuid4()
    assert_problem(alice.get(f"/v1/projects/{missing}"), 404)
    assert_problem(
        alice.patch(f"/v1/projects/{missing}", json={"reason": "r", "title": "t"}, headers={"If-Match": '"1"'}), 404
    )
    assert_problem(
        alice.post(
            f"/v1/projects/{missing}/transitions",
            headers={"If-Match": '"1"'},
            json={"to": "procurement", "reason": "r"},
        ),
        404,
    )
    assert_problem(alice.get("/v1/ministries/NOPE"), 404)
    assert_problem(alice.get("/v1/projects/not-a-uuid"), 422, "path.project_id")
    assert_problem(alice.post("/v1/projects", json=project_body("NOSUCHMIN")), 403)  # planner of another ministry
    assert head(stack) == before


def test_registering_for_an_unknown_ministry_names_the_field(stack: ServiceStack) -> None:
    code = "UNKNOWN" + uuid.uuid4().hex[:4].upper()
    before = head(stack)
    assert_problem(planner(stack, code).post("/v1/projects", json=project_body(code)), 422, "body.ministry")
    assert head(stack) == before


def test_wrong_lifecycle_steps_are_409_naming_the_allowed_ones(stack: ServiceStack) -> None:
    _, project_id, alice = registered_project(stack)
    before = head(stack)
    body = assert_problem(
        alice.post(
            f"/v1/projects/{project_id}/transitions",
            headers=current(alice, f"/v1/projects/{project_id}"),
            json={"to": "operation", "reason": "skip ahead"},
        ),
        409,
    )
    assert body["allowed"] == ["procurement", "retired"] and body["current_stage"] == "planning"
    assert "procurement" in body["detail"]
    assert_problem(
        alice.post(
            f"/v1/projects/{project_id}/transitions",
            headers=current(alice, f"/v1/projects/{project_id}"),
            json={"to": "flying", "reason": "r"},
        ),
        422,
        "body.to",
    )
    assert head(stack) == before


def test_stale_or_missing_if_match_is_refused_without_an_event(stack: ServiceStack) -> None:
    _, project_id, alice = registered_project(stack)
    assert (
        alice.patch(
            f"/v1/projects/{project_id}", json={"reason": "rename", "title": "New title"}, headers={"If-Match": '"1"'}
        ).status_code
        == 200
    )
    before = head(stack)
    body = assert_problem(
        alice.patch(
            f"/v1/projects/{project_id}", json={"reason": "rename", "title": "Other"}, headers={"If-Match": '"1"'}
        ),
        412,
    )
    assert body["current_version"] == 2
    assert_problem(alice.patch(f"/v1/projects/{project_id}", json={"reason": "rename", "title": "Other"}), 428)
    assert_problem(
        alice.patch(
            f"/v1/projects/{project_id}", json={"reason": "rename", "title": "New title"}, headers={"If-Match": '"2"'}
        ),
        422,
    )  # changes nothing
    assert_problem(
        alice.patch(f"/v1/projects/{project_id}", json={"title": "No reason"}, headers={"If-Match": '"2"'}),
        422,
        "body.reason",
    )
    assert head(stack) == before


def test_material_amendments_are_flagged_in_the_event(stack: ServiceStack) -> None:
    _, project_id, alice = registered_project(stack)
    response = alice.patch(
        f"/v1/projects/{project_id}",
        json={"reason": "opened to citizens", "users": "public", "owner": "New owner"},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200
    amended = alice.get(f"/v1/projects/{project_id}/events").json()["items"][-1]
    assert amended["data"]["material"] is True and amended["data"]["material_fields"] == ["users"]
    assert amended["data"]["previous"] == {"users": "staff_only", "owner": "Digital Transformation Office"}


def test_procurement_is_recorded_from_the_procurement_stage(stack: ServiceStack) -> None:
    _, project_id, alice = registered_project(stack)
    record = {
        "vendor": "Example KK",
        "contract_reference": "MIC-2026-001",
        "procurement_checks": [{"item": "P-01", "answer": "met", "note": "governance items in spec"}],
        "contract_checks": [
            {"item": "C-01", "answer": "not_met", "note": "training on government data to be excluded"}
        ],
    }
    assert_problem(
        alice.put(
            f"/v1/projects/{project_id}/procurement", headers=current(alice, f"/v1/projects/{project_id}"), json=record
        ),
        409,
    )
    alice.post(
        f"/v1/projects/{project_id}/transitions",
        headers=current(alice, f"/v1/projects/{project_id}"),
        json={"to": "procurement", "reason": "budget"},
    )
    assert_problem(
        alice.put(
            f"/v1/projects/{project_id}/procurement",
            headers=current(alice, f"/v1/projects/{project_id}"),
            json={**record, "contract_checks": record["contract_checks"] * 2},
        ),
        422,
        "body",
    )
    recorded = alice.put(
        f"/v1/projects/{project_id}/procurement", headers=current(alice, f"/v1/projects/{project_id}"), json=record
    )
    assert recorded.status_code == 200 and recorded.json()["procurement"]["vendor"] == "Example KK"


def test_no_token_bad_token_and_wrong_scope(stack: ServiceStack) -> None:
    code, project_id, _ = registered_project(stack)
    before = head(stack)
    anonymous = stack.client("registry")
    assert_problem(anonymous.post("/v1/ministries", json={"code": "ABC", "name": "x"}), 401)
    assert_problem(stack.client("registry", "not-a-jwt").get("/v1/ministries"), 401)
    other = planner(stack, "OTHER")
    assert_problem(
        other.patch(f"/v1/projects/{project_id}", json={"reason": "r", "title": "t"}, headers={"If-Match": '"1"'}), 403
    )
    assert_problem(
        planner(stack, code).put(f"/v1/ministries/{code}/caio", json={"officer_id": "x", "name": "x", "reason": "r"}),
        403,
    )
    auditor = stack.client("registry", stack.token("aud", ["auditor"]))
    assert_problem(auditor.post("/v1/projects", json=project_body(code)), 403)
    assert head(stack) == before


def test_projects_list_filters_and_pages_stably(stack: ServiceStack) -> None:
    code = new_ministry(stack)
    alice = planner(stack, code)
    ids = [alice.post("/v1/projects", json=project_body(code, title=f"P{n}")).json()["id"] for n in range(5)]
    alice.post(
        f"/v1/projects/{ids[0]}/transitions",
        headers=current(alice, f"/v1/projects/{ids[0]}"),
        json={"to": "procurement", "reason": "r"},
    )
    first = alice.get("/v1/projects", params={"ministry": code, "limit": 3}).json()
    second = alice.get("/v1/projects", params={"ministry": code, "limit": 3, "cursor": first["next_cursor"]}).json()
    assert [item["id"] for item in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None
    in_procurement = alice.get("/v1/projects", params={"ministry": code, "stage": "procurement"}).json()["items"]
    assert [item["id"] for item in in_procurement] == [ids[0]]
