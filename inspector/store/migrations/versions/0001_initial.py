"""Initial schema: work orders, inspections, findings, explanations, reviews, teach references.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

An inspection, its findings and its explanations are written once: triggers refuse UPDATE
on those three tables (a newer explanation is a new row). DELETE stays possible for the
retention purge. The guards of ``reviews`` (append-only, deletable only under a retention
permit) are installed by revision 0002 (traceability), which owns that policy. Types are
spelled out here, not imported from the ORM module, so this script stays what it shipped as.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# tables whose rows are never updated (trigger names: trg_<table>_no_update)
_WRITE_ONCE = ("inspections", "findings", "explanations")


def upgrade() -> None:
    op.create_table(
        "teach_references",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("part_number", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("n_good", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("review_low", sa.Float(), nullable=False),
        sa.Column("weights_hash", sa.String(length=64), nullable=False),
        sa.Column("taught_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taught_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teach_references")),
        sa.UniqueConstraint("part_number", "version", name=op.f("uq_teach_references_part_number_version")),
    )
    op.create_index(op.f("ix_teach_references_part_number"), "teach_references", ["part_number"])

    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("part_number", sa.String(length=128), nullable=False),
        sa.Column("lot", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("pixel_size_mm", sa.Float(), nullable=True),
        sa.Column("customer", sa.String(length=256), nullable=False),
        sa.Column("revision", sa.String(length=64), nullable=False),
        sa.Column("header", sa.JSON(), nullable=False),
        sa.Column("source_format", sa.String(length=16), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("clauses", sa.JSON(), nullable=False),
        sa.Column("zones", sa.JSON(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
        sa.UniqueConstraint("order_id", "version", name=op.f("uq_work_orders_order_id_version")),
    )
    op.create_index(op.f("ix_work_orders_part_number"), "work_orders", ["part_number"])

    op.create_table(
        "inspections",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("work_order_version", sa.Integer(), nullable=False),
        sa.Column("part_number", sa.String(length=128), nullable=False),
        sa.Column("lot", sa.String(length=128), nullable=False),
        sa.Column("station", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=1024), nullable=False),
        sa.Column("frame_name", sa.String(length=1024), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("image_w", sa.Integer(), nullable=False),
        sa.Column("image_h", sa.Integer(), nullable=False),
        sa.Column("pixel_size_mm", sa.Float(), nullable=True),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_name", sa.String(length=128), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("weights_hash", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("image_score", sa.Float(), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("clause_ids", sa.JSON(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("timings_ms", sa.JSON(), nullable=False),
        sa.Column("operator", sa.String(length=128), nullable=False),
        sa.Column("n_findings", sa.Integer(), nullable=False),
        sa.CheckConstraint("verdict IN ('OK', 'NG', 'REVIEW')", name=op.f("ck_inspections_verdict")),
        sa.ForeignKeyConstraint(
            ["order_id", "work_order_version"],
            ["work_orders.order_id", "work_orders.version"],
            name=op.f("fk_inspections_order_id_work_order_version_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
    )
    op.create_index(op.f("ix_inspections_image_sha256"), "inspections", ["image_sha256"])
    op.create_index("ix_inspections_inspected_at_id", "inspections", ["inspected_at", "id"])
    op.create_index("ix_inspections_lot_inspected_at", "inspections", ["lot", "inspected_at", "id"])
    op.create_index("ix_inspections_order_id_inspected_at", "inspections", ["order_id", "inspected_at", "id"])
    op.create_index("ix_inspections_verdict_inspected_at", "inspections", ["verdict", "inspected_at", "id"])

    op.create_table(
        "explanations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("inspection_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("generator", sa.String(length=256), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspections.id"], name=op.f("fk_explanations_inspection_id_inspections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_explanations")),
    )
    op.create_index(op.f("ix_explanations_inspection_id"), "explanations", ["inspection_id"])

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("inspection_id", sa.String(length=32), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("defect_type", sa.String(length=64), nullable=False),
        sa.Column("type_score", sa.Float(), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("box_x", sa.Integer(), nullable=False),
        sa.Column("box_y", sa.Integer(), nullable=False),
        sa.Column("box_w", sa.Integer(), nullable=False),
        sa.Column("box_h", sa.Integer(), nullable=False),
        sa.Column("contour", sa.JSON(), nullable=False),
        sa.Column("area_px", sa.Float(), nullable=False),
        sa.Column("length_px", sa.Float(), nullable=False),
        sa.Column("width_px", sa.Float(), nullable=False),
        sa.Column("length_mm", sa.Float(), nullable=True),
        sa.Column("width_mm", sa.Float(), nullable=True),
        sa.Column("area_mm2", sa.Float(), nullable=True),
        sa.Column("diameter_mm", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("zones", sa.JSON(), nullable=False),
        sa.Column("uncertain", sa.Boolean(), nullable=False),
        sa.Column("type_uncertain", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspections.id"], name=op.f("fk_findings_inspection_id_inspections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint("inspection_id", "idx", name=op.f("uq_findings_inspection_id_idx")),
    )
    op.create_index(op.f("ix_findings_defect_type"), "findings", ["defect_type"])

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("inspection_id", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(length=128), nullable=False),
        sa.Column("reviewer_name", sa.String(length=256), nullable=False),
        sa.Column("signature_meaning", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("auth_method", sa.String(length=64), nullable=False),
        sa.CheckConstraint("decision IN ('accept', 'reject', 'rework')", name=op.f("ck_reviews_decision")),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspections.id"], name=op.f("fk_reviews_inspection_id_inspections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    op.create_index(op.f("ix_reviews_inspection_id"), "reviews", ["inspection_id"])
    op.create_index(op.f("ix_reviews_signed_at"), "reviews", ["signed_at"])

    _create_append_only_triggers()


def _create_append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION inspector_write_once() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is written once: % refused', TG_TABLE_NAME, TG_OP "
            "USING HINT = 'add a new explanation or review instead of editing'; END $$"
        )
    for table in _WRITE_ONCE:
        name = f"trg_{table}_no_update"
        if dialect == "postgresql":
            op.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION inspector_write_once()"
            )
        elif dialect == "sqlite":
            op.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} BEGIN "
                f"SELECT RAISE(ABORT, '{table} is written once: UPDATE refused'); END"
            )


def downgrade() -> None:
    # dropping a table drops its indexes and triggers too
    for table in ("reviews", "findings", "explanations", "inspections", "work_orders", "teach_references"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION inspector_write_once()")
