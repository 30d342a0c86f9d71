"""The nightly batch's partitions cut by place, their owners stored with their lists (:mod:`matching.batch_lists`).

* ``batch_owner``: per run, side and owner (vacancy or client) the partition that computed it, with or
  without a list: a restart plans only the owners not in it, a reader finds an owner's mark through it;
* ``batch_partition.cell``: the place cell a partition's owners were planned in (a woonplaats).

A partition of a run before this version was a range of record ids: a finished run's owners get their
partition from their id (those with a list: an owner without one has nothing to show), an unfinished run
is removed (the next start begins a new one).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from matching import tenancy

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The roles that may read ``batch_partition`` (a service's) may read the owners too (the owner has it already).
_GRANT_LIKE_PARTITION = """DO $$
DECLARE
    grantee_name text;
    table_owner text := (SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE relname = 'batch_partition');
BEGIN
    FOR grantee_name IN
        SELECT DISTINCT grantee FROM information_schema.role_table_grants
        WHERE table_name = 'batch_partition' AND privilege_type = 'SELECT'
          AND grantee::text <> 'PUBLIC' AND grantee::text <> table_owner
    LOOP
        EXECUTE format('GRANT SELECT, INSERT, DELETE ON batch_owner TO %I', grantee_name);
    END LOOP;
END $$"""

_LISTS = {"vacatures": ("nacht_kandidaat", "vacancy_id"), "klanten": ("nacht_vacature", "client_id")}


def _regional() -> None:
    """Every gemeente's rows: the list tables are under forced row-level security on PostgreSQL (0002, 0004)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT set_config('{tenancy.SETTING}', '{tenancy.REGIONAL}', true)")


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    # a newer matcher opened on this database before the upgrade (matching.store.init_db) made the table already
    if "batch_owner" not in inspector.get_table_names():
        op.create_table(
            "batch_owner",
            sa.Column("run_id", sa.Integer(), nullable=False),
            sa.Column("side", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
            sa.Column("owner_id", sa.Integer(), nullable=False),
            sa.Column("first_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(["run_id"], ["batch_run.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("run_id", "side", "owner_id"),
        )
    if "cell" not in {column["name"] for column in inspector.get_columns("batch_partition")}:
        with op.batch_alter_table("batch_partition") as batch:
            batch.add_column(sa.Column("cell", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True))
    _regional()
    op.execute("DELETE FROM batch_owner")  # rows a newer matcher's batch may have written before the upgrade
    unfinished = "SELECT id FROM batch_run WHERE finished_at IS NULL"
    for table in ("nacht_kandidaat", "nacht_vacature", "batch_partition"):
        op.execute(f"DELETE FROM {table} WHERE run_id IN ({unfinished})")  # noqa: S608 (names are ours)
    op.execute(f"DELETE FROM batch_run WHERE id IN ({unfinished})")  # noqa: S608
    for side, (table, owner) in _LISTS.items():
        op.execute(
            f"INSERT INTO batch_owner (run_id, side, owner_id, first_id) "  # noqa: S608
            f"SELECT DISTINCT l.run_id, '{side}', l.{owner}, l.{owner} - l.{owner} % r.partition_ids "
            f"FROM {table} l JOIN batch_run r ON r.id = l.run_id"
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_GRANT_LIKE_PARTITION)


def downgrade() -> None:
    # the runs made by place cannot be read by id ranges: the lists go (the next night makes new ones)
    _regional()
    for table in ("nacht_kandidaat", "nacht_vacature", "batch_partition", "batch_run"):
        op.execute(f"DELETE FROM {table}")  # noqa: S608
    with op.batch_alter_table("batch_partition") as batch:
        batch.drop_column("cell")
    op.drop_table("batch_owner")
