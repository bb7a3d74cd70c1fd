"""The ``python -m indexer`` command line: a thin layer over the library functions."""

from __future__ import annotations

import argparse
import errno
import io
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from indexer.analysis import ANALYZER_VERSION
from indexer.analyze import GenerationAnalyzer, index_terms, index_tokens, open_analyzer, query_terms, query_tokens
from indexer.build import BuildError, build_index, prepare_corpus
from indexer.corpus import CorpusError
from indexer.geography import codes_file_for
from indexer.importer import import_page
from indexer.manifest import GenerationDamaged, flag_damage, verify_generation
from indexer.parallel import WorkerDied
from indexer.processes import BuildInterrupted, stop_on_signals
from indexer.publish import PublishError, publish
from indexer.schema import FACET_TABLE
from indexer.source_page import SourceFormatError
from indexer.store import (
    IndexUnavailable,
    current_generation,
    current_generation_name,
    default_index_dir,
    generation_names,
    pointed_generation,
)
from indexer.vocabularies import ENGLISH_NAME, SYNONYMS_NAME, THEMES_NAME

DEFAULT_CORPUS = Path("corpus/programmes")
DEFAULT_ACRONYMS = None  # acronyms.txt next to the records directory
ACRONYMS_HELP = "sigles à ne pas raciniser (défaut : acronyms.txt à côté du dossier des fiches)"
INDEX_HELP = "dossier de l’index (défaut : $SEARCH_INDEX_DIR ou var/index)"
ANALYZE_DESCRIPTION = (
    "Affiche, une ligne par TEXTE, les termes que l’analyseur de la génération en service produit "
    "(comme _analyze d’Elasticsearch) : ceux que l’index enregistre pour ce texte, formes jointes des "
    "mots composés comprises, dans l’ordre des positions. Sans TEXTE, chaque ligne de l’entrée standard "
    "est un texte. Une ligne vide : aucun terme (que des mots vides). « -- » avant un texte qui commence "
    "par « - »."
)
#: What an OS error during a build says of the index folder (``{root}``), by errno.
STORAGE_PROBLEMS = {
    errno.ENOSPC: "plus de place sur le disque de l’index {root}",
    errno.EDQUOT: "quota disque dépassé pour l’index {root}",
    errno.EROFS: "l’index {root} est sur un système de fichiers en lecture seule",
    errno.EACCES: "écriture refusée dans l’index {root}",
    errno.EPERM: "écriture refusée dans l’index {root}",
}
JSON_HELP = (
    "un document JSON par ligne et par texte : {\"text\", \"tokens\": [{\"term\", \"start\", \"end\", "
    "\"position\", \"joined\"}]} ; avec --query, tokens = [{\"position\", \"alternatives\"}]"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m indexer", description="Corpus et index des programmes UE-OIM.")
    commands = parser.add_subparsers(dest="command", required=True)

    imp = commands.add_parser("import", help="découper la page source en fiches programme")
    imp.add_argument("page", type=Path, help="page source (texte UTF-8)")
    imp.add_argument("--out", type=Path, default=DEFAULT_CORPUS, help="dossier des fiches (défaut : %(default)s)")
    imp.add_argument("--force", action="store_true", help="écraser aussi les fiches modifiées à la main")

    check = commands.add_parser(
        "check", help="valider toutes les fiches du corpus, ou (--index) les fichiers de l’index contre leur manifeste"
    )
    check.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="dossier des fiches (défaut : %(default)s)")
    check.add_argument(
        "--index",
        type=Path,
        default=None,
        help="vérifier chaque génération de ce dossier d’index (tailles et SHA-256) au lieu du corpus",
    )

    build = commands.add_parser("build", help="construire l’index et le mettre en service atomiquement")
    build.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="dossier des fiches (défaut : %(default)s)")
    build.add_argument("--index", type=Path, default=None, help=INDEX_HELP)
    build.add_argument(
        "--acronyms", type=Path, default=DEFAULT_ACRONYMS, help=ACRONYMS_HELP
    )
    build.add_argument("--force", action="store_true", help="reconstruire même si le corpus n’a pas changé")

    stats = commands.add_parser("stats", help="décrire l’index en service")
    stats.add_argument("--index", type=Path, default=None, help=INDEX_HELP)
    _add_publish(commands)
    _add_analyze(commands)
    return parser


def _add_publish(commands: argparse._SubParsersAction) -> None:
    publish = commands.add_parser(
        "publish", help="copier la génération en service vers chaque réplique, puis les basculer ensemble"
    )
    publish.add_argument("--index", type=Path, default=None, help=INDEX_HELP)
    publish.add_argument(
        "--to", type=Path, action="append", required=True, metavar="DIR",
        help="dossier d’index d’une réplique (répéter l’option pour chacune)",
    )


def _add_analyze(commands: argparse._SubParsersAction) -> None:
    analyze = commands.add_parser(
        "analyze", help="afficher les termes que l’analyseur de l’index produit", description=ANALYZE_DESCRIPTION
    )
    analyze.add_argument("texts", nargs="*", metavar="TEXT", help="texte à analyser (défaut : l’entrée standard)")
    analyze.add_argument("--index", type=Path, default=None, help=INDEX_HELP)
    analyze.add_argument(
        "--query", action="store_true", help="les termes qu’une recherche cherche : toutes les variantes de chaque mot"
    )
    analyze.add_argument("--json", action="store_true", help=JSON_HELP)


def _import(args: argparse.Namespace) -> int:
    report = import_page(args.page, args.out, force=args.force)
    for name in report.written:
        print(f"écrit      {args.out / name}")
    for name in report.unchanged:
        print(f"inchangé   {args.out / name}")
    for name in report.refused:
        print(f"refusé     {args.out / name} (modifié à la main ; --force pour écraser)", file=sys.stderr)
    return 1 if report.refused else 0


def _check(args: argparse.Namespace) -> int:
    if args.index is not None:
        return _check_index(args.index)
    prepared = prepare_corpus(args.corpus)
    themes = sorted({theme for r in prepared.records for theme in r.themes})
    print(f"{len(prepared.records)} fiches valides dans {args.corpus}")
    synonyms = len(prepared.synonyms) - prepared.english
    print(f"{synonyms} groupes de synonymes valides ({args.corpus.parent / SYNONYMS_NAME})")
    print(f"{prepared.english} groupes anglais valides (pays du corpus et {args.corpus.parent / ENGLISH_NAME})")
    print(f"{len(themes)} thèmes attribués ({args.corpus.parent / THEMES_NAME})")
    codes = prepared.country_codes
    print(f"{len(codes)} noms de pays reconnus ({codes_file_for(args.corpus.parent)})")
    return 0


def _check_index(root: Path) -> int:
    """Verify every generation under ``root``; 2 if the pointer or any generation is damaged."""
    try:
        live: str | None = pointed_generation(root)
    except IndexUnavailable as error:
        live = None
        print(f"Erreur : {error.full()}", file=sys.stderr)
    names = generation_names(root)
    damaged = live is None
    for name in reversed(names):
        role = "en service" if name == live else "précédente" if live is None or name < live else "plus récente"
        try:
            manifest = verify_generation(root / name)
        except GenerationDamaged as damage:
            damaged = True
            print(f"{name}  {role}  ENDOMMAGÉE : {root / name / damage.file} : {damage.problem}", file=sys.stderr)
            flag_damage(root / name)
        else:
            print(f"{name}  {role}  intacte ({len(manifest.files)} fichiers vérifiés)")
    return 2 if damaged else 0


def _progress(done: int, total: int) -> None:
    print(f"  indexé {done}/{total}", file=sys.stderr, flush=True)


def _outcome(root: Path, served: str | None) -> str:
    """What a stopped build left in service, ``served`` being what was before."""
    now = current_generation_name(root)
    if now == served:
        return "l’index en service est inchangé"
    return f"{now} est déjà en service" if now else "aucun index n’est en service"


def _storage_error(error: OSError, root: Path, served: str | None) -> int:
    """Say what a full disk or an unwritable folder did to the build, naming the index folder (others: raise)."""
    if error.errno not in STORAGE_PROBLEMS:
        raise error
    problem = STORAGE_PROBLEMS[error.errno].format(root=root)
    print(f"Erreur : {problem} : construction abandonnée, {_outcome(root, served)} ({error})", file=sys.stderr)
    return 2


def _build(args: argparse.Namespace) -> int:
    root = args.index or default_index_dir()
    served = current_generation_name(root)
    try:
        with stop_on_signals():
            result = build_index(args.corpus, root, args.acronyms, force=args.force, progress=_progress)
    except BuildInterrupted as stopped:
        print(f"construction interrompue ({stopped.signal_name}) : {_outcome(root, served)}", file=sys.stderr)
        return stopped.exit_code
    except OSError as error:
        return _storage_error(error, root, served)
    if result.repaired:
        print(f"réparation : {result.repaired} ; index reconstruit")
    if result.skipped:
        print(f"corpus inchangé : {result.generation} reste en service ({result.documents} documents)")
    else:
        print(f"{result.generation} en service : {result.documents} documents en {result.seconds:.2f} s")
    return 0


def _publish(args: argparse.Namespace) -> int:
    publish(args.index or default_index_dir(), args.to, report=print)
    return 0


def _stats(args: argparse.Namespace) -> int:
    generation = current_generation(args.index or default_index_dir())
    meta = generation.meta
    print(f"génération  {generation.name}")
    print(f"documents   {meta['documents']}")
    print(f"construit   {meta['built_at']}  (analyseur {meta['analyzer_version']})")
    labels = {facet.name: facet.heading for facet in FACET_TABLE}
    for facet, counts in meta["facets"].items():
        print(f"\n{labels.get(facet, facet)}")
        for value, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            print(f"  {count:>4}  {value}")
    return 0


def _input_texts(texts: list[str]) -> Iterator[str]:
    """The TEXT arguments, else each line of standard input (undecodable bytes become U+FFFD)."""
    if texts:
        yield from (text.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for text in texts)
        return
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")
    for line in sys.stdin:
        yield line.rstrip("\r\n")


def _analysis_line(state: GenerationAnalyzer, text: str, args: argparse.Namespace) -> str:
    if args.json:
        tokens = query_tokens(state.analyzer, text, state.lexicon) if args.query else index_tokens(state.analyzer, text)
        return json.dumps({"text": text, "tokens": tokens}, ensure_ascii=False)
    terms = query_terms(state.analyzer, text, state.lexicon) if args.query else index_terms(state.analyzer, text)
    return " ".join(terms)


def _analyze(args: argparse.Namespace) -> int:
    state = open_analyzer(args.index or default_index_dir(), with_lexicon=args.query)
    if state.analyzer_version != ANALYZER_VERSION:
        print(
            f"Attention : la génération {state.generation} a été construite avec l’analyseur "
            f"« {state.analyzer_version} », ce code est « {ANALYZER_VERSION} » ; les termes affichés sont ceux "
            "de ce code, reconstruisez l’index (python -m indexer build --force)",
            file=sys.stderr,
        )
    for text in _input_texts(args.texts):
        print(_analysis_line(state, text, args))
    return 0


COMMANDS = {
    "import": _import, "check": _check, "build": _build, "publish": _publish, "stats": _stats, "analyze": _analyze
}


@contextmanager
def _messages_on_stderr() -> Iterator[None]:
    """The indexer's log messages (a build waiting for another, a killed build's leftovers removed)
    printed on stderr as they are, while a command runs."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("indexer")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors become clear messages and a non-zero exit, never a traceback."""
    args = _parser().parse_args(argv)
    with _messages_on_stderr():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        return COMMANDS[args.command](args)
    except CorpusError as error:
        print(f"Corpus invalide ({len(error.problems)} problème(s)) :", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        print("Rien n’a été écrit ; l’index en service est inchangé.", file=sys.stderr)
        return 2
    except IndexUnavailable as error:
        print(f"Erreur : {error.full()}", file=sys.stderr)
        return 2
    except PublishError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        if "déjà basculées" not in str(error):
            print("Aucune réplique n’a changé de génération.", file=sys.stderr)
        return 2
    except (BuildError, SourceFormatError, WorkerDied, OSError) as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a build stops through stop_on_signals; the other commands land here
        print(f"{args.command} interrompu (Ctrl-C).", file=sys.stderr)
        return 130
