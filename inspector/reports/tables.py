"""Export tables: the one definition of every column (name, type, unit, meaning) and the row
builders. docs/exports.md documents exactly these columns (a test keeps the two in sync).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from inspector.domain import Inspection, Outcome, Review

from .final import final_verdict
from .outcomes import finding_outcomes


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # string | int | float | bool | datetime | json
    unit: str = ""
    doc: str = ""


def _c(name: str, type_: str, unit: str = "", doc: str = "") -> Column:
    return Column(name, type_, unit, doc)


COLUMNS: dict[str, tuple[Column, ...]] = {
    "inspections": (
        _c("inspection_id", "string", "", "unique id of the inspection (uuid4 hex)"),
        _c("order_id", "string", "", "work order"),
        _c("work_order_version", "int", "", "version of the work order the part was judged with; empty if unknown"),
        _c("part_number", "string", "", "part number of the work order"),
        _c("lot", "string", "", "production lot"),
        _c("part_id", "string", "", "the part's id: read from a code, given by the trigger or "
                                     "<order>-<lot>-<sequence>; empty for records from before part ids"),
        _c("frame_name", "string", "", "image file name or video frame the part was judged on"),
        _c("source", "string", "", "frame source, e.g. folder:/line3/in"),
        _c("station", "string", "", "station name that inspected the part"),
        _c("operator", "string", "", "user name of the operator; empty when none"),
        _c("captured_at", "datetime", "UTC", "when the image was taken"),
        _c("inspected_at", "datetime", "UTC", "when the verdict was made"),
        _c("verdict", "string", "", "machine verdict: OK, NG or REVIEW (never changed by reviews)"),
        _c("final_decision", "string", "", "latest review decision: accept, reject, rework; empty if not reviewed"),
        _c("final_verdict", "string", "", "shipped verdict: the latest signed disposition wins (accept OK, reject NG, "
           "rework REWORK), else the machine verdict"),
        _c("n_reviews", "int", "count", "reviews (signatures) recorded for the inspection"),
        _c("image_score", "float", "× threshold", "peak anomaly score, threshold-normalised (1.0 = threshold)"),
        _c("n_findings", "int", "count", "regions above threshold"),
        _c("defect_types", "string", "", "distinct defect types of the findings, ';'-separated, in finding order"),
        _c("clause_ids", "string", "", "clauses that failed or need review, ';'-separated, e.g. §2;§3"),
        _c("reasons", "string", "", "the sentences that decided the verdict, joined with ' | '"),
        _c("image_sha256", "string", "", "content hash of the image in the image store"),
        _c("image_width_px", "int", "px", "image width"),
        _c("image_height_px", "int", "px", "image height"),
        _c("pixel_size_mm", "float", "mm/px", "camera scale; empty when unknown"),
        _c("model_name", "string", "", "model that judged the part"),
        _c("model_version", "string", "", "its version"),
        _c("model_weights_hash", "string", "", "sha256 of the weights manifest"),
        _c("model_device", "string", "", "cpu, cuda, ..."),
        _c("explanation", "string", "", "written explanation (NG/REVIEW parts); empty when none"),
        _c("explanation_fallback", "bool", "", "true when the template sentence replaced generated text; empty when no explanation"),
        _c("explanation_generator", "string", "", "what wrote the explanation, e.g. template"),
        _c("total_ms", "float", "ms", "sum of the recorded timings"),
        _c("thresholds_json", "json", "", "thresholds used, JSON object (raw score units)"),
        _c("timings_json", "json", "ms", "per-stage timings, JSON object"),
    ),
    "findings": (
        _c("inspection_id", "string", "", "the inspection (joins inspections.inspection_id)"),
        _c("order_id", "string", "", "work order"),
        _c("lot", "string", "", "production lot"),
        _c("inspected_at", "datetime", "UTC", "when the part was inspected"),
        _c("verdict", "string", "", "machine verdict of the part"),
        _c("finding_index", "int", "", "0-based position in the inspection's findings (as in checks)"),
        _c("defect_type", "string", "", "canonical type word or 'unknown'"),
        _c("type_score", "float", "0..1", "calibrated similarity to the type"),
        _c("type_uncertain", "bool", "", "type similarity too low to trust"),
        _c("uncertain", "bool", "", "anomaly score inside the REVIEW band"),
        _c("outcome", "string", "", "worst clause outcome: fail, review, pass, none (not checked)"),
        _c("clause_ids", "string", "", "clauses checked against this finding, ';'-separated"),
        _c("length_mm", "float", "mm", "longest side of the minimum-area rectangle"),
        _c("width_mm", "float", "mm", "shortest side of it"),
        _c("area_mm2", "float", "mm²", "region area"),
        _c("diameter_mm", "float", "mm", "equivalent circle diameter"),
        _c("score", "float", "× threshold", "peak anomaly score in the region"),
        _c("box_x_px", "int", "px", "bounding box left"),
        _c("box_y_px", "int", "px", "bounding box top"),
        _c("box_w_px", "int", "px", "bounding box width"),
        _c("box_h_px", "int", "px", "bounding box height"),
        _c("area_px", "float", "px²", "region area in pixels"),
        _c("length_px", "float", "px", "length in pixels"),
        _c("width_px", "float", "px", "width in pixels"),
        _c("zones", "string", "", "work-order zones the region touches, ';'-separated"),
    ),
    "reviews": (
        _c("review_id", "int", "", "store id; empty when the source has none"),
        _c("inspection_id", "string", "", "the reviewed inspection"),
        _c("order_id", "string", "", "work order"),
        _c("lot", "string", "", "production lot"),
        _c("machine_verdict", "string", "", "verdict of the inspection that was reviewed"),
        _c("decision", "string", "", "accept, reject or rework"),
        _c("reason_code", "string", "", "site reason code, e.g. R-SCRAP"),
        _c("comment", "string", "", "reviewer's free text"),
        _c("reviewer", "string", "", "user name"),
        _c("reviewer_name", "string", "", "printed name of the e-signature"),
        _c("decided_at", "datetime", "UTC", "time of signing"),
        _c("signature_meaning", "string", "", "what the signature means"),
    ),
    "checks": (
        _c("inspection_id", "string", "", "the inspection"),
        _c("order_id", "string", "", "work order"),
        _c("clause_id", "string", "", "clause of the work order, e.g. §2"),
        _c("finding_index", "int", "", "0-based finding; empty for whole-part checks"),
        _c("outcome", "string", "", "pass, fail or review"),
        _c("measure", "string", "", "length, width, area, diameter, depth or count"),
        _c("measured", "float", "unit column"),
        _c("limit", "float", "unit column"),
        _c("unit", "string", "", "mm, mm2 or count"),
        _c("reason", "string", "", "the human sentence"),
    ),
}
TABLES = tuple(COLUMNS)
DEFAULT_TABLES = ("inspections", "findings", "reviews")


def _j(items) -> str:
    return ";".join(items)


def inspection_row(i: Inspection, reviews: list[Review]) -> dict[str, Any]:
    ex = i.explanation
    fv = final_verdict(i, reviews)
    seen: dict[str, None] = {}
    for f in i.findings:
        seen.setdefault(f.defect_type, None)
    return {
        "inspection_id": i.id, "order_id": i.order_id, "work_order_version": i.work_order_version,
        "part_number": i.part_number, "lot": i.lot,
        "part_id": i.part_id, "frame_name": i.frame_name, "source": i.source, "station": i.station, "operator": i.operator,
        "captured_at": i.captured_at, "inspected_at": i.inspected_at, "verdict": i.verdict.kind.value,
        "final_decision": fv.disposition.decision.value if fv.disposition else "",
        "final_verdict": fv.kind.value, "n_reviews": len(reviews),
        "image_score": i.image_score, "n_findings": len(i.findings), "defect_types": _j(seen),
        "clause_ids": _j(i.verdict.clause_ids), "reasons": " | ".join(i.verdict.reasons),
        "image_sha256": i.image_sha256, "image_width_px": i.image_size[0], "image_height_px": i.image_size[1],
        "pixel_size_mm": i.pixel_size_mm, "model_name": i.model.name, "model_version": i.model.version,
        "model_weights_hash": i.model.weights_hash, "model_device": i.model.device,
        "explanation": ex.text if ex else "", "explanation_fallback": ex.fallback if ex else None,
        "explanation_generator": ex.generator if ex else "", "total_ms": float(sum(i.timings_ms.values())),
        "thresholds_json": json.dumps(i.thresholds, sort_keys=True),
        "timings_json": json.dumps(i.timings_ms, sort_keys=True),
    }


def finding_rows(i: Inspection) -> Iterator[dict[str, Any]]:
    outcomes = finding_outcomes(i.findings, i.verdict)
    for k, f in enumerate(i.findings):
        clauses: dict[str, None] = {}
        for c in i.verdict.checks:
            if c.finding_index == k:
                clauses.setdefault(c.clause_id, None)
        r = f.region
        yield {
            "inspection_id": i.id, "order_id": i.order_id, "lot": i.lot, "inspected_at": i.inspected_at,
            "verdict": i.verdict.kind.value, "finding_index": k, "defect_type": f.defect_type,
            "type_score": f.type_score, "type_uncertain": f.type_uncertain, "uncertain": f.uncertain,
            "outcome": outcomes[k], "clause_ids": _j(clauses), "length_mm": f.length_mm,
            "width_mm": f.width_mm, "area_mm2": f.area_mm2, "diameter_mm": f.diameter_mm, "score": r.score,
            "box_x_px": r.box[0], "box_y_px": r.box[1], "box_w_px": r.box[2], "box_h_px": r.box[3],
            "area_px": r.area_px, "length_px": r.length_px, "width_px": r.width_px, "zones": _j(r.zones),
        }


def review_rows(i: Inspection, reviews: list[Review]) -> Iterator[dict[str, Any]]:
    for r in reviews:
        yield {
            "review_id": r.id, "inspection_id": i.id, "order_id": i.order_id, "lot": i.lot,
            "machine_verdict": i.verdict.kind.value, "decision": r.decision.value, "reason_code": r.reason_code,
            "comment": r.comment, "reviewer": r.reviewer, "reviewer_name": r.reviewer_name,
            "decided_at": r.decided_at, "signature_meaning": r.signature_meaning,
        }


def check_rows(i: Inspection) -> Iterator[dict[str, Any]]:
    for c in i.verdict.checks:
        yield {
            "inspection_id": i.id, "order_id": i.order_id, "clause_id": c.clause_id,
            "finding_index": c.finding_index, "outcome": Outcome(c.outcome).value, "measure": c.measure or "",
            "measured": c.measured, "limit": c.limit, "unit": c.unit or "", "reason": c.reason,
        }


def rows_for(table: str, i: Inspection, reviews: list[Review]) -> Iterator[dict[str, Any]]:
    if table == "inspections":
        yield inspection_row(i, reviews)
    elif table == "findings":
        yield from finding_rows(i)
    elif table == "reviews":
        yield from review_rows(i, reviews)
    elif table == "checks":
        yield from check_rows(i)
    else:  # pragma: no cover - callers validate names
        raise KeyError(table)
