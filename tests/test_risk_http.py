"""The guideline's risk process end to end through HTTP: screening, classification, the Advisory Board,
incidents, ruleset versions, and the registry's gate before operation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support import ServiceStack, new_ministry_code, project_body, wait_for
from tests.test_registry_http import assert_problem, head

RULESET = "jp-genai-2.0"


class Ministry:
    """A ministry with a designated CAIO, and clients for its planner, its CAIO, and the Board."""

    def __init__(self, stack: ServiceStack):
        self.stack = stack
        self.code = new_ministry_code()
        root = stack.client("registry", stack.token("root", ["admin"]))
        assert root.post("/v1/ministries", json={"code": self.code, "name": f"Ministry {self.code}"}).status_code == 201
        self.caio_id = f"caio-{self.code.lower()}"
        assert root.put(f"/v1/ministries/{self.code}/caio", json={"officer_id": self.caio_id, "name": "Chie Sato", "reason": "appointed"}).status_code == 200
        self.planner_registry = stack.client("registry", stack.token("alice", ["planner"], self.code))
        self.planner = stack.client("risk", stack.token("alice", ["planner"], self.code))
        self.caio = stack.client("risk", stack.token(self.caio_id, ["caio"], self.code))
        self.caio_registry = stack.client("registry", stack.token(self.caio_id, ["caio"], self.code))
        self.board = stack.client("risk", stack.token("bob", ["board_member"]))
        wait_for(lambda: self.caio_known())

    def caio_known(self) -> bool:
        """The risk service has followed the designation (a harmless probe: unknown assessment → 404, not 403)."""
        return self.caio.post(f"/v1/assessments/{uuid.uuid4()}/classification", json={"classification": "high", "reasons": "probe"}).status_code == 404

    def register(self, **overrides: Any) -> str:
        response = self.planner_registry.post("/v1/projects", json=project_body(self.code, **overrides))
        assert response.status_code == 201, response.text
        project_id = response.json()["id"]
        wait_for(lambda: self.planner.get(f"/v1/projects/{project_id}/risk").status_code == 200)
        return project_id

    def transition(self, project_id: str, to: str) -> httpx.Response:
        return self.planner_registry.post(f"/v1/projects/{project_id}/transitions", json={"to": to, "reason": f"move to {to}"})


def ruleset_content(stack: ServiceStack, version: int = 1) -> dict[str, Any]:
    response = stack.client("risk", stack.token("aud", ["auditor"])).get(f"/v1/rulesets/{RULESET}/versions/{version}")
    assert response.status_code == 200, response.text
    return response.json()["content"]
