"""Replay: rebuilding reporting's read model from position zero vs a raw SELECT scan of the same log.

The aigov side is exactly ``aigov reporting rebuild`` (``ReportingStore.clear`` then
``ProjectionFollower(batch_size=1000).catch_up``): read, decode, fold and write the read model. The baseline
pages through the same ``registry_events`` table with the same batch size and decodes nothing.
Target: ≥ 0.5× the scan rate.

    .venv/bin/python -m bench.replay [--backend postgres|sqlite] [--events 200000]
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy

from bench.common import command_line, profile_top, service_settings, write_result
from bench.dataset import BigLog, big_log
from services.reporting.followers import ProjectionFollower
from services.reporting.readmodel import ReportingStore
from shared.database import create_engine

TARGET_RATIO = 0.5
BATCH = 1000


def scan(url: str, batch: int = BATCH) -> tuple[int, float]:
    """Every stored event's columns, keyset-paged in log order: the floor any replay must pay."""
    engine = create_engine(url)
    query = sqlalchemy.text(
        "SELECT id, originator_id, originator_version, topic, state FROM registry_events WHERE id > :after ORDER BY id LIMIT :limit"
    )
    rows, after, started = 0, 0, time.perf_counter()
    with engine.connect() as connection:
        while page := connection.execute(query, {"after": after, "limit": batch}).all():
            rows += len(page)
            after = page[-1][0]
    elapsed = time.perf_counter() - started
    engine.dispose()
    return rows, elapsed


def rebuild(store: ReportingStore) -> tuple[int, float]:
    """What ``aigov reporting rebuild`` does, timed."""
    store.clear()
    started = time.perf_counter()
    handled = ProjectionFollower(store, batch_size=BATCH).catch_up()
    return handled, time.perf_counter() - started


def profile_rebuild(store: ReportingStore, batches: int = 10) -> list[str]:
    """A profile of the first ``batches`` batches of a rebuild (enough to see the per-event cost)."""
    store.clear()
    follower = ProjectionFollower(store, batch_size=BATCH)
    return profile_top(lambda: [follower.process_available() for _ in range(batches)])


def run(backend: str, events: int | None = None, log: BigLog | None = None) -> dict[str, Any]:
    with big_log(backend, events, given=log) as (database, made):
        store = ReportingStore(service_settings(database))
        scanned, scan_seconds = scan(database.url)
        replayed, replay_seconds = rebuild(store)
        profile = profile_rebuild(store)
    scan_rate, replay_rate = scanned / scan_seconds, replayed / replay_seconds
    result = {
        "benchmark": "replay from zero into a fresh read model vs raw SELECT scan",
        "backend": backend,
        "events_in_log": scanned,
        "dataset": made,
        "scan": {"events": scanned, "seconds": round(scan_seconds, 2), "events_per_s": round(scan_rate)},
        "replay": {"events": replayed, "seconds": round(replay_seconds, 2), "events_per_s": round(replay_rate)},
        "ratio": round(replay_rate / scan_rate, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": replay_rate / scan_rate >= TARGET_RATIO,
        "profile_cumulative": profile,
    }
    write_result(f"replay-{backend}", result)
    return result


def main() -> None:
    command_line(run, __doc__, events=None)


if __name__ == "__main__":
    main()
