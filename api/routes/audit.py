"""The audit log over HTTP, for the beheerder: search it, and check its hash chain.

======  ===========================  =========  =================
method  path                         roles      status codes
======  ===========================  =========  =================
POST    ``/api/v1/audit/zoeken``     beheerder  200, 400, 401, 403
GET     ``/api/v1/audit/controle``   beheerder  200, 401, 403
======  ===========================  =========  =================

Both read :mod:`api.services.audit` (:func:`~api.services.audit.query`,
:func:`~api.services.audit.verify_chain`), as the web UI's audit page does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sqlmodel import Session

from api import problems
from api.deps import Beheerder, EngineDep
from api.routes.common import Uitvoer
from api.services import audit

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=problems.documented(401, 403))


class AuditSearch(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    actor: str | None = Field(None, max_length=64, description="gebruikersnaam")
    subject: str | None = Field(None, max_length=64, description="klantnummer of vacaturenummer")
    action: str | None = Field(None, max_length=64)
    since: datetime | None = Field(None, description="vanaf (met tijdzone)")
    until: datetime | None = Field(None, description="tot (met tijdzone)")
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=1_000_000_000)  # 2**63 overflowed SQLite's OFFSET: 500


class AuditRegel(Uitvoer):
    """One entry of the audit log, in the hash chain."""

    seq: int = Field(description="volgnummer in de keten")
    at: str = Field(description="moment (UTC, ISO 8601)")
    actor: str = Field(description="gebruikersnaam")
    rol: str
    action: str
    purpose: str = Field(description="doel (doelbinding)")
    request_id: str | None
    subjects: list[str] = Field(description="klantnummers en vacaturenummers (of pseudoniemen)")
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditZoekresultaat(BaseModel):
    entries: list[AuditRegel] = Field(description="nieuwste eerst")


class Ketencontrole(Uitvoer):
    """The hash chain recomputed up to the head."""

    ok: bool
    entries: int = Field(description="gecontroleerde regels")
    first_broken: int | None = Field(description="het eerste volgnummer dat ontbreekt of niet klopt")


@router.post("/zoeken", response_model=AuditZoekresultaat)
def audit_search(search: AuditSearch, engine: EngineDep, _user: Beheerder) -> AuditZoekresultaat:
    """Het auditlog doorzoeken (beheerder): wie zag welke klanten, wanneer en waarom."""
    with Session(engine) as session:
        return AuditZoekresultaat.model_validate({"entries": audit.query(session, **search.model_dump())})


@router.get("/controle", response_model=Ketencontrole)
def audit_check(engine: EngineDep, _user: Beheerder) -> Ketencontrole:
    """De hashketen van het auditlog controleren (beheerder)."""
    with Session(engine) as session:
        return Ketencontrole.model_validate(audit.verify_chain(session))
