"""What the workflow routes share: the audit actor of a request, the note and purpose fields, an inbox item.

The workflow routes (:mod:`api.routes.voorstellen`, :mod:`api.routes.inbox`,
:mod:`api.routes.zoekopdrachten`, :mod:`api.routes.rapportages`) parse and authenticate, build an
:class:`api.services.werkproces.Actor` with :func:`actor`, call one service function and render its
answer through a response model. Errors are ``application/problem+json`` in Dutch: 400 invalid input
or an impossible transition (the message names the current state and the allowed next ones; nothing
is written), 401/403 from ``api.security``, 404 unknown or not yours, 409 already handled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from fastapi import Request
from pydantic import Field

from api import problems
from api.routes.common import Uitvoer, origin, request_id
from api.services.users import Rol, User
from api.services.werkproces import Actor
from matching import outcomes

# Every workflow route needs a role: 401 without a valid token, 403 for another role.
RESPONSES = problems.documented(401, 403)
NOT_FOUND = problems.documented(404)
CONFLICT = problems.documented(404, _409="Het item is al afgehandeld")

PURPOSE = Field("bemiddeling", min_length=3, max_length=200, description="doel van de verwerking (doelbinding)")
NOTE = Field(None, max_length=outcomes.TOELICHTING_MAX)
VOORSTEL_REDEN = Field(
    None,
    max_length=40,
    description="waarom deze kandidaat: hoogste_match, kent_klant, wens_klant, ontwikkelkans, werkgever_vraagt "
    "of anders (met toelichting); leeg wordt vastgelegd als niet_opgegeven",
)

AFWIJS_REDEN_TEKST = "waarom deze klant niet past (redencode; anders met toelichting)"


def reden_field(codes: Sequence[str], description: str, required: bool = True) -> Any:
    """A reason-code field whose codes (:mod:`matching.reasons`) the OpenAPI document lists as its enum.

    The codes are documented, not validated here: the service refuses another code in its own Dutch
    words (which name the codes to choose from), as it always did.
    """
    enum: list[str | None] = [*codes] if required else [*codes, None]
    return Field(
        ... if required else None,
        min_length=1 if required else None,
        max_length=40,
        description=description,
        json_schema_extra={"enum": enum},
    )


def actor(user: User, request: Request, purpose: str = "bemiddeling") -> Actor:
    """The audit actor of this request: the user, role, caseload, request id, purpose and the CLI's marks."""
    return Actor(
        username=user.username,
        rol=Rol(user.rol).value,
        consulent=user.consulent,
        request_id=request_id(request),
        purpose=purpose,
        origin=origin(request),
    )


class InboxItemOut(Uitvoer):
    id: int
    soort: str
    status: str
    uitkomst: str | None
    klant_id: str
    vacature_id: str
    titel: str
    uren_min: int = Field(description="uren per week van de vacature: minstens")
    uren_max: int = Field(description="uren per week van de vacature: hoogstens")
    afstand_km: float | None = Field(description="afstand tussen de postcodegebieden (PC4) van klant en vacature")
    van: str
    toelichting: str | None
    rang: int | None
    score: float | None = Field(
        description="de kans op aanname van het paar (0–100 %) toen het item ontstond; leeg bij nazorg"
    )
    redenen: list[str]
    aandachtspunten_beperkingen: list[str] = Field(
        default_factory=list,
        description="waar de eisen van de vacature de beperkingen van de eigen klant raken, en wat dat oplost",
    )
    voorstel_id: int | None
    zoekopdracht_id: int | None
    vervaldatum: date | None
    nazorg_maanden: int | None
    gepland: bool = Field(description="vervaldatum ligt nog in de toekomst")
    aangemaakt: datetime
    afgehandeld_door: str | None
    afgehandeld_op: datetime | None
