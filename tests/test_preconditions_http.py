"""Every change of an existing resource needs the ETag of the version the client saw (If-Match).

Proves, for each change operation of every service, through HTTP on both databases: no If-Match is 428,
a stale or weak one is 412 naming the current version, neither writes anything; the current ETag succeeds
and the answer carries the new ETag, which is what a later GET returns. A second test ties the table below
to the OpenAPI documents, so a new change route without If-Match, or one this test skips, fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from aigov.cli import openapi_documents
from services.registry import sheets as checksheets
from shared.openapi_examples import operations
from tests.support import ServiceStack
from tests.support.scenarios import HIGH_RISK, Ministry, assert_problem, complete_submission, head

# Changes under a collection create a new resource (the Idempotency-Key covers their retries); the rescore is a dry run.
NOT_A_CHANGE_OF_AN_EXISTING_RESOURCE = {
    "open_assessment",
    "draft_board_submission",
    "record_incident",
    "submit_periodic_report",  # records a new submission; the CAIO names the report's hash and positions
    "issue_usage_rules",  # records a new version of the ministry's rules
    "rescore_ruleset",
}
PROCUREMENT = {  # both shipped sheets answered in full, one contract item not met (for the CAIO to accept)
    "vendor": "Example KK",
    "contract_reference": "MIC-2026-001",
    **{
        f"{sheet.kind.value}_sheet": {
            "sheet_id": sheet.id,
            "version": sheet.version,
            "answers": [
                {"item": item.id, "answer": "not_met" if item.id == "C-LOG-01" else "met"} for item in sheet.items
            ],
        }
        for sheet in map(checksheets.parse, checksheets.shipped_contents())
    },
}
MODEL_CHANGE = {
    "provider": "ExampleAI",
    "model": "example-large",
    "version": "2027-01",
    "effective_date": "2027-01-15",
    "changes": "A new base model.",
}
INCIDENT = {
    "occurred_at": "2026-11-20T09:00:00+09:00",
    "what_happened": "A reply cited a repealed ordinance",
    "harm": "individuals",
    "severity": "high",
    "immediate_actions": "Reply corrected",
}


@dataclass(frozen=True)
class Change:
    """One change operation: who sends it, where, with what, and which resource's ETag guards it."""

    operation: str
    client: httpx.Client
    method: str
    url: str
    resource: str
    body: dict[str, Any] | None = None
    params: dict[str, str] | None = None

    def send(self, if_match: str | None) -> httpx.Response:
        headers = {"If-Match": if_match} if if_match is not None else {}
        return self.client.request(self.method, self.url, json=self.body, params=self.params, headers=headers)


def check(stack: ServiceStack, service: str, change: Change) -> httpx.Response:
    """428 and 412 write nothing; the current ETag succeeds and returns the next one."""
    current = change.client.get(change.resource)
    assert current.status_code == 200, current.text
    etag, version = current.headers["ETag"], current.json()["version"]
    assert etag == f'"{version}"', change.operation
    before = head(stack, service)
    assert_problem(change.send(None), 428)
    stale = assert_problem(change.send(f'"{version + 7}"'), 412)
    assert stale["current_version"] == version, change.operation
    assert_problem(change.send(f"W/{etag}"), 412)
    assert head(stack, service) == before, f"{change.operation}: a refused precondition wrote to the log"
    done = change.send(etag)
    assert done.status_code == 200, (change.operation, done.text)
    assert done.headers["ETag"] == change.client.get(change.resource).headers["ETag"] != etag, change.operation
    return done


def changes_along_the_high_risk_path(stack: ServiceStack) -> list[tuple[str, Callable[[], Change]]]:
    """Every change operation, in an order the guideline's process allows; each built when its turn comes."""
    ministry = Ministry(stack)
    project_id = ministry.register(users="public")
    root = stack.client("registry", stack.token("root", ["admin"]))
    project, state = f"/v1/projects/{project_id}", {}

    def opened() -> str:
        state["assessment"] = f"/v1/assessments/{ministry.planner.post(f'{project}/assessments', json={}).json()['id']}"
        return state["assessment"]

    def drafted() -> str:
        assessment_id = state["assessment"].rsplit("/", 1)[1]
        state["submission_id"] = ministry.planner.post(
            f"{project}/board-submissions", json=complete_submission(assessment_id)
        ).json()["id"]
        return f"/v1/board-submissions/{state['submission_id']}"

    def incident() -> str:
        state["incident"] = f"/v1/incidents/{ministry.planner.post(f'{project}/incidents', json=INCIDENT).json()['id']}"
        return state["incident"]

    submission = lambda: f"/v1/board-submissions/{state['submission_id']}"  # noqa: E731 - read when the step runs
    return [
        (
            "registry",
            lambda: Change(
                "amend_project",
                ministry.planner_registry,
                "PATCH",
                project,
                project,
                {"reason": "second bureau", "expected_users": 900},
            ),
        ),
        (
            "registry",
            lambda: Change(
                "transition_project",
                ministry.planner_registry,
                "POST",
                f"{project}/transitions",
                project,
                {"to": "procurement", "reason": "budget"},
            ),
        ),
        (
            "registry",
            lambda: Change(
                "record_procurement",
                ministry.planner_registry,
                "PUT",
                f"{project}/procurement",
                project,
                {**PROCUREMENT, "reason": "contract signed"},
            ),
        ),
        (
            "registry",
            lambda: Change(
                "accept_check_item_risk",
                ministry.caio_registry,
                "POST",
                f"{project}/check-sheets/contract/items/C-LOG-01/risk-acceptance",
                project,
                {"reason": "30 days of logs suffice"},
            ),
        ),
        (
            "registry",
            lambda: Change(
                "record_model_change",
                ministry.planner_registry,
                "POST",
                f"{project}/model-changes",
                project,
                MODEL_CHANGE,
            ),
        ),
        (
            "risk",
            lambda: Change(
                "record_answers", ministry.planner, "PUT", f"{opened()}/answers", state["assessment"], HIGH_RISK
            ),
        ),
        (
            "risk",
            lambda: Change(
                "submit_assessment", ministry.planner, "POST", f"{state['assessment']}/submit", state["assessment"]
            ),
        ),
        (
            "risk",
            lambda: Change(
                "classify_assessment",
                ministry.caio,
                "POST",
                f"{state['assessment']}/classification",
                state["assessment"],
                {"classification": "high", "reasons": "public facing"},
            ),
        ),
        (
            "risk",
            lambda: Change(
                "submit_board_submission",
                ministry.caio,
                "POST",
                f"{project}/board-submissions/{drafted().rsplit('/', 1)[1]}/submit",
                submission(),
            ),
        ),
        (
            "risk",
            lambda: Change(
                "record_board_advice",
                ministry.board,
                "POST",
                f"{submission()}/advice",
                submission(),
                {"opinion": "no_concerns", "text": "Adequate."},
            ),
        ),
        (
            "risk",
            lambda: Change(
                "record_caio_decision",
                ministry.caio,
                "POST",
                f"{submission()}/decision",
                submission(),
                {"decision": "proceed", "reasons": "advice received"},
            ),
        ),
        (
            "risk",
            lambda: Change(
                "report_incident",
                ministry.caio,
                "POST",
                f"{incident()}/report",
                state["incident"],
                {"reference": "DA-2026-0042"},
            ),
        ),
        (
            "risk",
            lambda: Change(
                "close_incident",
                ministry.planner,
                "POST",
                f"{state['incident']}/close",
                state["incident"],
                {"corrective_measures": "Filter added"},
            ),
        ),
        (
            "registry",
            lambda: Change(
                "designate_caio",
                root,
                "PUT",
                f"/v1/ministries/{ministry.code}/caio",
                f"/v1/ministries/{ministry.code}",
                {"officer_id": "caio-next", "name": "Kenji Mori", "reason": "reshuffle"},
            ),
        ),
        (
            "registry",
            lambda: Change(
                "revoke_caio",
                root,
                "DELETE",
                f"/v1/ministries/{ministry.code}/caio",
                f"/v1/ministries/{ministry.code}",
                params={"reason": "post abolished"},
            ),
        ),
    ]


EXERCISED = [
    "amend_project", "transition_project", "record_procurement", "accept_check_item_risk", "record_model_change",
    "record_answers", "submit_assessment",
    "classify_assessment", "submit_board_submission", "record_board_advice", "record_caio_decision",
    "report_incident", "close_incident", "designate_caio", "revoke_caio",
]  # fmt: skip


def test_every_change_needs_the_current_etag(stack: ServiceStack) -> None:
    exercised = []
    for service, build in changes_along_the_high_risk_path(stack):
        change = build()
        check(stack, service, change)
        exercised.append(change.operation)
    assert exercised == EXERCISED


#: Change routes whose 412 and 428 are exercised in their own modules.
EXERCISED_ELSEWHERE = {
    "edit_board_submission": "tests/test_board_workflow_http.py::test_a_draft_edited_twice_then_submitted",
    "publish_project": "tests/test_public_register.py",
}


def test_every_change_route_requires_if_match_and_is_exercised_above() -> None:
    requiring = set()
    for document in map(json.loads, openapi_documents().values()):
        for method, path, operation in operations(document):
            if method == "get" or "{" not in path or operation["operationId"] in NOT_A_CHANGE_OF_AN_EXISTING_RESOURCE:
                continue
            header = [parameter for parameter in operation.get("parameters", []) if parameter["name"] == "If-Match"]
            assert header and header[0]["required"] is True, (
                f"{operation['operationId']} changes {path} without a required If-Match"
            )
            requiring.add(operation["operationId"])
    assert requiring == set(EXERCISED) | set(EXERCISED_ELSEWHERE)
