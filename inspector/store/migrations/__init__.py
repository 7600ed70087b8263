"""Alembic migration scripts of the Inspector database (run via ``inspector.store.migrate``)."""
