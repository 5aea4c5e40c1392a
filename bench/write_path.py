"""Write path: registering projects through aigov's HTTP API vs a bare FastAPI app doing one INSERT.

Both servers run as uvicorn processes on the same database with the same settings; the load generator is
this process; aigov is measured with group commit (the default) and without it (``AIGOV_GROUP_COMMIT=false``).
Targets (issue 14): aigov ≥ 0.5× the baseline's throughput at 1 and 10 clients; at 50 clients,
throughput not below the 10-client throughput and p99 not above the baseline's. The statements one
registration sends (and those inside the log's lock) are counted too.

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
from bench.sampling import sampled
from tests.support import PROJECT_ROOT, ServiceStack, free_port, new_ministry_code, project_body

LEVELS = (1, 10, 50)
THROUGHPUT_TARGET = 0.5
P99_TARGET_MS = 25.0


def statements_per_command(database: BenchDatabase) -> dict[str, Any]:
    """The SQL statements one registration sends, and how many of them run while the log is locked.

    The lock is ``LOCK TABLE … IN EXCLUSIVE MODE`` on PostgreSQL and the transaction's ``BEGIN IMMEDIATE`` on
    SQLite: every statement after it, to the commit, makes the other writers wait."""
    from sqlalchemy import event

    from services.registry.application import RegistryApplication
    from shared.meta import EventMeta

    app = RegistryApplication(database.url)
    code = establish_ministry(database.url)
    meta = EventMeta("bench", "Bench", "planner", code, None, "bench")
    details = project_body(code)
    details.pop("ministry")
    app.register_project(code, details, meta)  # warm: the statements below are a steady-state command's
    seen: list[str] = []
    engine = app.recorder.datastore.engine  # type: ignore[attr-defined]

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split())[:80])

    event.listen(engine, "before_cursor_execute", record)
    try:
        app.register_project(code, details, meta)
    finally:
        event.remove(engine, "before_cursor_execute", record)
        app.close()
    locked_from = next((i for i, sql in enumerate(seen) if sql.upper().startswith(("LOCK", "BEGIN IMMEDIATE"))), 0)
    return {"total": len(seen), "in_locked_section": len(seen) - locked_from, "statements": seen}


def aigov_levels(
    stack: ServiceStack, seconds: float, profiles: dict[int, list[str]] | None = None
) -> list[dict[str, Any]]:
    """Throughput and latency of ``POST /v1/projects`` on the registry at each concurrency; with ``profiles``, one
    more run at the lowest and at the highest concurrency with the registry process sampled (apart: sampling takes
    a core's share itself)."""
    code = establish_ministry(stack.database_url)
    headers = {"Authorization": f"Bearer {stack.token('bench', ['planner'], code)}"}
    body = project_body(code)

    def load(clients: int) -> dict[str, Any]:
        return run_load(stack.url("registry"), "/v1/projects", headers, lambda _n: body, clients, seconds)

    levels = [load(clients) for clients in LEVELS]
    for clients in (LEVELS[0], LEVELS[-1]) if profiles is not None else ():
        with sampled(stack.processes["registry"].pid) as samples:
            load(clients)
        profiles[clients] = samples
    return levels


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
        statements = statements_per_command(database)
        profiles: dict[int, list[str]] = {}
        with running_services(database) as stack:
            aigov = aigov_levels(stack, seconds, profiles)
        with running_services(database, AIGOV_GROUP_COMMIT="false") as stack:
            one_transaction_each = aigov_levels(stack, seconds)
        baseline = baseline_levels(database, seconds, project_body(new_ministry_code()))
    result = {
        "benchmark": "write path (POST /v1/projects) vs bare FastAPI INSERT",
        "backend": backend,
        "targets": {"throughput_ratio_min": THROUGHPUT_TARGET, "p99_ms_at_50_clients_postgres": P99_TARGET_MS},
        "levels": compare(aigov, baseline, backend),
        "without_group_commit": compare(one_transaction_each, baseline, backend),
        "statements_per_registration": statements,
        "profile_registry_at_1_client": profiles.get(LEVELS[0], []),
        "profile_registry_at_50_clients": profiles.get(LEVELS[-1], []),
    }
    write_result(f"write-path-{backend}", result)
    return result


def main() -> None:
    command_line(run, __doc__, seconds=3.0)


if __name__ == "__main__":
    main()
