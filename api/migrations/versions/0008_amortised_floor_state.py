"""The served amortised floor's running state per model (:mod:`matching.floor_state`, issue 19 item 1).

* ``amortised_floor_state``: per (model, attribute, group) the top-10 places its served lists gave the group and
  the group's expected-merit places; per model one totals row (attribute and group ``""``). Counts per group only,
  never a client: no row-level security. On PostgreSQL the roles that may write ``exposure_entry`` (the service
  role of ``werkmatch db upgrade --dienstrol``) may read and add to it: a service whose role was granted before
  this version keeps serving without a new grant.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_GRANT_LIKE_LEDGER = """DO $$
DECLARE
    grantee_name text;
    table_owner text := (SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE relname = 'exposure_entry');
BEGIN
    FOR grantee_name IN
        SELECT DISTINCT grantee FROM information_schema.role_table_grants
        WHERE table_name = 'exposure_entry' AND privilege_type = 'INSERT'
          AND grantee::text <> 'PUBLIC' AND grantee::text <> table_owner
    LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON amortised_floor_state TO %I', grantee_name);
    END LOOP;
END $$"""


def upgrade() -> None:
    # a newer matcher opened on this database before the upgrade (matching.store.init_db) made the table already
    if "amortised_floor_state" not in sa.inspect(op.get_bind()).get_table_names():
        op.create_table(
            "amortised_floor_state",
            sa.Column("ranker", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
            sa.Column("attribute", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
            sa.Column("grp", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
            sa.Column("places", sa.Float(), nullable=False),
            sa.Column("merit", sa.Float(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("ranker", "attribute", "grp"),
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_GRANT_LIKE_LEDGER)


def downgrade() -> None:
    op.drop_table("amortised_floor_state")
