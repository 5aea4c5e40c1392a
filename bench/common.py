"""What every benchmark shares: fresh databases per backend, the service stack, percentiles, results on disk.

Each benchmark gets its own database (a fresh PostgreSQL schema or SQLite file) so that runs never see each
other's data and a baseline table never sits beside another benchmark's log.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from tests.support import POSTGRES_URL, PostgresRun, ServiceStack, migrated  # noqa: E402

RESULTS = PROJECT_ROOT / "bench" / "results"
BACKENDS = ("postgres", "sqlite")


@dataclass
class BenchDatabase:
    """A migrated database for one benchmark, plus the scratch directory its services use as ``var/``."""

    backend: str
    url: str
    directory: Path


@contextmanager
def fresh_database(backend: str) -> Iterator[BenchDatabase]:
    """A migrated, empty database on ``backend``; PostgreSQL databases are dropped afterwards."""
    directory = Path(tempfile.mkdtemp(prefix=f"aigov-bench-{backend}-"))
    run = PostgresRun(POSTGRES_URL) if backend == "postgres" else None
    if run:
        run.create()
    try:
        url = run.fresh_schema_url() if run else f"sqlite:///{directory / 'aigov.sqlite3'}"
        yield BenchDatabase(backend, migrated(url), directory)
    finally:
        if run:
            run.drop()
        shutil.rmtree(directory, ignore_errors=True)  # a 200,000-event SQLite log is ~300 MB


@contextmanager
def running_services(database: BenchDatabase, **env: str) -> Iterator[ServiceStack]:
    """The three services as uvicorn processes, exactly as the end-to-end tests run them (``env``: settings)."""
    stack = ServiceStack(database.url, database.directory, env)
    try:
        stack.start_all()
        yield stack
    finally:
        stack.stop_all()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: with few samples it reports an observed value, never an interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def latency_summary(latencies_ms: list[float]) -> dict[str, float]:
    return {
        "samples": len(latencies_ms),
        "p50_ms": round(statistics.median(latencies_ms), 2) if latencies_ms else float("nan"),
        "p95_ms": round(percentile(latencies_ms, 0.95), 2),
        "p99_ms": round(percentile(latencies_ms, 0.99), 2),
        "max_ms": round(max(latencies_ms), 2) if latencies_ms else float("nan"),
    }


def memory_total_mb() -> float:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def machine() -> dict[str, Any]:
    """Enough to compare runs: the targets were set for a small machine, so state how small this one is."""
    load = os.getloadavg()
    return {
        "cores": os.cpu_count(),
        "memory_mb": memory_total_mb(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1_5_15_min": [round(value, 2) for value in load],
    }


def write_result(name: str, result: dict[str, Any]) -> Path:
    """One JSON file per benchmark under bench/results/, stamped with time and machine."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {**result, "machine": machine(), "at": datetime.now(UTC).isoformat()}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path


def establish_ministry(database_url: str) -> str:
    """A fresh ministry, recorded in-process so benchmarks depend on nothing but the path they measure."""
    from services.registry.application import RegistryApplication
    from shared.meta import EventMeta
    from tests.support import new_ministry_code

    code = new_ministry_code()
    app = RegistryApplication(database_url)
    app.establish_ministry(code, "Bench", EventMeta.system("bench", "benchmark setup", None, None))
    app.close()
    return code


def service_settings(database: BenchDatabase) -> Any:
    """Settings like those of the services the stack runs (same database, var dir and JWT secret)."""
    from shared.settings import Settings
    from tests.support import TEST_JWT_SECRET

    return Settings(database_url=database.url, var_dir=database.directory, jwt_secret=TEST_JWT_SECRET)


def profile_top(function: Any, top: int = 10) -> list[str]:
    """Where the time goes (cProfile, cumulative, aigov's own functions only): enough to name a hotspot."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    started = __import__("time").perf_counter()
    profiler.runcall(function)
    total = __import__("time").perf_counter() - started
    stats = pstats.Stats(profiler, stream=io.StringIO())
    ours = [
        (key, value)
        for key, value in stats.stats.items()
        if "/work/" in key[0] and "/.venv/" not in key[0] and "/bench/" not in key[0]
    ]  # type: ignore[attr-defined]
    rows = sorted(ours, key=lambda item: item[1][3], reverse=True)[:top]
    return [
        f"{100 * cumtime / total:5.1f}% cum {Path(file).parent.name}/{Path(file).name}:{line} {name}"
        for (file, line, name), (_cc, _nc, _tt, cumtime, _callers) in rows
    ]


def bench_events(default: int) -> int:
    """Log size for the replay and verification benchmarks (BENCH_EVENTS overrides, e.g. 1000000)."""
    return int(os.environ.get("BENCH_EVENTS", default))


def command_line(run: Callable[..., dict[str, Any]], description: str | None, **options: Any) -> None:
    """The shared ``main`` of every benchmark module: ``--backend`` plus its own ``--<option>`` defaults."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    for name, default in options.items():
        parser.add_argument(
            f"--{name}", type=int if isinstance(default, int) or default is None else float, default=default
        )
    args = parser.parse_args()
    print(json.dumps(run(args.backend, *(getattr(args, name) for name in options)), indent=2))
