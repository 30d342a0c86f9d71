"""The probes: liveness (``GET /api/v1/health``) and readiness (``GET /api/v1/gereedheid``), without login.

======  ========================  ======  ===========
method  path                      roles   status codes
======  ========================  ======  ===========
GET     ``/api/v1/health``        anyone  200
GET     ``/api/v1/gereedheid``    anyone  200, 503
======  ========================  ======  ===========

Both are ``async`` routes that read what the service holds in memory
(:func:`api.services.status.service_status`, no lock, no query) and, for readiness, the last answer of
the database check that :class:`api.services.status.DatabaseWatch` runs in its own thread every
``ops.status_seconds``: they answer in milliseconds whatever the search load (``/health`` once waited
for the matcher's lock behind every running search: 45 s at 32 users). Readiness is 200 when the
database answered and both indexes are loaded and searchable, with the ranker (name, version) and the
embedding model and indexes that serve; otherwise 503 problem+json that says what is missing. Neither
names a file path.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from api import problems
from api.problems import problem
from api.routes.common import Uitvoer
from api.routes.modellen import Rangschikker
from api.services.status import service_status
from matching.settings import Settings

RETRY_LOADING_S = 10  # Retry-After of a 503 while the indexes load (they are searchable after ~10 s)

router = APIRouter(prefix="/api/v1", tags=["beheer"])


class Zijde(Uitvoer):
    """One index (klanten or vacatures) against the database."""

    database: int | None = Field(description="records die de service kent")
    geindexeerd: int | None = Field(description="vectoren in de index; leeg zolang die niet geladen is")
    te_embedden: int | None = Field(description="records die nog ingebed moeten worden")
    voortgang: float = Field(description="deel van de records dat in de index staat, 0-1")
    model_id: str | None = Field(description="het embeddingmodel van de index")
    actueel: bool = Field(description="index en database komen overeen")


class IndexStand(Uitvoer):
    """The indexes, the embedding run and the ranker, as the service holds them in memory."""

    model_id: str | None
    dimensie: int | None
    rangschikker: Rangschikker
    klanten: Zijde
    vacatures: Zijde
    embedding: str = Field(
        description="klaar, bezig, wacht (niemand bedt de ontbrekende records in), voorbereiden (het "
        "embeddingmodel wordt gebouwd; zoeken werkt lexicaal en gestructureerd) of fout"
    )
    embedding_fout: str | None = Field(None, description="waarom het inbedden mislukte (zonder paden)")
    rol: str | None = Field(None, description="schrijver (bedt in, schrijft de indexbestanden) of lezer")
    schrijver: int | None = Field(None, description="proces dat de indexbestanden schrijft; leeg: geen")
    gecontroleerd_op: str = Field(description="moment van deze stand (lokale tijd)")


class Gezondheid(Uitvoer):
    """Liveness: the service lives; ``index`` is empty while it starts."""

    status: str = Field(description="altijd ok")
    index: IndexStand | None


class EmbeddingStand(Uitvoer):
    """The embedding model of the indexes that serve."""

    model: str | None
    dimensie: int | None
    status: str = Field(description="klaar, bezig of fout")
    fout: str | None = None


class Gereedheid(Uitvoer):
    """Readiness: the database answers and both indexes are searchable."""

    status: str = Field(description="gereed")
    database: str = Field(description="bereikbaar")
    rangschikker: Rangschikker
    embedding: EmbeddingStand
    indexen: dict[str, Zijde] = Field(description="klanten en vacatures")
    gecontroleerd_op: str


@router.get("/health", response_model=Gezondheid, response_model_exclude_unset=True)
async def health(request: Request) -> dict[str, Any]:
    """Leeft de service (liveness): de stand van de indexen en welk model rangschikt."""
    # async, from memory: answers in ms while every thread searches
    matcher = getattr(request.app.state, "matcher", None)
    if matcher is None:
        return {"status": "ok", "index": None}
    return {"status": "ok", "index": service_status(request.app.state.settings, matcher)}


@router.get(
    "/gereedheid",
    response_model=Gereedheid,
    response_model_exclude_unset=True,
    responses=problems.documented(_503="Niet gereed: database of indexen ontbreken"),
)
async def ready(request: Request) -> dict[str, Any] | JSONResponse:
    """Gereedheid (readiness): antwoordt de database en zijn de indexen doorzoekbaar; welk model serveert."""
    return readiness(request)  # async and from memory: answers while every thread searches


def readiness(request: Request) -> dict[str, Any] | JSONResponse:
    """The readiness answer for ``request.app``: from memory and the last database check."""
    settings: Settings = request.app.state.settings
    matcher = getattr(request.app.state, "matcher", None)
    if matcher is None:
        return _not_ready("De service start nog; de indexen zijn nog niet aangemaakt.", {"indexen": "niet geladen"})
    error = request.app.state.ops.database.last_error(matcher.engine)
    if error is not None:
        return _not_ready(
            f"De database antwoordt niet ({error}). Controleer of de database draait en of WERKMATCH_DATABASE_URL "
            "klopt; de service neemt geen zoekopdrachten aan tot de database weer antwoordt.",
            {"database": "onbereikbaar"},
        )
    if not matcher.prepared:
        return _not_ready(
            "De indexen worden nog geladen; zoeken kan zodra ze klaar zijn (meestal binnen een minuut).",
            {"database": "bereikbaar", "indexen": "niet geladen"},
            retry_after=RETRY_LOADING_S,
        )
    status = service_status(settings, matcher)
    if settings.ops.ready_requires_embedding and status["embedding"] != "klaar":
        return _not_ready(
            f"De records worden nog ingebed (embedding: {status['embedding']}); deze service wacht daarop "
            "(WERKMATCH_OPS__READY_REQUIRES_EMBEDDING).",
            {"database": "bereikbaar", "indexen": "geladen", "embedding": status["embedding"]},
            retry_after=RETRY_LOADING_S,
        )
    return {
        "status": "gereed",
        "database": "bereikbaar",
        "rangschikker": status["rangschikker"],
        "embedding": {
            "model": status["modelId"],
            "dimensie": status["dimensie"],
            "status": status["embedding"],
            **({"fout": status["embeddingFout"]} if "embeddingFout" in status else {}),
        },
        "indexen": {side: status[side] for side in ("klanten", "vacatures")},
        "gecontroleerdOp": status["gecontroleerdOp"],
    }


def _not_ready(detail: str, checks: dict[str, str], retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return problem(503, "Niet gereed", detail, headers=headers, checks=checks)
