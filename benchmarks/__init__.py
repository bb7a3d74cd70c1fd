"""Benchmark harness: scaled French corpora, a fixed query mix, our service against naive Whoosh and tantivy.

Run it with ``python -m benchmarks`` (``make bench``); see ``benchmarks/README.md``.
"""

#: Bump when generated corpora or queries change (part of the corpus cache stamp).
HARNESS_VERSION = "1"
#: The default seed of corpus and query generation.
DEFAULT_SEED = 20260501
