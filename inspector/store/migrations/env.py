"""Alembic environment: runs on the connection handed over by ``inspector.store.migrate``.

For a developer's ``alembic`` command line, set ``sqlalchemy.url`` in an ini file with
``script_location = inspector.store:migrations`` (see docs/storage.md).
"""

from __future__ import annotations

from alembic import context

from inspector.store.db import make_engine
from inspector.store.migrate import target_metadata

config = context.config
metadata = target_metadata()


def _configure(**kw: object) -> None:
    context.configure(target_metadata=metadata, compare_type=True, render_as_batch=True, **kw)


if context.is_offline_mode():
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    else:
        engine = make_engine(config.get_main_option("sqlalchemy.url"))
        try:
            with engine.begin() as conn:
                _configure(connection=conn)
                with context.begin_transaction():
                    context.run_migrations()
        finally:
            engine.dispose()
