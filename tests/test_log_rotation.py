"""Size-based rotation by the supervisor (search_app/log_rotation.py), and the search log's file that follows it."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from search_app import create_app
from search_app.log_rotation import LogRotation, RotatedLog, rotate_file


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_rotation_shifts_the_old_files_and_keeps_only_the_backups(tmp_path: Path):
    log = tmp_path / "access.log"
    for round_ in range(4):
        _write(log, f"round {round_}\n")
        rotate_file(log, backups=2)
    assert not log.exists()  # its writers create it again when they reopen it
    assert (tmp_path / "access.log.1").read_text() == "round 3\n"
    assert (tmp_path / "access.log.2").read_text() == "round 2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["access.log.1", "access.log.2"]


def test_only_files_past_the_size_rotate_at_most_once_per_period(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    signals: list[tuple[int, int]] = []
    monkeypatch.setattr("search_app.log_rotation.os.kill", lambda pid, signum: signals.append((pid, signum)))
    big, small = _write(tmp_path / "access.log", "x" * 2000), _write(tmp_path / "searches.jsonl", "y" * 10)
    rotation = LogRotation([RotatedLog(big, reopen_pid=4242), RotatedLog(small)], max_bytes=1000, backups=3, every=2.0)
    assert rotation.tick(now=100.0) == [big]
    assert signals == [(4242, signal.SIGUSR1)]  # nginx (or gunicorn) reopens what it writes
    assert (tmp_path / "access.log.1").stat().st_size == 2000 and small.exists()
    _write(big, "x" * 2000)
    assert rotation.tick(now=101.0) == []  # too soon
    assert rotation.tick(now=102.5) == [big]
    assert (tmp_path / "access.log.2").exists()


def test_a_missing_file_is_not_rotated(tmp_path: Path):
    rotation = LogRotation([RotatedLog(tmp_path / "absent.log")], max_bytes=1, backups=1)
    assert rotation.tick(now=10.0) == []


def test_the_search_log_goes_to_its_file_and_follows_a_rotation(index_root: Path, tmp_path: Path):
    log = tmp_path / "searches.jsonl"
    config = {"SEARCH_INDEX_DIR": str(index_root), "ANALYTICS_ENABLED": False, "SEARCH_LOG_FILE": str(log)}
    client = create_app(config).test_client()
    try:
        assert client.get("/api/search?q=migrants").status_code == 200
        rotate_file(log, backups=1)  # what the supervisor does; the workers are not told
        assert client.get("/api/search?q=retour").status_code == 200
        before = [json.loads(line)["q"] for line in (tmp_path / "searches.jsonl.1").read_text().splitlines()]
        after = [json.loads(line)["q"] for line in log.read_text(encoding="utf-8").splitlines()]
    finally:
        create_app({"SEARCH_INDEX_DIR": str(index_root), "SEARCH_LOG": False})  # back to stderr, disabled
    assert (before, after) == (["migrants"], ["retour"])
