"""English as a query language: pycountry's country names and corpus/english.yaml, over the real index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from indexer.build import build_index, prepare_corpus
from indexer.cli import main
from indexer.corpus import CorpusError
from indexer.geography import english_names
from indexer.store import SYNONYMS_FILE, current_generation
from indexer.vocabularies import country_groups, load_english
from search_app.search import SearchPage, SearchRequest, SearchService
from tests.paths import ACRONYMS, CORPUS_DIR

ENGLISH = CORPUS_DIR.parent / "english.yaml"
NBSP = "\u00a0"

COUNTRIES = [
    ("Libya", "Libye"),
    ("Morocco", "Maroc"),
    ("Chad", "Tchad"),
    ("Ivory Coast", "Côte d’Ivoire"),
    ("South Sudan", "Soudan du Sud"),
    ("Guinea Bissau", "Guinée Bissau"),
    ("Guinea-Bissau", "Guinée Bissau"),
    ("Egypt", "Égypte"),
    ("Ethiopia", "Éthiopie"),
    ("South Africa", "Afrique du Sud"),
    ("World", "Monde"),
]
TERMS = [
    ("voluntary return", "retour volontaire"),
    ("capacity building", "renforcement des capacités"),
    ("capacity-building", "renforcement des capacités"),
    ("sustainable reintegration", "réintégration durable"),
    ("returnees", "migrants de retour"),
    ("data collection", "collecte de données"),
    ("awareness raising", "sensibilisation"),
    ("community stabilization", "stabilisation des communautés"),
    ("migration governance", "gouvernance des migrations"),
    ("migrant protection", "protection des migrants"),
    ("Horn of Africa", "Corne de l’Afrique"),
    ("EU Trust Fund for Africa", "Fonds fiduciaire d’urgence pour l’Afrique"),
]


@pytest.fixture(scope="module")
def service(index_root: Path) -> SearchService:
    return SearchService(index_root, cache_size=0)


def search(service: SearchService, text: str) -> SearchPage:
    return service.search(SearchRequest(text=text, per_page=50))


def assert_same_ranking(found: SearchPage, expected: SearchPage, scores: bool = True) -> None:
    """The same programmes in the same order (with the same scores)."""
    assert [hit.id for hit in found.hits] == [hit.id for hit in expected.hits]
    if scores:
        assert [hit.score for hit in found.hits] == pytest.approx([hit.score for hit in expected.hits])


@pytest.mark.parametrize(("english", "french"), COUNTRIES + TERMS)
def test_an_english_query_finds_and_ranks_what_its_french_form_does(service, english, french):
    found, expected = search(service, english), search(service, french)
    assert expected.total >= 1
    assert_same_ranking(found, expected)
    assert (found.fallback, found.suggestion) == (None, None) == (expected.fallback, expected.suggestion)


@pytest.mark.parametrize(("english", "french"), COUNTRIES[:6] + TERMS[:2] + TERMS[3:5])
def test_the_page_says_which_french_form_was_searched(service, english, french):
    assert any(n.startswith("Recherche élargie à") and french in n for n in search(service, english).notices)


def test_every_english_group_finds_programmes_the_same_way_from_each_form(service):
    prepared = prepare_corpus(CORPUS_DIR)
    groups = prepared.synonyms[len(prepared.synonyms) - prepared.english :]
    assert len(groups) > 60
    for group in groups:
        first, *others = [str(form["text"]) for form in group]
        expected = search(service, first)
        assert expected.total >= 1 and expected.fallback is None, first
        for text in others:
            found = search(service, text)
            assert_same_ranking(found, expected, scores=False)
            assert (found.fallback, found.suggestion) == (None, None), text


def _words_found(service: SearchService, form: str) -> set[str]:
    """The programmes holding every word of ``form`` (each word searched alone: its own group only)."""
    found: set[str] | None = None
    for word in form.replace("’", " ").replace("'", " ").split():
        ids = {hit.id for hit in search(service, word).hits}
        found = ids if found is None else found & ids
    return found or set()


def test_a_multi_word_form_loses_none_of_the_programmes_holding_its_words(service):
    """A multi-word form is searched as an expression: a French one must not narrow the French query."""
    forms = [form for group in load_english(ENGLISH).terms for form in group.forms if " " in form]
    for form in forms:
        assert _words_found(service, form) <= {hit.id for hit in search(service, form).hits}, form


def test_snippets_and_countries_mark_the_french_words_found(client):
    data = client.get("/api/search?q=voluntary+return").get_json()
    snippets = " ".join(" ".join(r["snippets"].values()) for r in data["results"])
    assert "<mark>retour</mark> <mark>volontaire</mark>" in snippets
    assert (data["fallback"], data["suggestion"]) == (None, None)
    page = client.get("/?q=Morocco").get_data(as_text=True)
    assert "<mark>Maroc</mark>" in page


@pytest.mark.parametrize("query", ["Libya", "Chad", "capacity building", "voluntary return", "Kabul"])
def test_no_essayez_avec_and_no_fallback_for_english_queries(client, query):
    page = client.get("/", query_string={"q": query}).get_data(as_text=True)
    assert "Essayez avec" not in page and "Recherche élargie à" in page
    assert "Aucun programme ne contient tous les mots" not in page


def test_country_names_are_generated_for_corpus_countries_only():
    codes = prepare_corpus(CORPUS_DIR).country_codes
    groups = {group.forms[0]: group for group in country_groups(codes, load_english(ENGLISH).aliases)}
    assert groups["Libye"].forms == ("Libye", "Libya") and groups["Libye"].generated == {"Libye", "Libya"}
    assert groups["Côte d’Ivoire"].forms == ("Côte d’Ivoire", "Ivory Coast")  # pycountry's « Côte d'Ivoire »: the same
    assert "Mali" not in groups and "Sénégal" not in groups  # written alike in both languages: nothing to add
    assert set(groups) <= set(codes)
    assert not any("Brazil" in form for group in groups.values() for form in group.forms)


def test_english_names_come_from_pycountry():
    assert english_names("TCD") == ["Chad"]  # « Republic of Chad » only adds the form of government
    assert english_names("KOR") == ["South Korea"]  # not the inverted « Korea, Republic of »
    assert english_names("global") == [] and english_names("XXX") == []


def test_the_reviewed_aliases_add_only_what_pycountry_lacks():
    codes = prepare_corpus(CORPUS_DIR).country_codes
    for group in load_english(ENGLISH).aliases:
        given = {name.casefold() for name in english_names(codes[group.forms[0]])}
        assert not given & {alias.casefold() for alias in group.forms[1:]}, group


def _corpus_copy(tmp_path: Path, english: str | None = None) -> Path:
    """A copy of the whole corpus directory (records and vocabulary files), ``english.yaml`` replaced."""
    root = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR.parent, root)
    if english is not None:
        (root / "english.yaml").write_text(english, encoding="utf-8")
    return root / "programmes"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("terms:\n  - [voluntary return, retour volontaire\n", 3, "YAML invalide"),
        ("- [voluntary return, retour volontaire]\n", 1, "le fichier doit être une table"),
        ("words:\n  - [voluntary return, retour volontaire]\n", 1, "section inconnue « words »"),
        ("terms:\n  - [voluntary return]\n", 2, "au moins deux formes"),
        ("terms:\n  - [awareness, sensibilisation]\n  - [Awareness, prise de conscience]\n", 3, "figure déjà"),
        ("terms:\n  - [of the, de la]\n", 2, "uniquement de mots vides"),
        ("countries:\n  Brésil: [Brazil]\n", 2, "« Brésil » n’est pas un pays du corpus"),
        ("countries:\n  Libye: []\n", 2, "nom anglais ou liste de noms anglais attendu"),
        ("terms:\n  - [return, retour]\n", 2, "« retour » figure déjà dans un autre groupe (synonyms.yaml, ligne 13)"),
        ("terms:\n  - [Chad, Tchad]\n", 2, "« Chad » figure déjà dans un autre groupe (noms du pays « Tchad »"),
        (
            "terms:\n  - [returnees, migrants de retour]\n  - [returnee, retournés]\n",
            3,
            "« returnee » se lit comme « returnees » dans un autre groupe (english.yaml, ligne 2)",
        ),
        (
            "terms:\n  - [monitoring and evaluation, suivi et évaluation, suivi et de l’évaluation]\n",
            2,
            "une seule des deux formes sert",
        ),
    ],
)
def test_bad_english_files_are_reported_with_file_and_line(tmp_path, capsys, text, line, message):
    corpus = _corpus_copy(tmp_path, text)
    path = corpus.parent / "english.yaml"
    with pytest.raises(CorpusError) as error:
        prepare_corpus(corpus)
    assert f"{path}:{line}:" in str(error.value) and message in str(error.value)
    build = ["build", "--corpus", str(corpus), "--index", str(tmp_path / "index")]
    for command in (["check", "--corpus", str(corpus)], build):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert f"{path}:{line}:" in err and message in err and "Traceback" not in err


def test_a_country_name_written_in_synonyms_yaml_is_reported_there(tmp_path):
    corpus = _corpus_copy(tmp_path)
    synonyms = corpus.parent / "synonyms.yaml"
    line = len(synonyms.read_text(encoding="utf-8").splitlines()) + 1
    synonyms.write_text(synonyms.read_text(encoding="utf-8") + "- [Chad, TCD]\n", encoding="utf-8")
    with pytest.raises(CorpusError) as error:
        prepare_corpus(corpus)
    assert f"{synonyms}:{line}: « Chad » se lit comme un nom du pays « Tchad » (pycountry" in str(error.value)


def test_the_messages_use_french_typography(tmp_path):
    with pytest.raises(CorpusError) as error:
        prepare_corpus(_corpus_copy(tmp_path, "countries:\n  Libye: []\n"))
    assert f"« Libye »{NBSP}: nom anglais" in str(error.value)


def test_the_file_and_the_country_names_are_part_of_each_generation(tmp_path):
    corpus = _corpus_copy(tmp_path)
    english = corpus.parent / "english.yaml"
    index = tmp_path / "index"
    first = build_index(corpus, index, ACRONYMS)
    english.write_text(english.read_text(encoding="utf-8") + "# un commentaire\n", encoding="utf-8")
    assert build_index(corpus, index, ACRONYMS).skipped  # the groups did not change
    english.write_text(english.read_text(encoding="utf-8") + "  - [rapid response, réponse rapide]\n", "utf-8")
    second = build_index(corpus, index, ACRONYMS)
    assert not second.skipped and second.generation != first.generation
    stored = json.loads((current_generation(index).path / SYNONYMS_FILE).read_text(encoding="utf-8"))
    texts = [[form["text"] for form in group] for group in stored]
    assert ["rapid response", "réponse rapide"] in texts and ["Libye", "Libya"] in texts


def test_check_counts_the_english_groups(capsys):
    assert main(["check", "--corpus", str(CORPUS_DIR)]) == 0
    out = capsys.readouterr().out
    assert "groupes anglais valides (pays du corpus et" in out and "english.yaml" in out
