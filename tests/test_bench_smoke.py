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

from benchmarks.__main__ import parse_args
from benchmarks.analytics_bench import SCENARIOS, Mode, measure_faults
from benchmarks.engines import available
from benchmarks.http_bench import parse_wrk, search_paths
from benchmarks.http_front import API_RATE, front_keys, http_front_unavailable_reason
from benchmarks.paired import round_ratios, summarise
from benchmarks.queries import BenchQuery
from benchmarks.report import HTTP_KEYS, ROW_KEYS, front_targets, markdown, ratios
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
        analytics_rounds=2,
        analytics_sessions=1,
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
    for faults in saved["ratios"]["analytics_faults"].values():  # per mode: cached, uncached
        assert set(faults) == set(SCENARIOS) - {"healthy"}
    machine = saved["machine"]
    assert _is_number(machine["cores"]) and machine["python"] and machine["packages"]["whoosh3"]
    summary = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| 30 | ours |" in summary and "## Targets" in summary
    if http_front_unavailable_reason() is None:  # nginx and wrk: the front was measured too
        for key in ("http_front_search_rps", "http_front_health_rps", "http_front_search_p99_ms", "http_front_ratio"):
            assert _is_number(saved[key]), key
        assert saved["http_front_api_rate"] == API_RATE and saved["http_front_distinct_queries"] == 50
        assert _is_number(saved["http_front_uncached_search_rps"])
        assert "## HTTP through the front" in summary
    else:
        assert saved["http_front_skipped"]
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
    modes = {"uncached": Mode({"SEARCH_CACHE_SIZE": 0}, 10)}
    results = measure_faults(index_root, search_paths(1)[:10], tmp_path, rounds=2, sessions=2, app_config=fast,
                             modes=modes)
    assert (results["rounds"], results["sessions"], results["apps"]) == (2, 2, len(SCENARIOS))
    rows = results["modes"]["uncached"]["stores"]
    for name in SCENARIOS:
        row = rows[name]
        assert row["searches"] == 20 and row["non_200"] == 0 and row["writer_threads"] == 1
        ratio = row["median_ratio"]
        assert ratio["rounds"] == len(ratio["per_session"]) == 2 and ratio["low"] <= ratio["median"] <= ratio["high"]
        assert _is_number(row["cpu_ratio"]["median"]) and _is_number(row["wall_per_cpu"])
        assert _is_number(row["written_within_s"])  # every fault taken away: every waiting event written
    assert rows["healthy"]["median_ratio"]["median"] == 1
    assert [rows[name]["warnings"] for name in ("healthy", "corrupt", "unwritable", "backlog")] == [0, 1, 1, 1]
    assert rows["locked"]["warnings"] <= 1
    assert rows["unwritable"]["warnings_after_repair"] == 2  # the failure, then « writing resumed »
    assert rows["backlog"]["events_dropped"] > 0 and rows["unwritable"]["writer_failing"]
    assert len(list(tmp_path.glob("uncached/session-*/corrupt/analytics.sqlite3.corrupt-*"))) == 2
    assert all(rows[name]["fault_met"] for name in SCENARIOS)


def test_paired_ratios_and_their_interval() -> None:
    ratios = round_ratios([[2.0, 2.2, 9.0], [1.0, 1.1, 1.2]], [[2.0, 2.0, 2.0], [1.0, 1.0, 1.0]])
    assert ratios == pytest.approx([1.1, 1.1])
    summary = summarise([[1.0, 1.02, 0.98, 1.01, 0.99] * 2, [1.0, 1.02, 0.98, 1.01, 0.99] * 2])
    assert summary.median == 1.0 and summary.rounds == 20 and summary.per_session == (1.0, 1.0)
    assert 0.98 <= summary.low <= 1.0 <= summary.high <= 1.02


def test_only_analytics_runs_that_part_and_keeps_the_report() -> None:
    config = parse_args(["--only", "analytics", "--analytics-rounds", "40"])
    assert (config.sizes, config.http, config.http_front, config.analytics, config.merge) == ((), False, False,
                                                                                              True, True)
    assert config.analytics_rounds == 40


def _wrk_figures(rps: float, p99: float, errors: float = 0.0) -> dict[str, float]:
    return {"rps": rps, "p50_ms": p99 / 2, "p99_ms": p99, "non_2xx": errors, "socket_errors": 0.0}


def test_the_front_targets_are_issue_13s() -> None:
    report = {
        **front_keys("http_front", {"search": _wrk_figures(600, 150), "health": _wrk_figures(1000, 20)}),
        **front_keys("http_front_uncached", {"search": _wrk_figures(300, 450, 2), "health": _wrk_figures(1000, 20)}),
    }
    met = front_targets(report, "http_front")
    assert met is not None and all(target["met"] for target in met.values())
    missed = front_targets(report, "http_front_uncached")
    assert missed is not None
    assert {name: target["met"] for name, target in missed.items()} == {
        "search_vs_health": False, "search_p99_ms": False, "errors": False,
    }  # fmt: skip
    assert front_targets({}, "http_front") is None  # not measured


def test_the_front_section_says_the_api_limit_it_ran_with() -> None:
    report = {
        "http_front_distinct_queries": 50, "http_front_duration_s": 10, "http_front_api_rate": API_RATE,
        "http_front_api_burst": 1000, "http_front_workers": 2, "http_front_connections": 64,
        **front_keys("http_front", {"search": _wrk_figures(600, 150), "health": _wrk_figures(1000, 20)}),
    }  # fmt: skip
    report["ratios"] = ratios(report)
    report.update(generated_at="now", seed=1, text_source="none", query_count=0, harness_version="x")
    report["machine"] = {"cores": 2, "cpu": "cpu", "memory_gb": 1, "os": "linux", "python": "3.11", "packages": {}}
    text = markdown(report)
    assert "wrk -t2 -c64" in text and f"{API_RATE:,} requests/s per address, burst 1,000" in text
    assert "| as deployed (page cache 512 per worker) | /api/search | 600 |" in text


def test_only_http_front_runs_that_part_and_keeps_the_report() -> None:
    config = parse_args(["--only", "http-front"])
    assert (config.sizes, config.http, config.http_front, config.merge) == ((), False, True, True)
    assert parse_args(["--no-http-front"]).http_front is False
