"""``report.json`` and ``report.md``: the measurements, the ratios the targets ask for, the machine."""

from __future__ import annotations

import json
from pathlib import Path

#: Keys every (size, engine) row has, as issue 5 lists them.
ROW_KEYS = (
    "index_docs_per_s",
    "index_mb",
    "index_peak_rss_mb",
    "open_s",
    "full_p50_ms",
    "full_p95_ms",
    "full_p99_ms",
)
HTTP_KEYS = ("http_search_rps", "http_health_rps", "http_search_p99_ms")
RSS_LIMIT_MB = 1024
#: The fronts of benchmarks/http_front.py: key prefix and how the table names it.
FRONTS = (("http_front", "as deployed (page cache 512 per worker)"), ("http_front_uncached", "page cache off"))
FRONT_P99_MS = 200


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def front_targets(report: dict, prefix: str) -> dict | None:
    """Issue 13's target for one front: ratio ≥ 0.5, /api/search p99 < 200 ms, no socket error, no non-2xx."""
    if report.get(f"{prefix}_search_rps") is None:
        return None
    ratio = report.get(f"{prefix}_ratio")
    p99 = report[f"{prefix}_search_p99_ms"]
    failures = sum(report[f"{prefix}_{endpoint}_{kind}"] for endpoint in ("search", "health")
                   for kind in ("socket_errors", "non_2xx"))  # fmt: skip
    return {
        "search_vs_health": {"value": ratio, "target": ">= 0.5", "met": ratio is not None and ratio >= 0.5},
        "search_p99_ms": {"value": p99, "target": f"< {FRONT_P99_MS}", "met": p99 < FRONT_P99_MS},
        "errors": {"value": failures, "target": "0 socket errors, 0 non-2xx", "met": failures == 0},
    }


def ratios(report: dict) -> dict:
    """Per size: the target ratios (each with whether it is met); plus HTTP and p95 growth."""
    per_size: dict[str, dict] = {}
    first_p95 = None
    for size, rows in sorted(report.get("sizes", {}).items(), key=lambda item: int(item[0])):
        ok = {engine: row for engine, row in rows.items() if "error" not in row}
        ours, naive, tantivy = ok.get("ours"), ok.get("naive"), ok.get("tantivy")
        entry: dict[str, object] = {}
        if ours and naive:
            value = _ratio(ours["full_p95_ms"], naive["full_p95_ms"] / 2)
            entry["p95_vs_half_naive"] = {"value": value, "target": "<= 1", "met": value is not None and value <= 1}
            value = _ratio(ours["index_docs_per_s"], naive["index_docs_per_s"])
            entry["build_vs_naive"] = {"value": value, "target": ">= 1.8", "met": value is not None and value >= 1.8}
        if ours and tantivy:
            value = _ratio(ours["full_p50_ms"], tantivy["full_p50_ms"])
            entry["p50_vs_tantivy"] = {"value": value, "target": "<= 10", "met": value is not None and value <= 10}
        if ours:
            tree = ours.get("index_peak_tree_pss_mb") or ours.get("index_peak_tree_rss_mb") or 0
            peak = max(ours["index_peak_rss_mb"], tree)
            entry["build_peak_rss_mb"] = {"value": peak, "target": f"< {RSS_LIMIT_MB}", "met": peak < RSS_LIMIT_MB}
            first_p95 = first_p95 or (size, ours["full_p95_ms"])
            entry["p95_growth_vs_smallest"] = _ratio(ours["full_p95_ms"], first_p95[1])
        per_size[size] = entry
    http = _ratio(report.get("http_search_rps"), report.get("http_health_rps"))
    return {
        "analytics_faults": analytics_fault_ratios(report.get("analytics_faults")),
        "per_size": per_size,
        "http_search_vs_health": {"value": http, "target": ">= 0.5", "met": http is not None and http >= 0.5},
        "http_uncached_search_vs_health": _ratio(report.get("http_search_uncached_rps"), report.get("http_health_rps")),
        **{prefix: front_targets(report, prefix) for prefix, _ in FRONTS},
    }


def analytics_fault_ratios(faults: dict | None) -> dict:
    """Per mode and faulty store: the paired median ratio to the healthy store, met when its interval's upper
    bound is within 10 % and no search failed."""
    if not faults or "modes" not in faults:  # not measured, or a report from before the per-mode rounds
        return {}
    limit = faults["target_ratio"]
    found: dict[str, dict] = {}
    for mode, measured in faults["modes"].items():
        found[mode] = {}
        for name, row in measured["stores"].items():
            if name != "healthy":
                ratio = row["median_ratio"]
                met = ratio["high"] <= limit and not row["non_200"]
                found[mode][name] = {"value": ratio["median"], "interval": [ratio["low"], ratio["high"]],
                                     "cpu": row["cpu_ratio"]["median"], "target": f"95 % interval <= {limit}",
                                     "met": met}
    return found


def _analytics_lines(report: dict) -> list[str]:
    """The Markdown section of the searches under analytics faults."""
    faults = report.get("analytics_faults")
    lines = ["", "## Searches under analytics faults (test client, real six-programme corpus)", ""]
    if not faults or "modes" not in faults:
        return [*lines, "Not measured."]
    lines += [
        f"One process per store; {faults['rounds']} interleaved rounds in {faults['sessions']} sessions (fresh "
        "processes each), the same block of queries for every store in a round. Ratios: median over the rounds "
        "of the store's median ÷ the healthy store's in the same round, with its 95 % bootstrap interval "
        "(sessions, then rounds resampled); `healthy_again` is the control. Within 10 %: the interval's upper bound ≤ "
        f"{faults['target_ratio']}.",
    ]
    met = report["ratios"]["analytics_faults"]
    for mode, measured in faults["modes"].items():
        rows = measured["stores"]
        lines += [
            "", f"**{mode}**, {measured['block']} searches per store in a round:", "",
            "| store | searches | non-200 | median ms | p95 ms | CPU ms | wall ÷ CPU | median ÷ healthy [95 %] "
            "| CPU ÷ healthy [95 %] | warnings (after repair) | writer failing | events waiting | dropped "
            "| written after repair (s) | within 10 % |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|---|---|---:|---:|---:|---|",
        ]
        for name, row in rows.items():
            verdict = _fmt(met[mode][name]["met"]) if name in met[mode] else ""
            lines.append(
                f"| {name} | {row['searches']} | {row['non_200']} | {_fmt(row['median_ms'], 3)} "
                f"| {_fmt(row['p95_ms'], 3)} | {_fmt(row['cpu_median_ms'], 3)} | {_fmt(row['wall_per_cpu'])} "
                f"| {_interval(row['median_ratio'])} | {_interval(row['cpu_ratio'])} "
                f"| {row['warnings']} ({row['warnings_after_repair']}) | {'yes' if row['writer_failing'] else 'no'} "
                f"| {row['events_waiting']} | {row['events_dropped']} | {_fmt(row.get('written_within_s'))} "
                f"| {verdict} |"
            )
        threads = sum(row["writer_threads"] for row in rows.values())
        lines += ["", f"Writer threads: {threads} for {faults['apps']} apps (one per store)."]
    return lines


def _interval(ratio: dict) -> str:
    return f"{ratio['median']:.3f} [{ratio['low']:.3f}, {ratio['high']:.3f}]"


def _fmt(value: object, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return str(value)


def markdown(report: dict) -> str:
    """The Markdown summary: one row per (size, engine), then the target ratios, HTTP and machine."""
    lines = [
        "# Benchmark report",
        "",
        f"Generated {report['generated_at']} — seed {report['seed']}, text source {report['text_source']}, "
        f"{report['query_count']} queries, harness {report['harness_version']}, "
        f"code {report.get('source_commit') or 'unknown'}.",
        "",
        "| records | engine | index docs/s | build CPU s (others) | index MB "
        "| build peak MiB: own RSS (tree PSS / tree RSS) | open s "
        "| full p50 ms | p95 ms | p99 ms | CPU p50 / p95 ms | wall ÷ CPU | accent-less same top 10 |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, rows in sorted(report.get("sizes", {}).items(), key=lambda item: int(item[0])):
        for engine, row in rows.items():
            if "error" in row:
                lines.append(f"| {int(size):,} | {engine} | failed: {row['error']} |" + " |" * 10)
                continue
            rss = (
                f"{_fmt(row['index_peak_rss_mb'], 0)} ({_fmt(row.get('index_peak_tree_pss_mb'), 0)} / "
                f"{_fmt(row.get('index_peak_tree_rss_mb'), 0)})"
            )
            accent = row.get("accent_same_top10_pct")
            lines.append(
                f"| {int(size):,} | {engine} | {_fmt(row['index_docs_per_s'], 0)} | {_fmt(row.get('index_cpu_s'), 1)} "
                f"({_fmt(row.get('index_other_cpu_s'), 1)}) "
                f"| {_fmt(row['index_mb'], 1)} | {rss} | {_fmt(row['open_s'], 3)} | {_fmt(row['full_p50_ms'])} "
                f"| {_fmt(row['full_p95_ms'])} | {_fmt(row['full_p99_ms'])} "
                f"| {_fmt(row.get('full_cpu_p50_ms'))} / {_fmt(row.get('full_cpu_p95_ms'))} "
                f"| {_fmt(row.get('wall_over_cpu'))} "
                f"| {_fmt(accent, 0) + ' %' if accent is not None else '—'} |"
            )
    lines += [
        "",
        "Build docs/s include reading the record files (YAML); build CPU s is the build's own CPU time "
        "(all its processes), « others » the CPU time the rest of the machine used meanwhile: when it is large, "
        "the build competed for the 2 cores and its docs/s is pessimistic. Memory in MiB: own RSS is the largest "
        "single process; tree PSS sums the build's processes counting pages they share (forked) once, tree RSS "
        "counts them once per process. Index size in MB "
        "(10⁶ bytes). wall ÷ CPU well above 1.0 means other processes competed during the queries.",
        "",
        "## Targets",
        "",
        "| records | target | value | met |",
        "|---:|---|---:|---|",
    ]
    found = report["ratios"]
    names = {
        "p95_vs_half_naive": "ours p95 ÷ (naive p95 ÷ 2) ≤ 1",
        "p50_vs_tantivy": "ours p50 ÷ tantivy p50 ≤ 10",
        "build_vs_naive": "ours build docs/s ÷ naive docs/s ≥ 1.8",
        "build_peak_rss_mb": "ours build peak memory < 1 GiB (max of own RSS and tree PSS)",
    }
    for size, entry in found["per_size"].items():
        for key, label in names.items():
            if key in entry:
                lines.append(f"| {int(size):,} | {label} | {_fmt(entry[key]['value'])} | {_fmt(entry[key]['met'])} |")
        if entry.get("p95_growth_vs_smallest") is not None:
            growth = _fmt(entry["p95_growth_vs_smallest"])
            lines.append(f"| {int(size):,} | ours p95 growth vs smallest size | {growth} | |")
    http = found["http_search_vs_health"]
    lines += ["", "## HTTP (gunicorn -w 2, wrk -t2 -c16, real six-programme corpus)", ""]
    if report.get("http_search_rps") is None:
        lines.append(f"Not measured: {report.get('http_skipped', 'skipped')}.")
    else:
        lines += [
            "| endpoint | requests/s | p50 ms | p99 ms | errors |",
            "|---|---:|---:|---:|---:|",
            f"| /api/search | {_fmt(report['http_search_rps'])} | {_fmt(report.get('http_search_p50_ms'))} "
            f"| {_fmt(report['http_search_p99_ms'])} | {_fmt(report.get('http_search_errors'), 0)} |",
            f"| /healthz | {_fmt(report['http_health_rps'])} | {_fmt(report.get('http_health_p50_ms'))} "
            f"| {_fmt(report.get('http_health_p99_ms'))} | {_fmt(report.get('http_health_errors'), 0)} |",
            f"| /api/search, page cache off | {_fmt(report.get('http_search_uncached_rps'))} "
            f"| {_fmt(report.get('http_search_uncached_p50_ms'))} "
            f"| {_fmt(report.get('http_search_uncached_p99_ms'))} "
            f"| {_fmt(report.get('http_search_uncached_errors'), 0)} |",
            "",
            f"/api/search ÷ /healthz throughput: {_fmt(http['value'])} (target ≥ 0.5: {_fmt(http['met'])}); "
            f"with the page cache off: {_fmt(found['http_uncached_search_vs_health'])}. "
            f"wrk cycles through {report.get('http_distinct_queries')} distinct queries, so with the cache on "
            "most requests after the first round are cache hits.",
        ]
    lines += _analytics_lines(report)
    lines += _front_markdown(report)
    m = report["machine"]
    packages = ", ".join(f"{name} {version}" for name, version in m["packages"].items() if version)
    lines += [
        "",
        "## Machine",
        "",
        f"{m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB RAM, {m['os']}, Python {m['python']}; {packages}; "
        f"{m.get('wrk') or 'wrk absent'}.",
        "",
    ]
    return "\n".join(lines)


def _front_markdown(report: dict) -> list[str]:
    """The section of issue 13's target through nginx + gunicorn."""
    workers, connections = report.get("http_front_workers", 2), report.get("http_front_connections", 64)
    lines = [
        "",
        f"## HTTP through the front (search_app.serve: nginx + gunicorn -w {workers}, wrk -t2 -c{connections})",
        "",
    ]
    if report.get("http_front_search_rps") is None:
        return [*lines, f"Not measured: {report.get('http_front_skipped', 'skipped')}."]
    lines += [
        "| front | endpoint | requests/s | p50 ms | p99 ms | socket errors | non-2xx |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for prefix, label in FRONTS:
        for endpoint, path in (("search", "/api/search"), ("health", "/healthz")):
            key = f"{prefix}_{endpoint}"
            lines.append(
                f"| {label} | {path} | {_fmt(report.get(key + '_rps'))} | {_fmt(report.get(key + '_p50_ms'))} "
                f"| {_fmt(report.get(key + '_p99_ms'))} | {_fmt(report.get(key + '_socket_errors'), 0)} "
                f"| {_fmt(report.get(key + '_non_2xx'), 0)} |"
            )
    lines += ["", "| front | target | value | met |", "|---|---|---:|---|"]
    for prefix, label in FRONTS:
        for target in (report["ratios"].get(prefix) or {}).values():
            lines.append(f"| {label} | {target['target']} | {_fmt(target['value'])} | {_fmt(target['met'])} |")
    lines += [
        "",
        f"{report.get('http_front_distinct_queries')} distinct queries rotate (a wrk Lua script), "
        f"{report.get('http_front_duration_s')} s per run; wrk is one client address, so the front ran with its "
        f"API limit raised to {report.get('http_front_api_rate'):,} requests/s per address, burst "
        f"{report.get('http_front_api_burst'):,} (`--api-rate`, `--api-burst`; 10 and 20 by default). "
        "Target ratios are /api/search ÷ /healthz throughput of the same front: ≥ 0.5.",
    ]
    return lines


def write_report(report: dict, out_dir: Path) -> tuple[Path, Path]:
    """Add the ratios, then write ``report.json`` and ``report.md`` into ``out_dir``."""
    report["ratios"] = ratios(report)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "report.json", out_dir / "report.md"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    md_path.write_text(markdown(report), encoding="utf-8")
    return json_path, md_path
