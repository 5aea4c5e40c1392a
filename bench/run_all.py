"""Run every benchmark on PostgreSQL and SQLite, then write the chart and docs/benchmarks.md.

Each benchmark runs aigov and its baseline in the same run; a benchmark that fails is recorded as failed
and the others still run, so one regression never hides the rest. ``make bench`` calls this.

    .venv/bin/python -m bench.run_all [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench import history, memory, propagation, scale, verification, write_path
from bench.common import BACKENDS, RESULTS, machine, write_result
from bench.report import checks, write_chart, write_checks, write_markdown

BENCHMARKS = ("write_path", "propagation", "memory", "history", "scale", "verification")


def attempt(name: str, function: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one benchmark; on failure keep the error (and the time it took) instead of stopping the run."""
    started = time.perf_counter()
    print(f"[bench] {name} ...", flush=True)
    try:
        result = function()
    except Exception as error:  # noqa: BLE001 - report every benchmark, even when one breaks
        traceback.print_exc()
        result = {"error": f"{type(error).__name__}: {error}"}
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    print(f"[bench] {name} done in {result['wall_seconds']} s", flush=True)
    return result


def run_backend(
    backend: str, seconds: float, sizes: tuple[int, ...] | None, only: list[str] | None = None
) -> dict[str, Any]:
    """Every benchmark on one backend (or the ``only`` ones); the scale sweep measures rebuild at each size."""
    benchmarks: dict[str, Callable[[], dict[str, Any]]] = {
        "write_path": lambda: write_path.run(backend, seconds),
        "propagation": lambda: propagation.run(backend, seconds + 2),
        "memory": lambda: memory.run(backend, seconds + 2),
        "history": lambda: history.run(backend),
        "scale": lambda: scale.run(backend, sizes),
        "verification": lambda: verification.run(backend),
    }
    return {
        name: attempt(f"{name.replace('_', ' ')} {backend}", function)
        for name, function in benchmarks.items()
        if only is None or name in only
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per write-path level")
    parser.add_argument(
        "--sizes",
        default=None,
        help="the sweep's log sizes in events, comma-separated (default BENCH_SCALE_SIZES or 10000,100000,1000000)",
    )
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=BENCHMARKS,
        help="run only these benchmarks; the others' results are kept from the last summary.json",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    sizes = tuple(int(size) for size in args.sizes.split(",")) if args.sizes else None
    results = {backend: run_backend(backend, args.seconds, sizes, args.only) for backend in args.backends}
    summary = {"results": results, "wall_seconds": round(time.perf_counter() - started, 1), "machine": machine()}
    if args.only:  # a partial run: the earlier results of the benchmarks not run stay, marked as such
        earlier = json.loads((RESULTS / "summary.json").read_text())
        for backend, by_name in earlier["results"].items():
            results[backend] = {**by_name, **results.get(backend, {})}
        stamp = {"at": datetime.now(UTC).isoformat()}
        summary = {**earlier, "results": results, "partial_run": {"only": args.only, **summary, **stamp}}
        # the machine and time stamped on the summary stay the full run's; the partial run's are its own
        (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    else:
        write_result("summary", summary)
    write_checks(checks(results), RESULTS / "checks.json")
    chart = write_chart(results, RESULTS / "benchmarks.png")
    doc = write_markdown(summary, chart)
    print(json.dumps({"wall_seconds": summary["wall_seconds"], "chart": str(chart), "doc": str(doc)}))


if __name__ == "__main__":
    main()
