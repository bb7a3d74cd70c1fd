"""The front's configuration (search_app/serve.py, search_app/deploy/nginx.conf.in) and the proxy trust.

The servers themselves run in tests/reliability/test_front.py.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from search_app import create_app
from search_app.balancer import render_balancer
from search_app.serve import (
    HEADERS_MORE,
    TEMP_DIRS,
    Settings,
    find_headers_more,
    find_nginx,
    gunicorn_command,
    parse_args,
    render_config,
)
from tests.reliability.helpers import free_port, wait_for


def _settings(tmp_path: Path, workers: int = 3, headers_more: Path | None = HEADERS_MORE) -> Settings:
    return Settings("127.0.0.1", 8123, workers, tmp_path, "/usr/sbin/nginx", headers_more=headers_more)


def test_the_rendered_config_fills_every_placeholder_and_keeps_nginx_variables(tmp_path: Path):
    config = render_config(_settings(tmp_path))
    assert "${" not in config
    assert "listen 127.0.0.1:8123;" in config
    assert f"server unix:{tmp_path.resolve()}/gunicorn.sock;" in config
    assert "limit_conn export_all 2;" in config  # 3 workers: 2 exports at once, one worker stays free
    assert "limit_req_zone $binary_remote_addr zone=api:10m rate=10r/s;" in config
    # Overwritten with the client's address, never appended to what the client sent.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in config
    assert "proxy_add_x_forwarded_for" not in config
    for name in TEMP_DIRS:
        assert f"_temp_path {tmp_path.resolve()}/{name};" in config
    assert "Trop de requêtes\u00a0: réessayez dans une seconde." in config


def test_the_server_header_is_cleared_when_the_module_is_there_and_only_then(tmp_path: Path):
    config = render_config(_settings(tmp_path))
    assert config.startswith("# nginx in front") and f"\nload_module {HEADERS_MORE};\n" in config
    assert "more_clear_headers Server;" in config
    without = render_config(_settings(tmp_path, headers_more=None))
    assert "load_module" not in without and "more_clear_headers" not in without
    assert "server_tokens off;" in without  # then « Server: nginx », without its version


def test_a_missing_headers_more_module_is_noticed(tmp_path: Path):
    assert parse_args(["--headers-more", str(tmp_path / "absent.so")]).headers_more is None
    assert parse_args([]).headers_more == find_headers_more()


def test_gunicorn_loads_the_configuration_that_drops_its_server_header():
    command = gunicorn_command("127.0.0.1:9", 2)
    assert command[command.index("--config") + 1] == "python:search_app.gunicorn_conf"


def test_the_api_limit_comes_from_the_options_then_the_environment_then_the_defaults(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("SEARCH_API_RATE", raising=False)
    monkeypatch.delenv("SEARCH_API_BURST", raising=False)
    assert (parse_args([]).api_rate, parse_args([]).api_burst) == (10, 20)
    monkeypatch.setenv("SEARCH_API_RATE", "500")
    monkeypatch.setenv("SEARCH_API_BURST", "0")
    assert (parse_args([]).api_rate, parse_args([]).api_burst) == (500, 0)
    settings = parse_args(["--api-rate", "2000", "--api-burst", "64"])
    assert (settings.api_rate, settings.api_burst) == (2000, 64)
    config = render_config(replace(settings, run_dir=tmp_path))
    assert "limit_req_zone $binary_remote_addr zone=api:10m rate=2000r/s;" in config
    assert "limit_req zone=api burst=64 nodelay;" in config


@pytest.mark.parametrize(("argv", "variable"), [
    (["--api-rate", "0"], None), (["--api-rate", "dix"], None), (["--api-burst", "-1"], None), ([], "abc"),
])  # fmt: skip
def test_a_wrong_api_limit_is_refused_with_a_clear_message(monkeypatch, capsys, argv: list[str], variable: str | None):
    monkeypatch.delenv("SEARCH_API_BURST", raising=False)
    if variable is None:
        monkeypatch.delenv("SEARCH_API_RATE", raising=False)
    else:
        monkeypatch.setenv("SEARCH_API_RATE", variable)
    with pytest.raises(SystemExit) as stopped:
        parse_args(argv)
    assert stopped.value.code == 2
    message = capsys.readouterr().err
    assert "un entier ≥\u00a0" in message and "est attendu (reçu «\u00a0" in message, message
    assert "SEARCH_API_RATE" in message or "SEARCH_API_BURST" in message


def test_one_worker_still_allows_one_export(tmp_path: Path):
    assert "limit_conn export_all 1;" in render_config(_settings(tmp_path, workers=1))


def test_nginx_accepts_the_rendered_config(tmp_path: Path):
    nginx = find_nginx()
    if nginx is None or find_headers_more() is None:
        pytest.fail("nginx or its headers-more module not found: `make nginx` (root).", pytrace=False)
    for name in TEMP_DIRS:
        (tmp_path / name).mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(render_config(_settings(tmp_path)), encoding="utf-8")
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(config), "-e", "stderr"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "warn" not in checked.stderr, checked.stderr


def test_a_missing_nginx_means_gunicorn_alone(tmp_path: Path):
    assert parse_args(["--nginx", str(tmp_path / "nginx"), "--port", "9"]).nginx is None


@pytest.mark.parametrize(("behind", "forwarded", "expected"), [
    (None, "203.0.113.9", 200),   # not behind a proxy: the header is anybody's, ignored
    ("1", "203.0.113.9", 403),    # behind it: the address nginx forwards decides
    ("1", "127.0.0.1", 200),
])  # fmt: skip
def test_stats_trust_forwarded_for_only_behind_the_proxy(
    index_root: Path, tmp_path: Path, behind: str | None, forwarded: str, expected: int
):
    config = {"SEARCH_INDEX_DIR": str(index_root), "SEARCH_LOG": False, "ANALYTICS_DB": str(tmp_path / "a.db")}
    app = create_app({**config, "BEHIND_PROXY": behind or False})
    response = app.test_client().get(
        "/stats", headers={"X-Forwarded-For": forwarded}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )
    assert response.status_code == expected


def test_behind_a_load_balancer_limits_apply_to_the_address_it_forwards(tmp_path: Path):
    settings = parse_args(["--trusted-proxy", "10.0.0.5", "--trusted-proxy", "10.1.0.0/16", "--run-dir", str(tmp_path)])
    config = render_config(settings)
    trusted = "set_real_ip_from 10.0.0.5;\n    set_real_ip_from 10.1.0.0/16;\n    real_ip_header X-Forwarded-For;"
    assert trusted in config
    assert "set_real_ip_from" not in render_config(_settings(tmp_path)), "facing clients: nobody is trusted"


def test_the_balancer_config_lists_each_replica_and_nginx_accepts_it(tmp_path: Path):
    config = render_balancer(["127.0.0.1:9001", "127.0.0.1:9002"], "127.0.0.1", 9000, tmp_path)
    assert "${" not in config
    assert "server 127.0.0.1:9001 max_fails=2 fail_timeout=5s;\n        server 127.0.0.1:9002" in config
    assert "proxy_next_upstream error timeout http_502 http_503 http_504;" in config
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in config
    with pytest.raises(ValueError, match="au moins une réplique"):
        render_balancer([], "127.0.0.1", 9000, tmp_path)
    nginx = find_nginx()
    if nginx is None:
        pytest.fail("nginx not found: `make nginx` installs it", pytrace=False)
    for name in TEMP_DIRS:
        (tmp_path / name).mkdir()
    (tmp_path / "balancer.conf").write_text(config, encoding="utf-8")
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "balancer.conf"), "-e", "stderr"],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_access_log_is_stdout_unless_a_log_directory_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SEARCH_LOG_DIR", raising=False)
    assert "access_log /dev/stdout combined;" in render_config(_settings(tmp_path))
    assert parse_args([]).log_dir is None and parse_args(["--log-dir", ""]).log_dir is None  # make run LOG_DIR=
    settings = parse_args(["--log-dir", str(tmp_path / "log"), "--log-max-bytes", "5000", "--log-backups", "2"])
    assert (settings.log_max_bytes, settings.log_backups) == (5000, 2)
    config = render_config(replace(settings, run_dir=tmp_path))
    assert f"access_log {(tmp_path / 'log').resolve()}/access.log combined;" in config
    assert settings.search_log == (tmp_path / "log").resolve() / "searches.jsonl"
    monkeypatch.setenv("SEARCH_LOG_DIR", str(tmp_path / "env-log"))
    assert parse_args([]).log_dir == tmp_path / "env-log"


@contextmanager
def _nginx_running(run_dir: Path, config: str) -> Iterator[int]:
    """nginx with ``config`` (its port first, as written in ``listen``), until the block ends; yields the port."""
    nginx = find_nginx()
    if nginx is None:
        pytest.fail("nginx not found: `make nginx` installs it", pytrace=False)
    for name in TEMP_DIRS:
        (run_dir / name).mkdir(exist_ok=True)
    port = int(config.split("listen 127.0.0.1:", 1)[1].split(";", 1)[0])
    (run_dir / "test.conf").write_text(config, encoding="utf-8")
    command = [nginx, "-p", str(run_dir), "-c", str(run_dir / "test.conf"), "-e", str(run_dir / "err")]
    process = subprocess.Popen(command)
    try:
        assert wait_for(lambda: _answers(port), timeout=10), (run_dir / "err").read_text()
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _get(port: int, path: str) -> tuple[int, str, str, str]:
    """Status, Retry-After, Content-Type and body of one GET."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode("utf-8")
        return response.status, response.getheader("Retry-After", ""), response.getheader("Content-Type", ""), body
    finally:
        connection.close()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_an_unreachable_app_gets_a_french_503_from_nginx_not_its_english_502(tmp_path: Path):
    """gunicorn's socket missing (stopped, restarting): pages and API answer a French 503 with Retry-After."""
    settings = replace(_settings(tmp_path, headers_more=find_headers_more()), port=free_port())  # no socket
    with _nginx_running(tmp_path, render_config(settings)) as port:
        for path, kind, text in (
            ("/?q=migrants", "text/html", "Service momentanément indisponible"),
            ("/api/search?q=migrants", "application/json", '"error": "Service momentanément indisponible'),
        ):
            status, retry, content_type, body = _get(port, path)
            assert (status, retry) == (503, "5") and content_type.startswith(kind) and text in body, body
            assert "nginx" not in body and "Bad Gateway" not in body


def test_the_balancer_with_no_replica_answering_gives_a_french_503(tmp_path: Path):
    down = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]  # nothing listens there
    with _nginx_running(tmp_path, render_balancer(down, "127.0.0.1", free_port(), tmp_path)) as port:
        for _ in range(5):  # the first tries, then while both replicas are marked failed
            status, retry, content_type, body = _get(port, "/api/search?q=migrants")
            assert (status, retry) == (503, "5") and content_type.startswith("application/json"), body
            assert "aucune réplique ne répond" in body
