"""Memory: resident set size (VmRSS) of each service process, idle and under a load of one writer.

The processes are the uvicorn servers ``tests.support.ServiceStack`` starts (``python -m aigov.cli serve``),
read from ``/proc/<pid>/status``. Under load, the peak over the run is reported: followers in risk and
reporting work on every registration, so all three processes are exercised.

    .venv/bin/python -m bench.memory [--backend postgres|sqlite] [--seconds 5]
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from bench.common import command_line, establish_ministry, fresh_database, running_services, write_result
from tests.support import SERVICES, ServiceStack, project_body

SETTLE_SECONDS = 2.0


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def snapshot(stack: ServiceStack) -> dict[str, float]:
    return {service: rss_mb(stack.processes[service].pid) for service in SERVICES}


def under_load(stack: ServiceStack, seconds: float) -> tuple[dict[str, float], int]:
    """Peak RSS per service while one client registers projects back to back."""
    code = establish_ministry(stack.database_url)
    client = httpx.Client(
        base_url=stack.url("registry"),
        headers={"Authorization": f"Bearer {stack.token('m', ['planner'], code)}"},
        timeout=30,
    )
    peaks = snapshot(stack)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for service, value in snapshot(stack).items():
                peaks[service] = max(peaks[service], value)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    until, writes = time.perf_counter() + seconds, 0
    while time.perf_counter() < until:
        client.post("/v1/projects", json=project_body(code, title=f"Memory {writes}")).raise_for_status()
        writes += 1
    time.sleep(1.0)  # followers finish the tail of the load
    done.set()
    sampler.join()
    return peaks, writes


def run(backend: str, seconds: float = 5.0) -> dict[str, Any]:
    with fresh_database(backend) as database, running_services(database) as stack:
        time.sleep(SETTLE_SECONDS)
        idle = snapshot(stack)
        loaded, writes = under_load(stack, seconds)
        after = snapshot(stack)
    result = {
        "benchmark": "service process memory (VmRSS), idle and under load 1",
        "backend": backend,
        "idle_mb": idle,
        "under_load_1_peak_mb": loaded,
        "after_load_mb": after,
        "load_writes": writes,
        "load_seconds": seconds,
    }
    write_result(f"memory-{backend}", result)
    return result


def main() -> None:
    command_line(run, __doc__, seconds=5.0)


if __name__ == "__main__":
    main()
