"""Finding clients and vacancies by database id or external number (``matching.lookup``)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, SQLModel, create_engine

from matching.errors import NotFoundError
from matching.lookup import find_client, find_vacancy
from tests.factories import make_client, make_vacancy


@pytest.fixture
def session(tmp_path) -> Session:
    engine = create_engine(f"sqlite:///{tmp_path / 'lookup.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        yield session


def test_digits_are_a_database_id_and_anything_else_the_number(session: Session) -> None:
    client = make_client(session, client_nummer="K0000042")
    vacancy = make_vacancy(session, vacature_nummer="WSP-0000001")
    assert find_client(session, str(client.id)).client_nummer == "K0000042"
    assert find_client(session, " K0000042 ").id == client.id
    assert find_vacancy(session, vacancy.id).vacature_nummer == "WSP-0000001"


@pytest.mark.parametrize("ref", ["²", "١٢", "9223372036854775808", "9" * 40])
def test_other_digits_and_huge_numbers_are_not_found_rather_than_a_crash(session: Session, ref: str) -> None:
    """Found by fuzzing the API: int('²') raised ValueError and 2**63 overflowed SQLite (both a 500)."""
    with pytest.raises(NotFoundError, match="bestaat niet"):
        find_client(session, ref)
    with pytest.raises(NotFoundError, match="bestaat niet"):
        find_vacancy(session, ref)
