"""PostgreSQL stops and comes back: services say 503 (never 500) meanwhile and recover without a restart."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import (
    SERVICES,
    PostgresRun,
    ServiceStack,
    list_all,
    migrated,
    new_ministry_code,
    project_body,
    read_whole_log,
    running_stack,
    wait_for,
)


@pytest.fixture
def stack_and_ministry(postgres_run: PostgresRun, tmp_path: Path) -> Iterator[tuple[ServiceStack, str]]:
    """The three services on a fresh PostgreSQL schema, and a ministry to write projects for."""
    with running_stack(migrated(postgres_run.fresh_schema_url()), tmp_path) as stack:
        code = new_ministry_code()
        assert (
            stack.client("registry", stack.token("root", ["admin"]))
            .post("/v1/ministries", json={"code": code, "name": "M"})
            .status_code
            == 201
        )
        yield stack, code


@pytest.mark.slow
def test_readyz_flips_while_postgres_is_down_and_writes_get_503_then_everything_recovers(
    stack_and_ministry: tuple[ServiceStack, str], postgres_run: PostgresRun
) -> None:
    stack, code = stack_and_ministry
    planner = stack.client("registry", stack.token("alice", ["planner"], code))
    for service in SERVICES:
        assert stack.client(service).get("/readyz").status_code == 200
    postgres_run.control("stop")
    try:
        for service in SERVICES:
            down = wait_for(
                lambda s=service: (r := stack.client(s).get("/readyz")).status_code == 503 and r, timeout=15
            )
            assert (
                down.headers["content-type"].startswith("application/problem+json")
                and "database" in down.json()["detail"]
            )
        refused = planner.post("/v1/projects", json=project_body(code))
        assert refused.status_code == 503 and refused.headers["Retry-After"], refused.text
        assert refused.json()["type"] == "urn:aigov:problem:storage-unavailable"
        retried = planner.post("/v1/projects", json=project_body(code), headers={"Idempotency-Key": "outage-1"})
        assert retried.status_code == 503 and retried.headers["Retry-After"], (
            retried.text
        )  # keys live in the same database
        assert retried.json()["type"] == "urn:aigov:problem:storage-unavailable"
    finally:
        postgres_run.control("start")
    for service in SERVICES:
        wait_for(lambda s=service: stack.client(s).get("/readyz").status_code == 200, timeout=30, interval=0.5)
    created = wait_for(
        lambda: (r := planner.post("/v1/projects", json=project_body(code))).status_code == 201 and r,
        timeout=15,
        interval=0.5,
    )
    reader = stack.client("reporting", stack.token("aud", ["auditor"]))
    wait_for(
        lambda: any(i["project_id"] == created.json()["id"] for i in list_all(reader, "/v1/inventory")), timeout=30
    )
    assert all(p.poll() is None for p in stack.processes.values())  # nobody was restarted


def registered_project_ids(stack: ServiceStack) -> list[str]:
    """Every ProjectRegistered in the registry log."""
    auditor = stack.client("registry", stack.token("aud", ["auditor"]))
    return [entry["aggregate_id"] for entry in read_whole_log(auditor) if entry["type"] == "ProjectRegistered"]


@pytest.mark.slow
@pytest.mark.faults
def test_a_postgres_restart_under_load_answers_503_never_500_and_loses_no_acknowledged_write(
    stack_and_ministry: tuple[ServiceStack, str], postgres_run: PostgresRun
) -> None:
    stack, code = stack_and_ministry
    token = stack.token("alice", ["planner"], code)
    statuses: list[int] = []
    acknowledged: list[str] = []
    stop = threading.Event()

    def write(number: int) -> None:
        client = stack.client("registry", token)
        while not stop.is_set():
            response = client.post("/v1/projects", json=project_body(code, title=f"Under load {number}"))
            statuses.append(response.status_code)
            if response.status_code == 201:
                acknowledged.append(response.json()["id"])
            elif response.status_code == 503:
                assert (
                    response.headers["Retry-After"]
                    and response.json()["type"] == "urn:aigov:problem:storage-unavailable"
                )
                time.sleep(0.05)

    writers = [threading.Thread(target=write, args=(number,)) for number in range(4)]
    for writer in writers:
        writer.start()
    try:
        wait_for(lambda: len(acknowledged) >= 20, timeout=30)
        postgres_run.control("restart")
        restarted_at = len(statuses)
        wait_for(lambda: statuses[restarted_at:].count(201) >= 20, timeout=60, interval=0.1)
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=30)
    assert set(statuses) <= {201, 503}, sorted(set(statuses))
    logged = registered_project_ids(stack)
    assert len(logged) == len(set(logged)), "a project was recorded twice"
    assert set(acknowledged) <= set(logged), "an acknowledged write is missing from the log"
    auditor = stack.client("registry", stack.token("aud", ["auditor"]))
    assert auditor.get("/v1/log/verify").json()["ok"] is True
    reader = stack.client("reporting", stack.token("aud", ["auditor"]))
    wait_for(lambda: set(logged) <= inventory_ids(reader), timeout=30, interval=0.5)
    assert all(process.poll() is None for process in stack.processes.values())  # nobody was restarted


def inventory_ids(reader: httpx.Client) -> set[str]:
    """The projects the inventory lists; none while reporting still answers 503 storage-unavailable (its pooled
    connections reconnect after the restart), which a client retries as Retry-After says."""
    first = reader.get("/v1/inventory", params={"limit": 1})
    if first.status_code == 503:
        return set()
    return {item["project_id"] for item in list_all(reader, "/v1/inventory")}
