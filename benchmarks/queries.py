"""The fixed query mix, drawn deterministically from the generated corpus's own text.

Drawn from the first :data:`QUERY_SOURCE_RECORDS` records (the same at every corpus size,
since record ``i`` does not depend on N), with a fixed seed:

* ``broad``: one frequent word (in 10 % of records or more);
* ``narrow``: one rare word (2 to 5 of the first records);
* ``two`` / ``three``: two or three content words from one sentence (AND, OR fallback);
* ``phrase``: a quoted run of 2–3 consecutive words;
* ``typo``: a long word with one edit (deletion, swap or substitution);
* ``noaccent``: the accent-less form of every query above that has accents;
* ``filtered``: some of the above with region, country and/or status filters;
* ``browse``: no text, only filters.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from unidecode import unidecode

from indexer.analysis import FRENCH_STOP_WORDS
from indexer.records import Programme

QUERY_SOURCE_RECORDS = 1000
KIND_COUNTS = {"broad": 35, "narrow": 35, "two": 30, "three": 20, "phrase": 25, "typo": 10}
FILTERED = 40
BROWSE = 4
MAX_ATTEMPTS = 10_000
_WORD_RE = re.compile(r"[^\W\d_]{3,}")
_SENTENCE_RE = re.compile(r"(?<=[.!?;:])\s+")


@dataclass(frozen=True)
class BenchQuery:
    """One query of the mix: text, facet filters (values as written in the corpus), kind."""

    text: str
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    kind: str = "broad"
    accented: int | None = None  # for ``noaccent`` queries: index of the accented original


def _content(word: str) -> bool:
    return unidecode(word).lower() not in FRENCH_STOP_WORDS and word.isalpha() and not word.isupper()


def _sentences(programmes: list[Programme]) -> list[str]:
    texts = [t for p in programmes for t in (*p.description, *(o.text for o in p.objectives))]
    return [s for t in texts for s in _SENTENCE_RE.split(t) if len(s) > 30]


def _typo(rng: random.Random, word: str) -> str:
    at = rng.randrange(1, len(word) - 2)
    edit = rng.choice(("delete", "swap", "substitute"))
    if edit == "delete":
        return word[:at] + word[at + 1 :]
    if edit == "swap":
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    letter = rng.choice([c for c in "aeioulnrst" if c != word[at]])
    return word[:at] + letter + word[at + 1 :]


def _pick_words(rng: random.Random, sentences: list[str], count: int, frequent: set[str]) -> str:
    for _ in range(MAX_ATTEMPTS):
        words = [w for w in _WORD_RE.findall(rng.choice(sentences)) if _content(w) and w.lower() in frequent]
        unique = list(dict.fromkeys(words))
        if len(unique) >= count:
            start = rng.randrange(len(unique) - count + 1)
            return " ".join(unique[start : start + count])
    return " ".join(_WORD_RE.findall(rng.choice(sentences))[:count])


def _phrase(rng: random.Random, sentences: list[str]) -> str:
    for _ in range(MAX_ATTEMPTS):
        words = rng.choice(sentences).split()
        length = rng.choice((2, 3))
        if len(words) <= length:
            continue
        start = rng.randrange(len(words) - length + 1)
        run = [w.strip(".,;:()«»\"'!?") for w in words[start : start + length]]
        if all(_WORD_RE.fullmatch(w) for w in run) and _content(run[0]) and _content(run[-1]):
            return '"' + " ".join(run) + '"'
    return '"' + " ".join(rng.choice(sentences).split()[:2]) + '"'


def _filters(rng: random.Random, programmes: list[Programme]) -> dict[str, tuple[str, ...]]:
    record = rng.choice(programmes)
    choice = rng.choice(("region", "region", "country", "country", "status", "region+status", "country+country"))
    if choice == "region":
        return {"region": (record.region,)}
    if choice == "country":
        return {"country": (record.countries[0],)}
    if choice == "status":
        return {"status": (record.status,)}
    if choice == "region+status":
        return {"region": (record.region,), "status": (record.status,)}
    other = rng.choice(programmes).countries[0]
    return {"country": tuple(dict.fromkeys((record.countries[0], other)))}


def make_queries(programmes: list[Programme], seed: int) -> list[BenchQuery]:
    """The query mix for a corpus (only its first QUERY_SOURCE_RECORDS records are read)."""
    rng = random.Random(f"queries:{seed}")
    sample = programmes[:QUERY_SOURCE_RECORDS]
    sentences = _sentences(sample)
    document_frequency: Counter[str] = Counter()
    surface: dict[str, Counter[str]] = {}
    for programme in sample:
        words = set(_WORD_RE.findall(f"{programme.description_text} {programme.objectives_text}"))
        for word in words:
            if _content(word):
                document_frequency[word.lower()] += 1
                surface.setdefault(word.lower(), Counter())[word] += 1
    ranked = sorted(document_frequency, key=lambda w: (-document_frequency[w], w))
    threshold = max(2, len(sample) // 10)
    broad = [w for w in ranked if document_frequency[w] >= threshold][:300] or ranked[:50]
    narrow = [w for w in ranked if 2 <= document_frequency[w] <= 5] or ranked[-50:]
    frequent = {w for w in ranked if document_frequency[w] >= 2}
    long_words = [w for w in ranked[:2000] if len(w) >= 7]
    queries: list[BenchQuery] = []
    for kind, count in KIND_COUNTS.items():
        for _ in range(count):
            if kind == "broad":
                text = surface[rng.choice(broad)].most_common(1)[0][0]
            elif kind == "narrow":
                text = surface[rng.choice(narrow)].most_common(1)[0][0]
            elif kind in ("two", "three"):
                text = _pick_words(rng, sentences, 2 if kind == "two" else 3, frequent)
            elif kind == "phrase":
                text = _phrase(rng, sentences)
            else:
                text = _typo(rng, rng.choice(long_words))
            queries.append(BenchQuery(text=text, kind=kind))
    base = list(queries)
    for position, query in enumerate(base):
        if unidecode(query.text) != query.text:
            queries.append(BenchQuery(text=unidecode(query.text), kind="noaccent", accented=position))
    for query in rng.sample(base, min(FILTERED, len(base))):
        queries.append(BenchQuery(text=query.text, filters=_filters(rng, sample), kind="filtered"))
    for _ in range(BROWSE):
        queries.append(BenchQuery(text="", filters=_filters(rng, sample), kind="browse"))
    return queries


def save_queries(queries: list[BenchQuery], path: Path) -> None:
    """Write the mix as JSON (for the record, and for the measurement processes)."""
    path.write_text(json.dumps([asdict(q) for q in queries], ensure_ascii=False, indent=1), encoding="utf-8")


def load_queries(path: Path) -> list[BenchQuery]:
    """Read a mix written by :func:`save_queries`."""
    items = json.loads(path.read_text(encoding="utf-8"))
    return [
        BenchQuery(
            text=item["text"],
            filters={k: tuple(v) for k, v in item["filters"].items()},
            kind=item["kind"],
            accented=item["accented"],
        )
        for item in items
    ]
