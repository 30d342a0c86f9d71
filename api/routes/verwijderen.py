"""Erasing a client (AVG art. 17): ``DELETE /api/v1/klanten/{klantnummer}?reden=…``.

======  ====================================  ===============================================  =========================
method  path                                  roles                                            status codes
======  ====================================  ===============================================  =========================
DELETE  ``/api/v1/klanten/{klantnummer}``     werkconsulent (own caseload), beheerder          200, 400, 401, 403, 404
======  ====================================  ===============================================  =========================

* **The reason is a required query parameter** ``reden``, a code of :class:`api.services.erasure.Reden`
  (``verzoek_klant``, ``bewaartermijn_verstreken``, ``onterecht_vastgelegd``). A query parameter
  because a ``DELETE`` body has no defined meaning in HTTP (proxies may drop it), and a code rather
  than free text because it stays in the audit log's tombstone, which must hold no personal data.
* **Another consulent's client is answered as an unknown one** (404, the same text), as everywhere.
* The answer says what was removed (rows per table, redacted log rows, cached vectors, the index
  entry) and the tombstone's pseudonym and ``seq`` in the audit log: :func:`api.services.erasure.erase_client`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from api import problems
from api.deps import Verwijderaar
from api.services import erasure
from api.services.users import Rol

router = APIRouter(tags=["klanten en vacatures"])


class Verwijdering(BaseModel):
    """What erasing one client removed."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    pseudoniem: str = Field(description="het nummer waaronder de klant in het auditlog blijft (grafsteen)")
    audit_seq: int = Field(description="volgnummer van de grafsteen (klant_verwijderd) in het auditlog")
    reden: erasure.Reden
    verwijderd: dict[str, int] = Field(description="verwijderde rijen per tabel")
    audit_geredigeerd: int = Field(description="auditregels waarin het klantnummer is vervangen door het pseudoniem")
    inferentie_geredigeerd: int = Field(description="regels van het inferentielog waarin het is vervangen")
    embeddings_verwijderd: int = Field(description="gecachte vectoren van tekst die geen ander record gebruikt")
    index_verwijderd: int = Field(description="vectoren verwijderd uit de opgeslagen index")
    checkpoint: bool = Field(description="of het write-ahead-log meteen is leeggemaakt (anders bij het volgende)")


@router.delete(
    "/api/v1/klanten/{klantnummer}",
    response_model=Verwijdering,
    response_model_by_alias=True,
    responses=problems.documented(401, 403, 404, _400="Ongeldige invoer: een onbekende reden"),
)
def erase_client(
    klantnummer: str,
    reden: Annotated[erasure.Reden, Query(description="waarom de klant verwijderd wordt (een code, geen vrije tekst)")],
    user: Verwijderaar,
    request: Request,
) -> Verwijdering:
    """Een klant en alles over de klant verwijderen (AVG art. 17); het auditlog houdt een grafsteen."""
    result = erasure.erase_client(
        request.app.state.settings,
        request.app.state.matcher.engine,
        klantnummer,
        actor=user.username,
        rol=str(user.rol),
        reden=reden.value,
        caseload=None if user.rol == Rol.BEHEERDER else (user.consulent or ""),
        request_id=getattr(request.state, "request_id", None),
        matcher=request.app.state.matcher,
    )
    return Verwijdering.model_validate(result)
