"""What the consulent's workflow services share: who acts, their audit entry, their caseload, a page.

:mod:`api.services.inbox`, :mod:`api.services.voorstellen`, :mod:`api.services.zoekopdrachten` and
:mod:`api.services.oversight` take an :class:`Actor` (built by the HTTP layer from the logged-in user,
or by the CLI from the operator), check a client against the actor's caseload with
:func:`own_client`, and write their audit entry as that actor with :func:`record_audit` in the same
transaction as the change or read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from api.services import audit
from matching import outcomes
from matching.domain import Client
from matching.errors import InvalidInputError, NotFoundError
from matching.lookup import find_client

PAGE_SIZE_MAX = 100


@dataclass(frozen=True)
class Actor:
    """Who does something, for the audit log and the caseload checks.

    ``origin`` goes into every audit entry's details, e.g. ``{"via": "cli", "osGebruiker": "jan"}``.
    """

    username: str
    rol: str
    consulent: str | None = None
    request_id: str | None = None
    purpose: str = "bemiddeling"
    origin: Mapping[str, str] | None = None


def record_audit(session: Session, actor: Actor, action: str, subjects: Sequence[str], **details: Any) -> None:
    """One audit entry as ``actor`` (more when the subjects do not fit one) in the caller's transaction."""
    audit.record_all(
        session,
        actor=actor.username,
        rol=actor.rol,
        action=action,
        purpose=actor.purpose,
        subjects=subjects,
        details={**details, **(actor.origin or {})} or None,
        request_id=actor.request_id,
    )


def own_client(session: Session, ref: str | int, consulent: str | None) -> Client:
    """The client ``ref`` if it is in caseload ``consulent``.

    Raises:
        NotFoundError: Unknown, or another consulent's client: the same message, so existence does not leak.
    """
    client = find_client(session, ref)
    if consulent is None or client.consulent != consulent:
        raise NotFoundError(f"klant '{ref}' bestaat niet; controleer het klantnummer")
    return client


def check_page(page: int, size: int) -> None:
    """Refuse a page number below 1 or a page size outside 1–:data:`PAGE_SIZE_MAX`."""
    if page < 1:
        raise InvalidInputError(f"pagina begint bij 1, niet {page}")
    if not 1 <= size <= PAGE_SIZE_MAX:
        raise InvalidInputError(f"paginaGrootte moet tussen 1 en {PAGE_SIZE_MAX} liggen, niet {size}")


def model_version(ranked_by: dict[str, Any] | None) -> str | None:
    """The ranker of a list (its ``rankedBy``) as stored beside a suggestion: ``name@version``."""
    if not ranked_by:
        return None
    name, version = ranked_by.get("name"), ranked_by.get("version")
    value = f"{name}@{version}" if version is not None else str(name)
    return value[: outcomes.MODEL_VERSION_MAX]
