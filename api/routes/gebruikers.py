"""Accounts over HTTP, for the beheerder: list, create, read and change (the rules: :mod:`api.services.accounts`).

======  =========================================  =========  ============================
method  path                                       roles      status codes
======  =========================================  =========  ============================
GET     ``/api/v1/gebruikers``                     beheerder  200, 401, 403
POST    ``/api/v1/gebruikers``                     beheerder  201, 400, 401, 403, 409
GET     ``/api/v1/gebruikers/{gebruikersnaam}``    beheerder  200, 400, 401, 403, 404
PATCH   ``/api/v1/gebruikers/{gebruikersnaam}``    beheerder  200, 400, 401, 403, 404
======  =========================================  =========  ============================

An account is ``gebruikersnaam``/``wachtwoord`` in the API's JSON (API 2.0.0; the OAuth2 login form
at ``/api/v1/token`` keeps the standard's ``username``/``password``).
Deactivating ends the user's existing tokens at once: :func:`api.security.current_user` re-reads the
account on every request. Creating a werkconsulent, or giving an account a consulentcode, asks a
second beheerder to approve it under ``/api/v1/caseloadtoekenningen`` (:mod:`api.routes.toekenningen`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from api.deps import Beheerder, EngineDep
from api.problems import documented
from api.routes.common import Invoer, request_id
from api.services import accounts
from api.services.users import Rol, UserPublic

router = APIRouter(prefix="/api/v1/gebruikers", tags=["gebruikers"])


Gebruikersnaam = Annotated[
    str, Path(min_length=1, max_length=64, description="gebruikersnaam (hoofdletters maken niet uit)")
]


class GebruikersLijst(BaseModel):
    """Every account, by username."""

    gebruikers: list[UserPublic]


class GebruikerNieuw(Invoer):
    """A new account; ``gebruikersnaam`` as in :class:`api.services.users.UserPublic`."""

    gebruikersnaam: str = Field(min_length=3, max_length=64, description="3–64 tekens: letters, cijfers en . _ @ -")
    wachtwoord: str = Field(min_length=1, max_length=256, description="minstens 12 tekens, niet gelijk aan de naam")
    rol: Rol
    consulent: str | None = Field(
        None, min_length=1, max_length=80, description="alleen en verplicht voor een werkconsulent"
    )
    naam: str | None = Field(None, max_length=200, description="weergavenaam; leeg = de gebruikersnaam")
    gemeente: str | None = Field(
        None,
        max_length=60,
        description="gemeente waarvoor het account werkt; leeg = regionaal, of (werkconsulent) de eigen gemeente "
        "van deze installatie; een beheerder van een gemeente maakt alleen accounts van die gemeente",
    )


class GebruikerWijziging(Invoer):
    """The fields to change; fields left out stay as they are."""

    actief: bool | None = Field(None, description="false: deactiveren (bestaande tokens vervallen meteen)")
    rol: Rol | None = None
    consulent: str | None = Field(None, min_length=1, max_length=80, description="null: geen consulentcode")
    naam: str | None = Field(None, min_length=1, max_length=200)


@router.get("", response_model=GebruikersLijst, responses=documented(401, 403))
def list_users(user: Beheerder, engine: EngineDep) -> GebruikersLijst:
    """Alle accounts die u beheert (zonder wachtwoorden), op gebruikersnaam; een gemeente ziet de eigen accounts."""
    return GebruikersLijst(gebruikers=accounts.accounts(engine, user))


@router.post(
    "",
    status_code=201,
    response_model=UserPublic,
    responses=documented(401, 403, _400="Ongeldige invoer of te zwak wachtwoord", _409="De gebruikersnaam bestaat al"),
)
def add_user(
    body: GebruikerNieuw, user: Beheerder, engine: EngineDep, request: Request, response: Response
) -> UserPublic:
    """Een account aanmaken met rol (en consulentcode voor een werkconsulent); geeft de Location ervan."""
    public = accounts.create_account(
        engine,
        user,
        username=body.gebruikersnaam,
        password=body.wachtwoord,
        rol=body.rol,
        consulent=body.consulent,
        naam=body.naam,
        request_id=request_id(request),
        gemeente=body.gemeente,
    )
    response.headers["Location"] = f"/api/v1/gebruikers/{public.username}"
    return public


@router.get(
    "/{gebruikersnaam}",
    response_model=UserPublic,
    responses=documented(401, 403, _404="De gebruiker bestaat niet"),
)
def read_user(gebruikersnaam: Gebruikersnaam, user: Beheerder, engine: EngineDep) -> UserPublic:
    """Eén account (zonder wachtwoord) dat u beheert; een account van een andere gemeente bestaat voor u niet."""
    return accounts.account(engine, gebruikersnaam, user)


@router.patch(
    "/{gebruikersnaam}",
    response_model=UserPublic,
    responses=documented(
        401, 403, _400="Ongeldige wijziging, bijv. het eigen account deactiveren", _404="De gebruiker bestaat niet"
    ),
)
def change_user(
    gebruikersnaam: Gebruikersnaam, body: GebruikerWijziging, user: Beheerder, engine: EngineDep, request: Request
) -> UserPublic:
    """Een account wijzigen: deactiveren (tokens vervallen meteen), heractiveren, rol, consulentcode of naam."""
    given = {field: getattr(body, field) for field in body.model_fields_set}
    return accounts.change_account(engine, user, gebruikersnaam, given, request_id(request))
