"""The ORM tables of revision 0001 (typed SQLAlchemy 2.0 declarative).

Rows are written once. Explanations and reviews arrive later as new rows of their own
tables; an inspection row is never updated (the database refuses it, see the triggers in
``migrations/versions/0001_initial.py``). Other table modules (``trace_tables``) import
``Base`` from here and get their own Alembic revision.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from inspector.store.types import UTCDateTime

# Deterministic constraint names: Alembic can drop/alter them on every backend (SQLite batch mode).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

VERDICTS = ("OK", "NG", "REVIEW")
DECISIONS = ("accept", "reject", "rework")


class Base(DeclarativeBase):
    """Declarative base of every Inspector table (one ``MetaData`` for Alembic)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class WorkOrderRow(Base):
    """One version of a work order as loaded. Re-loading changed content adds a version."""

    __tablename__ = "work_orders"
    __table_args__ = (UniqueConstraint("order_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(128))  # indexed by the unique constraint
    version: Mapped[int] = mapped_column(Integer)
    part_number: Mapped[str] = mapped_column(String(128), index=True)
    lot: Mapped[str] = mapped_column(String(128))
    quantity: Mapped[int | None] = mapped_column(Integer)
    pixel_size_mm: Mapped[float | None] = mapped_column(Float)
    customer: Mapped[str] = mapped_column(String(256))
    revision: Mapped[str] = mapped_column(String(64))
    header: Mapped[dict[str, Any]] = mapped_column(JSON)
    source_format: Mapped[str] = mapped_column(String(16))
    source_text: Mapped[str] = mapped_column(Text)
    clauses: Mapped[list[Any]] = mapped_column(JSON)
    zones: Mapped[list[Any]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))  # of the canonical JSON of the order
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    loaded_by: Mapped[str] = mapped_column(String(128))


class InspectionRow(Base):
    """Everything needed to reproduce and audit one verdict. Written once, never updated."""

    __tablename__ = "inspections"
    __table_args__ = (
        ForeignKeyConstraint(
            ["order_id", "work_order_version"], ["work_orders.order_id", "work_orders.version"]
        ),
        CheckConstraint(_in("verdict", VERDICTS), name="verdict"),
        # the review queue and the lists: filter, then newest first (ties broken by id)
        Index("ix_inspections_verdict_inspected_at", "verdict", "inspected_at", "id"),
        Index("ix_inspections_order_id_inspected_at", "order_id", "inspected_at", "id"),
        Index("ix_inspections_lot_inspected_at", "lot", "inspected_at", "id"),
        Index("ix_inspections_inspected_at_id", "inspected_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex
    order_id: Mapped[str] = mapped_column(String(128))
    work_order_version: Mapped[int] = mapped_column(Integer)
    part_number: Mapped[str] = mapped_column(String(128))
    lot: Mapped[str] = mapped_column(String(128))
    station: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(1024))
    frame_name: Mapped[str] = mapped_column(String(1024))
    image_sha256: Mapped[str] = mapped_column(String(64), index=True)
    image_w: Mapped[int] = mapped_column(Integer)
    image_h: Mapped[int] = mapped_column(Integer)
    pixel_size_mm: Mapped[float | None] = mapped_column(Float)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime())
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(64))
    weights_hash: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(64))
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON)
    image_score: Mapped[float] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    clause_ids: Mapped[list[Any]] = mapped_column(JSON)
    checks: Mapped[list[Any]] = mapped_column(JSON)
    timings_ms: Mapped[dict[str, Any]] = mapped_column(JSON)
    operator: Mapped[str] = mapped_column(String(128))
    n_findings: Mapped[int] = mapped_column(Integer)  # lets a reader prove no finding is missing
    # revision 0003: the record this one re-judged (``inspector reinspect``); unique: one successor each
    reinspects_id: Mapped[str | None] = mapped_column(String(32), index=True, unique=True)
    # revision 0004: the part's id (code read in the image, trigger message or <order>-<lot>-<sequence>)
    part_id: Mapped[str] = mapped_column(String(128), index=True)


class PartSequenceRow(Base):
    """Revision 0004: the last sequence number of generated part ids, per order and lot (a counter)."""

    __tablename__ = "part_sequences"

    order_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    lot: Mapped[str] = mapped_column(String(128), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class FindingRow(Base):
    """One finding of one inspection; ``idx`` is its position in ``Inspection.findings``."""

    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("inspection_id", "idx"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"))
    idx: Mapped[int] = mapped_column(Integer)
    defect_type: Mapped[str] = mapped_column(String(64), index=True)
    type_score: Mapped[float] = mapped_column(Float)
    candidates: Mapped[list[Any]] = mapped_column(JSON)  # [[type, score], ...]
    box_x: Mapped[int] = mapped_column(Integer)
    box_y: Mapped[int] = mapped_column(Integer)
    box_w: Mapped[int] = mapped_column(Integer)
    box_h: Mapped[int] = mapped_column(Integer)
    contour: Mapped[list[Any]] = mapped_column(JSON)  # [[x, y], ...] image pixels
    area_px: Mapped[float] = mapped_column(Float)
    length_px: Mapped[float] = mapped_column(Float)
    width_px: Mapped[float] = mapped_column(Float)
    length_mm: Mapped[float | None] = mapped_column(Float)
    width_mm: Mapped[float | None] = mapped_column(Float)
    area_mm2: Mapped[float | None] = mapped_column(Float)
    diameter_mm: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    zones: Mapped[list[Any]] = mapped_column(JSON)
    uncertain: Mapped[bool] = mapped_column(Boolean)
    type_uncertain: Mapped[bool] = mapped_column(Boolean)


class ExplanationRow(Base):
    """An explanation, added after the inspection (append-only; the newest is current)."""

    __tablename__ = "explanations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    fallback: Mapped[bool] = mapped_column(Boolean)
    generator: Mapped[str] = mapped_column(String(256))
    problems: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewRow(Base):
    """A signed review decision (append-only; several per inspection, the newest is current)."""

    __tablename__ = "reviews"
    __table_args__ = (CheckConstraint(_in("decision", DECISIONS), name="decision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(128))  # username
    reviewer_name: Mapped[str] = mapped_column(String(256))  # printed name of the signature
    signature_meaning: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    auth_method: Mapped[str] = mapped_column(String(64))


class ReferenceRow(Base):
    """Teach registry: one version per teach of a part number ('references' is SQL-reserved)."""

    __tablename__ = "teach_references"
    __table_args__ = (UniqueConstraint("part_number", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    part_number: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(1024))
    n_good: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[float] = mapped_column(Float)
    review_low: Mapped[float] = mapped_column(Float)
    weights_hash: Mapped[str] = mapped_column(String(64))
    taught_at: Mapped[datetime] = mapped_column(UTCDateTime())
    taught_by: Mapped[str] = mapped_column(String(128))
