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
    gebruiker: str | None = Field(None, max_length=64, description="gebruikersnaam")
    betrokkene: str | None = Field(None, max_length=64, description="klantnummer of vacaturenummer")
    actie: str | None = Field(None, max_length=64)
    vanaf: datetime | None = Field(None, description="vanaf (met tijdzone)")
    tot: datetime | None = Field(None, description="tot (met tijdzone)")
    aantal: int = Field(100, ge=1, le=1000, description="hoogstens zoveel regels")
    overslaan: int = Field(0, ge=0, le=1_000_000_000, description="zoveel regels overslaan (bladeren)")
    # overslaan 2**63 overflowed SQLite's OFFSET: 500

    def where(self) -> dict[str, Any]:
        """The filters without the paging, as :func:`api.services.audit.count` takes them."""
        return {
            "actor": self.gebruiker,
            "subject": self.betrokkene,
            "action": self.actie,
            "since": self.vanaf,
            "until": self.tot,
        }

    def filters(self) -> dict[str, Any]:
        """The search as :func:`api.services.audit.query` takes it."""
        return {**self.where(), "limit": self.aantal, "offset": self.overslaan}


class AuditRegel(Uitvoer):
    """One entry of the audit log, in the hash chain (:func:`api.services.audit.query` under Dutch keys)."""

    volgnummer: int = Field(description="volgnummer in de keten")
    moment: str = Field(description="moment (UTC, ISO 8601)")
    gebruiker: str = Field(description="gebruikersnaam")
    rol: str
    actie: str
    doel: str = Field(description="doel (doelbinding)")
    verzoek_id: str | None = Field(description="X-Request-ID van het verzoek")
    gemeente: str | None = Field(None, description="gemeente van de gebruiker; leeg: regionaal of het systeem")
    betrokkenen: list[str] = Field(description="klantnummers en vacaturenummers (of pseudoniemen)")
    details: dict[str, Any]
    vorige_hash: str
    hash: str

    @classmethod
    def of(cls, entry: dict[str, Any]) -> AuditRegel:
        return cls(
            volgnummer=entry["seq"],
            moment=entry["at"],
            gebruiker=entry["actor"],
            rol=entry["rol"],
            actie=entry["action"],
            doel=entry["purpose"],
            verzoek_id=entry["requestId"],
            gemeente=entry["gemeente"],
            betrokkenen=entry["subjects"],
            details=entry["details"],
            vorige_hash=entry["prevHash"],
            hash=entry["hash"],
        )


class AuditZoekresultaat(Uitvoer):
    regels: list[AuditRegel] = Field(description="nieuwste eerst")
    totaal: int = Field(description="aantal regels met deze filters over alle pagina's (aantal/overslaan)")


class Ketencontrole(Uitvoer):
    """The hash chain recomputed up to the head."""

    in_orde: bool = Field(description="de hele keten klopt")
    regels: int = Field(description="gecontroleerde regels")
    eerste_fout: int | None = Field(description="het eerste volgnummer dat ontbreekt of niet klopt")


@router.post("/zoeken", response_model=AuditZoekresultaat)
def audit_search(search: AuditSearch, engine: EngineDep, _user: Beheerder) -> AuditZoekresultaat:
    """Het auditlog doorzoeken (beheerder): wie zag welke klanten, wanneer en waarom."""
    with Session(engine) as session:
        regels = [AuditRegel.of(entry) for entry in audit.query(session, **search.filters())]
        return AuditZoekresultaat(regels=regels, totaal=audit.count(session, **search.where()))


@router.get("/controle", response_model=Ketencontrole)
def audit_check(engine: EngineDep, _user: Beheerder) -> Ketencontrole:
    """De hashketen van het auditlog controleren (beheerder)."""
    with Session(engine) as session:
        chain = audit.verify_chain(session)
    return Ketencontrole(in_orde=chain["ok"], regels=chain["entries"], eerste_fout=chain["firstBroken"])
