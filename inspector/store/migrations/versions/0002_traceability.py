"""traceability: users, hash-chained audit trail, review signatures, reason codes, retention log

Also installs the append-only guards (SQLite: ``RAISE(ABORT)`` triggers; PostgreSQL: the
plpgsql trigger function ``inspector_refuse_change`` plus TRUNCATE triggers):

- ``audit_events`` and ``retention_items``: UPDATE and DELETE always refused.
- ``reviews`` (a 0001 table whose guards 0001 leaves to this revision): UPDATE refused.
- ``review_signatures`` and the 0001 tables ``inspections``, ``findings``, ``explanations``,
  ``reviews``: DELETE refused unless a ``retention_permits`` row exists, which is only the
  case inside the transaction of ``inspector retention apply`` (the permit is deleted before
  commit). 0001's UPDATE triggers on inspections, findings, explanations are left as they are.
- ``users`` and ``reason_codes``: never deleted, never renamed (history names them).

The trigger SQL is written out here (not imported) so that this revision stays what it was.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import inspector.store.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables of this revision: (table, DELETE policy). "purgeable": DELETE passes only while a
# retention permit row exists (inside `inspector retention apply`); "strict": never.
OWN_APPEND_ONLY = (
    ("audit_events", "strict"),
    ("retention_items", "strict"),
    ("review_signatures", "purgeable"),
)
# Tables of revision 0001: 0001 refuses UPDATE on inspections, findings and explanations and
# leaves DELETE to this revision. Here: reviews get their UPDATE guard, and all four a
# permit-aware DELETE guard, so that only the retention purge can remove a record.
STORE_NO_UPDATE = ("reviews",)
STORE_PURGEABLE = ("inspections", "findings", "explanations", "reviews")
NEVER_DELETED = (("users", "username"), ("reason_codes", "code"))
PERMIT = "NOT EXISTS (SELECT 1 FROM retention_permits)"
_STRICT_WHY = "history is append-only"
_PURGE_WHY = "history is append-only (only `inspector retention apply` purges old records)"
_NEVER_DELETED_WHY = "rows are never deleted (deactivate instead)"

DEFAULT_REASON_CODES = (
    ("COSMETIC-OK", "cosmetic mark within customer acceptance; use as is", "accept"),
    ("FALSE-ALARM", "no defect on the part: the machine flagged a good part", "accept"),
    (
        "MEASUREMENT-ERROR",
        "defect size mis-measured (focus, scale, glare); within limits when re-measured",
        "accept,reject,rework",
    ),
    ("OVER-LIMIT", "defect exceeds the limit of the work-order clause", "reject,rework"),
    ("REWORKABLE", "defect can be removed by rework; part returns for re-inspection", "rework"),
)

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION inspector_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_ARGV[0] = 'purgeable' AND EXISTS (SELECT 1 FROM retention_permits) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'inspector: % on % refused: %', TG_OP, TG_TABLE_NAME, TG_ARGV[1];
END
$$
"""


def _sqlite_raise(op_: str, table: str, why: str) -> str:
    return f"SELECT RAISE(ABORT, 'inspector: {op_} on {table} refused: {why}');"


def _upgrade_sqlite() -> None:
    strict_why, purge_why = _STRICT_WHY, _PURGE_WHY
    for table, policy in OWN_APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER trg_{table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN {_sqlite_raise('UPDATE', table, strict_why)} END"
        )
        when = f" WHEN {PERMIT}" if policy == "purgeable" else ""
        why = purge_why if policy == "purgeable" else strict_why
        op.execute(
            f"CREATE TRIGGER trg_{table}_no_delete BEFORE DELETE ON {table}{when} "
            f"BEGIN {_sqlite_raise('DELETE', table, why)} END"
        )
    for table in STORE_NO_UPDATE:
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_update")
        op.execute(
            f"CREATE TRIGGER trg_{table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN {_sqlite_raise('UPDATE', table, strict_why)} END"
        )
    for table in STORE_PURGEABLE:
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_delete")
        op.execute(
            f"CREATE TRIGGER trg_{table}_no_delete BEFORE DELETE ON {table} WHEN {PERMIT} "
            f"BEGIN {_sqlite_raise('DELETE', table, purge_why)} END"
        )
    for table, key in NEVER_DELETED:
        op.execute(
            f"CREATE TRIGGER trg_{table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN {_sqlite_raise('DELETE', table, _NEVER_DELETED_WHY)} END"
        )
        op.execute(
            f"CREATE TRIGGER trg_{table}_no_rename BEFORE UPDATE OF {key} ON {table} "
            f"WHEN OLD.{key} IS NOT NEW.{key} "
            f"BEGIN {_sqlite_raise('UPDATE', table, key + ' never changes: history refers to it')} END"
        )


def _pg_trigger(
    name: str, when: str, table: str, arg: str, why: str, *, statement: bool = False, cond: str = ""
) -> str:
    level = "STATEMENT" if statement else "ROW"
    cond = f" WHEN ({cond})" if cond else ""
    return (
        f"CREATE TRIGGER {name} BEFORE {when} ON {table} FOR EACH {level}{cond} "
        f"EXECUTE FUNCTION inspector_refuse_change('{arg}', '{why}')"
    )


def _upgrade_postgresql() -> None:
    op.execute(_PG_FUNCTION)
    for table, policy in OWN_APPEND_ONLY:
        why = _PURGE_WHY if policy == "purgeable" else _STRICT_WHY
        op.execute(_pg_trigger(f"trg_{table}_no_update", "UPDATE", table, "strict", _STRICT_WHY))
        op.execute(_pg_trigger(f"trg_{table}_no_delete", "DELETE", table, policy, why))
        op.execute(
            _pg_trigger(f"trg_{table}_no_truncate", "TRUNCATE", table, "strict", _STRICT_WHY, statement=True)
        )
    for table in STORE_NO_UPDATE:
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_update ON {table}")
        op.execute(_pg_trigger(f"trg_{table}_no_update", "UPDATE", table, "strict", _STRICT_WHY))
    for table in STORE_PURGEABLE:
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_delete ON {table}")
        op.execute(_pg_trigger(f"trg_{table}_no_delete", "DELETE", table, "purgeable", _PURGE_WHY))
        op.execute(
            _pg_trigger(f"trg_{table}_no_truncate", "TRUNCATE", table, "strict", _STRICT_WHY, statement=True)
        )
    for table, key in NEVER_DELETED:
        op.execute(_pg_trigger(f"trg_{table}_no_delete", "DELETE", table, "strict", _NEVER_DELETED_WHY))
        op.execute(
            _pg_trigger(
                f"trg_{table}_no_rename",
                f"UPDATE OF {key}",
                table,
                "strict",
                f"{key} never changes: history refers to it",
                cond=f"OLD.{key} IS DISTINCT FROM NEW.{key}",
            )
        )
        op.execute(
            _pg_trigger(
                f"trg_{table}_no_truncate", "TRUNCATE", table, "strict", _NEVER_DELETED_WHY, statement=True
            )
        )


def _downgrade_triggers() -> None:
    """Drop the guards this revision put on 0001's tables (its own tables' go with them)."""
    dialect = op.get_bind().dialect.name
    names = [(t, f"trg_{t}_no_update") for t in STORE_NO_UPDATE]
    names += [(t, f"trg_{t}_{suffix}") for t in STORE_PURGEABLE for suffix in ("no_delete", "no_truncate")]
    if dialect == "postgresql":
        names += [
            (t, f"trg_{t}_{suffix}")
            for t, _ in NEVER_DELETED
            for suffix in ("no_delete", "no_rename", "no_truncate")
        ]
    for table, name in names:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", inspector.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=256), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_action_seq", ["action", "seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index(
            "ix_audit_events_entity_entity_id_seq", ["entity", "entity_id", "seq"], unique=False
        )

    reason_codes = op.create_table(
        "reason_codes",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("decisions", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", inspector.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_reason_codes")),
    )
    op.create_table(
        "retention_permits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("granted_to", sa.String(length=128), nullable=False),
        sa.Column("created_at", inspector.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_permits")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("full_name", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("created_at", inspector.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", inspector.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", inspector.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('operator', 'reviewer', 'admin')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "retention_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('image', 'inspection', 'review')", name=op.f("ck_retention_items_kind")),
        sa.ForeignKeyConstraint(
            ["audit_seq"], ["audit_events.seq"], name=op.f("fk_retention_items_audit_seq_audit_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_items")),
    )
    with op.batch_alter_table("retention_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retention_items_audit_seq"), ["audit_seq"], unique=False)
        batch_op.create_index("ix_retention_items_kind_key", ["kind", "key"], unique=False)

    op.create_table(
        "review_signatures",
        sa.Column("review_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("inspection_id", sa.String(length=32), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("signer_role", sa.String(length=16), nullable=False),
        sa.Column("algorithm", sa.String(length=32), nullable=False),
        sa.Column("signature_hash", sa.String(length=64), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_seq"], ["audit_events.seq"], name=op.f("fk_review_signatures_audit_seq_audit_events")
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["reviews.id"], name=op.f("fk_review_signatures_review_id_reviews")
        ),
        sa.PrimaryKeyConstraint("review_id", name=op.f("pk_review_signatures")),
        sa.UniqueConstraint("signature_hash", name=op.f("uq_review_signatures_signature_hash")),
    )
    with op.batch_alter_table("review_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_signatures_inspection_id"), ["inspection_id"], unique=False
        )

    now = datetime.now(UTC)
    op.bulk_insert(
        reason_codes,
        [
            {
                "code": c,
                "description": d,
                "decisions": k,
                "active": True,
                "created_at": now,
                "created_by": "migration 0002",
            }
            for c, d, k in DEFAULT_REASON_CODES
        ],
    )

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _upgrade_sqlite()
    elif dialect == "postgresql":
        _upgrade_postgresql()


def downgrade() -> None:
    _downgrade_triggers()

    with op.batch_alter_table("review_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_signatures_inspection_id"))

    op.drop_table("review_signatures")
    with op.batch_alter_table("retention_items", schema=None) as batch_op:
        batch_op.drop_index("ix_retention_items_kind_key")
        batch_op.drop_index(batch_op.f("ix_retention_items_audit_seq"))

    op.drop_table("retention_items")
    op.drop_table("users")
    op.drop_table("retention_permits")
    op.drop_table("reason_codes")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_entity_entity_id_seq")
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))
        batch_op.drop_index("ix_audit_events_action_seq")

    op.drop_table("audit_events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS inspector_refuse_change()")
