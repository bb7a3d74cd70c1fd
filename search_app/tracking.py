"""What happens after each search: a log line, and an analytics event (first pages only); what /stats reads."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app

from search_app.analytics import Report, build_report
from search_app.analytics_faults import StoreUnavailable
from search_app.recorder import Recorder, RecorderStatus
from search_app.search import SearchPage
from search_app.search_log import log_search

logger = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class StatsPage:
    """What /stats shows: the report, or why the store cannot be read, and this worker's writer."""

    report: Report | None
    unavailable: str | None = None  # why the report could not be read (French, no file paths)
    writer: RecorderStatus | None = None

    @property
    def enabled(self) -> bool:
        """Whether analytics are on in this deployment."""
        return self.writer is not None

    @property
    def lost_events(self) -> int:
        """Events not recorded: those the store counts for the period, and this worker's not counted there yet."""
        recorded = self.report.lost_events if self.report else 0
        return recorded + (self.writer.unrecorded if self.writer else 0)


def stats_page(days: str) -> StatsPage:
    """The report for a period of 7, 30 (default) or 90 days, with the writer's state; analytics off: empty."""
    recorder = _recorder()
    if recorder is None:
        return StatsPage(None)
    period = int(days) if days in {str(d) for d in REPORT_PERIODS} else 30
    try:
        report = build_report(recorder.path, days=period)
    except StoreUnavailable as error:
        logger.warning("analytics report unavailable: %s", error.full())
        return StatsPage(None, str(error), recorder.status())
    return StatsPage(report, None, recorder.status())
