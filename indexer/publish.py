"""Publish a verified generation to several replicas' index roots, switching them together.

``python -m indexer publish --index SRC --to DIR [--to DIR…]``: the generation ``SRC/CURRENT``
names is verified against its manifest, copied into each ``DIR`` (a staging folder renamed into
place once the copy verifies there), and only when every replica has it are the ``CURRENT``
pointers switched, one after the other (milliseconds apart). Until then each replica keeps
serving its previous generation: no replica ever serves a generation another has not got,
except during that last loop. Each replica's build lock is held throughout, so no build or
other publication interleaves.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from indexer.manifest import GenerationDamaged, verify_generation
from indexer.store import (
    IndexUnavailable,
    build_lock,
    current_generation_name,
    pointed_generation,
    remove_old_generations,
    staged_generation,
    switch_to,
)

Report = Callable[[str], None]


class PublishError(Exception):
    """The generation could not be published: no replica's pointer was changed, or (a failure while
    switching) the message names those that were."""


@dataclass(frozen=True)
class Published:
    """What a publication did: the generation and, per replica, whether its files had to be copied."""

    generation: str
    copied: dict[Path, bool]


def _verified_source(source_root: Path) -> str:
    try:
        name = pointed_generation(source_root)
        verify_generation(source_root / name)
    except IndexUnavailable as error:
        raise PublishError(f"rien à publier : {error.full()}") from error
    except GenerationDamaged as damage:
        raise PublishError(f"la génération source est endommagée : {damage}") from damage
    return name


def _copy_to(source: Path, replica: Path, name: str) -> bool:
    """Make ``replica/name`` a verified copy of ``source``; False when it already was one."""
    destination = replica / name
    if destination.is_dir():
        try:
            verify_generation(destination)
            return False
        except GenerationDamaged:
            shutil.rmtree(destination)
    with staged_generation(replica, name) as staging:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        try:
            verify_generation(staging)
        except GenerationDamaged as damage:
            raise PublishError(f"copie vers {replica} altérée : {damage}") from damage
    return True


def _switch_all(replicas: list[Path], name: str) -> None:
    """Point every replica at ``name``; a failure names the replicas already switched (publishing again
    finishes the job: the copies are there and verified)."""
    done: list[Path] = []
    for replica in replicas:
        try:
            switch_to(replica, name)
        except OSError as error:
            switched = ", ".join(map(str, done)) or "aucune"
            raise PublishError(
                f"bascule de {replica} impossible ({error}) ; déjà basculées : {switched} ; "
                "relancez la publication"
            ) from error
        done.append(replica)


def publish(source_root: Path, replicas: list[Path], report: Report | None = None) -> Published:
    """Copy the source's live generation to every replica, then switch them all; see the module docstring."""
    if not replicas:
        raise PublishError("aucune destination (--to DIR)")
    name = _verified_source(source_root)
    say = report or (lambda _message: None)
    copied: dict[Path, bool] = {}
    with ExitStack() as locks:
        for replica in sorted({replica.resolve() for replica in replicas}):  # one lock per folder, however named
            try:
                replica.mkdir(parents=True, exist_ok=True)
                locks.enter_context(build_lock(replica))
                copied[replica] = _copy_to(source_root / name, replica, name)
            except OSError as error:
                raise PublishError(f"copie vers {replica} impossible : {error}") from error
            say(f"{replica} : {name} {'copiée et vérifiée' if copied[replica] else 'déjà présente, vérifiée'}")
        previous = {replica: current_generation_name(replica) for replica in copied}  # kept for the fallback
        _switch_all(list(copied), name)
        for replica, live in previous.items():
            remove_old_generations(replica, keep={name, live or ""})
    say(f"{name} en service sur {len(copied)} réplique(s)")
    return Published(name, copied)
