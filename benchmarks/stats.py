"""Small measuring helpers: percentiles, sizes on disk, RSS of a process tree, the machine line."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
PACKAGES = (
    "whoosh3", "numpy", "tantivy", "PyStemmer", "snowballstemmer", "rapidfuzz", "unidecode", "PyYAML",
    "flask", "gunicorn",
)  # fmt: skip


def percentile(values: list[float], fraction: float) -> float:
    """Linear-interpolated percentile (``fraction`` in [0, 1]) of a non-empty list."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: list[float]) -> float:
    """The median of a non-empty list."""
    return percentile(values, 0.5)


def directory_mb(path: Path) -> float:
    """Total size of the files under ``path``, in MB (10^6 bytes)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:
        pass
    return found


def _pss_bytes(pid: int) -> int:
    """Proportional set size of one process: its private pages plus its share of shared ones."""
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def _tree(pid: int) -> Iterator[tuple[int, int]]:
    """(pid, RSS bytes) of ``pid`` and every live descendant (Linux /proc; vanished ones skipped)."""
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                rss = int(handle.read().split()[1]) * PAGE_SIZE
        except OSError:
            continue
        yield current, rss
        pending += _children(current)


def tree_memory_bytes(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of ``pid`` and all its descendants, each summed (Linux /proc).

    Summed RSS counts a page shared by forked processes once per process; summed PSS
    counts it once in all: the memory the tree really uses.
    """
    rss, pss = 0, 0
    for current, resident in _tree(pid):
        try:
            pss += _pss_bytes(current)
        except OSError:
            continue
        rss += resident
    return rss, pss


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, summed (Linux /proc)."""
    return sum(resident for _, resident in _tree(pid))


class TreeRssSampler:
    """Samples the summed RSS and PSS of a process tree in a thread; ``peak`` and ``peak_pss`` are
    the largest samples (bytes)."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = tree_rss_bytes(self.pid)
            if rss >= 0.9 * self.peak:  # PSS costs a page-table walk: only near the peak
                self.peak_pss = max(self.peak_pss, tree_memory_bytes(self.pid)[1])
            self.peak = max(self.peak, rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeRssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def system_busy_seconds() -> float:
    """CPU seconds all processes have spent busy since boot (Linux ``/proc/stat``; 0.0 elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else "unknown"


def _memory_gb() -> float | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    match = re.search(r"^MemTotal:\s*(\d+) kB", text, re.MULTILINE)
    return round(int(match.group(1)) / 1024 / 1024, 1) if match else None


def _wrk_version() -> str | None:
    if not shutil.which("wrk"):
        return None
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (result.stdout or result.stderr).splitlines()[0].strip() if (result.stdout or result.stderr) else None


def machine() -> dict[str, object]:
    """Cores, CPU, memory, OS, Python and the versions of the packages that matter here."""
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gb": _memory_gb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
        "wrk": _wrk_version(),
    }
