"""Storage: SQLite/PostgreSQL records (SQLAlchemy 2.0 + Alembic) and a content-addressed image folder.

``Store.open(url, image_dir)`` is the entry point; see docs/storage.md.
"""

from inspector.store.db import database_url, make_engine, session_scope
from inspector.store.errors import (
    DuplicateInspectionError,
    ImageStoreError,
    MigrationError,
    MissingImageError,
    NotFoundError,
    StoreError,
    UnknownWorkOrderError,
)
from inspector.store.images import ImageStore
from inspector.store.records import TaughtReference, WorkOrderRecord
from inspector.store.repository import Store

__all__ = [
    "DuplicateInspectionError",
    "ImageStore",
    "ImageStoreError",
    "MigrationError",
    "MissingImageError",
    "NotFoundError",
    "Store",
    "StoreError",
    "TaughtReference",
    "UnknownWorkOrderError",
    "WorkOrderRecord",
    "database_url",
    "make_engine",
    "session_scope",
]
