"""Migration 0008 (the served amortised floor's state), on SQLite and on the real PostgreSQL: the table comes with
the upgrade, a served list's plan adds to it atomically, and back to 0007 without it."""

from __future__ import annotations

import numpy as np
import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import Session

from api.services import audit_guard, migrations, schema
from matching import floor_state
from matching.domain import utcnow
from matching.exposure_amortised import Plan
from matching.store import make_engine


def _plan() -> Plan:
    keys = [("trede", "0"), ("route", "werk")]
    return Plan(np.arange(20), np.array([12]), keys, np.array([1.0, 9.0]), np.array([0.5, 15.0]), 10, 20, 1)


def test_0008_adds_the_floor_state_and_goes_back_to_0007(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(migrations._config(connection), "0007")
    audit_guard.protect(engine)
    assert "amortised_floor_state" not in inspect(engine).get_table_names()
    schema.upgrade(engine)
    assert migrations.current(engine) == migrations.head()
    at = utcnow()  # read as of the moment it was written: no decay (test_floor_state_serving)
    with Session(engine) as session:
        floor_state.record(session, "werkmatch-ranker:3", _plan(), at=at)
        floor_state.record(session, "werkmatch-ranker:3", _plan(), at=at)  # a second list adds, it does not replace
        session.commit()
    with Session(engine) as session:
        loaded = floor_state.load(session, "werkmatch-ranker:3", floor_state.AmortisedFloor(), at=at)
        assert loaded.places_ == pytest.approx({("trede", "0"): 2.0, ("route", "werk"): 18.0}, rel=1e-12)
        assert loaded.merit_ == pytest.approx({("trede", "0"): 1.0, ("route", "werk"): 30.0}, rel=1e-12)
        assert (loaded.total_places_, loaded.total_merit_) == pytest.approx((20.0, 40.0), rel=1e-12)
        assert floor_state.load(session, "other:1", floor_state.AmortisedFloor()).places_ == {}
    with engine.begin() as connection:
        command.downgrade(migrations._config(connection), "0007")
    assert "amortised_floor_state" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0007"
    engine.dispose()
