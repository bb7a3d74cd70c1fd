"""The build's second pass: write the index, one Whoosh segment per worker.

Each worker opens the (empty) staging index, reads its share of the record files
again, checks each against the digest of the first pass (a file edited meanwhile
fails the build), and writes one segment with its own Whoosh ``SegmentWriter``;
the parent then commits all segments in file order under the index's write lock.
This is what Whoosh's ``MpWriter(multisegment=True)`` does, without sending every
document through the parent: only summaries and segment descriptions cross process
boundaries, so no process ever holds the whole corpus.

The engine adapter, writing side: the only build module allowed to use whoosh3's
internals (ruff's SLF001 is enabled everywhere else). Checked against whoosh3 3.54.0, the
exact pin in pyproject.toml. What it relies on:

- ``SegmentWriter``'s commit steps ``_finalize_segment``, ``_close_segment``,
  ``_commit_toc`` and ``_finish``, as ``MpWriter`` uses them;
- ``SegmentWriter._flush_segment`` (overridden), its ``_tempstorage``, ``newsegment``,
  ``perdocwriter``, ``fieldwriter``, ``codec.length_stats`` and ``per_document_reader()``;
- ``PostingPool``'s ``add`` (overridden), ``fieldnames``, ``currentsize``, ``limit``,
  ``current`` and ``save``, with its size estimate per posting.

A segment written here is read back by Whoosh's public API (tests/test_build.py compares
it with a single-writer build), so a whoosh3 that changes these fails the tests, not users.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from whoosh import index as whoosh_index
from whoosh.writing import PostingPool, SegmentWriter

from indexer import documents
from indexer.corpus import read_record
from indexer.parallel import advance, map_chunks
from indexer.scan import RecordSummary, record_data
from indexer.schema import CONTENT_FIELD, analyse_segments

#: Posting pool size of each writer (MB) before it spills a sorted run to disk.
POOL_LIMIT_MB = 128


class RecordChanged(Exception):
    """A record file no longer matches what the first pass read."""


class _Pool(PostingPool):
    """Whoosh's posting pool, adding a posting with the same size estimate minus the
    per-posting type assertions (a third of the pool's cost; postings come from our fields)."""

    def add(self, item: tuple) -> None:
        fieldname, text, _, _, value = item
        self.fieldnames.add(fieldname)
        self.currentsize += _POSTING_OVERHEAD + len(fieldname) + 2 * len(text) + len(value or b"")
        if self.currentsize > self.limit:
            self.save()
        self.current.append(item)


#: PostingPool.add's estimate of a posting's memory besides its strings (tuple, int, float, headers).
_POSTING_OVERHEAD = 28 + 4 * 5 + 21 + 26 + 18 + 16 + 21


class _Lengths:
    """The segment's field lengths read once per field, for ``add_postings`` which asks for
    one document's length per posting (a column read each time otherwise)."""

    def __init__(self, reader: Any, doc_count: int) -> None:
        self.reader = reader
        self.doc_count = doc_count

    def doc_field_length_reader(self, fieldname: str, default: int = 0) -> Callable[[int], int | None]:
        get = self.reader.doc_field_length_reader(fieldname, default)
        return [get(docnum) for docnum in range(self.doc_count)].__getitem__

    def close(self) -> None:
        self.reader.close()


class _SegmentWriter(SegmentWriter):
    """A SegmentWriter with the cheaper pool and length lookups above; same segment written."""

    def __init__(self, index: Any, limitmb: int) -> None:
        super().__init__(index, _lk=False, limitmb=limitmb)
        self.pool = _Pool(self._tempstorage, self.newsegment, limitmb=limitmb)

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        lengths = _Lengths(self.per_document_reader(), self.docnum) if self.codec.length_stats else None
        self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
        self.fieldwriter.close()
        if lengths:
            lengths.close()


def _write_segment(index_dir: Path, records: Sequence[RecordSummary]) -> tuple[Any, Counter[str]]:
    index = whoosh_index.open_dir(str(index_dir))
    spans = index.schema[CONTENT_FIELD].spans()
    forms: Counter[str] = Counter()
    writer = _SegmentWriter(index, POOL_LIMIT_MB)
    try:
        for summary in records:
            programme = read_record(Path(summary.path), [])
            if programme is not None:
                programme = replace(programme, themes=summary.themes)
                record, digest = record_data(programme)
            if programme is None or digest != summary.digest:  # the digest covers the id too
                raise RecordChanged(f"{summary.path} : fiche modifiée pendant la construction")
            document = documents.document_for(programme, record)
            segments = cast(list[tuple[str, float]], document[CONTENT_FIELD])  # content_segments()
            document[CONTENT_FIELD] = analyse_segments(spans, segments, forms)
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
