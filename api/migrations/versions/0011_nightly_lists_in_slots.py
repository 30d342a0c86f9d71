"""Each night's lists in a slot of their own (:mod:`matching.batch_lists`, issue 16 item 4): removing a night is
emptying its tables.

* ``batch_run.slot``: the slot a run's list rows are in, ``a`` or ``b`` (existing runs: ``a``);
* slot ``a`` is the list tables as they are (``nacht_kandidaat``, ``nacht_vacature``), slot ``b`` two new ones of the
  same shape (``nacht_kandidaat_b``, ``nacht_vacature_b``: 0010's owner-first keys, the item's index, the cascades
  of ``client``, ``vacancy`` and ``batch_run``; on PostgreSQL under 0004's row-level security, the service roles
  granted on the lists granted on them too, and ``TRUNCATE`` on all four: emptying a slot).

Upgrade: the served night (the newest finished match run) and its rows stay in slot ``a`` where they are (no row of
a national night is rewritten); a run started after it and not finished (a night under way or killed) moves to slot
``b`` with its rows, so that it resumes beside the served night and never empties it. Downgrade: slot ``b``'s rows
move back into slot ``a``'s tables (0010 keeps every night in one pair of tables, by ``run_id``), and slot ``b``
goes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from matching import tenancy

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# slot a's table → slot b's, with the table's owner and item
PAIRS = {"nacht_kandidaat": ("vacancy", "client"), "nacht_vacature": ("client", "vacancy")}
COLUMNS = "run_id, {owner}_id, rank, {item}_id, ranking_score, score"
_CLIENT_VISIBLE = "EXISTS (SELECT 1 FROM client c WHERE c.id = client_id)"
# The roles that may read slot a's lists (a service's, granted by ``werkmatch db upgrade --dienstrol``) get slot b's
# rows too, and may empty both slots.
_GRANT_LIKE_LISTS = """DO $$
DECLARE
    grantee_name text;
    table_owner text := (SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE relname = 'nacht_kandidaat');
BEGIN
    FOR grantee_name IN
        SELECT DISTINCT grantee FROM information_schema.role_table_grants
        WHERE table_name = 'nacht_kandidaat' AND privilege_type = 'SELECT'
          AND grantee::text <> 'PUBLIC' AND grantee::text <> table_owner
    LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON nacht_kandidaat_b, nacht_vacature_b TO %I',
                       grantee_name);
        EXECUTE format('GRANT TRUNCATE ON nacht_kandidaat, nacht_vacature, nacht_kandidaat_b, nacht_vacature_b TO %I',
                       grantee_name);
    END LOOP;
END $$"""
_MOVED = (
    "SELECT id FROM batch_run WHERE kind = 'match' AND finished_at IS NULL AND id > "
    "(SELECT max(id) FROM batch_run WHERE kind = 'match' AND finished_at IS NOT NULL)"
)


def _list_table(name: str, owner: str, item: str) -> None:
    """Slot b's table ``name``: as slot a's (0004, keyed owner first by 0010); on PostgreSQL under row-level security.

    A matcher of this code opened on the database before the upgrade made the table already
    (:func:`matching.store.init_db`, the code's shape): then only the row-level security is added."""
    if name not in sa.inspect(op.get_bind()).get_table_names():
        _create(name, owner, item)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY gemeente_scope ON {name} USING ({_CLIENT_VISIBLE}) WITH CHECK ({_CLIENT_VISIBLE})")


def _create(name: str, owner: str, item: str) -> None:
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
        sa.PrimaryKeyConstraint(f"{owner}_id", "run_id", "rank"),
    )
    op.create_index(op.f(f"ix_{name}_{item}_id"), name, [f"{item}_id"], unique=False)


def _regional() -> None:
    """Every gemeente's rows: the list tables are under forced row-level security on PostgreSQL (0002, 0004)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT set_config('{tenancy.SETTING}', '{tenancy.REGIONAL}', true)")


def _move(source: str, target: str, owner: str, item: str, runs: str) -> None:
    """The rows of ``runs`` (a query of run ids) from ``source`` into ``target``."""
    columns = COLUMNS.format(owner=owner, item=item)
    op.execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {source} WHERE run_id IN ({runs})")  # noqa: S608
    op.execute(f"DELETE FROM {source} WHERE run_id IN ({runs})")  # noqa: S608 (names are ours)


def upgrade() -> None:
    op.add_column(
        "batch_run",
        sa.Column("slot", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False, server_default="a"),
    )
    for name, (owner, item) in PAIRS.items():
        _list_table(f"{name}_b", owner, item)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_GRANT_LIKE_LISTS)
    _regional()
    moved = op.get_bind().execute(sa.text(_MOVED)).scalars().all()
    if moved:
        runs = ", ".join(str(int(run)) for run in moved)
        for name, (owner, item) in PAIRS.items():
            _move(name, f"{name}_b", owner, item, runs)
        op.execute(f"UPDATE batch_run SET slot = 'b' WHERE id IN ({runs})")  # noqa: S608


def downgrade() -> None:
    _regional()
    for name, (owner, item) in PAIRS.items():
        _move(f"{name}_b", name, owner, item, "SELECT id FROM batch_run")
        op.drop_table(f"{name}_b")  # its policy and indexes go with it
    op.execute("ALTER TABLE batch_run DROP COLUMN slot")  # (SQLite ≥ 3.35 drops a plain column in place)
