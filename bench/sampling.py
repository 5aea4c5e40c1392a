"""Where a service process spends its time under load: py-spy samples of the running process.

Why: cProfile profiles code run in the benchmark's own process (a rebuild, a verification), but the write path
and propagation run in the services' uvicorn processes. py-spy (a bench extra) samples those from outside,
without changing them. It needs to be allowed to read the process's memory (ptrace); where it is not, the
profile says so instead of failing the run.
"""

from __future__ import annotations

import collections
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RATE = 200  # samples per second


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


@contextmanager
def sampled(pid: int, top: int = 10) -> Iterator[list[str]]:
    """Sample ``pid`` while the block runs; afterwards the list holds the summary (``summarize``)."""
    summary: list[str] = []
    executable = py_spy()
    if executable is None:
        summary.append("py-spy not installed (pip install -e '.[bench]')")
        yield summary
        return
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "samples.txt"
        command = [executable, "record", "--pid", str(pid), "--rate", str(RATE), "--format", "raw"]
        recorder = subprocess.Popen(
            [*command, "--nonblocking", "--output", str(output)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            yield summary
        finally:
            recorder.send_signal(signal.SIGINT)
            _, errors = recorder.communicate(timeout=60)
        if output.exists():
            summary += summarize(output.read_text(encoding="utf-8"), top)
        else:
            summary.append(f"py-spy recorded nothing: {errors.decode(errors='replace').strip()[-300:]}")


def summarize(raw: str, top: int = 10) -> list[str]:
    """Busy samples by function: the share of samples with the function anywhere on the stack (aigov's own
    functions: where the time is spent, in the code's terms) and as the innermost frame (any code: what it is)."""
    cumulative: collections.Counter[str] = collections.Counter()
    innermost: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames, samples = stack.split(";"), int(count)
        total += samples
        innermost[frames[-1]] += samples
        for function in {_short(frame, line=False) for frame in frames if _ours(frame)}:
            cumulative[function] += samples
    if not total:
        return ["no busy samples"]
    lines = [f"{total} busy samples at {RATE}/s"]
    lines += [f"{100 * n / total:5.1f}% cum {frame}" for frame, n in cumulative.most_common(top)]
    lines += [f"{100 * n / total:5.1f}% self {_short(frame)}" for frame, n in innermost.most_common(top // 2)]
    return lines


def _ours(frame: str) -> bool:
    """A frame of aigov's own code (relative or absolute path, not an installed library)."""
    parts = Path(frame.partition(" (")[2].rstrip(")")).parts
    return "site-packages" not in parts and any(package in parts for package in ("services", "shared", "aigov"))


def _short(frame: str, line: bool = True) -> str:
    """``function (path/to/module.py:12)`` as ``to/module.py:12 function`` (without ``:12`` for the function as
    a whole: py-spy names the line each sample was on)."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")") if line else where.rstrip(")").rpartition(":")[0]
    parts = Path(path).parts
    return f"{'/'.join(parts[-2:])} {name}" if parts else name
