"""Crashes lose nothing: reporting killed with SIGKILL mid-stream ends with exactly what the log holds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import fresh_url
from tests.support import (
    PROJECT_ROOT,
    free_port,
    list_all,
    migrated,
    new_ministry_code,
    project_body,
    running_stack,
    wait_for,
)

PROJECTS = 1000


@pytest.mark.slow
def test_inventory_has_exactly_every_project_after_reporting_is_killed_twice(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
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

        def register(number: int) -> str:
            with stack.client("registry", token) as client:
                response = client.post("/v1/projects", json=project_body(code, title=f"Project {number:04d}"))
                assert response.status_code == 201, response.text
                return response.json()["id"]

        kills = {PROJECTS // 3, 2 * PROJECTS // 3}
        ids: list[str] = []
        with ThreadPoolExecutor(max_workers=4) as pool:
            for batch_start in range(0, PROJECTS, 50):
                ids.extend(pool.map(register, range(batch_start, batch_start + 50)))
                if any(batch_start <= kill < batch_start + 50 for kill in kills):
                    stack.kill("reporting")
                    stack.start("reporting")
        assert len(set(ids)) == PROJECTS

        reader = stack.client("reporting", stack.token("auditor", ["auditor"]))

        def complete() -> dict | None:
            report = reader.get("/v1/inventory", params={"ministry": code}).json()
            return report if report["count"] >= PROJECTS else None

        report = wait_for(complete, timeout=60)
        assert report["count"] == PROJECTS
        assert sorted(item["project_id"] for item in list_all(reader, "/v1/inventory", ministry=code)) == sorted(ids)
        time.sleep(0.5)
        assert (
            reader.get("/v1/inventory", params={"ministry": code}).json()["count"] == PROJECTS
        )  # nothing doubles later


def test_aigov_run_serves_all_three_health_checks_within_30_seconds(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("registry", "risk", "reporting")}
    env = {
        **os.environ,
        "AIGOV_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'aigov.sqlite3'}",
        "AIGOV_VAR_DIR": str(tmp_path / "var"),
        "AIGOV_REGISTRY_PORT": str(ports["registry"]),
        "AIGOV_RISK_PORT": str(ports["risk"]),
        "AIGOV_REPORTING_PORT": str(ports["reporting"]),
    }
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "aigov.cli", "run"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:

        def healthy() -> bool:
            try:
                return all(
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
                    for port in ports.values()
                )
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=30, interval=0.2)
        assert time.monotonic() - started < 30
        assert (tmp_path / "var" / "aigov.sqlite3").exists()
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output.decode()
    assert f"http://127.0.0.1:{ports['reporting']}" in output.decode()
