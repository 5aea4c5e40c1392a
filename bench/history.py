"""History: the state of one project as of an arbitrary past moment, the project having 10,000 events.

What exists for "as of a moment" is reporting's ``?as_of=`` (``ReportingStore.replay(as_of)`` then the
document, e.g. ``periodic.public_record``): it folds both logs from position zero. The registry can load
a project at a *version* with the library's snapshots (every 100 events); that is measured too, as the
building block of a faster "as of" (moment → version, then snapshot + at most 99 events).
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
from services.registry.application import RegistryApplication
from services.reporting import periodic
from services.reporting.readmodel import ReportingStore

TARGET_MS = 20.0
DEFAULT_EVENTS = 10_000
MOMENT_SHARES = (0.25, 0.5, 0.99)  # moments a quarter, half and nearly all the way into the history


def as_of_reporting(store: ReportingStore, project_id: UUID, moment: datetime) -> float:
    """Milliseconds for reporting's answer: replay as of the moment, then the project's public record."""
    started = time.perf_counter()
    record = periodic.public_record(store.replay(as_of=moment), str(project_id))
    elapsed = (time.perf_counter() - started) * 1000
    assert record is not None
    return elapsed


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
        reporting = [as_of_reporting(store, project.id, moment) for moment in moments.values()]
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
