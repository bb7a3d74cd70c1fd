"""Deterministic generation of N programme records from real French text.

Record ``i`` depends only on the seed, ``i`` and the text source, so the 10k corpus starts
with the 1k corpus and queries drawn from the first records are valid at every size.
Facet values are the real corpus's: countries follow a Zipf law (rank by how often the
real corpus names them), the region is the one the real corpus gives the first country,
a record names 1 to 12 countries (mostly one), statuses are skewed towards « Activités
achevées ». Description plus objectives weigh 1.5–4 KB (UTF-8), like the real records.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import HARNESS_VERSION
from benchmarks.log import log
from benchmarks.textsource import TextSource
from indexer.corpus import load_corpus, render_record
from indexer.records import ObjectiveItem, Programme

ROOT = Path(__file__).resolve().parent.parent
REAL_CORPUS = ROOT / "corpus" / "programmes"
ACRONYMS = ROOT / "corpus" / "acronyms.txt"
STAMP_NAME = ".bench-corpus.json"
ZIPF_EXPONENT = 1.07
MIN_BYTES, MAX_BYTES = 1500, 4000
COUNTRY_COUNTS = {1: 55, 2: 15, 3: 10, 4: 7, 5: 5, 7: 4, 12: 4}
STATUS_WEIGHTS = {"Activités achevées": 0.65, "En cours": 0.35}
SECTIONS = ("Objectif global", "Objectif spécifique", "Piliers d’action", "Domaines de résultat", "Résultats attendus")
NOTE_SHARE = 0.1


@dataclass(frozen=True)
class FacetModel:
    """Facet values of the real corpus and the weights records are drawn with."""

    countries: tuple[str, ...]  # by decreasing real frequency, then name
    weights: tuple[float, ...]  # Zipf weights, same order
    region_of: dict[str, str]
    statuses: tuple[str, ...]


def facet_model(real_corpus: Path = REAL_CORPUS) -> FacetModel:
    """Regions, countries and statuses of the real records, with Zipf weights over countries."""
    programmes = load_corpus(real_corpus)
    frequency = Counter(c for p in programmes for c in p.countries)
    region_of: dict[str, str] = {}
    for programme in programmes:
        for country in programme.countries:
            region_of.setdefault(country, programme.region)
    countries = tuple(sorted(frequency, key=lambda c: (-frequency[c], c)))
    weights = tuple(1 / (rank + 1) ** ZIPF_EXPONENT for rank in range(len(countries)))
    statuses = tuple(sorted({p.status for p in programmes}))
    return FacetModel(countries, weights, region_of, statuses)


def _sentences(rng: random.Random, source: TextSource, count: int) -> str:
    passage = rng.choice(source.passages)
    parts = [s for s in passage.split(". ") if s]
    start = rng.randrange(len(parts))
    text = ". ".join(parts[start : start + count]).strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def make_record(index: int, seed: int, source: TextSource, model: FacetModel) -> Programme:
    """The ``index``-th generated record (a pure function of its arguments)."""
    rng = random.Random(f"{seed}:{index}")
    first = rng.choices(model.countries, model.weights)[0]
    region = model.region_of[first]
    same_region = [(c, w) for c, w in zip(model.countries, model.weights, strict=True) if model.region_of[c] == region]
    wanted = min(rng.choices(list(COUNTRY_COUNTS), list(COUNTRY_COUNTS.values()))[0], len(same_region))
    countries = [first]
    while len(countries) < wanted:
        country = rng.choices([c for c, _ in same_region], [w for _, w in same_region])[0]
        if country not in countries:
            countries.append(country)
    budget = rng.randint(MIN_BYTES, MAX_BYTES)
    objectives: list[ObjectiveItem] = []
    for _ in range(rng.randint(2, 6)):
        objectives.append(ObjectiveItem(section=rng.choice(SECTIONS), text=_sentences(rng, source, rng.randint(1, 2))))
    used = sum(len(o.full_text().encode()) + 1 for o in objectives)
    description: list[str] = []
    while used < budget or not description:
        passage = rng.choice(source.passages)
        room = budget - used
        if description and len(passage.encode()) > room:
            passage = passage[: max(room, 120)].rsplit(" ", 1)[0] + "."
        description.append(passage)
        used += len(passage.encode()) + 2
    notes = (_sentences(rng, source, 1),) if rng.random() < NOTE_SHARE else ()
    statuses = [s for s in STATUS_WEIGHTS if s in model.statuses] or list(model.statuses)
    status = rng.choices(statuses, [STATUS_WEIGHTS.get(s, 1.0) for s in statuses])[0]
    return Programme(
        id=f"bench-{index:06d}",
        title=f"{first} — {rng.choice(source.phrases)}",
        region=region,
        countries=tuple(countries),
        status=status,
        description=tuple(description),
        objectives=tuple(objectives),
        notes=notes,
        source=f"benchmarks/{source.name}",
    )


def _stamp(size: int, seed: int, source: TextSource, model: FacetModel) -> dict[str, object]:
    text = "\n".join((*source.passages, *source.phrases, *model.countries, *model.statuses))
    return {
        "harness": HARNESS_VERSION,
        "size": size,
        "seed": seed,
        "source": source.name,
        "source_version": source.version,
        "digest": hashlib.sha256(text.encode()).hexdigest()[:16],
    }


def generate_corpus(
    directory: Path,
    size: int,
    seed: int,
    source: TextSource,
    progress: Callable[[int, int], None] | None = None,
) -> bool:
    """Write ``size`` record files into ``directory``; return False when the cache was already valid."""
    model = facet_model()
    stamp = _stamp(size, seed, source, model)
    stamp_path = directory / STAMP_NAME
    cached = stamp_path.exists() and json.loads(stamp_path.read_text(encoding="utf-8")) == stamp
    if cached and sum(1 for _ in directory.glob("*.md")) == size:
        return False
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    for index in range(size):
        record = make_record(index, seed, source, model)
        (directory / f"{record.id}.md").write_text(render_record(record), encoding="utf-8")
        if progress and ((index + 1) % max(1, size // 10) == 0 or index + 1 == size):
            progress(index + 1, size)
    stamp_path.write_text(json.dumps(stamp), encoding="utf-8")
    return True


def corpus_bytes(directory: Path) -> int:
    """Total size of the record files (for MB/s)."""
    return sum(path.stat().st_size for path in directory.glob("*.md"))


def ensure_corpus(root: Path, size: int, seed: int, source: TextSource) -> Path:
    """``root/corpus-<size>``, generated unless already cached with the same seed and version."""
    directory = root / f"corpus-{size}"
    if generate_corpus(directory, size, seed, source, _progress(size)):
        log(f"corpus-{size}: generated {size:,} records ({corpus_bytes(directory) / 1e6:.1f} MB) in {directory}")
    else:
        log(f"corpus-{size}: cached in {directory} (same seed and harness version)")
    return directory


def _progress(size: int) -> Callable[[int, int], None] | None:
    if size < 5000:
        return None
    return lambda done, total: log(f"generating corpus-{total}: {done:,}/{total:,} records")
