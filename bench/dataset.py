"""A large, realistic registry log for the replay, verification and history benchmarks.

Events are made by the real domain model and stored by the real recorder (so the hash chain, the
append-only triggers and the stored bytes are exactly production's), but saved many aggregates per
transaction instead of one HTTP command each: the log is the same, only its making is faster.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.common import BenchDatabase, bench_events, establish_ministry, fresh_database
from services.registry.application import RegistryApplication
from services.registry.domain import Project
from shared.meta import EventMeta
from tests.support import project_body

EVENTS_PER_PROJECT = 10  # one registration and nine amendments, like a project's life in the registry
PROJECTS_PER_SAVE = 100
DEFAULT_EVENTS = 200_000

#: A database with a big registry log, and how it was made.
BigLog = tuple[BenchDatabase, dict[str, float]]


def _meta(ministry: str) -> EventMeta:
    return EventMeta("bench-planner", "Bench Planner", "planner", ministry, None, "bench")


def _details(ministry: str) -> dict[str, Any]:
    body = project_body(ministry)
    body.pop("ministry")
    return body


def _project_with_history(ministry: str, amendments: int) -> Project:
    project = Project(ministry=ministry, details=_details(ministry), meta=_meta(ministry))
    for number in range(amendments):
        project.amend({"owner": f"Office {number}"}, _meta(ministry))
    return project


def populate(app: RegistryApplication, ministry: str, events: int) -> dict[str, float]:
    """Append about ``events`` events (whole projects of EVENTS_PER_PROJECT) and say how long it took."""
    started = time.perf_counter()
    projects = events // EVENTS_PER_PROJECT
    for first in range(0, projects, PROJECTS_PER_SAVE):
        batch = [
            _project_with_history(ministry, EVENTS_PER_PROJECT - 1)
            for _ in range(min(PROJECTS_PER_SAVE, projects - first))
        ]
        with app.transaction():
            app.save(*batch)
    return {"events_appended": projects * EVENTS_PER_PROJECT, "seconds": round(time.perf_counter() - started, 2)}


def long_history(app: RegistryApplication, ministry: str, events: int, per_save: int = 100) -> Project:
    """One project with ``events`` events, saved ``per_save`` at a time so the library snapshots as it would."""
    project = Project(ministry=ministry, details=_details(ministry), meta=_meta(ministry))
    number = 0
    while project.version < events:
        for _ in range(min(per_save, events - project.version)):
            number += 1
            project.amend({"owner": f"Office {number}"}, _meta(ministry))
        app.save(project)
    return project


@contextmanager
def big_log(backend: str, events: int | None = None, given: BigLog | None = None) -> Iterator[BigLog]:
    """The ``given`` log (run_all builds one per backend for replay and verification) or a new one."""
    if given is not None:
        yield given
        return
    with fresh_database(backend) as database:
        app = RegistryApplication(database.url)
        made = populate(app, establish_ministry(database.url), events or bench_events(DEFAULT_EVENTS))
        app.close()
        yield database, made
