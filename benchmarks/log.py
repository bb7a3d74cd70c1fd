"""Progress messages on stderr, with the elapsed time since the harness started."""

from __future__ import annotations

import os
import sys
import time

#: Wall-clock start of the run, shared with the measurement processes through the environment.
_STARTED = float(os.environ.setdefault("BENCH_STARTED_AT", repr(time.time())))


def log(message: str) -> None:
    """Print one progress line on stderr (stdout stays free for results)."""
    elapsed = time.time() - _STARTED
    minutes, seconds = divmod(int(elapsed), 60)
    print(f"[bench {minutes:3d}:{seconds:02d}] {message}", file=sys.stderr, flush=True)


def progress_printer(label: str, every_fraction: float = 0.1):
    """A ``progress(done, total)`` callback that logs about every tenth of the work."""
    state = {"next": 0.0}

    def progress(done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        if fraction >= state["next"] or done == total:
            log(f"{label}: {done:,}/{total:,}")
            state["next"] = fraction + every_fraction

    return progress
