"""Transparency log: what the Merkle tree costs on the write path, and how fast roots, proofs and the tree check are.

Same-run baselines: single-event writes with the tree append vs the same writes with it switched off (the hash
chain alone, what the log did before), and the tree check of ``aigov log verify`` vs the hash-chain check over
the same log. Roots and proofs are timed at the log's head (they read O(log n) stored nodes, never the log).

    .venv/bin/python -m bench.transparency [--backend postgres|sqlite] [--writes 500] [--events 20000]
"""

from __future__ import annotations

import statistics
import time
from typing import Any
from unittest import mock

from bench.common import command_line, establish_ministry, fresh_database, write_result
from bench.dataset import _project_with_history, populate
from services.registry.application import RegistryApplication
from shared.hashchain import verify_chain
from shared.transparency.audit import check_records
from shared.transparency.store import TreeReader

WRITE_OVERHEAD_TARGET = 1.25  # a write with the tree may take at most 25 % longer than without it


def single_writes(app: RegistryApplication, ministry: str, writes: int) -> float:
    """Mean milliseconds of one transaction appending one event (a new project)."""
    started = time.perf_counter()
    for _ in range(writes):
        app.save(_project_with_history(ministry, 0))
    return (time.perf_counter() - started) * 1000 / writes


def timed_ms(function: Any, repeat: int = 200) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 3)


def run(backend: str, writes: int, events: int) -> dict[str, Any]:
    with fresh_database(backend) as database:
        app = RegistryApplication(database.url)
        ministry = establish_ministry(database.url)
        single_writes(app, ministry, 50)  # warm up pools and caches
        with mock.patch("shared.persistence.append_leaves"):
            chain_only = single_writes(app, ministry, writes)
        with_tree = single_writes(app, ministry, writes)
        with mock.patch("shared.persistence.append_leaves"):
            chain_only = min(chain_only, single_writes(app, ministry, writes))  # both sides measured twice
        with_tree = min(with_tree, single_writes(app, ministry, writes))
        populate(app, ministry, events)
        reader = TreeReader("registry", app.read_session)
        size = reader.size()
        started = time.perf_counter()
        chain = verify_chain(app.iter_chained_records())
        chain_seconds = time.perf_counter() - started
        started = time.perf_counter()
        tree = check_records(app.iter_chained_records(), [])
        tree_seconds = time.perf_counter() - started
        first = app.read_log(after=0, limit=1)[0].position
        proofs = {
            "root": timed_ms(lambda: reader.root(size)),
            "inclusion_proof": timed_ms(lambda: reader.inclusion(first, size)),
            "consistency_proof": timed_ms(lambda: reader.consistency(size // 3, size)),
        }
    result = {
        "backend": backend,
        "write_ms": {"chain_only": round(chain_only, 3), "chain_and_tree": round(with_tree, 3)},
        "write_overhead_ratio": round(with_tree / chain_only, 3),
        "write_overhead_target": WRITE_OVERHEAD_TARGET,
        "tree_size": size,
        "verification_events_per_s": {
            "hash_chain": round(chain.checked / chain_seconds),
            "merkle_tree": round(tree.tree_size / tree_seconds),
        },
        "median_ms_at_head": proofs,
    }
    write_result(f"transparency-{backend}", result)
    return result


if __name__ == "__main__":
    command_line(run, __doc__, writes=500, events=20_000)
