"""Saved searches over HTTP: a werkconsulent saves them for the own caseload; a beheerder or a timer runs them.

* ``POST /api/v1/zoekopdrachten`` (201), ``GET /api/v1/zoekopdrachten``,
  ``DELETE /api/v1/zoekopdrachten/{id}`` (204): a werkconsulent, own caseload.
* ``POST /api/v1/zoekopdrachten/uitvoeren``: a beheerder, or a timer (cron/systemd) calling it, say
  every night: the run is an explicit, audited job rather than a thread inside every API worker.

Every route calls one function of :mod:`api.services.zoekopdrachten`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import Field

from api.deps import Beheerder, Consulent, MatcherDep
from api.routes.common import Invoer, Uitvoer
from api.routes.werkproces import NOT_FOUND, RESPONSES, actor
from api.services import zoekopdrachten
from matching.lookup import ID_MAX

router = APIRouter(prefix="/api/v1", tags=["werkproces"], responses=RESPONSES)


class ZoekopdrachtIn(Invoer):
    klant_id: str = Field(min_length=1, max_length=64, description="pseudoniem klantnummer (eigen caseload)")
    min_score: float = Field(
        0.0,
        ge=0.0,
        le=zoekopdrachten.MAX_SCORE,
        description="alleen vacatures met minstens deze kans op aanname (0–100 %, als op de lijsten)",
    )
    top: int = Field(10, ge=1, le=50, description="hoogstens zoveel vacatures per uitvoering")


class ZoekopdrachtOut(Uitvoer):
    id: int
    klant_id: str
    min_score: float
    top: int
    aangemaakt: datetime
    laatst_uitgevoerd: datetime | None
    aantal_gevonden: int


class ZoekopdrachtLijst(Uitvoer):
    zoekopdrachten: list[ZoekopdrachtOut]


class Uitvoering(Uitvoer):
    zoekopdrachten: int
    nieuw: int
    overgeslagen: int
    mislukt: int


@router.post("/zoekopdrachten", status_code=201, response_model=ZoekopdrachtOut, responses=NOT_FOUND)
def save_search(body: ZoekopdrachtIn, matcher: MatcherDep, user: Consulent, request: Request) -> dict[str, Any]:
    """Een zoekopdracht opslaan voor een klant uit de eigen caseload; nieuwe treffers komen in de inbox."""
    return zoekopdrachten.save_search(matcher.engine, actor(user, request), body.klant_id, body.min_score, body.top)


@router.get("/zoekopdrachten", response_model=ZoekopdrachtLijst)
def list_searches(matcher: MatcherDep, user: Consulent, request: Request) -> dict[str, Any]:
    """De opgeslagen zoekopdrachten van de eigen caseload."""
    return {"zoekopdrachten": zoekopdrachten.list_searches(matcher.engine, actor(user, request))}


@router.post("/zoekopdrachten/uitvoeren", response_model=Uitvoering)
def run_searches(matcher: MatcherDep, user: Beheerder, request: Request) -> dict[str, int]:
    """Alle opgeslagen zoekopdrachten uitvoeren (beheerder of een nachtelijke timer); elk paar komt één keer."""
    who = actor(user, request, "opgeslagen zoekopdracht")
    return zoekopdrachten.run_saved_searches(matcher.engine, matcher, who)


@router.delete("/zoekopdrachten/{zoekopdracht_id}", status_code=204, responses=NOT_FOUND)
def delete_search(
    zoekopdracht_id: Annotated[int, Path(ge=1, le=ID_MAX)], matcher: MatcherDep, user: Consulent, request: Request
) -> Response:
    """Een opgeslagen zoekopdracht verwijderen; de treffers in de inbox blijven staan."""
    zoekopdrachten.delete_search(matcher.engine, actor(user, request), zoekopdracht_id)
    return Response(status_code=204)
