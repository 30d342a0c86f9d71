"""The nightly lists keyed by their owner first (:mod:`matching.batch_lists`, issue 16 item 4): the erasure cascade.

* ``nacht_vacature``: key ``client_id, run_id, rank`` (was ``run_id, client_id, rank``): erasing a client (AVG art. 17,
  :mod:`api.services.erasure`) or deleting one cascades ``DELETE FROM nacht_vacature WHERE client_id = ?``;
* ``nacht_kandidaat``: key ``vacancy_id, run_id, rank``: deleting a vacancy cascades ``… WHERE vacancy_id = ?``.

Keyed run first (0004) with no index that led with the owner, each of those deletes scanned its whole table: a
national night holds about 8 M client-list and 15 M candidate-list rows (two nights while a run is under way), and on
SQLite one client took 0.6-1.6 s, one vacancy 0.9-2.1 s; keyed owner first, 1.5-100 ms (median 2-10 ms). An index on
the owner beside the old key serves the cascades as well, but costs 26-32 % more CPU per row a night stores (13.3-13.8
µs → 17.4-17.6) and 8 % more to remove the night before; the owner-first key costs 3-14 % per row and no more for that
removal, although it goes by ``run_id``, which no index leads with now (two runs, alternating, load 1.9-7.1:
``bench/batch_lists_cascade.py``, ``bench/results/national-batch-cascade-s34.json``). The rows stay as they are.

SQLite cannot change a table's key in place: each list table is copied into one with the new key (every row read and
written once: a night of 20 M rows took 67 CPU s, 68 s wall, at load 1.1, and as long back down;
``bench/batch_lists_migrate.py``); PostgreSQL builds the key's index again (under a lock on the table: upgrade outside
the night).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OWNERS = {"nacht_vacature": "client_id", "nacht_kandidaat": "vacancy_id"}


def _key(owner_first: bool) -> None:
    """Both list tables keyed owner first (``owner_first``) or run first, as 0004 made them."""
    for table, owner in OWNERS.items():
        columns = [owner, "run_id", "rank"] if owner_first else ["run_id", owner, "rank"]
        if op.get_bind().dialect.name == "postgresql":
            op.drop_constraint(f"{table}_pkey", table, type_="primary")  # PostgreSQL's name for 0004's unnamed key
            op.create_primary_key(f"{table}_pkey", table, columns)
        else:
            with op.batch_alter_table(table, recreate="always") as batch:
                batch.create_primary_key(f"{table}_pkey", columns)


def upgrade() -> None:
    _key(owner_first=True)


def downgrade() -> None:
    _key(owner_first=False)
