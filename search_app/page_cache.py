"""A small LRU cache of search pages, keyed by index generation and request.

Search traffic repeats itself (popular queries, pagination back and forth); a
page depends only on the request and the generation, so a new generation
simply stops matching old keys, which age out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class PageCache(Generic[Value]):
    """A thread-safe LRU mapping; size 0 disables it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Value] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> Value | None:
        """The cached value (refreshed as most recent), or None."""
        if not self.size:
            return None
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value: Value) -> None:
        """Store a value, evicting the least recently used beyond the size."""
        if not self.size:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
