"""Paired ratios: each round's figure for one scenario ÷ the reference's in the same round, summarised.

Rounds interleave the scenarios (A B C A B C …, another order each round), so a slow moment of a shared
machine slows the blocks of one round alike and cancels in that round's ratio. Rounds come in sessions (fresh
processes each): two processes running the same code can differ by a few percent for as long as they live
(memory layout), which more rounds in the same processes would not show. The summary is the median of every
per-round ratio with a two-level percentile bootstrap interval: sessions resampled with replacement, then
rounds within each, so the interval holds the differences between sessions as well as between rounds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from benchmarks.stats import median, percentile

RESAMPLES = 2000


@dataclass(frozen=True)
class Paired:
    """The median of per-round ratios, its bootstrap interval, and how many rounds and sessions it rests on."""

    median: float
    low: float
    high: float
    rounds: int
    per_session: tuple[float, ...]  # the median ratio of each session

    def as_dict(self) -> dict[str, object]:
        return {"median": self.median, "low": self.low, "high": self.high, "rounds": self.rounds,
                "per_session": list(self.per_session)}


def round_ratios(blocks: list[list[float]], reference: list[list[float]]) -> list[float]:
    """Per round, the median of ``blocks[r]`` ÷ the median of ``reference[r]``.

    >>> round_ratios([[2.0, 4.0]], [[1.0, 3.0]])
    [1.5]
    """
    return [median(block) / median(base) for block, base in zip(blocks, reference, strict=True)]


def summarise(sessions: list[list[float]], seed: int = 0, level: float = 0.95) -> Paired:
    """The median of the per-round ratios of every session and the ``level`` bootstrap interval of that median."""
    chooser = random.Random(seed)
    medians = []
    for _ in range(RESAMPLES):
        picked = chooser.choices(sessions, k=len(sessions))
        medians.append(median([ratio for rounds in picked for ratio in chooser.choices(rounds, k=len(rounds))]))
    tail, pooled = (1 - level) / 2, [ratio for rounds in sessions for ratio in rounds]
    return Paired(median(pooled), percentile(medians, tail), percentile(medians, 1 - tail), len(pooled),
                  tuple(median(rounds) for rounds in sessions))
