"""Index lifecycle: missing, unreadable or mismatched index → the app starts, says why (503), recovers alone;
corpus problems → the build fails with file, line and field, and the served index is untouched."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from indexer.analysis import ANALYZER_VERSION
from indexer.manifest import write_manifest
from indexer.schema import SCHEMA_VERSION
from indexer.store import LOCK_NAME, POINTER_NAME
from tests.paths import ROOT
from tests.reliability.helpers import (
    PYTHON,
    assert_no_traceback,
    body_text,
    build,
    copy_corpus,
    json_of,
    live_generation,
    make_app,
    run_indexer,
    snapshot,
    wait_for,
)

UNAVAILABLE_PAGE = "La recherche est momentanément indisponible."
#: Recovery must not need a restart; search_app.holder looks again at most once per second.
RECOVERY_SECONDS = 5.0


def assert_unavailable(prod_client: FlaskClient, reason: str) -> None:
    """Every entry point says the index is unavailable, why, in French, with a 503, no trace and
    no file path (those go to the log)."""
    health = prod_client.get("/healthz")
    assert health.status_code == 503
    body = json_of(health)
    assert body["status"] == "unavailable"
    assert re.search(reason, body["error"]), body["error"]
    index_dir = str(prod_client.application.config["SEARCH_INDEX_DIR"])
    for path in ("/healthz", "/?q=migrants", "/api/search?q=migrants", "/programmes/afghanistan-rada"):
        text = body_text(prod_client.get(path))
        assert index_dir not in text and "Errno" not in text, (path, text[:300])

    page = prod_client.get("/", query_string={"q": "migrants"})
    assert page.status_code == 503
    text = body_text(page)
    assert UNAVAILABLE_PAGE in text
    assert re.search(reason, text.replace("&#39;", "'").replace("&#34;", '"'))
    assert '<form class="search-form"' in text  # the search box is still there
    assert_no_traceback(text)

    for path in ("/api/search?q=migrants", "/api/suggest?q=mig", "/api/programmes/afghanistan-rada"):
        response = prod_client.get(path)
        assert response.status_code == 503, path
        assert response.mimetype == "application/json"
        assert "L’index de recherche est indisponible." in json_of(response)["error"]
        assert_no_traceback(body_text(response))

    detail = prod_client.get("/programmes/afghanistan-rada")
    assert detail.status_code == 503
    assert "L’index de recherche est indisponible." in body_text(detail)
    assert_no_traceback(body_text(detail))


def assert_recovers(prod_client: FlaskClient, documents: int = 6) -> None:
    assert wait_for(lambda: prod_client.get("/healthz").status_code == 200, timeout=RECOVERY_SECONDS)
    health = json_of(prod_client.get("/healthz"))
    assert health["status"] == "ok" and health["documents"] == documents
    assert prod_client.get("/", query_string={"q": "migrants"}).status_code == 200
    search = prod_client.get("/api/search", query_string={"q": ""})
    assert search.status_code == 200 and json_of(search)["total"] == documents


@pytest.fixture
def records(tmp_path: Path) -> Path:
    return copy_corpus(tmp_path / "corpus")


def test_missing_index_then_first_build(tmp_path: Path, records: Path, caplog: pytest.LogCaptureFixture):
    root = tmp_path / "index"  # does not exist yet
    prod_client = make_app(root).test_client()
    with caplog.at_level("WARNING", logger="search_app.errors"):
        assert_unavailable(prod_client, r"aucun index construit")
    assert any(str(root) in record.getMessage() for record in caplog.records)  # the path is logged, not shown
    build(records, root, force=False)
    assert_recovers(prod_client)


def test_empty_index_directory(tmp_path: Path, records: Path):
    root = tmp_path / "index"
    root.mkdir()
    prod_client = make_app(root).test_client()
    assert_unavailable(prod_client, r"aucun index construit")
    build(records, root, force=False)
    assert_recovers(prod_client)


def _truncate_segment(generation: Path) -> None:
    segment = next(generation.glob("*.seg"))
    segment.write_bytes(segment.read_bytes()[:1000])


def _delete_toc(generation: Path) -> None:
    next(generation.glob("*.toc")).unlink()


def _garbage_meta(generation: Path) -> None:
    (generation / "meta.json").write_text("{pas du json", encoding="utf-8")


def _meta_not_an_object(generation: Path) -> None:
    (generation / "meta.json").write_text("[]", encoding="utf-8")


def _delete_meta(generation: Path) -> None:
    (generation / "meta.json").unlink()


def _garbage_vocabulary(generation: Path) -> None:
    (generation / "vocabulary.json").write_bytes(b"\xff\xfe[")


def _delete_generation(generation: Path) -> None:
    shutil.rmtree(generation)


def _pointer_not_utf8(generation: Path) -> None:
    (generation.parent / POINTER_NAME).write_bytes(b"\xff\xfegen\n")


def _pointer_is_a_directory(generation: Path) -> None:
    pointer = generation.parent / POINTER_NAME
    pointer.unlink()
    pointer.mkdir()


def _unreadable_files(generation: Path) -> None:
    for path in generation.iterdir():
        path.write_bytes(b"")


CORRUPTIONS: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated-segment": (_truncate_segment, r"endommagé"),
    "missing-toc": (_delete_toc, r"endommagé"),
    "garbage-meta": (_garbage_meta, r"endommagé"),
    "meta-not-an-object": (_meta_not_an_object, r"endommagé"),
    "missing-meta": (_delete_meta, r"endommagé"),
    "garbage-vocabulary": (_garbage_vocabulary, r"endommagé"),
    "generation-deleted": (_delete_generation, r"génération en service introuvable"),
    "empty-files": (_unreadable_files, r"endommagé"),
}
BAD_POINTERS: dict[str, tuple[Callable[[Path], None], str]] = {
    "pointer-not-utf8": (_pointer_not_utf8, "pointeur CURRENT invalide"),
    "pointer-is-a-directory": (_pointer_is_a_directory, "pointeur CURRENT invalide (c’est un dossier)"),
    "pointer-empty": (lambda generation: (generation.parent / POINTER_NAME).write_text("\n"), "pointeur CURRENT vide"),
    "pointer-missing": (lambda generation: (generation.parent / POINTER_NAME).unlink(), "pointeur CURRENT absent"),
}


# Whoosh leaves a file to the garbage collector when opening a damaged index fails; it is closed then.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_unreadable_index_then_rebuild(index_copy: Path, records: Path, kind: str):
    corrupt, reason = CORRUPTIONS[kind]
    corrupt(live_generation(index_copy))
    prod_client = make_app(index_copy).test_client()
    assert_unavailable(prod_client, reason)
    # The ordinary (not forced) build must not skip a damaged index because its fingerprint matches;
    # a pointer that is a directory is moved aside, not removed.
    result = run_indexer("build", "--corpus", records, "--index", index_copy)
    assert result.returncode == 0, result.stderr
    assert "réparation : " in result.stdout and "index reconstruit" in result.stdout, result.stdout
    assert_recovers(prod_client)


@pytest.mark.parametrize("kind", BAD_POINTERS)
def test_a_bad_pointer_serves_the_newest_intact_generation_until_a_build_repairs_it(
    index_copy: Path, records: Path, kind: str
):
    damage, reason = BAD_POINTERS[kind]
    live = live_generation(index_copy)
    damage(live)
    prod_client = make_app(index_copy).test_client()
    health = json_of(prod_client.get("/healthz"))
    assert health == {
        "status": "ok", "documents": 6, "index": live.name, "pointed": None, "fallback": True, "reason": reason
    }
    assert prod_client.get("/api/search", query_string={"q": "migrants"}).status_code == 200
    result = run_indexer("build", "--corpus", records, "--index", index_copy)
    assert result.returncode == 0 and f"réparation : {reason}" in result.stdout, result.stdout + result.stderr
    assert wait_for(lambda: json_of(prod_client.get("/healthz"))["fallback"] is False, timeout=RECOVERY_SECONDS)
    if kind == "pointer-is-a-directory":
        assert len(list(index_copy.glob(f"{POINTER_NAME}.dossier-*"))) == 1, "moved aside, not removed"


@pytest.mark.parametrize(
    ("key", "label", "expected"),
    [("analyzer_version", "l’analyseur", ANALYZER_VERSION), ("schema_version", "le schéma", SCHEMA_VERSION)],
)
def test_index_built_by_another_version_then_rebuild(index_copy: Path, records: Path, key, label, expected):
    meta_path = live_generation(index_copy) / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta[key] = "0"
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    write_manifest(meta_path.parent)  # a consistent generation, only built by another version
    prod_client = make_app(index_copy).test_client()
    assert_unavailable(prod_client, rf"avec {label} « 0 ».*attend « {re.escape(expected)} »")
    assert "--force" in json_of(prod_client.get("/healthz"))["error"]  # says how to fix it
    result = run_indexer("build", "--force", "--corpus", records, "--index", index_copy)
    assert result.returncode == 0, result.stderr
    assert_recovers(prod_client)


def test_index_repaired_in_place_is_picked_up_within_the_retry_delay(index_copy: Path):
    """Without a pointer change, a broken index is looked at again after RETRY_SECONDS (not per request)."""
    meta_path = live_generation(index_copy) / "meta.json"
    good = meta_path.read_bytes()
    meta_path.write_text("{", encoding="utf-8")
    prod_client = make_app(index_copy).test_client()
    assert_unavailable(prod_client, r"endommagé")
    meta_path.write_bytes(good)
    assert_recovers(prod_client)


def test_index_damaged_while_served_then_rebuilt(index_copy: Path, records: Path):
    """Corruption found mid-search takes the generation out of service until a new one is switched in."""
    prod_client = make_app(index_copy).test_client()
    assert prod_client.get("/healthz").status_code == 200
    segment = next(live_generation(index_copy).glob("*.seg"))
    data = bytearray(segment.read_bytes())
    data[20_000:60_000] = b"\x00\xff" * 20_000
    segment.write_bytes(bytes(data))
    prod_client = make_app(index_copy).test_client()  # a fresh process opening the damaged files
    assert prod_client.get("/api/search", query_string={"q": "migrants retour"}).status_code == 503
    assert json_of(prod_client.get("/healthz"))["status"] == "unavailable"
    build(records, index_copy)
    assert_recovers(prod_client)


def test_switching_generations_needs_no_restart(index_copy: Path, records: Path):
    prod_client = make_app(index_copy).test_client()
    before = json_of(prod_client.get("/healthz"))["index"]
    extra = records / "zz-programme-test.md"
    extra.write_text(
        (records / "afghanistan-rada.md")
        .read_text(encoding="utf-8")
        .replace("id: afghanistan-rada", "id: zz-programme-test")
        .replace("L’OIM a créé", "Le mot quetzalcoatl figure ici. L’OIM a créé"),
        encoding="utf-8",
    )
    after = build(records, index_copy)
    assert after != before
    assert wait_for(lambda: json_of(prod_client.get("/healthz"))["index"] == after)
    assert json_of(prod_client.get("/api/search", query_string={"q": "quetzalcoatl"}))["total"] == 1
    assert json_of(prod_client.get("/api/search", query_string={"q": ""}))["total"] == 7


# --- corpus problems: the build fails loudly and touches nothing -------------------------------------------------

RADA = "afghanistan-rada.md"
BANGLADESH = "bangladesh-reintegration-durable.md"


def line_of(path: Path, prefix: str) -> int:
    return next(n for n, line in enumerate(path.read_bytes().split(b"\n"), 1) if line.startswith(prefix.encode()))


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def malformed_record(records: Path) -> tuple[Path, int, str]:
    path = records / RADA
    _replace(path, "region: Asie et Pacifique", "region: Asie: et: Pacifique")
    return path, line_of(path, "region:"), "region"


def duplicate_id(records: Path) -> tuple[Path, int, str]:
    copy = records / "zz-copie-de-rada.md"
    shutil.copy(records / RADA, copy)
    return copy, line_of(copy, "id:"), "id"


def bad_encoding(records: Path) -> tuple[Path, int, str]:
    path = records / BANGLADESH
    lines = path.read_bytes().split(b"\n")
    number = line_of(path, "title:")
    lines[number - 1] = lines[number - 1].replace("é".encode(), b"\xe9", 1)  # Latin-1 « é »
    path.write_bytes(b"\n".join(lines))
    return path, number, "title"


def bad_encoding_in_description(records: Path) -> tuple[Path, int, str]:
    path = records / RADA
    data = path.read_bytes()
    path.write_bytes(data.rstrip(b"\n") + b"\n\nParagraphe en Windows-1252 : r\xe9int\xe9gration.\n")
    return path, len(data.rstrip(b"\n").split(b"\n")) + 2, "description"


def missing_field(records: Path) -> tuple[Path, int, str]:
    path = records / BANGLADESH
    _replace(path, "\nregion: Asie et Pacifique", "")
    return path, 1, "region"


def unknown_status(records: Path) -> tuple[Path, int, str]:
    path = records / RADA
    _replace(path, "status: Activités achevées", "status: Abandonné")
    return path, line_of(path, "status:"), "status"


CORPUS_PROBLEMS = {
    "malformed-record": malformed_record,
    "duplicate-id": duplicate_id,
    "bad-encoding": bad_encoding,
    "bad-encoding-in-description": bad_encoding_in_description,
    "missing-field": missing_field,
    "unknown-status": unknown_status,
}


@pytest.mark.parametrize("kind", CORPUS_PROBLEMS)
def test_corpus_problem_fails_the_build_and_leaves_the_served_index_untouched(
    index_copy: Path, records: Path, kind: str
):
    prod_client = make_app(index_copy).test_client()
    served = json_of(prod_client.get("/healthz"))["index"]
    before = snapshot(index_copy)
    path, line, field = CORPUS_PROBLEMS[kind](records)

    result = run_indexer("build", "--force", "--corpus", records, "--index", index_copy)

    assert result.returncode != 0
    assert f"{path}:{line}: [{field}]" in result.stderr, result.stderr
    assert "Corpus invalide" in result.stderr
    assert "l’index en service est inchangé" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "en service :" not in result.stdout
    assert snapshot(index_copy) == before  # CURRENT and every generation file, byte for byte and mtime
    assert (index_copy / POINTER_NAME).read_text(encoding="utf-8").strip() == served
    health = prod_client.get("/healthz")
    assert health.status_code == 200 and json_of(health)["index"] == served
    assert json_of(prod_client.get("/api/search", query_string={"q": ""}))["total"] == 6


# --- a read-only index folder, a full disk: real mounts in a private namespace -------------------------------------

#: ``unshare -rm``: a user and mount namespace where this process may mount, seen by nobody else.
PRIVATE_MOUNTS = ["unshare", "-rm", "sh", "-c"]


def _private_mounts_work() -> bool:
    try:
        return subprocess.run([*PRIVATE_MOUNTS, "true"], capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


needs_private_mounts = pytest.mark.skipif(not _private_mounts_work(), reason="unshare -rm is not permitted here")


def run_with_mounts(script: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """``script`` (sh, ``$PYTHON`` and ``$1``… set) in a private mount namespace, from the repository root."""
    return subprocess.run(
        [*PRIVATE_MOUNTS, script, "sh", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, "PYTHON": PYTHON},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


READ_ONLY_BUILD = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1" && exec "$PYTHON" -m indexer build'


@needs_private_mounts
@pytest.mark.parametrize("lock_file", [True, False], ids=["with-lock-file", "without-lock-file"])
def test_read_only_index_folder_up_to_date_build_says_so(tmp_path: Path, records: Path, lock_file: bool):
    root = tmp_path / "index"
    served = build(records, root)
    if not lock_file:
        (root / LOCK_NAME).unlink()
    before = snapshot(root)
    done = run_with_mounts(f'{READ_ONLY_BUILD} --corpus "$2" --index "$1"', root, records)
    assert done.returncode == 0, done.stderr
    assert f"corpus inchangé\u00a0: {served} reste en service" in done.stdout
    assert_no_traceback(done.stdout + done.stderr)
    assert snapshot(root) == before

    _replace(records / RADA, "huit provinces", "neuf provinces")
    done = run_with_mounts(f'{READ_ONLY_BUILD} --corpus "$2" --index "$1"', root, records)
    assert done.returncode == 2
    assert (
        f"Erreur\u00a0: l’index {root} est sur un système de fichiers en lecture seule\u00a0: construction abandonnée, "
        "l’index en service est inchangé ([Errno 30]"
    ) in done.stderr
    assert_no_traceback(done.stdout + done.stderr)
    assert snapshot(root) == before


FULL_DISK_BUILD = """
mount -t tmpfs -o size=4m tmpfs "$1" || exit 99
"$PYTHON" -m indexer build --corpus "$2" --index "$1/index" >/dev/null 2>&1 || exit 98
echo "before=$(cat "$1/index/CURRENT")"
free=$(df -k --output=avail "$1" | tail -1)
dd if=/dev/zero of="$1/filler" bs=1k count=$((free - 60)) 2>/dev/null
"$PYTHON" -m indexer build --force --corpus "$2" --index "$1/index"
echo "exit=$?"
echo "after=$(cat "$1/index/CURRENT")"
echo "left=$(ls -A "$1/index" | tr '\\n' ' ')"
"""


@needs_private_mounts
def test_full_disk_names_the_index_folder_and_leaves_the_served_index(tmp_path: Path, records: Path):
    disk = tmp_path / "disk"
    disk.mkdir()
    done = run_with_mounts(FULL_DISK_BUILD, disk, records)
    assert done.returncode == 0, done.stderr
    result = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert result["exit"] == "2", done.stderr
    assert (
        f"Erreur\u00a0: plus de place sur le disque de l’index {disk}/index\u00a0: construction abandonnée, "
        "l’index en service est inchangé ([Errno 28] No space left on device"
    ) in done.stderr
    assert_no_traceback(done.stderr)
    assert result["after"] == result["before"]
    assert sorted(result["left"].split()) == sorted([LOCK_NAME, "CURRENT", result["before"]])  # no staging, no temp


def test_an_unavailable_index_is_logged_once_not_per_request(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    prod_client = make_app(tmp_path / "nothing-here").test_client()
    with caplog.at_level("WARNING", logger="search_app.errors"):
        statuses = {prod_client.get("/api/search", query_string={"q": f"mot{n}"}).status_code for n in range(20)}
    assert statuses == {503}
    assert sum("index unavailable" in record.getMessage() for record in caplog.records) == 1
