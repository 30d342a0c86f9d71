"""``werkmatch match …`` and ``werkmatch clients list``: searches and profile reads, as a werkmatch user, audited.

With a service running (``--url``, or ``WERKMATCH_HOST``/``WERKMATCH_PORT``) the command asks it
(:mod:`api.cli.remote`) and ``--json`` prints exactly what the API answers. Without one it searches in
this process through the same service functions (:mod:`api.services.matches`), audited the same way,
as a *reader* of the saved indexes: it never starts an embedding run (:mod:`matching.index_sync`), and
when the saved indexes lack records it says so instead of searching with half an index.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlmodel import Session, select

from api.cli import remote
from api.cli.common import (
    DoelOptie,
    Gebruiker,
    JsonFlag,
    UrlOptie,
    database,
    emit,
    friendly_errors,
    matcher,
    print_matches,
    settings,
)
from api.services.users import Rol
from matching.domain import Vacancy
from matching.errors import InvalidInputError, WerkmatchError, dutch_messages
from matching.settings import Settings
from matching.store import init_db, make_engine

match_app = typer.Typer(help="Zoeken: kandidaten voor een vacature, vacatures voor een klant.", no_args_is_help=True)
clients_app = typer.Typer(help="Klanten.", no_args_is_help=True)
vacancies_app = typer.Typer(help="Vacatures.", no_args_is_help=True)

Top = Annotated[int, typer.Option("--top", min=1, max=500)]


def not_ready(pending: dict[str, int], writer: int | None) -> WerkmatchError:
    """Why an in-process search does not run on a half-built index, and what to do (in Dutch)."""
    missing = f"{pending['clients']} klanten en {pending['vacancies']} vacatures zijn nog niet ingebed"
    if writer is not None:
        return WerkmatchError(f"de index is nog niet klaar: {missing}; proces {writer} bedt ze nu in, probeer het zo")
    return WerkmatchError(
        f"de index is nog niet klaar: {missing} en geen proces bedt ze in; start de service (werkmatch serve) "
        "of draai werkmatch index build"
    )


def search_in_process(config: Settings, username: str, kind: str, query: Any) -> dict[str, Any]:
    """A search in this process, through :mod:`api.services.matches`, as a reader of the saved indexes."""
    from api.services import matches  # the search service (faiss, scikit-learn, lightgbm): only when no service runs

    engine = database(config)
    user, _ = remote.find_user(engine, username)
    matches.admit(user, matches.CANDIDATE_ROLES if kind == "kandidaten" else matches.VACANCY_ROLES)
    reader = matcher(config, may_write=False)
    reader.index.catch_up()  # loads the saved files; embeds at most a few changed records, in memory
    pending = reader.index.pending()
    if any(pending.values()):
        raise not_ready(pending, reader.index.writer_pid())
    trace = matches.Trace(f"cli-{uuid.uuid4().hex[:16]}", remote.cli_marks())
    if kind == "kandidaten":
        return matches.candidate_listing(config, reader, user, query, trace)
    return matches.vacancy_listing(config, reader, user, query, trace)


def search(config: Settings, username: str, kind: str, body: dict[str, Any], url: str | None) -> dict[str, Any]:
    """The API's answer to ``POST /api/v1/matches/{kind}`` with ``body``: from the service, or in process."""
    service = remote.running(config, url)
    if service is not None:
        return service.as_user(config, username).ask("POST", f"/api/v1/matches/{kind}", body)
    # The same request model as the route: the same refusals, the same defaults.
    from api.routes.matches import CandidateSearch, VacancySearch  # with the in-process search only (fastapi)

    model = CandidateSearch if kind == "kandidaten" else VacancySearch
    try:
        query = model.model_validate(body).query()
    except ValidationError as error:
        raise InvalidInputError("; ".join(dutch_messages(error))) from None
    return search_in_process(config, username, kind, query)


@match_app.command("candidates")
@friendly_errors
def match_candidates(
    vacancy_id: Annotated[str, typer.Argument(help="Vacaturenummer (of database-id).")],
    gebruiker: Gebruiker,
    doel: DoelOptie,
    top: Top = 20,
    url: UrlOptie = None,
    json_out: JsonFlag = False,
) -> None:
    """Kandidaten voor een vacature, met redenen (zoals de API ze deze gebruiker toont; in het auditlog)."""
    result = search(settings(), gebruiker, "kandidaten", {"vacatureId": vacancy_id, "top": top, "doel": doel}, url)
    emit(result) if json_out else print_matches(result, "klantId")


@match_app.command("vacancies")
@friendly_errors
def match_vacancies(
    client_id: Annotated[str, typer.Argument(help="Klantnummer (of database-id).")],
    gebruiker: Gebruiker,
    doel: DoelOptie,
    top: Top = 20,
    url: UrlOptie = None,
    json_out: JsonFlag = False,
) -> None:
    """Passende vacatures voor een klant uit de eigen caseload, met redenen (in het auditlog)."""
    result = search(settings(), gebruiker, "vacatures", {"klantId": client_id, "top": top, "doel": doel}, url)
    emit(result) if json_out else print_matches(result, "vacatureId")


def client_page(config: Settings, username: str, doel: str, limit: int, url: str | None) -> dict[str, Any]:
    """The first ``limit`` clients of the user's own caseload, as ``POST /api/v1/klanten/zoeken`` answers."""
    body = {"paginaGrootte": limit, "doel": doel}
    service = remote.running(config, url)
    if service is not None:
        return service.as_user(config, username).ask("POST", "/api/v1/klanten/zoeken", body)
    # No service: the API's own route function, called directly as the web UI does (loads fastapi).
    from starlette.requests import Request

    from api.problems import ProblemError
    from api.routes.klanten import KlantZoekvraag, search_clients
    from api.services import matches

    engine = database(config)
    user, _ = remote.find_user(engine, username)
    matches.admit(user, (Rol.WERKCONSULENT,))  # what the route's dependency checks before it runs
    # the claims a CLI token carries through the service: the route audits the same marks (api.routes.common.origin)
    state = {"request_id": f"cli-{uuid.uuid4().hex[:16]}", "token_claims": remote.cli_marks()}
    request = Request({"type": "http", "headers": [], "state": state})
    try:
        page = search_clients(KlantZoekvraag.model_validate(body), user, engine, request)
    except ProblemError as refused:
        raise WerkmatchError(refused.detail) from None
    return page.model_dump(mode="json", by_alias=True)


@clients_app.command("list")
@friendly_errors
def clients_list(
    gebruiker: Gebruiker,
    doel: DoelOptie,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 20,
    url: UrlOptie = None,
    json_out: JsonFlag = False,
) -> None:
    """Klanten uit de eigen caseload tonen (zonder beperkingen; in het auditlog)."""
    page = client_page(settings(), gebruiker, doel, limit, url)
    if json_out:
        emit(page)
        return
    for row in page["resultaten"]:
        typer.echo(
            f"{row['klantNummer']}  trede {row['trede']}  {row['route']:<11} {row['postcode'][:4]}  {row['consulent']}"
        )


def vacancy_summary(row: Vacancy) -> dict[str, Any]:
    """A vacancy as the CLI lists it (vacancies are no personal data: read from the database directly)."""
    return {
        "vacatureId": row.vacature_nummer,
        "bron": row.bron,
        "titel": row.titel,
        "werkgever": row.werkgever,
        "beroep": row.beroep_code,
        "postcode": row.postcode[:4],
        "urenMin": row.uren_min,
        "urenMax": row.uren_max,
        "plaatsingsvorm": row.plaatsingsvorm,
        "status": row.status,
    }


@vacancies_app.command("list")
@friendly_errors
def vacancies_list(limit: Annotated[int, typer.Option("--limit", min=1)] = 20, json_out: JsonFlag = False) -> None:
    """Vacatures tonen."""
    engine = make_engine(settings().resolved_database_url)
    init_db(engine)
    with Session(engine) as session:
        rows = [vacancy_summary(row) for row in session.exec(select(Vacancy).order_by(Vacancy.id).limit(limit))]
    if json_out:
        emit(rows)
        return
    for row in rows:
        typer.echo(f"{row['vacatureId']}  {row['bron']:<8} {row['status']:<8} {row['titel']} — {row['werkgever']}")
