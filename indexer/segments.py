"""The build's second pass: write the index, one Whoosh segment per worker.

Each worker opens the (empty) staging index, reads its share of the record files
again, checks each against the digest of the first pass (a file edited meanwhile
fails the build), and writes one segment with its own Whoosh ``SegmentWriter``;
the parent then commits all segments in file order under the index's write lock.
This is what Whoosh's ``MpWriter(multisegment=True)`` does, without sending every
document through the parent: only summaries and segment descriptions cross process
boundaries, so no process ever holds the whole corpus.

Uses ``SegmentWriter``'s commit steps (``_finalize_segment``, ``_close_segment``,
``_commit_toc``, ``_finish``), as ``MpWriter`` does; whoosh3 is pinned exactly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from indexer import documents
from indexer.corpus import read_record
from indexer.parallel import advance, map_chunks
from indexer.scan import RecordSummary, record_data
from indexer.schema import CONTENT_FIELD, analyse_segments

#: Posting pool size of each writer (MB) before it spills a sorted run to disk.
POOL_LIMIT_MB = 128


class RecordChanged(Exception):
    """A record file no longer matches what the first pass read."""


def _write_segment(index_dir: Path, records: Sequence[RecordSummary]) -> tuple[Any, Counter[str]]:
    index = whoosh_index.open_dir(str(index_dir))
    spans = index.schema[CONTENT_FIELD].spans()
    forms: Counter[str] = Counter()
    writer = SegmentWriter(index, _lk=False, limitmb=POOL_LIMIT_MB)
    try:
        for summary in records:
            problems: list = []
            programme = read_record(Path(summary.path), problems)
            if programme is None or programme.id != summary.id:
                raise RecordChanged(f"{summary.path} : fiche modifiée pendant la construction")
            programme = replace(programme, themes=summary.themes)
            record, digest = record_data(programme)
            if digest != summary.digest:
                raise RecordChanged(f"{summary.path} : fiche modifiée pendant la construction")
            document = documents.document_for(programme, record)
            document[CONTENT_FIELD] = analyse_segments(spans, document[CONTENT_FIELD], forms)  # type: ignore[arg-type]
            writer.add_document(**document)
            advance()
        return writer._finalize_segment(), forms
    except BaseException:
        writer._close_segment()
        raise


def write_segments(
    index_dir: Path, records: Sequence[RecordSummary], progress: Callable[[int], None] | None = None
) -> Counter[str]:
    """Index ``records`` into the empty index at ``index_dir`` (one segment per worker).

    Returns how often each written word form occurs (for suggestions), counted while indexing.
    """
    index = whoosh_index.open_dir(str(index_dir))
    writer = SegmentWriter(index)  # holds the write lock until the segments are committed
    try:
        results = map_chunks(lambda chunk: _write_segment(index_dir, chunk), records, progress)
        writer._close_segment()
        writer._commit_toc([segment for segment, _ in results])
    except BaseException:
        writer.cancel()
        raise
    writer._finish()
    forms: Counter[str] = Counter()
    for _, counted in results:
        forms.update(counted)
    return forms
