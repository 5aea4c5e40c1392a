"""Several replicas of each service on PostgreSQL: stateless HTTP, one active follower per log, fail-over."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.reporting.readmodel import ReportingStore
from shared.settings import Settings
from tests.support import SERVICES, PostgresRun, ServiceStack, current, migrated, wait_for
from tests.support.scenarios import HIGH_RISK, Ministry, assess, cli, complete_submission


class Alternating:
    """An HTTP client that sends each request to the next replica in turn."""

    def __init__(self, clients: list[httpx.Client]):
        self.cycle = itertools.cycle(clients)

    def __getattr__(self, method: str) -> Any:
        return lambda *args, **kwargs: getattr(next(self.cycle), method)(*args, **kwargs)


class ReplicatedStack(ServiceStack):
    def client(self, service: str, token: str | None = None, **headers: str) -> Any:  # type: ignore[override]
        replicas = [name for name in self.processes if name.split("#")[0] == service]
        return Alternating([ServiceStack.client(self, name, token, **headers) for name in replicas])

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"


@pytest.mark.slow
def test_two_replicas_of_each_service_run_the_high_risk_path_and_fail_over(
    postgres_run: PostgresRun, tmp_path: Path
) -> None:
    url = migrated(postgres_run.fresh_schema_url())
    stack = ReplicatedStack(url, tmp_path)
    store = ReportingStore(Settings(database_url=url, var_dir=tmp_path))
    try:
        for service in SERVICES:
            stack.start(service)
        time.sleep(1.5)  # the first replicas take the follower locks
        for service in SERVICES:
            stack.start(f"{service}#2")

        ministry = Ministry(stack)
        project_id = ministry.register(users="public")
        for stage in ("procurement", "development"):
            assert ministry.transition(project_id, stage).status_code == 200
        assessment = assess(ministry, project_id, HIGH_RISK)
        assert (
            ministry.caio.post(
                f"/v1/assessments/{assessment['id']}/classification",
                headers=current(ministry.caio, f"/v1/assessments/{assessment['id']}"),
                json={"classification": "high", "reasons": "public"},
            ).status_code
            == 200
        )
        submission = ministry.planner.post(
            f"/v1/projects/{project_id}/board-submissions", json=complete_submission(assessment["id"])
        ).json()["id"]
        assert (
            ministry.caio.post(
                f"/v1/projects/{project_id}/board-submissions/{submission}/submit",
                headers=current(ministry.caio, f"/v1/board-submissions/{submission}"),
            ).status_code
            == 200
        )
        assert (
            ministry.board.post(
                f"/v1/board-submissions/{submission}/advice",
                headers=current(ministry.board, f"/v1/board-submissions/{submission}"),
                json={"opinion": "no_concerns", "text": "fine"},
            ).status_code
            == 200
        )
        assert (
            ministry.caio.post(
                f"/v1/board-submissions/{submission}/decision",
                headers=current(ministry.caio, f"/v1/board-submissions/{submission}"),
                json={"decision": "proceed", "reasons": "advice received"},
            ).status_code
            == 200
        )
        wait_for(lambda: ministry.transition(project_id, "operation").status_code == 200, timeout=10)

        reader = stack.client("reporting", stack.token("aud", ["auditor"]))
        wait_for(
            lambda: any(
                i["project_id"] == project_id and i["stage"] == "operation"
                for i in reader.get("/v1/high-risk-register").json()["items"]
            ),
            timeout=10,
        )

        stack.kill("reporting")  # the replica holding the projection's lock
        killed = time.monotonic()
        second = ministry.register(title="After the fail-over")
        wait_for(
            lambda: any(
                i["project_id"] == second
                for i in ServiceStack.client(stack, "reporting#2", stack.token("aud", ["auditor"]))
                .get("/v1/inventory")
                .json()["items"]
            ),
            timeout=10,
        )
        assert time.monotonic() - killed < 10

        register = (
            ServiceStack.client(stack, "reporting#2", stack.token("aud", ["auditor"]))
            .get("/v1/high-risk-register")
            .json()
        )
        entry = next(item for item in register["items"] if item["project_id"] == project_id)
        assert entry["decision"]["decision"] == "proceed" and entry["advice"]["opinion"] == "no_concerns"
        heads = {
            service: ServiceStack.client(stack, service, stack.token("aud", ["auditor"]))
            .get("/v1/log", params={"limit": 1})
            .json()["head_position"]
            for service in ("registry", "risk")
        }
        wait_for(lambda: store.positions() == heads, timeout=10)
    finally:
        stack.stop_all()
    live = store.rows()
    assert cli("reporting", "rebuild", AIGOV_DATABASE_URL=url, AIGOV_VAR_DIR=str(tmp_path)).returncode == 0
    assert store.rows() == live
