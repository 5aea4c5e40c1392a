"""History: the state of one project as of an arbitrary past moment, the project having 10,000 events.

Reporting's ``?as_of=`` reads the history tables (services/reporting/history.py): the read model is built
first (the follower, as in production), then the route's code runs in-process (``ReportQueries``: the
moment's positions, the project's two parts at them, ``periodic.public_record``). The registry's
snapshot-assisted load of the project at a *version* (every 100 events) is measured beside it.
Target: < 20 ms.

    .venv/bin/python -m bench.history [--backend postgres|sqlite] [--events 10000]
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime
from typing import Any
from uuid import UUID

from bench.common import (
    command_line,
    establish_ministry,
    fresh_database,
    latency_summary,
    profile_top,
    service_settings,
    write_result,
)
from bench.dataset import long_history
from bench.scale import as_of_record
from services.registry.application import RegistryApplication
from services.reporting.followers import ProjectionFollower
from services.reporting.queries import ReportQueries
from services.reporting.readmodel import ReportingStore

TARGET_MS = 20.0
DEFAULT_EVENTS = 10_000
MOMENT_SHARES = (0.25, 0.5, 0.99)  # moments a quarter, half and nearly all the way into the history
REPEATS = 7  # each moment's answer is the median of this many (the machine is shared: single samples jump)


def as_of_reporting(store: ReportingStore, project_id: UUID, moment: datetime) -> float:
    """Milliseconds for reporting's answer: the moment's positions, the project then, its public record."""
    started = time.perf_counter()
    as_of_record(ReportQueries(store), str(project_id), moment)
    return (time.perf_counter() - started) * 1000


def at_version(app: RegistryApplication, project_id: UUID, versions: list[int]) -> list[float]:
    """Milliseconds per snapshot-assisted load of the project at each version."""
    timings = []
    for version in versions:
        started = time.perf_counter()
        project = app.get_project(project_id, version=version)
        timings.append((time.perf_counter() - started) * 1000)
        assert project.version == version
    return timings


def run(backend: str, events: int = DEFAULT_EVENTS) -> dict[str, Any]:
    with fresh_database(backend) as database:
        app = RegistryApplication(database.url)
        made_at = time.perf_counter()
        project = long_history(app, establish_ministry(database.url), events)
        made_seconds = time.perf_counter() - made_at
        moments = {
            version: app.get_project(project.id, version=version).modified_on
            for version in (max(1, int(share * events)) for share in MOMENT_SHARES)
        }
        store = ReportingStore(service_settings(database))
        ProjectionFollower(store, batch_size=2000).catch_up()
        as_of_reporting(store, project.id, moments[max(moments)])  # warm-up: the first query pays connecting
        reporting = [
            statistics.median(as_of_reporting(store, project.id, moment) for _ in range(REPEATS))
            for moment in moments.values()
        ]
        profile = profile_top(lambda: as_of_reporting(store, project.id, moments[max(moments)]))
        versions = [random.Random(7).randint(1, events) for _ in range(50)]
        snapshot_loads = at_version(app, project.id, versions)
        app.close()
    result = {
        "benchmark": "one project's state as of a past moment (10,000 events in its history)",
        "backend": backend,
        "project_events": events,
        "making_history_seconds": round(made_seconds, 2),
        "reporting_as_of_ms": {str(version): round(ms, 1) for version, ms in zip(moments, reporting, strict=True)},
        "reporting_as_of_median_ms": round(statistics.median(reporting), 1),
        "registry_at_version_snapshots": latency_summary(snapshot_loads),
        "target_ms": TARGET_MS,
        "meets_target": statistics.median(reporting) < TARGET_MS,
        "profile_cumulative_as_of": profile,
    }
    write_result(f"history-{backend}", result)
    return result


def main() -> None:
    command_line(run, __doc__, events=DEFAULT_EVENTS)


if __name__ == "__main__":
    main()
