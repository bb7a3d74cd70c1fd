"""``python -m benchmarks``: the command line of the harness (see benchmarks/README.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks import DEFAULT_SEED
from benchmarks.runner import Config, run

QUICK_SIZES = (200,)
#: Parts that run alone (``--only``), keeping the rest of an existing report.
PARTS = ("http-front", "analytics")


def _sizes(text: str) -> tuple[int, ...]:
    if text.strip().lower() in {"", "none"}:
        return ()
    return tuple(int(part.replace("_", "").replace("k", "000")) for part in text.split(","))


def parse_args(argv: list[str] | None = None) -> Config:
    """The run's configuration from the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark the search service against naive Whoosh and tantivy at several corpus sizes.",
    )
    parser.add_argument("--sizes", default="1000,10000,100000", help="record counts, comma-separated, or 'none'")
    parser.add_argument("--engines", default="ours,naive,tantivy", help="engines to measure (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 records, 30 queries, 1 pass, 2 s of wrk")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default: var/bench)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--source", choices=("manpages", "corpus"), default="manpages", help="text source")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the queries (default: %(default)s)")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds of timed passes per engine and size")
    parser.add_argument("--max-queries", type=int, default=None, help="use only this many queries of the mix")
    parser.add_argument("--no-http", action="store_true", help="skip the gunicorn + wrk measurement")
    parser.add_argument("--no-http-front", action="store_true", help="skip the nginx + gunicorn + wrk -c64 target")
    parser.add_argument(
        "--only", choices=PARTS,
        help="run this part alone, kept with the rest of report.json (http-front: ~1 min, analytics: ~4 min)",
    )
    parser.add_argument("--http-duration", type=int, default=10, help="seconds of each wrk run (default: %(default)s)")
    parser.add_argument("--no-analytics", action="store_true", help="skip the searches under analytics faults")
    parser.add_argument("--analytics-rounds", type=int, default=250,
                        help="interleaved rounds of searches per analytics mode (default: %(default)s)")
    parser.add_argument("--analytics-sessions", type=int, default=5,
                        help="those rounds are split into sessions, fresh processes each (default: %(default)s)")
    parser.add_argument("--in-process", action="store_true", help="build and query in this process (no isolation)")
    parser.add_argument("--keep-indexes", action="store_true", help="keep var/bench/index-*/ after measuring")
    parser.add_argument("--merge", action="store_true", help="keep the sizes already in report.json")
    args = parser.parse_args(argv)
    config = Config(
        sizes=_sizes(args.sizes),
        engines=tuple(e.strip() for e in args.engines.split(",") if e.strip()),
        seed=args.seed,
        source=args.source,
        rounds=args.rounds,
        budget_s=args.budget,
        max_queries=args.max_queries,
        http=not args.no_http,
        http_front=not args.no_http_front,
        http_duration=args.http_duration,
        analytics=not args.no_analytics,
        analytics_rounds=args.analytics_rounds,
        analytics_sessions=args.analytics_sessions,
        isolate=not args.in_process,
        keep_indexes=args.keep_indexes,
        merge=args.merge,
    )
    if args.out is not None:
        config.out_dir = args.out
    if args.quick:
        config.sizes, config.rounds, config.max_queries, config.http_duration = QUICK_SIZES, 1, 30, 2
        config.analytics_rounds, config.analytics_sessions = 10, 2
    if args.only == "http-front":
        config.sizes, config.http, config.http_front, config.merge = (), False, True, True
        config.analytics = False
    if args.only == "analytics":
        config.sizes, config.http, config.http_front, config.merge = (), False, False, True
    return config


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; the report goes to var/bench/report.{json,md}, progress to stderr."""
    run(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
