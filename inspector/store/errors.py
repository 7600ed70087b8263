"""Typed errors of the store. Each message says what to fix."""

from __future__ import annotations

from inspector.errors import InspectorError


class StoreError(InspectorError):
    """Base class: the store cannot do what was asked."""


class NotFoundError(StoreError, LookupError):
    """A record (inspection, work order, reference) does not exist."""


class UnknownWorkOrderError(NotFoundError):
    """An inspection names a work order that was never saved with ``save_work_order``."""


class MissingImageError(NotFoundError):
    """An inspection names an image that is not in the image store (``put_bytes``/``put_array`` first)."""


class DuplicateInspectionError(StoreError):
    """An inspection with this id is already stored; inspection rows are never overwritten."""


class ImageStoreError(StoreError):
    """An image cannot be stored or read (unknown format, undecodable bytes, bad hash)."""


class ImageAlteredError(ImageStoreError, ValueError):
    """A stored image no longer hashes to its name: replaced, truncated or damaged on disk."""


class MigrationError(StoreError):
    """The database schema cannot be brought to the version this program needs."""
