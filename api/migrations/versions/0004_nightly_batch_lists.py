"""The nightly batch match's lists (``werkmatch batch match``, :mod:`matching.batch_lists`).

* ``batch_run``: one run of a batch (kind, partition size, started, finished);
* ``batch_partition``: the partitions a run has stored, with the ranker that ranked them;
* ``nacht_kandidaat``: every open vacancy's candidates (rank, client, scores);
* ``nacht_vacature``: every client's vacancies.

Both list tables name a client: on PostgreSQL they get the row-level security of ``0002`` (visible
when their client is; :mod:`matching.tenancy`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import matching.columns

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CLIENT_LISTS = ("nacht_kandidaat", "nacht_vacature")
_CLIENT_VISIBLE = "EXISTS (SELECT 1 FROM client c WHERE c.id = client_id)"


def _list_table(name: str, owner: str, item: str) -> None:
    """A list table: per run and owner (vacancy or client) its ranked items (client or vacancy)."""
    op.create_table(
        name,
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column(f"{owner}_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column(f"{item}_id", sa.Integer(), nullable=False),
        sa.Column("ranking_score", sa.Float(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["batch_run.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint([f"{owner}_id"], [f"{owner}.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint([f"{item}_id"], [f"{item}.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", f"{owner}_id", "rank"),
    )
    op.create_index(op.f(f"ix_{name}_{item}_id"), name, [f"{item}_id"], unique=False)


def upgrade() -> None:
    op.create_table(
        "batch_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("partition_ids", sa.Integer(), nullable=False),
        sa.Column("started_at", matching.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", matching.columns.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_batch_run_kind"), "batch_run", ["kind"], unique=False)
    op.create_table(
        "batch_partition",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("side", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("lists", sa.Integer(), nullable=False),
        sa.Column("ranked_by", sa.JSON(), nullable=False),
        sa.Column("committed_at", matching.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["batch_run.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "side", "first_id"),
    )
    _list_table("nacht_kandidaat", "vacancy", "client")
    _list_table("nacht_vacature", "client", "vacancy")
    if op.get_bind().dialect.name == "postgresql":
        for table in CLIENT_LISTS:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY gemeente_scope ON {table} USING ({_CLIENT_VISIBLE}) WITH CHECK ({_CLIENT_VISIBLE})"
            )


def downgrade() -> None:
    for table in ("nacht_vacature", "nacht_kandidaat"):
        op.drop_table(table)  # its policy and indexes go with it
    op.drop_table("batch_partition")
    op.drop_index(op.f("ix_batch_run_kind"), table_name="batch_run")
    op.drop_table("batch_run")
