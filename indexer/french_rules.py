"""The reviewed tables of the French analyser: stop words, accent restoration, word families.

Every table here was chosen by measuring on Snowball's own French test vocabulary
(``../shared/reference/snowball-french/``, see :mod:`indexer.families`): a rule stays
when it keeps more word families together than it joins different ones.
"""

from __future__ import annotations

import re

from whoosh.lang import stopwords_for_language

#: Snowball's French stop-word list (the one Lucene's FrenchAnalyzer and Elasticsearch's
#: ``_french_`` use), as shipped by Whoosh, plus six function words it lacks (« a », « les »…). Decided on
#: the *accented* form: « sûr », « où », « là », « dû » are not in it and keep their
#: meaning, while « sur », « ou », « la », « du » are dropped. « été » stays a stop word:
#: in the corpus it is always the participle (« a été créé »), never the season.
#: « est » and « eu » are stop words in lower case only (see :data:`CASED_NAMES`).
STOP_WORDS: frozenset[str] = frozenset(stopwords_for_language("fr")) | {"a", "les", "leurs", "cette", "cet", "dont"}

#: Written forms that are names although their lower-case form is a stop word:
#: « Est » (the East, « Afrique de l’Est ») and « EU » (the European Union; « eu » is a participle).
CASED_NAMES: dict[str, str] = {"Est": "est", "EST": "est", "EU": "eu"}

#: After the elision « l’ », « est » is the noun (« de l’est ») and never the verb.
NOUNS_AFTER_ELISION: dict[str, str] = {"est": "Est"}

#: Accent restorations tried on a word typed without accents: (ending, accented ending).
#: Snowball's French rules read accents (« -ée », « -ées », « -èrent », « -ité »), so
#: « eclairee » is stemmed as typed *and* as « éclairée ». Endings that are also common
#: unaccented endings (« -ie », « -ais », « -dat ») are left out: measured, they joined
#: more different words than they reunited.
ACCENT_RESTORATIONS: tuple[tuple[str, str], ...] = (
    ("ees", "ées"), ("ee", "ée"), ("es", "és"), ("ces", "cès"), ("gres", "grès"), ("pres", "près"),
    ("ites", "ités"), ("ite", "ité"), ("ies", "iés"),
    *((f"{c}ie", f"{c}ié") for c in "dgptufl"), ("ocie", "ocié"),
    *((f"{c}e", f"{c}é") for c in "bdfghjklmnpqrsvwxyz"),
    *((f"{c}at", f"{c}ât") for c in "bcfghjklmnpqrstuvwxz"),
    ("ates", "âtes"), ("ames", "âmes"), ("eres", "ères"), ("ere", "ère"), ("erent", "èrent"),
    ("erez", "érez"), ("era", "éra"), ("ierement", "ièrement"), ("erait", "érait"),
    ("erais", "érais"), ("erament", "érament"),
    ("aique", "aïque"), ("aiques", "aïques"), ("oique", "oïque"), ("oiques", "oïques"),
    ("aisme", "aïsme"), ("aismes", "aïsmes"), ("oisme", "oïsme"),
    ("aiste", "aïste"), ("aistes", "aïstes"), ("oiste", "oïste"), ("oistes", "oïstes"),
    ("ai", "aï"), ("oui", "ouï"), ("ouis", "ouïs"), ("aite", "aïté"),
    ("icite", "icité"), ("uite", "uïté"), ("uites", "uïtés"), ("gue", "guë"), ("gues", "guës"),
)

#: Snowball stems (folded) of irregular feminine and plural forms -> the stem of the
#: masculine singular. Stems, not words, so a whole family moves together
#: (« fraîche », « fraîchement », « fraîcheur » all reach « frais »).
STEM_OVERRIDES: dict[str, str] = {
    # -eu / -eux plurals Snowball leaves apart
    "neveux": "neveu", "jeux": "jeu", "feux": "feu", "cheveux": "cheveu", "lieux": "lieu",
    "voeux": "voeu", "yeux": "oeil",
    # -al / -ail / -aux
    "maux": "mal", "baux": "bail", "traval": "travail", "coral": "corail", "vitral": "vitrail",
    "émal": "émail", "emal": "émail",
    # irregular feminines
    "vieil": "vieux", "foll": "fou", "fol": "fou", "moll": "mou", "bel": "beau", "nouvel": "nouveau",
    "jumel": "jumeau", "chamel": "chameau", "agnel": "agneau", "jouvencel": "jouvenceau",
    "fraîch": "frais", "fraich": "frais", "fauss": "faux", "rouss": "roux", "douc": "doux",
    "louv": "loup", "sech": "sec", "sèch": "sec", "blanch": "blanc", "franch": "franc",
    "grecqu": "grec", "publiqu": "public", "turqu": "turc", "longu": "long", "oblongu": "oblong",
    "brev": "bref", "neuv": "neuf", "veuv": "veuf", "viv": "vif", "activ": "actif", "sportiv": "sportif",
    "gentill": "gentil", "gross": "gros", "épaiss": "épais", "epaiss": "épais", "bass": "bas", "lass": "las",
    "boulanger": "boulang", "étranger": "étrang", "etranger": "étrang", "léger": "leg", "leger": "leg",
}

#: Whole words Snowball cuts to the verb's stem (« acheteuse » -> ``achet``, as « acheter »):
#: read as their masculine, so they meet « acheteur » without joining the verb.
WORD_OVERRIDES: dict[str, str] = {
    f"{stem}euse{plural}": f"{stem}eur"
    for stem in ("achet", "demand", "travaill", "chass", "vend", "chant", "dans", "ment", "cherch", "program")
    for plural in ("", "s")
}

#: Regular feminines Snowball keeps apart, as rewrites of the stem's ending:
#: « productrice » -> ``productric`` -> ``producteur`` (as « producteur »), and the agent
#: nouns in « -euse » Snowball turns into « -eux » (« vendeuse » -> ``vendeux``).
GENDER_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<=..)tric$"), "teur"),
    (re.compile(r"(?<=...)dric$"), "deur"),
    (re.compile(r"(?<=...)(?<=[dnt])eux$"), "eur"),
)
