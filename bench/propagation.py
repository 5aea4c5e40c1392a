"""Write-to-read-model propagation: from a registration's HTTP response to its row in reporting's inventory.

Runs the three services as separate processes against a fresh PostgreSQL (or SQLite) database. Two modes:

* idle: one registration at a time with pauses in between (followers are waiting for a notification);
* load 1: one client registering back to back (the load of 1 of the issue), a poller in this process
  watching reporting's tracked position, which commits in one transaction with the read model rows
  (read with plain deferred transactions: see ``Positions``).

Target: p99 < 200 ms under load 1. Writes JSON to bench/results/.

    .venv/bin/python -m bench.propagation [--backend postgres|sqlite] [--seconds 5]
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import sqlalchemy

from bench.common import (
    command_line,
    establish_ministry,
    fresh_database,
    latency_summary,
    running_services,
    write_result,
)
from bench.sampling import sampled
from shared.database import sqlalchemy_url
from tests.support import ServiceStack, project_body

TARGET_P99_MS = 200.0


class Positions:
    """Reads the registry head and reporting's tracked position with plain deferred transactions.

    Not through the recorders: on SQLite aigov's engines begin every transaction with ``BEGIN IMMEDIATE``
    (the write lock), so a poller using them every 2 ms would itself slow the writer and the follower it measures.
    """

    def __init__(self, url: str):
        self.engine = sqlalchemy.create_engine(sqlalchemy_url(url))
        self.head_query = sqlalchemy.text("SELECT max(id) FROM registry_events")
        self.tracked_query = sqlalchemy.text(
            "SELECT max(notification_id) FROM reporting_tracking WHERE application_name = 'registry'"
        )

    def _scalar(self, query: sqlalchemy.TextClause) -> int:
        with self.engine.connect() as connection:
            return connection.execute(query).scalar() or 0

    def head(self) -> int:
        return self._scalar(self.head_query)

    def reporting(self) -> int:
        return self._scalar(self.tracked_query)


def writer(stack: ServiceStack) -> tuple[httpx.Client, str]:
    """A planner's client for a fresh ministry, and the ministry's code."""
    code = establish_ministry(stack.database_url)
    client = httpx.Client(
        base_url=stack.url("registry"),
        headers={"Authorization": f"Bearer {stack.token('b', ['planner'], code)}"},
        timeout=30,
    )
    return client, code


def under_load(stack: ServiceStack, seconds: float) -> list[float]:
    """Back-to-back registrations; each response's log position is matched to when reporting reaches it."""
    client, code = writer(stack)
    positions = Positions(stack.database_url)
    pending: list[tuple[int, float]] = []
    latencies: list[float] = []
    lock, done = threading.Lock(), threading.Event()

    def poll() -> None:
        while not (done.is_set() and not pending):
            reached = positions.reporting()
            now = time.perf_counter()
            with lock:
                while pending and pending[0][0] <= reached:
                    latencies.append((now - pending.pop(0)[1]) * 1000)
            time.sleep(0.002)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    until = time.perf_counter() + seconds
    number = 0
    while time.perf_counter() < until:
        number += 1
        client.post("/v1/projects", json=project_body(code, title=f"Load {number}")).raise_for_status()
        responded = time.perf_counter()
        position = positions.head()  # one writer: the head is this registration's position
        with lock:
            pending.append((position, responded))
    done.set()
    poller.join(timeout=30)
    return latencies


def idle(stack: ServiceStack, samples: int, pause: float) -> list[float]:
    """One registration at a time after a pause: the latency of a notification-driven follower at rest."""
    client, code = writer(stack)
    positions = Positions(stack.database_url)
    latencies = []
    for number in range(samples):
        time.sleep(pause)
        client.post("/v1/projects", json=project_body(code, title=f"Idle {number}")).raise_for_status()
        responded = time.perf_counter()
        position = positions.head()
        while positions.reporting() < position:
            time.sleep(0.002)
        latencies.append((time.perf_counter() - responded) * 1000)
    return latencies


def run(backend: str, seconds: float = 5.0, idle_samples: int = 20, pause: float = 0.2) -> dict[str, Any]:
    with fresh_database(backend) as database, running_services(database) as stack:
        loaded = latency_summary(under_load(stack, seconds))
        with sampled(stack.processes["reporting"].pid) as profile:  # apart: sampling takes a share of a core
            under_load(stack, seconds)
        rested = latency_summary(idle(stack, idle_samples, pause))
    result = {
        "benchmark": "write-to-read-model propagation (registry -> reporting)",
        "backend": backend,
        "target_p99_ms_under_load_1": TARGET_P99_MS,
        "under_load_1": loaded,
        "idle": rested,
        "meets_target": loaded["p99_ms"] < TARGET_P99_MS,
        "profile_reporting_under_load_1": profile,
    }
    write_result(f"propagation-{backend}", result)
    return result


def main() -> None:
    command_line(run, __doc__, seconds=5.0, samples=20, pause=0.2)


if __name__ == "__main__":
    main()
