"""Migration 0009 (the served amortised floor: decay, its change marker, each vacancy fed once), on SQLite and on the
real PostgreSQL: a state of 0008 becomes weighted sums as of its rows' last change and keeps its pull, the vacancies
the ledger shows count as fed, a service role granted before 0009 may claim a vacancy, and back to 0008."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import Session

from api.services import audit_guard, migrations, schema
from matching import floor_state, oversight_state, tenancy
from matching.domain import utcnow
from matching.exposure_amortised import AmortisedFloor, Plan
from matching.store import make_engine
from tests.factories import make_client, make_vacancy
from tests.postgres import SERVICE, PostgresServer

STATE = "INSERT INTO amortised_floor_state (ranker, attribute, grp, places, merit, updated_at) VALUES "


def test_0009_weighs_a_0008_state_feeds_what_the_ledger_shows_and_goes_back(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(migrations._config(connection), "0008")
    audit_guard.protect(engine)
    changed = (utcnow() - timedelta(days=31)).replace(tzinfo=None, microsecond=0)
    with Session(engine) as session:
        shown, quiet = make_vacancy(session).id, make_vacancy(session).id
        client = make_client(session).id
        oversight_state.record_shown(session, shown, [client])  # type: ignore[arg-type, list-item]
        session.commit()
    with engine.begin() as connection:
        connection.execute(
            text(STATE + "('r:1', '', '', 100, 1000, :at), ('r:1', 'trede', '0', 2, 50, :at)"), {"at": changed}
        )
    schema.upgrade(engine)
    assert migrations.current(engine) == migrations.head()
    with Session(engine) as session:
        loaded = floor_state.load(session, "r:1", AmortisedFloor(), at=changed)
        assert (loaded.total_places_, loaded.total_merit_) == pytest.approx((100.0, 1000.0), rel=1e-12)
        assert loaded.merit_[("trede", "0")] == pytest.approx(50.0, rel=1e-12)
        month_on = floor_state.load(session, "r:1", AmortisedFloor(), at=changed + timedelta(days=62))
        assert month_on.total_places_ == pytest.approx(50.0, rel=1e-9)  # from here it decays
        fed = session.execute(text("SELECT ranker, vacancy_id FROM amortised_floor_fed")).all()
        assert [tuple(row) for row in fed] == [("r:1", shown)]  # reopening it adds nothing, as before
    plan = Plan(np.arange(20), np.zeros(0, np.int64), [("trede", "0")], np.array([1.0]), np.array([2.0]), 10, 20)
    served = floor_state.ServedFloor("r:1", AmortisedFloor(), np.full(20, 0.1), {}, plan)
    with Session(engine) as session:
        assert not floor_state.record_served(session, shown, served)
        assert floor_state.record_served(session, quiet, served)
        session.commit()
    with engine.begin() as connection:
        command.downgrade(migrations._config(connection), "0008")
    assert "amortised_floor_fed" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        row = connection.execute(text("SELECT places FROM amortised_floor_state WHERE attribute = 'trede'")).one()
        assert row[0] == pytest.approx(1 + 2 * 2 ** (-31 / 62), rel=1e-6)  # plain sums as of the last change: now
        assert {c["name"] for c in inspect(connection).get_columns("amortised_floor_state")} >= {"places", "merit"}
        assert "lists" not in {c["name"] for c in inspect(connection).get_columns("amortised_floor_state")}
    engine.dispose()


@pytest.mark.slow
def test_a_role_granted_before_0009_may_claim_a_vacancy(postgres: PostgresServer) -> None:
    with postgres.tenant_database() as (owner_url, service_url):
        owner = make_engine(owner_url)
        with owner.begin() as connection:
            command.upgrade(migrations._config(connection), "0008")
        audit_guard.protect(owner)
        tenancy.grant(owner, SERVICE)  # the grant of before: amortised_floor_fed did not exist
        schema.upgrade(owner)
        service = make_engine(service_url)
        with Session(service) as session:
            vacancy = make_vacancy(session).id
        plan = Plan(np.arange(20), np.zeros(0, np.int64), [("trede", "0")], np.array([1.0]), np.array([2.0]), 10, 20)
        served = floor_state.ServedFloor("r:1", AmortisedFloor(), np.full(20, 0.1), {}, plan)
        with Session(service) as session:
            assert floor_state.record_served(session, vacancy, served)  # type: ignore[arg-type]
            session.commit()
        owner.dispose()
        service.dispose()
