"""The app's commands: ``flask --app search_app report [--db A --db B]`` (the analytics report, of one
store or of several replicas' added together) and
``flask --app search_app similar`` (the similarity of every pair of programmes)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from search_app.analytics import build_report
from search_app.analytics_faults import StoreUnavailable
from search_app.similar import THRESHOLD, score_matrix


@click.command("report")
@with_appcontext
@click.option("--days", default=30, show_default=True, help="période couverte, en jours")
@click.option(
    "--db", "databases", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="base à lire, à répéter pour additionner celles de plusieurs répliques (défaut\u00a0: ANALYTICS_DB)",
)
def report_command(days: int, databases: tuple[Path, ...]) -> None:
    """Requêtes fréquentes, sans résultat, sans clic ; latences ; recherches par jour."""
    paths = databases or (Path(current_app.config["ANALYTICS_DB"]),)
    try:
        report = build_report(*(path.absolute() for path in paths), days=days)
    except StoreUnavailable as error:
        raise click.ClickException(f"statistiques illisibles\u00a0: {error.full()}") from error
    click.echo(f"{report.searches} recherches sur {report.days} jours ({', '.join(map(str, paths))})")
    click.echo("Latence (ms) : " + ", ".join(f"{k} {v}" for k, v in report.latency_ms.items()))
    sections = (
        ("Requêtes les plus fréquentes", report.top_queries),
        ("Requêtes sans résultat", report.zero_result_queries),
        ("Requêtes sans clic", report.no_click_queries),
        ("Recherches par jour", report.per_day),
    )
    for title, rows in sections:
        click.echo(f"\n{title}")
        shown: list[tuple[str, int | str]] = list(rows) or [("(aucune)", "")]
        for label, count in shown:
            click.echo(f"  {count!s:>6}  {label}")


@click.command("similar")
@with_appcontext
def similar_command() -> None:
    """Score de similarité de chaque paire de programmes (« Programmes similaires »), seuil compris."""
    ids, scores = score_matrix(current_app.extensions["search_service"].holder.current())
    click.echo(f"seuil\u00a0: {THRESHOLD}")
    click.echo(" " * 4 + "".join(f"{number:>7}" for number in range(1, len(ids) + 1)))
    for number, (programme_id, row) in enumerate(zip(ids, scores, strict=True), start=1):
        cells = "".join("      -" if i == number - 1 else f"{score:7.2f}" for i, score in enumerate(row))
        click.echo(f"{number:>4}{cells}  {programme_id}")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(report_command)
    app.cli.add_command(similar_command)
