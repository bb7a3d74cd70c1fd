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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from whoosh import index as whoosh_index
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.query import Term

from indexer.analysis import ANALYZER_VERSION, fold, french_analyzer, protected_terms
from indexer.corpus import CorpusError, CorpusProblem
from indexer.french import fold_word
from indexer.geography import codes_file_for, country_codes, load_gazetteer
from indexer.records import Programme
from indexer.scan import RecordSummary, scan_corpus
from indexer.schema import SCHEMA_VERSION, build_schema
from indexer.segments import RecordChanged, write_segments
from indexer.store import (
    META_NAME,
    SYNONYMS_FILE,
    TITLES_NAME,
    VOCABULARY_NAME,
    build_lock,
    current_generation_name,
    new_generation_name,
    read_generation,
    remove_old_generations,
    staged_generation,
    switch_to,
)
from indexer.vocabularies import (
    GENERATED,
    FormGroup,
    check_theme_expressions,
    country_groups,
    load_english,
    parse_themes,
    read_synonyms,
)

Progress = Callable[[int, int], None]
ACRONYMS_NAME = "acronyms.txt"
SYNONYMS_NAME = "synonyms.yaml"
ENGLISH_NAME = "english.yaml"
THEMES_NAME = "themes.yaml"
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
                raise BuildError(f"vérification : programme « {record.id} » introuvable")
        if not searcher.search(Term("id", records[0].id)).scored_length():
            raise BuildError("vérification : la recherche par identifiant ne renvoie rien")


def analysed_synonyms(
    groups: Sequence[tuple[str, ...] | FormGroup], protected: frozenset[str], source: str = SYNONYMS_NAME
) -> list[list[dict[str, object]]]:
    """Each synonym form with its terms and positions through the index's analyser.

    Groups are read in order (``synonyms.yaml``, the countries, ``english.yaml``): a form read like
    another of its group is left out; one read like a form of an earlier group, or made only of stop
    words, is a problem (file and line) if a file wrote it, and is left out if it was generated.
    Plain tuples of forms are reported against ``source``.
    """
    analyzer = french_analyzer(protected)
    owners: dict[tuple[str, ...], tuple[FormGroup, str]] = {}
    analysed: list[list[dict[str, object]]] = []
    problems: list[CorpusProblem] = []
    for group in (g if isinstance(g, FormGroup) else FormGroup(tuple(g), source) for g in groups):
        reported = len(problems)
        forms = _group_forms(analyzer, group, owners, problems)
        if len(forms) > 1:
            analysed.append(list(forms.values()))
            owners.update((key, (group, str(form["text"]))) for key, form in forms.items())
        elif len(problems) == reported and len(set(group.forms) - group.generated) > 1:
            message = "les formes du groupe se lisent toutes de la même façon : groupe inutile"
            problems.append(CorpusProblem(group.path, group.line, None, message))
    if problems:
        raise CorpusError(problems)
    return analysed


def _group_forms(
    analyzer: CompositeAnalyzer,
    group: FormGroup,
    owners: dict[tuple[str, ...], tuple[FormGroup, str]],
    problems: list[CorpusProblem],
) -> dict[tuple[str, ...], dict[str, object]]:
    """The group's analysed forms by folded terms, the first of equal ones kept; problems added."""
    forms: dict[tuple[str, ...], dict[str, object]] = {}
    empty = []
    for text in group.forms:
        tokens = [t for t in analyzer(text, positions=True) if not getattr(t, "joined", False)]
        key = tuple(fold(t.text) for t in tokens)
        written = text not in group.generated
        if not key:
            empty += [text] if written else []
        elif key in owners:
            problems += _clash(group, text, written, *owners[key])
        elif key in forms:
            problems += _gap_clash(group, text, [t.pos for t in tokens], forms[key]) if written else []
        else:
            forms[key] = {"text": text, "terms": [t.text for t in tokens], "positions": [t.pos for t in tokens]}
    if empty:
        message = "forme(s) faite(s) uniquement de mots vides, introuvables : " + ", ".join(f"« {f} »" for f in empty)
        problems.append(CorpusProblem(group.path, group.line, None, message))
    return forms


def _gap_clash(group: FormGroup, text: str, positions: list[int], kept: dict[str, object]) -> list[CorpusProblem]:
    """A problem when ``text`` has the words of a form kept before but other gaps: a search for either
    looks the words up with its own gaps, so the second form would never be searched."""
    kept_positions = cast(list[int], kept["positions"])  # a form dict of analysed_synonyms
    if [p - positions[0] for p in positions] == [p - kept_positions[0] for p in kept_positions]:
        return []  # the same form written otherwise (« organisation », « organisations »): left out
    message = f"« {text} » a les mots de « {kept['text']} » (mots vides mis à part) : une seule des deux formes sert"
    return [CorpusProblem(group.path, group.line, None, message)]


def _clash(group: FormGroup, text: str, written: bool, other: FormGroup, other_text: str) -> list[CorpusProblem]:
    """The problem of a form read like ``other_text`` of an earlier group, on the side a file wrote
    (none when both were generated: the later one is left out)."""
    if not written and other_text in other.generated:
        return []
    if not written:  # a country's generated name is already in a file's group
        message = f"« {other_text} » se lit comme un nom du pays « {group.forms[0]} » ({GENERATED}, « {text} »)"
        message += " : une forme n’appartient qu’à un groupe"
        return [CorpusProblem(other.path, other.line, None, message)]
    if other_text in other.generated:
        where = f"noms du pays « {other.forms[0]} », {GENERATED}"
    else:
        where = f"{Path(other.path).name}, ligne {other.line}" if other.line else Path(other.path).name
    same = "figure déjà" if fold(text) == fold(other_text) else f"se lit comme « {other_text} »"
    message = f"« {text} » {same} dans un autre groupe ({where}) : une forme n’appartient qu’à un groupe"
    return [CorpusProblem(group.path, group.line, None, message)]


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


def vocabulary_groups(
    synonyms_file: Path, english_file: Path, codes: dict[str, str]
) -> tuple[list[FormGroup], list[FormGroup]]:
    """(``synonyms.yaml``'s groups, the English ones: a group per corpus country, then ``english.yaml``'s);
    CorpusError listing the problems of both files."""
    problems: list[CorpusProblem] = []
    written: list[FormGroup] = []
    english: list[FormGroup] = []
    try:
        written = read_synonyms(synonyms_file)
    except CorpusError as error:
        problems += error.problems
    try:
        vocabulary = load_english(english_file)
        english = [*country_groups(codes, vocabulary.aliases), *vocabulary.terms]
    except CorpusError as error:
        problems += error.problems
    if problems:
        raise CorpusError(problems)
    return written, english


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
        try:
            live = current_generation_name(index_root)
        except ValueError:  # a damaged pointer (not UTF-8): build and replace it
            live = None
        if live and not force and _same_fingerprint(index_root, live, corpus_fingerprint):
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
        switch_to(index_root, name)
        remove_old_generations(index_root, keep={name, live or ""})
    return BuildResult(name, len(records), False, time.perf_counter() - started)


def _same_fingerprint(root: Path, live: str, corpus_fingerprint: str) -> bool:
    """Whether the live generation has this fingerprint and still opens (a damaged one is rebuilt)."""
    try:
        meta = read_generation(root, live).meta
        if meta.get("fingerprint") != corpus_fingerprint or meta.get("analyzer_version") != ANALYZER_VERSION:
            return False
        for path in (root / live).glob("*.json"):
            json.loads(path.read_text(encoding="utf-8"))
        with whoosh_index.open_dir(str(root / live)).searcher() as searcher:
            return searcher.doc_count() == meta.get("documents")
    except Exception:
        return False


def _write_metadata(path: Path, name: str, prepared: PreparedCorpus, forms: Counter[str]) -> None:
    """The generation's meta.json, surface vocabulary and title list."""
    records = prepared.records
    counts = {
        "region": Counter(r.region for r in records),
        "country": Counter(c for r in records for c in r.countries),
        "status": Counter(r.status for r in records),
        "theme": Counter(t for r in records for t in r.themes),
    }
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
