"""``werkmatch demo-data``, ``werkmatch import …`` and ``werkmatch serve``: data in, the service up."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session, func, select

from api.cli.common import JsonFlag, database, emit, friendly_errors, matcher, settings
from api.services.users import create_demo_users
from matching import tenancy
from matching.domain import Client
from matching.errors import WerkmatchError
from matching.importer import import_file
from matching.settings import Settings

WORKER_STARTUP_SECONDS = 600

import_app = typer.Typer(help="Klanten of vacatures importeren uit CSV of JSON.", no_args_is_help=True)


def index_changes(config: Settings) -> None:
    """Embed what changed when this process may write the indexes; a running service does it itself."""
    found = matcher(config, champion=False)
    if not found.index.writer:
        typer.echo(
            f"De service (proces {found.index.writer_pid()}) houdt de indexen bij en neemt de wijzigingen op "
            "bij de volgende zoekopdracht.",
            err=True,
        )
        return
    found.sync(progress=True)
    found.close()


def create_demo_data(
    config: Settings, n_clients: int, n_vacancies: int, seed: int, gemeenten: int | None = None
) -> None:
    """Synthetic clients and vacancies of the region's gemeenten in an empty database, batch by batch.

    ``gemeenten``: the this many largest gemeenten of the region (:mod:`training.synthetic`); None: all ten.
    """
    from training.synthetic import write_streaming  # the generator (faker, numpy): only for demo data

    engine = database(config)
    with Session(engine) as session:
        existing = session.exec(select(func.count()).select_from(Client)).one()
    if existing:
        raise WerkmatchError(
            f"de database in {config.data_dir} bevat al {existing} klanten; gebruik --replace om opnieuw te beginnen"
        )
    try:
        write_streaming(engine, n_clients, n_vacancies, seed, progress=True, gemeenten=gemeenten)
    except ValueError as error:  # --gemeenten out of range
        raise WerkmatchError(str(error)) from None


@friendly_errors
def demo_data(
    clients: Annotated[int, typer.Option("--clients", min=1, help="Aantal klanten.")] = 9000,
    vacancies: Annotated[int, typer.Option("--vacancies", min=1, help="Aantal vacatures.")] = 3000,
    seed: Annotated[int, typer.Option("--seed")] = 42,
    gemeenten: Annotated[
        int | None,
        typer.Option(
            "--gemeenten", min=1, help="Zoveel gemeenten van de regio Arnhem (de grootste; standaard alle 10)."
        ),
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Bestaande gegevens eerst verwijderen.")] = False,
    no_index: Annotated[bool, typer.Option("--no-index", help="Index niet bijwerken.")] = False,
) -> None:
    """Synthetische demo-klanten en -vacatures maken (en indexeren)."""
    config = settings()
    if replace and config.data_dir.exists():
        shutil.rmtree(config.data_dir)
    create_demo_data(config, clients, vacancies, seed, gemeenten)
    if not no_index:
        index_changes(config)
    typer.echo(f"{clients} klanten en {vacancies} vacatures aangemaakt in {config.data_dir}.")


def _import(kind: str, file: Path, json_out: bool) -> None:
    config = settings()
    if not file.is_file():
        raise WerkmatchError(f"bestand '{file}' bestaat niet")
    report = import_file(database(config), kind, file)  # type: ignore[arg-type]
    if report.ids:
        index_changes(config)
    if json_out:
        emit(report.to_json())
    else:
        typer.echo(f"{report.created} nieuw, {report.updated} bijgewerkt, {len(report.rejected)} geweigerd.")
        for rejected in report.rejected:
            typer.echo(f"  regel {rejected.line}: {'; '.join(rejected.reasons)}", err=True)
    if report.rejected:
        raise typer.Exit(1)


@import_app.command("clients")
@friendly_errors
def import_clients(file: Path, json_out: JsonFlag = False) -> None:
    """Klanten importeren (CSV of JSON); geweigerde regels worden met reden gemeld."""
    _import("clients", file, json_out)


@import_app.command("vacancies")
@friendly_errors
def import_vacancies(file: Path, json_out: JsonFlag = False) -> None:
    """Vacatures importeren (CSV of JSON); geweigerde regels worden met reden gemeld."""
    _import("vacancies", file, json_out)


def _demo_users(config: Settings) -> None:
    typer.echo("Demo-gebruikers (alleen in ontwikkelmodus; inloggen op de webpagina, of POST /api/v1/token):")
    for user in create_demo_users(database(config), config):
        consulent = f"  caseload {user['consulent']}" if user["consulent"] else ""
        where = user["gemeente"] or "regio"
        typer.echo(f"  {where:<12} {user['rol']:<15} {user['username']:<22} wachtwoord {user['password']}{consulent}")


@friendly_errors
def serve(
    host: Annotated[str | None, typer.Option("--host")] = None,
    port: Annotated[int | None, typer.Option("--port")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, max=64, help="Aantal serviceprocessen (standaard 1).")
    ] = None,
) -> None:
    """De service starten; maakt bij de eerste start demo-gegevens en de index."""
    import uvicorn  # the server and the app (fastapi, every route): only for this command

    from api.app import create_app
    from matching.embedding import PendingEmbedder

    config = settings()
    engine = database(config)  # the schema first: an older one is refused with the command that migrates it
    refused = tenancy.refusal(engine)  # PostgreSQL: a role that could read every gemeente's clients
    engine.dispose()
    if refused:
        raise WerkmatchError(refused)
    found = matcher(config)
    if not found.index.writer:
        raise WerkmatchError(
            f"er draait al een werkmatch-service op {config.data_dir} (proces {found.index.writer_pid()}); "
            "stop die eerst, of start deze met een andere WERKMATCH_DATA_DIR"
        )
    with Session(found.engine) as session:
        empty = session.exec(select(func.count()).select_from(Client)).one() == 0
    if empty:
        typer.echo(f"Eerste start: {config.demo_clients} demo-klanten en {config.demo_vacancies} vacatures maken…")
        create_demo_data(config, config.demo_clients, config.demo_vacancies, config.demo_seed, config.demo_gemeenten)
    workers = workers or config.workers
    # One process: search works at once and dense search covers more as it embeds. Several: each worker
    # loads the saved index, so everything is embedded (and saved) before they start; the first worker to
    # start then writes the indexes, the others read them (matching.index_lock).
    if workers == 1 and isinstance(found.embedder, PendingEmbedder):
        found.index.prepare()  # e5-werkmatch not built yet: nothing to embed with; the app's start builds it
    else:
        found.sync(progress=True, background=workers == 1)
    host, port = host or config.host, port or config.port
    if config.environment == "development":
        _demo_users(config)
    ranker = found.ranker_status()
    typer.echo(f"kandidatenlijsten gerangschikt door {ranker['name']} {ranker.get('version') or ''}".rstrip())
    typer.echo(f"werkmatch draait op http://{host}:{port}/  (webapplicatie; de API: http://{host}:{port}/api/v1/docs)")
    # uvicorn's own access line has the raw path and query string; api/access_log.py logs requests without them
    if workers == 1:
        uvicorn.run(create_app(config, found), host=host, port=port, log_level="info", access_log=False)
        return
    found.close()  # writes the index and hands the writer's lock to the workers
    typer.echo(f"{workers} serviceprocessen")
    uvicorn.run(
        "api.app:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        # A worker is ready once its lifespan loaded the model and the index: seconds on an idle machine, far
        # more on a busy one. uvicorn's default (5 s) kills and restarts a worker that is still starting, forever.
        timeout_worker_healthcheck=WORKER_STARTUP_SECONDS,
    )
