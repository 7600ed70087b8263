"""Domain objects <-> table rows. Rows never leave the store; callers get domain objects."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from inspector.canonical import digest
from inspector.domain import (
    Decision,
    Explanation,
    Finding,
    Inspection,
    ModelInfo,
    Region,
    Review,
    VerdictKind,
    WorkOrder,
    Zone,
    clause_from_data,
    to_data,
    verdict_from_data,
)
from inspector.store.db import check_finite
from inspector.store.errors import StoreError
from inspector.store.records import TaughtReference, WorkOrderRecord
from inspector.store.tables import (
    ReferenceRow,
    ReviewRow,
    WorkOrderRow,
)

_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def _opt_float(v: Any) -> float | None:
    return None if v is None else float(v)


def _aware(what: str, value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(
            f"{what} = {value!r} is not a timezone-aware datetime: use inspector.domain.utcnow()"
        )
    return value


# --- work orders --------------------------------------------------------------------------


def work_order_sha256(wo: WorkOrder) -> str:
    """sha256 of the order's canonical JSON (text and parsed clauses): equal content, equal hash.

    ``WorkOrder.version`` is not content (the store assigns it from this hash): left out."""
    return digest(wo, content_only=True)


def work_order_values(wo: WorkOrder, version: int, actor: str, at: datetime, sha: str) -> dict[str, Any]:
    if not wo.order_id or not wo.order_id.strip():
        raise StoreError("work order has an empty order_id: every order needs its id to be stored")
    return {
        "order_id": wo.order_id,
        "version": version,
        "part_number": wo.part_number,
        "lot": wo.lot,
        "quantity": wo.quantity,
        "pixel_size_mm": _opt_float(wo.pixel_size_mm),
        "customer": wo.customer,
        "revision": wo.revision,
        "header": to_data(wo.header),
        "source_format": wo.source_format,
        "source_text": wo.source_text,
        "clauses": to_data(wo.clauses),
        "zones": to_data(wo.zones),
        "content_sha256": sha,
        "loaded_at": at,
        "loaded_by": actor,
    }


def work_order_from_row(row: WorkOrderRow) -> WorkOrder:
    return WorkOrder(
        order_id=row.order_id,
        part_number=row.part_number,
        lot=row.lot,
        quantity=row.quantity,
        pixel_size_mm=row.pixel_size_mm,
        customer=row.customer,
        revision=row.revision,
        clauses=tuple(clause_from_data(c) for c in row.clauses),
        zones=tuple(Zone(name=z["name"], box=tuple(z["box"]), unit=z.get("unit", "mm"), label=z.get("label", ""))
                    for z in row.zones),
        header=dict(row.header),
        source_text=row.source_text,
        source_format=row.source_format,
        version=row.version,
    )


def work_order_record(row: WorkOrderRow) -> WorkOrderRecord:
    return WorkOrderRecord(
        order_id=row.order_id,
        version=row.version,
        part_number=row.part_number,
        lot=row.lot,
        quantity=row.quantity,
        loaded_at=row.loaded_at,
        loaded_by=row.loaded_by,
        content_sha256=row.content_sha256,
    )


# --- inspections --------------------------------------------------------------------------


def inspection_values(insp: Inspection, version: int, stored_at: datetime) -> dict[str, Any]:
    """Column values of an inspection row. Raises ``StoreError`` naming the bad field."""
    if not isinstance(insp.id, str) or not _ID_RE.match(insp.id):
        raise StoreError(f"inspection id {insp.id!r} is not a uuid4 hex (32 lowercase hex characters)")
    try:
        kind = VerdictKind(insp.verdict.kind)
    except ValueError as exc:
        raise StoreError(f"inspection {insp.id}: verdict {insp.verdict.kind!r} is not OK/NG/REVIEW") from exc
    w, h = insp.image_size
    values = {
        "id": insp.id,
        "order_id": insp.order_id,
        "work_order_version": version,
        "part_number": insp.part_number,
        "lot": insp.lot,
        "station": insp.station,
        "source": insp.source,
        "frame_name": insp.frame_name,
        "image_sha256": insp.image_sha256,
        "image_w": int(w),
        "image_h": int(h),
        "pixel_size_mm": _opt_float(insp.pixel_size_mm),
        "captured_at": insp.captured_at,
        "inspected_at": insp.inspected_at,
        "stored_at": stored_at,
        "model_name": insp.model.name,
        "model_version": insp.model.version,
        "weights_hash": insp.model.weights_hash,
        "device": insp.model.device,
        "thresholds": to_data(insp.thresholds),
        "image_score": float(insp.image_score),
        "verdict": kind.value,
        "reasons": to_data(insp.verdict.reasons),
        "clause_ids": list(insp.verdict.clause_ids),
        "checks": to_data(insp.verdict.checks),
        "timings_ms": to_data(insp.timings_ms),
        "operator": insp.operator,
        "n_findings": len(insp.findings),
        "reinspects_id": getattr(insp, "reinspects_id", None),
        "part_id": str(getattr(insp, "part_id", "") or ""),
    }
    _aware(f"inspection {insp.id}: captured_at", insp.captured_at)
    _aware(f"inspection {insp.id}: inspected_at", insp.inspected_at)
    check_finite(values, f"inspection {insp.id}")
    return values


def finding_values(inspection_id: str, idx: int, f: Finding) -> dict[str, Any]:
    r = f.region
    x, y, w, h = (int(v) for v in r.box)
    values = {
        "inspection_id": inspection_id,
        "idx": idx,
        "defect_type": f.defect_type,
        "type_score": float(f.type_score),
        "candidates": to_data(f.type_candidates),
        "box_x": x,
        "box_y": y,
        "box_w": w,
        "box_h": h,
        "contour": to_data(r.contour),
        "area_px": float(r.area_px),
        "length_px": float(r.length_px),
        "width_px": float(r.width_px),
        "length_mm": _opt_float(f.length_mm),
        "width_mm": _opt_float(f.width_mm),
        "area_mm2": _opt_float(f.area_mm2),
        "diameter_mm": _opt_float(f.diameter_mm),
        "score": float(r.score),
        "zones": list(r.zones),
        "uncertain": bool(f.uncertain),
        "type_uncertain": bool(f.type_uncertain),
    }
    check_finite(values, f"inspection {inspection_id} finding {idx}")
    return values


def finding_from_row(row: Any) -> Finding:
    """From a ``FindingRow`` or a Core row of ``findings`` (same attribute names)."""
    region = Region(
        box=(row.box_x, row.box_y, row.box_w, row.box_h),
        area_px=row.area_px,
        length_px=row.length_px,
        width_px=row.width_px,
        score=row.score,
        contour=tuple(tuple(p) for p in row.contour),
        zones=tuple(row.zones),
    )
    return Finding(
        region=region,
        defect_type=row.defect_type,
        type_score=row.type_score,
        type_candidates=tuple(tuple(c) for c in row.candidates),
        length_mm=row.length_mm,
        width_mm=row.width_mm,
        area_mm2=row.area_mm2,
        diameter_mm=row.diameter_mm,
        uncertain=row.uncertain,
        type_uncertain=row.type_uncertain,
    )


def inspection_from_row(row: Any, findings: list[Any], explanation: Any | None) -> Inspection:
    """From ORM or Core rows of ``inspections``, its ``findings`` and its latest explanation."""
    verdict = verdict_from_data({"kind": row.verdict, "checks": row.checks, "reasons": row.reasons})
    return Inspection(
        id=row.id,
        order_id=row.order_id,
        part_number=row.part_number,
        lot=row.lot,
        image_sha256=row.image_sha256,
        source=row.source,
        frame_name=row.frame_name,
        station=row.station,
        captured_at=row.captured_at,
        inspected_at=row.inspected_at,
        model=ModelInfo(
            name=row.model_name, version=row.model_version, weights_hash=row.weights_hash, device=row.device
        ),
        thresholds=dict(row.thresholds),
        image_score=row.image_score,
        findings=[finding_from_row(f) for f in sorted(findings, key=lambda f: f.idx)],
        verdict=verdict,
        image_size=(row.image_w, row.image_h),
        pixel_size_mm=row.pixel_size_mm,
        explanation=explanation_from_row(explanation) if explanation is not None else None,
        timings_ms=dict(row.timings_ms),
        operator=row.operator,
        work_order_version=row.work_order_version,
        reinspects_id=getattr(row, "reinspects_id", None),
        part_id=getattr(row, "part_id", "") or "",
    )


# --- explanations, reviews, references ----------------------------------------------------


def explanation_values(inspection_id: str, e: Explanation, at: datetime) -> dict[str, Any]:
    if not isinstance(e, Explanation):
        raise StoreError(f"expected an Explanation, got {type(e).__name__}")
    return {
        "inspection_id": inspection_id,
        "text": e.text,
        "fallback": bool(e.fallback),
        "generator": e.generator,
        "problems": list(e.problems),
        "created_at": at,
    }


def explanation_from_row(row: Any) -> Explanation:
    return Explanation(
        text=row.text, fallback=row.fallback, generator=row.generator, problems=tuple(row.problems)
    )


def review_values(r: Review, auth_method: str) -> dict[str, Any]:
    try:
        decision = Decision(r.decision)
    except ValueError as exc:
        raise StoreError(f"review decision {r.decision!r} is not one of accept/reject/rework") from exc
    if not r.reviewer:
        raise StoreError("a review needs the reviewer's username")
    values = {
        "inspection_id": r.inspection_id,
        "decision": decision.value,
        "reason_code": r.reason_code,
        "comment": r.comment,
        "reviewer": r.reviewer,
        "reviewer_name": r.reviewer_name,
        "signature_meaning": r.signature_meaning,
        "signed_at": r.decided_at,
        "auth_method": auth_method,
    }
    _aware("review decided_at", r.decided_at)
    return values


def review_from_row(row: ReviewRow) -> Review:
    return Review(
        inspection_id=row.inspection_id,
        decision=Decision(row.decision),
        reason_code=row.reason_code,
        comment=row.comment,
        reviewer=row.reviewer,
        reviewer_name=row.reviewer_name,
        decided_at=row.signed_at,
        signature_meaning=row.signature_meaning,
        id=row.id,
    )


def reference_from_row(row: ReferenceRow) -> TaughtReference:
    return TaughtReference(
        part_number=row.part_number,
        version=row.version,
        path=row.path,
        n_good=row.n_good,
        threshold=row.threshold,
        review_low=row.review_low,
        weights_hash=row.weights_hash,
        taught_at=row.taught_at,
        taught_by=row.taught_by,
    )
