"""FastAPI dependencies as named types, one definition each: what a route needs and who may call it.

Each role set has one name; a route lists it in its signature (``_user: Toezicht``). The order of the
roles is the order the 403 answer names them in ("Hiervoor is een van de rollen … of … nodig").

    ============== =====================================
    name           roles
    ============== =====================================
    Beheerder      beheerder
    Consulent      werkconsulent
    Accountmanager accountmanager
    DataScientist  data_scientist
    Searcher       werkconsulent, accountmanager
    VacatureMaker  accountmanager, beheerder
    Verwijderaar   werkconsulent, beheerder
    Toezicht       data_scientist, beheerder
    ============== =====================================
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.engine import Engine

from api import security
from api.services.users import Rol, User
from matching.matcher import Matcher
from matching.settings import Settings


def get_matcher(request: Request) -> Matcher:
    """The app's matcher, made in the lifespan."""
    return request.app.state.matcher


def get_engine(request: Request) -> Engine:
    """The database engine the matcher reads from."""
    return request.app.state.matcher.engine


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


MatcherDep = Annotated[Matcher, Depends(get_matcher)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

Beheerder = Annotated[User, Depends(security.require(Rol.BEHEERDER))]
Consulent = Annotated[User, Depends(security.require(Rol.WERKCONSULENT))]
Accountmanager = Annotated[User, Depends(security.require(Rol.ACCOUNTMANAGER))]
DataScientist = Annotated[User, Depends(security.require(Rol.DATA_SCIENTIST))]
Searcher = Annotated[User, Depends(security.require(Rol.WERKCONSULENT, Rol.ACCOUNTMANAGER))]
VacatureMaker = Annotated[User, Depends(security.require(Rol.ACCOUNTMANAGER, Rol.BEHEERDER))]
Verwijderaar = Annotated[User, Depends(security.require(Rol.WERKCONSULENT, Rol.BEHEERDER))]
Toezicht = Annotated[User, Depends(security.require(Rol.DATA_SCIENTIST, Rol.BEHEERDER))]

# The purpose of a read (doelbinding), written to the audit log with it.
Doel = Annotated[
    str,
    Header(
        alias="X-Doel",
        min_length=3,
        max_length=200,
        description="doel van de opvraging (doelbinding), vastgelegd in het auditlog",
    ),
]
