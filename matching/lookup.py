"""Finding a client or vacancy by what users type: a database id or the external number."""

from __future__ import annotations

from sqlmodel import Session, select

from matching.domain import Client, Vacancy
from matching.errors import NotFoundError


def _is_id(ref: str | int) -> bool:
    return str(ref).strip().isdigit()


def find_client(session: Session, ref: str | int) -> Client:
    """The client with database id ``ref`` (digits only) or klantnummer ``ref``; Dutch NotFoundError."""
    column = Client.id if _is_id(ref) else Client.client_nummer
    value = int(str(ref).strip()) if _is_id(ref) else str(ref).strip()
    row = session.exec(select(Client).where(column == value)).first()
    if row is None:
        raise NotFoundError(f"klant '{ref}' bestaat niet; controleer het klantnummer")
    return row


def find_vacancy(session: Session, ref: str | int) -> Vacancy:
    """The vacancy with database id ``ref`` (digits only) or vacaturenummer ``ref``; Dutch NotFoundError."""
    column = Vacancy.id if _is_id(ref) else Vacancy.vacature_nummer
    value = int(str(ref).strip()) if _is_id(ref) else str(ref).strip()
    row = session.exec(select(Vacancy).where(column == value)).first()
    if row is None:
        raise NotFoundError(f"vacature '{ref}' bestaat niet; controleer het vacaturenummer")
    return row
