"""Finding a client or vacancy by what users type: a database id or the external number."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import Session, select

from matching.domain import Client, Vacancy
from matching.errors import NotFoundError

Row = TypeVar("Row", Client, Vacancy)


def _find(session: Session, table: type[Row], number: Any, ref: str | int, missing: str) -> Row:
    text = str(ref).strip()
    column, value = (table.id, int(text)) if text.isdigit() else (number, text)
    row = session.exec(select(table).where(column == value)).first()
    if row is None:
        raise NotFoundError(missing)
    return row


def find_client(session: Session, ref: str | int) -> Client:
    """The client with database id ``ref`` (digits only) or klantnummer ``ref``; Dutch NotFoundError."""
    return _find(session, Client, Client.client_nummer, ref, f"klant '{ref}' bestaat niet; controleer het klantnummer")


def find_vacancy(session: Session, ref: str | int) -> Vacancy:
    """The vacancy with database id ``ref`` (digits only) or vacaturenummer ``ref``; Dutch NotFoundError."""
    return _find(
        session, Vacancy, Vacancy.vacature_nummer, ref, f"vacature '{ref}' bestaat niet; controleer het vacaturenummer"
    )
