"""Parse what users type into a small query tree, repairing anything malformed.

Syntax: words (ANDed), ``"exact phrase"``, ``-word`` (exclusion), ``OU``/``OR``,
``ET``/``AND``, ``SAUF``/``NOT``, ``word*`` (prefix), ``word~1`` (fuzzy),
``pays:Mali`` / ``region:…`` / ``statut:…`` / ``titre:…`` field filters, and
parentheses. Nothing here raises: unbalanced quotes or parentheses, lone
operators, bare ``*``, stray colons and unknown fields are repaired or read as
plain words, and each repair is reported as a French notice. Limits (length,
number of terms, nesting depth, fuzziness) are enforced here too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from indexer.analysis import east_after_lone_l
from indexer.schema import QUERY_FIELDS

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
MAX_DEPTH = 8
MAX_FUZZY_DISTANCE = 2

#: Field names users may type (French and English) -> index field, from the schema's table.
FIELD_ALIASES: dict[str, str] = {alias: field.name for field in QUERY_FIELDS for alias in field.aliases}
#: Index field -> the name shown back to users (its first alias).
FIELD_LABELS: dict[str, str] = {field.name: field.aliases[0] for field in QUERY_FIELDS}
OPERATORS = {"AND": "AND", "ET": "AND", "OR": "OR", "OU": "OR", "NOT": "NOT", "SAUF": "NOT"}
OPERATOR_LABELS = {"AND": "ET", "OR": "OU", "NOT": "SAUF"}

_LEXER_RE = re.compile(
    r"""(?P<space>\s+)
      | (?P<lparen>\()
      | (?P<rparen>\))
      | (?P<phrase>(?P<pfield>[^\W\d_][\w]*:)?(?P<sign1>[-+])?"(?P<ptext>[^"]*)(?P<pclose>"?))
      | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)
_WORD_RE = re.compile(r"^(?P<sign>[-+]?)(?:(?P<field>[^\W\d_]\w*):)?(?P<text>.*?)(?P<star>\*?)(?:~(?P<fuzzy>\d*))?$")
_INVISIBLE_CATEGORIES = {"Cc", "Co", "Cs", "Zl", "Zp"}


@dataclass(frozen=True)
class Word:
    """A word, maybe restricted to a field, maybe a prefix or fuzzy."""

    text: str
    field: str | None = None
    prefix: bool = False
    fuzzy: int | None = None


@dataclass(frozen=True)
class Phrase:
    """An exact sequence of words."""

    text: str
    field: str | None = None


@dataclass(frozen=True)
class Not:
    """Documents not matching ``child``."""

    child: Node


@dataclass(frozen=True)
class And:
    """Documents matching every child; ``explicit`` when the user typed ET/AND (never relaxed)."""

    children: tuple[Node, ...]
    explicit: bool = False


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Word | Phrase | Not | And | Or


@dataclass
class ParsedQuery:
    """The tree (None for an empty query), how it was understood, and repair notices."""

    tree: Node | None
    notices: list[str] = field(default_factory=list)

    @property
    def understood_as(self) -> str:
        return render(self.tree) if self.tree is not None else ""


def clean_text(text: str) -> str:
    """NFC-normalise; control and private-use characters become spaces, format characters (soft
    hyphen, zero-width space or joiner, bidi marks) are dropped, so « réinté\u00adgration » is one word."""
    text = unicodedata.normalize("NFC", text)
    return "".join(
        " " if category in _INVISIBLE_CATEGORIES else "" if category == "Cf" else c
        for c, category in ((c, unicodedata.category(c)) for c in text)
    )


@dataclass
class _Lexeme:
    kind: str  # "(", ")", "op", "phrase", "word"
    value: str = ""
    node: Node | None = None
    negated: bool = False


class _Lexer:
    def __init__(self, notices: list[str]) -> None:
        self.notices = notices
        self.terms = 0

    def _note(self, message: str) -> None:
        if message not in self.notices:
            self.notices.append(message)

    def _field(self, name: str | None, raw: str) -> tuple[str | None, str | None]:
        """Resolve a typed field name; unknown fields become part of the words."""
        if name is None:
            return None, None
        resolved = FIELD_ALIASES.get(name.lower()) or FIELD_ALIASES.get(unicodedata.normalize("NFC", name.lower()))
        if resolved is None:
            self._note(f"Champ inconnu « {name} » : cherché comme mot.")
            return None, name
        return resolved, None

    def lex(self, text: str) -> list[_Lexeme]:
        lexemes: list[_Lexeme] = []
        for match in _LEXER_RE.finditer(text):
            if match.group("space"):
                continue
            if match.group("lparen"):
                lexemes.append(_Lexeme("("))
            elif match.group("rparen"):
                lexemes.append(_Lexeme(")"))
            elif match.group("phrase") is not None:
                lexemes.extend(self._phrase(match))
            else:
                lexemes.extend(self._word(match.group("word")))
        return lexemes

    def _phrase(self, match: re.Match[str]) -> list[_Lexeme]:
        if not match.group("pclose"):
            self._note("Guillemet non fermé : l’expression a été fermée en fin de requête.")
        name = match.group("pfield")[:-1] if match.group("pfield") else None
        field_name, extra_word = self._field(name, match.group(0))
        words = [w for w in match.group("ptext").split() if any(c.isalnum() for c in w)]
        lexemes = [_Lexeme("word", node=Word(extra_word))] if extra_word else []
        if not words:
            return lexemes
        negated = match.group("sign1") == "-"
        node: Node = Phrase(" ".join(words), field_name) if len(words) > 1 else Word(words[0], field_name)
        self.terms += len(words)
        lexemes.append(_Lexeme("phrase", node=node, negated=negated))
        return lexemes

    def _word(self, raw: str) -> list[_Lexeme]:
        if raw in OPERATORS:
            return [_Lexeme("op", OPERATORS[raw])]
        match = _WORD_RE.match(raw)
        assert match is not None  # the pattern accepts any string
        field_name, extra_word = self._field(match.group("field"), raw)
        text = match.group("text")
        if ":" in text:
            self._note("Deux-points isolé ignoré.")
            text = text.replace(":", " ").strip()
        lexemes = [_Lexeme("word", node=Word(extra_word))] if extra_word else []
        core = text.strip("*~-+")
        if not any(c.isalnum() for c in core):
            if raw.strip("-+*~:") or match.group("star") or "*" in raw:
                self._note("Joker « * » sans début de mot ignoré." if "*" in raw else f"« {raw} » ignoré.")
            return lexemes
        fuzzy = None
        if match.group("fuzzy") is not None:
            asked = int(match.group("fuzzy")[:3] or 1)
            allowed = 1 if len(core) <= 4 else MAX_FUZZY_DISTANCE
            fuzzy = max(1, min(asked, allowed))
            if asked > allowed:
                self._note(f"Tolérance « ~{match.group('fuzzy')} » ramenée à ~{allowed} pour « {core} ».")
        if text.startswith("*"):
            self._note("Joker en début de mot ignoré.")
        self.terms += 1
        node = Word(core, field_name, prefix=bool(match.group("star")) and fuzzy is None, fuzzy=fuzzy)
        lexemes.append(_Lexeme("word", node=node, negated=match.group("sign") == "-"))
        return lexemes


class _Parser:
    """Recursive descent over lexemes with a depth cap; never raises on user input."""

    def __init__(self, lexemes: list[_Lexeme], notices: list[str]) -> None:
        self.lexemes = lexemes
        self.position = 0
        self.notices = notices
        self.depth = 0

    def _note(self, message: str) -> None:
        if message not in self.notices:
            self.notices.append(message)

    def _peek(self) -> _Lexeme | None:
        return self.lexemes[self.position] if self.position < len(self.lexemes) else None

    def parse(self) -> Node | None:
        node = self._or()
        while self._peek() is not None:  # a stray ")" at top level
            self._note("Parenthèse fermante en trop ignorée.")
            self.position += 1
            more = self._or()
            node = _combine(And, [n for n in (node, more) if n is not None])
        return node

    def _or(self) -> Node | None:
        parts = [self._and()]
        while (lexeme := self._peek()) is not None and lexeme.kind == "op" and lexeme.value == "OR":
            self.position += 1
            parts.append(self._and())
        kept = [p for p in parts if p is not None]
        if len(parts) > 1 and len(kept) < len(parts):
            self._note("Opérateur « OU » sans mot d’un côté : ignoré.")
        return _combine(Or, kept)

    def _and(self) -> Node | None:
        parts: list[Node] = []
        pending_not = False
        explicit = False
        while (lexeme := self._peek()) is not None and not (lexeme.kind == ")" or lexeme.value == "OR"):
            self.position += 1
            if lexeme.kind == "op":
                if lexeme.value == "NOT":
                    pending_not = True
                elif not parts:
                    self._note("Opérateur « ET » sans mot avant : ignoré.")
                else:
                    explicit = True
                continue
            node = self._atom(lexeme)
            if node is None:
                continue
            if pending_not or lexeme.negated:
                node = Not(node)
            pending_not = False
            parts.append(node)
        if pending_not:
            self._note("Opérateur « SAUF » sans mot après : ignoré.")
        node = _combine(And, parts)
        return And(node.children, explicit=True) if explicit and isinstance(node, And) else node

    def _atom(self, lexeme: _Lexeme) -> Node | None:
        if lexeme.kind != "(":
            return lexeme.node
        if self.depth >= MAX_DEPTH:
            self._note(f"Parenthèses imbriquées au-delà de {MAX_DEPTH} niveaux : ignorées.")
            return None
        self.depth += 1
        inner = self._or()
        self.depth -= 1
        closing = self._peek()
        if closing is not None and closing.kind == ")":
            self.position += 1
        else:
            self._note("Parenthèse non fermée : fermée en fin de requête.")
        return inner


def _combine(kind: type[And] | type[Or], parts: list[Node]) -> Node | None:
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return kind(tuple(parts))


def _drop_extra_parens(lexemes: list[_Lexeme], notices: list[str]) -> list[_Lexeme]:
    """Drop parentheses beyond the nesting cap up front, so the parser stays shallow."""
    kept: list[_Lexeme] = []
    depth = 0
    dropped = False
    for lexeme in lexemes:
        if lexeme.kind == "(":
            depth += 1
            if depth > MAX_DEPTH:
                dropped = True
                continue
        elif lexeme.kind == ")":
            depth -= 1
            if depth >= MAX_DEPTH:
                continue
            depth = max(depth, 0)
        kept.append(lexeme)
    if dropped:
        notices.append(f"Parenthèses imbriquées au-delà de {MAX_DEPTH} niveaux : ignorées.")
    return kept


def _limit_terms(lexemes: list[_Lexeme], notices: list[str]) -> list[_Lexeme]:
    count = 0
    kept = []
    for lexeme in lexemes:
        if lexeme.kind in ("word", "phrase"):
            count += 1
            if count > MAX_TERMS:
                continue
        kept.append(lexeme)
    if count > MAX_TERMS:
        notices.append(f"Requête limitée aux {MAX_TERMS} premiers mots.")
    return kept


def parse_query(text: str) -> ParsedQuery:
    """Parse user text into a :class:`ParsedQuery`; never raises."""
    notices: list[str] = []
    text = east_after_lone_l(clean_text(text or ""))
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notices.append(f"Requête trop longue : seuls les {MAX_QUERY_CHARS} premiers caractères sont pris en compte.")
    lexer = _Lexer(notices)
    lexemes = _limit_terms(_drop_extra_parens(lexer.lex(text), notices), notices)
    tree = _Parser(lexemes, notices).parse()
    return ParsedQuery(tree=tree, notices=notices)


def render(node: Node) -> str:
    """Show a tree the way it was understood, with French operators."""
    if isinstance(node, Word):
        text = node.text + ("*" if node.prefix else "") + (f"~{node.fuzzy}" if node.fuzzy else "")
        return f"{FIELD_LABELS[node.field]}:{text}" if node.field else text
    if isinstance(node, Phrase):
        return f'{FIELD_LABELS[node.field]}:"{node.text}"' if node.field else f'"{node.text}"'
    if isinstance(node, Not):
        return f"SAUF {_render_child(node.child)}"
    if isinstance(node, Or):
        return " OU ".join(_render_child(child) for child in node.children)
    positives = [_render_child(c) for c in node.children if not isinstance(c, Not)]
    negatives = [render(c) for c in node.children if isinstance(c, Not)]
    return " ".join([" ET ".join(positives), *negatives]).strip()


def _render_child(node: Node) -> str:
    return f"({render(node)})" if isinstance(node, (And, Or)) else render(node)


def positive_words(node: Node | None) -> list[Word | Phrase]:
    """Words and phrases that count towards matching (not under a negation)."""
    if node is None or isinstance(node, Not):
        return []
    if isinstance(node, (Word, Phrase)):
        return [node]
    return [leaf for child in node.children for leaf in positive_words(child)]
