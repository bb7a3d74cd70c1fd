"""Smoke run of the benchmark harness (benchmarks/): a tiny corpus, every key of the report, no timing asserted.

The corpus is generated from the real programme records' own text (``source="corpus"``), so
the test needs neither Debian's manpages-fr nor the network. The HTTP part runs (1 s of wrk
per endpoint) only when wrk is installed and ``search_app.create_app`` exists.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from benchmarks.analytics_bench import SCENARIOS, measure_faults
from benchmarks.engines import available
from benchmarks.http_bench import parse_wrk, search_paths
from benchmarks.queries import BenchQuery
from benchmarks.report import HTTP_KEYS, ROW_KEYS
from benchmarks.runner import Config, run, subsample

SIZE = 30


def _http_possible() -> bool:
    return shutil.which("wrk") is not None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@pytest.mark.slow
def test_smoke_run_writes_every_key(tmp_path: Path) -> None:
    engines = tuple(name for name in ("ours", "naive", "tantivy") if available(name))
    http = _http_possible()
    config = Config(
        sizes=(SIZE,),
        engines=engines,
        out_dir=tmp_path,
        source="corpus",
        rounds=1,
        max_queries=10,
        http=http,
        http_duration=1,
        analytics_searches=30,
        isolate=False,
    )
    report = run(config)

    saved = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert saved["sizes"] == json.loads(json.dumps(report["sizes"]))
    rows = saved["sizes"][str(SIZE)]
    assert set(rows) == set(engines)
    for engine, row in rows.items():
        for key in ROW_KEYS:
            assert _is_number(row.get(key)), f"{engine}: {key} = {row.get(key)!r}"
        assert row["documents"] == SIZE
    assert saved["query_count"] == 10
    for key in HTTP_KEYS:
        assert key in saved
        assert _is_number(saved[key]) if http else saved[key] is None
    assert set(saved["ratios"]["analytics_faults"]) == set(SCENARIOS) - {"healthy"}
    machine = saved["machine"]
    assert _is_number(machine["cores"]) and machine["python"] and machine["packages"]["whoosh3"]
    summary = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| 30 | ours |" in summary and "## Targets" in summary
    assert len(list((tmp_path / f"corpus-{SIZE}").glob("*.md"))) == SIZE


def test_subsample_keeps_accent_links() -> None:
    queries = [BenchQuery(f"q{i}") for i in range(9)] + [BenchQuery("q0", kind="noaccent", accented=0)]
    picked = subsample(queries, 4)
    assert len(picked) == 4
    assert picked[-1].accented == 0


def test_parse_wrk_output() -> None:
    output = """Running 1s test @ http://127.0.0.1:1/healthz
  Latency Distribution
     50%  812.00us
     75%    1.20ms
     90%    2.00ms
     99%    1.50s
  1000 requests in 1.00s, 100.00KB read
  Non-2xx or 3xx responses: 3
Requests/sec:   1000.50
"""
    parsed = parse_wrk(output)
    assert parsed["rps"] == 1000.5
    assert parsed["p50_ms"] == pytest.approx(0.812)
    assert parsed["p99_ms"] == 1500.0
    assert parsed["non_2xx"] == 3


def test_searches_under_analytics_faults_are_measured_with_each_fault_met(index_root: Path, tmp_path: Path) -> None:
    fast = {"ANALYTICS_RETRY_S": 0.01, "ANALYTICS_RETRY_MAX_S": 0.05, "ANALYTICS_BUSY_TIMEOUT_S": 0.05}
    results = measure_faults(index_root, search_paths(1)[:10], tmp_path, searches=20, rounds=2, app_config=fast)
    assert results["writer_threads"] == results["apps"] == len(SCENARIOS)
    for name in SCENARIOS:
        row = results[name]
        assert row["searches"] == 20 and row["non_200"] == 0 and _is_number(row["median_ratio"])
        assert _is_number(row["written_within_s"])  # every fault taken away: every waiting event written
    assert [results[name]["warnings"] for name in ("healthy", "corrupt", "unwritable", "backlog")] == [0, 1, 1, 1]
    assert results["locked"]["warnings"] <= 1
    assert results["backlog"]["events_dropped"] > 0 and results["unwritable"]["writer_failing"]
    assert list(tmp_path.glob("corrupt/analytics.sqlite3.corrupt-*"))
