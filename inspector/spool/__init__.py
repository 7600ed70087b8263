"""Store and forward: a part whose record cannot be stored (disk full, database locked or gone,
read-only folder) goes to a local append-only spool, and drains into the store, in order and
exactly once, when the storage is back. See docs/reliability.md.

``Spool`` (the folder), ``SpoolRecord`` (one part or one late explanation), ``drain_step``
(one transaction of the drain), ``is_storage_fault`` and ``probe`` (when to spool, when to retry).
"""

from typing import Any

from inspector.spool.faults import fault_text, is_storage_fault, probe
from inspector.spool.folder import Spool, SpoolState
from inspector.spool.records import SpoolCorrupt, SpoolError, SpoolRecord


def __getattr__(name: str) -> Any:  # the drain needs SQLAlchemy: loaded on first use, so the UI starts fast
    if name in ("DrainReport", "drain_step"):
        from inspector.spool import drain

        return getattr(drain, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["DrainReport", "Spool", "SpoolCorrupt", "SpoolError", "SpoolRecord", "SpoolState", "drain_step",
           "fault_text", "is_storage_fault", "probe"]
