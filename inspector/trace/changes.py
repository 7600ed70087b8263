"""Changes to what the station inspects against, each committed with its audit event.

Loading a work order (``workorder.loaded``) and registering a teach (``model.taught``, plus
``threshold.changed`` when the part's limits moved) commit in ONE transaction with their
audit events, or not at all: the same pattern as a signed review and its ``review.decided``
(``inspector.trace.signing``). The facade runs these on its writer thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from inspector.domain import User, WorkOrder
from inspector.store.catalog import reference_in, save_reference_in, save_work_order_in, with_version_retries
from inspector.store.records import TaughtReference
from inspector.store.tables import ReferenceRow, WorkOrderRow
from inspector.trace import _db
from inspector.trace.audit import Audit, actor_name
from inspector.trace.records import row_digest
from inspector.trace.statecheck import reference_files_digest

if TYPE_CHECKING:
    from inspector.model.base import TeachResult


def record_work_order(store: Any, wo: WorkOrder, actor: str | User | None) -> int:
    """Store a loaded work order (a new version if its content changed) and audit the load.

    Returns the stored version (1, 2, ...). Every load is audited, also one that finds the
    content unchanged (the event then names the existing version).
    """
    engine = _db.engine_of(store)
    audit = Audit(engine)
    after = {"part": wo.part_number, "lot": wo.lot, "clauses": len(wo.clauses)}

    def once() -> int:
        with _db.write_session(engine) as s:
            version = save_work_order_in(s, wo, actor_name(actor))
            row = s.execute(select(WorkOrderRow.__table__).where(
                WorkOrderRow.order_id == wo.order_id, WorkOrderRow.version == version)).mappings().one()
            audit.append_in(s, actor, "workorder.loaded", "work_order", wo.order_id, None,
                            {"version": version, **after, "content_sha256": row["content_sha256"],
                             "row_sha256": row_digest(row)})  # verify: the clauses judged against are these
            return version

    return with_version_retries(once)


def record_teach(store: Any, result: TeachResult, weights_hash: str, actor: str | User | None, *,
                 target_false_reject: float) -> TaughtReference:
    """Register a teach as its part's next reference version and audit it in the same transaction.

    ``model.taught`` carries the previous reference (None for a first teach) and the new one;
    a re-teach that moved the threshold or the review band also records ``threshold.changed``.
    """
    engine = _db.engine_of(store)
    audit = Audit(engine)
    part = result.part_number
    files = reference_files_digest(result.path) if getattr(result, "path", None) else None

    def once() -> TaughtReference:
        with _db.write_session(engine) as s:
            prev = reference_in(s, part)
            before = None if prev is None else {"version": prev.version, "threshold": prev.threshold,
                                                "review_low": prev.review_low, "n_good": prev.n_good}
            ref = save_reference_in(s, result, weights_hash, actor_name(actor))
            after = {"version": ref.version, "n_good": result.n_good, "threshold": result.threshold,
                     "review_low": result.review_low, "examples": result.n_examples, "template": result.template}
            if result.miss_estimate:  # what the QE was told the threshold lets through
                after.update({k: result.miss_estimate[k] for k in ("estimated_miss", "estimated_not_rejected")})
            row = s.execute(select(ReferenceRow.__table__).where(
                ReferenceRow.part_number == part, ReferenceRow.version == ref.version)).mappings().one()
            after.update(row_sha256=row_digest(row), files_sha256=files)  # verify: thresholds and files on disk
            audit.append_in(s, actor, "model.taught", "part", part, before, after)
            if prev is not None and (prev.threshold, prev.review_low) != (result.threshold, result.review_low):
                audit.append_in(s, actor, "threshold.changed", "part", part,
                                {"threshold": prev.threshold, "review_low": prev.review_low},
                                {"threshold": result.threshold, "review_low": result.review_low,
                                 "target_false_reject": target_false_reject})
            return ref

    return with_version_retries(once)
