"""Size-based rotation of the service's log files, done by the supervisor alone (``python -m search_app.serve``).

Several processes write the same files: nginx's access log, and the search log of every gunicorn worker.
A ``RotatingFileHandler`` in each worker would rotate the same file from several processes (lines lost,
backups overwritten). Here one process, the supervisor, renames: every few seconds, a file past
``max_bytes`` becomes ``NAME.1`` (``NAME.1`` becomes ``NAME.2``…, at most ``backups`` kept), then the
writers reopen ``NAME``: nginx and gunicorn on SIGUSR1 (their documented « reopen the log files »), the
workers' search log by itself (``logging.handlers.WatchedFileHandler`` notices the rename at its next
line). A line written between the rename and the reopening lands at the end of ``NAME.1``: none is lost.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

CHECK_EVERY = 2.0  # seconds between two looks at the sizes


@dataclass(frozen=True)
class RotatedLog:
    """A log file, and the process to send SIGUSR1 once it is renamed (None: its writers reopen it themselves)."""

    path: Path
    reopen_pid: int | None = None


def rotate_file(path: Path, backups: int) -> None:
    """``path`` becomes ``path.1``, ``path.1`` becomes ``path.2``…; the oldest beyond ``backups`` is replaced."""
    for number in range(backups - 1, 0, -1):
        older = path.with_name(f"{path.name}.{number}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{number + 1}"))
    path.replace(path.with_name(f"{path.name}.1"))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


@dataclass
class LogRotation:
    """Rotates each of ``logs`` past ``max_bytes``; the supervisor calls :meth:`tick` in its loop."""

    logs: list[RotatedLog]
    max_bytes: int
    backups: int
    every: float = CHECK_EVERY
    _last: float = field(default=0.0, init=False)

    def tick(self, now: float | None = None) -> list[Path]:
        """Rotate what has grown too large, at most once per ``every`` seconds; the paths rotated."""
        now = time.monotonic() if now is None else now
        if now - self._last < self.every:
            return []
        self._last = now
        rotated = [log for log in self.logs if _size(log.path) > self.max_bytes]
        for log in rotated:
            rotate_file(log.path, self.backups)
        for pid in {log.reopen_pid for log in rotated if log.reopen_pid is not None}:
            with contextlib.suppress(ProcessLookupError):  # stopped: the supervisor is stopping everything
                os.kill(pid, signal.SIGUSR1)
        return [log.path for log in rotated]
