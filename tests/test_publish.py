"""``indexer publish``: every replica gets a verified copy before any pointer moves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import indexer.publish as publish_module
from indexer.build import build_index
from indexer.cli import main
from indexer.manifest import verify_generation
from indexer.publish import PublishError, publish
from indexer.store import POINTER_NAME, current_generation_name, generation_names, pointed_generation
from tests.paths import ACRONYMS, CORPUS_DIR


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "source"
    build_index(CORPUS_DIR, root, ACRONYMS)
    return root


def test_every_replica_has_the_files_before_the_first_pointer_moves(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replicas = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    name = pointed_generation(source)
    seen: list[list[bool]] = []
    real_switch = publish_module.switch_to

    def watched_switch(root: Path, generation: str) -> None:
        seen.append([(replica / generation / "manifest.json").is_file() for replica in replicas])
        real_switch(root, generation)

    monkeypatch.setattr(publish_module, "switch_to", watched_switch)
    result = publish(source, replicas)
    assert result.generation == name and all(result.copied.values())
    assert seen == [[True, True, True]] * 3, "each switch happened with the files on every replica"
    for replica in replicas:
        assert current_generation_name(replica) == name
        verify_generation(replica / name)
        assert not list(replica.glob(".building-*"))


def test_publishing_again_copies_nothing_and_a_new_generation_keeps_the_previous(source: Path, tmp_path: Path):
    replica = tmp_path / "replica"
    first = publish(source, [replica]).generation
    assert publish(source, [replica]).copied == {replica: False}
    second = build_index(CORPUS_DIR, source, ACRONYMS, force=True).generation
    publish(source, [replica])
    assert generation_names(replica) == [first, second], "the previous generation stays for the fallback"


def test_a_damaged_copy_on_a_replica_is_replaced(source: Path, tmp_path: Path):
    replica = tmp_path / "replica"
    name = publish(source, [replica]).generation
    (replica / name / "meta.json").write_text("{}", encoding="utf-8")
    assert publish(source, [replica]).copied == {replica: True}
    verify_generation(replica / name)


def test_a_replica_that_cannot_be_written_leaves_every_pointer_alone(source: Path, tmp_path: Path):
    good = tmp_path / "good"
    old = publish(source, [good]).generation
    build_index(CORPUS_DIR, source, ACRONYMS, force=True)
    blocked = tmp_path / "zz-file"  # after « good » in the order replicas are copied
    blocked.write_text("un fichier, pas un dossier", encoding="utf-8")
    with pytest.raises(PublishError, match=r"copie vers .* impossible"):
        publish(source, [good, blocked / "index"])
    new = pointed_generation(source)
    assert (good / new / "manifest.json").is_file(), "the copy to the good replica was made"
    assert current_generation_name(good) == old, "the replica that got the files did not switch alone"


def test_a_damaged_source_is_refused(source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    name = pointed_generation(source)
    next((source / name).glob("*.seg")).write_bytes(b"abime")
    code = main(["publish", "--index", str(source), "--to", str(tmp_path / "replica")])
    err = capsys.readouterr().err
    assert code == 2 and "la génération source est endommagée" in err and "Aucune réplique" in err
    assert not (tmp_path / "replica" / POINTER_NAME).exists()


def test_the_command_line_reports_each_replica(source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    shutil.rmtree(tmp_path / "a", ignore_errors=True)
    code = main(["publish", "--index", str(source), "--to", str(tmp_path / "a"), "--to", str(tmp_path / "b")])
    out = capsys.readouterr().out.splitlines()
    name = pointed_generation(source)
    assert code == 0
    assert out == [
        f"{tmp_path / 'a'}\u00a0: {name} copiée et vérifiée",
        f"{tmp_path / 'b'}\u00a0: {name} copiée et vérifiée",
        f"{name} en service sur 2 réplique(s)",
    ]


def test_one_replica_named_twice_is_published_once(source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    replica = tmp_path / "replica"
    replica.mkdir()
    monkeypatch.chdir(tmp_path)
    result = publish(source, [replica, Path("replica"), tmp_path / "." / "replica"])  # would wait on its own lock
    assert list(result.copied) == [replica.resolve()]


def test_a_failed_switch_names_the_replicas_already_switched(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    replicas = [tmp_path / "a", tmp_path / "b"]
    real_switch = publish_module.switch_to

    def second_fails(root: Path, generation: str) -> None:
        if root.name == "b":
            raise OSError(28, "No space left on device")
        real_switch(root, generation)

    monkeypatch.setattr(publish_module, "switch_to", second_fails)
    with pytest.raises(PublishError) as raised:
        publish(source, replicas)
    assert f"déjà basculées\u00a0: {replicas[0]}" in str(raised.value) and "relancez" in str(raised.value)
    monkeypatch.setattr(publish_module, "switch_to", real_switch)
    publish(source, replicas)
    assert {current_generation_name(r) for r in replicas} == {pointed_generation(source)}
