"""Drain the spool into the store: in order, exactly once, each step with its audit events.

One step takes the oldest records (at most ``max_records``) and stores them in ONE database
transaction together with their audit events: ``inspection.spooled`` per part (when and why it
was spooled) and one ``spool.drained`` for the step. Only after that transaction has
committed are the record files removed. So:

* a crash (``kill -9``) before the commit leaves the records in the spool: drained again later;
* a crash after the commit and before the files are removed leaves records that are already
  stored: the next step finds their inspection id in the database and removes them without
  storing anything twice (the inspection id is the key; ``already_stored`` counts them). The
  same covers a commit whose answer was lost (PostgreSQL restarted mid-commit).

A record the database refuses for another reason than a storage fault (damaged file, a work
order the database does not know) is *held*: moved to ``held/`` with the reason and audited
as ``spool.held``, so it never blocks the queue. A storage fault ends the step with nothing
removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from inspector.errors import describe
from inspector.spool.faults import fault_text, is_storage_fault
from inspector.spool.folder import Spool
from inspector.spool.records import SpoolCorrupt, SpoolError, SpoolRecord
from inspector.store import convert
from inspector.store.tables import ExplanationRow, InspectionRow
from inspector.trace import _db
from inspector.trace.audit import Audit

STEP = 25  # records per transaction


@dataclass
class DrainReport:
    """What drain steps did (added up over steps by :meth:`add`)."""

    stored: int = 0  # inspections written to the database
    explanations: int = 0  # late explanations written
    already_stored: int = 0  # found in the database already (a drain cut short after its commit)
    held: int = 0  # moved to held/ (see ``inspector spool status``)
    remaining: int = 0  # still pending after the last step
    error: str = ""  # the storage fault that stopped draining, '' when none

    def add(self, other: DrainReport) -> None:
        self.stored += other.stored
        self.explanations += other.explanations
        self.already_stored += other.already_stored
        self.held += other.held
        self.remaining, self.error = other.remaining, other.error

    def summary(self) -> str:
        text = (f"stored {self.stored} spooled parts and {self.explanations} explanations "
                f"({self.already_stored} already stored, {self.held} held); {self.remaining} left in the spool")
        return text + (f"; stopped: {self.error}" if self.error else "")


def drain_step(store: Any, spool: Spool, actor: str, *, max_records: int = STEP) -> DrainReport:
    """Store the oldest pending records (one transaction). Never raises for a storage fault:
    ``report.error`` says it and the records stay. Raises :class:`SpoolError` when the spool
    folder itself cannot be used."""
    report = DrainReport()
    with spool.locked():
        batch: list[tuple[Path, SpoolRecord]] = []
        for path in spool.pending()[:max_records]:
            try:
                batch.append((path, spool.read(path)))
            except SpoolCorrupt as exc:
                _hold(store, spool, actor, path, str(exc), report)
        if batch:
            try:
                _commit(store, actor, batch, report)
                spool.remove([p for p, _ in batch])
            except Exception as exc:
                if is_storage_fault(exc):
                    report.error = fault_text(exc)
                    report.stored = report.explanations = report.already_stored = 0
                elif len(batch) == 1:
                    _hold(store, spool, actor, batch[0][0], describe(exc), report)
                else:  # someone in the batch is refused: one by one, so only that one is held
                    report = DrainReport(held=report.held)
                    for path, record in batch:
                        one = _one(store, spool, actor, path, record)
                        report.add(one)
                        if one.error:
                            break
        report.remaining = spool.count()
    return report


def _one(store: Any, spool: Spool, actor: str, path: Path, record: SpoolRecord) -> DrainReport:
    report = DrainReport()
    try:
        _commit(store, actor, [(path, record)], report)
        spool.remove([path])
    except Exception as exc:
        if is_storage_fault(exc):
            return DrainReport(error=fault_text(exc))
        _hold(store, spool, actor, path, describe(exc), report)
    return report


def _commit(store: Any, actor: str, batch: list[tuple[Path, SpoolRecord]], report: DrainReport) -> None:
    engine = _db.engine_of(store)
    audit = Audit(engine)
    ids = {r.inspection_id for _, r in batch}
    with _db.write_session(engine) as s:
        conn = s.connection()
        stored = set(conn.scalars(select(InspectionRow.id).where(InspectionRow.id.in_(ids))))
        for path, rec in batch:
            if rec.kind == "inspection":
                if rec.inspection_id in stored:
                    report.already_stored += 1
                    continue
                insp = rec.inspection
                if insp is None:
                    raise SpoolCorrupt(f"{path.name}: an inspection record without its inspection")
                sha = store.images.put_bytes(rec.image, rec.image_ext)  # the same bytes: the same name
                if insp.image_sha256 and insp.image_sha256 != sha:
                    raise SpoolCorrupt(f"{path.name}: image bytes hash to {sha}, the record names "
                                       f"{insp.image_sha256}")
                insp.image_sha256 = sha
                store.save_inspections_in(s, [insp])
                stored.add(rec.inspection_id)
                audit.append_in(s, actor, "inspection.spooled", "inspection", rec.inspection_id, None,
                                {"spooled_at": rec.spooled_at.isoformat(), "fault": rec.fault[:500],
                                 "station": rec.station, "record": path.name})
                report.stored += 1
            elif _explanation(conn, rec, stored):
                report.explanations += 1
            else:
                report.already_stored += 1
        audit.append_in(s, actor, "spool.drained", "spool", batch[0][1].station, None,
                        {"parts": report.stored, "explanations": report.explanations,
                         "already_stored": report.already_stored, "first": batch[0][0].name,
                         "last": batch[-1][0].name})


def _explanation(conn: Any, rec: SpoolRecord, stored: set[str]) -> bool:
    """Insert a late explanation unless the same one is stored already. False when it was."""
    e = rec.explanation
    if e is None:
        raise SpoolCorrupt(f"explanation record of {rec.inspection_id} holds no explanation")
    if rec.inspection_id not in stored:
        raise SpoolError(f"explanation of inspection {rec.inspection_id}: that inspection is not stored "
                         "(held or never spooled)")
    same = conn.execute(select(ExplanationRow.id).where(
        ExplanationRow.inspection_id == rec.inspection_id, ExplanationRow.text == e.text,
        ExplanationRow.generator == e.generator)).first()
    if same is not None:
        return False
    conn.execute(insert(ExplanationRow), [convert.explanation_values(rec.inspection_id, e,
                                                                      rec.explained_at or rec.spooled_at)])
    return True


def _hold(store: Any, spool: Spool, actor: str, path: Path, reason: str, report: DrainReport) -> None:
    """Move a refused record to held/ and audit it (the audit is best effort: storage may be down)."""
    spool.hold(path, reason)
    report.held += 1
    try:
        Audit(_db.engine_of(store)).append(actor, "spool.held", "spool", path.name, None, {"reason": reason[:500]})
    except Exception:  # the record is held either way; the reason file beside it says why
        pass
