"""Scores on the scale the consulent reads (0–100, :mod:`matching.display_score`).

* a saved search's ``min_score`` was a fraction 0–1 of the old raw score: now 0–100 (× 100);
* an inbox item's ``score`` held the ranker's raw score, meaningless on the new scale: items made
  before this version show no score rather than a wrong one (the new code writes whole numbers 0–100,
  which are left as they are).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

from matching import tenancy

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _regional() -> None:
    """Every gemeente's rows: the tables are under forced row-level security on PostgreSQL (0002)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT set_config('{tenancy.SETTING}', '{tenancy.REGIONAL}', true)")


def upgrade() -> None:
    _regional()
    op.execute("UPDATE zoekopdracht SET min_score = min_score * 100 WHERE min_score <= 1")
    op.execute("UPDATE inbox_item SET score = NULL WHERE score IS NOT NULL AND score <> round(score)")


def downgrade() -> None:
    _regional()
    op.execute("UPDATE zoekopdracht SET min_score = min_score / 100")
