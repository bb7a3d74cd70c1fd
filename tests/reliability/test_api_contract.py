"""The JSON API against its own OpenAPI document, fuzzed in-process by schemathesis (bounded examples).

schemathesis needs the app when the module is collected (its lazy ``from_fixture`` loader does not work
with pytest 9), so the app is created here over an empty directory that a module fixture fills with a
real index before any test runs; the app opens its index lazily, on the first search.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.reliability.helpers import make_app

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
INDEX_ROOT = Path(tempfile.mkdtemp(prefix="api-contract-")) / "index"
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", make_app(INDEX_ROOT))


@pytest.fixture(scope="module", autouse=True)
def contract_index(index_root: Path) -> Iterator[Path]:
    """The session's real index, copied where the module's app looks for it."""
    shutil.copytree(index_root, INDEX_ROOT)
    yield INDEX_ROOT
    shutil.rmtree(INDEX_ROOT.parent, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_honours_its_openapi_document(case):
    # In process there is no HTTP client to undo Brotli or gzip (tests/test_compression.py checks them).
    case.call_and_validate(checks=CHECKS, headers={"Accept-Encoding": "identity"})
