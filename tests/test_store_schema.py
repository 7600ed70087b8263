"""Migrations and engine settings: the migrated schema IS the ORM metadata, on both backends."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pg import postgres_server, postgres_url  # noqa: F401 - fixtures
from sqlalchemy import inspect, text

from inspector.store import MigrationError, Store, StoreError, database_url, make_engine, session_scope
from inspector.store.migrate import current_revision, downgrade, head_revision, target_metadata, upgrade

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
STORE_TABLES = {"work_orders", "inspections", "findings", "explanations", "reviews", "teach_references"}


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'schema.db'}"
    return request.getfixturevalue("postgres_url")


def _diff(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        return compare_metadata(ctx, target_metadata())


def test_migrated_schema_matches_orm_metadata(empty_url):
    engine = make_engine(empty_url)
    try:
        assert _diff(engine)  # sanity: an empty database differs (the comparison can fail)
        upgrade(engine)
        assert _diff(engine) == []
        assert current_revision(engine) == head_revision()
        assert STORE_TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_downgrade_to_base_and_up_again(empty_url):
    engine = make_engine(empty_url)
    try:
        upgrade(engine)
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_open_is_idempotent_and_refuses_a_newer_database(empty_url, tmp_path):
    Store.open(empty_url, tmp_path / "img").close()
    Store.open(empty_url, tmp_path / "img").close()  # second open: nothing to do
    engine = make_engine(empty_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
        with pytest.raises(MigrationError, match="newer Inspector"):
            Store.open(empty_url, tmp_path / "img")
    finally:
        engine.dispose()


def test_concurrent_first_open_migrates_once(empty_url, tmp_path):
    errors, stores = [], []

    def open_store():
        try:
            stores.append(Store.open(empty_url, tmp_path / "img"))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _diff(stores[0].engine) == []
    for s in stores:
        s.close()


def test_sqlite_pragmas(tmp_path):
    engine = make_engine(tmp_path / "p.db", busy_timeout_ms=1234)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        engine.dispose()
    full = make_engine(f"sqlite:///{tmp_path / 'f.db'}", synchronous="full")
    try:
        with full.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    finally:
        full.dispose()
    with pytest.raises(StoreError, match="synchronous"):
        make_engine(tmp_path / "x.db", synchronous="sometimes")


def test_session_scope_commits_or_rolls_back_whole(tmp_path):
    engine = make_engine(tmp_path / "s.db")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        with session_scope(engine, write=True) as s:
            s.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(RuntimeError), session_scope(engine, write=True) as s:
            s.execute(text("INSERT INTO t VALUES (2)"))
            s.execute(text("INSERT INTO t VALUES (3)"))
            raise RuntimeError("crash between the writes")
        with session_scope(engine) as s:
            assert s.execute(text("SELECT x FROM t")).scalars().all() == [1]
    finally:
        engine.dispose()


def test_urls():
    assert database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("relative/file.db").database.endswith("relative/file.db")
    with pytest.raises(StoreError, match="unsupported database"):
        make_engine("mysql://u@h/db")
