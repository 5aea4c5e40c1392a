"""Verification of the logs and of an export against the same algorithm over the same rows already in memory.

A fresh database with a log of N events (bench/scaledata.py, as the scale sweep makes it, Merkle tree included);
on it, in the same run and alternating so that both sides see the same machine:

- ``aigov log verify``'s pass of both logs (``AuditedApplication.check_log``: the hash chain and the Merkle tree
  against trusted heads, read from the tables) against ``shared.logcheck.check_pages`` over the same rows already
  in memory (the same function over the same driver rows);
- ``aigov audit verify``'s pass over an export file (``verify_export_all``: every line parsed, links, leaves,
  checkpoints and signatures) against the same in-memory pass of the logs (the stricter floor: parsing the
  file counts against it), and against its own lines already in memory;
- the chain alone (what ``GET /v1/log/verify`` runs) both ways, and the two passes each command made before
  (chain, then tree), kept for comparison.

    .venv/bin/python -m bench.verification [--backend postgres|sqlite] [--events 100000] [--rounds 5]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import command_line, establish_ministry, fresh_database, profile_top, service_settings, write_result
from bench.scaledata import EVENTS_PER_PROJECT, make_log
from services.registry.application import RegistryApplication
from services.reporting.readmodel import ReportingStore
from services.risk.application import RiskApplication
from shared.export import verify_export
from shared.hashchain import verify_chain
from shared.logcheck import check_pages
from shared.transparency.audit import TrustedHead, check_records
from shared.transparency.exports import verify_export_all, verify_export_tree
from tests.support import project_body

VERIFY_ROUNDS = 5


def rate(count: int, seconds: float) -> int:
    return round(count / seconds) if seconds > 0 else 0


def _log_trusted(rows: list[list[Any]]) -> list[TrustedHead]:
    """Trusted heads for a log: its root at half and at full size (from the rows, untimed), so the tree's
    comparisons run as they do against a witness's checkpoints."""
    half = check_pages([[row for page in rows for row in page][: max(1, sum(map(len, rows)) // 2)]], [])
    full = check_pages(rows, [])
    return [
        TrustedHead(check.tree.tree_size, bytes.fromhex(check.tree.root), "bench")
        for check in (half, full)
        if check.tree is not None
    ]


def _best(function: Callable[[], Any], rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return min(timings)


def verification(url: str, store: ReportingStore, directory: Path, rounds: int = VERIFY_ROUNDS) -> dict[str, Any]:
    """``aigov log verify``'s pass (chain and tree against trusted heads) of both logs, read from the database,
    against the same function over the same rows already in memory; then ``aigov audit verify``'s pass over an
    export file against the same in-memory pass. Each side is timed ``rounds`` times in alternation (best kept),
    so both see the same machine; the chain alone (``GET /v1/log/verify``) is kept beside it."""
    apps = [RegistryApplication(url), RiskApplication(url)]
    in_memory = [list(app.log.iter_pages()) for app in apps]
    trusted = [_log_trusted(rows) for rows in in_memory]
    events = sum(len(page) for rows in in_memory for page in rows)
    checks = [app.check_log(heads) for app, heads in zip(apps, trusted, strict=True)]
    assert all(check.chain.ok and check.tree and check.tree.ok for check in checks), checks
    path = directory / "export.ndjson"
    with path.open("w", encoding="utf-8") as export:
        for line in store.export_lines():
            export.write(line + "\n")
    key = store.signing_key().public_key()

    def from_database() -> None:
        for app, heads in zip(apps, trusted, strict=True):
            app.check_log(heads)

    def from_memory() -> None:
        for rows, heads in zip(in_memory, trusted, strict=True):
            check_pages(rows, heads)

    def export_file() -> None:
        with path.open(encoding="utf-8") as lines:
            chain, tree = verify_export_all(lines, key, [], [])
        assert chain.ok and tree.ok, (chain, tree)

    lines_in_memory = path.read_text(encoding="utf-8").splitlines()

    def export_in_memory() -> None:
        verify_export_all(lines_in_memory, key, [], [])

    def two_passes() -> None:  # what aigov log verify did before: the chain, then the tree, each reading the log
        for app, heads in zip(apps, trusted, strict=True):
            verify_chain(app.iter_chained_records())
            check_records(app.iter_chained_records(), heads)

    def export_two_passes() -> None:  # what aigov audit verify did before: the chain pass, then the tree pass
        for check in (lambda lines: verify_export(lines, key), lambda lines: verify_export_tree(lines, key, [], [])):
            with path.open(encoding="utf-8") as lines:
                check(lines)

    log_s = memory_s = export_s = export_memory_s = chain_s = chain_memory_s = float("inf")
    before_s = export_before_s = float("inf")
    for _ in range(rounds):
        before_s = min(before_s, _best(two_passes, 1))
        export_before_s = min(export_before_s, _best(export_two_passes, 1))
        log_s = min(log_s, _best(from_database, 1))
        memory_s = min(memory_s, _best(from_memory, 1))
        export_s = min(export_s, _best(export_file, 1))
        export_memory_s = min(export_memory_s, _best(export_in_memory, 1))
        chain_s = min(chain_s, _best(lambda: [app.verify_log() for app in apps], 1))
        chain_memory_s = min(chain_memory_s, _best(lambda: [check_pages(rows, None) for rows in in_memory], 1))
    path.unlink()

    def side(seconds: float) -> dict[str, Any]:
        return {"events": events, "seconds": round(seconds, 3), "events_per_s": rate(events, seconds)}

    return {
        "rounds": rounds,
        "log": side(log_s),
        "in_memory": side(memory_s),
        "export": {"ok": True, **side(export_s)},
        "export_lines_in_memory": side(export_memory_s),
        "chain_only": {"log": side(chain_s), "in_memory": side(chain_memory_s)},
        "before": {"log_two_passes": side(before_s), "export_two_passes": side(export_before_s)},
    }



def run(backend: str, events: int = 100_000, rounds: int = VERIFY_ROUNDS) -> dict[str, Any]:
    with fresh_database(backend) as database:
        ministry = establish_ministry(database.url)
        details = project_body(ministry)
        details.pop("ministry")
        made = make_log(database.url, ministry, events // EVENTS_PER_PROJECT, details)
        store = ReportingStore(service_settings(database))
        measured = verification(database.url, store, database.directory, rounds)
        registry = RegistryApplication(database.url)
        profile = profile_top(lambda: registry.check_log([]), top=8)
    result = {
        "benchmark": "verification of the logs and of an export vs the same algorithm in memory",
        "backend": backend,
        "events": made["events"],
        "making_log": made,
        **measured,
        "profile_verification": profile,
    }
    write_result(f"verification-{backend}", result)
    return result


if __name__ == "__main__":
    command_line(run, __doc__, events=100_000, rounds=VERIFY_ROUNDS)
