"""Database plumbing shared by the trace modules (sessions, the chain lock, guard names)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from inspector.store.db import session_scope

_PG_CHAIN_LOCK = 0x1A5_A0D1  # advisory lock key: one writer appends to the audit chain at a time

# Guards installed by revision 0002 (and 0001's UPDATE guards): verify() reports a missing one.
SQLITE_TRIGGERS = (
    "trg_audit_events_no_update", "trg_audit_events_no_delete",
    "trg_retention_items_no_update", "trg_retention_items_no_delete",
    "trg_review_signatures_no_update", "trg_review_signatures_no_delete",
    "trg_reviews_no_update", "trg_reviews_no_delete",
    "trg_inspections_no_delete", "trg_findings_no_delete", "trg_explanations_no_delete",
    "trg_users_no_delete", "trg_users_no_rename", "trg_reason_codes_no_delete", "trg_reason_codes_no_rename",
)
PG_TRIGGERS = SQLITE_TRIGGERS + (
    "trg_audit_events_no_truncate", "trg_retention_items_no_truncate", "trg_review_signatures_no_truncate",
    "trg_reviews_no_truncate", "trg_inspections_no_truncate", "trg_findings_no_truncate",
    "trg_explanations_no_truncate", "trg_users_no_truncate", "trg_reason_codes_no_truncate",
)


def engine_of(store: Any) -> Engine:
    """The engine of a ``Store`` (or an ``Engine`` itself)."""
    if isinstance(store, Engine):
        return store
    engine = getattr(store, "engine", None)
    if not isinstance(engine, Engine):
        raise TypeError(f"expected an inspector.store.Store or a SQLAlchemy Engine, got {type(store).__name__}")
    return engine


def write_session(engine: Engine) -> Any:
    """A write transaction (SQLite: BEGIN IMMEDIATE) that commits whole or rolls back whole."""
    return session_scope(engine, write=True)


def read_session(engine: Engine) -> Any:
    return session_scope(engine)


def lock_chain(session: Session) -> None:
    """Serialise appends to the audit chain for the rest of this transaction.

    PostgreSQL: a transaction-scoped advisory lock (stations on one server queue here).
    SQLite: the write transaction already holds the single writer lock.
    """
    bind = session if isinstance(session, Connection) else session.get_bind()  # a Session or a Connection
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_CHAIN_LOCK})


def installed_triggers(session: Session) -> set[str]:
    """Names of the enabled user triggers in the database."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        rows = session.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    elif dialect == "postgresql":
        rows = session.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"))
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported by the store
        return set()
    return {r[0] for r in rows}


def expected_triggers(session: Session) -> tuple[str, ...]:
    return PG_TRIGGERS if session.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS
