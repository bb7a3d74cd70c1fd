"""The Whoosh document of one programme."""

from __future__ import annotations

from indexer.analysis import fold
from indexer.records import Programme
from indexer.schema import CONTENT_FIELD, FACET_FIELDS, content_segments
from indexer.slugs import slugify


def document_for(programme: Programme, record: dict[str, object] | None = None) -> dict[str, object]:
    """The fields to index for ``programme``; ``record`` is its stored dict when already computed."""
    texts = {
        "title": programme.title,
        "countries": ", ".join(programme.countries),
        "region": programme.region,
        "status": programme.status,
        "themes": ", ".join(programme.themes),
        "objectives": programme.objectives_text,
        "description": programme.description_text,
        "notes": programme.notes_text,
    }
    return {
        "id": programme.id,
        "title": programme.title,
        "countries": texts["countries"],
        "region": programme.region,
        CONTENT_FIELD: content_segments(texts),
        "status": programme.status,
        FACET_FIELDS["region"]: slugify(programme.region),
        FACET_FIELDS["country"]: ",".join(slugify(c) for c in programme.countries),
        FACET_FIELDS["status"]: slugify(programme.status),
        FACET_FIELDS["theme"]: ",".join(slugify(t) for t in programme.themes),
        "title_sort": fold(programme.title),
        "record": record if record is not None else programme.to_dict(),
    }
