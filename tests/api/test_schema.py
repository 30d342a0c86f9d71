"""One place creates every table: :func:`api.services.schema.create_all`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlmodel import SQLModel

import api.app  # noqa: F401  (every module with a table, as the running service has them)
from api.services import schema
from matching.store import make_engine


def test_every_table_is_listed_once() -> None:
    listed = [model.__table__.name for model in schema.TABLES]  # type: ignore[attr-defined]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(SQLModel.metadata.tables)  # a new table must be added to schema.TABLES


def test_create_all_makes_every_table_and_protects_the_audit_log_idempotently(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'leeg.db'}")
    schema.create_all(engine)
    schema.create_all(engine)  # at every start: nothing doubles, nothing fails
    tables = {model.__table__.name for model in schema.TABLES}  # type: ignore[attr-defined]
    assert set(inspect(engine).get_table_names()) == tables | {"alembic_version"}
    with engine.connect() as connection:
        triggers = {row[0] for row in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='trigger'")}
        heads = connection.exec_driver_sql("SELECT count(*) FROM audit_head").scalar()
    assert {"audit_log_no_update", "audit_log_extends_head", "audit_head_forward"} <= triggers
    assert heads == 1
    engine.dispose()
