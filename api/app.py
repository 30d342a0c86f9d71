"""The FastAPI app: login, health, the two searches and the ranker reload, each for the roles allowed.

Who may do what (enforced here, tested as a matrix in ``tests/api/test_api_roles.py``):

* ``POST /api/v1/matches/kandidaten``: werkconsulent and accountmanager. A werkconsulent sees every
  candidate, but what comes from beperkingen (health data: ``aandachtspuntenBeperkingen``,
  ``aanpassingen``, ``kansMetAanpassing``) only for clients in their own caseload, and opens
  "niet getoond, omdat…" (``nietGetoond.eigenKlanten``) for their own clients only; an accountmanager
  sees pseudonymised summaries (a per-list pseudonym instead of the klantnummer, no beperkingen)
  until a consulent accepts. Beyond hiding fields, :mod:`matching.disclosure` decides what *shapes* the
  list: beperkingen outside the viewer's caseload exclude nobody and are counted nowhere, and their
  distances are bands, so differencing two lists reveals neither.
* ``POST /api/v1/matches/vacatures``: a werkconsulent, for a client in their own caseload (another
  consulent's client answers 404, as an unknown one does, so existence does not leak).
* ``POST /api/v1/modellen/herladen``: data scientist and beheerder.
* ``GET /api/v1/health`` and ``POST /api/v1/token``: anyone.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from sqlmodel import Session, select
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import openapi_doc, ops, security
from api.deps import Beheerder, Consulent, MatcherDep, Searcher, Toezicht
from api.routes import ROUTERS
from api.security import PROBLEM, problem
from api.services import audit, erasure, grants, inbox
from api.services.users import Rol, User, create_demo_users
from api.services.users import ensure_tables as ensure_user_tables
from matching.annotate import BEPERKING_FIELDS
from matching.disclosure import OUTSIDER, Viewer
from matching.domain import Client
from matching.errors import ConflictError, NotFoundError, WerkmatchError, dutch_message, field_path
from matching.lookup import find_client
from matching.matcher import CandidateFilters, Matcher
from matching.settings import Settings, load_settings
from matching.vocab import Plaatsingsvorm, Route
from training import registry

logger = logging.getLogger(__name__)


_PROBLEM_TEXTS = {
    401: "Niet ingelogd of token ongeldig",
    403: "Deze rol mag dit niet",
    404: "Bestaat niet (of hoort bij de caseload van een andere consulent)",
}
_HTTP_TITLES = {400: "Ongeldige invoer", 404: "Niet gevonden", 413: "Aanvraag te groot"}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses documented as problem+json (``api.openapi_doc`` points them at ``Probleem``)."""
    return {status: {"description": _PROBLEM_TEXTS[status], "content": {PROBLEM: {}}} for status in statuses}


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route serves on ``path``: the ``Allow`` header of a 405 (RFC 9110 §15.5.6).

    Starlette names only the methods of the first route whose path matches, so ``DELETE
    /api/v1/klanten/import`` said ``Allow: GET`` (of ``/klanten/{klantnummer}``) instead of ``POST``.
    Here the routes of the most literal matching template count (the fewest parameters).
    """
    by_template: dict[str, set[str]] = {}
    for pattern, route_methods, template in app.state.ops.table():  # built once, not per request
        if route_methods and pattern.match(path):
            by_template.setdefault(template, set()).update(route_methods)
    if not by_template:
        return []
    # A literal path beats a template (OpenAPI's rule): /klanten/zoeken is not /klanten/{klantnummer}
    fewest = min(template.count("{") for template in by_template)
    return sorted(set().union(*(m for t, m in by_template.items() if t.count("{") == fewest)))


def method_not_allowed(method: str, allowed: list[str]) -> JSONResponse:
    """405 problem+json with the ``Allow`` header."""
    listed = ", ".join(allowed)
    return problem(405, "Methode niet toegestaan", f"{method} kan hier niet; wel: {listed}.", headers={"Allow": listed})


PURPOSE = Field("bemiddeling", min_length=3, max_length=200, description="doel van de opvraging (doelbinding)")


class CandidateSearch(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    vacature_id: str = Field(min_length=1, max_length=64, description="vacaturenummer")
    top: int = Field(20, ge=1, le=500)
    doel: str = PURPOSE
    straal_km: float | None = Field(None, gt=0, le=500, description="alleen kandidaten binnen deze afstand")
    trede: list[int] | None = Field(None, min_length=1, max_length=6, description="alleen deze treden (0-5)")
    route: list[Route] | None = Field(None, min_length=1, max_length=3, description="alleen deze routes")
    min_uren: float | None = Field(None, ge=0, le=60, description="minstens zoveel gedeelde uren per week")
    plaatsingsvorm: list[Plaatsingsvorm] | None = Field(
        None,
        min_length=1,
        max_length=11,
        description="kandidaten voor wie een van deze plaatsingsvormen bij hun route past",
    )
    hele_bestand: bool = Field(False, description="ook klanten buiten hun eigen reiswens (uren en werktijden tellen)")

    @field_validator("trede")
    @classmethod
    def _trede_range(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(not 0 <= item <= 5 for item in value):
            raise ValueError("trede loopt van 0 tot en met 5")
        return value

    def filters(self) -> CandidateFilters:
        return CandidateFilters(
            max_km=self.straal_km,
            trede=frozenset(self.trede) if self.trede else None,
            route=frozenset(str(route) for route in self.route) if self.route else None,
            min_hours=self.min_uren,
            plaatsingsvorm=frozenset(str(vorm) for vorm in self.plaatsingsvorm) if self.plaatsingsvorm else None,
            whole_bestand=self.hele_bestand,
        )


class VacancySearch(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    klant_id: str = Field(min_length=1, max_length=64, description="pseudoniem klantnummer")
    top: int = Field(20, ge=1, le=500)
    doel: str = PURPOSE


class AuditSearch(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    actor: str | None = Field(None, max_length=64, description="gebruikersnaam")
    subject: str | None = Field(None, max_length=64, description="klantnummer of vacaturenummer")
    action: str | None = Field(None, max_length=64)
    since: datetime | None = Field(None, description="vanaf (met tijdzone)")
    until: datetime | None = Field(None, description="tot (met tijdzone)")
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=1_000_000_000)  # 2**63 overflowed SQLite's OFFSET: 500


def log_match(
    matcher: Matcher,
    request: Request,
    user: User,
    *,
    action: str,
    kind: str,
    query_ref: str,
    purpose: str,
    listing: dict[str, Any],
    inputs: dict[str, Any],
) -> None:
    """The audit entry (who saw which clients, why) and the inference record, committed before the answer."""
    request_id = request.state.request_id
    ids = [item.get("clientId") or item.get("vacancyId") for item in listing["results"]]
    status = matcher.status()
    with Session(matcher.engine) as session:
        audit.lock_head(session)  # first, so no erasure commits between the check below and the write
        clients = ids if kind == "kandidaten" else [query_ref]
        gone = erasure.erased_meanwhile(session, matcher.settings, clients)
        if gone:  # a client erased while this search ran: log their tombstone pseudonym, not the number
            ids = [gone.get(number, number) for number in ids]
            query_ref = gone.get(query_ref, query_ref)
            inputs = {key: gone.get(value, value) if isinstance(value, str) else value for key, value in inputs.items()}
        subjects = [query_ref, *ids]
        audit.record(
            session,
            actor=user.username,
            rol=str(user.rol),
            action=action,
            purpose=purpose,
            subjects=subjects,
            request_id=request_id,
        )
        audit.log_inference(
            session,
            request_id=request_id,
            actor=user.username,
            kind=kind,
            query_ref=query_ref,
            model=listing["rankedBy"],
            index={
                "modelId": status["modelId"],
                "clients": status["clients"]["indexed"],
                "vacancies": status["vacancies"]["indexed"],
            },
            inputs=inputs,
            output=[[number, item["score"]] for number, item in zip(ids, listing["results"], strict=True)],
        )
        session.commit()


def candidates_for_role(settings: Settings, engine: Any, user: User, listing: dict[str, Any]) -> dict[str, Any]:
    """Cut a candidate list down to what ``user``'s role may see (see the module docstring)."""
    numbers = [item["clientId"] for item in listing["results"]]
    with Session(engine) as session:
        owner = dict(
            session.exec(select(Client.client_nummer, Client.consulent).where(Client.client_nummer.in_(numbers))).all()
        )  # type: ignore[attr-defined]
    results = []
    for item in listing["results"]:
        own = user.rol == Rol.WERKCONSULENT and owner.get(item["clientId"]) == user.consulent
        shown = {**item, "eigenKlant": own}
        if not own:
            for name in BEPERKING_FIELDS:
                shown.pop(name, None)
        if user.rol == Rol.ACCOUNTMANAGER:
            shown["clientId"] = security.pseudonym(settings, listing["vacancyId"], item["clientId"])
            shown.pop("eigenKlant")
        results.append(shown)
    return {**listing, "results": results}


def candidate_listing(
    settings: Settings,
    matcher: Matcher,
    user: User,
    request: Request,
    search: CandidateSearch,
    action: str = "kandidatenlijst_opgevraagd",
) -> dict[str, Any]:
    """A candidate list as ``user``'s role may see it, audited and logged; the API and the web UI both call this."""
    # Only a consulent's own caseload is seen in full; beperkingen of anyone else shape nothing (matching.disclosure).
    own = user.consulent if user.rol == Rol.WERKCONSULENT else None
    viewer = Viewer(caseload=own) if own else OUTSIDER
    listing = matcher.candidates(search.vacature_id, search.top, filters=search.filters(), served=True, viewer=viewer)
    log_match(
        matcher,
        request,
        user,
        action=action,
        kind="kandidaten",
        query_ref=listing["vacancyId"],
        purpose=search.doel,
        listing=listing,
        inputs={
            "vacatureId": listing["vacancyId"],
            "top": search.top,
            "filters": search.model_dump(
                mode="json", by_alias=True, exclude={"vacature_id", "top", "doel"}, exclude_none=True
            ),
        },
    )
    return candidates_for_role(settings, matcher.engine, user, listing)


def vacancy_listing(matcher: Matcher, user: User, request: Request, search: VacancySearch) -> dict[str, Any]:
    """Vacancies for a client of ``user``'s own caseload (another's answers 404 as an unknown one), audited."""
    with Session(matcher.engine) as session:
        client = find_client(session, search.klant_id)
        if client.consulent != user.consulent:  # the same answer as for a klantnummer that does not exist
            raise NotFoundError(f"klant '{search.klant_id}' bestaat niet; controleer het klantnummer")
    listing = matcher.vacancies_for(search.klant_id, search.top)
    log_match(
        matcher,
        request,
        user,
        action="vacatures_voor_klant",
        kind="vacatures",
        query_ref=listing["clientId"],
        purpose=search.doel,
        listing=listing,
        inputs={"klantId": listing["clientId"], "top": search.top},
    )
    return listing


def watch_champion(settings: Settings, matcher: Matcher, stop: threading.Event) -> None:
    """Reload when the champion alias has moved; checks every ``ranker.poll_seconds``."""
    while not stop.wait(settings.ranker.poll_seconds):
        try:
            info = registry.by_alias(settings, registry.CHAMPION)
        except Exception as error:  # noqa: BLE001 - a broken store must not kill the watcher
            matcher.ranker_failed(f"het modelregister is niet leesbaar: {error}")
            continue
        serving = matcher.ranker
        serving_version = (
            serving.version if serving is not None and serving.name == settings.ranker.registered_model else None
        )
        if (info.version if info else None) != serving_version:
            registry.serve_champion(settings, matcher)


def app_from_environment() -> FastAPI:
    """The app of one worker process of ``werkmatch serve --workers N`` (uvicorn calls this factory)."""
    return create_app(load_settings())


def create_app(settings: Settings, matcher: Matcher | None = None) -> FastAPI:
    """The app; the matcher (model and indexes) is built and synced in ``lifespan``, not at import."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.matcher = matcher or Matcher(settings)
        app.state.engine = app.state.matcher.engine
        ensure_user_tables(app.state.engine)
        grants.ensure_tables(app.state.engine)  # four eyes on caseload access
        audit.ensure_tables(app.state.engine)
        inbox.ensure_tables(app.state.engine)
        if settings.environment == "development":
            create_demo_users(app.state.engine, settings)
        if not app.state.matcher.prepared:
            app.state.matcher.sync(background=True)
        registry.serve_champion(settings, app.state.matcher)
        stop = threading.Event()
        if settings.ranker.poll_seconds > 0:
            threading.Thread(
                target=watch_champion, args=(settings, app.state.matcher, stop), name="champion-watch", daemon=True
            ).start()
        yield
        stop.set()
        app.state.matcher.close()

    app = FastAPI(
        title="werkmatch",
        description="Kandidaten en vacatures matchen voor Werk & Inkomen. Elke match is advies, geen besluit.",
        version=openapi_doc.API_VERSION,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redirect_slashes=False,
    )
    app.state.settings = settings
    security.install(app, settings)  # refuses to build in production without a real signing key
    app.include_router(security.router)
    for router in ROUTERS:
        app.include_router(router)
    from api import web  # here, not at the top: api.web calls the shared functions of this module

    web.install(app, settings)

    @app.middleware("http")
    async def literal_paths_first(request: Request, call_next: Any) -> Any:
        """``GET /api/v1/voorstellen/zoeken`` is 405 (only POST is there), not a read of voorstel "zoeken"."""
        allowed = allowed_methods(request.app, request.url.path)
        if allowed and request.method not in allowed:
            return method_not_allowed(request.method, allowed)
        return await call_next(request)

    ops.install(app, settings)  # after the middleware above: its metrics and access log count the 405s
    openapi_doc.install(app)

    @app.middleware("http")
    async def api_version(request: Request, call_next: Any) -> Any:
        request.state.request_id = uuid.uuid4().hex
        response = await call_next(request)
        response.headers["API-Version"] = openapi_doc.API_VERSION
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        fields = [
            {"name": field_path(tuple(e["loc"][1:])), "reason": dutch_message({**e, "loc": ()})}  # type: ignore[typeddict-item]
            for e in error.errors()
        ]
        return problem(400, "Ongeldige invoer", "Een of meer velden zijn ongeldig.", invalidParams=fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        """Starlette's own answers (unknown path, method not allowed) as Dutch problem+json."""
        if error.status_code == 405:
            return method_not_allowed(request.method, allowed_methods(request.app, request.url.path))
        if error.status_code == 404 and not request.url.path.startswith("/api/"):
            return web.not_found_page(request)  # a person typed or followed a wrong link: a Dutch page
        if error.status_code == 404:
            detail = f"Er is geen route {request.url.path}; zie /api/v1/docs voor wat er is."
        elif error.status_code == 400:  # a body Starlette cannot parse (broken multipart, say)
            detail = (
                "De inhoud van de aanvraag is onleesbaar; stuur JSON, of voor een import een multipart-formulier "
                "met het bestand in het veld 'bestand'."
            )
        else:
            detail = f"De aanvraag is niet verwerkt (HTTP {error.status_code})."
        title = _HTTP_TITLES.get(error.status_code, "Aanvraag niet verwerkt")
        return problem(error.status_code, title, detail, headers=dict(error.headers or {}))

    @app.exception_handler(WerkmatchError)
    async def domain_error(_request: Request, error: WerkmatchError) -> JSONResponse:
        if isinstance(error, NotFoundError):
            return problem(404, "Niet gevonden", str(error))
        if isinstance(error, ConflictError):
            return problem(409, "Conflict met de huidige stand", str(error))
        return problem(400, "Ongeldige invoer", str(error))

    @app.get("/api/v1/health")
    async def health(request: Request) -> dict[str, Any]:
        """Leeft de service (liveness): de stand van de indexen en welk model rangschikt."""
        return ops.liveness(request)  # async, from memory: answers in ms while every thread searches

    @app.post("/api/v1/modellen/herladen", responses=problems(401, 403))
    def reload_ranker(matcher: MatcherDep, _user: Toezicht) -> dict[str, Any]:
        """Het champion-model opnieuw laden uit het register (na werkmatch promote); zegt welk model rangschikt."""
        return registry.serve_champion(settings, matcher)

    @app.post("/api/v1/matches/kandidaten", responses=problems(401, 403, 404))
    def candidates(search: CandidateSearch, matcher: MatcherDep, user: Searcher, request: Request) -> dict[str, Any]:
        """Kandidaten voor een vacature (advies aan de consulent, geen besluit)."""
        # Already plain JSON values: FastAPI's encoder would walk the ≈ 40 KB list again (≈ 5 ms of CPU).
        return JSONResponse(candidate_listing(settings, matcher, user, request, search))  # type: ignore[return-value]

    @app.post("/api/v1/matches/vacatures", responses=problems(401, 403, 404))
    def vacancies(search: VacancySearch, matcher: MatcherDep, user: Consulent, request: Request) -> dict[str, Any]:
        """Passende vacatures voor een klant uit de eigen caseload (opties bij intake)."""
        return JSONResponse(vacancy_listing(matcher, user, request, search))  # type: ignore[return-value]

    @app.post("/api/v1/audit/zoeken", responses=problems(401, 403))
    def audit_search(search: AuditSearch, matcher: MatcherDep, _user: Beheerder) -> dict[str, Any]:
        """Het auditlog doorzoeken (beheerder): wie zag welke klanten, wanneer en waarom."""
        with Session(matcher.engine) as session:
            return {"entries": audit.query(session, **search.model_dump())}

    @app.get("/api/v1/audit/controle", responses=problems(401, 403))
    def audit_check(matcher: MatcherDep, _user: Beheerder) -> dict[str, Any]:
        """De hashketen van het auditlog controleren (beheerder)."""
        with Session(matcher.engine) as session:
            return audit.verify_chain(session)

    return app
