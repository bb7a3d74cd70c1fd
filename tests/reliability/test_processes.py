"""A build's processes: SIGTERM and SIGINT stop it, workers die with their parent (real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pytest

from indexer.processes import BuildInterrupted, process_alive, signals_held, stop_on_signals
from tests.reliability.build_processes import WatchedProcess

#: A parent mapping 5,000 items over two workers that sleep a minute (``nap``), stopped on signals.
SLEEPING_MAP = """
import sys, time
from indexer import parallel
from indexer.processes import BuildInterrupted, stop_on_signals

def nap(chunk):
    time.sleep(60)
    return len(chunk)

parallel.workers = lambda: 2
print("started", flush=True)
try:
    with stop_on_signals():
        parallel.map_chunks(nap, list(range(5000)))
except BuildInterrupted as stopped:
    print(f"stopped by {stopped.signal_name}", flush=True)
    sys.exit(stopped.exit_code)
"""

#: A parent forking one child that asks to die with it (``FALLBACK``: by watching its parent's PID).
FORKED_CHILD = """
import os, sys, time
from indexer import processes
if {fallback}:
    processes._request_death_signal = lambda: False
parent = os.getpid()
if os.fork() == 0:
    processes.die_with_parent(parent)
    time.sleep(60)
    os._exit(0)
time.sleep(60)
"""


def _sleeping_map(watch) -> WatchedProcess:
    parent = watch("-c", SLEEPING_MAP)
    parent.wait_for_workers(2, timeout=10)
    return parent


def test_kill_9_of_the_parent_takes_the_workers_along(watch):
    parent = _sleeping_map(watch)
    gone = parent.seconds_until_gone(parent.send(signal.SIGKILL), timeout=10)
    assert gone < 1.0 and parent.workers() == 2


@pytest.mark.parametrize(("signum", "group"), [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGINT, True)])
def test_sigterm_and_sigint_stop_the_parent_and_its_workers(watch, signum: int, group: bool):
    parent = _sleeping_map(watch)
    gone = parent.seconds_until_gone(parent.send(signum, group=group), timeout=10)
    assert gone < 1.0 and parent.workers() == 2
    assert parent.finish(5) == 128 + signum
    assert f"stopped by {signal.Signals(signum).name}" in parent.output()
    assert "Traceback" not in parent.output()


@pytest.mark.parametrize("fallback", [False, True], ids=["prctl", "watching-the-parent"])
def test_a_forked_child_dies_with_its_parent(watch, fallback: bool):
    parent = watch("-c", FORKED_CHILD.format(fallback=fallback))
    parent.wait_for_workers(1, timeout=10)
    gone = parent.seconds_until_gone(parent.send(signal.SIGKILL), timeout=10)
    assert gone < 1.0 and parent.workers() == 1


def test_first_signal_raises_later_ones_are_ignored_and_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with stop_on_signals():
        with pytest.raises(BuildInterrupted) as caught:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler runs first
        os.kill(os.getpid(), signal.SIGINT)  # ignored: the cleanup goes on
        time.sleep(0.05)
    assert (caught.value.signal_name, caught.value.exit_code) == ("SIGTERM", 143)
    assert BuildInterrupted(signal.SIGINT).exit_code == 130
    assert not isinstance(caught.value, Exception)  # no ``except Exception`` swallows it
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_a_held_signal_arrives_after_the_block():
    reached: list[str] = []
    with stop_on_signals(), pytest.raises(BuildInterrupted):
        with signals_held():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            reached.append("held")  # the signal waits...
        reached.append("after")  # ...and arrives as the block ends
    assert reached == ["held"]


def test_process_alive():
    assert process_alive(os.getpid())
    dead = subprocess.Popen(["true"])
    dead.wait(5)
    assert not process_alive(dead.pid)


def test_a_held_signal_taken_by_another_thread_still_waits_for_the_block():
    """With other threads alive (a server, a log writer), the kernel may hand the signal to one of them:
    the handler still runs in the main thread, and must still wait for the block to end."""
    idle = threading.Event()
    others = [threading.Thread(target=idle.wait, daemon=True) for _ in range(4)]
    for thread in others:
        thread.start()
    try:
        for _ in range(20):
            reached: list[str] = []
            with stop_on_signals(), pytest.raises(BuildInterrupted):
                with signals_held():
                    os.kill(os.getpid(), signal.SIGTERM)
                    time.sleep(0.01)
                    reached.append("held")
                reached.append("after")
            assert reached == ["held"]
    finally:
        idle.set()
