"""Erasure and retention: ``werkmatch klant verwijderen`` and ``werkmatch retentie``."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session

from api.cli.common import JsonFlag, database, emit, friendly_errors, settings
from api.services import audit

klant_app = typer.Typer(help="Eén klant: verwijderen (AVG art. 17).", no_args_is_help=True)


@klant_app.command("verwijderen")
@friendly_errors
def erase(
    klantnummer: Annotated[str, typer.Argument(help="het klantnummer, precies zoals opgeslagen")],
    reden: Annotated[
        str, typer.Option("--reden", help="verzoek_klant, bewaartermijn_verstreken of onterecht_vastgelegd")
    ],
    door: Annotated[str, typer.Option("--door", help="wie verwijdert (voor het auditlog)")] = "beheer-cli",
    json_out: JsonFlag = False,
) -> None:
    """Een klant overal verwijderen: alle tabellen, de index, de embeddingcache; het auditlog houdt een grafsteen."""
    from api.services import erasure  # every service's tables (lightgbm, training): only for this command

    config = settings()
    erasure.reason(reden)  # a wrong code is said before anything is opened
    result = erasure.erase_client(config, database(config), klantnummer, actor=door, rol="beheerder", reden=reden)
    if json_out:
        emit(result)
        return
    rows = sum(result["verwijderd"].values())
    typer.echo(
        f"klant {klantnummer} verwijderd: {rows} rijen, {result['auditGeredigeerd']} auditregels en "
        f"{result['inferentieGeredigeerd']} inferentieregels geredigeerd, {result['embeddingsVerwijderd']} "
        f"embeddings en {result['indexVerwijderd']} indexvector(en) weg; grafsteen {result['pseudoniem']} "
        f"(auditregel {result['auditSeq']})"
    )


@friendly_errors
def retention(json_out: JsonFlag = False) -> None:
    """Bewaartermijnen toepassen: audit- en inferentieregels ouder dan de termijn verwijderen (keten blijft heel)."""
    from api.services.retention import apply_retention  # the services' tables, as erasure

    config = settings()
    engine = database(config)
    result = apply_retention(config, engine)
    with Session(engine) as session:
        result["keten"] = audit.verify_chain(session)
    if json_out:
        emit(result)
    else:
        typer.echo(
            f"auditlog: {result['audit']['verwijderd']} regels verwijderd (ouder dan {result['audit']['bewaardagen']} "
            f"dagen), keten {'in orde' if result['keten']['ok'] else 'GEBROKEN'}; inferentielog: "
            f"{result['inferentie']['verwijderd']} regels verwijderd (ouder dan "
            f"{result['inferentie']['bewaardagen']} dagen); toegangslog: {result['toegangslog']}"
        )
    if not result["keten"]["ok"]:
        raise typer.Exit(1)
