"""Voorstellen over HTTP: propose, read, move, search; and rejecting a candidate on a vacancy's list.

Who may do what (tested in ``tests/api/test_api_workflow.py``):

* ``POST /api/v1/voorstellen`` (201), ``GET /api/v1/voorstellen/{id}``,
  ``POST /api/v1/voorstellen/{id}/overgangen``, ``POST /api/v1/voorstellen/zoeken``: a werkconsulent,
  for clients of their own caseload. Another consulent's voorstel or client answers 404, as an
  unknown one does. An accountmanager proposes only through a consulent: with a push
  (:mod:`api.routes.inbox`). Moving a voorstel to ``geplaatst`` schedules nazorg at 1, 3 and 6 months
  in the same transaction.
* ``POST /api/v1/vacatures/{vacaturenummer}/afwijzingen`` (201): a werkconsulent rejects a client of
  their own caseload on a vacancy's candidate list, with a required reason code
  (:data:`matching.reasons.REDENEN`, the inbox's list too); audited, and a training label unless the reason
  is situational.

Every route calls one function of :mod:`api.services.voorstellen`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import Field

from api.deps import Consulent, MatcherDep
from api.routes.common import PAGE_MAX, Invoer, Paginering, Uitvoer, paging
from api.routes.werkproces import (
    AFWIJS_REDEN_TEKST,
    NOT_FOUND,
    NOTE,
    PURPOSE,
    RESPONSES,
    VOORSTEL_REDEN,
    InboxItemOut,
    actor,
    reden_field,
)
from api.services import voorstellen
from api.services.werkproces import PAGE_SIZE_MAX
from matching import reasons
from matching.domain import Note
from matching.lookup import ID_MAX
from matching.outcomes import VoorstelStatus

router = APIRouter(prefix="/api/v1", tags=["werkproces"], responses=RESPONSES)

VoorstelId = Annotated[int, Path(ge=1, le=ID_MAX, description="nummer van het voorstel")]


class VoorstelIn(Invoer):
    klant_id: str = Field(min_length=1, max_length=64, description="pseudoniem klantnummer (eigen caseload)")
    vacature_id: str = Field(min_length=1, max_length=64, description="vacaturenummer")
    reden: str | None = VOORSTEL_REDEN
    toelichting: Note | None = NOTE
    doel: str = PURPOSE


class OvergangIn(Invoer):
    naar: VoorstelStatus = Field(description="de volgende status")
    reden: str | None = reden_field(
        reasons.REDENEN,
        "redencode (dezelfde lijst als bij afwijzen), nodig bij afgewezen en uitgevallen",
        required=False,
    )
    toelichting: Note | None = NOTE


class VoorstelZoeken(Invoer):
    status: list[VoorstelStatus] | None = Field(None, description="alleen deze statussen; leeg: alle")
    pagina: int = Field(1, ge=1, le=PAGE_MAX)
    pagina_grootte: int = Field(20, ge=1, le=PAGE_SIZE_MAX)


class KandidaatAfwijzenIn(Invoer):
    klant_id: str = Field(min_length=1, max_length=64, description="pseudoniem klantnummer (eigen caseload)")
    reden: str = reden_field(reasons.REDENEN, AFWIJS_REDEN_TEKST)
    toelichting: Note | None = NOTE
    doel: str = PURPOSE


class Stap(Uitvoer):
    van: str | None
    naar: str
    reden: str | None
    toelichting: str | None
    door: str
    op: datetime


class VoorstelKort(Uitvoer):
    id: int
    klant_id: str
    vacature_id: str
    titel: str
    status: str
    gedaan_door: str
    rol: str
    aangemaakt: datetime
    gewijzigd: datetime
    reden: str | None = Field(None, description="redencode van het voorstel (niet_opgegeven als die ontbrak)")


class VoorstelOut(VoorstelKort):
    model_versie: str | None
    rang: int | None
    volgende_stappen: list[str]
    geschiedenis: list[Stap]
    nazorg: list[InboxItemOut]


class VoorstelLijst(Paginering):
    voorstellen: list[VoorstelKort]


class KandidaatAfwijzingOut(Uitvoer):
    id: int
    klant_id: str
    vacature_id: str
    reden: str
    toelichting: str | None
    leerlabel: bool = Field(description="telt als leerlabel (relevantie 0) voor het rangschikkingsmodel")
    rang: int | None = Field(description="plaats in de laatst getoonde kandidatenlijst voor deze vacature")
    door: str
    op: datetime


@router.post("/voorstellen", status_code=201, response_model=VoorstelOut, responses=NOT_FOUND)
def make_voorstel(body: VoorstelIn, matcher: MatcherDep, user: Consulent, request: Request) -> dict[str, Any]:
    """Een klant uit de eigen caseload voorstellen voor een open vacature, met de reden (redencode).

    De redencode is (nog) niet verplicht; zonder wordt 'niet_opgegeven' vastgelegd en telt mee in de
    afwijkingsrapportage.
    """
    who = actor(user, request, body.doel)
    return voorstellen.propose(matcher.engine, who, body.klant_id, body.vacature_id, body.reden, body.toelichting)


@router.get("/voorstellen/{voorstel_id}", response_model=VoorstelOut, responses=NOT_FOUND)
def read_voorstel(voorstel_id: VoorstelId, matcher: MatcherDep, user: Consulent, request: Request) -> dict[str, Any]:
    """Een voorstel met zijn geschiedenis en geplande nazorg (consulent van de klant)."""
    return voorstellen.read(matcher.engine, actor(user, request), voorstel_id)


@router.post("/voorstellen/{voorstel_id}/overgangen", response_model=VoorstelOut, responses=NOT_FOUND)
def move_voorstel(
    voorstel_id: VoorstelId, body: OvergangIn, matcher: MatcherDep, user: Consulent, request: Request
) -> dict[str, Any]:
    """Een voorstel naar de volgende status brengen; bij 'geplaatst' wordt nazorg na 1, 3 en 6 maanden gepland.

    Een onmogelijke stap (bijv. 'geplaatst' zonder 'aangenomen') geeft 400 en verandert niets.
    """
    who = actor(user, request)
    return voorstellen.move(matcher.engine, who, voorstel_id, body.naar, body.reden, body.toelichting)


@router.post("/voorstellen/zoeken", response_model=VoorstelLijst)
def search_voorstellen(body: VoorstelZoeken, matcher: MatcherDep, user: Consulent, request: Request) -> dict[str, Any]:
    """De voorstellen voor klanten uit de eigen caseload, laatst gewijzigd eerst, met statusfilter en paginering."""
    found = voorstellen.search(matcher.engine, actor(user, request), body.status, body.pagina, body.pagina_grootte)
    return {**found, **paging(body.pagina, body.pagina_grootte, found["totaal"])}


@router.post(
    "/vacatures/{vacaturenummer}/afwijzingen",
    status_code=201,
    response_model=KandidaatAfwijzingOut,
    responses=NOT_FOUND,
)
def reject_candidate(
    vacaturenummer: Annotated[str, Path(min_length=1, max_length=64)],
    body: KandidaatAfwijzenIn,
    matcher: MatcherDep,
    user: Consulent,
    request: Request,
) -> dict[str, Any]:
    """Een kandidaat uit de eigen caseload afwijzen voor een vacature, met een redencode.

    De afwijzing komt in het auditlog en telt als leerlabel (relevantie 0), behalve bij
    'niet_beschikbaar' en 'al_bemiddeld': die zeggen niets over hoe goed klant en vacature passen.
    'gezondheid' is geen reden; kies 'belastbaarheid' als de eisen van de baan niet passen bij de beperkingen.
    """
    who = actor(user, request, body.doel)
    return voorstellen.reject_candidate(
        matcher.engine, who, vacaturenummer, body.klant_id, body.reden, body.toelichting
    )
