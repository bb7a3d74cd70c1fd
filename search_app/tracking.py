"""What happens after each search: a log line, and an analytics event (first pages only)."""

from __future__ import annotations

from flask import current_app

from search_app.analytics import Recorder, Report, build_report
from search_app.search import SearchPage
from search_app.search_log import log_search


def _recorder() -> Recorder | None:
    return current_app.extensions.get("analytics")


def track_search(page: SearchPage, endpoint: str) -> None:
    """Log the search; record it for analytics when it is a first page (not pagination)."""
    log_search(page, endpoint)
    recorder = _recorder()
    if recorder is not None and page.request.page == 1:
        recorder.record_search(page.request.text, page.selected, page.total, page.elapsed_ms)


def track_click(text: str, programme_id: str) -> None:
    """Record that a result was opened from a search for ``text``."""
    recorder = _recorder()
    if recorder is not None and text.strip():
        recorder.record_click(text, programme_id)


REPORT_PERIODS = (7, 30, 90)


def analytics_report(days: str) -> Report | None:
    """The report for a period of 7, 30 (default) or 90 days; None when analytics are off."""
    recorder = _recorder()
    if recorder is None:
        return None
    period = int(days) if days in {str(d) for d in REPORT_PERIODS} else 30
    return build_report(recorder.path, period)
