"""Issue 13, acceptance 1: replace-then-act races. Right after ``PUT /v1/ministries/{code}/caio`` answers 200 for a
new officer, the replaced officer classifies, decides, amends or reports: every attempt is refused with 403 (or 503
``follower-behind`` when the consistency bound is reached), and no event is recorded but the designations.

``AIGOV_TEST_RACES`` sets the number of races per backend (default: the issue's 1,000). Each race is sequential by
nature (the acknowledgement must come first), so the count is spread over a few ministries racing side by side."""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.support import ServiceStack, current
from tests.support.scenarios import (
    HIGH_RISK,
    Ministry,
    advise,
    assess,
    classify,
    complete_submission,
    heads,
    high_risk_in_development,
    submit,
)

RACES = int(os.environ.get("AIGOV_TEST_RACES", "1000"))
LANES = 4
ACTS = ("classify", "decide", "amend", "report")


class Lane:
    """One ministry whose CAIO designation flips between two officers, with a target for each act."""

    def __init__(self, stack: ServiceStack):
        self.stack = stack
        self.ministry = Ministry(stack)
        self.root = stack.client("registry", stack.token("root", ["admin"]))
        self.officers = [self.ministry.caio_id, f"{self.ministry.caio_id}-b"]
        self.ministry_etag = current(self.root, f"/v1/ministries/{self.ministry.code}")["If-Match"]
        decided_project, decided = high_risk_in_development(self.ministry)
        assert classify(self.ministry.caio, decided["id"]).status_code == 200
        submission = self.ministry.planner.post(
            f"/v1/projects/{decided_project}/board-submissions", json=complete_submission(decided["id"])
        ).json()["id"]
        assert submit(self.ministry, decided_project, submission).status_code == 200
        assert advise(self.ministry.board, submission).status_code == 200
        incident = self.ministry.planner.post(
            f"/v1/projects/{decided_project}/incidents",
            json={
                "occurred_at": "2026-11-20T09:00:00+09:00",
                "what_happened": "A wrong answer",
                "harm": "none",
                "severity": "low",
                "immediate_actions": "Corrected",
            },
        ).json()["id"]
        self.project = self.ministry.register()
        self.assessment = assess(self.ministry, self.project, HIGH_RISK)["id"]
        self.targets = {"submission": submission, "incident": incident}

    def client(self, service: str, officer: str) -> httpx.Client:
        return self.stack.client(service, self.stack.token(officer, ["caio"], self.ministry.code))

    def run(self, races: int) -> Counter[int]:
        outcomes: Counter[int] = Counter()
        clients = {
            (service, officer): self.client(service, officer)
            for service in ("registry", "risk")
            for officer in self.officers
        }
        for index in range(races):
            old, new = self.officers[index % 2], self.officers[(index + 1) % 2]
            replaced = self.root.put(
                f"/v1/ministries/{self.ministry.code}/caio",
                headers={"If-Match": self.ministry_etag},
                json={"officer_id": new, "name": "New Officer", "reason": f"race {index}"},
            )
            assert replaced.status_code == 200, replaced.text
            self.ministry_etag = replaced.headers["ETag"]
            response = self.act(ACTS[index % len(ACTS)], clients[("registry", old)], clients[("risk", old)])
            outcomes[response.status_code] += 1
        return outcomes

    def act(self, act: str, registry: httpx.Client, risk: httpx.Client) -> httpx.Response:
        """One act of the replaced officer, with ``If-Match: *`` so that only authority can refuse it."""
        anything = {"If-Match": "*"}
        if act == "classify":
            body: dict[str, Any] = {"classification": "high", "reasons": "race"}
            return risk.post(f"/v1/assessments/{self.assessment}/classification", headers=anything, json=body)
        if act == "decide":
            body = {"decision": "proceed", "reasons": "race", "condition_responses": []}
            return risk.post(
                f"/v1/board-submissions/{self.targets['submission']}/decision", headers=anything, json=body
            )
        if act == "amend":
            return registry.patch(f"/v1/projects/{self.project}", headers=anything, json={"title": "x", "reason": "r"})
        body = {"reference": "DA-race", "reason": "race"}
        return risk.post(f"/v1/incidents/{self.targets['incident']}/report", headers=anything, json=body)


def test_a_replaced_officer_never_acts_after_the_replacement_is_acknowledged(stack: ServiceStack) -> None:
    lanes = [Lane(stack) for _ in range(LANES)]
    before_registry, before_risk = heads(stack)
    shares = [RACES // LANES + (1 if index < RACES % LANES else 0) for index in range(LANES)]
    with ThreadPoolExecutor(LANES) as pool:
        outcomes = sum((result for result in pool.map(Lane.run, lanes, shares)), Counter())
    assert sum(outcomes.values()) == RACES
    assert set(outcomes) <= {403, 503}, outcomes
    after_registry, after_risk = heads(stack)
    assert after_risk == before_risk, "a replaced officer's act reached the risk log"
    assert after_registry == before_registry + RACES, "something besides the designations reached the registry log"
