"""Finding a client or vacancy by what users type: a database id or the external number."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlmodel import Session, select

from matching.domain import Client, Vacancy
from matching.errors import NotFoundError

Row = TypeVar("Row", Client, Vacancy)
IN_CHUNK = 900  # values per IN (...): below SQLite's old 999 bound-parameter limit
ID_MAX = 2**63 - 1  # SQLite's INTEGER (PostgreSQL's bigint); a larger number is no id and overflowed the query


def in_chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    """``values`` in slices of at most ``size``, for ``IN (...)`` queries that must stay under the parameter limit."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _database_id(text: str) -> int | None:
    """``text`` as a database id: ASCII digits within the 64-bit range (``str.isdigit`` also takes "²")."""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= ID_MAX else None


def _find(session: Session, table: type[Row], number: Any, ref: str | int, missing: str) -> Row:
    text = str(ref).strip()
    database_id = _database_id(text)
    column, value = (table.id, database_id) if database_id is not None else (number, text)
    row = session.exec(select(table).where(column == value)).first()
    if row is None:
        raise NotFoundError(missing)
    return row


def find_client(session: Session, ref: str | int) -> Client:
    """The client with database id ``ref`` (ASCII digits) or klantnummer ``ref``; Dutch NotFoundError."""
    return _find(session, Client, Client.client_nummer, ref, f"klant '{ref}' bestaat niet; controleer het klantnummer")


def find_vacancy(session: Session, ref: str | int) -> Vacancy:
    """The vacancy with database id ``ref`` (ASCII digits) or vacaturenummer ``ref``; Dutch NotFoundError."""
    return _find(
        session, Vacancy, Vacancy.vacature_nummer, ref, f"vacature '{ref}' bestaat niet; controleer het vacaturenummer"
    )
