"""The FastAPI app: :func:`create_app` puts the routers, the web UI, the error handlers and the ops together.

Where things live: the routes in :mod:`api.routes` (one module per resource), the login in
:mod:`api.security`, the role sets in :mod:`api.deps`, problem+json in :mod:`api.problems`, the
start and end of the service (matcher, tables, champion watcher) in :mod:`api.lifespan`, metrics,
limits and the access log in :mod:`api.ops`, the pages in :mod:`api.web`.

Who may search what (enforced here, tested as a matrix in ``tests/api/test_api_roles.py``):

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
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from sqlmodel import Session, select

from api import lifespan, openapi_doc, ops, problems, security
from api.deps import Consulent, MatcherDep, Searcher
from api.routes import ROUTERS
from api.services import audit, erasure, tokens
from api.services.users import Rol, User
from matching.annotate import BEPERKING_FIELDS
from matching.disclosure import OUTSIDER, Viewer
from matching.domain import Client
from matching.errors import NotFoundError
from matching.lookup import find_client
from matching.matcher import CandidateFilters, Matcher
from matching.settings import Settings, load_settings
from matching.vocab import Plaatsingsvorm, Route

logger = logging.getLogger(__name__)


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
            shown["clientId"] = tokens.pseudonym(settings, listing["vacancyId"], item["clientId"])
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


def app_from_environment() -> FastAPI:
    """The app of one worker process of ``werkmatch serve --workers N`` (uvicorn calls this factory)."""
    return create_app(load_settings())


def create_app(settings: Settings, matcher: Matcher | None = None) -> FastAPI:
    """The app; the matcher (model and indexes) is built and synced in its lifespan, not here (:mod:`api.lifespan`)."""
    app = FastAPI(
        title="werkmatch",
        description="Kandidaten en vacatures matchen voor Werk & Inkomen. Elke match is advies, geen besluit.",
        version=openapi_doc.API_VERSION,
        lifespan=lifespan.lifespan(settings, matcher),
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redirect_slashes=False,
    )
    app.state.settings = settings
    security.install(app, settings)  # refuses to build in production without a real signing key
    for router in ROUTERS:
        app.include_router(router)
    from api.web import site  # here, not at the top: api.web calls the shared functions of this module

    problems.install(app, page_not_found=site.not_found_page)
    site.install(app, settings)  # after problems: on a page, its handlers answer with a Dutch page
    ops.install(app, settings)
    openapi_doc.install(app)

    @app.post("/api/v1/matches/kandidaten", responses=problems.documented(401, 403, 404))
    def candidates(search: CandidateSearch, matcher: MatcherDep, user: Searcher, request: Request) -> dict[str, Any]:
        """Kandidaten voor een vacature (advies aan de consulent, geen besluit)."""
        # Already plain JSON values: FastAPI's encoder would walk the ≈ 40 KB list again (≈ 5 ms of CPU).
        return JSONResponse(candidate_listing(settings, matcher, user, request, search))  # type: ignore[return-value]

    @app.post("/api/v1/matches/vacatures", responses=problems.documented(401, 403, 404))
    def vacancies(search: VacancySearch, matcher: MatcherDep, user: Consulent, request: Request) -> dict[str, Any]:
        """Passende vacatures voor een klant uit de eigen caseload (opties bij intake)."""
        return JSONResponse(vacancy_listing(matcher, user, request, search))  # type: ignore[return-value]

    return app
