"""Four eyes on caseload access (:mod:`api.services.grants`) over HTTP.

======  ====================================================  =============  ===========================
method  path                                                  roles          status codes
======  ====================================================  =============  ===========================
GET     ``/api/v1/caseloadtoekenningen``                      beheerder      200, 400, 401, 403
POST    ``/api/v1/caseloadtoekenningen/{id}/goedkeuren``      beheerder      200, 401, 403, 404, 409
POST    ``/api/v1/caseloadtoekenningen/{id}/afwijzen``        beheerder      200, 401, 403, 404, 409
GET     ``/api/v1/meldingen``                                 werkconsulent  200, 401, 403
======  ====================================================  =============  ===========================

A grant is asked for by ``POST``/``PATCH /api/v1/gebruikers`` (:mod:`api.routes.gebruikers`). Approving
your own request, or a grant for your own account, is a 403 that says a second beheerder is needed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import Field

from api.deps import Beheerder, Consulent
from api.problems import ProblemError, documented
from api.routes.common import Uitvoer, request_id
from api.services import grants
from api.services.users import User

router = APIRouter(prefix="/api/v1")

ToekenningId = Annotated[int, Path(ge=1, le=2**62, description="nummer van de toekenning")]


class Toekenning(Uitvoer):
    """A request for caseload access and what became of it."""

    id: int
    gebruikersnaam: str
    consulent: str = Field(description="de consulentcode (caseload) waartoe toegang is gevraagd")
    status: grants.Status
    aangevraagd_door: str
    aangevraagd_op: datetime
    beoordeeld_door: str | None = None
    beoordeeld_op: datetime | None = None


class Toekenningen(Uitvoer):
    toekenningen: list[Toekenning]


class Melding(Uitvoer):
    id: int
    toekenning: int
    tekst: str
    op: datetime


class Meldingen(Uitvoer):
    meldingen: list[Melding]


def _public(grant: grants.CaseloadToekenning) -> Toekenning:
    return Toekenning(
        id=grant.id or 0,
        gebruikersnaam=grant.username,
        consulent=grant.consulent,
        status=grants.Status(grant.status),
        aangevraagd_door=grant.aangevraagd_door,
        aangevraagd_op=grant.aangevraagd_op,
        beoordeeld_door=grant.beoordeeld_door,
        beoordeeld_op=grant.beoordeeld_op,
    )


@router.get(
    "/caseloadtoekenningen",
    response_model=Toekenningen,
    tags=["gebruikers"],
    responses=documented(_400="Onbekende status", _401="Niet ingelogd", _403="Alleen voor een beheerder"),
)
def list_grants(
    request: Request, user: Beheerder, status: Annotated[grants.Status | None, Query()] = None
) -> Toekenningen:
    """Aanvragen voor toegang tot een caseload, nieuwste eerst (met status=open: wat op goedkeuring wacht).

    Een beheerder van een gemeente ziet alleen de aanvragen voor accounts van de eigen gemeente."""
    return Toekenningen(toekenningen=[_public(g) for g in grants.grants(request.app.state.engine, user, status)])


def _decided(call: object, request: Request, user: User, toekenning_id: int) -> Toekenning:
    try:
        grant = call(request.app.state.engine, user, toekenning_id, request_id(request))  # type: ignore[operator]
    except grants.GrantRefused as error:
        raise ProblemError(403, "Vier ogen nodig", str(error)[:1].upper() + str(error)[1:] + ".") from None
    return _public(grant)


@router.post(
    "/caseloadtoekenningen/{toekenning_id}/goedkeuren",
    response_model=Toekenning,
    tags=["gebruikers"],
    responses=documented(
        _401="Niet ingelogd",
        _403="Geen beheerder, of de eigen aanvraag (een tweede beheerder moet goedkeuren)",
        _404="De toekenning bestaat niet",
        _409="De toekenning is niet (meer) open",
    ),
)
def approve_grant(request: Request, user: Beheerder, toekenning_id: ToekenningId) -> Toekenning:
    """Een aanvraag goedkeuren als tweede beheerder: pas dan krijgt het account de caseload."""
    return _decided(grants.approve, request, user, toekenning_id)


@router.post(
    "/caseloadtoekenningen/{toekenning_id}/afwijzen",
    response_model=Toekenning,
    tags=["gebruikers"],
    responses=documented(
        _401="Niet ingelogd",
        _403="Alleen voor een beheerder",
        _404="De toekenning bestaat niet",
        _409="De toekenning is niet (meer) open",
    ),
)
def reject_grant(request: Request, user: Beheerder, toekenning_id: ToekenningId) -> Toekenning:
    """Een aanvraag afwijzen (of als aanvrager intrekken); het account krijgt de caseload niet."""
    return _decided(grants.reject, request, user, toekenning_id)


@router.get(
    "/meldingen",
    response_model=Meldingen,
    tags=["inbox"],
    responses=documented(_401="Niet ingelogd", _403="Alleen voor een werkconsulent"),
)
def list_notices(request: Request, user: Consulent) -> Meldingen:
    """Meldingen over toegang tot de eigen caseload (wie toegang vroeg of kreeg), nieuwste eerst."""
    rows = grants.notices(request.app.state.engine, user.consulent)
    return Meldingen(meldingen=[Melding(**row) for row in rows])
