"""The example load balancer for several replicas: ``deploy/balancer.conf.in`` rendered for nginx.

``python -m search_app.balancer --replica 10.0.0.11:8000 --replica 10.0.0.12:8000 --port 80`` prints
the configuration (run it with ``nginx -p RUN_DIR -c FILE``); each replica runs ``make run`` with
``--trusted-proxy`` set to the balancer's address. The README's scale-out section says the rest.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from search_app.serve import ConfigTemplate, nginx_user_line

TEMPLATE = Path(__file__).resolve().parent / "deploy" / "balancer.conf.in"
#: A replica that fails this many times in ``fail_timeout`` is left out for that long.
MAX_FAILS, FAIL_TIMEOUT = 2, "5s"


def render_balancer(replicas: list[str], host: str, port: int, run_dir: Path) -> str:
    """The balancer's nginx configuration; raise ValueError without a replica."""
    if not replicas:
        raise ValueError("au moins une réplique (--replica HÔTE:PORT)")
    servers = "\n        ".join(
        f"server {replica} max_fails={MAX_FAILS} fail_timeout={FAIL_TIMEOUT};" for replica in replicas
    )
    values = {
        "user_line": nginx_user_line(),
        "run_dir": run_dir.resolve(),
        "servers": servers,
        "host": host,
        "port": port,
    }
    return ConfigTemplate(TEMPLATE.read_text(encoding="utf-8")).substitute(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search_app.balancer", description=__doc__.splitlines()[0])
    parser.add_argument("--replica", action="append", required=True, metavar="HOST:PORT", help="repeatable")
    parser.add_argument("--host", default="0.0.0.0", help="address the balancer listens on")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--run-dir", type=Path, default=Path("var/balancer"), help="nginx's temporary files")
    args = parser.parse_args(argv)
    print(render_balancer(args.replica, args.host, args.port, args.run_dir), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
