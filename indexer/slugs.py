"""Accent- and case-insensitive keys: URL slugs and facet keys."""

from __future__ import annotations

import re
import unicodedata

from unidecode import unidecode

_NON_ALNUM_RE = re.compile(r"[^a-z0-9]+")


def facet_key(value: str) -> str:
    """The matching key of a facet value: « Côte d’Ivoire », « cote d'ivoire » → ``cote d ivoire``."""
    folded = unidecode(unicodedata.normalize("NFC", value)).lower()
    return _NON_ALNUM_RE.sub(" ", folded).strip()


def slugify(text: str) -> str:
    """A URL-safe identifier: « Afghanistan RADA » → ``afghanistan-rada``."""
    return facet_key(text).replace(" ", "-")
