"""Compression: every kind of text answer comes Brotli- or gzip-encoded when the client accepts it, decodes
to exactly the plain answer, says ``Vary: Accept-Encoding``, and revalidates with its encoded ETag."""

from __future__ import annotations

import gzip

import brotli
import pytest

URLS = {
    "text/html": "/?q=migrants",
    "application/json": "/api/search?q=migrants",
    "text/csv": "/api/search?q=migrants&format=csv",
    "text/css": "/static/style.css",
    "text/javascript": "/static/app.js",
    "image/svg+xml": "/static/map/world.svg",
    "application/x-suggestions+json": "/api/suggest?q=co&format=opensearch",
}
DECODE = {"br": brotli.decompress, "gzip": gzip.decompress}


def fetch(client, url: str, encoding: str | None = None):
    response = client.get(url, headers={"Accept-Encoding": encoding} if encoding else {})
    body = response.get_data()
    response.close()
    return response, body


@pytest.mark.parametrize("encoding", ["br", "gzip"])
@pytest.mark.parametrize(("mimetype", "url"), URLS.items())
def test_text_answers_are_compressed_and_decode_to_the_plain_answer(client, mimetype: str, url: str, encoding: str):
    plain, plain_body = fetch(client, url)
    packed, packed_body = fetch(client, url, encoding)
    assert plain.mimetype == packed.mimetype and packed.mimetype.startswith(mimetype.split("/")[0])
    assert plain.headers.get("Content-Encoding") is None
    assert packed.headers["Content-Encoding"] == encoding
    assert DECODE[encoding](packed_body) == plain_body
    assert len(packed_body) < len(plain_body) * 0.6, "text compresses to well under two thirds"
    assert "Accept-Encoding" in packed.headers["Vary"]


def test_a_page_sent_compressed_revalidates_with_its_encoded_etag(client):
    first, _ = fetch(client, "/?q=retour", "br")
    assert first.headers["ETag"].endswith(':br"')
    again = client.get("/?q=retour", headers={"Accept-Encoding": "br", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]


def test_small_answers_and_unknown_encodings_are_sent_as_they_are(client):
    small, _ = fetch(client, "/healthz", "gzip")
    assert small.headers.get("Content-Encoding") is None
    unknown, body = fetch(client, "/?q=retour", "compress")
    assert unknown.headers.get("Content-Encoding") is None and body.startswith(b"<!doctype html>")
