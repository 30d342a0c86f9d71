"""What the resource routes share: the base schemas, paging, the audit entry of a request, a taken number.

* **Schemas** answer in camelCase (:class:`Uitvoer`) and take camelCase with unknown fields refused
  (:class:`Invoer`); timestamps SQLite hands back naive are answered in UTC with an offset (:data:`Utc`).
* **Pages** are ``{"resultaten": [...], "pagina", "paginaGrootte", "totaal", "aantalPaginas"}``;
  ``pagina`` counts from 1, ``paginaGrootte`` is 1–100 (default 20). A page past the last one is
  empty (200), not an error.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from sqlalchemy import func
from sqlmodel import Session, select

from api.problems import ProblemError
from api.services import users
from api.services.users import User
from matching.timeutil import stored_utc

PAGE_SIZE_MAX = 100
PAGE_MAX = 1_000_000  # keeps OFFSET far below SQLite's 64-bit limit (a larger page number overflowed: 500)
DEFAULT_PURPOSE = "bemiddeling"

# The error texts of the klanten and vacatures routes in the OpenAPI document (api.problems.documented).
RESOURCE_ERRORS = {
    400: "Ongeldige invoer: een veld, de X-Doel-header of het importbestand",
    403: "Deze rol mag dit niet, of de consulentcode is niet de eigen",
    409: "Het nummer is al in gebruik",
    413: "De aanvraag is te groot (5 MB voor een import, anders 1 MB; zie api.ops)",
}

# SQLite hands back naive datetimes; they were stored in UTC and are answered with an offset.
Utc = Annotated[datetime, AfterValidator(stored_utc)]
Pagina = Annotated[int, Query(ge=1, le=PAGE_MAX, description="paginanummer, vanaf 1")]
PaginaGrootte = Annotated[int, Query(alias="paginaGrootte", ge=1, le=PAGE_SIZE_MAX, description="1 t/m 100")]


class Uitvoer(BaseModel):
    """Base of the response schemas: camelCase JSON."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class Invoer(BaseModel):
    """Base of the request schemas: camelCase JSON, unknown fields refused, no NUL in text."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        """JSON allows NUL in text; PostgreSQL does not store it and no name or reason needs it."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("bevat een NUL-teken; verwijder het")
        return value


class Paginering(Uitvoer):
    """Where a page lies: ``pagina`` counts from 1; a page past the last one is empty."""

    pagina: int
    pagina_grootte: int
    totaal: int = Field(description="aantal resultaten over alle pagina's")
    aantal_paginas: int


def page_of(session: Session, statement: Any, order: Any, pagina: int, grootte: int) -> tuple[list[Any], int]:
    """One page of ``statement`` in ``order``, and the number of rows over all pages."""
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    rows = list(session.exec(statement.order_by(order).offset((pagina - 1) * grootte).limit(grootte)))
    return rows, int(total)


def paging(pagina: int, grootte: int, total: int) -> dict[str, int]:
    """The :class:`Paginering` fields of page ``pagina`` of ``total`` results."""
    return {"pagina": pagina, "pagina_grootte": grootte, "totaal": total, "aantal_paginas": math.ceil(total / grootte)}


def request_id(request: Request) -> str | None:
    """The id the request-id middleware gave this request (none when a route function is called directly)."""
    return getattr(request.state, "request_id", None)


def origin(request: Request) -> dict[str, str] | None:
    """For a token the CLI minted (``api.security`` keeps its claims), the CLI's marks and the operator's OS user."""
    claims = getattr(request.state, "token_claims", None) or {}
    if claims.get("via") != "cli":
        return None
    return {"via": "cli", "osGebruiker": str(claims.get("osGebruiker", ""))[:64]}


def record(
    session: Session,
    request: Request,
    user: User,
    action: str,
    purpose: str,
    subjects: list[str],
    details: dict[str, Any] | None = None,
) -> None:
    """Audit entries in the caller's transaction; several when ``subjects`` do not fit one; with :func:`origin`."""
    users.record_as(
        session,
        user,
        action=action,
        purpose=purpose,
        subjects=subjects,
        details={**(details or {}), **(origin(request) or {})} or None,
        request_id=request_id(request),
    )


def conflict(what: str, nummer: str, path: str) -> ProblemError:
    """409 for a number that is taken, with the ``PUT`` that changes the existing one."""
    return ProblemError(
        409,
        "Bestaat al",
        f"{what} '{nummer}' bestaat al; kies een ander nummer, of wijzig de bestaande met PUT {path}.",
    )
