"""The served amortised floor (:mod:`matching.floor_state`, issue 19 item 1): decay, a change marker, and each
vacancy fed once whoever shows it.

* ``amortised_floor_state`` gets ``lists`` (lists added to a row) and ``mark`` (a random token per write): the
  totals row's pair is the marker a process reads per search instead of the rows. Its sums become weighted sums
  (:func:`matching.floor_state.weight`, half life 62 days): a row's values are taken as added at its
  ``updated_at``.
* ``amortised_floor_fed``: per (model, vacancy) whose list fed the state. Before, the first showing was read in
  ``exposure_entry``, which row-level security filters on PostgreSQL, so a regional vacancy shown in two gemeenten
  fed the state twice. No client data in it: no row-level security. Filled with every vacancy the ledger shows for
  every model that has a state (what counted as shown before). The roles that may write ``exposure_entry`` (the
  service role of ``werkmatch db upgrade --dienstrol``) may read and add to it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

from matching.floor_state import weight

revision = "0009"
down_revision = "0008"
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
        EXECUTE format('GRANT SELECT, INSERT ON amortised_floor_fed TO %I', grantee_name);
    END LOOP;
END $$"""

_FED_BY_LEDGER = """INSERT INTO amortised_floor_fed (ranker, vacancy_id, fed_at)
SELECT s.ranker, e.vacancy_id, min(e.shown_at) FROM amortised_floor_state s CROSS JOIN exposure_entry e
WHERE s.attribute = '' AND s.grp = '' GROUP BY s.ranker, e.vacancy_id"""


def upgrade() -> None:
    bind = op.get_bind()
    columns = {column["name"] for column in sa.inspect(bind).get_columns("amortised_floor_state")}
    if "lists" not in columns:
        with op.batch_alter_table("amortised_floor_state") as batch:
            batch.add_column(sa.Column("lists", sa.Integer(), nullable=False, server_default="0"))
            batch.add_column(
                sa.Column("mark", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False, server_default="")
            )
        _weigh_existing(bind)
    # a newer matcher opened on this database before the upgrade (matching.store.init_db) made the table already
    if "amortised_floor_fed" not in sa.inspect(bind).get_table_names():
        op.create_table(
            "amortised_floor_fed",
            sa.Column("ranker", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
            sa.Column("vacancy_id", sa.Integer(), nullable=False),
            sa.Column("fed_at", sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(["vacancy_id"], ["vacancy.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("ranker", "vacancy_id"),
        )
        op.execute(_FED_BY_LEDGER)
    if bind.dialect.name == "postgresql":
        op.execute(_GRANT_LIKE_LEDGER)


def _weigh_existing(bind: sa.engine.Connection, back: bool = False) -> None:
    """The unweighted sums of 0008 as weighted sums, as if added at their row's ``updated_at`` (``back``: the other
    way); a handful of rows per model."""
    rows = bind.execute(sa.text("SELECT ranker, attribute, grp, places, merit, updated_at FROM amortised_floor_state"))
    for ranker, attribute, grp, places, merit, updated_at in rows.all():
        at = datetime.fromisoformat(updated_at) if isinstance(updated_at, str) else updated_at  # SQLite: text
        scale = weight(at if at.tzinfo is not None else at.replace(tzinfo=UTC))
        scale = 1.0 / scale if back else scale
        bind.execute(
            sa.text(
                "UPDATE amortised_floor_state SET places = :places, merit = :merit "
                "WHERE ranker = :ranker AND attribute = :attribute AND grp = :grp"
            ),
            {"places": places * scale, "merit": merit * scale, "ranker": ranker, "attribute": attribute, "grp": grp},
        )


def downgrade() -> None:
    op.drop_table("amortised_floor_fed")
    _weigh_existing(op.get_bind(), back=True)
    with op.batch_alter_table("amortised_floor_state") as batch:
        batch.drop_column("mark")
        batch.drop_column("lists")
