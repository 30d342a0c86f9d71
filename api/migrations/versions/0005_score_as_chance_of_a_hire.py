"""The shown score becomes the chance of a hire (0–100 %, :mod:`matching.display_score`, issue 18 item 3).

The score a consulent reads was a fit score (startpunt 0, four weighted signals); it is now the
calibrated chance, in whole percent, that a voorstel of the pair ends in a hire. The numbers stored
on the old scale are brought over:

* a saved search's ``min_score`` keeps the share of pairs it lets through: each old threshold is
  mapped to the new score with the same share of pairs at or above it, over the decided voorstellen
  of the tuning half of the demo's 3-year history (:data:`OLD_TO_NEW`, linear in between; a fraction
  such as 20.5 lets through what 21 does, the scores being whole). An old 70 (about 60 % of those
  pairs) becomes 18, an old 90 (3.5 %) becomes 45;
* an inbox item's ``score`` was the pair's old score: items made before this version show no score
  rather than a number on the wrong scale (new items get the chance);
* the nightly batch lists (``0004``) carry old scores: they are removed, and the next
  ``werkmatch batch match`` writes them with the chance (a night's lists are replaced every night).

Downgrade maps ``min_score`` back through the same table; inbox scores and batch lists stay empty.

:data:`OLD_TO_NEW` was measured on a copy of /tmp/wm-demo (seed 42) with the old score of commit
b9242cf and the model of ``models/display-score.json`` on the same 8,327 pairs (README, "The score a
consulent reads").

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

from matching import tenancy

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# (old fit score, new chance in %) with the same share of tuning pairs at or above it.
OLD_TO_NEW = (
    (0, 0),
    (15, 1),
    (20, 2),
    (25, 3),
    (30, 4),
    (35, 5),
    (40, 7),
    (45, 8),
    (50, 10),
    (55, 11),
    (60, 13),
    (65, 15),
    (70, 18),
    (75, 23),
    (80, 28),
    (85, 36),
    (90, 45),
    (95, 56),
    (100, 100),
)
BATCH_TABLES = ("nacht_kandidaat", "nacht_vacature", "batch_partition", "batch_run")


def _regional() -> None:
    """Every gemeente's rows: the tables are under forced row-level security on PostgreSQL (0002)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT set_config('{tenancy.SETTING}', '{tenancy.REGIONAL}', true)")


def _piecewise(column: str, table: tuple[tuple[int, int], ...]) -> str:
    """A SQL expression: ``column`` mapped through ``table`` (linear between its points)."""
    cases = " ".join(
        f"WHEN {column} <= {x1} THEN {y0} + ({column} - {x0}) * {y1 - y0}.0 / {x1 - x0}"
        for (x0, y0), (x1, y1) in zip(table, table[1:], strict=False)
        if x1 > x0
    )
    return f"CASE {cases} ELSE {table[-1][1]} END"


def upgrade() -> None:
    _regional()
    op.execute(f"UPDATE zoekopdracht SET min_score = {_piecewise('min_score', OLD_TO_NEW)}")
    op.execute("UPDATE inbox_item SET score = NULL WHERE score IS NOT NULL")
    for table in BATCH_TABLES:
        op.execute(f"DELETE FROM {table}")


def downgrade() -> None:
    _regional()
    back = tuple((new, old) for old, new in OLD_TO_NEW)
    op.execute(f"UPDATE zoekopdracht SET min_score = {_piecewise('min_score', back)}")
