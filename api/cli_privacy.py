"""Command line for erasure and retention: ``werkmatch klant verwijderen`` and ``werkmatch retentie``."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

import typer

from matching.errors import WerkmatchError
from matching.settings import Settings, load_settings

klant_app = typer.Typer(help="Eén klant: verwijderen (AVG art. 17).", no_args_is_help=True)


def _emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _engine(settings: Settings) -> Any:
    from api.services import schema
    from matching.store import make_engine

    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    return engine


@klant_app.command("verwijderen")
def erase(
    klantnummer: Annotated[str, typer.Argument(help="het klantnummer, precies zoals opgeslagen")],
    reden: Annotated[
        str, typer.Option("--reden", help="verzoek_klant, bewaartermijn_verstreken of onterecht_vastgelegd")
    ],
    door: Annotated[str, typer.Option("--door", help="wie verwijdert (voor het auditlog)")] = "beheer-cli",
    json_out: Annotated[bool, typer.Option("--json", help="Uitvoer als JSON.")] = False,
) -> None:
    """Een klant overal verwijderen: alle tabellen, de index, de embeddingcache; het auditlog houdt een grafsteen."""
    from api.services import erasure

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        erasure.reason(reden)  # a wrong code is said before anything is opened
        engine = _engine(settings)
        result = erasure.erase_client(settings, engine, klantnummer, actor=door, rol="beheerder", reden=reden)
    except WerkmatchError as error:
        typer.echo(f"Fout: {error}", err=True)
        raise typer.Exit(1) from None
    if json_out:
        _emit(result)
        return
    rows = sum(result["verwijderd"].values())
    typer.echo(
        f"klant {klantnummer} verwijderd: {rows} rijen, {result['auditGeredigeerd']} auditregels en "
        f"{result['inferentieGeredigeerd']} inferentieregels geredigeerd, {result['embeddingsVerwijderd']} "
        f"embeddings en {result['indexVerwijderd']} indexvector(en) weg; grafsteen {result['pseudoniem']} "
        f"(auditregel {result['auditSeq']})"
    )


def retention(json_out: Annotated[bool, typer.Option("--json", help="Uitvoer als JSON.")] = False) -> None:
    """Bewaartermijnen toepassen: audit- en inferentieregels ouder dan de termijn verwijderen (keten blijft heel)."""
    from sqlmodel import Session

    from api.services import audit
    from api.services.retention import apply_retention

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except WerkmatchError as error:
        typer.echo(f"Fout: {error}", err=True)
        raise typer.Exit(1) from None
    engine = _engine(settings)
    result = apply_retention(settings, engine)
    with Session(engine) as session:
        result["keten"] = audit.verify_chain(session)
    if json_out:
        _emit(result)
    else:
        typer.echo(
            f"auditlog: {result['audit']['verwijderd']} regels verwijderd (ouder dan {result['audit']['bewaardagen']} "
            f"dagen), keten {'in orde' if result['keten']['ok'] else 'GEBROKEN'}; inferentielog: "
            f"{result['inferentie']['verwijderd']} regels verwijderd (ouder dan "
            f"{result['inferentie']['bewaardagen']} dagen); toegangslog: {result['toegangslog']}"
        )
    if not result["keten"]["ok"]:
        raise typer.Exit(1)
