"""The searches-per-day chart of /stats as data: bars, day labels and gridlines in SVG coordinates.

Every day of the period has a bar (a day without searches is a bar of height 0, so the axis
reads as a calendar); at most ``MAX_DAY_LABELS`` days are labelled (« 1 déc. »), always the last;
the y axis has gridlines at round values (1, 2 or 5 × 10ⁿ) up to the peak or just above it.
The template draws it with SVG attributes only (the CSP forbids inline styles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

WIDTH, HEIGHT = 640, 240
#: Room for the axis title (top), the gridline values (left) and the day labels (bottom).
TOP, LEFT, RIGHT, BOTTOM = 34, 48, 28, 32
MAX_DAY_LABELS = 6
MAX_GRIDLINES = 5
MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")


@dataclass(frozen=True)
class DayBar:
    """One day: its bar (SVG coordinates) and its label."""

    day: date
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float

    @property
    def centre(self) -> float:
        """Where the day's label goes."""
        return self.x + self.width / 2


@dataclass(frozen=True)
class Gridline:
    """A horizontal line at a round value of the y axis."""

    value: int
    y: float


@dataclass(frozen=True)
class DayChart:
    """Everything the template draws."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float  # the y of the x axis
    bars: list[DayBar]
    labelled: list[DayBar]
    gridlines: list[Gridline]


def french_day(day: date) -> str:
    """« 1 déc. », with a no-break space (a label never splits).

    >>> french_day(date(2026, 12, 1))
    '1\\xa0déc.'
    """
    return f"{day.day}\u00a0{MONTHS[day.month - 1]}"


def grid_step(peak: int) -> int:
    """The round step (1, 2 or 5 × 10ⁿ) giving at most ``MAX_GRIDLINES`` lines up to ``peak``.

    >>> [grid_step(n) for n in (1, 4, 7, 12, 48, 260)]
    [1, 1, 2, 5, 10, 100]
    """
    step = 1
    while math.ceil(peak / step) > MAX_GRIDLINES:
        magnitude, leading = 10 ** int(math.log10(step)), step // 10 ** int(math.log10(step))
        step = {1: 2, 2: 5, 5: 10}[leading] * magnitude
    return step


def day_chart(per_day: list[tuple[str, int]], days: int, today: date) -> DayChart | None:
    """The chart of the ``days`` days ending ``today`` from ``(ISO day, searches)`` rows; None without searches."""
    counts = {date.fromisoformat(day): count for day, count in per_day}
    if not any(counts.values()):
        return None
    calendar = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    step = grid_step(max(counts.values()))
    top_value = step * math.ceil(max(counts.values()) / step)
    bottom, plot_height = HEIGHT - BOTTOM, HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - RIGHT) / len(calendar)
    bars = []
    for index, day in enumerate(calendar):
        count = counts.get(day, 0)
        height = plot_height * count / top_value
        bars.append(DayBar(day, french_day(day), count, LEFT + index * slot + slot * 0.15, bottom - height,
                           slot * 0.7, height))
    every = math.ceil(len(bars) / MAX_DAY_LABELS)
    labelled = bars[len(bars) - 1 :: -every][::-1]
    gridlines = [Gridline(value, bottom - plot_height * value / top_value) for value in range(0, top_value + 1, step)]
    return DayChart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, TOP, bottom, bars, labelled, gridlines)
