"""Verification: hash-chain verification rate over the live log and over an audit export file.

The log side is ``AuditedApplication.verify_log`` (what ``GET /v1/log/verify`` and ``aigov log verify`` run);
the export side is ``shared.export.verify_export`` over an NDJSON export written by ``ReportingStore``.
Target: ≥ 200,000 events/s for both.

    .venv/bin/python -m bench.verification [--backend postgres|sqlite] [--events 200000]
"""

from __future__ import annotations

import time
from itertools import islice
from typing import Any

from bench.common import BenchDatabase, command_line, profile_top, service_settings, write_result
from bench.dataset import BigLog, big_log
from services.registry.application import RegistryApplication
from services.reporting.readmodel import ReportingStore
from shared.export import verify_export
from shared.hashchain import GENESIS_HASH, canonical_bytes, link, verify_chain

TARGET_EVENTS_PER_S = 200_000
PROFILED_EVENTS = 20_000  # the profile only needs the per-event cost, not the whole log


def verify_log(app: RegistryApplication) -> dict[str, Any]:
    started = time.perf_counter()
    result = app.verify_log()
    elapsed = time.perf_counter() - started
    return {
        "ok": result.ok,
        "events": result.checked,
        "seconds": round(elapsed, 2),
        "events_per_s": round(result.checked / elapsed),
    }


def verify_file(database: BenchDatabase) -> dict[str, Any]:
    """Write the export (untimed), then time verification of the file with the operator's public key."""
    store = ReportingStore(service_settings(database))
    path = database.directory / "export.ndjson"
    with path.open("w", encoding="utf-8") as export:
        for line in store.export_lines():
            export.write(line + "\n")
    public_key = store.signing_key().public_key()
    started = time.perf_counter()
    with path.open(encoding="utf-8") as lines:
        result = verify_export(lines, public_key)
    elapsed = time.perf_counter() - started
    return {
        "ok": result.ok,
        "events": result.events,
        "seconds": round(elapsed, 2),
        "events_per_s": round(result.events / elapsed),
        "file_mb": round(path.stat().st_size / 1e6, 1),
    }


def hashing_floor(app: RegistryApplication) -> dict[str, Any]:
    """The hashing alone over rows already in memory: the ceiling any verifier in Python can reach."""
    records = list(app.iter_chained_records())
    started, previous = time.perf_counter(), GENESIS_HASH
    for record in records:
        previous = link(
            previous,
            canonical_bytes(
                record.position, record.originator_id, record.originator_version, record.topic, record.state
            ),
        )
    elapsed = time.perf_counter() - started
    return {"events": len(records), "seconds": round(elapsed, 2), "events_per_s": round(len(records) / elapsed)}


def run(backend: str, events: int | None = None, log: BigLog | None = None) -> dict[str, Any]:
    with big_log(backend, events, given=log) as (database, made):
        app = RegistryApplication(database.url)
        log = verify_log(app)
        floor = hashing_floor(app)
        export = verify_file(database)
        profile = profile_top(lambda: verify_chain(islice(app.iter_chained_records(), PROFILED_EVENTS)))
        app.close()
    result = {
        "benchmark": "hash-chain verification rate (log and export file)",
        "backend": backend,
        "dataset": made,
        "log": log,
        "export_file": export,
        "hashing_only_in_memory": floor,
        "target_events_per_s": TARGET_EVENTS_PER_S,
        "meets_target_log": log["events_per_s"] >= TARGET_EVENTS_PER_S,
        "meets_target_export": export["events_per_s"] >= TARGET_EVENTS_PER_S,
        "profile_cumulative_verify_log": profile,
    }
    write_result(f"verification-{backend}", result)
    return result


def main() -> None:
    command_line(run, __doc__, events=None)


if __name__ == "__main__":
    main()
