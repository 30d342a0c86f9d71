"""Inserted and deleted records counted by the database: a search no longer counts every row.

A search caught up with deletions (and inserts with an older ``updated_at``) by ``COUNT(*)`` of each
side, 6–21 ms for 400,000 clients and 3–10 ms for 300,000 vacancies on every search. This adds
``record_change``, kept by triggers (:class:`matching.store.RecordChange`): on SQLite one counter
row per side (a row trigger on insert and delete), on PostgreSQL an append-only log of statements
(statement triggers with transition tables, also on ``TRUNCATE`` and on a client moved to another
gemeente), under the same row-level security as ``client``. A search reads the marks in one query
and counts a side only when its mark moved.

On PostgreSQL the roles that may read ``client`` (the service role of ``werkmatch db upgrade
--dienstrol``) may read, add and fold the log: a service whose role was granted before this version
keeps working without a new grant.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from matching import store

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TRIGGER_TABLES = {
    "client": ("insert", "delete", "truncate", "moved"),
    "vacancy": ("insert", "delete", "truncate"),
}

# The roles granted ``client`` before this version get the log too (the owner has it already).
_GRANT_LIKE_CLIENT = """DO $$
DECLARE
    grantee_name text;
    table_owner text := (SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE relname = 'client');
BEGIN
    FOR grantee_name IN
        SELECT DISTINCT grantee FROM information_schema.role_table_grants
        WHERE table_name = 'client' AND privilege_type = 'SELECT'
          AND grantee::text <> 'PUBLIC' AND grantee::text <> table_owner
    LOOP
        EXECUTE format('GRANT SELECT, INSERT, DELETE ON record_change TO %I', grantee_name);
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE record_change_id_seq TO %I', grantee_name);
    END LOOP;
END $$"""


def upgrade() -> None:
    # A newer matcher opened on this database before the upgrade (matching.store.init_db) made the table already.
    if "record_change" in sa.inspect(op.get_bind()).get_table_names():
        store.install_change_tracking(op.get_bind())
        _grant_like_client()
        return
    op.create_table(
        "record_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("gemeente", sa.String(length=60), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_record_change_side"), "record_change", ["side"], unique=False)
    store.install_change_tracking(op.get_bind())
    _grant_like_client()


def _grant_like_client() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_GRANT_LIKE_CLIENT)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, events in _TRIGGER_TABLES.items():
        for event in events:
            if postgres or event in ("insert", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_counted" + (f" ON {table}" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS werkmatch_record_change()")
        op.execute("DROP FUNCTION IF EXISTS werkmatch_client_moved()")
    op.drop_index(op.f("ix_record_change_side"), table_name="record_change")
    op.drop_table("record_change")  # its policy goes with it
