"""The database counts inserted and deleted records (matching.store.RecordChange): a search no longer counts rows.

On SQLite and the real PostgreSQL: the marks move with every insert and delete (single rows, bulk
inserts, old timestamps, TRUNCATE, a client moved to another gemeente), never with a plain update; a
search after a deletion does not show the record and a search after no change runs no ``COUNT(*)``;
two writers do not wait for each other; under row-level security a gemeente sees only its own marks.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.services import schema
from matching import store, tenancy
from matching.domain import Client, client_from_input, utcnow
from matching.embedding import Embedder
from matching.hard_filters import CandidateFilters
from matching.matcher import Matcher
from matching.store import Mark, change_marks, compact_changes, make_engine
from tests.factories import app_settings, client_in, make_client, make_vacancy
from tests.postgres import SERVICE, PostgresServer
from training.synthetic import write_streaming


def marks(engine: Engine) -> dict[str, Mark | None]:
    with Session(engine) as session:
        return change_marks(session)


CLIENTS = Client.__table__  # type: ignore[attr-defined]


def client_row(number: str, **overrides: object) -> dict[str, object]:
    return {**client_from_input(client_in(client_nummer=number)), "updated_at": utcnow(), **overrides}


def insert_client(engine: Engine, number: str, **overrides: object) -> int:
    """A client written with plain SQL (as an import or another program would), ``overrides`` on its columns."""
    with engine.begin() as connection:
        inserted = connection.execute(CLIENTS.insert().values(client_row(number, **overrides)).returning(CLIENTS.c.id))
        return int(inserted.scalar_one())


def test_the_marks_move_with_every_insert_and_delete_and_not_with_an_update(engine: Engine) -> None:
    seen = [marks(engine)]
    with Session(engine) as session:
        client_id = make_client(session, client_nummer="K-1").id
    seen.append(marks(engine))
    assert seen[-1]["clients"] != seen[-2]["clients"] and seen[-1]["vacancies"] == seen[-2]["vacancies"]
    with Session(engine) as session:
        make_vacancy(session, vacature_nummer="V-1")
    seen.append(marks(engine))
    assert seen[-1]["vacancies"] != seen[-2]["vacancies"] and seen[-1]["clients"] == seen[-2]["clients"]
    with engine.begin() as connection:  # an update of a profile: the search finds it by updated_at
        connection.execute(text("UPDATE client SET consulent = 'wc-b', updated_at = :now"), {"now": utcnow()})
    assert marks(engine) == seen[-1]
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM client WHERE id = :id"), {"id": client_id})
    seen.append(marks(engine))
    assert seen[-1]["clients"] != seen[-2]["clients"]
    write_streaming(engine, 30, 10, seed=3, progress=False)  # bulk: many rows per statement
    seen.append(marks(engine))
    assert seen[-1]["clients"] != seen[-2]["clients"] and seen[-1]["vacancies"] != seen[-2]["vacancies"]
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM vacancy"))
    seen.append(marks(engine))
    assert seen[-1]["vacancies"] != seen[-2]["vacancies"]
    assert len({mark["clients"] for mark in seen}) == 4  # start, insert, delete, bulk: no mark came back


def test_an_empty_statement_leaves_the_marks(engine: Engine) -> None:
    with Session(engine) as session:
        make_client(session, client_nummer="K-1")
    before = marks(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM client WHERE client_nummer = 'bestaat-niet'"))
    assert marks(engine) == before


@pytest.fixture
def matcher(database_url: str, tmp_path: Path, embedder: Embedder) -> Iterator[Matcher]:
    settings = app_settings(tmp_path / "var", database_url=database_url)
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    write_streaming(engine, 40, 6, seed=5, progress=False)
    engine.dispose()
    found = Matcher(settings, embedder)
    found.sync()
    yield found
    found.close()


class Statements:
    """The SQL an engine runs while the block is open."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.seen = engine, []

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, _connection, _cursor, statement: str, *_: object) -> None:
        self.seen.append(" ".join(statement.lower().split()))


def counted(statements: list[str]) -> list[str]:
    return [s for s in statements if "count(" in s and ("from client" in s or "from vacancy" in s)]


def shown(matcher: Matcher, vacancy_id: int) -> list[str]:
    """The client numbers of a vacancy's whole list (heleBestand: the deleted client is surely on it)."""
    found = matcher.search_candidates(vacancy_id, top=500, filters=CandidateFilters(whole_bestand=True))
    return [result.client_id for result in found.results]


def delete_client(engine: Engine, number: str) -> int:
    """Delete a client with plain SQL, as another process would (nothing tells the matcher); its id."""
    with engine.begin() as connection:
        gone = connection.execute(text("SELECT id FROM client WHERE client_nummer = :n"), {"n": number}).scalar_one()
        for table in ("client_personalia", "audit_kenmerken"):
            connection.execute(text(f"DELETE FROM {table} WHERE client_id = :id"), {"id": gone})
        connection.execute(text("DELETE FROM client WHERE id = :id"), {"id": gone})
    return int(gone)


def test_a_search_counts_no_rows_when_nothing_was_inserted_or_deleted(matcher: Matcher) -> None:
    vacancy_id = int(matcher.index.arrays()[1].ids[0])
    shown(matcher, vacancy_id)  # the first search after the sync
    with Statements(matcher.engine) as statements:
        shown(matcher, vacancy_id)
    assert counted(statements) == []
    assert any("record_change" in s for s in statements)


def test_a_deleted_client_is_not_shown_by_the_next_search(matcher: Matcher) -> None:
    vacancy_id = int(matcher.index.arrays()[1].ids[0])
    before = shown(matcher, vacancy_id)
    gone = before[0]
    gone_id = delete_client(matcher.engine, gone)
    with Statements(matcher.engine) as statements:
        after = shown(matcher, vacancy_id)
    assert gone not in after and set(after) == set(before) - {gone}
    assert gone_id not in matcher.index.sides["clients"].digests
    assert len(counted(statements)) == 1  # the mark moved: the side was counted once, then read again
    with Statements(matcher.engine) as statements:
        assert shown(matcher, vacancy_id) == after
    assert counted(statements) == []


@pytest.mark.slow  # a 46-record world embedded per test (13-19 s set-up, loaded quick run); the two above stay quick
def test_a_client_inserted_with_an_old_timestamp_is_noticed(matcher: Matcher) -> None:
    vacancy_id = int(matcher.index.arrays()[1].ids[0])
    shown(matcher, vacancy_id)
    state = matcher.index.sides["clients"]
    assert state.watermark is not None
    new = insert_client(matcher.engine, "K-OUD", updated_at=state.watermark - timedelta(days=30))
    shown(matcher, vacancy_id)
    assert new in matcher.index.sides["clients"].digests
    assert int(new) in set(matcher.index.arrays()[0].ids.tolist())


@pytest.mark.slow  # a 46-record world embedded per test (13-19 s set-up, loaded quick run); the two above stay quick
def test_a_deletion_hidden_by_an_insert_with_an_old_timestamp_is_noticed(matcher: Matcher) -> None:
    """One client deleted and another inserted with an older timestamp between two searches: the count is as it was,
    and neither the timestamps nor the count tell; the marks' running total does."""
    vacancy_id = int(matcher.index.arrays()[1].ids[0])
    before = shown(matcher, vacancy_id)
    state = matcher.index.sides["clients"]
    assert state.watermark is not None
    gone_id = delete_client(matcher.engine, before[0])
    new = insert_client(matcher.engine, "K-OUD", updated_at=state.watermark - timedelta(days=30))
    after = shown(matcher, vacancy_id)
    assert before[0] not in after
    held = matcher.index.sides["clients"].digests
    assert gone_id not in held and new in held
    assert set(matcher.index.arrays()[0].ids.tolist()) == set(held)


@pytest.mark.slow  # a 46-record world embedded per test (13-19 s set-up, loaded quick run); the two above stay quick
def test_the_writers_round_drops_a_deletion_an_insert_made_up_for(matcher: Matcher) -> None:
    matcher.index._claim()
    vacancy_id = int(matcher.index.arrays()[1].ids[0])
    before = shown(matcher, vacancy_id)
    state = matcher.index.sides["clients"]
    assert state.watermark is not None
    gone_id = delete_client(matcher.engine, before[0])
    insert_client(matcher.engine, "K-OUD", updated_at=state.watermark - timedelta(days=30))
    assert matcher.index.catch_up_deletions() is True
    assert gone_id not in matcher.index.sides["clients"].digests


@pytest.mark.slow  # a 46-record world embedded per test (13-19 s set-up, loaded quick run); the two above stay quick
def test_the_writers_round_counts_only_a_side_whose_mark_moved(matcher: Matcher) -> None:
    matcher.index._claim()
    shown(matcher, int(matcher.index.arrays()[1].ids[0]))
    with Statements(matcher.engine) as statements:
        assert matcher.index.catch_up_deletions() is False
    assert counted(statements) == []
    with Session(matcher.engine) as session:
        number = session.exec(select(Client.client_nummer)).first()
    gone = delete_client(matcher.engine, str(number))
    with Statements(matcher.engine) as statements:
        assert matcher.index.catch_up_deletions() is True
    assert [s for s in counted(statements) if "from vacancy" in s] == []
    assert gone not in matcher.index.sides["clients"].digests


# ---------------------------------------------------------------------- PostgreSQL alone


@pytest.fixture
def postgres_engine(postgres: PostgresServer) -> Iterator[Engine]:
    with postgres.fresh_database() as url:
        engine = make_engine(url)
        schema.create_all(engine)
        yield engine
        engine.dispose()


@pytest.mark.slow
def test_two_writers_do_not_wait_for_each_other_and_both_move_the_mark(postgres_engine: Engine) -> None:
    first = postgres_engine.connect()
    first_transaction = first.begin()
    first.execute(CLIENTS.insert().values(client_row("K-A")))
    with postgres_engine.begin() as second:  # would wait for the first's commit if they shared a counter row
        second.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
        second.execute(CLIENTS.insert().values(client_row("K-B")))
    between = marks(postgres_engine)  # the second committed, the first not yet (its log row has the lower id)
    first_transaction.commit()
    first.close()
    after = marks(postgres_engine)
    assert between["clients"] != after["clients"]
    assert after["clients"] is not None and after["clients"][0] == 2


@pytest.mark.slow
def test_the_log_is_folded_and_no_mark_comes_back(postgres_engine: Engine) -> None:
    seen = [marks(postgres_engine)]
    for number in range(store.COMPACT_ABOVE + 6):
        insert_client(postgres_engine, f"K-{number}", gemeente="Arnhem" if number % 2 else "Duiven")
        seen.append(marks(postgres_engine))
    assert compact_changes(postgres_engine) == store.COMPACT_ABOVE + 6
    folded = marks(postgres_engine)
    assert folded["clients"] is not None and folded["clients"][0] == 2  # one row per gemeente
    assert folded["clients"][2] == store.COMPACT_ABOVE + 6  # the rows changed, summed
    assert folded not in seen
    assert compact_changes(postgres_engine) == 0  # small enough: left as it is
    with postgres_engine.begin() as connection:
        connection.exec_driver_sql("TRUNCATE client CASCADE")
    assert marks(postgres_engine)["clients"] != folded["clients"]


@pytest.mark.slow
def test_a_gemeente_sees_only_its_own_marks(postgres: PostgresServer) -> None:
    with postgres.service_database() as (_owner_url, service_url):
        service = make_engine(service_url)
        with tenancy.scope("Duiven"):
            insert_client(service, "K-D", gemeente="Duiven")
            duiven = marks(service)
        with tenancy.scope("Arnhem"):
            arnhem = marks(service)
            moved_away = insert_client(service, "K-A", gemeente="Arnhem")
            assert marks(service)["clients"] != arnhem["clients"]
        with tenancy.scope("Duiven"):
            assert marks(service) == duiven  # nothing of Arnhem: not its rows, not their number
            with Session(service) as session:
                rows = session.execute(text("SELECT DISTINCT gemeente FROM record_change WHERE side = 'clients'"))
                assert [row[0] for row in rows] == ["Duiven"]
        with tenancy.scope(None):  # the region (the index): a client moved from Arnhem to Duiven
            with service.begin() as connection:
                connection.execute(text("UPDATE client SET gemeente = 'Duiven' WHERE id = :id"), {"id": moved_away})
        with tenancy.scope("Duiven"):
            assert marks(service)["clients"] != duiven["clients"]  # its count grew by one
        service.dispose()


@pytest.mark.slow
def test_a_role_granted_before_0006_gets_the_log_on_upgrade(postgres: PostgresServer) -> None:
    from alembic import command

    from api.services import audit_guard, migrations

    with postgres.tenant_database() as (owner_url, service_url):
        owner = make_engine(owner_url)
        with owner.begin() as connection:
            command.upgrade(migrations._config(connection), "0005")
        audit_guard.protect(owner)
        tenancy.grant(owner, SERVICE)  # the grant of before: record_change did not exist
        schema.upgrade(owner)
        service = make_engine(service_url)
        insert_client(service, "K-1")  # the trigger writes the log as the service role
        assert marks(service)["clients"] is not None and marks(service)["clients"][0] == 1
        owner.dispose()
        service.dispose()
