"""Inserted and deleted voorstellen counted by the database: who was ever proposed is never missed.

The served amortised floor keeps, per process and gemeente scope, who was ever proposed (:mod:`matching.floor_state`):
read whole once, then per search the voorstellen with a higher id. A voorstel whose transaction committed after a
higher id's, more than a minute later, was missed for the process's life. ``record_change`` (0006) gets a third side,
``voorstellen``: on SQLite a row trigger on insert and delete adds to its counter row; on PostgreSQL a statement trigger
logs an insert under its client's gemeente (the scope that reads it) and a delete, a ``TRUNCATE`` or a client moved to
another gemeente under none (every scope). A search reads the count with the newer voorstellen in one statement and
reads everything again when the count grew by more than it read (:class:`matching.floor_state._Proposals`).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from matching import store

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TRIGGERS = {"voorstel": ("insert", "delete", "truncate"), "client": ("moved_voorstellen",)}


def upgrade() -> None:
    store.install_change_tracking(op.get_bind())  # what is missing of it: the voorstellen side


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, events in _TRIGGERS.items():
        for event in events:
            if postgres or event in ("insert", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_counted" + (f" ON {table}" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS werkmatch_voorstel_change()")
    op.execute("DELETE FROM record_change WHERE side = 'voorstellen'")
