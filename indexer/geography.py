"""Country names of the corpus → ISO 3166-1 alpha-3 codes, for the map.

Names are looked up in pycountry's French names (its gettext catalogue ``iso3166-1``), compared like facet
values (accents, case, apostrophes and hyphens ignored: « Guinée Bissau » = « Guinée-Bissau », « Nigéria »
= « Nigeria », « Côte d’Ivoire » = « Côte d'Ivoire »), then in a small reviewed file,
``corpus/country_codes.yaml``: ``aliases`` for names pycountry's French does not give (« Tanzanie »,
« Syrie »…) and ``global`` markers (« Monde »), which stand for no country. A name found nowhere is a
corpus error (file, line, field ``countries``), so ``python -m indexer check`` and the build refuse it.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

import pycountry
import yaml

from indexer.analysis import fold
from indexer.corpus import CorpusError, CorpusProblem, yaml_sections
from indexer.slugs import facet_key

COUNTRY_CODES_NAME = "country_codes.yaml"
#: The project's reviewed file; a corpus without its own ``country_codes.yaml`` uses it.
DEFAULT_COUNTRY_CODES = Path(__file__).resolve().parent.parent / "corpus" / COUNTRY_CODES_NAME
#: The code recorded for a global marker such as « Monde » (not an ISO code: it is no country).
GLOBAL = "global"
SECTIONS = ("aliases", "global")


@cache
def french_names() -> dict[str, str]:
    """Facet key of every French name (short and official) in pycountry → alpha-3; ambiguous keys left out."""
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    found: dict[str, set[str]] = {}
    for country in pycountry.countries:
        names = [country.name, getattr(country, "official_name", None), getattr(country, "common_name", None)]
        for name in filter(None, names):
            found.setdefault(facet_key(french.gettext(name)), set()).add(country.alpha_3)
    return {key: codes.pop() for key, codes in found.items() if len(codes) == 1}


def english_names(code: str) -> list[str]:
    """pycountry's English names of a country, as a reader would type them; [] for an unknown code.

    The short and common names (« Côte d'Ivoire », « Vietnam »); the official name only when it is
    more than a form of government added to one of them (« Republic of Chad » is left out); an inverted
    short name (« Korea, Republic of ») only when there is no common name (« South Korea »).

    >>> english_names("TCD"), english_names("KOR"), english_names("global")
    (['Chad'], ['South Korea'], [])
    """
    country = pycountry.countries.get(alpha_3=code) if len(code) == 3 else None
    if country is None:
        return []
    common = getattr(country, "common_name", None)
    names = [name for name in (country.name, common) if name and not ("," in name and common)]
    official = getattr(country, "official_name", None)
    if official and not any(fold(name) in fold(official) for name in names):
        names.append(official)
    return list(dict.fromkeys(names))


class NamedCountries(Protocol):
    """A record (or its summary) naming countries, read from a file."""

    @property
    def countries(self) -> tuple[str, ...]: ...

    @property
    def path(self) -> str: ...


@dataclass(frozen=True)
class Gazetteer:
    """Reviewed aliases (facet key → alpha-3) and global markers (facet keys) on top of pycountry."""

    aliases: dict[str, str]
    global_markers: frozenset[str]

    def code(self, name: str) -> str | None:
        """The alpha-3 code of a country name, :data:`GLOBAL` for a global marker, None when unknown."""
        key = facet_key(name)
        if key in self.global_markers:
            return GLOBAL
        return self.aliases.get(key) or french_names().get(key)


def _entries(path: Path, node: yaml.Node, section: str, problems: list[CorpusProblem]) -> list[tuple[str, str, int]]:
    """(name, value, line) of a mapping section, or (name, "", line) of a list section."""
    if isinstance(node, yaml.MappingNode) and section == "aliases":
        pairs = [(k, v) for k, v in node.value]
    elif isinstance(node, yaml.SequenceNode) and section == "global":
        pairs = [(item, None) for item in node.value]
    else:
        kind = "une table « nom: CODE »" if section == "aliases" else "une liste de noms"
        problems.append(CorpusProblem(str(path), node.start_mark.line + 1, section, f"« {section} » doit être {kind}"))
        return []
    entries = []
    for key, value in pairs:
        line = key.start_mark.line + 1
        if not isinstance(key, yaml.ScalarNode) or not str(key.value).strip():
            problems.append(CorpusProblem(str(path), line, section, "nom de pays vide ou invalide"))
        elif value is not None and not isinstance(value, yaml.ScalarNode):
            problems.append(CorpusProblem(str(path), line, section, f"« {key.value} » : code ISO attendu"))
        else:
            entries.append((str(key.value).strip(), str(value.value).strip() if value else "", line))
    return entries


def load_gazetteer(path: Path) -> Gazetteer:
    """Read and validate the exceptions file; raise CorpusError listing every problem."""
    problems: list[CorpusProblem] = []
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise CorpusError([CorpusProblem(str(path), None, None, f"fichier illisible : {error}")]) from error
    sections = yaml_sections(path, root, SECTIONS, problems)
    aliases: dict[str, str] = {}
    for name, code, line in _entries(path, sections["aliases"], "aliases", problems) if "aliases" in sections else []:
        country = pycountry.countries.get(alpha_3=code.upper()) if len(code) == 3 else None
        if country is None:
            message = f"« {name} » : « {code} » n’est pas un code ISO 3166-1 alpha-3"
            problems.append(CorpusProblem(str(path), line, "aliases", message))
        else:
            aliases[facet_key(name)] = country.alpha_3
    markers = _entries(path, sections["global"], "global", problems) if "global" in sections else []
    if problems:
        raise CorpusError(problems)
    return Gazetteer(aliases, frozenset(facet_key(name) for name, _, _ in markers))


def _name_line(path: str, name: str) -> int | None:
    """The line of ``name`` in the ``countries`` field of a record file (the field's line if not found)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError):
        return None
    start = next((i for i, line in enumerate(lines) if line.startswith("countries:")), None)
    if start is None:
        return None
    for number in range(start, len(lines)):
        if number > start and not lines[number].startswith((" ", "-", "\t")):
            break
        if name in lines[number]:
            return number + 1
    return start + 1


def country_codes(programmes: Iterable[NamedCountries], gazetteer: Gazetteer) -> dict[str, str]:
    """Every country name of the corpus → alpha-3 (or :data:`GLOBAL`); CorpusError for unknown names."""
    codes: dict[str, str] = {}
    problems: list[CorpusProblem] = []
    for programme in programmes:
        for name in programme.countries:
            code = gazetteer.code(name)
            if code is None:
                message = (
                    f"pays inconnu « {name} » : aucun code ISO 3166-1 ne correspond "
                    f"(nom français de pycountry, ou alias à ajouter dans {COUNTRY_CODES_NAME})"
                )
                problems.append(CorpusProblem(programme.path, _name_line(programme.path, name), "countries", message))
            else:
                codes[name] = code
    if problems:
        raise CorpusError(problems)
    return dict(sorted(codes.items()))


def codes_file_for(corpus_root: Path) -> Path:
    """The corpus's own ``country_codes.yaml`` when it has one, else the project's reviewed file."""
    own = corpus_root / COUNTRY_CODES_NAME
    return own if own.exists() else DEFAULT_COUNTRY_CODES
