"""ORM tables of traceability (Alembic revision ``0002_traceability``).

Owned by ``inspector.trace``: user accounts, the hash-chained audit trail, the signature
records of reviews, the configurable reason codes, and the log of what retention removed.
``audit_events``, ``review_signatures`` and ``retention_items`` (and the store's ``reviews``)
are append-only: the migration installs database triggers that refuse UPDATE and DELETE
(see ``docs/traceability.md``). ``retention_permits`` rows exist only inside the transaction
of a retention run; they are the one way the record-purge may delete reviews.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inspector.store.tables import Base
from inspector.store.types import UTCDateTime

ROLES = ("operator", "reviewer", "admin")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UserRow(Base):
    """A local account. Never deleted (deactivated instead); usernames never change."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    full_name: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))  # argon2id, salted, PHC string
    active: Mapped[bool] = mapped_column(Boolean)
    failed_attempts: Mapped[int] = mapped_column(Integer)  # consecutive failed sign-ins
    locked: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEventRow(Base):
    """One event of the audit trail; ``hash`` = sha256(canonical JSON of the fields + prev_hash).

    ``before``/``after`` hold canonical JSON text exactly as hashed (not a JSON column), so a
    verifier in any language recomputes the hash from the stored strings.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity_entity_id_seq", "entity", "entity_id", "seq"),
        Index("ix_audit_events_action_seq", "action", "seq"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(256))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ReviewSignatureRow(Base):
    """The electronic signature of one review: binds it to the inspection record it judges."""

    __tablename__ = "review_signatures"

    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), primary_key=True, autoincrement=False)
    inspection_id: Mapped[str] = mapped_column(String(32), index=True)
    image_sha256: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(8))  # the machine verdict that was signed over
    signer_role: Mapped[str] = mapped_column(String(16))
    algorithm: Mapped[str] = mapped_column(String(32))  # e.g. "sha256/inspector-signature-1"
    signature_hash: Mapped[str] = mapped_column(String(64), unique=True)
    audit_seq: Mapped[int] = mapped_column(ForeignKey("audit_events.seq"))


class ReasonCodeRow(Base):
    """A reason code reviewers may choose. Deactivated, never deleted (old reviews name it)."""

    __tablename__ = "reason_codes"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    decisions: Mapped[str] = mapped_column(String(64))  # comma list of accept,reject,rework
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))


class RetentionItemRow(Base):
    """One thing a retention run removed (an image file, an inspection, a review)."""

    __tablename__ = "retention_items"
    __table_args__ = (
        CheckConstraint(_in("kind", ("image", "inspection", "review")), name="kind"),
        Index("ix_retention_items_kind_key", "kind", "key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    audit_seq: Mapped[int] = mapped_column(ForeignKey("audit_events.seq"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))  # image sha256, inspection id, 'REVIEW_ID@EVENT_SEQ'
    content_sha256: Mapped[str] = mapped_column(String(64))  # of the removed row's canonical JSON / file
    size_bytes: Mapped[int] = mapped_column(Integer)


class RetentionPermitRow(Base):
    """Present only inside a retention transaction: lets the purge delete append-only rows."""

    __tablename__ = "retention_permits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    granted_to: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
