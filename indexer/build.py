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

import hashlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.query import Term

from indexer.analysis import ANALYZER_VERSION, fold, protected_terms
from indexer.french import fold_word
from indexer.geography import codes_file_for, country_codes, load_gazetteer
from indexer.manifest import GenerationDamaged, verify_generation, write_manifest
from indexer.records import Programme
from indexer.scan import RecordSummary, scan_corpus
from indexer.schema import FACET_TABLE, SCHEMA_VERSION, build_schema
from indexer.segments import RecordChanged, write_segments
from indexer.store import (
    META_NAME,
    POINTER_NAME,
    SYNONYMS_FILE,
    TITLES_NAME,
    VOCABULARY_NAME,
    IndexUnavailable,
    build_lock,
    generation_names,
    new_generation_name,
    pointed_generation,
    read_generation,
    remove_old_generations,
    staged_generation,
    switch_to,
)
from indexer.synonym_groups import analysed_synonyms, vocabulary_groups
from indexer.vocabularies import (
    ENGLISH_NAME,
    SYNONYMS_NAME,
    THEMES_NAME,
    check_theme_expressions,
    parse_themes,
)

Progress = Callable[[int, int], None]
ACRONYMS_NAME = "acronyms.txt"
#: Ids looked up one by one after a build (evenly spread; the count check covers the rest).
VERIFY_SAMPLE = 200


class BuildError(Exception):
    """The new generation could not be built or verified; the live one is untouched."""


@dataclass(frozen=True)
class BuildResult:
    """The outcome of :func:`build_index`."""

    generation: str
    documents: int
    skipped: bool
    seconds: float
    #: Why the live generation could not be kept although the corpus may be unchanged (None: nothing to repair).
    repaired: str | None = None


def read_acronyms(path: Path | None) -> list[str]:
    """Acronyms and names to protect from stemming: one per line, ``#`` comments."""
    if path is None or not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def protected_vocabulary(programmes: list[RecordSummary] | list[Programme], acronyms: list[str]) -> frozenset[str]:
    """Words never stemmed: the corpus's country and region names plus the acronyms file."""
    names = {p.region for p in programmes} | {c for p in programmes for c in p.countries}
    return protected_terms(sorted(names) + acronyms)


def fingerprint(
    digests: Iterable[tuple[str, str]],
    protected: frozenset[str],
    synonyms: list | None = None,
    countries: dict[str, str] | None = None,
) -> str:
    """A hash of everything that determines the index's content (country codes included: they go in meta).

    ``digests`` are (id, digest of the record) pairs (:func:`indexer.scan.record_data`), hashed in id order.
    """
    settings = {
        "analyzer": ANALYZER_VERSION,
        "schema": SCHEMA_VERSION,
        "protected": sorted(protected),
        "synonyms": synonyms or [],
        "countries": countries or {},
    }
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, ensure_ascii=False).encode())
    for _, record_digest in sorted(digests):
        digest.update(record_digest.encode("ascii"))
    return digest.hexdigest()


def surface_vocabulary(forms: Counter[str]) -> dict[str, list[object]]:
    """Folded word -> [written form to show, count], for suggestions with accents restored; no stop words.

    A form is left out when its accented lower-case form is a stop word (« où » stays; « ou », « Est »
    go). The form shown is the most frequent lower-case one if the corpus writes the word so anywhere
    (« sensibilisation », never the heading « SENSIBILISATION »), else the most frequent capitalised one
    (a name: « Sénégal »), else capitals (an acronym: « OIM »).
    """
    from indexer.french import clean_word
    from indexer.french_rules import STOP_WORDS

    merged: dict[str, Counter[str]] = defaultdict(Counter)
    for original, count in forms.items():
        written = clean_word(original)
        word = fold_word(written)
        if word.isalpha() and len(word) > 1 and written.lower() not in STOP_WORDS:
            merged[word][written] += count

    def shown(item: tuple[str, int]) -> tuple[int, int, str]:  # lower case, then names, then capitals
        form, count = item
        return (form.islower() + (not form.isupper()), count, form)

    return {word: [max(counter.items(), key=shown)[0], sum(counter.values())] for word, counter in merged.items()}


def ordinary_names(forms: Counter[str], protected: frozenset[str]) -> list[str]:
    """Protected names the corpus also writes without a capital, as ordinary words (« au moyen de »)."""
    return sorted({fold_word(form) for form in forms if not form[:1].isupper()} & protected)


def _write_index(
    path: Path, records: list[RecordSummary], protected: frozenset[str], progress: Progress | None
) -> Counter[str]:
    """Write the index into ``path``; return the written word forms counted on the way."""
    whoosh_index.create_in(str(path), build_schema(protected))
    total = len(records)
    reported = [0]

    def report(done: int) -> None:
        if progress and (done - reported[0] >= 1000 or done == total) and done != reported[0]:
            reported[0] = done
            progress(done, total)

    return write_segments(path, records, report)


def _verify(path: Path, records: list[RecordSummary]) -> None:
    """Document count, one id term per record, a sample of ids findable, a search answering."""
    index = whoosh_index.open_dir(str(path))
    with index.searcher() as searcher:
        if searcher.doc_count() != len(records):
            raise BuildError(f"vérification : {searcher.doc_count()} documents au lieu de {len(records)}")
        ids = sum(1 for _ in searcher.reader().lexicon("id"))
        if ids != len(records):
            raise BuildError(f"vérification : {ids} identifiants indexés au lieu de {len(records)}")
        step = max(1, len(records) // VERIFY_SAMPLE)
        for record in records[::step]:
            if searcher.document_number(id=record.id) is None:
                raise BuildError(f"vérification : programme « {record.id} » introuvable")
        if not searcher.search(Term("id", records[0].id)).scored_length():
            raise BuildError("vérification : la recherche par identifiant ne renvoie rien")


@dataclass(frozen=True)
class PreparedCorpus:
    """Validated record summaries (themes assigned), protected words, analysed synonyms, fingerprint,
    country codes."""

    records: list[RecordSummary]
    protected: frozenset[str]
    synonyms: list
    fingerprint: str
    country_codes: dict[str, str] = field(default_factory=dict)  # corpus name -> ISO alpha-3 or "global"
    english: int = 0  # how many of the synonym groups are English (the countries' and english.yaml's)


def prepare_corpus(  # noqa: PLR0913 (each vocabulary file can be overridden; all default to the corpus root)
    corpus_dir: Path,
    acronyms_file: Path | None = None,
    synonyms_file: Path | None = None,
    themes_file: Path | None = None,
    country_codes_file: Path | None = None,
    english_file: Path | None = None,
) -> PreparedCorpus:
    """Load and validate everything a build needs; vocabulary files default to the corpus root.

    Every country name must have an ISO code (see :mod:`indexer.geography`); ``country_codes.yaml``
    defaults to the corpus root's, else the project's. The synonym groups are ``synonyms.yaml``'s, then
    one per corpus country (its English names) and ``english.yaml``'s. Records are read in parallel and
    only their summaries are kept (see :mod:`indexer.scan`).
    """
    root = corpus_dir.parent
    themes_path = themes_file or root / THEMES_NAME
    themes = parse_themes(themes_path)
    scan = scan_corpus(corpus_dir, themes)
    if scan.has_objectives:
        check_theme_expressions(themes_path, themes, scan.expressions)
    codes = country_codes(scan.records, load_gazetteer(country_codes_file or codes_file_for(root)))
    protected = protected_vocabulary(scan.records, read_acronyms(acronyms_file or root / ACRONYMS_NAME))
    files = (synonyms_file or root / SYNONYMS_NAME, english_file or root / ENGLISH_NAME)
    written, english = vocabulary_groups(*files, codes)
    synonyms = analysed_synonyms([*written, *english], protected)
    corpus_fingerprint = fingerprint(((r.id, r.digest) for r in scan.records), protected, synonyms, codes)
    return PreparedCorpus(scan.records, protected, synonyms, corpus_fingerprint, codes, len(synonyms) - len(written))


def build_index(  # noqa: PLR0913 (the options of `indexer build`, all with defaults)
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
    records, protected, synonyms, corpus_fingerprint = (
        prepared.records, prepared.protected, prepared.synonyms, prepared.fingerprint
    )
    index_root.mkdir(parents=True, exist_ok=True)
    with build_lock(index_root):
        live, problem = live_problem(index_root)
        if live and not problem and not force and _same_fingerprint(index_root, live, corpus_fingerprint):
            return BuildResult(live, len(records), True, time.perf_counter() - started)
        name = new_generation_name(corpus_fingerprint)
        with staged_generation(index_root, name) as staging:
            try:
                forms = _write_index(staging, records, protected, progress)
            except RecordChanged as error:
                raise BuildError(str(error)) from error
            _write_metadata(staging, name, prepared, forms)
            (staging / SYNONYMS_FILE).write_text(json.dumps(synonyms, ensure_ascii=False), encoding="utf-8")
            _verify(staging, records)
            _write_verified_manifest(staging)
        switch_to(index_root, name)
        damaged = {live} if live and problem else set()
        previous = live if live and not problem else _newest_intact(index_root, older_than=name, skip=damaged)
        remove_old_generations(index_root, keep={name, previous or ""}, discard=damaged)
    return BuildResult(name, len(records), False, time.perf_counter() - started, problem)


def live_problem(root: Path) -> tuple[str | None, str | None]:
    """The live generation (None when the pointer is unusable) and what is wrong with it (None: intact).

    A root without pointer nor generation is a first build, not a problem.
    """
    try:
        live = pointed_generation(root)
    except IndexUnavailable as error:
        if not generation_names(root) and not (root / POINTER_NAME).exists():
            return None, None
        return None, error.full()
    try:
        verify_generation(root / live)
    except GenerationDamaged as damage:
        return live, f"génération {live} endommagée ({damage})"
    return live, None


def _newest_intact(root: Path, older_than: str, skip: set[str]) -> str | None:
    """The newest generation before ``older_than`` whose files verify: the one kept for the fallback."""
    for name in reversed(generation_names(root)):
        if name < older_than and name not in skip:
            try:
                verify_generation(root / name)
            except GenerationDamaged:
                continue
            return name
    return None


def _write_verified_manifest(staging: Path) -> None:
    """Checksum every file into the manifest, then read it all back from disk before the switch."""
    write_manifest(staging)
    try:
        verify_generation(staging)
    except GenerationDamaged as damage:
        raise BuildError(f"vérification : {damage} (relu après écriture)") from damage


def _same_fingerprint(root: Path, live: str, corpus_fingerprint: str) -> bool:
    """Whether the live generation, whose files :func:`live_problem` verified (so it opens as it did when
    built), comes from this corpus and this analyser."""
    try:
        meta = read_generation(root, live).meta
    except IndexUnavailable:
        return False
    return (
        isinstance(meta, dict)
        and meta.get("fingerprint") == corpus_fingerprint
        and meta.get("analyzer_version") == ANALYZER_VERSION
    )


def _write_metadata(path: Path, name: str, prepared: PreparedCorpus, forms: Counter[str]) -> None:
    """The generation's meta.json, surface vocabulary and title list."""
    records = prepared.records
    counts = {facet.name: Counter(v for r in records for v in r.facets[i]) for i, facet in enumerate(FACET_TABLE)}
    meta = {
        "ordinary_names": ordinary_names(forms, prepared.protected),
        "generation": name,
        "fingerprint": prepared.fingerprint,
        "analyzer_version": ANALYZER_VERSION,
        "schema_version": SCHEMA_VERSION,
        "documents": len(records),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "facets": {facet: dict(sorted(counter.items())) for facet, counter in counts.items()},
        "country_codes": prepared.country_codes or {},
    }
    (path / META_NAME).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    vocabulary = surface_vocabulary(forms)
    (path / VOCABULARY_NAME).write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
    titles = sorted(([r.id, r.title] for r in records), key=lambda item: (fold(item[1]), item[0]))
    (path / TITLES_NAME).write_text(json.dumps(titles, ensure_ascii=False), encoding="utf-8")
