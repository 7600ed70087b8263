"""Which errors are storage faults (spool the part and retry later) and a quick probe for recovery.

A storage fault is the storage being unable to take a record right now, through no fault of
the record: disk full, read-only file system, I/O error, SQLite locked past its busy timeout,
PostgreSQL unreachable, restarting or out of space. Anything else (a record the database
refuses, an unknown work order) is *not* a fault: spooling it would only block the queue.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

# PostgreSQL SQLSTATEs that mean "the server cannot take it now" (classes 08, 53, 57P and read-only)
_PG_FAULT_STATES = ("08", "53", "57P", "25006", "40001", "40P01")


def is_storage_fault(exc: BaseException | None) -> bool:
    """True when ``exc`` (or an error it was raised from) says the storage is unavailable."""
    from sqlalchemy import exc as sa

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError):  # ENOSPC, EROFS, EIO, EDQUOT... from the image folder
            return True
        if isinstance(exc, (sa.OperationalError, sa.InterfaceError, sa.TimeoutError, sa.DisconnectionError)):
            return True
        if isinstance(exc, sa.DBAPIError):
            if exc.connection_invalidated:
                return True
            state = str(getattr(exc.orig, "sqlstate", "") or "")
            if state.startswith(_PG_FAULT_STATES):
                return True
        if isinstance(exc, sqlite3.OperationalError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def fault_text(exc: BaseException) -> str:
    """A storage fault in one short line for the operator: the driver's words, not SQLAlchemy's."""
    from sqlalchemy import exc as sa

    if isinstance(exc, sa.DBAPIError) and exc.orig is not None:
        backend = "SQLite" if isinstance(exc.orig, sqlite3.Error) else "database"
        text = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        return f"{backend}: {text}"
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def probe(url: Any, timeout_s: float = 0.5) -> str | None:
    """None when the database would take a write now, else why not (fast: never waits a busy timeout).

    SQLite: takes the write lock (``BEGIN IMMEDIATE``) on a connection of its own and gives it
    back, writing nothing. PostgreSQL: connects with a short timeout and runs ``SELECT 1``.
    Disk full and read-only folders are found by the drain itself (they fail at once).
    """
    from sqlalchemy import make_url

    url = make_url(str(url)) if not hasattr(url, "get_backend_name") else url
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            return None
        path = Path(url.database)
        if not path.exists():
            return f"SQLite database {path} is missing"
        try:
            con = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True, timeout=timeout_s,
                                  isolation_level=None)
        except sqlite3.Error as exc:
            return f"SQLite {path}: {exc}"
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("ROLLBACK")
        except sqlite3.Error as exc:
            return f"SQLite {path}: {exc}"
        finally:
            con.close()
        return None
    if backend == "postgresql":
        import psycopg

        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            with psycopg.connect(conninfo, connect_timeout=max(1, round(timeout_s * 4))) as con:
                con.execute("SELECT 1")
        except psycopg.Error as exc:
            return f"PostgreSQL {url.host}:{url.port}: {str(exc).strip().splitlines()[0] if str(exc) else exc}"
        return None
    return None
