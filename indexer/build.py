"""Build an index generation from the corpus and switch to it atomically.

1. load and validate the corpus (nothing on disk is touched if it is invalid);
2. skip when the live generation has the same fingerprint (unless forced);
3. write a new generation into a hidden temporary directory next to the live one;
4. verify it (document count, every id findable, metadata), then rename it
   and replace the ``CURRENT`` pointer atomically;
5. delete generations older than the previous one.
A failure at any step leaves the live generation exactly as it was.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.query import Term

from indexer.analysis import ANALYZER_VERSION, fold, fold_term, french_analyzer, french_words, protected_terms
from indexer.corpus import CorpusError, CorpusProblem, load_corpus
from indexer.geography import codes_file_for, country_codes, load_gazetteer
from indexer.parallel import map_chunks
from indexer.records import Programme
from indexer.schema import CONTENT_FIELD, FACET_FIELDS, SCHEMA_VERSION, build_schema, content_segments
from indexer.slugs import slugify
from indexer.store import (
    GENERATION_PREFIX,
    META_NAME,
    SYNONYMS_FILE,
    TITLES_NAME,
    VOCABULARY_NAME,
    current_generation_name,
    generation_names,
    read_generation,
    switch_to,
)
from indexer.vocabularies import load_synonyms, load_themes, themes_of

Progress = Callable[[int, int], None]
ACRONYMS_NAME = "acronyms.txt"
SYNONYMS_NAME = "synonyms.yaml"
THEMES_NAME = "themes.yaml"
#: Ids looked up one by one after a build (evenly spread; the count check covers the rest).
VERIFY_SAMPLE = 200
#: Above this many records the writer uses one process per core.
MULTIPROCESS_THRESHOLD = 2000


class BuildError(Exception):
    """The new generation could not be built or verified; the live one is untouched."""


@dataclass(frozen=True)
class BuildResult:
    """The outcome of :func:`build_index`."""

    generation: str
    documents: int
    skipped: bool
    seconds: float


def read_acronyms(path: Path | None) -> list[str]:
    """Acronyms and names to protect from stemming: one per line, ``#`` comments."""
    if path is None or not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def protected_vocabulary(programmes: list[Programme], acronyms: list[str]) -> frozenset[str]:
    """Words never stemmed: the corpus's country and region names plus the acronyms file."""
    names = {p.region for p in programmes} | {c for p in programmes for c in p.countries}
    return protected_terms(sorted(names) + acronyms)


def fingerprint(
    programmes: list[Programme],
    protected: frozenset[str],
    synonyms: list | None = None,
    countries: dict[str, str] | None = None,
) -> str:
    """A hash of everything that determines the index's content (country codes included: they go in meta).

    Records are hashed one by one in id order, so no single payload of the whole corpus is built.
    """
    settings = {
        "analyzer": ANALYZER_VERSION,
        "schema": SCHEMA_VERSION,
        "protected": sorted(protected),
        "synonyms": synonyms or [],
        "countries": countries or {},
    }
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, ensure_ascii=False).encode())
    for programme in sorted(programmes, key=lambda p: p.id):
        digest.update(json.dumps(programme.to_dict(), sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def document_for(programme: Programme) -> dict[str, object]:
    """The Whoosh document of one programme."""
    texts = {
        "title": programme.title,
        "countries": ", ".join(programme.countries),
        "region": programme.region,
        "objectives": programme.objectives_text,
        "description": programme.description_text,
        "notes": programme.notes_text,
    }
    return {
        "id": programme.id,
        "title": programme.title,
        "countries": texts["countries"],
        "region": programme.region,
        CONTENT_FIELD: content_segments(texts),
        "status": programme.status,
        FACET_FIELDS["region"]: slugify(programme.region),
        FACET_FIELDS["country"]: ",".join(slugify(c) for c in programme.countries),
        FACET_FIELDS["status"]: slugify(programme.status),
        FACET_FIELDS["theme"]: ",".join(slugify(t) for t in programme.themes),
        "title_sort": fold(programme.title),
        "record": programme.to_dict(),
    }


def _surface_forms(programmes: Sequence[Programme]) -> Counter[str]:
    """How often each written word form occurs (joined compounds excluded)."""
    forms: Counter[str] = Counter()
    for programme in programmes:
        texts = (programme.title, programme.region, ", ".join(programme.countries),
                 programme.description_text, programme.objectives_text, programme.notes_text)
        for text in texts:
            forms.update(original for _, _, _, _, joined, original in french_words(text) if not joined)
    return forms


def surface_vocabulary(programmes: list[Programme]) -> dict[str, list[object]]:
    """Folded word -> [most frequent written form, count], for suggestions with accents restored."""
    forms: Counter[str] = Counter()
    for part in map_chunks(_surface_forms, programmes):
        forms.update(part)
    merged: dict[str, Counter[str]] = defaultdict(Counter)
    for original, count in forms.items():
        word = fold_term(original)
        if word.isalpha() and len(word) > 1:
            merged[word][original] += count
    vocabulary = {}
    for word, counter in merged.items():
        surface, _ = max(counter.items(), key=lambda item: (item[1], item[0].islower(), item[0]))
        vocabulary[word] = [surface, sum(counter.values())]
    return vocabulary


@contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    with open(root / ".build.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_index(path: Path, programmes: list[Programme], protected: frozenset[str], progress: Progress | None) -> None:
    index = whoosh_index.create_in(str(path), build_schema(protected))
    many = len(programmes) > MULTIPROCESS_THRESHOLD
    procs = min(os.cpu_count() or 1, 2) if many else 1
    writer = index.writer(procs=procs, multisegment=many, limitmb=128)
    try:
        for done, programme in enumerate(programmes, start=1):
            writer.add_document(**document_for(programme))
            if progress and (done % 1000 == 0 or done == len(programmes)):
                progress(done, len(programmes))
    except BaseException:
        writer.cancel()
        raise
    writer.commit()


def _verify(path: Path, programmes: list[Programme]) -> None:
    """Document count, one id term per record, a sample of ids findable, a search answering."""
    index = whoosh_index.open_dir(str(path))
    with index.searcher() as searcher:
        if searcher.doc_count() != len(programmes):
            raise BuildError(f"vérification : {searcher.doc_count()} documents au lieu de {len(programmes)}")
        ids = sum(1 for _ in searcher.reader().lexicon("id"))
        if ids != len(programmes):
            raise BuildError(f"vérification : {ids} identifiants indexés au lieu de {len(programmes)}")
        step = max(1, len(programmes) // VERIFY_SAMPLE)
        for programme in programmes[::step]:
            if searcher.document_number(id=programme.id) is None:
                raise BuildError(f"vérification : programme « {programme.id} » introuvable")
        if not searcher.search(Term("id", programmes[0].id)).scored_length():
            raise BuildError("vérification : la recherche par identifiant ne renvoie rien")


def _cleanup(root: Path, keep: set[str]) -> None:
    """Remove generations older than the previous one, and leftovers of failed builds."""
    names = generation_names(root)
    for name in names[:-2]:
        if name not in keep:
            shutil.rmtree(root / name, ignore_errors=True)
    for leftover in root.glob(".building-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def analysed_synonyms(
    groups: list[tuple[str, ...]], protected: frozenset[str], source: str = SYNONYMS_NAME
) -> list[list[dict[str, object]]]:
    """Each synonym form with its terms and positions through the index's analyser."""
    analyzer = french_analyzer(protected)
    analysed = []
    empty = []
    for group in groups:
        forms = []
        for form in group:
            tokens = [t for t in analyzer(form, positions=True) if not getattr(t, "joined", False)]
            if not tokens:
                empty.append(form)
            forms.append({"text": form, "terms": [t.text for t in tokens], "positions": [t.pos for t in tokens]})
        analysed.append(forms)
    if empty:
        message = "forme(s) faite(s) uniquement de mots vides, introuvables : " + ", ".join(f"« {f} »" for f in empty)
        raise CorpusError([CorpusProblem(source, None, None, message)])
    return analysed


@dataclass(frozen=True)
class PreparedCorpus:
    """Validated records (themes assigned), protected words, analysed synonyms, fingerprint, country codes."""

    programmes: list[Programme]
    protected: frozenset[str]
    synonyms: list
    fingerprint: str
    country_codes: dict[str, str] = field(default_factory=dict)  # corpus name -> ISO alpha-3 or "global"


def prepare_corpus(
    corpus_dir: Path,
    acronyms_file: Path | None = None,
    synonyms_file: Path | None = None,
    themes_file: Path | None = None,
    country_codes_file: Path | None = None,
) -> PreparedCorpus:
    """Load and validate everything a build needs; vocabulary files default to the corpus root.

    Every country name must have an ISO code (see :mod:`indexer.geography`); ``country_codes.yaml``
    defaults to the corpus root's, else the project's.
    """
    root = corpus_dir.parent
    programmes = load_corpus(corpus_dir)
    codes = country_codes(programmes, load_gazetteer(country_codes_file or codes_file_for(root)))
    themes = load_themes(themes_file or root / THEMES_NAME, programmes)
    programmes = [replace(p, themes=tuple(themes_of(p, themes))) for p in programmes]
    protected = protected_vocabulary(programmes, read_acronyms(acronyms_file or root / ACRONYMS_NAME))
    synonyms_path = synonyms_file or root / SYNONYMS_NAME
    synonyms = analysed_synonyms(load_synonyms(synonyms_path), protected, str(synonyms_path))
    print_ = fingerprint(programmes, protected, synonyms, codes)
    return PreparedCorpus(programmes, protected, synonyms, print_, codes)


def build_index(
    corpus_dir: Path,
    index_root: Path,
    acronyms_file: Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
    synonyms_file: Path | None = None,
    themes_file: Path | None = None,
) -> BuildResult:
    """Build (or skip) a generation for the corpus; see the module docstring.

    Vocabulary files default to ``acronyms.txt``, ``synonyms.yaml`` and ``themes.yaml``
    next to the records directory (``corpus/``).
    """
    started = time.perf_counter()
    prepared = prepare_corpus(corpus_dir, acronyms_file, synonyms_file, themes_file)
    programmes, protected, synonyms, print_ = (
        prepared.programmes, prepared.protected, prepared.synonyms, prepared.fingerprint
    )
    index_root.mkdir(parents=True, exist_ok=True)
    with _build_lock(index_root):
        try:
            live = current_generation_name(index_root)
        except ValueError:  # a damaged pointer (not UTF-8): build and replace it
            live = None
        if live and not force and _same_fingerprint(index_root, live, print_):
            return BuildResult(live, len(programmes), True, time.perf_counter() - started)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{GENERATION_PREFIX}{stamp}-{print_[:8]}"
        staging = index_root / f".building-{name}"
        staging.mkdir()
        try:
            _write_index(staging, programmes, protected, progress)
            _write_metadata(staging, name, programmes, print_, prepared.country_codes)
            (staging / SYNONYMS_FILE).write_text(json.dumps(synonyms, ensure_ascii=False), encoding="utf-8")
            _verify(staging, programmes)
            os.rename(staging, index_root / name)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        switch_to(index_root, name)
        _cleanup(index_root, keep={name, live or ""})
    return BuildResult(name, len(programmes), False, time.perf_counter() - started)


def _same_fingerprint(root: Path, live: str, print_: str) -> bool:
    """Whether the live generation has this fingerprint and still opens (a damaged one is rebuilt)."""
    try:
        meta = read_generation(root, live).meta
        if meta.get("fingerprint") != print_ or meta.get("analyzer_version") != ANALYZER_VERSION:
            return False
        for path in (root / live).glob("*.json"):
            json.loads(path.read_text(encoding="utf-8"))
        with whoosh_index.open_dir(str(root / live)).searcher() as searcher:
            return searcher.doc_count() == meta.get("documents")
    except Exception:
        return False


def _write_metadata(
    path: Path, name: str, programmes: list[Programme], print_: str, country_codes: dict[str, str] | None = None
) -> None:
    counts = {
        "region": Counter(p.region for p in programmes),
        "country": Counter(c for p in programmes for c in p.countries),
        "status": Counter(p.status for p in programmes),
        "theme": Counter(t for p in programmes for t in p.themes),
    }
    meta = {
        "generation": name,
        "fingerprint": print_,
        "analyzer_version": ANALYZER_VERSION,
        "schema_version": SCHEMA_VERSION,
        "documents": len(programmes),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "facets": {facet: dict(sorted(counter.items())) for facet, counter in counts.items()},
        "country_codes": country_codes or {},
    }
    (path / META_NAME).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    vocabulary = surface_vocabulary(programmes)
    (path / VOCABULARY_NAME).write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
    titles = sorted(([p.id, p.title] for p in programmes), key=lambda item: (fold(item[1]), item[0]))
    (path / TITLES_NAME).write_text(json.dumps(titles, ensure_ascii=False), encoding="utf-8")
