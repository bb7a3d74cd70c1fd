"""The Whoosh document of one programme, field by field from the schema's table."""

from __future__ import annotations

from indexer.analysis import fold
from indexer.records import Programme
from indexer.schema import CONTENT_FIELD, FACET_TABLE, FIELD_TABLE, QUERY_FIELDS, content_segments
from indexer.slugs import slugify


def document_for(programme: Programme, record: dict[str, object] | None = None) -> dict[str, object]:
    """The fields to index for ``programme``; ``record`` is its stored dict when already computed."""
    texts = {field.name: field.index_text(programme) for field in FIELD_TABLE}
    return {
        "id": programme.id,
        **{field.name: texts[field.name] for field in QUERY_FIELDS},
        CONTENT_FIELD: content_segments(texts),
        **{facet.key_field: ",".join(slugify(v) for v in facet.values(programme)) for facet in FACET_TABLE},
        "title_sort": fold(programme.title),
        "record": record if record is not None else programme.to_dict(),
    }
