"""Idle write-to-read-model latency: from a registration's HTTP response to its row in reporting's inventory.

Runs the three services as separate processes against a fresh PostgreSQL (or SQLite) database, registers
projects one at a time with idle pauses in between, and polls reporting until each appears. The load
generator is this separate process, speaking HTTP. Writes JSON to bench/results/.

    .venv/bin/python bench/propagation.py [--backend postgres|sqlite] [--samples 50]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.reporting.readmodel import ReportingStore  # noqa: E402
from tests.support import POSTGRES_URL, PostgresRun, ServiceStack, migrated, new_ministry_code, project_body  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(stack: ServiceStack, samples: int, pause: float) -> list[float]:
    code = new_ministry_code()
    httpx.post(stack.url("registry") + "/v1/ministries", json={"code": code, "name": "Bench"}, headers={"Authorization": f"Bearer {stack.token('root', ['admin'])}"}).raise_for_status()
    writer = httpx.Client(base_url=stack.url("registry"), headers={"Authorization": f"Bearer {stack.token('b', ['planner'], code)}"})
    store = ReportingStore(stack.settings)
    registry_log = httpx.Client(base_url=stack.url("registry"), headers={"Authorization": f"Bearer {stack.token('a', ['auditor'])}"})
    latencies = []
    for number in range(samples):
        time.sleep(pause)  # idle: followers are waiting for a notification, not mid-batch
        response = writer.post("/v1/projects", json=project_body(code, title=f"Bench {number}"))
        responded = time.perf_counter()
        response.raise_for_status()
        head = registry_log.get("/v1/log", params={"limit": 1}).json()["head_position"]
        # The read model and its tracked position commit in one transaction: the position says the row is there.
        while store.positions()["registry"] < head:
            time.sleep(0.002)
        latencies.append((time.perf_counter() - responded) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--pause", type=float, default=0.3)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="aigov-bench-"))
    run = PostgresRun(POSTGRES_URL) if args.backend == "postgres" else None
    if run:
        run.create()
    url = run.fresh_schema_url() if run else f"sqlite:///{directory / 'aigov.sqlite3'}"
    stack = ServiceStack(migrated(url), directory)
    try:
        stack.start_all()
        latencies = measure(stack, args.samples, args.pause)
    finally:
        stack.stop_all()
        if run:
            run.drop()
    result = {
        "benchmark": "idle write-to-read-model propagation",
        "backend": args.backend,
        "samples": len(latencies),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(max(latencies), 2),
        "target_ms": 100,
        "meets_target": percentile(latencies, 0.99) < 100,
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "at": datetime.now(UTC).isoformat(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"propagation-{args.backend}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
