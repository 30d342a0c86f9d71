"""Erasure and retention: ``werkmatch klant verwijderen`` and ``werkmatch retentie``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import typer
from sqlmodel import Session

from api.cli import remote
from api.cli.common import Gebruiker, JsonFlag, UrlOptie, database, emit, friendly_errors, settings
from api.services import audit
from api.services.users import Rol
from matching import index_lock
from matching.errors import WerkmatchError
from matching.settings import Settings

klant_app = typer.Typer(help="Eén klant: verwijderen (AVG art. 17).", no_args_is_help=True)
ERASERS = (Rol.WERKCONSULENT, Rol.BEHEERDER)  # as DELETE /api/v1/klanten/{klantnummer} (api.deps.Verwijderaar)


def erase_in_process(config: Settings, username: str, klantnummer: str, reden: str) -> dict[str, Any]:
    """Erase as ``username`` in this process, as the writer of the index files (no service runs).

    Raises:
        NotPermitted: The account may not erase (the API's 403 in words).
        NotFoundError: No such client, or not in a werkconsulent's caseload.
        WerkmatchError: Another process writes the index files but no service answers: erasing here
            would leave the vector in that writer's index.
    """
    # every service's table (lightgbm, training) and the search service's role check: only for this command
    from api.services import erasure, matches

    engine = database(config)
    user, _ = remote.find_user(engine, username)
    matches.admit(user, ERASERS)
    if not index_lock.acquire(config.data_dir):
        raise WerkmatchError(
            f"proces {index_lock.writer_pid(config.data_dir)} schrijft de index van {config.data_dir}, maar op "
            f"{remote.service_url(config)} antwoordt geen service; verwijder via die service (geef --url op) "
            "of stop dat proces eerst"
        )
    try:
        return erasure.erase_client(
            config,
            engine,
            klantnummer,
            actor=user.username,
            rol=Rol(user.rol).value,
            reden=reden,
            caseload=None if user.rol == Rol.BEHEERDER else (user.consulent or ""),
            request_id=f"cli-{uuid.uuid4().hex[:16]}",
            origin=remote.cli_marks(),
        )
    finally:
        index_lock.release(config.data_dir)


@klant_app.command("verwijderen")
@friendly_errors
def erase(
    klantnummer: Annotated[str, typer.Argument(help="het klantnummer, precies zoals opgeslagen")],
    reden: Annotated[
        str, typer.Option("--reden", help="verzoek_klant, bewaartermijn_verstreken of onterecht_vastgelegd")
    ],
    gebruiker: Gebruiker,
    url: UrlOptie = None,
    json_out: JsonFlag = False,
) -> None:
    """Een klant overal verwijderen: alle tabellen, de index, de embeddingcache; het auditlog houdt een grafsteen.

    Als beheerder, of als werkconsulent voor een klant uit de eigen caseload (zoals de API). Draait de
    service, dan verwijdert die (DELETE /api/v1/klanten/...); anders deze opdracht zelf.
    """
    from api.services.erasure import BY_WRITER, reason  # the services' tables: only for this command
    from matching.index_sync import SAVE_EVERY_S

    config = settings()
    reason(reden)  # a wrong code is said before anything is opened, on either road
    service = remote.running(config, url)
    if service is not None:
        path = f"/api/v1/klanten/{quote(klantnummer, safe='')}?{urlencode({'reden': reden})}"
        result = service.as_user(config, gebruiker).ask("DELETE", path)
    else:
        result = erase_in_process(config, gebruiker, klantnummer, reden)
    if json_out:
        emit(result)
        return
    rows = sum(result["verwijderd"].values())
    vectors = (
        f"de indexvector haalt het schrijvende proces er binnen {SAVE_EVERY_S:.0f} s uit"
        if result["indexVerwijderd"] == BY_WRITER
        else f"{result['indexVerwijderd']} indexvector(en) weg"
    )
    typer.echo(
        f"klant {klantnummer} verwijderd: {rows} rijen, {result['auditGeredigeerd']} auditregels en "
        f"{result['inferentieGeredigeerd']} inferentieregels geredigeerd, {result['embeddingsVerwijderd']} "
        f"embeddings weg, {vectors}; grafsteen {result['pseudoniem']} (auditregel {result['auditVolgnummer']})"
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
