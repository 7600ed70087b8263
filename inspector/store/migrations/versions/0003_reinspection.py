"""reinspection: an inspection may re-judge an earlier one (``inspections.reinspects_id``)

A re-judged part (``inspector reinspect --apply``) gets a NEW inspection row whose
``reinspects_id`` names the record it re-judged; the earlier row is never changed. The unique
index lets each record be re-judged at most once, so the records of one part form one chain
and its *current* record is the one nobody re-judged (two runs at once cannot both re-judge
the same record: the second insert is refused).

No foreign key: the retention purge may remove an old original while its re-judged record is
kept; the link then names a purged record (listed in the retention log). Plain ``ADD COLUMN``
and ``CREATE INDEX`` (no batch copy of the table on SQLite), so the append-only triggers of
revisions 0001/0002 on ``inspections`` stay as they are.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_inspections_reinspects_id"


def upgrade() -> None:
    op.add_column("inspections", sa.Column("reinspects_id", sa.String(length=32), nullable=True))
    op.create_index(INDEX, "inspections", ["reinspects_id"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="inspections")
    op.execute("ALTER TABLE inspections DROP COLUMN reinspects_id")  # SQLite >= 3.35 and PostgreSQL
