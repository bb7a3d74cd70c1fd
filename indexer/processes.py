"""A build's processes: stopping cleanly on SIGTERM or SIGINT, workers that die with their parent.

The parent turns the first SIGTERM or SIGINT into :class:`BuildInterrupted`, which unwinds the
build through its cleanup (the pool's workers terminated, the staging folder removed, the lock
released). Workers leave both signals to the parent and, on Linux, ask the kernel for SIGKILL
when their parent dies (``PR_SET_PDEATHSIG``), so a ``kill -9`` of the parent takes them along;
where prctl is missing or refuses, a thread watches the parent's PID. :func:`process_alive` tells a leftover of a dead
builder from a running build.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: The signals that stop a build: a service manager's stop, and Ctrl-C.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
#: prctl(2) option: the signal a process gets when the thread that created it exits.
PR_SET_PDEATHSIG = 1
#: Seconds between two looks at the parent where prctl is missing (not Linux).
PARENT_POLL = 0.2


class BuildInterrupted(BaseException):
    """SIGTERM or SIGINT stopped the build.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` on the way swallows
    it; the ``finally`` and ``except BaseException`` blocks it crosses clean up.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def signal_name(self) -> str:
        """``SIGTERM`` or ``SIGINT``."""
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process stopped by a signal: 128 + its number (130, 143)."""
        return 128 + self.signum


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, the first SIGTERM or SIGINT raises :class:`BuildInterrupted` (main thread only).

    Later ones are ignored, so the cleanup the first one started is not cut short.
    """
    raised = False

    def interrupt(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        if _HELD.depth:  # another thread took the signal while this one holds them: raise after the block
            _HELD.pending = _HELD.pending or signum
        elif not raised:
            raised = True
            raise BuildInterrupted(signum)

    previous = {signum: signal.signal(signum, interrupt) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGTERM and SIGINT back in this thread during the block; one sent meanwhile arrives after it.

    Threads and processes started in the block inherit the mask (workers lift it: see
    :func:`leave_signals_to_parent`), so the signals keep going to this thread.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    _HELD.depth += 1
    try:
        yield
    finally:
        _HELD.depth -= 1
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # a signal blocked meanwhile arrives here
        pending, _HELD.pending = _HELD.pending, 0
        if pending and not _HELD.depth:
            signal.raise_signal(pending)  # one that reached another thread: delivered again, now handled


class _Held:
    """How deep :func:`signals_held` blocks are, and a stop signal that reached the handler meanwhile."""

    depth = 0
    pending = 0


_HELD = _Held()


def leave_signals_to_parent() -> None:
    """In a worker: ignore SIGINT (Ctrl-C reaches the whole process group; the parent stops the
    workers) and let SIGTERM end it at once, not a handler inherited from the parent by fork; then
    lift the mask a worker inherits when forked with the signals held."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def die_with_parent(parent: int) -> None:
    """In a worker forked by ``parent``: be killed when the parent dies, even by SIGKILL.

    ``PR_SET_PDEATHSIG`` fires when the *thread* that forked this process exits: for a pool, the
    thread that created it, which waits for its results. If the parent is already gone, exit now.
    """
    if not _request_death_signal():
        threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


def _request_death_signal() -> bool:
    """Ask the kernel for SIGKILL when the parent dies; False where prctl is missing or refuses.

    Never raises: a pool respawns a worker whose initializer fails, forever.
    """
    try:
        prctl = ctypes.CDLL(None).prctl
    except (AttributeError, OSError):
        return False
    return bool(prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)


def _exit_when_orphaned(parent: int) -> None:
    """Exit the process once its parent is gone (then another process adopts it)."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(1)


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
