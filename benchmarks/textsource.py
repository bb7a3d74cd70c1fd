"""Real French text for the generated corpora: Debian's ``manpages-fr``, or the project's own records.

The man pages (``/usr/share/man/fr/**.gz`` of the ``manpages-fr`` package, installed with
apt-get when missing) are read with gzip, stripped of roff macros and escapes, and cut into
passages of about 200–700 characters made of whole sentences. Code-like paragraphs
(synopses, examples, option lists) are dropped. The fallback source, used by the smoke test
and when the package cannot be installed, is the six real programme records of
``corpus/programmes`` (far less text: fine for a smoke run, not for measurements).
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from benchmarks.log import log

PACKAGE = "manpages-fr"
MAN_ROOT = Path("/usr/share/man/fr")
MIN_PASSAGE = 200
MAX_PASSAGE = 700

_SKIPPED_SECTIONS = {"SYNOPSIS", "EXEMPLES", "EXEMPLE", "VOIR AUSSI", "AUTEURS", "AUTEUR", "TRADUCTION", "COLOPHON"}
_FONT_MACROS = {"B", "I", "BR", "RB", "IR", "RI", "BI", "IB", "SM", "SB", "R"}
_BREAK_MACROS = {"PP", "LP", "P", "TP", "IP", "HP", "sp", "RS", "RE", "SS", "SH", "TQ", "in", "ti", "Sh", "Pp"}
_GLYPHS = {
    "aq": "'",
    "cq": "’",
    "oq": "‘",
    "lq": "« ",
    "rq": " »",
    "dq": '"',
    "em": "—",
    "en": "–",
    "hy": "-",
    "bu": "•",
    "Fo": "« ",
    "Fc": " »",
    "ti": "~",
    "co": "©",
    "rg": "®",
    "mu": "×",
}
_ESCAPE_RE = re.compile(
    r"\\(?:f(?:\[[^\]]*\]|\(..|.)|s[-+]?\d+"  # font and size changes
    r"|\(([A-Za-z]{2})|\[([^\]]*)\]"  # glyphs: \(aq, \[u00E9]
    r"|\*(?:\((..)|\[([^\]]*)\]|(.))"  # strings: \*(lq
    r"|(.))"  # any other escaped character
)
_SENTENCE_RE = re.compile(r"(?<=[.!?;:])\s+(?=[A-ZÀ-ÖØ-Ý«(])")
_FRENCH_MARKERS = frozenset(
    ("le", "la", "les", "des", "une", "est", "pour", "dans", "sont", "avec", "sur", "pas", "que", "qui", "par")
)


@dataclass(frozen=True)
class TextSource:
    """Passages of real French text, plus short phrases to build titles from."""

    name: str
    passages: tuple[str, ...]
    phrases: tuple[str, ...]
    version: str


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        named = match.group(1) or match.group(2) or match.group(3) or match.group(4) or match.group(5)
        if named is not None:
            if re.fullmatch(r"u[0-9A-Fa-f]{4,5}", named):
                return chr(int(named[1:], 16))
            return _GLYPHS.get(named, "")
        char = match.group(6)
        if char is None:
            return ""  # font and size changes
        return {
            "-": "-",
            "e": "\\",
            " ": " ",
            "~": " ",
            "0": " ",
            "(": "",
            "&": "",
            "c": "",
            "%": "",
            ":": "",
            "|": "",
            "^": "",
            "/": "",
            ",": "",
        }.get(char, char)

    return _ESCAPE_RE.sub(replace, text)


def _macro_text(arguments: str) -> str:
    parts = re.findall(r'"([^"]*)"|(\S+)', arguments)
    return " ".join(a or b for a, b in parts)


def roff_to_paragraphs(source: str) -> tuple[str, list[str]]:
    """(NAME line, prose paragraphs) of one man page in roff, macros and escapes removed."""
    paragraphs: list[str] = []
    current: list[str] = []
    section, name_line, no_fill = "", "", False

    def flush() -> None:
        text = re.sub(r"\s+", " ", " ".join(current)).strip()
        current.clear()
        if text and section == "NOM":
            nonlocal name_line
            name_line = name_line or text
        elif text and section not in _SKIPPED_SECTIONS:
            paragraphs.append(text)

    for line in source.splitlines():
        if line.startswith(('.\\"', "'\\\"", '.\\"')) or line.strip() in {".", "'"}:
            continue
        if line.startswith((".", "'")):
            macro, _, arguments = line[1:].strip().partition(" ")
            if macro in {"nf", "EX"}:
                flush()
                no_fill = True
            elif macro in {"fi", "EE"}:
                no_fill = False
            elif macro in {"SH", "Sh"}:
                flush()
                section = _unescape(_macro_text(arguments)).strip().upper()
            elif macro in _FONT_MACROS and not no_fill:
                current.append(_unescape(_macro_text(arguments)))
            elif macro in _BREAK_MACROS or macro == "br":
                flush()
            continue
        if not no_fill:
            current.append(_unescape(line))
    flush()
    return name_line, paragraphs


def _is_prose(text: str) -> bool:
    letters = sum(c.isalpha() or c.isspace() for c in text)
    words = text.lower().split()
    if len(words) < 8 or letters / len(text) < 0.88:
        return False
    return sum(w in _FRENCH_MARKERS for w in words) / len(words) >= 0.06


def passages_of(paragraphs: list[str]) -> list[str]:
    """Cut prose paragraphs into passages of whole sentences, MIN_PASSAGE–MAX_PASSAGE characters."""
    passages: list[str] = []
    for paragraph in paragraphs:
        if not _is_prose(paragraph):
            continue
        chunk = ""
        for sentence in _SENTENCE_RE.split(paragraph):
            if chunk and len(chunk) + len(sentence) + 1 > MAX_PASSAGE:
                if len(chunk) >= MIN_PASSAGE:
                    passages.append(chunk)
                chunk = ""
            chunk = f"{chunk} {sentence}".strip()
        if MIN_PASSAGE <= len(chunk) <= MAX_PASSAGE * 1.5:
            passages.append(chunk)
    return passages


def _installed_version() -> str | None:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Status}\t${Version}", PACKAGE], capture_output=True, text=True, check=False
    )
    status, _, version = result.stdout.partition("\t")
    return version if result.returncode == 0 and status.endswith(" installed") else None


def ensure_manpages() -> str:
    """The installed ``manpages-fr`` version, installing the package with apt-get if it is missing."""
    version = _installed_version()
    if version:
        return version
    log(f"{PACKAGE} is not installed: installing it with apt-get (needs root and the Debian registry)…")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", PACKAGE]
    if subprocess.run(install, env=env, check=False, stdout=subprocess.DEVNULL).returncode != 0:
        log("apt-get install failed: running apt-get update, then trying again…")
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False, stdout=subprocess.DEVNULL)
        subprocess.run(install, env=env, check=True, stdout=subprocess.DEVNULL)
    version = _installed_version()
    if not version:
        raise RuntimeError(f"{PACKAGE} could not be installed")
    log(f"{PACKAGE} {version} installed")
    return version


def manpage_files() -> list[Path]:
    """The package's French man pages (sorted, so passages come in a reproducible order)."""
    listing = subprocess.run(["dpkg", "-L", PACKAGE], capture_output=True, text=True, check=True).stdout
    files = [Path(line) for line in listing.splitlines() if line.startswith(str(MAN_ROOT)) and line.endswith(".gz")]
    return sorted(path for path in files if path.is_file() and not path.is_symlink())


def manpages_source() -> TextSource:
    """Passages and title phrases from every page of ``manpages-fr`` (installed first if needed)."""
    version = ensure_manpages()
    passages: list[str] = []
    phrases: list[str] = []
    for path in manpage_files():
        source = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        name_line, paragraphs = roff_to_paragraphs(source)
        passages += passages_of(paragraphs)
        _, dash, what = name_line.partition(" - ")
        if dash and 3 <= len(what.split()) <= 14 and _is_title_like(what):
            phrases.append(what.strip().rstrip("."))
    if len(passages) < 1000:
        raise RuntimeError(f"only {len(passages)} passages found in {PACKAGE}: is {MAN_ROOT} populated?")
    return TextSource(PACKAGE, tuple(passages), tuple(phrases), version)


def _is_title_like(text: str) -> bool:
    return all(c.isalpha() or c in " ’'-,()" for c in text)


def corpus_source(corpus_dir: Path) -> TextSource:
    """The fallback: sentences of the real programme records (for the smoke test)."""
    from indexer.corpus import load_corpus

    programmes = load_corpus(corpus_dir)
    paragraphs = [p for prog in programmes for p in (*prog.description, *(o.text for o in prog.objectives))]
    sentences = [s for p in paragraphs for s in _SENTENCE_RE.split(p) if len(s) > 40]
    phrases = [prog.title.split("—")[-1].strip() for prog in programmes]
    return TextSource("corpus", tuple(paragraphs + sentences), tuple(phrases), "records")
