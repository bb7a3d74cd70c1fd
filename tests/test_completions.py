"""Autocomplete (``/api/suggest``) over the real corpus index, through the app's test client.

What it must do: never offer a stop word, offer words in their usual case (lower case when the corpus
writes them so anywhere, names with their capital, acronyms in capitals), put the corpus's country and
region names first and offer a multi-word name as one completion, match without accents or case, and
complete the last word of a multi-word prefix.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from indexer.analysis import fold, french_words
from indexer.french import fold_word
from indexer.french_rules import STOP_WORDS
from indexer.records import Programme
from indexer.store import VOCABULARY_NAME, current_generation

PLACE_KINDS = {"country", "region"}
EAST = "Afrique de l’Est et Corne de l’Afrique"


def suggest(client, q: str) -> list[dict]:
    response = client.get("/api/suggest", query_string={"q": q})
    assert response.status_code == 200
    return response.get_json()["suggestions"]


def texts(client, q: str, kinds: set[str] | None = None) -> list[str]:
    return [s["text"] for s in suggest(client, q) if kinds is None or s["kind"] in kinds]


def chosen(typed: str, item: dict) -> str:
    """What the box holds once ``item`` is chosen (as app.js does): it takes the place of the last words."""
    words = typed.split()
    return " ".join([*words[: len(words) - item["replaces"]], item["text"]])


def written_forms(programmes: list[Programme]) -> dict[str, Counter[str]]:
    """Folded word -> how the records write it (every indexed text field, as the tokenizer cuts it)."""
    forms: dict[str, Counter[str]] = defaultdict(Counter)
    for p in programmes:
        texts = [p.title, p.region, *p.countries, p.status, p.description_text, p.objectives_text, p.notes_text]
        for text in texts:
            for _, _, _, _, joined, original in french_words(text):
                if not joined and original.isalpha():
                    forms[fold_word(original)][original] += 1
    return forms


@pytest.fixture(scope="module")
def vocabulary(index_root: Path) -> dict[str, list]:
    generation = current_generation(index_root)
    return json.loads((generation.path / VOCABULARY_NAME).read_text(encoding="utf-8"))


# --- stop words ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["d", "de", "a", "au", "aux", "des", "du", "es", "et", "l", "le", "ou", "sur", "à"])
def test_no_completion_is_a_stop_word(client, q: str):
    offered = texts(client, q, {"word", *PLACE_KINDS})
    assert not [text for text in offered if text.lower() in STOP_WORDS]
    if q in ("d", "de", "a"):
        assert len(offered) >= 3  # the words that do begin so (« données », « développement », « aide »)


def test_stop_words_are_decided_on_the_accented_form(client):
    offered = texts(client, "ou", {"word"})
    assert "où" in offered and "ou" not in offered


def test_the_last_word_of_a_prefix_is_completed_without_stop_words(client):
    offered = texts(client, "retour de", {"word"})
    assert offered and all(fold(text).startswith("de") for text in offered)
    assert "de" not in offered and "des" not in offered


def test_the_vocabulary_file_holds_no_stop_word(vocabulary: dict[str, list]):
    assert vocabulary
    for key, entry in vocabulary.items():
        surface, count = entry  # other code unpacks exactly two items
        assert isinstance(surface, str) and isinstance(count, int) and count > 0
        assert surface.lower() not in STOP_WORDS, key
        assert fold_word(surface) == key


# --- usual case ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "shown", "hidden"),
    [
        ("sensi", "sensibilisation", {"SENSIBILISATION", "Sensibilisation"}),
        ("capa", "capacités", {"CAPACITÉS"}),
        ("reint", "réintégration", {"RÉINTÉGRATION", "Réintégration"}),
        ("renf", "renforcement", {"RENFORCEMENT", "Renforcement"}),
        ("analy", "analyse", {"ANALYSE"}),  # only a heading in capitals: no acronym, shown in lower case
        ("oim", "OIM", {"oim", "Oim"}),  # an acronym stays in capitals
        ("rada", "RADA", {"rada", "Rada"}),
        ("kab", "Kaboul", {"kaboul", "KABOUL"}),  # a name keeps its capital
    ],
)
def test_words_are_offered_in_their_usual_case(client, q: str, shown: str, hidden: set[str]):
    offered = texts(client, q)
    assert shown in offered
    assert not hidden & set(offered)


def test_senegal_keeps_its_capital_and_accents(client):
    assert texts(client, "senegal") == ["Sénégal"]


def test_a_word_written_in_lower_case_anywhere_is_shown_so(vocabulary: dict[str, list], programmes: list[Programme]):
    """The whole corpus: lower case when the records write the word so, else never a heading's capitals
    when the records also write it with only an initial capital."""
    forms = written_forms(programmes)
    checked = 0
    for key, written in forms.items():
        if key not in vocabulary:
            continue
        surface = vocabulary[key][0]
        lower = [form for form in written if form.islower() and form.lower() not in STOP_WORDS]
        if lower:
            assert surface.islower() and surface in lower, (key, surface, written)
            checked += 1
        elif any(not form.isupper() for form in written):
            assert not surface.isupper(), (key, surface, written)
    assert checked > 100


# --- ranking and names --------------------------------------------------------------------------------------


def test_afg_offers_afghanistan_first(client):
    offered = suggest(client, "afg")
    assert offered[0]["text"] == "Afghanistan" and offered[0]["kind"] == "country"
    words = [s["text"] for s in offered]
    assert words.count("Afghanistan") == 1  # the country, not the word again
    assert words.index("Afghanistan") < words.index("Afghanis")


@pytest.mark.parametrize("q", ["a", "afr", "s", "sud", "cote", "guinee", "ma", "ni", "mig", "rein"])
def test_names_come_first_then_words_then_programmes(client, q: str):
    order = {"country": 0, "region": 0, "word": 1, "programme": 2}
    kinds = [order[s["kind"]] for s in suggest(client, q)]
    assert kinds == sorted(kinds), q


def test_programme_vocabulary_comes_before_rarer_words(client):
    words = texts(client, "afr", {"word"})
    assert words[0] == "Afrique"  # a word of the region names, and the most frequent


@pytest.mark.parametrize(
    ("q", "name", "kind"),
    [
        ("cote", "Côte d’Ivoire", "country"),
        ("cote d", "Côte d’Ivoire", "country"),
        ("Côte d'Iv", "Côte d’Ivoire", "country"),
        ("ivoire", "Côte d’Ivoire", "country"),
        ("guinee", "Guinée Bissau", "country"),
        ("GUINÉE bis", "Guinée Bissau", "country"),
        ("guinee-bis", "Guinée Bissau", "country"),
        ("afrique du", "Afrique du Sud", "country"),
        ("sud", "Soudan du Sud", "country"),
        ("burk", "Burkina Faso", "country"),
        ("afrique de l", EAST, "region"),
        ("corne", EAST, "region"),
        ("moyen-or", "Moyen-Orient et Afrique du Nord", "region"),
        ("asie et", "Asie et Pacifique", "region"),
    ],
)
def test_multi_word_names_are_one_completion(client, q: str, name: str, kind: str):
    offered = [s for s in suggest(client, q) if s["text"] == name]
    assert len(offered) == 1, (q, texts(client, q))
    assert offered[0]["kind"] == kind
    assert offered[0]["replaces"] == len(q.split())


def test_every_country_and_region_of_the_corpus_is_offered(client, programmes: list[Programme]):
    places = {c for p in programmes for c in p.countries} | {p.region for p in programmes}
    places.discard("Monde")  # a global marker, no place
    for name in sorted(places):
        typed = fold(name)[:-1]
        assert name in texts(client, typed, PLACE_KINDS), typed


def test_the_global_marker_is_no_place(client):
    assert not texts(client, "monde", PLACE_KINDS)


@pytest.mark.parametrize("q", ["cote", "COTE", "Côte", "côté", "CÔTE"])
def test_matching_ignores_accents_and_case(client, q: str):
    assert suggest(client, q) == suggest(client, "cote")


@pytest.mark.parametrize(
    ("typed", "name", "expected"),
    [
        ("cote d", "Côte d’Ivoire", "Côte d’Ivoire"),
        ("retour guinee bis", "Guinée Bissau", "retour Guinée Bissau"),
        ("retour afrique du s", "Afrique du Sud", "retour Afrique du Sud"),
        ("migrants de l’est", EAST, f"migrants {EAST}"),
    ],
)
def test_choosing_a_name_searches_its_programmes(client, typed: str, name: str, expected: str):
    item = next(s for s in suggest(client, typed) if s["text"] == name)
    query = chosen(typed, item)
    assert query == expected
    data = client.get("/api/search", query_string={"q": query}).get_json()
    assert data["total"] >= 1 and data["fallback"] is None
    top = data["results"][0]
    assert name in [*top["countries"], top["region"]]


def test_the_last_word_of_a_multi_word_prefix_is_completed(client):
    offered = suggest(client, "retour vol")
    assert next(s["text"] for s in offered if s["kind"] == "word") == "volontaire"
    assert all(s["replaces"] == 1 for s in offered if s["kind"] == "word")
    assert "Ivoire" in texts(client, "cote d’iv", {"word"})  # after an elision


def test_programme_titles_are_still_offered(client):
    offered = suggest(client, "afgh")
    assert offered[-1]["kind"] == "programme" and offered[-1]["url"] == "/programmes/afghanistan-rada"
    assert "replaces" not in offered[-1]


def test_openapi_documents_every_kind_returned(client):
    schema = client.get("/api/openapi.json").get_json()
    item = schema["paths"]["/api/suggest"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    properties = item["properties"]["suggestions"]["items"]["properties"]
    kinds = set(properties["kind"]["enum"])
    assert {"word", "programme", "country", "region"} <= kinds and properties["replaces"]["type"] == "integer"
    returned = {s["kind"] for q in ("afg", "afr", "guinee", "mig") for s in suggest(client, q)}
    assert returned == {"word", "programme", "country", "region"}
