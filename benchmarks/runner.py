"""The whole benchmark: corpora, queries, every engine at every size, HTTP, the report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import DEFAULT_SEED, HARNESS_VERSION
from benchmarks.analytics_bench import run_analytics_faults
from benchmarks.corpus import REAL_CORPUS, ensure_corpus, facet_model, make_record
from benchmarks.engines import available
from benchmarks.http_bench import http_unavailable_reason, run_http
from benchmarks.http_front import http_front_unavailable_reason, run_http_front
from benchmarks.log import log
from benchmarks.measure import measure, measure_in_subprocess
from benchmarks.queries import QUERY_SOURCE_RECORDS, BenchQuery, make_queries, save_queries
from benchmarks.report import write_report
from benchmarks.stats import machine
from benchmarks.textsource import TextSource, corpus_source, manpages_source

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Config:
    """What to run; the defaults are those of ``make bench``."""

    sizes: tuple[int, ...] = (1000, 10000, 100000)
    engines: tuple[str, ...] = ("ours", "naive", "tantivy")
    out_dir: Path = field(default_factory=lambda: ROOT / "var" / "bench")
    seed: int = DEFAULT_SEED
    source: str = "manpages"  # or "corpus": the real records' own text (smoke runs)
    rounds: int = 3
    budget_s: float = 300.0
    max_queries: int | None = None
    http: bool = True
    http_front: bool = True  # issue 13's target through nginx + gunicorn (benchmarks/http_front.py)
    http_duration: int = 10
    analytics: bool = True  # searches under analytics faults (benchmarks/analytics_bench.py)
    analytics_rounds: int = 250  # per mode (cached, uncached), benchmarks/analytics_bench.py
    analytics_sessions: int = 5
    isolate: bool = True
    keep_indexes: bool = False
    merge: bool = False


def source_commit() -> str | None:
    """The commit of the code measured (``+dirty`` when the work tree differs), None outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        status = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return None
    if head.returncode != 0:
        return os.environ.get("BENCH_SOURCE_COMMIT")
    return head.stdout.strip() + ("+dirty" if status.stdout.strip() else "")


def text_source(name: str) -> TextSource:
    """The text the corpora are generated from."""
    if name == "manpages":
        return manpages_source()
    if name == "corpus":
        return corpus_source(REAL_CORPUS)
    raise ValueError(f"unknown text source {name!r} (manpages or corpus)")


def subsample(queries: list[BenchQuery], limit: int | None) -> list[BenchQuery]:
    """At most ``limit`` queries spread evenly over the mix (accent-less links kept when possible)."""
    if limit is None or limit >= len(queries):
        return queries
    picked = sorted({round(i * (len(queries) - 1) / max(1, limit - 1)) for i in range(limit)})
    position = {old: new for new, old in enumerate(picked)}
    result = []
    for old in picked:
        query = queries[old]
        accented = position.get(query.accented) if query.accented is not None else None
        result.append(BenchQuery(query.text, query.filters, query.kind, accented))
    return result


def _query_mix(config: Config, source: TextSource, size: int) -> list[BenchQuery]:
    model = facet_model()
    records = [make_record(i, config.seed, source, model) for i in range(min(size, QUERY_SOURCE_RECORDS))]
    return subsample(make_queries(records, config.seed), config.max_queries)


def _base_report(config: Config, source: TextSource | None) -> dict:
    report: dict = {}
    path = config.out_dir / "report.json"
    if config.merge and path.exists():
        report = json.loads(path.read_text(encoding="utf-8"))
    report.update(
        {
            "harness_version": HARNESS_VERSION,
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seed": config.seed,
            "machine": machine(),
            "source_commit": source_commit(),
        }
    )
    if source is not None:
        report["text_source"] = f"{source.name} {source.version} ({len(source.passages):,} passages)"
    report.setdefault("text_source", "none (HTTP only)")
    report.setdefault("sizes", {})
    for key in ("http_search_rps", "http_health_rps", "http_search_p99_ms"):
        report.setdefault(key, None)
    return report


def _http_args(config: Config) -> tuple[Path, int, int]:
    return config.out_dir, config.seed, config.http_duration


def _http_part(report: dict, skipped_key: str, reason: str | None, measure: Callable[[], dict]) -> None:
    """Add an HTTP measurement to the report, or say why it was skipped."""
    if reason is None:
        report.update(measure())
        report.pop(skipped_key, None)
    else:
        log(f"{skipped_key.removesuffix('_skipped')} benchmark skipped: {reason}")
        report[skipped_key] = reason


def _measure_sizes(config: Config, source: TextSource, report: dict) -> None:
    """Every engine at every size, into ``report["sizes"]`` (written after each measurement)."""
    engines = [name for name in config.engines if available(name)]
    for name in sorted(set(config.engines) - set(engines)):
        log(f"engine {name} skipped: its library is not installed (pip install -e '.[bench]')")
    for size in config.sizes:
        corpus_dir = ensure_corpus(config.out_dir, size, config.seed, source)
        queries = _query_mix(config, source, size)
        queries_path = config.out_dir / f"queries-{size}.json"
        save_queries(queries, queries_path)
        report["query_count"] = len(queries)
        log(f"corpus-{size}: {len(queries)} queries in {queries_path.name}")
        rows = report["sizes"].setdefault(str(size), {})
        for engine in engines:
            index_dir = config.out_dir / f"index-{size}" / engine
            try:
                if config.isolate:
                    rows[engine] = measure_in_subprocess(
                        engine, corpus_dir, index_dir, queries_path, config.rounds, config.budget_s
                    )
                else:
                    rows[engine] = measure(
                        engine, corpus_dir, index_dir, queries, config.rounds, config.budget_s, isolate=False
                    )
            except Exception as error:  # one engine failing must not lose the others' measurements
                if not config.isolate:
                    raise
                log(f"{engine} at {size:,} records FAILED: {error}")
                rows[engine] = {"error": str(error)}
            if not config.keep_indexes:
                shutil.rmtree(index_dir, ignore_errors=True)
            write_report(report, config.out_dir)  # partial results survive an interrupted run


def run(config: Config) -> dict:
    """Run everything the config asks for; write and return the report."""
    started = time.monotonic()
    config.out_dir.mkdir(parents=True, exist_ok=True)
    source = text_source(config.source) if config.sizes else None  # HTTP alone needs no generated text
    report = _base_report(config, source)
    if source is not None:
        log(f"text source: {source.name} {source.version}, {len(source.passages):,} passages")
        _measure_sizes(config, source, report)
    if config.http:
        _http_part(report, "http_skipped", http_unavailable_reason(), lambda: run_http(*_http_args(config)))
    if config.http_front:
        reason = http_front_unavailable_reason()
        _http_part(report, "http_front_skipped", reason, lambda: run_http_front(*_http_args(config)))
    if config.analytics:
        report["analytics_faults"] = run_analytics_faults(
            config.out_dir, config.seed, config.analytics_rounds, config.analytics_sessions)
    report.setdefault("query_count", 0)
    report["run_seconds"] = time.monotonic() - started
    json_path, md_path = write_report(report, config.out_dir)
    log(f"report written: {json_path} and {md_path} ({report['run_seconds'] / 60:.1f} min)")
    return report
