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

import hashlib
import multiprocessing
import statistics
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


class Sides:
    """Every timed side of the comparison, on one database's logs and one export file."""

    def __init__(self, url: str, store: ReportingStore, path: Path):
        self.apps = [RegistryApplication(url), RiskApplication(url)]
        self.in_memory = [list(app.log.iter_pages()) for app in self.apps]
        self.trusted = [_log_trusted(rows) for rows in self.in_memory]
        self.events = sum(len(page) for rows in self.in_memory for page in rows)
        self.path = path
        with path.open("w", encoding="utf-8") as export:
            for line in store.export_lines():
                export.write(line + "\n")
        self.lines = path.read_text(encoding="utf-8").splitlines()
        self.key = store.signing_key().public_key()

    def log(self) -> None:
        """``aigov log verify``'s pass of both logs (chain and tree against the trusted heads)."""
        for app, heads in zip(self.apps, self.trusted, strict=True):
            checked = app.check_log(heads)
            assert checked.chain.ok and checked.tree is not None and checked.tree.ok, checked

    def in_memory_rows(self) -> None:
        for rows, heads in zip(self.in_memory, self.trusted, strict=True):
            check_pages(rows, heads)

    def export(self) -> None:
        """``aigov audit verify``'s pass over the file."""
        with self.path.open(encoding="utf-8") as lines:
            chain, tree = verify_export_all(lines, self.key, [], [])
        assert chain.ok and tree.ok, (chain, tree)

    def export_lines_in_memory(self) -> None:
        verify_export_all(self.lines, self.key, [], [])

    def chain_only_log(self) -> None:
        for app in self.apps:
            app.verify_log()

    def chain_only_in_memory(self) -> None:
        for rows in self.in_memory:
            check_pages(rows, None)

    def log_two_passes(self) -> None:
        """What ``aigov log verify`` did before: the chain, then the tree, each reading the log."""
        for app, heads in zip(self.apps, self.trusted, strict=True):
            verify_chain(app.iter_chained_records())
            check_records(app.iter_chained_records(), heads)

    def export_two_passes(self) -> None:
        """What ``aigov audit verify`` did before: the chain's pass, then the tree's, each reading the file."""
        with self.path.open(encoding="utf-8") as lines:
            verify_export(lines, self.key)
        with self.path.open(encoding="utf-8") as lines:
            verify_export_tree(lines, self.key, [], [])


def _hash_events(count: int = 200_000) -> float:
    """Seconds to link-hash ``count`` event-sized inputs, as the verification does for each row."""
    sha256, state = hashlib.sha256, b"x" * 450
    started = time.perf_counter()
    for number in range(count):
        sha256(state + b"%d" % number).hexdigest()
    return time.perf_counter() - started


def _spin(stop: Any) -> None:
    while not stop.is_set():
        _hash_events(1_000)


def core_contention(rounds: int = 5) -> float:
    """How much longer one core's hashing takes while the machine's other core is busy (median of ``rounds``
    alternations). Reading in a thread or a process, and the database server, overlap with the hashing only as
    far as this allows: 1.0 means a free second core, 2.0 none (two vCPUs on one physical core)."""
    ratios = []
    for _ in range(rounds):
        alone = _hash_events()
        stop = multiprocessing.Event()
        other = multiprocessing.Process(target=_spin, args=(stop,))
        other.start()
        time.sleep(0.2)
        ratios.append(_hash_events() / alone)
        stop.set()
        other.join()
    return round(statistics.median(ratios), 2)


def verification(url: str, store: ReportingStore, directory: Path, rounds: int = VERIFY_ROUNDS) -> dict[str, Any]:
    """``aigov log verify``'s pass (chain and tree against trusted heads) of both logs, read from the database,
    against the same function over the same rows already in memory; then ``aigov audit verify``'s pass over an
    export file against the same in-memory pass. Each side is timed once a round, the sides in turn, ``rounds``
    rounds (best kept), so all see the same machine; the chain alone (``GET /v1/log/verify``) and the two passes
    of before are kept beside them."""
    sides = Sides(url, store, directory / "export.ndjson")
    names = ("log", "in_memory_rows", "export", "export_lines_in_memory")
    names += ("chain_only_log", "chain_only_in_memory")
    names += ("log_two_passes", "export_two_passes")
    best = dict.fromkeys(names, float("inf"))
    for _ in range(rounds):
        for name in names:
            best[name] = min(best[name], _best(getattr(sides, name), 1))
    sides.path.unlink()

    def side(name: str) -> dict[str, Any]:
        return {"events": sides.events, "seconds": round(best[name], 3), "events_per_s": rate(sides.events, best[name])}

    return {
        "rounds": rounds,
        "log": side("log"),
        "in_memory": side("in_memory_rows"),
        "export": {"ok": True, **side("export")},
        "export_lines_in_memory": side("export_lines_in_memory"),
        "chain_only": {"log": side("chain_only_log"), "in_memory": side("chain_only_in_memory")},
        "before": {"log_two_passes": side("log_two_passes"), "export_two_passes": side("export_two_passes")},
    }


def run(backend: str, events: int = 100_000, rounds: int = VERIFY_ROUNDS) -> dict[str, Any]:
    with fresh_database(backend) as database:
        ministry = establish_ministry(database.url)
        details = project_body(ministry)
        details.pop("ministry")
        made = make_log(database.url, ministry, events // EVENTS_PER_PROJECT, details, tree=True)
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
        "second_core_busy_slowdown": core_contention(),
    }
    write_result(f"verification-{backend}", result)
    return result


if __name__ == "__main__":
    command_line(run, __doc__, events=100_000, rounds=VERIFY_ROUNDS)
