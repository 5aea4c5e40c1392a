"""The scale sweep: how reporting's costs grow with the log, at 10,000, 100,000 and 1,000,000 events.

Each point is a fresh database with a log of N events (N/10 projects; bench/scaledata.py), and on it, each
beside its baseline in the same run:

- rebuild (``aigov reporting rebuild``: clear, then the follower with batches of 2,000) against a raw
  keyset scan of both event tables and against the eventsourcing library's own read-and-decode
  (``select_notifications`` + ``mapper.to_domain_event``, on the first 200,000 events);
- (verification of the logs and of an export is ``bench/verification.py``, on a log made the same way;)
- in-process, the code of the routes without HTTP: ``?as_of=`` of one project's public record and of a
  ministry's inventory first page at the middle moment of the log (half the events before it), the first
  page of the live inventory and of the public (high-risk) register, one project's timeline;
- the resident memory (VmRSS) of a reporting service process started on the database, after it served
  those reports.

Every size's database stays open until the answers are timed, and they are timed interleaved: each round times
one call of every answer at every size in turn, ``SAMPLES`` rounds, median per size. The growth bounds compare
answers of a few milliseconds; timed one size after another, minutes apart, a change in the machine's load
between them decided the ratio (docs/benchmarks.md), as it would for any two sides of a comparison timed apart.

    .venv/bin/python -m bench.scale [--backend postgres|sqlite] [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx
from sqlalchemy import select

from bench.common import (
    BenchDatabase,
    establish_ministry,
    fresh_database,
    profile_top,
    service_settings,
    write_result,
)
from bench.memory import rss_mb
from bench.scaledata import EVENTS_PER_PROJECT, make_log
from services.registry.application import RegistryApplication
from services.reporting import periodic, reports, tables
from services.reporting.followers import ProjectionFollower
from services.reporting.queries import Filters, ReportQueries
from services.reporting.readmodel import UPSTREAMS, ReportingStore
from services.risk.application import RiskApplication
from shared.database import create_engine
from tests.support import ServiceStack, project_body

SIZES = (10_000, 100_000, 1_000_000)
REBUILD_BATCH = 2000
DECODE_SAMPLE = 200_000
SAMPLES = 15
PAGE = 100
Key = TypeVar("Key")


def sizes() -> tuple[int, ...]:
    """BENCH_SCALE_SIZES=10000,100000 overrides the sweep (e.g. while developing)."""
    given = os.environ.get("BENCH_SCALE_SIZES")
    return tuple(int(size) for size in given.split(",")) if given else SIZES


def interleaved_medians(functions: dict[Key, Callable[[], Any]], samples: int = SAMPLES) -> dict[Key, float]:
    """Median wall time (ms) of each function, timed in turn one call a round for ``samples`` rounds after one
    warm-up call each, so that a change in the machine's load falls on all of them alike."""
    for function in functions.values():
        function()
    timings: dict[Key, list[float]] = {name: [] for name in functions}
    for _ in range(samples):
        for name, function in functions.items():
            started = time.perf_counter()
            function()
            timings[name].append((time.perf_counter() - started) * 1000)
    return {name: round(statistics.median(values), 2) for name, values in timings.items()}


def rate(count: int, seconds: float) -> int:
    return round(count / seconds) if seconds > 0 else 0


# -- rebuild and its baselines -------------------------------------------------------------------------------


def raw_scan(url: str) -> dict[str, Any]:
    """Every stored event of both logs, keyset-paged by 2,000: the floor any rebuild must pay."""
    engine = create_engine(url)
    rows, started = 0, time.perf_counter()
    with engine.connect() as connection:
        for service in UPSTREAMS:
            query = (
                f"SELECT id, originator_id, originator_version, topic, state FROM {service}_events "
                f"WHERE id > :after ORDER BY id LIMIT {REBUILD_BATCH}"
            )
            after = 0
            while page := connection.exec_driver_sql(query.replace(":after", str(after))).fetchall():
                rows += len(page)
                after = page[-1][0]
    elapsed = time.perf_counter() - started
    engine.dispose()
    return {"events": rows, "seconds": round(elapsed, 2), "events_per_s": rate(rows, elapsed)}


def library_decode(url: str) -> dict[str, Any]:
    """The library's own read-and-decode (notifications, then domain events), on the first events of each log
    (through the producers' applications: reporting reads the logs with the generic reader, which has neither)."""
    applications = {"registry": RegistryApplication(url), "risk": RiskApplication(url)}
    decoded, started = 0, time.perf_counter()
    for service in UPSTREAMS:
        app, start = applications[service], 1
        while decoded < DECODE_SAMPLE * (UPSTREAMS.index(service) + 1) // len(UPSTREAMS):
            notifications = app.recorder.select_notifications(start=start, limit=REBUILD_BATCH)
            if not notifications:
                break
            for notification in notifications:
                app.mapper.to_domain_event(notification)
            decoded += len(notifications)
            start = notifications[-1].id + 1
    elapsed = time.perf_counter() - started
    return {"events": decoded, "seconds": round(elapsed, 2), "events_per_s": rate(decoded, elapsed)}


def rebuild(store: ReportingStore) -> dict[str, Any]:
    """Exactly ``aigov reporting rebuild``, timed; with how far this process's VmRSS rose meanwhile (the
    follower's memory: bounded by a batch, not by the number of projects)."""
    import threading

    store.clear()
    start_rss, peak, done = rss_mb(os.getpid()), [0.0], threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], rss_mb(os.getpid()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    handled = ProjectionFollower(store, batch_size=REBUILD_BATCH).catch_up()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    return {
        "events": handled,
        "seconds": round(elapsed, 2),
        "events_per_s": rate(handled, elapsed),
        "rss_growth_mb": round(max(peak[0], start_rss) - start_rss, 1),
    }


# -- verification ------------------------------------------------------------------------------------------


# -- the reports, in-process -----------------------------------------------------------------------------------


def sample_projects(store: ReportingStore, moment: datetime, count: int = SAMPLES) -> list[str]:
    """Projects registered before ``moment`` (ids are random, so the first by id are a random sample)."""
    from services.reporting.history import micros

    projects = tables.projects
    with store.tracking.transaction(commit=False) as session:
        rows = session.execute(
            select(projects.c.project_id)
            .where(projects.c.registered_at <= micros(moment))
            .order_by(projects.c.project_id)
            .limit(count)
        )
        return [str(project_id) for (project_id,) in rows]


def as_of_record(reads: ReportQueries, project_id: str, moment: datetime) -> Any:
    with reads.session() as session:
        at = reads.moment(session, moment)
        doc = reads.project(session, at, project_id)
        record = periodic.public_record(reads.projection(session, at, [doc] if doc else []), project_id)
    assert record is not None
    return record


def first_page(reads: ReportQueries, filters: Filters, moment: datetime | None, report: Callable[..., Any]) -> Any:
    with reads.session() as session:
        at = reads.moment(session, moment)
        docs = reads.registered(session, at, filters, None, PAGE + 1)
        count = reads.count(session, at, filters)
        items = report(reads.projection(session, at, docs))
    assert items and count
    return items[:PAGE], count


def report_answers(store: ReportingStore, ministry: str, moment: datetime) -> dict[str, Callable[[], Any]]:
    """The answers the sweep times on one size's read model, by the name of their column."""
    reads = ReportQueries(store)
    projects = sample_projects(store, moment)
    turn = iter(range(10**9))

    def one_record() -> Any:
        return as_of_record(reads, projects[next(turn) % len(projects)], moment)

    def one_timeline() -> Any:
        from uuid import UUID

        return store.timeline(UUID(projects[next(turn) % len(projects)]))

    return {
        "as_of_project_ms": one_record,
        "as_of_ministry_inventory_first_page_ms": lambda: first_page(
            reads, Filters(ministry=ministry), moment, reports.inventory
        ),
        "inventory_first_page_ms": lambda: first_page(reads, Filters(), None, reports.inventory),
        "public_register_first_page_ms": lambda: first_page(
            reads, Filters(high_risk=True), None, reports.high_risk_register
        ),
        "timeline_ms": one_timeline,
    }


def report_timings(answers_by_size: dict[int, dict[str, Callable[[], Any]]]) -> dict[int, dict[str, float]]:
    """Every answer at every size, the sizes interleaved (``interleaved_medians``)."""
    medians = interleaved_medians(
        {(size, name): answer for size, answers in answers_by_size.items() for name, answer in answers.items()}
    )
    return {size: {name: medians[size, name] for name in answers} for size, answers in answers_by_size.items()}


def reporting_memory(database: BenchDatabase, ministry: str, moment: datetime, project_id: str) -> dict[str, Any]:
    """VmRSS of a reporting service process on this database, idle and after serving the reports above."""
    stack = ServiceStack(database.url, database.directory)
    try:
        stack.start("reporting")
        pid = stack.processes["reporting"].pid
        idle = rss_mb(pid)
        client = stack.client("reporting", stack.token("aud", ["auditor"]))
        peak = idle
        for params in ({}, {"ministry": ministry}, {"as_of": moment.isoformat()}, {"limit": 500}):
            for path in ("/v1/inventory", "/v1/high-risk-register"):
                client.get(path, params=params).raise_for_status()
            client.get(f"/v1/projects/{project_id}/public-record", params={"as_of": moment.isoformat()})
            peak = max(peak, rss_mb(pid))
    except httpx.HTTPError as error:
        return {"error": f"{type(error).__name__}: {error}"}
    finally:
        stack.stop_all()
    return {"idle_mb": idle, "after_reports_mb": peak}


def profiles(store: ReportingStore) -> dict[str, list[str]]:
    """Where a rebuild's time goes (cProfile of its first batches); the last step of a
    point, so the read model it leaves half rebuilt is not measured again."""

    store.clear()
    follower = ProjectionFollower(store, batch_size=REBUILD_BATCH)
    rebuilding = profile_top(lambda: [follower.process_available() for _ in range(5)], top=12)
    return {"profile_rebuild": rebuilding}


@dataclass
class Point:
    """What was measured on one size's database, and the answers still to time on it."""

    store: ReportingStore
    result: dict[str, Any]
    answers: dict[str, Callable[[], Any]]


def point(database: BenchDatabase, events: int) -> Point:
    """One size: make the log, then rebuild and memory on it; the answers are timed with every size open."""
    ministry = establish_ministry(database.url)
    details = project_body(ministry)
    details.pop("ministry")
    made = make_log(database.url, ministry, events // EVENTS_PER_PROJECT, details)
    first, last = (datetime.fromisoformat(made[key]) for key in ("first_moment", "last_moment"))
    moment = first + (last - first) / 2
    store = ReportingStore(service_settings(database))
    result: dict[str, Any] = {"events": made["events"], "projects": made["projects"], "making_log": made}
    result["raw_scan"] = raw_scan(database.url)
    result["library_decode"] = library_decode(database.url)
    result["rebuild"] = rebuild(store)
    result["memory"] = reporting_memory(database, ministry, moment, sample_projects(store, moment, 1)[0])
    return Point(store, result, report_answers(store, ministry, moment))


def run(backend: str, sweep: tuple[int, ...] | None = None) -> dict[str, Any]:
    """Every size made and measured in turn (each database kept open), then the answers timed interleaved, then
    the profile of a rebuild on the smallest (per-event costs: the smallest will do)."""
    chosen = sweep or sizes()
    points: dict[int, Point] = {}
    with ExitStack() as databases:
        for events in chosen:
            started = time.perf_counter()
            print(f"[bench] scale {backend} {events:,} events ...", flush=True)
            points[events] = point(databases.enter_context(fresh_database(backend)), events)
            points[events].result["wall_seconds"] = round(time.perf_counter() - started, 1)
        print(f"[bench] scale {backend}: answers, sizes interleaved ...", flush=True)
        timings = report_timings({events: measured.answers for events, measured in points.items()})
        for events, measured in points.items():
            measured.result["reports"] = timings[events]
        profile = profiles(points[chosen[0]].store)["profile_rebuild"]
    result = {
        "benchmark": "scale sweep: cost against the log's size",
        "backend": backend,
        "points": [measured.result for measured in points.values()],
        "profile_rebuild": profile,
    }
    write_result(f"scale-{backend}", result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="sqlite")
    parser.add_argument("--sizes", default=None, help="comma-separated event counts (default 10000,100000,1000000)")
    args = parser.parse_args()
    sweep = tuple(int(size) for size in args.sizes.split(",")) if args.sizes else None
    print(json.dumps(run(args.backend, sweep), indent=2))


if __name__ == "__main__":
    main()
