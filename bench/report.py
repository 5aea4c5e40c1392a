"""The benchmark report: every ratio against its target, a PNG chart and docs/benchmarks.md.

Kept apart from the benchmarks so the document can be regenerated from bench/results/*.json alone
(``python -m bench.report``) without running anything again.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import PROJECT_ROOT, RESULTS

DOC = PROJECT_ROOT / "docs" / "benchmarks.md"


@dataclass(frozen=True)
class Check:
    """One measured number against its target; ``higher`` says which direction is good."""

    benchmark: str
    backend: str
    what: str
    measured: float
    target: float
    higher: bool
    unit: str

    @property
    def met(self) -> bool:
        return self.measured >= self.target if self.higher else self.measured < self.target

    @property
    def to_target(self) -> float:
        """Measured over target, oriented so that ≥ 1 always means met (for the chart)."""
        if not self.measured or math.isnan(self.measured):
            return 0.0
        return self.measured / self.target if self.higher else self.target / self.measured


def _get(result: Any, *path: Any) -> Any:
    """``result[path...]``, or None when any step is missing or a benchmark recorded an error."""
    for key in path:
        if isinstance(result, dict) and "error" in result:
            return None
        try:
            result = result[key]
        except (KeyError, IndexError, TypeError):
            return None
    return result


def checks(results: dict[str, dict[str, Any]]) -> list[Check]:
    """Every target of issue 7 that this run measured."""
    rows: list[Check] = []
    for backend, by_name in results.items():
        for level in _get(by_name, "write_path", "levels") or []:
            rows.append(
                Check(
                    "write path",
                    backend,
                    f"throughput vs baseline, {level['clients']} clients",
                    level["throughput_ratio"],
                    0.6,
                    True,
                    "×",
                )
            )
            if backend == "postgres" and level["clients"] == 50:
                rows.append(
                    Check("write path", backend, "p99 latency, 50 clients", level["aigov"]["p99_ms"], 25.0, False, "ms")
                )
        if (p99 := _get(by_name, "propagation", "under_load_1", "p99_ms")) is not None:
            rows.append(Check("propagation", backend, "p99 write → read model, load 1", p99, 200.0, False, "ms"))
        if (ratio := _get(by_name, "replay", "ratio")) is not None:
            rows.append(
                Check(
                    "replay",
                    backend,
                    f"rebuild vs raw scan ({_get(by_name, 'replay', 'events_in_log'):,} events)",
                    ratio,
                    0.5,
                    True,
                    "×",
                )
            )
        for part, label in (("log", "log"), ("export_file", "export file")):
            if (rate := _get(by_name, "verification", part, "events_per_s")) is not None:
                rows.append(
                    Check("verification", backend, f"chain verification, {label}", rate, 200_000, True, "events/s")
                )
        if (median := _get(by_name, "history", "reporting_as_of_median_ms")) is not None:
            rows.append(
                Check("history", backend, "project as of a past moment (reporting ?as_of=)", median, 20.0, False, "ms")
            )
        if (p50 := _get(by_name, "history", "registry_at_version_snapshots", "p50_ms")) is not None:
            rows.append(
                Check("history", backend, "project at a version (snapshots; building block)", p50, 20.0, False, "ms")
            )
    return rows


def write_chart(results: dict[str, dict[str, Any]], path: Path) -> Path:
    """Three panels: write throughput by concurrency, every check against its target, memory per service."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (throughput, targets, rss) = plt.subplots(1, 3, figsize=(18, 6))
    _throughput_panel(throughput, results)
    _targets_panel(targets, checks(results))
    _memory_panel(rss, results)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _throughput_panel(axis: Any, results: dict[str, dict[str, Any]]) -> None:
    labels, aigov, baseline = [], [], []
    for backend, by_name in results.items():
        for level in _get(by_name, "write_path", "levels") or []:
            labels.append(f"{backend[:2]}\n{level['clients']}c")
            aigov.append(level["aigov"]["commands_per_s"])
            baseline.append(level["baseline"]["commands_per_s"])
    positions = range(len(labels))
    axis.bar([p - 0.2 for p in positions], aigov, 0.4, label="aigov POST /v1/projects")
    axis.bar([p + 0.2 for p in positions], baseline, 0.4, label="bare FastAPI INSERT")
    axis.set_xticks(list(positions), labels)
    axis.set_ylabel("commands/s")
    axis.set_title("Write throughput (po = PostgreSQL, sq = SQLite)")
    axis.legend()


def _targets_panel(axis: Any, rows: list[Check]) -> None:
    names = [f"{row.backend[:2]} {row.benchmark}: {row.what}"[:60] for row in rows]
    values = [row.to_target for row in rows]
    colours = ["tab:green" if row.met else "tab:red" for row in rows]
    axis.barh(range(len(rows)), values, color=colours)
    axis.axvline(1.0, color="black", linestyle="--", linewidth=1)
    axis.set_xscale("log")
    axis.set_yticks(range(len(rows)), names, fontsize=7)
    axis.invert_yaxis()
    axis.set_xlabel("measured / target (≥ 1 meets the target; log scale)")
    axis.set_title("Every check against its target")


def _memory_panel(axis: Any, results: dict[str, dict[str, Any]]) -> None:
    labels, idle, loaded = [], [], []
    for backend, by_name in results.items():
        for service, value in (_get(by_name, "memory", "idle_mb") or {}).items():
            labels.append(f"{backend[:2]}\n{service}")
            idle.append(value)
            loaded.append(by_name["memory"]["under_load_1_peak_mb"][service])
    positions = range(len(labels))
    axis.bar([p - 0.2 for p in positions], idle, 0.4, label="idle")
    axis.bar([p + 0.2 for p in positions], loaded, 0.4, label="peak under load 1")
    axis.set_xticks(list(positions), labels, fontsize=8)
    axis.set_ylabel("VmRSS (MB)")
    axis.set_title("Service process memory")
    axis.legend()


def _fmt(value: float, unit: str) -> str:
    if unit == "events/s":
        return f"{value:,.0f} events/s"
    if unit == "×":
        return f"{value:.3f}×"
    return f"{value:,.1f} ms"


def summary_table(rows: list[Check]) -> list[str]:
    lines = [
        "| Benchmark | Backend | Check | Measured | Target | Measured/target | Met |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        target = f"{'≥' if row.higher else '<'} {_fmt(row.target, row.unit)}"
        lines.append(
            f"| {row.benchmark} | {row.backend} | {row.what} | {_fmt(row.measured, row.unit)} | {target} | {row.to_target:.2f} | {'yes' if row.met else '**no**'} |"
        )
    return lines


def detail_tables(results: dict[str, dict[str, Any]]) -> list[str]:
    """The raw numbers behind each check, per backend."""
    lines = [
        "### Write path (commands/s and latency, ms)",
        "",
        "| Backend | Clients | aigov cmd/s | aigov p50 | p95 | p99 | baseline cmd/s | baseline p50 | p95 | p99 | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for backend, by_name in results.items():
        for level in _get(by_name, "write_path", "levels") or []:
            a, b = level["aigov"], level["baseline"]
            lines.append(
                f"| {backend} | {level['clients']} | {a['commands_per_s']} | {a['p50_ms']} | {a['p95_ms']} | {a['p99_ms']} | {b['commands_per_s']} | {b['p50_ms']} | {b['p95_ms']} | {b['p99_ms']} | {level['throughput_ratio']} |"
            )
    lines += [
        "",
        "### Propagation (ms, registry response → reporting read model)",
        "",
        "| Backend | Mode | Samples | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend, by_name in results.items():
        for mode in ("under_load_1", "idle"):
            if (p := _get(by_name, "propagation", mode)) is not None:
                lines.append(
                    f"| {backend} | {mode.replace('_', ' ')} | {p['samples']} | {p['p50_ms']} | {p['p95_ms']} | {p['p99_ms']} | {p['max_ms']} |"
                )
    lines += [
        "",
        "### Replay and verification (events/s)",
        "",
        "| Backend | Events in log | Raw scan | Rebuild | Ratio | Verify log | Verify export | Hashing alone (in memory) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for backend, by_name in results.items():
        r, v = by_name.get("replay", {}), by_name.get("verification", {})
        lines.append(
            f"| {backend} | {_get(r, 'events_in_log') or 'n/a'} | {_get(r, 'scan', 'events_per_s') or 'n/a'} | {_get(r, 'replay', 'events_per_s') or 'n/a'} | {_get(r, 'ratio') or 'n/a'} "
            f"| {_get(v, 'log', 'events_per_s') or 'n/a'} | {_get(v, 'export_file', 'events_per_s') or 'n/a'} | {_get(v, 'hashing_only_in_memory', 'events_per_s') or 'n/a'} |"
        )
    lines += [
        "",
        "### History (one project with 10,000 events)",
        "",
        "| Backend | reporting ?as_of= (ms) by version of the moment | registry at version, snapshots (p50 / p99 ms) |",
        "|---|---|---|",
    ]
    for backend, by_name in results.items():
        h = by_name.get("history", {})
        snap = _get(h, "registry_at_version_snapshots") or {}
        moments = (
            "; ".join(f"v{int(version):,}: {ms} ms" for version, ms in (_get(h, "reporting_as_of_ms") or {}).items())
            or "n/a"
        )
        lines.append(f"| {backend} | {moments} | {snap.get('p50_ms', 'n/a')} / {snap.get('p99_ms', 'n/a')} |")
    lines += [
        "",
        "### Memory (VmRSS, MB)",
        "",
        "| Backend | Service | Idle | Peak under load 1 | After load |",
        "|---|---|---|---|---|",
    ]
    for backend, by_name in results.items():
        m = by_name.get("memory", {})
        for service, idle in (_get(m, "idle_mb") or {}).items():
            lines.append(
                f"| {backend} | {service} | {idle} | {m['under_load_1_peak_mb'][service]} | {m['after_load_mb'][service]} |"
            )
    errors = [
        f"- {backend} {name}: {result['error']}"
        for backend, by_name in results.items()
        for name, result in by_name.items()
        if isinstance(result, dict) and "error" in result
    ]
    if errors:
        lines += ["", "### Benchmarks that failed in this run", "", *errors]
    return lines


def profiles(results: dict[str, dict[str, Any]]) -> list[str]:
    """The cProfile excerpts the benchmarks recorded (cumulative share of aigov's own functions)."""
    lines: list[str] = []
    for backend, by_name in results.items():
        for name, key in (
            ("replay", "profile_cumulative"),
            ("verification", "profile_cumulative_verify_log"),
            ("history", "profile_cumulative_as_of"),
        ):
            profile = _get(by_name, name, key)
            if profile:
                lines += [f"{name} ({backend}), cProfile, cumulative:", "", "```", *profile[:8], "```", ""]
    return lines


def write_markdown(summary: dict[str, Any], chart: Path) -> Path:
    """docs/benchmarks.md: machine, summary table, details, gaps with profiles and remedies."""
    from bench.analysis import ANALYSIS, METHOD

    results, info = summary["results"], summary["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`bench/run_all.py`); raw numbers in `bench/results/*.json`, chart in "
        f"`bench/results/{chart.name}`. Never part of `make test`.",
        "",
        f"Machine: {info['cores']} cores, {info['memory_mb'] / 1024:.1f} GiB memory, Python {info['python']}, {info['platform']}; "
        f"load average (1, 5, 15 min) when the run ended {info['load_average_1_5_15_min']}. Services, databases and the load generator share these cores. "
        f"Wall time of the whole run: {summary['wall_seconds'] / 60:.1f} min.",
        "",
        "## Summary: every check against its target",
        "",
        *summary_table(checks(results)),
        "",
        f"![benchmarks](../bench/results/{chart.name})",
        "",
        METHOD,
        "",
        "## Measurements",
        "",
        *detail_tables(results),
        "",
        ANALYSIS,
        "",
        "## Profiles recorded by this run",
        "",
        *profiles(results),
    ]
    DOC.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return DOC


def main() -> None:
    """Regenerate the chart and the document from the last summary.json."""
    summary = json.loads((RESULTS / "summary.json").read_text())
    write_markdown(summary, write_chart(summary["results"], RESULTS / "benchmarks.png"))


if __name__ == "__main__":
    main()
