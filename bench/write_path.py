"""Write path: registering projects through aigov's HTTP API vs a bare FastAPI app doing one INSERT.

Both servers run as uvicorn processes on the same database with the same settings; the load generator is
this process. Target: aigov ≥ 0.6× the baseline's throughput, and p99 < 25 ms at 50 clients on PostgreSQL.

    .venv/bin/python -m bench.write_path [--backend postgres|sqlite] [--seconds 3]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import httpx

from bench.common import BenchDatabase, command_line, establish_ministry, fresh_database, running_services, write_result
from bench.load import run_load
from tests.support import PROJECT_ROOT, ServiceStack, free_port, new_ministry_code, project_body

LEVELS = (1, 10, 50)
THROUGHPUT_TARGET = 0.6
P99_TARGET_MS = 25.0


def aigov_levels(stack: ServiceStack, seconds: float) -> list[dict[str, Any]]:
    """Throughput and latency of ``POST /v1/projects`` on the registry at each concurrency."""
    code = establish_ministry(stack.database_url)
    headers = {"Authorization": f"Bearer {stack.token('bench', ['planner'], code)}"}
    body = project_body(code)
    return [
        run_load(stack.url("registry"), "/v1/projects", headers, lambda _n: body, clients, seconds)
        for clients in LEVELS
    ]


def baseline_levels(database: BenchDatabase, seconds: float, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The same load against the bare app; its process is started and stopped here."""
    port = free_port()
    log = open(database.directory / "baseline.log", "ab")  # noqa: SIM115 - owned by the process
    env = {**os.environ, "BENCH_DATABASE_URL": database.url, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.baseline_app", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        return [
            run_load(f"http://127.0.0.1:{port}", "/v1/projects", {}, lambda _n: body, clients, seconds)
            for clients in LEVELS
        ]
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Like ServiceStack.wait_healthy, for the baseline's process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("baseline app exited")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError("baseline app did not become healthy")


def compare(aigov: list[dict[str, Any]], baseline: list[dict[str, Any]], backend: str) -> list[dict[str, Any]]:
    """One row per concurrency: both measurements, the throughput ratio and whether targets are met."""
    rows = []
    for mine, base in zip(aigov, baseline, strict=True):
        ratio = mine["commands_per_s"] / base["commands_per_s"] if base["commands_per_s"] else float("nan")
        row = {
            "clients": mine["clients"],
            "aigov": mine,
            "baseline": base,
            "throughput_ratio": round(ratio, 3),
            "meets_throughput_target": ratio >= THROUGHPUT_TARGET,
        }
        if backend == "postgres" and mine["clients"] == 50:
            row["meets_p99_target"] = mine["p99_ms"] < P99_TARGET_MS
        rows.append(row)
    return rows


def run(backend: str, seconds: float = 3.0) -> dict[str, Any]:
    with fresh_database(backend) as database:
        with running_services(database) as stack:
            aigov = aigov_levels(stack, seconds)
        baseline = baseline_levels(database, seconds, project_body(new_ministry_code()))
    result = {
        "benchmark": "write path (POST /v1/projects) vs bare FastAPI INSERT",
        "backend": backend,
        "targets": {"throughput_ratio_min": THROUGHPUT_TARGET, "p99_ms_at_50_clients_postgres": P99_TARGET_MS},
        "levels": compare(aigov, baseline, backend),
    }
    write_result(f"write-path-{backend}", result)
    return result


def main() -> None:
    command_line(run, __doc__, seconds=3.0)


if __name__ == "__main__":
    main()
