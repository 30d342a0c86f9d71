"""Who was ever proposed, as a served search reads it (:class:`matching.floor_state._Proposals`, session 35), on SQLite
and the real PostgreSQL: right from the first search (its pool read) and from the process's copy after the whole read;
a voorstel committed below the highest id is seen however late it comes (no clock: the database's count of inserted
and deleted voorstellen tells); an erased client's voorstellen leave no flag, also when SQLite gives its id to a new
client and when a deletion and a late insert come together; on PostgreSQL a gemeente's scope counts only what it can
read, so another gemeente's voorstellen cost it no read, while a deletion or a client moved in reach it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from api.services import schema
from matching import floor_state, tenancy
from matching.outcomes import Voorstel
from matching.store import make_engine
from tests.factories import make_client, make_vacancy, propose, proposed
from tests.postgres import PostgresServer


def world(engine: Engine, clients: int = 3, vacancies: int = 3) -> tuple[list[int], list[int]]:
    with Session(engine) as session:
        people = [make_client(session, client_nummer=f"K-{n}").id for n in range(clients)]
        jobs = [make_vacancy(session, vacature_nummer=f"V-{n}").id for n in range(vacancies)]
    return people, jobs  # type: ignore[return-value]


def erase(connection: Connection, client: int) -> None:
    """Delete a client as erasure does: its voorstellen and personal rows first, then the client."""
    for table in ("voorstel", "client_personalia", "audit_kenmerken"):
        connection.execute(text(f"DELETE FROM {table} WHERE client_id = :id"), {"id": client})  # noqa: S608
    connection.execute(text("DELETE FROM client WHERE id = :id"), {"id": client})


def flags(engine: Engine, clients: list[int], vacancy: int) -> list[bool]:
    """What a search reads now (its pool while the process has no current copy)."""
    with Session(engine) as session:
        return floor_state.ever_proposed(session, np.array(clients), vacancy).tolist()


def from_copy(engine: Engine, clients: list[int], vacancy: int) -> list[bool]:
    """What a search reads from the process's copy: once the whole read a change started is done."""
    with Session(engine) as session:
        copy = floor_state.proposals(session)
        floor_state.ever_proposed(session, np.array(clients), vacancy)
        copy.wait()
        found = floor_state.ever_proposed(session, np.array(clients), vacancy).tolist()
        assert copy.mark is not None  # caught up: answered from the copy
        return found


def reads(engine: Engine) -> int:
    with Session(engine) as session:
        return floor_state.proposals(session).reads


def test_the_first_search_reads_its_pool_and_later_ones_the_copy(engine: Engine) -> None:
    (a, b, c), (one, two, three) = world(engine)
    for client, vacancy in ((a, one), (b, one), (b, two)):
        proposed(engine, client, vacancy)
    assert flags(engine, [a, b, c], one) == [False, True, False]
    assert from_copy(engine, [a, b, c], one) == [False, True, False]
    assert from_copy(engine, [a, b, c], three) == [True, True, False]
    assert from_copy(engine, [c + 100], three) == [False]  # an id above every client the copy holds
    assert reads(engine) == 1


def test_a_voorstel_committed_below_the_highest_id_is_seen_however_late(engine: Engine) -> None:
    (a, b, c), (one, _two, three) = world(engine)
    assert from_copy(engine, [a, b, c], three) == [False] * 3
    proposed(engine, b, one, voorstel_id=1000)  # a higher id committed first
    for _ in range(5):  # searches meanwhile: session 34 gave the lower id up after a minute of them
        assert from_copy(engine, [a, b, c], three) == [False, True, False]
    assert reads(engine) == 1  # each caught up by the count
    proposed(engine, a, one, voorstel_id=10)  # the lower id commits, however late
    assert from_copy(engine, [a, b, c], three) == [True, True, False]
    assert from_copy(engine, [a, b, c], one) == [False] * 3
    assert reads(engine) == 2


def test_an_erased_clients_voorstellen_leave_no_wrong_flag(engine: Engine) -> None:
    (a, b, gone), (one, two, three) = world(engine)
    for vacancy in (one, two):
        proposed(engine, gone, vacancy, voorstel_id=900 + vacancy)
    assert from_copy(engine, [a, b, gone], three) == [False, False, True]
    with engine.begin() as connection:
        erase(connection, gone)
    with Session(engine) as session:
        new = make_client(session, client_nummer="K-NIEUW").id
    if engine.dialect.name == "sqlite":
        assert new == gone  # SQLite gives the highest id again (no AUTOINCREMENT)
    assert from_copy(engine, [a, b, new], three) == [False, False, False]
    # a deletion and a voorstel committed late, together: a count of rows would not move, the count of changes does
    proposed(engine, new, one, voorstel_id=2000)
    assert from_copy(engine, [a, b, new], three) == [False, False, True]
    with engine.begin() as connection:
        erase(connection, new)
        propose(connection, a, one, voorstel_id=50)
    assert from_copy(engine, [a, b], three) == [True, False]
    assert reads(engine) == 3


@pytest.fixture
def gemeenten(postgres: PostgresServer) -> Iterator[tuple[Engine, dict[str, int], list[int]]]:
    """The service role's engine on a database set up as in production; a client of Duiven, two of Arnhem."""
    with postgres.service_database() as (_owner_url, service_url):
        service = make_engine(service_url)
        with Session(service) as session:
            clients = {
                name: make_client(session, client_nummer=f"K-{name}", gemeente=place).id
                for name, place in (("duiven", "Duiven"), ("arnhem", "Arnhem"), ("verhuist", "Arnhem"))
            }
            vacancies = [make_vacancy(session, vacature_nummer=f"V-{n}").id for n in range(3)]
        yield service, clients, vacancies  # type: ignore[misc]
        service.dispose()


@pytest.mark.slow
def test_a_gemeente_counts_only_what_it_reads(gemeenten: tuple[Engine, dict[str, int], list[int]]) -> None:
    service, clients, (one, two, three) = gemeenten
    duiven, arnhem, moved = clients["duiven"], clients["arnhem"], clients["verhuist"]
    with tenancy.scope("Duiven"):
        assert from_copy(service, [duiven], three) == [False]
    with tenancy.scope("Arnhem"):
        proposed(service, arnhem, one)
        proposed(service, moved, two)
    with tenancy.scope("Duiven"):
        assert from_copy(service, [duiven, arnhem], three) == [False, False]  # Arnhem's rows: hidden, not counted
        assert reads(service) == 1
        proposed(service, duiven, one)
        assert from_copy(service, [duiven], three) == [True]
        assert reads(service) == 1  # its own voorstel: caught up by the count
    with tenancy.scope(tenancy.REGIONAL):  # a client moves to Duiven with its voorstel
        with service.begin() as connection:
            connection.execute(text("UPDATE client SET gemeente = 'Duiven' WHERE id = :id"), {"id": moved})
    with tenancy.scope("Duiven"):
        assert from_copy(service, [duiven, moved], three) == [True, True]
        assert reads(service) == 2
    with tenancy.scope("Arnhem"):
        with service.begin() as connection:
            erase(connection, arnhem)
    with tenancy.scope("Duiven"):  # a deletion reaches every scope: read again, nothing of Duiven's lost
        assert from_copy(service, [duiven, moved], one) == [False, True]
        assert reads(service) == 3


@pytest.mark.slow
def test_a_voorstel_whose_transaction_stays_open_past_searches_is_seen(postgres: PostgresServer) -> None:
    """Two real transactions: the lower id flushed first, the higher one committed, searches meanwhile (the copy caught
    up with the higher one), then the lower one committed; moved here from test_floor_state_serving (session 32)."""
    with postgres.fresh_database() as url:
        engine = make_engine(url)
        schema.create_all(engine)
        (a, b, c), (one, _two, three) = world(engine)
        assert from_copy(engine, [a, b, c], three) == [False] * 3
        late = Session(engine)
        late.add(Voorstel(client_id=a, vacancy_id=one, made_by="consulent-a", made_by_role="consulent"))
        late.flush()  # the lower id, its transaction open
        proposed(engine, b, one)
        for _ in range(5):
            assert from_copy(engine, [a, b, c], three) == [False, True, False]
        late.commit()
        late.close()
        assert from_copy(engine, [a, b, c], three) == [True, True, False]
        assert from_copy(engine, [a, b, c], one) == [False] * 3
        engine.dispose()
