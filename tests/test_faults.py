"""Fault injection: contention and crashes lose nothing acknowledged and duplicate nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from services.registry.application import RegistryApplication
from services.reporting.readmodel import ReportingStore
from services.risk.application import RiskApplication
from shared.settings import Settings
from tests.conftest import fresh_url
from tests.support import ServiceStack, migrated, new_ministry_code, project_body, running_stack, wait_for
from tests.support.scenarios import cli

pytestmark = pytest.mark.faults
WRITERS = 100
BURST = 120


def test_a_hundred_concurrent_writers_on_one_project_one_success_per_version(stack: ServiceStack) -> None:
    code = new_ministry_code()
    assert (
        stack.client("registry", stack.token("root", ["admin"]))
        .post("/v1/ministries", json={"code": code, "name": "M"})
        .status_code
        == 201
    )
    token = stack.token("alice", ["planner"], code)
    project_id = stack.client("registry", token).post("/v1/projects", json=project_body(code)).json()["id"]

    def amend(number: int) -> int:
        with stack.client("registry", token) as client:
            return client.patch(
                f"/v1/projects/{project_id}",
                json={"reason": f"writer {number}", "title": f"Title {number}"},
                headers={"If-Match": '"1"'},
            ).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(amend, range(WRITERS)))
    assert statuses.count(200) == 1
    assert set(statuses) <= {200, 409, 412}
    project = stack.client("registry", token).get(f"/v1/projects/{project_id}").json()
    assert project["version"] == 2
    replayed = RegistryApplication(stack.database_url).get_project(project["id"])
    assert replayed.details["title"] == project["details"]["title"] and replayed.version == 2


@pytest.mark.parametrize("victim", ["registry", "risk", "reporting"])
def test_sigkill_during_a_burst_loses_no_acknowledged_write_and_duplicates_nothing(
    backend: str, victim: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = migrated(fresh_url(backend, tmp_path, request))
    with running_stack(url, tmp_path) as stack:
        code = new_ministry_code()
        assert (
            stack.client("registry", stack.token("root", ["admin"]))
            .post("/v1/ministries", json={"code": code, "name": "M"})
            .status_code
            == 201
        )
        token = stack.token("alice", ["planner"], code)

        def register(number: int) -> str | None:
            try:
                with stack.client("registry", token) as client:
                    response = client.post("/v1/projects", json=project_body(code, title=f"P{number}"))
            except httpx.HTTPError:
                return None  # not acknowledged: the client cannot know, and must not count it
            return response.json()["id"] if response.status_code == 201 else None

        acknowledged: list[str] = []
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(register, number) for number in range(BURST)]
            wait_for(lambda: sum(f.done() for f in futures) > BURST // 3, timeout=90)
            stack.kill(victim)
            stack.start(victim)
            acknowledged = [project_id for project_id in (f.result() for f in futures) if project_id]
        # anything refused while the registry was down can be retried now
        assert len(acknowledged) >= BURST // 3

        registry = RegistryApplication(url)
        logged = {
            entry.aggregate_id
            for entry in registry.read_log(after=0, limit=10_000)
            if entry.type == "ProjectRegistered"
        }
        assert {str(p) for p in logged} >= set(acknowledged)
        risk = RiskApplication(url)
        wait_for(lambda: risk.recorder.max_tracking_id("registry") == registry.head_position(), timeout=90)
        due = [
            entry.data["project_id"]
            for entry in risk.read_log(after=0, limit=10_000)
            if entry.type == "RiskEvaluationBecameDue"
        ]
        assert len(due) == len(set(due)) == len(logged)
        store = ReportingStore(Settings(database_url=url, var_dir=tmp_path))
        wait_for(
            lambda: store.positions() == {"registry": registry.head_position(), "risk": risk.head_position()},
            timeout=90,
        )
        stack.stop_all()
        live = store.rows()
        assert cli("reporting", "rebuild", AIGOV_DATABASE_URL=url, AIGOV_VAR_DIR=str(tmp_path)).returncode == 0
        assert store.rows() == live
        assert registry.verify_log().ok and risk.verify_log().ok
