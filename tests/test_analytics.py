"""Search analytics: recorded off the request path, reported on /stats and by `flask report`."""

from __future__ import annotations

import doctest
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from search_app import analytics, create_app, day_chart, recorder
from search_app.analytics import build_report, connect, query_key, typed_form
from search_app.day_chart import french_day
from search_app.recorder import Recorder
from tests.paths import ROOT


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
    assert rows == [("réintégration", "{}", 6), ("reintegration", '{"country": ["mali"]}', 1), ("zzzzqqq", "{}", 0)]
    typed = [row[0] for row in connection.execute("SELECT typed FROM searches ORDER BY id")]
    assert typed == ["Réintégration", "reintegration", "zzzzqqq"]
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
    monkeypatch.setattr(recorder, "QUEUE_SIZE", 2)
    writer = Recorder(tmp_path / "sub" / "a.db", 90)
    monkeypatch.setattr(writer, "_ensure_thread", lambda: None)  # no writer: the queue fills up
    for _ in range(5):
        writer.record_search("x", {}, 1, 1.0)
    assert writer.dropped == 3


def test_retention_purges_old_events(tmp_path):
    from search_app.analytics import connect, purge

    connection = connect(tmp_path / "new" / "a.db")
    connection.execute(
        "INSERT INTO searches (at, day, query, filters, total, ms) VALUES ('', '2000-01-01', 'x', '{}', 1, 1)"
    )
    connection.commit()
    purge(connection, 30)
    assert connection.execute("SELECT COUNT(*) FROM searches").fetchone()[0] == 0


def test_queries_are_kept_as_typed_and_keyed_up_to_case_and_apostrophes():
    assert typed_form("  Réintégration   PSYCHOSOCIALE ") == "Réintégration PSYCHOSOCIALE"
    assert query_key("  Réintégration   PSYCHOSOCIALE ") == "réintégration psychosociale"
    assert query_key("L’OIM") == query_key("l'oim") == query_key("lʼOIM")
    assert query_key("sûr") != query_key("sur") and query_key("où") != query_key("ou")
    assert query_key("e\u0301te\u0301") == query_key("été")  # combining accents: one written form


def test_docstring_examples():
    for module in (analytics, day_chart, recorder):
        assert doctest.testmod(module).failed == 0


def test_report_groups_by_typed_form_shown_as_most_frequent(tracked):
    _, client, recorder = tracked
    for query in ("sûr", "sur", "sur", "Libye", "libye", "Libye", " Libye  ", "zzz QQQ", "ZZZ qqq"):
        client.get("/api/search", query_string={"q": query})
    recorder.flush()
    report = build_report(recorder.path)
    # Ties by code point: « ZZZ » before « sur » before « sûr ».
    assert report.top_queries == [("Libye", 4), ("ZZZ qqq", 2), ("sur", 2), ("sûr", 1)]
    assert dict(report.zero_result_queries) == {"ZZZ qqq": 2}  # tie of forms: the first in code point order


OLD_SCHEMA = """
CREATE TABLE searches (id INTEGER PRIMARY KEY, at TEXT NOT NULL, day TEXT NOT NULL, query TEXT NOT NULL,
    filters TEXT NOT NULL, total INTEGER NOT NULL, ms REAL NOT NULL);
CREATE TABLE clicks (id INTEGER PRIMARY KEY, at TEXT NOT NULL, day TEXT NOT NULL, query TEXT NOT NULL,
    programme_id TEXT NOT NULL);
"""


def test_a_database_from_before_typed_queries_keeps_working(index_root: Path, tmp_path: Path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    today = datetime.now(UTC).date().isoformat()
    old.executemany(
        "INSERT INTO searches (at, day, query, filters, total, ms) VALUES ('', ?, ?, '{}', ?, 1.5)",
        [(today, "reintegration", 6), (today, "reintegration", 6), (today, "zzz", 0)],
    )
    old.execute("INSERT INTO clicks (at, day, query, programme_id) VALUES ('', ?, 'reintegration', 'x')", (today,))
    old.commit()
    old.close()

    report = build_report(path)
    assert report.top_queries == [("reintegration", 2), ("zzz", 1)]
    assert report.zero_result_queries == [("zzz", 1)] and report.no_click_queries == []
    connection = connect(path)
    assert [row[0] for row in connection.execute("SELECT typed FROM searches ORDER BY id")] == [
        "reintegration", "reintegration", "zzz"]
    connect(path).close()  # a second opening finds the column there: nothing to do
    connection.close()

    app = create_app({"SEARCH_INDEX_DIR": str(index_root), "SEARCH_LOG": False, "ANALYTICS_DB": str(path)})
    app.test_client().get("/api/search?q=Réintégration")
    app.extensions["analytics"].flush()
    assert ("Réintégration", 1) in build_report(path).top_queries


def test_stats_page_chart_has_axes_days_and_queries_as_typed(tracked):
    _, client, recorder = tracked
    for query in ("sûr", "sur", "Libye", "libye", "Libye"):
        client.get("/", query_string={"q": query})
    recorder.flush()
    response = client.get("/stats")
    html = response.get_data(as_text=True)
    page = BeautifulSoup(html, "html.parser")
    chart = page.select_one("svg.chart")
    assert chart.select_one("text.axis-title").get_text() == "Recherches par jour"
    assert [t.get_text() for t in chart.select("text.tick")] == ["0", "1", "2", "3", "4", "5"]
    today = datetime.now(UTC).date()
    days = [t.get_text() for t in chart.select("text.day")]
    assert days[-1] == french_day(today) and 2 <= len(days) <= 6
    assert len(chart.select("rect")) == 30  # every day of the period, searched or not
    assert chart.select("rect title")[-1].get_text() == f"{french_day(today)}\u00a0: 5 recherches"
    assert "style=" not in str(chart)
    top = page.find("h2", string="Requêtes les plus fréquentes").find_next("table")
    rows = [[td.get_text() for td in tr.select("td")] for tr in top.select("tbody tr")]
    assert rows == [["Libye", "3"], ["sur", "1"], ["sûr", "1"]]
    assert top.select_one("a")["href"] == "/?q=Libye"


def test_day_chart_has_every_day_round_gridlines_and_french_labels():
    today = date(2026, 12, 2)
    chart = day_chart.day_chart([("2026-11-30", 3), ("2026-12-02", 12)], 7, today)
    assert chart is not None
    assert [bar.day for bar in chart.bars] == [today - timedelta(days=n) for n in range(6, -1, -1)]
    assert [bar.count for bar in chart.bars] == [0, 0, 0, 0, 3, 0, 12]
    assert [line.value for line in chart.gridlines] == [0, 5, 10, 15]
    assert chart.gridlines[0].y == chart.bottom and chart.gridlines[-1].y == chart.top
    assert [bar.label for bar in chart.labelled] == ["26\u00a0nov.", "28\u00a0nov.", "30\u00a0nov.", "2\u00a0déc."]
    peak = chart.bars[-1]
    assert peak.y + peak.height == chart.bottom and peak.height == pytest.approx((chart.bottom - chart.top) * 12 / 15)
    assert day_chart.day_chart([], 30, today) is None


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


REPLICA_A = [("Libye", 3, 12.0), ("Libye", 3, 14.0), ("sûr", 0, 9.0), ("migrants", 6, 30.0)]
REPLICA_B = [("libye", 3, 11.0), ("libye", 3, 13.0), ("libye", 3, 40.0), ("sur", 0, 8.0), ("zzz", 0, 5.0)]


def _replica(path: Path, searches: list[tuple[str, int, float]], clicks: list[str]) -> Path:
    """A store written by a real recorder (fixed latencies, so that reports can be compared line for line)."""
    writer = Recorder(path, 90)
    for text, total, ms in searches:
        writer.record_search(text, {}, total, ms)
    for text in clicks:
        writer.record_click(text, "afghanistan-rada")
    assert writer.flush()
    return path


def test_report_command_adds_up_the_stores_of_several_replicas(tracked, tmp_path):
    app = tracked[0]
    a = _replica(tmp_path / "a.sqlite3", REPLICA_A, ["libye"])
    b = _replica(tmp_path / "b.sqlite3", REPLICA_B, [])
    together = _replica(tmp_path / "together.sqlite3", REPLICA_A + REPLICA_B, ["libye"])
    runner = app.test_cli_runner()

    merged = runner.invoke(args=["report", "--db", str(a), "--db", str(b)])
    single = runner.invoke(args=["report", "--db", str(together)])
    assert merged.exit_code == single.exit_code == 0
    head, *body = merged.output.splitlines()
    assert head == f"9 recherches sur 30 jours ({a}, {b})"
    assert body == single.output.splitlines()[1:]  # exactly the report of one store holding every event
    assert "       5  libye" in body  # « Libye » 2 + « libye » 3: one query, shown as most often typed
    no_click = body[body.index("Requêtes sans clic") + 1 : body.index("Recherches par jour") - 1]
    assert no_click == ["       1  migrants"]  # the click on replica A counts for replica B's « libye »
    assert "       2  Libye" in runner.invoke(args=["report", "--db", str(a)]).output
    assert build_report(a, b, a) == build_report(together)  # a store named twice counts once


def test_report_command_says_which_store_it_cannot_read(tracked, tmp_path):
    app = tracked[0]
    good = _replica(tmp_path / "a.sqlite3", REPLICA_A, [])
    damaged = tmp_path / "b.sqlite3"
    damaged.write_bytes(b"not a database" * 100)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["report", "--db", str(good), "--db", str(damaged)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    expected = f"statistiques illisibles\u00a0: le fichier est endommagé ({damaged}: file is not a database)"
    assert expected in result.output
    missing = runner.invoke(args=["report", "--db", str(tmp_path / "none.sqlite3")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_searches_close_together_are_written_in_one_transaction(tmp_path, monkeypatch):
    batches: list[int] = []
    write = recorder.write_events

    def counted(connection, events, lost=0):
        batches.append(len(events))
        write(connection, events, lost)

    monkeypatch.setattr(recorder, "write_events", counted)
    writer = Recorder(tmp_path / "a.db", 90, gather=0.5)  # wide, for a loaded machine (0.2 s deployed)
    for number in range(5):
        writer.record_search(f"q{number}", {}, 1, 1.0)
        time.sleep(0.01)  # each event would be written alone without the wait
    assert writer.flush()
    assert batches == [5]


def test_a_process_exiting_writes_what_it_queued(tmp_path):
    script = (
        "import sys; from pathlib import Path; from search_app.recorder import Recorder\n"
        "writer = Recorder(Path(sys.argv[1]), 90)\n"
        "for n in range(3): writer.record_search(f'q{n}', {}, 1, 1.0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "a.db")], check=True, cwd=ROOT, timeout=60)
    assert sqlite3.connect(tmp_path / "a.db").execute("SELECT COUNT(*) FROM searches").fetchone()[0] == 3
