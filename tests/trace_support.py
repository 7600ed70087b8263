"""Fixtures and helpers for the trace tests (tests/test_trace_*.py)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from argon2 import PasswordHasher
from pg import db_url, postgres_head_url, postgres_server  # noqa: F401 - re-exported fixtures

from inspector.domain import Inspection, User, VerdictKind
from inspector.store import Store
from inspector.store.samples import sample_image, sample_inspection, sample_work_order
from inspector.trace import Accounts

# pytest fixtures, for `from trace_support import *` in the test modules
__all__ = ["accounts", "db_url", "people", "postgres_head_url", "postgres_server", "rng", "store"]

# Cheap argon2id parameters so that tests creating many accounts stay fast; the product uses
# argon2-cffi's defaults (test_trace_accounts checks those separately).
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ADMIN_PW = "admin-password-1"
REVIEWER_PW = "reviewer-password-1"
OPERATOR_PW = "operator-password-1"


@pytest.fixture
def store(db_url, tmp_path):  # noqa: F811
    s = Store.open(db_url, tmp_path / "images")
    yield s
    s.close()


@pytest.fixture
def accounts(store):
    return Accounts(store, hasher=FAST_HASHER)


@pytest.fixture
def people(accounts) -> dict[str, User]:
    """An admin (bootstrapped), a reviewer and an operator."""
    admin = accounts.create_user("root", "Rita Admin", "admin", ADMIN_PW, None)
    reviewer = accounts.create_user("ann", "Ann Smith", "reviewer", REVIEWER_PW, admin)
    operator = accounts.create_user("olaf", "Olaf Op", "operator", OPERATOR_PW, admin)
    return {"admin": admin, "reviewer": reviewer, "operator": operator}


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def add_inspection(store: Store, rng: np.random.Generator, verdict: VerdictKind = VerdictKind.NG,
                   inspected_at: datetime | None = None, image_sha256: str | None = None,
                   order_id: str = "WO-1001") -> Inspection:
    """Store one synthetic inspection (with a real image file) and return it."""
    store.save_work_order(sample_work_order(order_id), "olaf")
    sha = image_sha256 or store.images.put_array(sample_image(rng))
    n = 0 if verdict is VerdictKind.OK else 2
    insp = sample_inspection(rng, sha, order_id=order_id, n_findings=n, verdict=verdict,
                             inspected_at=inspected_at)
    store.save_inspection(insp)
    return insp


def tamper(store: Store, *statements: str, tables: tuple[str, ...] = ("audit_events",),
           restore_guards: bool = True) -> None:
    """Run SQL as an attacker with direct database access would: switch the append-only
    triggers of ``tables`` off, run ``statements``, and (``restore_guards``) put the triggers
    back so that only the data tells the story. SQLite goes through the ``sqlite3`` module on
    the database file, PostgreSQL through psycopg (``ALTER TABLE ... DISABLE TRIGGER``).
    """
    url = store.engine.url
    if url.get_backend_name() == "sqlite":
        import sqlite3

        conn = sqlite3.connect(url.database)
        try:
            marks = " OR ".join(f"tbl_name = '{t}'" for t in tables)
            saved = conn.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND ({marks})").fetchall()
            for name, _ in saved:
                conn.execute(f"DROP TRIGGER {name}")
            for stmt in statements:
                conn.execute(stmt)
            if restore_guards:
                for _, sql in saved:
                    conn.execute(sql)
            conn.commit()
        finally:
            conn.close()
    else:
        with store.engine.begin() as conn:
            for t in tables:
                conn.exec_driver_sql(f"ALTER TABLE {t} DISABLE TRIGGER USER")
            for stmt in statements:
                conn.exec_driver_sql(stmt)
            if restore_guards:
                for t in tables:
                    conn.exec_driver_sql(f"ALTER TABLE {t} ENABLE TRIGGER USER")
