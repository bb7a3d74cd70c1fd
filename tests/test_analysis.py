"""The French analysis chain: elision, stop words, stemming with accents, protected names, offsets.

Index terms keep their accents (Snowball needs them); accent-insensitivity is a property of
*matches*: the terms a typed word looks up meet the index terms of the written word.
"""

from __future__ import annotations

import functools
import pickle
import re
import string
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from whoosh import index as whoosh_index

from indexer.analysis import (
    ANALYZER_VERSION,
    FRENCH_STOP_WORDS,
    french_analyzer,
    french_words,
    query_positions,
    words_of,
)
from indexer.build import ordinary_names, protected_vocabulary, read_acronyms
from indexer.corpus import load_corpus
from indexer.french import Lexicon
from indexer.french_rules import CASED_NAMES
from indexer.records import Programme
from indexer.schema import CONTENT_FIELD, build_schema
from indexer.store import current_generation
from search_app.index_state import open_generation
from tests.paths import ACRONYMS, CORPUS_DIR

ELISIONS = ("l", "d", "qu", "j", "n", "s", "c", "m", "t", "jusqu", "lorsqu", "puisqu", "quoiqu")
APOSTROPHES = ("’", "'")
FRENCH_LETTERS = "abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüÿœæ"


@pytest.fixture(scope="module")
def protected(programmes: list[Programme]) -> frozenset[str]:
    return protected_vocabulary(programmes, read_acronyms(ACRONYMS))


@pytest.fixture(scope="module")
def analyzer(protected: frozenset[str]):
    return french_analyzer(protected)


def terms(analyzer, text: str) -> list[str]:
    return [token.text for token in analyzer(text)]


def tokens(analyzer, text: str) -> list[tuple[str, int, int, int]]:
    """(term, position, startchar, endchar) of every token."""
    return [(t.text, t.pos, t.startchar, t.endchar) for t in analyzer(text, positions=True, chars=True)]


def lexicon_of(analyzer, text: str) -> Lexicon:
    """The lexicon of an index holding ``text`` (names it writes in lower case included)."""
    written = Counter(original for *_, joined, original in french_words(text) if not joined)
    return Lexicon.from_terms(terms(analyzer, text), ordinary_names(written, words_of(analyzer).protected))


def meets(analyzer, lexicon: Lexicon, typed: str, written: str) -> bool:
    """Whether a search for ``typed`` finds a text holding ``written`` (every word, in order)."""
    found = list(analyzer(written))
    wanted = [t.text for t in found if not t.joined] or [t.text for t in found]  # « J-J »: the joined form
    looked_up = [alternatives for alternatives, _ in query_positions(analyzer, typed, lexicon)]
    return len(wanted) == len(looked_up) and all(w in a for w, a in zip(wanted, looked_up, strict=True))


def strip_accents(text: str) -> str:
    """NFD minus combining marks (œ and æ are letters, not accented letters: they stay)."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def swap_apostrophes(text: str) -> str:
    return text.replace("’", "'") if "’" in text else text.replace("'", "’")


def record_texts(programme: Programme) -> tuple[str, ...]:
    return (
        programme.title,
        programme.region,
        *programme.countries,
        programme.description_text,
        programme.objectives_text,
        programme.notes_text,
    )


def corpus_words(programmes: list[Programme]) -> set[str]:
    """Every whitespace-separated word of every record text, without surrounding punctuation."""
    punctuation = string.punctuation + "«»“”‘’…—–"
    words = set()
    for programme in programmes:
        for text in record_texts(programme):
            for word in text.split():  # str.split also splits on U+00A0 and U+202F
                word = word.strip(punctuation)
                if word:
                    words.add(word)
    return words


# --- elision ---------------------------------------------------------------------------------


@pytest.mark.parametrize("apostrophe", APOSTROPHES)
@pytest.mark.parametrize("prefix", ELISIONS)
def test_elision_in_any_case(analyzer, prefix: str, apostrophe: str):
    expected = terms(analyzer, "initiative")
    assert expected == ["initi"]
    for variant in (prefix, prefix.upper(), prefix.capitalize()):
        assert terms(analyzer, f"{variant}{apostrophe}initiative") == expected, variant
        assert terms(analyzer, f"{variant}{apostrophe}INITIATIVE") == expected, variant


def test_elided_acronym_and_offsets(analyzer):
    text = "l’OIM et d'Afghanistan"
    assert tokens(analyzer, text) == [("OIM", 0, 2, 5), ("AFGHANISTAN", 2, 11, 22)]


def test_aujourdhui_is_one_word(analyzer):
    assert terms(analyzer, "aujourd’hui") == terms(analyzer, "aujourd'hui") == ["aujourdhui"]
    assert tokens(analyzer, "aujourd’hui")[0][2:] == (0, 11)


def test_apostrophe_without_elision_prefix_is_not_cut(analyzer):
    # Only the listed elided words are removed: « aujourd » is not one of them.
    assert "hui" not in terms(analyzer, "aujourd’hui")


# --- folding ---------------------------------------------------------------------------------


def test_ligatures_meet_their_spelled_out_form(analyzer):
    lexicon = lexicon_of(analyzer, "œuvre cœur ex æquo")
    assert terms(analyzer, "œuvre") == terms(analyzer, "ŒUVRE") == ["œuvr"]
    for typed, written in [("oeuvre", "œuvre"), ("coeur", "cœur"), ("ex aequo", "ex æquo"), ("OEUVRE", "ŒUVRE")]:
        assert meets(analyzer, lexicon, typed, written), typed


def test_combining_accents_equal_precomposed(analyzer):
    decomposed = "re\u0301inte\u0301gration"
    assert terms(analyzer, decomposed) == terms(analyzer, "réintégration") == ["réintegr"]
    assert tokens(analyzer, decomposed)[0][2:] == (0, len(decomposed))
    assert terms(analyzer, "Guine\u0301e") == terms(analyzer, "Guinée")


def test_accent_less_typing_meets_the_accented_text(analyzer):
    # Snowball reads the accents (« capacités » -> capac, « capacites » -> capacit): the index keeps
    # the accented stem and a search typed without accents looks up the accented spellings too.
    pairs = [
        ("capacités", "capacites"),
        ("régulière", "reguliere"),
        ("Guinée", "guinee"),
        ("données", "donnees"),
        ("accès", "acces"),
        ("durabilité", "durabilite"),
        ("éclairées", "eclairees"),
        ("créée", "creee"),
    ]
    lexicon = lexicon_of(analyzer, " ".join(accented for accented, _ in pairs))
    for accented, plain in pairs:
        assert terms(analyzer, accented), accented
        assert meets(analyzer, lexicon, plain, accented), plain
        assert meets(analyzer, lexicon, plain.upper(), accented), plain.upper()
        assert meets(analyzer, lexicon, accented.upper(), accented), accented.upper()


# --- tokenisation ----------------------------------------------------------------------------


def test_hyphenated_acronym_joined_and_split_with_positions(analyzer):
    assert tokens(analyzer, "UE-OIM aide") == [
        ("ueoim", 0, 0, 6),
        ("UE", 0, 0, 2),
        ("OIM", 1, 3, 6),
        ("aid", 2, 7, 11),
    ]
    assert [alts[0] for alts, _ in query_positions(analyzer, "ue-oim")] == ["UE", "OIM"]
    # « UE OIM » gives the split terms at consecutive positions, so the phrase matches.
    assert tokens(analyzer, "UE OIM") == [("UE", 0, 0, 2), ("OIM", 1, 3, 6)]


def test_hyphenated_compound_joined_and_split(analyzer):
    joined = terms(analyzer, "bien-être")
    split = terms(analyzer, "bien être")
    assert joined[0] == "bienêtr"
    assert joined[1:] == split == ["bien", "être"]


def test_decimal_number_kept(analyzer):
    assert terms(analyzer, "cible 10.7 des ODD") == ["cibl", "10.7", "ODD"]
    assert terms(analyzer, "SDG 10.7,") == ["SDG", "10.7"]


def test_decimal_comma_is_the_same_number_as_a_point_never_an_integer(analyzer):
    assert terms(analyzer, "2,5 millions") == terms(analyzer, "2.5 millions") == ["2.5", "million"]
    assert terms(analyzer, "25 millions") == ["25", "million"]
    assert terms(analyzer, "1,2,3") == ["1.2.3"]


@pytest.mark.parametrize("space", ["\u00a0", "\u202f"])
def test_number_grouped_with_no_break_space_is_one_token(analyzer, space: str):
    text = f"plus de 10{space}000 migrants"
    found = tokens(analyzer, text)
    numbers = [t for t in found if t[0][0].isdigit()]
    assert numbers == [("10000", 2, 8, 14)]
    assert text[8:14] == f"10{space}000"
    assert found[-1][:2] == ("migr", 3)


def test_no_break_space_separates_words(analyzer):
    assert terms(analyzer, "conjointe\u00a0UE-OIM") == ["conjoint", "ueoim", "UE", "OIM"]
    assert terms(analyzer, "Sud\u202fSoudan") == ["SUD", "SOUDAN"]


def test_dg_home_acronym_is_protected(analyzer):
    assert tokens(analyzer, "la DG HOME") == [("DG", 1, 3, 5), ("HOME", 2, 6, 10)]


def test_symbols_only_give_nothing(analyzer):
    assert terms(analyzer, "— * – ★ 🙂") == []


# --- stop words and stemming -----------------------------------------------------------------


def test_stop_words_removed_but_sures_kept(analyzer):
    assert "sur" in FRENCH_STOP_WORDS
    assert terms(analyzer, "sur") == []
    assert terms(analyzer, "le de la des et à pour dans") == []
    # Stop words are decided on the accented form: « sûr » and « sûres » are words, « sur » is not.
    assert terms(analyzer, "sûres") == terms(analyzer, "SÛRES") == terms(analyzer, "sûr") == ["sûr"]
    assert terms(analyzer, "des migrations plus sûres") == ["migrat", "plus", "sûr"]
    assert meets(analyzer, lexicon_of(analyzer, "sûres"), "SURES", "sûres")


def test_stop_word_leaves_a_position_gap(analyzer):
    assert [t[:2] for t in tokens(analyzer, "retour de la dignité")] == [("retour", 0), ("dignit", 3)]


@pytest.mark.parametrize(
    "variants",
    [
        ("migrant", "migrants", "MIGRANTS"),
        ("psychosocial", "psychosociale", "psychosociaux", "psychosociales"),
        ("communauté", "communautés", "communaute"),
        ("réintégration", "réintégrations"),
        ("durable", "durables"),
    ],
)
def test_inflections_meet(analyzer, variants: tuple[str, ...]):
    lexicon = lexicon_of(analyzer, " ".join(variants))
    for typed in variants:
        for written in variants:
            assert meets(analyzer, lexicon, typed, written), (typed, written)
    assert len(terms(analyzer, variants[0])) == 1


def test_protected_words_are_not_stemmed(analyzer, protected: frozenset[str]):
    assert {"mali", "niger", "nigeria", "oim", "ue", "rada", "home", "dg"} <= protected
    assert terms(analyzer, "Mali") == terms(analyzer, "MALI") == ["MALI"]
    assert terms(analyzer, "Mali") != terms(analyzer, "mal")
    assert not meets(analyzer, Lexicon(), "mali", "mal")
    assert terms(analyzer, "Niger") == ["NIGER"]
    assert terms(analyzer, "Niger") != terms(analyzer, "Nigéria")
    assert terms(analyzer, "NIGERIA") == terms(analyzer, "Nigéria") == ["NIGERIA"]
    assert meets(analyzer, Lexicon(), "nigeria", "Nigéria")


def test_without_protection_the_stemmer_would_conflate():
    """Sanity check that the protection above is what keeps the names apart."""
    bare = french_analyzer(())
    assert terms(bare, "Mali") == terms(bare, "mal")
    assert terms(bare, "HOME") != ["home"]


def test_protected_vocabulary_comes_from_corpus_and_acronyms_file(programmes, protected, tmp_path: Path):
    without_file = protected_vocabulary(programmes, [])
    assert "mali" in without_file and "afghanistan" in without_file  # facet values
    assert "devco" not in without_file and "devco" in protected  # acronyms file
    extra = tmp_path / "acronyms.txt"
    extra.write_text("# commentaire\nFRONTEX  # agence\n\n", encoding="utf-8")
    assert read_acronyms(extra) == ["FRONTEX"]
    assert "frontex" in protected_vocabulary(programmes, read_acronyms(extra))
    # Stop words inside names (« du », « de ») are never protected.
    assert not protected & FRENCH_STOP_WORDS


# --- offsets ---------------------------------------------------------------------------------


def test_offsets_point_at_the_original_text(analyzer):
    text = "L’initiative conjointe\u00a0UE-OIM, aujourd’hui : 10\u202f000 migrants d'Égypte (Œuvre)."
    found = list(analyzer(text, positions=True, chars=True))
    assert [text[t.startchar : t.endchar] for t in found] == [
        "initiative",
        "conjointe",
        "UE-OIM",
        "UE",
        "OIM",
        "aujourd’hui",
        "10\u202f000",
        "migrants",
        "Égypte",
        "Œuvre",
    ]


def test_offsets_over_the_whole_corpus(analyzer, programmes: list[Programme]):
    """Re-analysing the slice a token points at gives that token's term back."""
    checked = 0
    for programme in programmes:
        for text in record_texts(programme):
            for token in analyzer(text, positions=True, chars=True):
                piece = text[token.startchar : token.endchar]
                assert token.text in terms(analyzer, piece), (programme.id, piece, token.text)
                checked += 1
    assert checked > 1000


def test_start_char_shifts_offsets(analyzer):
    found = list(analyzer("l’OIM", chars=True, start_char=100))
    assert (found[0].startchar, found[0].endchar) == (102, 105)


# --- the accent property ---------------------------------------------------------------------


def test_accent_property_over_the_whole_corpus_vocabulary(analyzer, programmes: list[Programme], index_root: Path):
    """Every word of the page, typed without accents, in capitals, decomposed or with the other
    apostrophe, looks up its own index terms (with the live generation's lexicon)."""
    lexicon = open_generation(index_root).lexicon
    words = corpus_words(programmes)
    assert len(words) > 400
    elided = {w for w in words if "’" in w or "'" in w}
    accented = {w for w in words if strip_accents(w) != w}
    assert len(elided) > 20 and len(accented) > 100
    failures: list[tuple[str, str]] = []
    set_aside: set[str] = set()
    for word in sorted(words):
        if not terms(analyzer, word):
            continue  # stop words, punctuation
        variants = [strip_accents(word), word.upper(), word.lower(), unicodedata.normalize("NFD", word)]
        if word in elided:
            variants.append(swap_apostrophes(word))
            variants.append(swap_apostrophes(strip_accents(word)).upper())
        for variant in variants:
            if not query_positions(analyzer, variant, lexicon):
                set_aside.add(variant)  # typed, a stop word: « ou » for « où »
            elif not meets(analyzer, lexicon, variant, word):
                failures.append((word, variant))
    assert not failures, failures[:20]
    assert set_aside <= {"ou"}, set_aside


french_word = st.text(st.sampled_from(FRENCH_LETTERS + FRENCH_LETTERS.upper()), min_size=1, max_size=16)
elision = st.sampled_from(["", *(p + a for p in ELISIONS for a in APOSTROPHES)])
compound = st.one_of(st.just(""), french_word.map(lambda w: "-" + w))


@functools.cache
def _hypothesis_analyzer():
    """The analyser with the real protected vocabulary (Hypothesis tests cannot take fixtures)."""
    return french_analyzer(protected_vocabulary(load_corpus(CORPUS_DIR), read_acronyms(ACRONYMS)))


@settings(max_examples=400, deadline=None)
@given(prefix=elision, word=french_word, tail=compound)
def test_case_and_apostrophes_never_matter_on_generated_words(prefix: str, word: str, tail: str):
    """Capitals, lower case, decomposed accents and either apostrophe look up the written word.

    (Typing without accents is measured on real words instead: Snowball's vocabulary, tests/test_french.py.)
    """
    analyzer = _hypothesis_analyzer()
    text = prefix + word + tail
    cased = {name.lower() for name in CASED_NAMES}
    assume(not cased & {part.lower() for part in re.split(r"\W", text)})  # « Est » ≠ « est », « EU » ≠ « eu »
    lexicon = lexicon_of(analyzer, text)
    for variant in (text.upper(), text.lower(), unicodedata.normalize("NFD", text), swap_apostrophes(text)):
        assert meets(analyzer, lexicon, variant, text), variant
    if prefix:
        # The elided article is dropped: the rest is analysed as if it stood alone.
        assert terms(analyzer, text) == terms(analyzer, word + tail)


@settings(max_examples=200, deadline=None)
@given(st.lists(french_word, min_size=1, max_size=8))
def test_generated_offsets_point_at_the_original_text(words: list[str]):
    analyzer = _hypothesis_analyzer()
    text = " ".join(words)
    for token in analyzer(text, chars=True):
        assert token.text in terms(analyzer, text[token.startchar : token.endchar])


# --- pickling and the index on disk ----------------------------------------------------------

SAMPLES = (
    "L’initiative conjointe\u00a0UE-OIM vise à améliorer l'aide aux migrants de retour.",
    "Mali, Niger, Nigéria ; DG HOME et DG DEVCO ; cible 10.7 des ODD ; 10\u202f000 personnes.",
    "Répondre aux besoins économiques, sociaux et psychosociaux ; bien-être ; aujourd’hui.",
)


def test_analyzer_pickle_round_trip(analyzer):
    before = [tokens(analyzer, s) for s in SAMPLES]  # the stemmer is now instantiated
    loaded = pickle.loads(pickle.dumps(analyzer))
    assert loaded == analyzer
    assert words_of(loaded).protected == words_of(analyzer).protected
    assert [tokens(loaded, s) for s in SAMPLES] == before


TEXT_FIELDS = (CONTENT_FIELD, "title", "countries", "region", "status")


def test_schema_pickle_round_trip(protected: frozenset[str]):
    schema = build_schema(protected)
    loaded = pickle.loads(pickle.dumps(schema))
    assert loaded.names() == schema.names()
    for name in TEXT_FIELDS:
        assert loaded[name].analyzer == schema[name].analyzer
        assert words_of(loaded[name].analyzer).protected == protected
        assert [tokens(loaded[name].analyzer, s) for s in SAMPLES] == [
            tokens(schema[name].analyzer, s) for s in SAMPLES
        ]
    for key in ("region_key", "country_key", "status_key"):
        assert loaded[key].column_type is not None  # column-backed facets survive the round trip


def test_index_on_disk_analyses_identically(index_root: Path, analyzer, protected: frozenset[str]):
    generation = current_generation(index_root)
    assert generation.meta["analyzer_version"] == ANALYZER_VERSION
    index = whoosh_index.open_dir(str(generation.path))
    for name in TEXT_FIELDS:
        stored = index.schema[name].analyzer
        assert words_of(stored).protected == protected
        assert [tokens(stored, s) for s in SAMPLES] == [tokens(analyzer, s) for s in SAMPLES]


def test_term_spans_index_exactly_what_the_analyser_does(programmes, analyzer):
    """The catch-all field is indexed through TermSpans: it must equal the Whoosh analyser."""
    from indexer.analysis import TermSpans

    spans = TermSpans(analyzer)
    for programme in programmes:
        for text in (programme.title, programme.description_text, programme.objectives_text, programme.notes_text):
            expected = [(t.text, t.pos) for t in analyzer(text, positions=True)]
            assert list(spans.positions(text)) == expected
            highlighted = [(t.text, t.startchar, t.endchar) for t in analyzer(text, positions=True, chars=True)
                           if not t.joined]
            assert [(term, start, end) for term, start, end, _ in spans(text)] == highlighted


TRICKY_TEXTS = (
    *SAMPLES,
    "la Corne de l est, l’Est et l'EST ; de l est encore",
    "Côte-d’Ivoire, Côte-d'Ivoire, Guinée-Bissau, J-J, jusqu’à lorsqu'il qu’on",
    "l‘OIM, lʼOIM, l`OIM, l´OIM ; réin\u00adtégration, ré\u200bintégration",
    "10 000, 10\u00a0000, 2,5 %, 10.7 ; aujourd'hui c'est l'aide d'urgence",
)


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_term_spans_fast_paths_equal_the_analyser(analyzer, text):
    """Plain words, cached word parts (elisions, compounds, numbers) and odd apostrophes give
    the analyser's own tokens, on the first call and again from the cache."""
    from indexer.analysis import TermSpans

    spans = TermSpans(analyzer)
    expected_positions = [(t.text, t.pos) for t in analyzer(text, positions=True)]
    expected_spans = [(t.text, t.startchar, t.endchar, t.pos) for t in analyzer(text, positions=True, chars=True)
                      if not t.joined]
    for _ in range(2):
        assert list(spans.positions(text)) == expected_positions
        assert spans(text) == expected_spans
    assert [pos - 100 for _, pos in spans.positions(text, 100)] == [pos for _, pos in expected_positions]
