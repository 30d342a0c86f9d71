"""Gemeenten as tenants: a gemeente on clients, vacancies, accounts and audit entries; row-level security.

* ``client.gemeente`` (required): existing clients get this installation's gemeente
  (``WERKMATCH_GEMEENTE``, default Arnhem: :func:`matching.tenancy.home`);
* ``vacancy.gemeente``: a Scalabor vacancy's gemeente, empty for the region's (WSP) vacancies;
* ``gebruiker.gemeente``: the gemeente an account works for; existing werkconsulenten get this
  installation's gemeente, the other roles stay regional (empty);
* ``audit_log.gemeente``: the acting user's gemeente (part of the entry's hash when set).

On PostgreSQL every table holding client data gets row-level security, enabled and **forced** (the
owner is subject to it too), with one policy (:data:`matching.tenancy.SETTING`): ``client`` rows of
the transaction's gemeente, or all of them in the regional scope; the tables hanging off a client
show the rows of the clients the transaction can see. See :mod:`matching.tenancy`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from matching import tenancy

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Tables with a client_id column: visible when their client is.
CLIENT_CHILDREN = (
    "client_personalia",
    "audit_kenmerken",
    "voorstel",
    "exposure_entry",
    "inbox_item",
    "inbox_afwijzing",
    "zoekopdracht",
    "kandidaat_afwijzing",
)
# Tables with a voorstel_id column: visible when their voorstel is.
VOORSTEL_CHILDREN = ("voorstel_event", "voorstel_motivatie")

_IN_SCOPE = f"current_setting('{tenancy.SETTING}', true) IN (gemeente, '{tenancy.REGIONAL}')"
_CLIENT_VISIBLE = "EXISTS (SELECT 1 FROM client c WHERE c.id = client_id)"
_VOORSTEL_VISIBLE = "EXISTS (SELECT 1 FROM voorstel v WHERE v.id = voorstel_id)"


def _policies() -> list[tuple[str, str]]:
    return [
        ("client", _IN_SCOPE),
        *((table, _CLIENT_VISIBLE) for table in CLIENT_CHILDREN),
        *((table, _VOORSTEL_VISIBLE) for table in VOORSTEL_CHILDREN),
    ]


def upgrade() -> None:
    home = tenancy.home()
    with op.batch_alter_table("client") as batch:
        batch.add_column(sa.Column("gemeente", sa.String(length=60), nullable=False, server_default=home))
        batch.create_index("ix_client_gemeente", ["gemeente"])
    with op.batch_alter_table("vacancy") as batch:
        batch.add_column(sa.Column("gemeente", sa.String(length=60), nullable=True))
        batch.create_index("ix_vacancy_gemeente", ["gemeente"])
    with op.batch_alter_table("gebruiker") as batch:
        batch.add_column(sa.Column("gemeente", sa.String(length=60), nullable=True))
        batch.create_index("ix_gebruiker_gemeente", ["gemeente"])
    op.execute(sa.text("UPDATE gebruiker SET gemeente = :home WHERE rol = 'werkconsulent'").bindparams(home=home))
    # audit_log is append-only (its triggers refuse UPDATE): the new column is empty for every old entry.
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("gemeente", sa.String(length=60), nullable=True))
        batch.create_index("ix_audit_log_gemeente", ["gemeente"])
    if op.get_bind().dialect.name == "postgresql":
        for table, condition in _policies():
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY gemeente_scope ON {table} USING ({condition}) WITH CHECK ({condition})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, _condition in _policies():
            op.execute(f"DROP POLICY IF EXISTS gemeente_scope ON {table}")
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for table in ("audit_log", "gebruiker", "vacancy", "client"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_gemeente")
            batch.drop_column("gemeente")
