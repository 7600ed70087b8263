"""The JSON the MQTT plugin publishes: one verdict per part, and the station's status.

Both are plain JSON objects (UTF-8, keys sorted) with ``schema`` 1. A result carries the
inspection id as its unique key: a consumer that stores results keyed by it never counts a
part twice, whatever the network did (QoS 1 is at least once).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from inspector.domain import Inspection

SCHEMA = 1


def dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def finding_data(f: Any) -> dict[str, Any]:
    r = f.region
    return {"defect_type": f.defect_type, "type_score": _num(f.type_score), "length_mm": _num(f.length_mm),
            "width_mm": _num(f.width_mm), "area_mm2": _num(f.area_mm2), "diameter_mm": _num(f.diameter_mm),
            "box_px": list(r.box), "area_px": _num(r.area_px), "length_px": _num(r.length_px),
            "width_px": _num(r.width_px), "score": _num(r.score), "zones": list(r.zones),
            "uncertain": bool(f.uncertain), "type_uncertain": bool(f.type_uncertain)}


def result_data(insp: Inspection, run_id: str = "") -> dict[str, Any]:
    """One part's verdict as the MES reads it (no images, no outlines)."""
    m = insp.model
    return {
        "schema": SCHEMA,
        "inspection_id": insp.id,
        "part_id": getattr(insp, "part_id", "") or "",
        "station": insp.station,
        "run_id": run_id,
        "order_id": insp.order_id,
        "work_order_version": insp.work_order_version,
        "part_number": insp.part_number,
        "lot": insp.lot,
        "frame_name": insp.frame_name,
        "verdict": insp.verdict.kind.value,
        "clause_ids": list(insp.verdict.clause_ids),
        "reasons": list(insp.verdict.reasons),
        "findings": [finding_data(f) for f in insp.findings],
        "image_sha256": insp.image_sha256,
        "image_size": list(insp.image_size),
        "pixel_size_mm": _num(insp.pixel_size_mm),
        "image_score": _num(insp.image_score),
        "model": {"name": m.name, "version": m.version, "weights_hash": m.weights_hash, "device": m.device},
        "timings_ms": {k: _num(v) for k, v in sorted(insp.timings_ms.items())},
        "captured_at": insp.captured_at.isoformat(),
        "inspected_at": insp.inspected_at.isoformat(),
        "operator": insp.operator,
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
