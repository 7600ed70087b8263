"""The seal: ``Store.record_hook`` writing one ``inspection.recorded`` event per stored inspection.

Installed by the facade on its store (``install``). The event commits or rolls back with the
record. The digest, the adoption of older records and the check are in ``inspector.trace.records``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from inspector.store.trace_tables import AuditEventRow
from inspector.trace import _db
from inspector.trace.audit import Audit
from inspector.trace.records import (
    ADOPT_CHUNK,
    ADOPTED,
    INSPECTIONS,
    RECORDED,
    STARTED,
    inspection_digest,
    read_records,
    summary,
)


class RecordSeal:
    """``Store.record_hook``: seals each newly inserted inspection into the audit trail, in its transaction."""

    def __init__(self) -> None:
        self._started = False
        self._lock = threading.Lock()

    def __call__(self, conn: Any, ids: Sequence[str]) -> None:
        if not ids:
            return
        _db.lock_chain(conn)  # PostgreSQL: stations append to the one chain in turn
        audit = Audit(conn.engine)
        with self._lock:
            if not self._started:
                self._start(conn, audit, set(ids))
                self._started = True
        for row, findings in read_records(conn, list(ids)):
            after = {"digest": inspection_digest(row, findings), **summary(row, len(findings))}
            audit.append_in(conn, row.get("operator") or "station", RECORDED, "inspection", row["id"], None, after)

    @staticmethod
    def _start(conn: Any, audit: Any, new: set[str]) -> None:
        """Adopt the records stored before sealing began (once per database)."""
        t = AuditEventRow
        if conn.scalar(select(t.seq).where(t.action == STARTED).limit(1)) is not None:
            return
        adopted, events, last = 0, 0, None
        while True:
            stmt = select(INSPECTIONS.c.id).order_by(INSPECTIONS.c.id).limit(ADOPT_CHUNK)
            if last is not None:
                stmt = stmt.where(INSPECTIONS.c.id > last)
            ids = list(conn.scalars(stmt))
            if not ids:
                break
            last = ids[-1]
            old = [i for i in ids if i not in new]
            if old:
                digests = {row["id"]: inspection_digest(row, f) for row, f in read_records(conn, old)}
                audit.append_in(conn, "system", ADOPTED, "inspections", "*", None,
                                {"count": len(digests), "records": digests})
                adopted += len(digests)
                events += 1
        audit.append_in(conn, "system", STARTED, "inspections", "*", None,
                        {"adopted": adopted, "adopted_events": events,
                         "note": "from here on every inspection is sealed by an inspection.recorded event"})


def install(store: Any) -> None:
    """Seal every inspection ``store`` inserts from now on (idempotent; a store without the hook is left alone)."""
    if getattr(store, "record_hook", False) is None:
        store.record_hook = RecordSeal()


