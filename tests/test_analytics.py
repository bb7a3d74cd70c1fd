"""Search analytics: recorded off the request path, reported on /stats and by `flask report`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from search_app import create_app
from search_app.analytics import Recorder, build_report, normalise_query


@pytest.fixture()
def tracked(index_root: Path, tmp_path: Path):
    app = create_app({"SEARCH_INDEX_DIR": str(index_root), "SEARCH_LOG": False, "ANALYTICS_DB": str(tmp_path / "a.db")})
    return app, app.test_client(), app.extensions["analytics"]


def test_searches_and_clicks_are_recorded_without_personal_data(tracked, tmp_path):
    _, client, recorder = tracked
    client.get("/?q=Réintégration")
    client.get("/api/search?q=reintegration&country=Mali")
    client.get("/?q=reintegration&page=2")  # pagination is not a new search
    client.get("/?q=zzzzqqq")
    client.get("/programmes/afghanistan-rada?q=reintegration", headers={"Cookie": "a=b"})
    recorder.flush()
    connection = sqlite3.connect(tmp_path / "a.db")
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    rows = connection.execute("SELECT query, filters, total FROM searches ORDER BY id").fetchall()
    assert rows == [("reintegration", "{}", 6), ("reintegration", '{"country": ["mali"]}', 1), ("zzzzqqq", "{}", 0)]
    columns = {row[1] for row in connection.execute("PRAGMA table_info(searches)")}
    assert not columns & {"ip", "remote_addr", "cookie", "user_agent"}
    clicks = connection.execute("SELECT query, programme_id FROM clicks").fetchall()
    assert clicks == [("reintegration", "afghanistan-rada")]


def test_report_lists_top_zero_result_and_no_click_queries(tracked):
    _, client, recorder = tracked
    for query in ("libye", "libye", "migrants", "zzzzqqq"):
        client.get(f"/api/search?q={query}")
    client.get("/programmes/moyen-orient-et-afrique-du-nord-initiative-conjointe?q=libye")
    recorder.flush()
    report = build_report(recorder.path)
    assert report.searches == 4
    assert report.top_queries[0] == ("libye", 2)
    assert report.zero_result_queries == [("zzzzqqq", 1)]
    assert report.no_click_queries == [("migrants", 1)]
    assert report.latency_ms["p50"] > 0 and len(report.per_day) == 1


def test_stats_page_shows_the_report_with_a_chart(tracked):
    _, client, recorder = tracked
    client.get("/?q=<script>alert(1)</script>")
    recorder.flush()
    response = client.get("/stats")
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert response.status_code == 200
    assert page.select_one("svg.chart rect") is not None and page.select_one("svg.chart title")
    assert "<script>alert" not in response.get_data(as_text=True)
    assert client.post("/stats").status_code == 405


def test_report_command(tracked):
    app, client, recorder = tracked
    client.get("/?q=libye")
    recorder.flush()
    result = app.test_cli_runner().invoke(args=["report", "--days", "7"])
    assert result.exit_code == 0
    assert "1 recherches sur 7 jours" in result.output and "libye" in result.output


def test_a_full_queue_drops_events_instead_of_blocking(tmp_path, monkeypatch):
    import search_app.analytics as analytics

    monkeypatch.setattr(analytics, "QUEUE_SIZE", 2)
    recorder = Recorder(tmp_path / "sub" / "a.db", 90)
    monkeypatch.setattr(recorder, "_ensure_thread", lambda: None)  # no writer: the queue fills up
    for _ in range(5):
        recorder.record_search("x", {}, 1, 1.0)
    assert recorder.dropped == 3


def test_retention_purges_old_events(tmp_path):
    from search_app.analytics import connect, purge

    connection = connect(tmp_path / "new" / "a.db")
    connection.execute(
        "INSERT INTO searches (at, day, query, filters, total, ms) VALUES ('', '2000-01-01', 'x', '{}', 1, 1)"
    )
    connection.commit()
    purge(connection, 30)
    assert connection.execute("SELECT COUNT(*) FROM searches").fetchone()[0] == 0


def test_normalised_query():
    assert normalise_query("  Réintégration   PSYCHOSOCIALE ") == "reintegration psychosociale"


def test_stats_are_for_this_machine_only_without_a_token(tracked):
    _, client, _ = tracked
    assert client.get("/stats").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/stats", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    remote = client.get("/stats", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert remote.status_code == 403
    assert "Accès refusé" in remote.get_data(as_text=True) and "<table" not in remote.get_data(as_text=True)


def test_stats_with_a_token_ask_for_it_from_every_client(tracked):
    app, client, _ = tracked
    app.config["STATS_TOKEN"] = "s3cret-jeton"
    for environ in ({}, {"REMOTE_ADDR": "203.0.113.7"}):
        missing = client.get("/stats", environ_base=environ)
        assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Basic")
        assert "Identification requise" in missing.get_data(as_text=True)
        wrong = client.get("/stats", environ_base=environ, auth=("responsable", "autre"))
        assert wrong.status_code == 401
        right = client.get("/stats", environ_base=environ, auth=("responsable", "s3cret-jeton"))
        assert right.status_code == 200
