"""A vacancy's candidate list and a client's vacancies of last night (the nightly batch match) beside the live search.

======  ===============================================  =============================  ==================
method  path                                             roles                          status codes
======  ===============================================  =============================  ==================
GET     ``/api/v1/vacatures/{nummer}/kandidaten-vannacht``  werkconsulent, accountmanager  200, 401, 403, 404
GET     ``/api/v1/klanten/{nummer}/vacatures-vannacht``     werkconsulent                  200, 401, 403, 404
======  ===============================================  =============================  ==================

Cut for the role as the live list is (:mod:`api.services.batch_lists`): a client's vacancies only for
the client's own werkconsulent, as the live options; a 404 (problem+json) when the vacancy or client
is unknown (or another consulent's client) or has no list of last night.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlmodel import Session

from api import problems, security
from api.deps import Consulent, EngineDep, Searcher, SettingsDep
from api.routes.common import Uitvoer
from api.routes.matches import trace
from api.routes.modellen import Rangschikker
from api.services import batch_lists

router = APIRouter(prefix="/api/v1/vacatures", tags=["matches"])
# as every klanten route: in the caller's gemeente (on PostgreSQL the database hides other gemeenten's clients)
klanten_router = APIRouter(prefix="/api/v1/klanten", tags=["matches"], dependencies=[Depends(security.gemeente_scope)])


class NachtRegel(Uitvoer):
    """What every row of a list of last night carries."""

    rang: int
    score: int = Field(description="de score van het paar, 0–100: dezelfde als op de actuele lijst")
    rangschikkingsscore: float


class NachtLijst(Uitvoer):
    """What every list of last night carries: when it was computed, its age and its ranker."""

    berekend_op: str = Field(description="wanneer deze lijst berekend is (UTC, ISO 8601)")
    leeftijd_uren: float = Field(description="hoe oud de lijst nu is, in uren")
    gerangschikt_door: Rangschikker


class NachtKandidaat(NachtRegel):
    klant_id: str = Field(description="klantnummer, of het pseudoniem (P-…) van deze lijst waar de rol dat vraagt")
    trede: int
    route: str
    eigen_klant: bool | None = Field(None, description="alleen voor een werkconsulent")


class NachtKandidaten(NachtLijst):
    vacature_id: str
    titel: str
    resultaten: list[NachtKandidaat]


@router.get(
    "/{nummer}/kandidaten-vannacht",
    response_model=NachtKandidaten,
    response_model_exclude_none=True,
    responses=problems.documented(401, 403, 404),
)
def nightly(nummer: str, engine: EngineDep, settings: SettingsDep, user: Searcher, request: Request) -> dict:
    """De kandidatenlijst van vannacht voor een vacature (de nachtelijke batch), met haar leeftijd."""
    with Session(engine) as session:
        return batch_lists.nightly_candidates(settings, session, user, nummer, trace(request))


class NachtVacature(NachtRegel):
    vacature_id: str
    titel: str
    werkgever: str


class NachtVacatures(NachtLijst):
    klant_id: str
    resultaten: list[NachtVacature]


@klanten_router.get(
    "/{nummer}/vacatures-vannacht", response_model=NachtVacatures, responses=problems.documented(401, 403, 404)
)
def nightly_vacancies(nummer: str, engine: EngineDep, settings: SettingsDep, user: Consulent, request: Request) -> dict:
    """De vacaturelijst van vannacht voor een klant uit de eigen caseload (de nachtelijke batch), met haar leeftijd."""
    with Session(engine) as session:
        return batch_lists.nightly_vacancies(settings, session, user, nummer, trace(request))
