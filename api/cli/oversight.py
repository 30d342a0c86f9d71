"""Oversight from the command line: the kill switch (``ranking``), ``quality`` and ``report deviations``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

import typer
from sqlmodel import Session, select

from api.cli.common import JsonFlag, database, emit, friendly_errors, settings
from api.services import audit
from matching import oversight_state
from matching.domain import Client, utcnow
from matching.errors import WerkmatchError
from matching.quality import assess, summarise
from matching.settings import Settings

report_app = typer.Typer(help="Rapportages voor toezicht op het gebruik.", no_args_is_help=True)


@friendly_errors
def ranking(
    modus: Annotated[
        str | None, typer.Argument(help="model of transparant; zonder: laat de huidige stand zien")
    ] = None,
    reden: Annotated[str, typer.Option("--reden", help="waarom (verplicht bij omzetten)")] = "",
    door: Annotated[str, typer.Option("--door", help="wie het omzet (voor het logboek)")] = "beheer-cli",
    json_out: JsonFlag = False,
) -> None:
    """De noodstop: zet alle kandidatenlijsten op de transparante rangschikking (of terug), zonder herstart."""
    config = settings()
    with Session(database(config)) as session:
        if modus is not None:
            oversight_state.set_ranking_mode(session, modus, by=door, reason=reden)
            audit.record(
                session,
                actor=door,
                rol="beheerder",
                action="rangschikking_omgezet",
                purpose="toezicht",
                subjects=[],
                details={"modus": modus, "reden": reden, "via": "cli"},
            )
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
    config: Settings, since: date | None = None, until: date | None = None, consulent: str | None = None
) -> dict[str, Any]:
    """The deviation report (:func:`api.services.oversight.deviation_report`) over whole local days, to ``until``."""
    from api.services.inbox import LOCAL_TIME, local_today  # the workflow services: only for this report
    from api.services.oversight import deviation_report

    last = until or local_today()
    first = since or last - timedelta(days=27)
    if first > last:
        raise WerkmatchError(f"--since ({first}) ligt na --until ({last}); draai de data om")
    start = datetime.combine(first, time.min, LOCAL_TIME)
    end = datetime.combine(last + timedelta(days=1), time.min, LOCAL_TIME)
    with Session(database(config)) as session:
        report = deviation_report(session, start, end, consulent)
    return {**report, "vanaf": first.isoformat(), "tot": last.isoformat()}


@report_app.command("deviations")
@friendly_errors
def report_deviations(
    since: Annotated[str | None, typer.Option("--since", help="eerste dag (standaard 4 weken terug)")] = None,
    until: Annotated[str | None, typer.Option("--until", help="laatste dag, tot en met (standaard vandaag)")] = None,
    consulent: Annotated[str | None, typer.Option("--consulent", help="alleen deze gebruiker")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Hoe vaak consulenten afwijken van de rangorde (toezicht, AI-verordening art. 14)."""
    report = deviations(settings(), _day(since, "--since"), _day(until, "--until"), consulent)
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
