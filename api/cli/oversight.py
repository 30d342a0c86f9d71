"""Oversight from the command line: the kill switch (``ranking``), ``quality`` and ``report deviations``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import typer
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.cli import remote
from api.cli.common import Gebruiker, JsonFlag, database, emit, friendly_errors, settings
from api.services.users import Rol
from api.services.werkproces import Actor
from matching import oversight_state
from matching.domain import Client, utcnow
from matching.errors import WerkmatchError
from matching.quality import assess, summarise
from matching.settings import Settings

report_app = typer.Typer(help="Rapportages voor toezicht op het gebruik.", no_args_is_help=True)
OVERSEERS = (Rol.DATA_SCIENTIST, Rol.BEHEERDER)  # as the kill switch and the deviation report (api.deps.Toezicht)


def operator(config: Settings, username: str, purpose: str) -> tuple[Engine, Actor]:
    """The database and the audit actor ``username`` (a beheerder or a data scientist), with the CLI's marks.

    Raises:
        NotFoundError: No such active account.
        NotPermitted: Another role, in the words of the API's 403 (:data:`api.deps.Toezicht`).
    """
    from api.services import matches  # the search service's role check (faiss, lightgbm): only for these commands

    engine = database(config)
    user, _ = remote.find_user(engine, username)
    matches.admit(user, OVERSEERS)
    return engine, Actor(
        username=user.username,
        rol=Rol(user.rol).value,
        consulent=user.consulent,
        request_id=f"cli-{uuid.uuid4().hex[:16]}",
        purpose=purpose,
        origin=remote.cli_marks(),
    )


@friendly_errors
def ranking(
    gebruiker: Gebruiker,
    modus: Annotated[
        str | None, typer.Argument(help="model of transparant; zonder: laat de huidige stand zien")
    ] = None,
    reden: Annotated[str, typer.Option("--reden", help="waarom (verplicht bij omzetten)")] = "",
    json_out: JsonFlag = False,
) -> None:
    """De noodstop: zet alle kandidatenlijsten op de transparante rangschikking (of terug), zonder herstart.

    Als beheerder of data scientist (zoals de API); het omzetten komt met uw OS-gebruiker in het auditlog.
    """
    from api.services import oversight  # the workflow services (faiss, lightgbm): only for this command

    config = settings()
    engine, actor = operator(config, gebruiker, "toezicht")
    with Session(engine) as session:
        if modus is not None:
            oversight.switch_ranking(session, actor, modus, reden)
            session.commit()
        state = oversight_state.ranking_mode(session, config.ranker.mode)
    if json_out:
        emit(state)
    else:
        typer.echo(f"rangschikking: {state['modus']} ({state['bron']})")


def data_quality(config: Settings, consulent: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Counts per status and the most common signals over the bestand (or one caseload)."""
    moment = now or utcnow()
    statement = select(Client).order_by(Client.id)
    if consulent is not None:
        statement = statement.where(Client.consulent == consulent)
    with Session(database(config)) as session:
        summary = summarise((assess(client, moment) for client in session.exec(statement)), top=15)
    return {"consulent": consulent, **summary}


@friendly_errors
def quality(
    consulent: Annotated[str | None, typer.Option("--consulent", help="alleen deze caseload (consulentcode)")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Datakwaliteit van de klantprofielen: aantallen per status en de meest voorkomende signalen."""
    result = data_quality(settings(), consulent)
    if json_out:
        emit(result)
        return
    scope = f"caseload {consulent}" if consulent else "het hele bestand"
    typer.echo(
        f"Datakwaliteit van {scope}: {result['profielen']} profielen, gemiddelde score {result['gemiddeldeScore']}"
    )
    for status, count in result["perStatus"].items():
        typer.echo(f"  {status:<14} {count}")
    if result["signalen"]:
        typer.echo("Meest voorkomende signalen (profielen):")
    for item in result["signalen"]:
        typer.echo(f"  {item['aantal']:>6}  {item['omschrijving']}")


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WerkmatchError(f"{option} verwacht een datum als 2026-01-31, niet {value!r}") from None


def deviations(
    config: Settings,
    username: str,
    since: date | None = None,
    until: date | None = None,
    consulent: str | None = None,
) -> dict[str, Any]:
    """The deviation report as ``GET /api/v1/rapportages/afwijkingen`` gives it to ``username``, audited.

    :func:`api.services.oversight.report_for_days` in process (it reads no index): a beheerder or a
    data scientist (who gets the consulenten as pseudonyms), as the API allows.

    Raises:
        NotPermitted: Another role (the API's 403 in words).
    """
    from api.services import oversight  # the workflow services (faiss, lightgbm): only for this report

    engine, actor = operator(config, username, "toezicht op het gebruik van de rangorde")
    return oversight.report_for_days(engine, config, actor, since, until, consulent)


@report_app.command("deviations")
@friendly_errors
def report_deviations(
    gebruiker: Gebruiker,
    since: Annotated[str | None, typer.Option("--since", help="eerste dag (standaard 4 weken terug)")] = None,
    until: Annotated[str | None, typer.Option("--until", help="laatste dag, tot en met (standaard vandaag)")] = None,
    consulent: Annotated[str | None, typer.Option("--consulent", help="alleen deze gebruiker")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Hoe vaak consulenten afwijken van de rangorde (toezicht, AI-verordening art. 14)."""
    report = deviations(settings(), gebruiker, _day(since, "--since"), _day(until, "--until"), consulent)
    if json_out:
        emit(report)
        return
    typer.echo(f"Afwijkingen van de rangorde, {report['vanaf']} t/m {report['tot']}")
    for name, group in [("Totaal", report["totaal"])] + [(g["consulent"], g) for g in report["perConsulent"]]:
        voorstellen, afwijzingen = group["voorstellen"], group["afwijzingen"]
        ranks = ", ".join(f"{b['rang']}: {b['aantal']}" for b in voorstellen["eigenRang"])
        typer.echo(
            f"{name}: {group['beslissingen']} beslissingen, {voorstellen['aantal']} voorstellen "
            f"(eigen rang {ranks}), {afwijzingen['aantal']} afwijzingen"
        )
        for signal in group["signalen"]:
            typer.echo(f"  ! {signal}")
