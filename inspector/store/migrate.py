"""Schema migrations, run programmatically (no alembic.ini needed at run time).

The migration scripts live in ``inspector/store/migrations`` and ship inside the package.
``TABLE_MODULES`` lists every module that declares tables on ``tables.Base``; Alembic's
``env.py`` and the schema tests import them all, so a module added later (``trace_tables``,
with its own revision) is part of the target metadata as soon as the file exists.
"""

from __future__ import annotations

import importlib
import importlib.util

from sqlalchemy import Engine, MetaData, text

from inspector.store.db import writer_engine
from inspector.store.errors import MigrationError

TABLE_MODULES = ("inspector.store.tables", "inspector.store.trace_tables")
SCRIPT_LOCATION = "inspector.store:migrations"
_PG_LOCK_KEY = 0x1A5_9EC7  # advisory lock: one station migrates, the others wait


def target_metadata() -> MetaData:
    """The ``MetaData`` of all table modules that exist (imported on first call)."""
    for name in TABLE_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    from inspector.store.tables import Base

    return Base.metadata


def alembic_config(connection=None):  # noqa: ANN001, ANN201 - alembic types imported lazily
    """An Alembic ``Config`` pointing at the packaged scripts, bound to ``connection``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision this program knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, ``None`` for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` in one transaction (SQLite and PostgreSQL DDL is
    transactional). Concurrent callers are serialised: SQLite by its write lock, PostgreSQL
    by an advisory lock. Raises ``MigrationError`` if the database is newer than this program.
    A database already at the head is only read (no write lock: it opens on a full disk).
    """
    if revision == "head" and current_revision(engine) == head_revision():
        target_metadata()
        return
    _run("upgrade", engine, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to ``revision`` (``"base"`` drops every table). Destroys data."""
    _run("downgrade", engine, revision)


def _run(direction: str, engine: Engine, revision: str) -> None:
    from alembic import command
    from alembic.util import CommandError

    target_metadata()
    with writer_engine(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        try:
            getattr(command, direction)(alembic_config(conn), revision)
        except CommandError as exc:
            raise MigrationError(
                f"cannot {direction} the database schema to {revision!r}: {exc}. If the database "
                "was written by a newer Inspector, install that version (known head: "
                f"{head_revision()})"
            ) from exc
