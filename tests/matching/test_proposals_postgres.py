"""Who was ever proposed, read whole on PostgreSQL as the service role (session 36): the whole read runs with its own
planner settings (:data:`matching.floor_state._WHOLE_READ_SETTINGS`: a table scan instead of a heap fetch per voorstel
in client order), and that changes nothing of what a scope sees: a gemeente reads only its own clients' voorstellen,
the region all of them, exactly what a plain query in that scope returns; and the settings end with the read's
transaction, so the pooled connection serves the next search with the server's own."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from matching import floor_state, tenancy
from matching.store import make_engine
from tests.factories import make_client, make_vacancy, proposed
from tests.postgres import PostgresServer

pytestmark = pytest.mark.slow

PLACES = {"duiven": "Duiven", "arnhem": "Arnhem", "zevenaar": "Zevenaar"}


@pytest.fixture
def service(postgres: PostgresServer) -> Iterator[tuple[Engine, dict[str, int]]]:
    """The service role's engine on a database set up as in production; a client per gemeente, each proposed."""
    with postgres.service_database() as (_owner_url, service_url):
        engine = make_engine(service_url)
        with Session(engine) as session:
            clients = {
                name: make_client(session, client_nummer=f"K-{name}", gemeente=place).id
                for name, place in PLACES.items()
            }
            vacancies = [make_vacancy(session, vacature_nummer=f"V-{n}").id for n in range(3)]
        for (name, client), vacancy in zip(clients.items(), vacancies, strict=True):
            proposed(engine, client, vacancy)  # type: ignore[arg-type]
            if name == "arnhem":
                proposed(engine, client, vacancies[0])  # type: ignore[arg-type]
        yield engine, clients  # type: ignore[misc]
        engine.dispose()


def _plain(engine: Engine) -> dict[int, tuple[int, int]]:
    """The scope's voorstellen per client, by a plain query without the whole read's setting."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT client_id, min(vacancy_id), max(vacancy_id) FROM voorstel GROUP BY client_id")
        ).all()
    return {int(client): (int(lo), int(hi)) for client, lo, hi in rows}


def _whole_read(engine: Engine, scope: str) -> dict[int, tuple[int, int]]:
    copy = floor_state._Proposals()
    copy.read_all(engine, scope)
    assert copy.reads == 1 and copy.mark is not None
    return {int(client): (int(copy.lo[client]), int(copy.hi[client])) for client in np.flatnonzero(copy.hi)}


def test_the_whole_read_sees_exactly_what_its_scope_sees(service: tuple[Engine, dict[str, int]]) -> None:
    engine, clients = service
    for scope in (tenancy.REGIONAL, "Duiven", "Arnhem"):
        with tenancy.scope(scope):
            assert _whole_read(engine, scope) == _plain(engine), scope
    with tenancy.scope("Duiven"):
        assert set(_whole_read(engine, "Duiven")) == {clients["duiven"]}  # nothing of Arnhem's or Zevenaar's
    assert set(_whole_read(engine, tenancy.REGIONAL)) == set(clients.values())


def test_the_whole_reads_settings_end_with_its_transaction(service: tuple[Engine, dict[str, int]]) -> None:
    engine, _clients = service
    names = [setting.split()[2] for setting in floor_state._WHOLE_READ_SETTINGS]  # SET LOCAL <name> = <value>
    assert names  # the read does set something

    def shown() -> dict[str, str]:
        with engine.connect() as connection:
            return {name: connection.exec_driver_sql(f"SHOW {name}").scalar_one() for name in names}

    engine.dispose()  # an empty pool: the whole read's connection is the one a search gets next
    server_defaults = shown()
    _whole_read(engine, tenancy.REGIONAL)
    assert engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    assert shown() == server_defaults
