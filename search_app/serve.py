"""``make run``: nginx in front of gunicorn, both children of this small supervisor.

gunicorn's sync workers must sit behind a buffering proxy (its documentation says so, and two
connections that never finish their headers otherwise block both workers). This module renders
``deploy/nginx.conf.in`` into the run directory, starts gunicorn on a unix socket there (reachable
only through the file system, so only nginx talks to it) with ``SEARCH_BEHIND_PROXY=1``, then nginx on
``HOST:PORT``; it forwards SIGTERM and SIGINT to both and exits when either stops. Without nginx it
says what is lost and serves with gunicorn alone; without nginx's headers-more module it says that
nginx will name itself in ``Server``. With ``--log-dir`` the access log and the search log are files
there, rotated by size by this process (:mod:`search_app.log_rotation`); without it every log goes to
stdout and stderr, for the journal or whatever collects them::

    python -m search_app.serve --host 127.0.0.1 --port 8000 --workers 2 [--run-dir var/run]
        [--api-rate 10] [--api-burst 20]    # per client address; or SEARCH_API_RATE, SEARCH_API_BURST
        [--log-dir var/log] [--log-max-bytes 10000000] [--log-backups 5]    # or SEARCH_LOG_DIR, …
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from string import Template
from types import FrameType

from search_app.log_rotation import LogRotation, RotatedLog

TEMPLATE = Path(__file__).resolve().parent / "deploy" / "nginx.conf.in"
REQUEST_TIMEOUT = 30  # seconds: nginx's proxy_read_timeout and gunicorn's --timeout
STARTUP_TIMEOUT = 60.0  # seconds for gunicorn to create its socket
STOP_TIMEOUT = 20.0  # seconds each child gets to stop before SIGKILL
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
#: Debian's libnginx-mod-http-headers-more-filter: ``more_clear_headers Server`` (nginx alone always names itself).
HEADERS_MORE = Path("/usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so")
#: The API's limit per client address: requests a second, and the burst served at once before 429.
API_RATE = ("SEARCH_API_RATE", 10)
API_BURST = ("SEARCH_API_BURST", 20)
#: Log files (with --log-dir): the size past which each is rotated, and how many old ones are kept.
LOG_MAX_BYTES = ("SEARCH_LOG_MAX_BYTES", 10_000_000)
LOG_BACKUPS = ("SEARCH_LOG_BACKUPS", 5)


class ConfigTemplate(Template):
    """Only ``${name}`` is a placeholder: nginx's own ``$remote_addr`` stays as written."""

    # A string, compiled by Template.__init_subclass__ (typeshed types the compiled attribute).
    pattern = r"\$(?:(?P<escaped>(?!))|\{(?P<braced>[a-z_]+)\}|(?P<named>(?!))|(?P<invalid>(?!)))"  # type: ignore[assignment]


@dataclass(frozen=True)
class Settings:
    """Where the front listens, how many workers serve, where the runtime files go."""

    host: str
    port: int
    workers: int
    run_dir: Path
    nginx: str | None
    api_rate: int = API_RATE[1]
    api_burst: int = API_BURST[1]
    headers_more: Path | None = None
    log_dir: Path | None = None  # None: logs on stdout and stderr
    log_max_bytes: int = LOG_MAX_BYTES[1]
    log_backups: int = LOG_BACKUPS[1]
    #: Load balancers whose X-Forwarded-For names the client (per-address limits then apply to clients).
    trusted_proxies: tuple[str, ...] = ()

    @property
    def socket(self) -> Path:
        return self.run_dir / "gunicorn.sock"

    @property
    def access_log(self) -> Path | None:
        """nginx's access log (gunicorn's without nginx), None for stdout."""
        return self.log_dir.resolve() / "access.log" if self.log_dir else None

    @property
    def search_log(self) -> Path | None:
        """The workers' search log (SEARCH_LOG_FILE), None for stderr."""
        return self.log_dir.resolve() / "searches.jsonl" if self.log_dir else None

    @property
    def exports(self) -> int:
        """Concurrent CSV exports over all clients: one worker always stays free for the others."""
        return max(1, self.workers - 1)


def find_nginx() -> str | None:
    """nginx on the PATH, else Debian's ``/usr/sbin/nginx`` (not on an ordinary user's PATH)."""
    found = shutil.which("nginx")
    if found:
        return found
    debian = Path("/usr/sbin/nginx")
    return str(debian) if os.access(debian, os.X_OK) else None


def find_headers_more() -> Path | None:
    """The headers-more module of Debian's nginx, None when its package is not installed."""
    return HEADERS_MORE if HEADERS_MORE.is_file() else None


def nginx_user_line() -> str:
    """As root, nginx's workers would become « nobody », who cannot enter a private run directory: they
    run as the user running this process (the same user as gunicorn). Not root: no ``user`` line."""
    return f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""


def render_config(settings: Settings, template: Path = TEMPLATE) -> str:
    """The nginx configuration for ``settings``; a placeholder left without a value raises KeyError."""
    # As root, nginx's workers would become « nobody », who cannot enter a private run directory:
    # they run as the user running this supervisor, the same user as gunicorn.
    values = {
        "user_line": nginx_user_line(),
        "run_dir": settings.run_dir.resolve(),
        "socket": settings.socket.resolve(),
        "host": settings.host,
        "port": settings.port,
        "exports": settings.exports,
        "request_timeout": REQUEST_TIMEOUT,
        "api_rate": settings.api_rate,
        "api_burst": settings.api_burst,
        "access_log": settings.access_log or "/dev/stdout",
        "load_headers_more": f"load_module {settings.headers_more};" if settings.headers_more else "",
        "clear_server": "more_clear_headers Server;" if settings.headers_more else "",
        "real_ip": real_ip_lines(settings.trusted_proxies),
    }
    return ConfigTemplate(template.read_text(encoding="utf-8")).substitute(values)


def real_ip_lines(proxies: tuple[str, ...]) -> str:
    """nginx's realip directives: behind these load balancers, the client is X-Forwarded-For's last
    address not among them (nothing when the front faces clients directly)."""
    if not proxies:
        return "# no load balancer in front: $remote_addr is the client"
    lines = [f"set_real_ip_from {proxy};" for proxy in proxies]
    return "\n    ".join([*lines, "real_ip_header X-Forwarded-For;", "real_ip_recursive on;"])


def gunicorn_command(bind: str, workers: int) -> list[str]:
    """gunicorn serving the app on ``bind`` (``unix:PATH`` or ``HOST:PORT``), without a ``Server`` header."""
    return [
        sys.executable, "-m", "gunicorn", "--no-control-socket", "--bind", bind, "--workers", str(workers),
        "--timeout", str(REQUEST_TIMEOUT), "--config", "python:search_app.gunicorn_conf", "search_app:create_app()",
    ]  # fmt: skip


def say(message: str) -> None:
    print(f"serve : {message}", file=sys.stderr, flush=True)


def _gunicorn_env(settings: Settings, behind_proxy: bool) -> dict[str, str]:
    """The environment of gunicorn and its workers: the proxy trust, where the search log goes."""
    env = {**os.environ}
    if behind_proxy:
        env["SEARCH_BEHIND_PROXY"] = "1"
    if settings.search_log:
        env["SEARCH_LOG_FILE"] = str(settings.search_log)
    return env


def _prepare_logs(settings: Settings) -> None:
    """Create the log directory, and say where the logs go."""
    if settings.log_dir is None:
        say("journaux sur stdout (accès) et stderr (recherches, erreurs) : rien n’est écrit dans un fichier.")
        return
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    say(
        f"journaux dans {settings.log_dir.resolve()} (access.log, searches.jsonl), renommés en .1 au-delà de "
        f"{settings.log_max_bytes} octets, {settings.log_backups} anciens gardés ; erreurs sur stderr."
    )


def _rotation(settings: Settings, access_pid: int) -> LogRotation | None:
    """The rotation of the log files, None without --log-dir; ``access_pid`` reopens the access log on SIGUSR1."""
    if settings.access_log is None or settings.search_log is None:
        return None
    logs = [RotatedLog(settings.access_log, access_pid), RotatedLog(settings.search_log)]
    return LogRotation(logs, settings.log_max_bytes, settings.log_backups)


def run_alone(settings: Settings, stop: threading.Event) -> int:
    """No nginx: gunicorn alone on ``HOST:PORT``, supervised like the front; returns the exit status."""
    say(
        "nginx introuvable (apt-get install nginx, en root) : gunicorn sert seul sur "
        f"{settings.host}:{settings.port}, sans protection contre les clients lents (deux connexions "
        "qui n’achèvent pas leur requête bloquent les deux workers), sans limite de requêtes par client "
        "ni plafond d’exports CSV."
    )
    _prepare_logs(settings)
    access = str(settings.access_log or "-")
    command = [*gunicorn_command(f"{settings.host}:{settings.port}", settings.workers), "--access-logfile", access]
    gunicorn = subprocess.Popen(command, env=_gunicorn_env(settings, behind_proxy=False), start_new_session=True)
    return supervise({"gunicorn": gunicorn}, stop, _rotation(settings, gunicorn.pid))


def _prepare(settings: Settings) -> Path:
    """Create the run directory and nginx's temporary folders; write the configuration."""
    for name in TEMP_DIRS:
        (settings.run_dir / name).mkdir(parents=True, exist_ok=True)
    settings.socket.unlink(missing_ok=True)
    config = settings.run_dir / "nginx.conf"
    config.write_text(render_config(settings), encoding="utf-8")
    return config


def _start_gunicorn(settings: Settings, stop: threading.Event) -> subprocess.Popen[bytes] | None:
    """gunicorn on the private socket, trusting one proxy hop; returns once the socket exists (None when
    SIGTERM/SIGINT came first: gunicorn is stopped again)."""
    env = _gunicorn_env(settings, behind_proxy=True)
    process = subprocess.Popen(
        gunicorn_command(f"unix:{settings.socket}", settings.workers), env=env, start_new_session=True
    )
    for _ in range(int(STARTUP_TIMEOUT / 0.1)):
        if settings.socket.exists() or process.poll() is not None or stop.wait(0.1):
            break
    if stop.is_set():
        _stop({"gunicorn": process})
        return None
    if not settings.socket.exists():
        _stop({"gunicorn": process})
        raise SystemExit(f"serve : gunicorn n’a pas démarré (code {process.returncode}).")
    return process


def _stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM to every running child (fast stop for nginx, graceful for gunicorn), SIGKILL if stuck.

    Each child leads its own process group (``start_new_session``): what is left in a group once its
    leader has stopped (nginx's worker outlives a killed master) is killed with it.
    """
    for process in children.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for name, process in children.items():
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            say(f"{name} ne s’arrête pas : SIGKILL.")
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
    for process in children.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """An event SIGTERM and SIGINT set within the block (installed before any child starts, so one that
    comes during start-up is not lost); the previous handlers come back after it."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def supervise(
    children: dict[str, subprocess.Popen[bytes]], stop: threading.Event, rotation: LogRotation | None = None
) -> int:
    """Wait for ``stop`` (SIGTERM/SIGINT) or for a child to stop (rotating the logs meanwhile); stop them
    all; 0 on a signal, 1 otherwise."""
    dead: list[str] = []
    while not stop.wait(0.2) and not dead:
        dead = [name for name, process in children.items() if process.poll() is not None]
        if rotation is not None and not dead:
            rotation.tick()
    if dead:
        name = dead[0]
        say(f"{name} s’est arrêté (code {children[name].returncode}) : arrêt du service.")
    _stop(children)
    return 0 if stop.is_set() and not dead else 1


def run_front(settings: Settings, nginx: str, stop: threading.Event) -> int:
    """nginx on ``HOST:PORT`` in front of gunicorn; returns the exit status."""
    if settings.headers_more is None:
        say(
            f"module headers-more introuvable ({HEADERS_MORE} ; apt-get install "
            "libnginx-mod-http-headers-more-filter, en root) : nginx envoie « Server: nginx » "
            "sur chaque réponse."
        )
    _prepare_logs(settings)
    config = _prepare(settings)
    gunicorn = _start_gunicorn(settings, stop)
    if gunicorn is None:
        say("arrêt demandé pendant le démarrage\u00a0: gunicorn arrêté.")
        return 0
    command = [nginx, "-p", str(settings.run_dir.resolve()), "-c", str(config.resolve()), "-e", "stderr"]
    nginx_process = subprocess.Popen(command, start_new_session=True)
    children = {"gunicorn": gunicorn, "nginx": nginx_process}
    say(
        f"http://{settings.host}:{settings.port}/ — nginx devant gunicorn ({settings.workers} workers, "
        f"socket {settings.socket})."
    )
    return supervise(children, stop, _rotation(settings, nginx_process.pid))


def parse_args(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m search_app.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address nginx listens on")
    parser.add_argument("--port", type=int, default=8000, help="port nginx listens on")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--run-dir", type=Path, default=Path("var/run"), help="configuration, socket, temp files")
    parser.add_argument("--nginx", default=find_nginx(), help="nginx executable (default: found on the PATH)")
    parser.add_argument(
        "--trusted-proxy", action="append", default=[], metavar="ADDR",
        help="a load balancer in front (address or CIDR; repeatable): per-client limits use its X-Forwarded-For",
    )
    parser.add_argument(
        "--headers-more", type=Path, default=find_headers_more(), help=f"nginx's headers-more module ({HEADERS_MORE})"
    )
    _integer_argument(parser, "--api-rate", API_RATE, 1, "API requests a second per client address")
    _integer_argument(
        parser, "--api-burst", API_BURST, 0, "API requests per address served at once beyond it, before 429"
    )
    parser.add_argument(
        "--log-dir", default=os.environ.get("SEARCH_LOG_DIR", ""),
        help="write access.log and searches.jsonl there, rotated by size (default: $SEARCH_LOG_DIR, else "
        "none: stdout and stderr)",
    )  # fmt: skip
    _integer_argument(parser, "--log-max-bytes", LOG_MAX_BYTES, 1000, "size past which a log file is rotated")
    _integer_argument(parser, "--log-backups", LOG_BACKUPS, 1, "rotated log files kept")
    args = parser.parse_args(argv)
    nginx = args.nginx if args.nginx and os.access(args.nginx, os.X_OK) else None
    headers_more = args.headers_more if args.headers_more and args.headers_more.is_file() else None
    return Settings(
        args.host, args.port, args.workers, args.run_dir, nginx, args.api_rate, args.api_burst, headers_more,
        log_dir=Path(args.log_dir) if args.log_dir else None, log_max_bytes=args.log_max_bytes,
        log_backups=args.log_backups, trusted_proxies=tuple(args.trusted_proxy),
    )  # fmt: skip


def _integer_argument(
    parser: argparse.ArgumentParser, flag: str, default: tuple[str, int], least: int, text: str
) -> None:
    """An integer option at least ``least``, defaulting to an environment variable, then to a number."""
    variable, number = default

    def at_least(value: str) -> int:
        if not value.strip().isdigit() or int(value) < least:
            raise argparse.ArgumentTypeError(
                f"un entier ≥ {least} est attendu (reçu « {value} », de {flag} ou de ${variable})"
            )
        return int(value)

    help_text = f"{text} (default: ${variable}, else {number})"
    parser.add_argument(flag, type=at_least, default=os.environ.get(variable) or str(number), help=help_text)


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    with stop_signals() as stop:
        if settings.nginx is None:
            return run_alone(settings, stop)
        return run_front(settings, settings.nginx, stop)


if __name__ == "__main__":
    sys.exit(main())
