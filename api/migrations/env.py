"""Alembic's environment: runs on the connection :mod:`api.services.migrations` hands it, in one transaction."""

from __future__ import annotations

from alembic import context

from api.services.schema import metadata

connection = context.config.attributes["connection"]
# SQLite alters a table by copying it ("batch" mode); PostgreSQL alters in place. Both run every
# migration in the caller's transaction: on PostgreSQL a failing migration leaves the schema as it was.
context.configure(
    connection=connection,
    target_metadata=metadata(),
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
