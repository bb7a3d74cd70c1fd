"""One measurement: build an engine's index for one corpus, open it, time the query mix.

Isolated, it runs in a process of its own (``python -m benchmarks.measure run …``), which
in turn builds in a child process (``… build …``): the child's peak RSS is then
``ru_maxrss`` of its own rusage (``os.wait4``; the same number as
``getrusage(RUSAGE_CHILDREN)`` read in that fresh parent), and the summed RSS of the
child's process tree (the multiprocess writer) is sampled meanwhile. Queries run in the
measuring process: one warm-up pass, then up to ``rounds`` timed passes (fewer when a
pass is slow, see ``budget_s``); each query's time is the median over the passes, and
p50/p95/p99 are taken over queries. CPU time per query is kept too
(``time.process_time``): ``wall_over_cpu`` well above 1 means the process was kept
waiting, i.e. something else was using the cores. For builds, ``index_other_cpu_s`` is the
CPU time the rest of the machine used meanwhile (``/proc/stat`` minus the build's own).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.engines import Answer, get_engine
from benchmarks.log import log, progress_printer
from benchmarks.queries import BenchQuery, load_queries
from benchmarks.stats import TreeRssSampler, directory_mb, median, percentile, system_busy_seconds
from indexer.corpus import load_corpus

ROOT = Path(__file__).resolve().parent.parent
#: How many of the slowest queries each row lists (for diagnosis).
SLOWEST = 8


def _python_env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def build_child(engine: str, corpus_dir: Path, index_dir: Path, out: Path) -> dict[str, object]:
    """Build in a child process; return its stats plus peak RSS (own and summed over its tree)."""
    command = [sys.executable, "-m", "benchmarks.measure", "build", engine, str(corpus_dir), str(index_dir), str(out)]
    process = subprocess.Popen(command, cwd=ROOT, env=_python_env())
    with TreeRssSampler(process.pid) as sampler:
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{engine}: the build process failed (exit code {process.returncode})")
    stats = json.loads(out.read_text(encoding="utf-8"))
    stats["peak_rss_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    stats["cpu_s"] = usage.ru_utime + usage.ru_stime  # the child and the processes it waited for
    stats["peak_tree_rss_mb"] = sampler.peak / 1024 / 1024
    stats["peak_tree_pss_mb"] = sampler.peak_pss / 1024 / 1024
    return stats


def load_child(corpus_dir: Path) -> float:
    """Seconds ``load_corpus`` takes to read and validate every record, in a fresh process."""
    command = [sys.executable, "-m", "benchmarks.measure", "load", "-", str(corpus_dir), "-", "-"]
    done = subprocess.run(command, cwd=ROOT, env=_python_env(), check=True, capture_output=True, text=True)
    return float(done.stdout.strip())


def build_here(engine: str, corpus_dir: Path, index_dir: Path) -> dict[str, object]:
    """Build in this process (in-process mode): peak RSS is this process's own so far."""
    cpu = time.process_time()
    with TreeRssSampler(os.getpid()) as sampler:
        stats = get_engine(engine).build(corpus_dir, index_dir, progress_printer(f"{engine} build"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        **stats.__dict__,
        "peak_rss_mb": peak,
        "peak_tree_rss_mb": sampler.peak / 1024 / 1024,
        "peak_tree_pss_mb": sampler.peak_pss / 1024 / 1024,
        "cpu_s": time.process_time() - cpu,
    }


def _accent_agreement(queries: list[BenchQuery], answers: list[Answer]) -> float | None:
    pairs = [(answers[q.accented], answers[i]) for i, q in enumerate(queries) if q.accented is not None]
    if not pairs:
        return None
    return 100 * sum(set(a.ids) == set(b.ids) for a, b in pairs) / len(pairs)


def time_queries(engine: str, index_dir: Path, queries: list[BenchQuery], rounds: int, budget_s: float) -> dict:
    """Open the index, warm up, time the mix; latency figures in milliseconds."""
    started = time.perf_counter()
    session = get_engine(engine).open(index_dir)
    open_s = time.perf_counter() - started
    answers: list[Answer] = []
    started = time.perf_counter()
    for query in queries:
        answers.append(session.search(query))
    warm_s = time.perf_counter() - started
    passes = max(1, min(rounds, int(budget_s / max(warm_s, 1e-9))))
    log(f"{engine}: warm-up pass {warm_s:.1f} s for {len(queries)} queries; {passes} timed pass(es)")
    samples: list[list[float]] = [[] for _ in queries]
    cpu_samples: list[list[float]] = [[] for _ in queries]
    for _ in range(passes):
        for position, query in enumerate(queries):
            begin, begin_cpu = time.perf_counter(), time.process_time()
            session.search(query)
            cpu_samples[position].append((time.process_time() - begin_cpu) * 1000)
            samples[position].append((time.perf_counter() - begin) * 1000)
    session.close()
    per_query = [median(times) for times in samples]
    per_query_cpu = [median(times) for times in cpu_samples]
    by_kind: dict[str, list[float]] = {}
    for query, value in zip(queries, per_query, strict=True):
        by_kind.setdefault(query.kind, []).append(value)
    return {
        "open_s": open_s,
        "full_p50_ms": percentile(per_query, 0.50),
        "full_p95_ms": percentile(per_query, 0.95),
        "full_p99_ms": percentile(per_query, 0.99),
        "full_mean_ms": sum(per_query) / len(per_query),
        "full_cpu_p50_ms": percentile(per_query_cpu, 0.50),
        "full_cpu_p95_ms": percentile(per_query_cpu, 0.95),
        "wall_over_cpu": sum(per_query) / max(sum(per_query_cpu), 1e-9),
        "timed_passes": passes,
        "queries": len(queries),
        "kind_p50_ms": {kind: percentile(values, 0.5) for kind, values in sorted(by_kind.items())},
        "slowest": [
            {"ms": round(ms, 2), "kind": q.kind, "text": q.text, "filters": q.filters}
            for ms, q in sorted(zip(per_query, queries, strict=True), key=lambda item: -item[0])[:SLOWEST]
        ],
        "zero_hit_pct": 100 * sum(a.total == 0 for a in answers) / len(answers),
        "accent_same_top10_pct": _accent_agreement(queries, answers),
        "query_process_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(
    engine: str,
    corpus_dir: Path,
    index_dir: Path,
    queries: list[BenchQuery],
    rounds: int,
    budget_s: float,
    isolate: bool = True,
) -> dict:
    """Build (isolated or here), then time the queries here; the report's row for one engine and size."""
    shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()[0]
    corpus_mb = sum(p.stat().st_size for p in corpus_dir.glob("*.md")) / 1e6
    log(f"{engine}: building the index of {corpus_dir.name} ({corpus_mb:.1f} MB)…")
    busy = system_busy_seconds()
    if isolate:
        build = build_child(engine, corpus_dir, index_dir, index_dir.parent / f"{index_dir.name}.build.json")
    else:
        build = build_here(engine, corpus_dir, index_dir)
    seconds = float(build["seconds"])  # type: ignore[arg-type]
    others = max(0.0, system_busy_seconds() - busy - float(build["cpu_s"]))  # type: ignore[arg-type]
    if build["load_seconds"] is None:
        build["load_seconds"] = load_child(corpus_dir)
    row: dict = {
        "documents": build["documents"],
        "index_s": seconds,
        "load_s": build["load_seconds"],
        "index_docs_per_s": int(build["documents"]) / seconds,  # type: ignore[call-overload]
        "index_mb_per_s": corpus_mb / seconds,
        "index_mb": directory_mb(index_dir),
        "index_peak_rss_mb": build["peak_rss_mb"],
        "index_peak_tree_rss_mb": build["peak_tree_rss_mb"],
        "index_peak_tree_pss_mb": build.get("peak_tree_pss_mb"),
        "index_cpu_s": build["cpu_s"],
        "index_other_cpu_s": others,
    }
    log(f"{engine}: built in {seconds:.1f} s ({row['index_docs_per_s']:.0f} docs/s, {row['index_mb']:.1f} MB)")
    row.update(time_queries(engine, index_dir, queries, rounds, budget_s))
    row["loadavg_1m_start"], row["loadavg_1m_end"] = load_start, os.getloadavg()[0]
    log(f"{engine}: p50 {row['full_p50_ms']:.2f} ms, p95 {row['full_p95_ms']:.2f} ms, p99 {row['full_p99_ms']:.2f} ms")
    return row


def measure_in_subprocess(
    engine: str, corpus_dir: Path, index_dir: Path, queries_path: Path, rounds: int, budget_s: float
) -> dict:
    """:func:`measure` in a fresh process (so one engine's memory never weighs on another's)."""
    out = index_dir.parent / f"{index_dir.name}.row.json"
    command = [
        sys.executable, "-m", "benchmarks.measure", "run", engine, str(corpus_dir), str(index_dir),
        str(queries_path), str(out), "--rounds", str(rounds), "--budget", str(budget_s),
    ]  # fmt: skip
    subprocess.run(command, cwd=ROOT, env=_python_env(), check=True)
    return json.loads(out.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the measurement and build processes."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.measure")
    parser.add_argument("action", choices=("build", "run", "load"))
    parser.add_argument("engine")
    parser.add_argument("corpus", type=Path)
    parser.add_argument("index", type=Path)
    parser.add_argument("extra", type=Path, nargs="+", help="build: OUT; run: QUERIES OUT")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=300.0)
    args = parser.parse_args(argv)
    if args.action == "load":
        started = time.perf_counter()
        load_corpus(args.corpus)
        print(time.perf_counter() - started)
        return 0
    if args.action == "build":
        stats = get_engine(args.engine).build(args.corpus, args.index, progress_printer(f"{args.engine} build"))
        args.extra[0].write_text(json.dumps(stats.__dict__), encoding="utf-8")
        return 0
    queries = load_queries(args.extra[0])
    row = measure(args.engine, args.corpus, args.index, queries, args.rounds, args.budget)
    args.extra[1].write_text(json.dumps(row), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
