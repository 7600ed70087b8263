"""Engines and transactions: SQLite (embedded default) or PostgreSQL (several stations).

SQLite connections get ``journal_mode=WAL`` (readers never block the writer),
``foreign_keys=ON``, ``busy_timeout`` and ``synchronous`` pragmas on connect, and
SQLAlchemy (not the ``sqlite3`` module) emits ``BEGIN``, so reads see one snapshot and
DDL (migrations) is transactional. Write sessions start with ``BEGIN IMMEDIATE`` so that
two writers queue on the busy timeout instead of failing on a lock upgrade.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from inspector.store.errors import StoreError

_IMMEDIATE = "inspector_sqlite_immediate"
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def check_finite(obj: Any, path: str = "") -> None:
    """Raise ``StoreError`` naming the first NaN/inf inside ``obj`` (dicts, lists, floats).

    NaN is not JSON, PostgreSQL refuses it in JSON columns and SQLite turns a NaN REAL into
    NULL, so a non-finite number would be lost or rejected differently per backend.
    """
    if isinstance(obj, float) and not math.isfinite(obj):
        raise StoreError(
            f"{path or 'value'} is {obj!r}: NaN/inf cannot be stored; fix the producer or use None"
        )
    if isinstance(obj, dict):
        for k, v in obj.items():
            check_finite(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            check_finite(v, f"{path}[{i}]")


def json_dumps(obj: Any) -> str:
    """Serialiser for JSON columns: strict JSON (no NaN/inf), numpy scalars converted."""
    try:
        return json.dumps(obj, allow_nan=False, default=_json_default, ensure_ascii=False)
    except ValueError:
        check_finite(obj)
        raise


def database_url(target: str | Path | URL) -> URL:
    """A SQLAlchemy URL from a URL string, a ``URL`` or a plain SQLite file path.

    ``postgresql://...`` is read as ``postgresql+psycopg://...`` (psycopg 3 is the driver
    this project ships; psycopg2 is not installed).
    """
    if isinstance(target, URL):
        url = target
    elif isinstance(target, Path) or "://" not in str(target):
        url = URL.create("sqlite", database=str(Path(target).expanduser().resolve()))
    else:
        url = make_url(str(target))
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def make_engine(
    url: str | Path | URL,
    *,
    synchronous: str = "NORMAL",
    busy_timeout_ms: int = 30_000,
    echo: bool = False,
) -> Engine:
    """Create an engine for ``url`` (SQLite file, ``sqlite://`` memory, or PostgreSQL).

    ``synchronous`` (SQLite only): NORMAL survives a process crash without losing a
    committed transaction; on power loss the last commits may be lost but the file is never
    corrupt. FULL also survives power loss, at the cost of one fsync per commit.
    ``busy_timeout_ms``: how long a writer waits for another process's write lock.
    Raises ``StoreError`` for an unsupported backend or setting.
    """
    url = database_url(url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, synchronous, busy_timeout_ms, echo)
    if backend == "postgresql":
        return create_engine(
            url,
            echo=echo,
            connect_args={"connect_timeout": 10},  # an unreachable server is a storage fault, not a hang
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
            json_serializer=json_dumps,
        )
    raise StoreError(f"unsupported database {backend!r}: use sqlite:///path.db or postgresql+psycopg://...")


def _sqlite_engine(url: URL, synchronous: str, busy_timeout_ms: int, echo: bool) -> Engine:
    synchronous = synchronous.upper()
    if synchronous not in SYNCHRONOUS_MODES:
        raise StoreError(f"synchronous={synchronous!r}: use one of {', '.join(SYNCHRONOUS_MODES)}")
    memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {
        "echo": echo,
        "json_serializer": json_dumps,
        "connect_args": {"check_same_thread": False, "timeout": busy_timeout_ms / 1000.0},
    }
    if memory:
        kwargs["poolclass"] = StaticPool  # one shared connection, or each would see its own DB
    else:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["pool_size"] = 8
        kwargs["max_overflow"] = 8
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (below), not sqlite3
        cur = dbapi_connection.cursor()
        try:
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute(f"PRAGMA synchronous={synchronous}")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def read_only_engine(url: str | Path | URL) -> Engine | None:
    """A read-only view of an existing SQLite file that SQLite cannot open for writing (disk full,
    read-only folder: it cannot create its ``-shm`` index). None for other databases.

    Opened ``immutable``: nothing is locked and nothing written; a write fails with SQLite's
    "attempt to write a readonly database" (a storage fault). Commits still in a ``-wal`` file
    left by a killed writer are not seen; a warning says so.
    """
    import logging
    import sqlite3
    from urllib.parse import quote

    url = database_url(url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database)
    if not path.is_file():
        return None
    wal = path.with_name(path.name + "-wal")
    note = (f"; its write-ahead log {wal.name} holds commits not shown" if wal.is_file() and wal.stat().st_size
            else "")
    logging.getLogger(__name__).warning("database %s cannot be opened for writing (disk full or read-only): "
                                        "reading it read-only%s", path, note)
    uri = f"file:{quote(str(path))}?mode=ro&immutable=1"
    return create_engine("sqlite://", json_serializer=json_dumps, poolclass=StaticPool,
                         creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))


def writer_engine(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions take SQLite's write lock at BEGIN."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{_IMMEDIATE: True})
    return engine


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A ``Session`` whose work is committed whole on success and rolled back whole on error.

    ``write=True`` takes SQLite's write lock at the start of the transaction (other writers
    wait up to the busy timeout). Objects stay readable after the block (no expiry on commit).
    """
    bind = writer_engine(engine) if write else engine
    session = Session(bind=bind, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
