"""Scenario helpers shared by the end-to-end tests: clients per role, a ministry with its officers, answers that
screen high or low, a complete Board submission, waiting for followers, and problem assertions."""

from __future__ import annotations

import copy
import subprocess
import sys
import uuid
from typing import Any

import httpx

from tests.support import PROJECT_ROOT, ServiceStack, current, new_ministry_code, project_body, wait_for


def version_2(content: dict) -> dict:
    """Version 2 puts 'staff check a sample of outputs' on the high side."""
    changed = copy.deepcopy(content)
    changed["version"] = 2
    for viewpoint in changed["viewpoints"]:
        for question in viewpoint["questions"]:
            for choice in question["choices"]:
                if question["id"] == "staff_judgment" and choice["id"] == "sampled":
                    choice["high"] = True
    return changed


RULESET = "jp-genai-2.0"


class Ministry:
    """A ministry with a designated CAIO, and clients for its planner, its CAIO, and the Board."""

    def __init__(self, stack: ServiceStack):
        self.stack = stack
        self.code = new_ministry_code()
        root = stack.client("registry", stack.token("root", ["admin"]))
        assert root.post("/v1/ministries", json={"code": self.code, "name": f"Ministry {self.code}"}).status_code == 201
        self.caio_id = f"caio-{self.code.lower()}"
        assert (
            root.put(
                f"/v1/ministries/{self.code}/caio",
                headers=current(root, f"/v1/ministries/{self.code}"),
                json={"officer_id": self.caio_id, "name": "Chie Sato", "reason": "appointed"},
            ).status_code
            == 200
        )
        self.planner_registry = stack.client("registry", stack.token("alice", ["planner"], self.code))
        self.planner = stack.client("risk", stack.token("alice", ["planner"], self.code))
        self.caio = stack.client("risk", stack.token(self.caio_id, ["caio"], self.code))
        self.caio_registry = stack.client("registry", stack.token(self.caio_id, ["caio"], self.code))
        self.board = stack.client("risk", stack.token("bob", ["board_member"]))
        wait_for(lambda: self.caio_known())

    def caio_known(self) -> bool:
        """The risk service has followed the designation (a harmless probe: unknown assessment → 404, not 403)."""
        return (
            self.caio.post(
                f"/v1/assessments/{uuid.uuid4()}/classification",
                headers={"If-Match": '"1"'},
                json={"classification": "high", "reasons": "probe"},
            ).status_code
            == 404
        )

    def register(self, **overrides: Any) -> str:
        response = self.planner_registry.post("/v1/projects", json=project_body(self.code, **overrides))
        assert response.status_code == 201, response.text
        project_id = response.json()["id"]
        wait_for(lambda: self.planner.get(f"/v1/projects/{project_id}/risk").status_code == 200)
        return project_id

    def transition(self, project_id: str, to: str) -> httpx.Response:
        """Move the project to ``to``; before development, first answers both check sheets in full (every item
        met), as a procured project has (tests of the sheets' gates call the route themselves)."""
        if to == "development":
            answered = answer_sheets(self.planner_registry, project_id)
            assert answered.status_code == 200, answered.text
        return self.transition_only(project_id, to)

    def transition_only(self, project_id: str, to: str) -> httpx.Response:
        """Ask for the transition and nothing else."""
        return self.planner_registry.post(
            f"/v1/projects/{project_id}/transitions",
            headers=current(self.planner_registry, f"/v1/projects/{project_id}"),
            json={"to": to, "reason": f"move to {to}"},
        )


PROCUREMENT_SHEET = "jp-procurement-2.0"
CONTRACT_SHEET = "jp-contract-2.0"


def sheet_items(client: httpx.Client, sheet_id: str, version: int = 1) -> list[dict[str, Any]]:
    response = client.get(f"/v1/check-sheets/{sheet_id}/versions/{version}")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["content"]["items"]
    return items


def all_met(client: httpx.Client, sheet_id: str, version: int = 1, **answers: dict[str, Any]) -> dict[str, Any]:
    """Answers to every item of the sheet (whether it applies or not): ``met``, unless ``answers`` says otherwise
    for an item (its id with ``-`` as ``_``)."""
    return {
        "sheet_id": sheet_id,
        "version": version,
        "answers": [
            {"item": item["id"], "answer": "met", "note": "in the specification", "evidence": "spec section 4"}
            | answers.get(item["id"].replace("-", "_"), {})
            for item in sheet_items(client, sheet_id, version)
        ],
    }


def answer_sheets(client: httpx.Client, project_id: str, contract: bool = True, **sheets: Any) -> httpx.Response:
    """PUT the project's procurement with both sheets answered in full (``procurement_sheet=``/``contract_sheet=``
    replace either; ``contract=False`` leaves the contract sheet out)."""
    body: dict[str, Any] = {
        "vendor": "Example Cloud KK",
        "contract_reference": "C-2026-001",
        "procurement_sheet": sheets.get("procurement_sheet") or all_met(client, PROCUREMENT_SHEET),
    }
    if contract:
        body["contract_sheet"] = sheets.get("contract_sheet") or all_met(client, CONTRACT_SHEET)
    return client.put(
        f"/v1/projects/{project_id}/procurement", headers=current(client, f"/v1/projects/{project_id}"), json=body
    )


def ruleset_content(stack: ServiceStack, version: int = 1) -> dict[str, Any]:
    response = stack.client("risk", stack.token("aud", ["auditor"])).get(f"/v1/rulesets/{RULESET}/versions/{version}")
    assert response.status_code == 200, response.text
    return response.json()["content"]


def answers(users: str, nature: str, data: str, judgment: str) -> dict[str, Any]:
    chosen = {"users": users, "nature_of_work": nature, "confidential_data": data, "staff_judgment": judgment}
    return {
        "answers": {
            question: {"choice": choice, "justification": f"{question} is {choice} in the design"}
            for question, choice in chosen.items()
        }
    }


HIGH_RISK = answers("public", "public_information", "none", "none")


LOW_RISK = answers("staff_only", "internal_support", "internal", "every_output")


def assess(ministry: Ministry, project_id: str, body: dict[str, Any]) -> dict[str, Any]:
    opened = ministry.planner.post(f"/v1/projects/{project_id}/assessments", json={"ruleset_id": RULESET})
    assert opened.status_code == 201, opened.text
    assessment_id = opened.json()["id"]
    assert (
        ministry.planner.put(
            f"/v1/assessments/{assessment_id}/answers",
            headers=current(ministry.planner, f"/v1/assessments/{assessment_id}"),
            json=body,
        ).status_code
        == 200
    )
    submitted = ministry.planner.post(
        f"/v1/assessments/{assessment_id}/submit", headers=current(ministry.planner, f"/v1/assessments/{assessment_id}")
    )
    assert submitted.status_code == 200, submitted.text
    return submitted.json()


def complete_submission(assessment_id: str) -> dict[str, Any]:
    return {
        "objectives": "Answer citizens' questions about procedures around the clock.",
        "expected_results": "Shorter waiting times; 30 % fewer routine calls.",
        "assessment_id": assessment_id,
        "mitigation_measures": [
            {
                "risk": "Wrong answers to citizens",
                "measure": "Answers cite official pages; weekly review",
                "owner": "Citizen Services Division",
                "status": "implemented",
            }
        ],
        "quality_assurance": {
            "evaluation_method": "Benchmark of 500 real questions graded by staff",
            "metrics": [{"name": "accuracy", "threshold": ">= 95 %"}],
            "monitoring": "Daily sampling of 50 conversations",
            "human_review": "Staff review escalated and sampled conversations",
            "incident_response": "Take the service offline within one hour; report to the CAIO",
        },
        "supporting_information": [{"title": "Pilot report", "reference": "MIC-DX-2026-07"}],
    }


def wait_for_gate(ministry: Ministry, project_id: str, expect_missing: str | None) -> httpx.Response:
    """Try operation until the registry has followed the risk log far enough to give the expected answer."""

    def attempt() -> httpx.Response | None:
        response = ministry.transition(project_id, "operation")
        if expect_missing is None:
            return response if response.status_code == 200 else None
        return response if response.status_code == 409 and expect_missing in response.json()["detail"] else None

    return wait_for(attempt, timeout=10, interval=0.05)


def auditor(stack: ServiceStack) -> Any:
    return stack.client("reporting", stack.token("aud", ["auditor"]))


def caught_up(stack: ServiceStack) -> dict[str, int]:
    """Wait until reporting reflects the head of both logs; return those positions."""
    reader = stack.client("registry", stack.token("aud", ["auditor"]))
    heads = {
        "registry": reader.get("/v1/log", params={"limit": 1}).json()["head_position"],
        "risk": stack.client("risk", stack.token("aud", ["auditor"]))
        .get("/v1/log", params={"limit": 1})
        .json()["head_position"],
    }
    wait_for(lambda: auditor(stack).get("/v1/inventory").json()["positions"] == heads, timeout=15)
    return heads


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "aigov.cli", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        env={**os.environ, **env},
    )


PROBLEM = "application/problem+json"


def admin(stack: ServiceStack) -> httpx.Client:
    return stack.client("registry", stack.token("root", ["admin"]))


def planner(stack: ServiceStack, ministry: str, service: str = "registry") -> httpx.Client:
    return stack.client(service, stack.token("alice", ["planner"], ministry, name="Alice Planner"))


def new_ministry(stack: ServiceStack) -> str:
    code = new_ministry_code()
    assert admin(stack).post("/v1/ministries", json={"code": code, "name": f"Ministry {code}"}).status_code == 201
    return code


def head(stack: ServiceStack, service: str = "registry") -> int:
    return (
        stack.client(service, stack.token("auditor", ["auditor"]))
        .get("/v1/log", params={"limit": 1})
        .json()["head_position"]
    )


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert (
        body["status"] == status and body["type"].startswith("urn:aigov:problem:") and body["title"] and body["detail"]
    )
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    return body


def heads(stack: ServiceStack) -> tuple[int, int]:
    return head(stack, "registry"), head(stack, "risk")


def classify(client: httpx.Client, assessment_id: str, classification: str = "high") -> httpx.Response:
    return client.post(
        f"/v1/assessments/{assessment_id}/classification",
        headers=current(client, f"/v1/assessments/{assessment_id}"),
        json={"classification": classification, "reasons": "answers on the high side"},
    )


def submit(ministry: Ministry, project_id: str, submission_id: str) -> httpx.Response:
    return ministry.caio.post(
        f"/v1/projects/{project_id}/board-submissions/{submission_id}/submit",
        headers=current(ministry.caio, f"/v1/board-submissions/{submission_id}"),
    )


def advise(client: httpx.Client, submission_id: str) -> httpx.Response:
    return client.post(
        f"/v1/board-submissions/{submission_id}/advice",
        headers=current(client, f"/v1/board-submissions/{submission_id}"),
        json={"opinion": "no_concerns", "text": "Sound plan."},
    )


def high_risk_in_development(ministry: Ministry) -> tuple[str, dict[str, Any]]:
    project_id = ministry.register(users="public", nature_of_work="public_information", human_review="none")
    for stage in ("procurement", "development"):
        assert ministry.transition(project_id, stage).status_code == 200
    return project_id, assess(ministry, project_id, HIGH_RISK)
