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
    """One measured number against its target; ``higher`` says which direction is good (the bound included)."""

    benchmark: str
    backend: str
    what: str
    measured: float
    target: float
    higher: bool
    unit: str

    @property
    def met(self) -> bool:
        if self.measured is None or math.isnan(self.measured):
            return False
        return self.measured >= self.target if self.higher else self.measured <= self.target

    @property
    def to_target(self) -> float:
        """Measured over target, oriented so that ≥ 1 always means met (for the chart)."""
        if not self.measured or math.isnan(self.measured):
            return 0.0
        return self.measured / self.target if self.higher else self.target / self.measured

    def as_json(self) -> dict[str, Any]:
        """A row of bench/results/checks.json."""
        return {
            "benchmark": self.benchmark,
            "backend": self.backend,
            "check": self.what,
            "measured": self.measured,
            "unit": self.unit,
            "target": f"{'≥' if self.higher else '≤'} {self.target:g}",
            "met": self.met,
        }


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
    """Every target of issue 14 that this run measured."""
    rows: list[Check] = []
    for backend, by_name in results.items():
        rows += write_path_checks(backend, by_name)
        if (p99 := _get(by_name, "propagation", "under_load_1", "p99_ms")) is not None:
            rows.append(Check("propagation", backend, "p99 write → read model, load 1", p99, 100.0, False, "ms"))
        if (median := _get(by_name, "history", "reporting_as_of_median_ms")) is not None:
            rows.append(Check("history", backend, "?as_of= of a project with 10,000 events", median, 20.0, False, "ms"))
        rows += scale_checks(backend, _get(by_name, "scale", "points") or [])
        rows += verification_checks(backend, by_name.get("verification") or {})
    return rows


def verification_checks(backend: str, result: dict[str, Any]) -> list[Check]:
    """Issue 14's verification target (≥ 0.8× the same algorithm over the same data in memory), log and export."""
    if "error" in result or "log" not in result:
        return []
    # The same data already in memory is, for the log, its rows and, for an export, its lines: the export's
    # rate against the log's rows is in the verification table, not a check (it compares different data).
    floor, events = result["in_memory"]["events_per_s"], f"{result['events']:,} events"
    rows = [
        Check(
            "verification",
            backend,
            f"log (chain and tree) vs the same pass over the rows in memory ({events})",
            round(result["log"]["events_per_s"] / floor, 3),
            0.8,
            True,
            "×",
        )
    ]
    rows.append(
        Check(
            "verification",
            backend,
            f"export file vs the same pass over its lines in memory ({events})",
            round(result["export"]["events_per_s"] / result["export_lines_in_memory"]["events_per_s"], 3),
            0.8,
            True,
            "×",
        )
    )
    return rows


def write_path_checks(backend: str, by_name: dict[str, Any]) -> list[Check]:
    levels = {level["clients"]: level for level in _get(by_name, "write_path", "levels") or []}
    rows = [
        Check(
            "write path",
            backend,
            f"throughput vs baseline, {clients} clients",
            level["throughput_ratio"],
            0.5,
            True,
            "×",
        )
        for clients, level in levels.items()
        if clients in (1, 10)
    ]
    if 50 in levels and 10 in levels:
        fifty, ten = levels[50]["aigov"], levels[10]["aigov"]
        rows.append(
            Check(
                "write path",
                backend,
                "throughput at 50 clients vs at 10",
                round(fifty["commands_per_s"] / ten["commands_per_s"], 3),
                1.0,
                True,
                "×",
            )
        )
        rows.append(
            Check(
                "write path",
                backend,
                "p99 at 50 clients vs the baseline's p99",
                round(fifty["p99_ms"] / levels[50]["baseline"]["p99_ms"], 3),
                1.0,
                False,
                "×",
            )
        )
    return rows


def _point(points: list[dict[str, Any]], events: int) -> dict[str, Any] | None:
    return next(
        (point for point in points if point["events"] >= events * 0.99 and point["events"] <= events * 1.01), None
    )


def scale_checks(backend: str, points: list[dict[str, Any]]) -> list[Check]:
    """The sweep's targets: absolute at the large end, growth from the small end, and rates at the largest log."""
    if not points:
        return []
    small, large = points[0], points[-1]
    at_100k_projects = _point(points, 1_000_000) or large
    rows: list[Check] = []
    size = f"{large['events']:,} events"
    for key, label, limit in (
        ("as_of_project_ms", "?as_of= of one project", 20.0),
        ("as_of_ministry_inventory_first_page_ms", "?as_of= of a ministry's inventory, first page", 100.0),
    ):
        rows.append(Check("scale", backend, f"{label} at {size}", large["reports"][key], limit, False, "ms"))
        rows.append(_growth(backend, label, key, small, large))
    for key, label in (
        ("inventory_first_page_ms", "inventory first page"),
        ("public_register_first_page_ms", "public (high-risk) register first page"),
    ):
        projects = f"{at_100k_projects['projects']:,} projects"
        rows.append(
            Check("scale", backend, f"{label} at {projects}", at_100k_projects["reports"][key], 50.0, False, "ms")
        )
        rows.append(_growth(backend, label, key, small, at_100k_projects))
    rebuild, scan, decode = (large[key]["events_per_s"] for key in ("rebuild", "raw_scan", "library_decode"))
    rows.append(Check("scale", backend, f"rebuild vs raw scan ({size})", round(rebuild / scan, 3), 0.5, True, "×"))
    rows.append(
        Check(
            "scale",
            backend,
            f"rebuild vs the library's read-and-decode ({size})",
            round(rebuild / decode, 3),
            1.0,
            True,
            "×",
        )
    )
    small_rss, large_rss = (_get(point, "memory", "after_reports_mb") for point in (small, at_100k_projects))
    if small_rss and large_rss:
        rows.append(
            Check(
                "scale",
                backend,
                f"reporting RSS at {at_100k_projects['projects']:,} projects vs at {small['projects']:,}",
                round(large_rss / small_rss, 3),
                2.0,
                False,
                "×",
            )
        )
    return rows


def _growth(backend: str, label: str, key: str, small: dict[str, Any], large: dict[str, Any]) -> Check:
    ratio = round(large["reports"][key] / small["reports"][key], 3)
    what = f"{label}: cost at {large['events']:,} events vs at {small['events']:,}"
    return Check("scale", backend, what, ratio, 1.5, False, "×")


def write_checks(rows: list[Check], path: Path) -> Path:
    path.write_text(json.dumps([row.as_json() for row in rows], indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_chart(results: dict[str, dict[str, Any]], path: Path) -> Path:
    """Four panels: write throughput, every check against its target, memory, and cost against the log's size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ((throughput, targets), (rss, sweep)) = plt.subplots(2, 2, figsize=(20, 13))
    _throughput_panel(throughput, results)
    _targets_panel(targets, checks(results))
    _memory_panel(rss, results)
    _sweep_panel(sweep, results)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
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
    names = [f"{row.backend[:2]} {row.benchmark}: {row.what}"[:70] for row in rows]
    values = [row.to_target for row in rows]
    colours = ["tab:green" if row.met else "tab:red" for row in rows]
    axis.barh(range(len(rows)), values, color=colours)
    axis.axvline(1.0, color="black", linestyle="--", linewidth=1)
    axis.set_xscale("log")
    axis.set_yticks(range(len(rows)), names, fontsize=6)
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


SWEEP_SERIES = (
    ("as_of_project_ms", "?as_of= one project"),
    ("as_of_ministry_inventory_first_page_ms", "?as_of= ministry inventory page"),
    ("inventory_first_page_ms", "inventory first page"),
    ("public_register_first_page_ms", "register first page"),
    ("timeline_ms", "timeline"),
)


def _sweep_panel(axis: Any, results: dict[str, dict[str, Any]]) -> None:
    """Milliseconds per answer against the log's size (log-log): flat lines are costs independent of it."""
    for backend, by_name in results.items():
        points = _get(by_name, "scale", "points") or []
        sizes = [point["events"] for point in points]
        for key, label in SWEEP_SERIES:
            style = "-" if backend == "postgres" else "--"
            axis.plot(
                sizes, [point["reports"][key] for point in points], style, marker="o", label=f"{backend}: {label}"
            )
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("events in the logs (projects = events / 10)")
    axis.set_ylabel("ms per answer (in-process, median)")
    axis.set_title("Cost against the log's size (solid: PostgreSQL, dashed: SQLite)")
    axis.legend(fontsize=7)


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
        target = f"{'≥' if row.higher else '≤'} {_fmt(row.target, row.unit)}"
        met = "yes" if row.met else "**no**"
        measured = _fmt(row.measured, row.unit)
        lines.append(
            f"| {row.benchmark} | {row.backend} | {row.what} | {measured} | {target} | {row.to_target:.2f} | {met} |"
        )
    return lines


def _row(*cells: Any) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def write_path_table(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "### Write path (commands/s and latency, ms)",
        "",
        "aigov with group commit (the default) and without it (`AIGOV_GROUP_COMMIT=false`), in the same run.",
        "",
        _row(
            "Backend",
            "Clients",
            "Group commit",
            "aigov cmd/s",
            "aigov p50",
            "p95",
            "p99",
            "baseline cmd/s",
            "p50",
            "p95",
            "p99",
            "ratio",
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for backend, by_name in results.items():
        for mode, key in (("on", "levels"), ("off", "without_group_commit")):
            for level in _get(by_name, "write_path", key) or []:
                a, b = level["aigov"], level["baseline"]
                lines.append(
                    _row(
                        backend,
                        level["clients"],
                        mode,
                        *(a[key] for key in ("commands_per_s", "p50_ms", "p95_ms", "p99_ms")),
                        *(b[key] for key in ("commands_per_s", "p50_ms", "p95_ms", "p99_ms")),
                        level["throughput_ratio"],
                    )
                )
    lines += ["", "Statements one registration sends (`statements_per_registration` in write-path-*.json):", ""]
    for backend, by_name in results.items():
        counted = _get(by_name, "write_path", "statements_per_registration")
        if counted:
            lines.append(
                f"- {backend}: {counted['total']} in all, {counted['in_locked_section']} inside the log's lock"
            )
    return lines


def propagation_table(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "### Propagation (ms, registry response → reporting read model)",
        "",
        "| Backend | Mode | Samples | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend, by_name in results.items():
        for mode, key in (("under load 1", "under_load_1"), ("idle", "idle")):
            r = _get(by_name, "propagation", key)
            if r:
                lines.append(_row(backend, mode, r["samples"], r["p50_ms"], r["p95_ms"], r["p99_ms"], r["max_ms"]))
    return lines


def sweep_tables(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "### Scale sweep: answers (ms, in-process, median of 15)",
        "",
        _row("Backend", "Events", "Projects", *(label for _key, label in SWEEP_SERIES), "reporting RSS (MB)"),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for backend, by_name in results.items():
        for point in _get(by_name, "scale", "points") or []:
            rss = _get(point, "memory", "after_reports_mb")
            cells = (point["reports"][key] for key, _label in SWEEP_SERIES)
            lines.append(_row(backend, f"{point['events']:,}", f"{point['projects']:,}", *cells, rss))
    lines += [
        "",
        "### Scale sweep: rebuild (events/s)",
        "",
        _row(
            "Backend",
            "Events",
            "Raw scan",
            "Library read+decode",
            "Rebuild",
            "Making the log (s)",
            "RSS growth in rebuild (MB)",
        ),
        "|---|---|---|---|---|---|---|",
    ]
    for backend, by_name in results.items():
        for point in _get(by_name, "scale", "points") or []:
            rates = (point[key]["events_per_s"] for key in ("raw_scan", "library_decode", "rebuild"))
            made, growth = point["making_log"]["seconds"], point["rebuild"].get("rss_growth_mb")
            lines.append(_row(backend, f"{point['events']:,}", *rates, made, growth))
    return lines + verification_table(results)


def verification_table(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "### Verification (events/s, both logs; best of the rounds, sides alternating)",
        "",
        _row(
            "Backend",
            "Events",
            "Rounds",
            "Log: chain + tree",
            "Same pass, rows in memory",
            "Export file",
            "Same pass, export lines in memory",
            "Chain only, log",
            "Chain only, rows in memory",
            "Log, before: two passes",
            "Export, before: two passes",
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for backend, by_name in results.items():
        result = by_name.get("verification") or {}
        if "log" not in result:
            continue
        rates = (
            _get(result, *path, "events_per_s")
            for path in (
                ("log",),
                ("in_memory",),
                ("export",),
                ("export_lines_in_memory",),
                ("chain_only", "log"),
                ("chain_only", "in_memory"),
                ("before", "log_two_passes"),
                ("before", "export_two_passes"),
            )
        )
        lines.append(_row(backend, f"{result['events']:,}", result["rounds"], *rates))
    return lines + core_contention_lines(results)


def core_contention_lines(results: dict[str, dict[str, Any]]) -> list[str]:
    """The machine's parallel headroom, measured beside the verification (``bench.verification.core_contention``)."""
    slowdowns = [
        f"×{slowdown} ({backend} run)"
        for backend, by_name in results.items()
        if (slowdown := _get(by_name.get("verification") or {}, "second_core_busy_slowdown")) is not None
    ]
    if not slowdowns:
        return []
    return [
        "",
        "One core's hashing takes " + ", ".join(slowdowns) + " as long while the other core is busy "
        "(`bench.verification.core_contention`; 1.0 would be a free second core): what a reader thread, a reader "
        "process or the database server does beside the hashing is not free on this machine.",
    ]


def history_table(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "### History (one project with 10,000 events)",
        "",
        "| Backend | reporting ?as_of= (ms) by version of the moment | registry at version, snapshots (p50 / p99 ms) |",
        "|---|---|---|",
    ]
    for backend, by_name in results.items():
        h = by_name.get("history", {})
        snap = _get(h, "registry_at_version_snapshots") or {}
        by_version = (_get(h, "reporting_as_of_ms") or {}).items()
        moments = "; ".join(f"v{int(version):,}: {ms} ms" for version, ms in by_version) or "n/a"
        lines.append(_row(backend, moments, f"{snap.get('p50_ms', 'n/a')} / {snap.get('p99_ms', 'n/a')}"))
    return lines


def memory_table(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "### Memory under write load (VmRSS, MB)",
        "",
        "| Backend | Service | Idle | Peak under load 1 | After load |",
        "|---|---|---|---|---|",
    ]
    for backend, by_name in results.items():
        m = by_name.get("memory", {})
        for service, idle in (_get(m, "idle_mb") or {}).items():
            lines.append(_row(backend, service, idle, m["under_load_1_peak_mb"][service], m["after_load_mb"][service]))
    return lines


def detail_tables(results: dict[str, dict[str, Any]]) -> list[str]:
    """The raw numbers behind each check, per backend."""
    lines: list[str] = []
    for table in (write_path_table, propagation_table, sweep_tables, history_table, memory_table):
        lines += [*table(results), ""]
    errors = [
        f"- {backend} {name}: {result['error']}"
        for backend, by_name in results.items()
        for name, result in by_name.items()
        if isinstance(result, dict) and "error" in result
    ]
    if errors:
        lines += ["### Benchmarks that failed in this run", "", *errors]
    return lines


def profiles(results: dict[str, dict[str, Any]]) -> list[str]:
    """The profiles the benchmarks recorded: cProfile of code run in the benchmark's process (cumulative share of
    aigov's own functions), py-spy samples of a service process under load (busy samples)."""
    lines: list[str] = []
    for backend, by_name in results.items():
        for name, key, tool, top in (
            ("scale", "profile_rebuild", "cProfile, cumulative", 10),
            ("verification", "profile_verification", "cProfile, cumulative", 10),
            ("history", "profile_cumulative_as_of", "cProfile, cumulative", 10),
            ("write_path", "profile_registry_at_1_client", "py-spy, share of busy samples", 16),
            ("write_path", "profile_registry_at_50_clients", "py-spy, share of busy samples", 16),
            ("propagation", "profile_reporting_under_load_1", "py-spy, share of busy samples", 16),
        ):
            profile = _get(by_name, name, key)
            if profile:
                what = key.removeprefix("profile_").removeprefix("cumulative_").replace("_", " ")
                lines += [f"{name}: {what} ({backend}), {tool}:", "", "```", *profile[:top], "```", ""]
    return lines


def _partial(summary: dict[str, Any]) -> list[str]:
    """The note a partial run (``bench.run_all --only …``) adds: which rows it re-measured, and when."""
    partial = summary.get("partial_run")
    if not partial:
        return []
    info = partial["machine"]
    return [
        "",
        f"Re-measured since by a partial run (`python -m bench.run_all --only {' '.join(partial['only'])}`, "
        f"{partial['wall_seconds'] / 60:.1f} min, load average when it ended {info['load_average_1_5_15_min']}): "
        f"the rows of {', '.join(partial['only'])}; every other row is the full run's.",
    ]


def write_markdown(summary: dict[str, Any], chart: Path) -> Path:
    """docs/benchmarks.md: machine, summary table, details, gaps with profiles and remedies."""
    from bench.analysis import ANALYSIS, METHOD

    results, info = summary["results"], summary["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`bench/run_all.py`); raw numbers in `bench/results/*.json`, every check in "
        f"`bench/results/checks.json`, chart in `bench/results/{chart.name}`. Never part of `make test`.",
        "",
        f"Machine: {info['cores']} cores, {info['memory_mb'] / 1024:.1f} GiB memory, Python {info['python']}, "
        f"{info['platform']}; load average (1, 5, 15 min) when the run ended {info['load_average_1_5_15_min']}. "
        "Services, databases and the load generator share these cores. "
        f"Wall time of the whole run: {summary['wall_seconds'] / 60:.1f} min.",
        *_partial(summary),
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
        ANALYSIS,
        "",
        "## Profiles recorded by this run",
        "",
        *profiles(results),
    ]
    DOC.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return DOC


def main() -> None:
    """Regenerate checks.json, the chart and the document from the last summary.json."""
    summary = json.loads((RESULTS / "summary.json").read_text())
    write_checks(checks(summary["results"]), RESULTS / "checks.json")
    write_markdown(summary, write_chart(summary["results"], RESULTS / "benchmarks.png"))


if __name__ == "__main__":
    main()
