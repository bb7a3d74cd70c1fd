"""URLs of search states: ``url_for``'s URLs without one ``url_for`` per link.

A results page links to dozens of states of one search (every facet value toggled, every page):
``url_for`` routed the endpoint and encoded every parameter again for each of them, most of the
request's time on the six programmes. Here ``url_for`` builds the endpoint's path once, and each
parameter is encoded once (a bounded cache of encoded pairs), as Werkzeug 3.1 encodes a query
string: ``urllib.parse.quote_plus`` with :data:`QUERY_SAFE`, ``None`` values left out, lists and
tuples repeated. ``tests/test_state_urls.py`` checks the URLs are byte for byte ``url_for``'s,
hostile values included."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus

from flask import url_for

#: What Werkzeug leaves unencoded in a query string (``werkzeug.urls._urlencode``: WHATWG's set).
QUERY_SAFE = "!$'()*,/:;?@"


class StateUrls:
    """The URLs of one endpoint with varying query parameters, its path routed once."""

    def __init__(self, endpoint: str, **path_values: Any) -> None:
        self.base = url_for(endpoint, **path_values)

    def url(self, params: Mapping[str, object]) -> str:
        """What ``url_for(endpoint, **path_values, **params)`` gives (a list value repeats its parameter)."""
        pairs = encoded_pairs(params)
        return f"{self.base}?{'&'.join(pairs)}" if pairs else self.base


def encoded_pairs(params: Mapping[str, object]) -> list[str]:
    """``name=value`` for each parameter value, encoded, in the order ``url_for`` gives them."""
    pairs: list[str] = []
    for name, value in params.items():
        if isinstance(value, list | tuple | set):
            pairs += [_pair(name, item) for item in value if item is not None]
        elif value is not None:
            pairs.append(_pair(name, value))
    return pairs


def _pair(name: str, value: object) -> str:
    """``name=value`` encoded as Werkzeug encodes it (bytes as they are, anything else through ``str``)."""
    if isinstance(value, str):
        return _text_pair(name, value)
    text = value if isinstance(value, bytes) else str(value)
    return f"{quote_plus(name, QUERY_SAFE)}={quote_plus(text, QUERY_SAFE)}"


@lru_cache(maxsize=4096)
def _text_pair(name: str, value: str) -> str:
    """A text parameter encoded (kept: facet values and the words come back in every link of a page)."""
    return f"{quote_plus(name, QUERY_SAFE)}={quote_plus(value, QUERY_SAFE)}"
