"""PostgreSQL stops and comes back: services say 503 (never 500) meanwhile and recover without a restart."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support import SERVICES, PostgresRun, ServiceStack, migrated, new_ministry_code, project_body, wait_for


def pg_ctl(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action], check=True, capture_output=True, timeout=60)


@pytest.mark.slow
def test_readyz_flips_while_postgres_is_down_and_writes_get_503_then_everything_recovers(postgres_run: PostgresRun, tmp_path: Path) -> None:
    url = migrated(postgres_run.fresh_schema_url())
    stack = ServiceStack(url, tmp_path)
    try:
        stack.start_all()
        code = new_ministry_code()
        root = stack.client("registry", stack.token("root", ["admin"]))
        assert root.post("/v1/ministries", json={"code": code, "name": "M"}).status_code == 201
        planner = stack.client("registry", stack.token("alice", ["planner"], code))
        for service in SERVICES:
            assert stack.client(service).get("/readyz").status_code == 200
        pg_ctl("stop")
        try:
            for service in SERVICES:
                down = wait_for(lambda s=service: (r := stack.client(s).get("/readyz")).status_code == 503 and r, timeout=15)
                assert down.headers["content-type"].startswith("application/problem+json") and "database" in down.json()["detail"]
            refused = planner.post("/v1/projects", json=project_body(code))
            assert refused.status_code == 503 and refused.headers["Retry-After"], refused.text
            assert refused.json()["type"] == "urn:aigov:problem:storage-unavailable"
        finally:
            pg_ctl("start")
        for service in SERVICES:
            wait_for(lambda s=service: stack.client(s).get("/readyz").status_code == 200, timeout=30, interval=0.5)
        created = wait_for(lambda: (r := planner.post("/v1/projects", json=project_body(code))).status_code == 201 and r, timeout=15, interval=0.5)
        reader = stack.client("reporting", stack.token("aud", ["auditor"]))
        wait_for(lambda: any(i["project_id"] == created.json()["id"] for i in reader.get("/v1/inventory").json()["items"]), timeout=30)
        assert all(p.poll() is None for p in stack.processes.values())  # nobody was restarted
    finally:
        stack.stop_all()
