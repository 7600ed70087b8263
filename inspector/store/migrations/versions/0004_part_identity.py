"""part identity: ``inspections.part_id`` and the ``part_sequences`` counter

Every inspection carries the id of its part: read from a DataMatrix/QR/barcode in the image,
given by the trigger, or generated as ``<order>-<lot>-<sequence>`` from ``part_sequences``
(one row per order and lot holding the last number handed out; incremented in its own
transaction, so two stations on one database never hand out the same number).

Inspections stored before this revision get an empty part id (they were judged per frame;
nothing is invented for them). Plain ``ADD COLUMN`` with a constant default and ``CREATE INDEX``
(no batch copy of the table on SQLite), so the append-only triggers on ``inspections`` stay.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_inspections_part_id"


def upgrade() -> None:
    op.add_column("inspections", sa.Column("part_id", sa.String(length=128), nullable=False, server_default=""))
    op.create_index(INDEX, "inspections", ["part_id"], unique=False)
    op.create_table(
        "part_sequences",
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("lot", sa.String(length=128), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "lot", name=op.f("pk_part_sequences")),
    )


def downgrade() -> None:
    op.drop_table("part_sequences")
    op.drop_index(INDEX, table_name="inspections")
    op.execute("ALTER TABLE inspections DROP COLUMN part_id")  # SQLite >= 3.35 and PostgreSQL
