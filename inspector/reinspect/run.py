"""Re-judging stored parts: choose the order version, run the engine, build the plan, apply it.

* :func:`resolve_work_order`: the order version to judge with (latest, a stored version number,
  or a file: a new revision is only parsed for a dry run and stored when applied).
* :func:`build_plan`: every *current* record of the order (and lot) is re-judged from its stored
  image by an engine (``engines``); nothing is written. A record already judged with this order
  version, model and reference is "current" and gets no new record, so re-running is idempotent.
* :func:`apply_plan`: writes the plan's new records, each linked to the record it re-judges
  (``reinspects_id``) and audited (``inspection.rejudged``) in the same transaction, in batches
  through one writer; the run is audited as ``reinspect.applied``. A record that another run
  re-judged first is skipped and reported (the unique link also refuses it in the database).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from inspector.domain import Inspection, WorkOrder, utcnow
from inspector.reinspect.plan import (
    CHANGED,
    CURRENT,
    ERROR,
    SAME,
    ApplyResult,
    ReinspectError,
    RejudgePlan,
    RejudgeRow,
    decided_by,
)
from inspector.reinspect.work import PartImage, Rejudged
from inspector.sources import ImageLimits
from inspector.store.errors import ImageAlteredError

Progress = Callable[[int, int, str], None]


def resolve_work_order(store: Any, order_id: str, given: str | Path | None = None) -> tuple[WorkOrder, int | None]:
    """(work order, stored version) to re-judge with. ``given``: None (the latest stored version),
    a version number ('3' or 'v3'), or a work-order file of the same order: its stored version when
    its content was loaded before, else None (a new revision, stored by ``apply_plan``)."""
    from inspector.store import convert

    try:
        latest = store.get_work_order(order_id)
    except LookupError:
        raise ReinspectError(f"work order {order_id!r} is not in the database: nothing stored to re-judge") from None
    text = str(given).strip() if given is not None else ""
    if not text:
        return latest, latest.version
    number = text[1:] if text[:1] in "vV" else text
    if number.isdigit():
        try:
            wo = store.get_work_order(order_id, version=int(number))
        except LookupError:
            raise ReinspectError(f"work order {order_id} has no version {number} (latest: {latest.version}; "
                                 "`inspector workorder show` lists them)") from None
        return wo, wo.version
    path = Path(text).expanduser()
    if not path.is_file():
        raise ReinspectError(f"--workorder {text!r}: neither a version number of {order_id} nor a work-order file")
    from inspector.workorder import load_work_order

    wo = load_work_order(path)  # WorkOrderError (typed) names the line and the problem
    if wo.order_id != order_id:
        raise ReinspectError(f"{path} is work order {wo.order_id!r}, not {order_id!r}: re-judging applies a new "
                             "revision of the same order")
    sha = convert.work_order_sha256(wo)
    for rec in store.list_work_orders(all_versions=True):
        if rec.order_id == order_id and rec.content_sha256 == sha:
            return wo, rec.version
    return wo, None


def disposition_of(store: Any, inspection_id: str) -> str:
    """The latest signed disposition over the part's re-judge chain, as text ('' when none)."""
    reviews = [r for x in (inspection_id, *store.rejudge_chain(inspection_id)) for r in store.reviews_for(x)]
    if not reviews:
        return ""
    r = max(reviews, key=lambda v: (v.decided_at, v.id or 0))
    return f"{r.decision.value} by {r.reviewer_name or r.reviewer} ({r.reason_code})"


def _row(insp: Inspection) -> RejudgeRow:
    clause, reason = decided_by(insp.verdict)
    return RejudgeRow(insp.id, insp.frame_name, getattr(insp, "part_id", "") or "", insp.inspected_at,
                      insp.verdict.kind, clause, reason, insp.work_order_version)


def _same_judge(orig: Inspection, res: Rejudged, version: int | None) -> bool:
    """Judged before with this order version, model and reference (thresholds): nothing new."""
    m, n = orig.model, res.model
    return (version is not None and orig.work_order_version == version and n is not None
            and (m.name, m.version, m.weights_hash) == (n.name, n.version, n.weights_hash)
            and dict(orig.thresholds) == dict(res.thresholds))


def _fill(row: RejudgeRow, orig: Inspection, res: Rejudged, wo: WorkOrder, version: int | None, actor: str) -> None:
    row.worker = res.worker
    if res.error or res.verdict is None or res.model is None:
        row.status, row.error = ERROR, res.error or "no verdict"
        return
    row.new = res.verdict.kind
    row.new_clause, row.new_reason = decided_by(res.verdict)
    if _same_judge(orig, res, version):
        row.status = CURRENT
        return
    row.status = CHANGED if row.new is not row.old else SAME
    row.record = Inspection(
        id=uuid.uuid4().hex, order_id=orig.order_id, part_number=orig.part_number, lot=orig.lot,
        image_sha256=orig.image_sha256, source=orig.source, frame_name=orig.frame_name, station=orig.station,
        captured_at=orig.captured_at, inspected_at=utcnow(), model=res.model, thresholds=dict(res.thresholds),
        image_score=res.image_score, findings=list(res.findings), verdict=res.verdict, image_size=res.image_size,
        pixel_size_mm=wo.pixel_size_mm, explanation=res.explanation, timings_ms=dict(res.timings_ms),
        operator=actor, work_order_version=version, reinspects_id=orig.id)
    if hasattr(row.record, "part_id"):
        row.record.part_id = getattr(orig, "part_id", "") or ""


def _warm_up_part(store: Any, order_id: str, lot: str | None) -> PartImage | None:
    """A stored part with findings (it exercises the whole model on a worker's first pass), if any."""
    for insp in store.query_inspections(order_id=order_id, lot=lot, flagged_only=True, current_only=True, limit=3):
        if insp.findings:
            try:
                data = store.images.read_bytes(insp.image_sha256)
            except (OSError, LookupError, ValueError):
                continue
            return PartImage("warm-up", data, insp.frame_name, insp.source, insp.captured_at)
    return None


def build_plan(store: Any, order_id: str, work_order: WorkOrder, version: int | None, engine: Any, *,
               lot: str | None = None, limits: ImageLimits | None = None, actor: str = "",
               progress: Progress | None = None, cancel: Callable[[], bool] | None = None) -> RejudgePlan:
    """Re-judge every current record of ``order_id`` (and ``lot``) on ``engine``; writes nothing.

    Raises ``ReinspectError`` when there is nothing to re-judge; ``Cancelled`` from ``progress``
    stops the run. A part whose stored image is missing or no longer matches its hash, or that
    the model fails on, is a row with status 'error' (never re-judged from other pixels).
    """
    total = store.count_inspections(order_id=order_id, lot=lot, current_only=True)
    if total == 0:
        raise ReinspectError(f"no stored inspections of work order {order_id}{' lot ' + lot if lot else ''}")
    originals: dict[str, Inspection] = {}
    rows: dict[str, RejudgeRow] = {}

    def items() -> Iterator[PartImage]:
        for insp in store.iter_inspections(order_id=order_id, lot=lot, current_only=True, newest_first=False):
            originals[insp.id], rows[insp.id] = insp, _row(insp)
            rows[insp.id].disposition = disposition_of(store, insp.id)
            if insp.part_number != work_order.part_number:
                rows[insp.id].error = (f"part {insp.part_number} was inspected, the work order is for "
                                       f"{work_order.part_number}")
                continue
            try:
                data = store.images.read_bytes(insp.image_sha256)  # hashed on read
            except ImageAlteredError:
                rows[insp.id].error = "stored image altered (its sha256 no longer matches the record): not re-judged"
                continue
            except (OSError, LookupError, ValueError) as exc:
                rows[insp.id].error = f"stored image missing: {exc}"
                continue
            if hashlib.sha256(data).hexdigest() != insp.image_sha256:
                rows[insp.id].error = "stored image altered (its sha256 no longer matches the record): not re-judged"
                continue
            yield PartImage(insp.id, data, insp.frame_name, insp.source, insp.captured_at)

    t0, done, per_worker = time.perf_counter(), 0, Counter()
    for res in engine.run(items(), work_order, limits, cancel, warm=_warm_up_part(store, order_id, lot)):
        _fill(rows[res.key], originals[res.key], res, work_order, version, actor)
        per_worker[res.worker] += 1
        done += 1
        if progress is not None:
            progress(done, total, f"re-judged {done} of {total} parts")
    seconds = time.perf_counter() - t0
    model = next((r.record.model for r in rows.values() if r.record is not None), None)
    model = model or next((originals[k].model for k, r in rows.items() if r.status == CURRENT), None)
    return RejudgePlan(order_id, lot, work_order, version, model, engine.name, engine.workers,
                       list(rows.values()), seconds, getattr(engine, "load_s", 0.0), uuid.uuid4().hex, per_worker)


def apply_plan(store: Any, plan: RejudgePlan, actor: str, *, write: Callable[..., Any] | None = None,
               batch: int = 200, progress: Progress | None = None) -> ApplyResult:
    """Write the plan's new records (see the module docstring). ``write(fn, *args)`` runs each
    database transaction (the facade passes its single writer thread); default: directly."""
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError

    from inspector.store.tables import InspectionRow
    from inspector.trace import Audit, _db
    from inspector.trace.changes import record_work_order

    write = write or (lambda fn, *a: fn(*a))
    version = plan.work_order_version
    if version is None:  # a new revision given as a file: stored (and audited) now
        version = write(record_work_order, store, plan.work_order, actor)
    audit, engine = Audit(store), _db.engine_of(store)
    result = ApplyResult(plan.run_id, int(version))
    rows = plan.to_write

    def one_batch(chunk: list[RejudgeRow]) -> tuple[list[str], list[str]]:
        with _db.write_session(engine) as s:
            col = InspectionRow.reinspects_id
            taken = set(s.scalars(select(col).where(col.in_([r.original_id for r in chunk]))))
            fresh = [r for r in chunk if r.original_id not in taken]
            for r in fresh:
                r.record.work_order_version = version
            store.save_inspections_in(s, [r.record for r in fresh])
            for r in fresh:
                rec = r.record
                audit.append_in(s, actor, "inspection.rejudged", "inspection", rec.id,
                                {"inspection": r.original_id, "verdict": r.old.value, "clause": r.old_clause,
                                 "work_order_version": r.old_version},
                                {"verdict": rec.verdict.kind.value, "clause": r.new_clause,
                                 "work_order_version": version, "reinspects": r.original_id,
                                 "model": f"{rec.model.name} {rec.model.version} {rec.model.weights_hash}",
                                 "thresholds": rec.thresholds, "run": plan.run_id})
            return [r.record.id for r in fresh], sorted(taken)

    for start in range(0, len(rows), batch):
        try:
            written, taken = write(one_batch, rows[start:start + batch])
        except IntegrityError as exc:
            raise ReinspectError("another re-judge wrote some of these parts at the same moment; nothing of this "
                                 f"batch was written: run it again (parts re-judged meanwhile are skipped): {exc.orig}"
                                 ) from exc
        result.written += written
        result.already_rejudged += taken
        if progress is not None:
            progress(min(start + batch, len(rows)), len(rows), f"wrote {len(result.written)} new records")
    summary = plan.summary()
    write(audit.append, actor, "reinspect.applied", "work_order", plan.order_id, None,
          {"run": plan.run_id, "lot": plan.lot, "work_order_version": version, "written": len(result.written),
           "already_rejudged": len(result.already_rejudged), "changes": summary["changes"],
           "parts": summary["parts"], "current": summary["current"], "errors": summary["errors"],
           "engine": plan.engine, "workers": plan.workers})
    return result


__all__ = ["CHANGED", "CURRENT", "ERROR", "SAME", "apply_plan", "build_plan", "disposition_of", "resolve_work_order"]
