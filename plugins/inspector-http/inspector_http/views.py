"""What the HTTP API returns: one JSON object per inspection, the line's state for /health.

A result has the fields of the MQTT plugin's result message (part id, order, lot, verdict,
clause ids, findings with sizes, image hash, model, timings) plus the final verdict after
review and the explanation text.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from inspector.domain import Inspection, utcnow
from inspector.events import LineStarted, LineStopped, PartFailed, PartStored


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def finding_json(f: Any) -> dict[str, Any]:
    r = f.region
    return {"defect_type": f.defect_type, "type_score": _num(f.type_score), "length_mm": _num(f.length_mm),
            "width_mm": _num(f.width_mm), "area_mm2": _num(f.area_mm2), "diameter_mm": _num(f.diameter_mm),
            "box_px": list(r.box), "area_px": _num(r.area_px), "score": _num(r.score), "zones": list(r.zones),
            "uncertain": bool(f.uncertain)}


def result_json(insp: Inspection, final: Any = None) -> dict[str, Any]:
    m = insp.model
    return {
        "inspection_id": insp.id,
        "part_id": getattr(insp, "part_id", "") or "",
        "station": insp.station,
        "order_id": insp.order_id,
        "work_order_version": insp.work_order_version,
        "part_number": insp.part_number,
        "lot": insp.lot,
        "frame_name": insp.frame_name,
        "verdict": insp.verdict.kind.value,
        "final_verdict": final.kind.value if final is not None else insp.verdict.kind.value,
        "clause_ids": list(insp.verdict.clause_ids),
        "reasons": list(insp.verdict.reasons),
        "findings": [finding_json(f) for f in insp.findings],
        "image_sha256": insp.image_sha256,
        "image_score": _num(insp.image_score),
        "model": {"name": m.name, "version": m.version, "weights_hash": m.weights_hash},
        "timings_ms": {k: _num(v) for k, v in sorted(insp.timings_ms.items())},
        "captured_at": insp.captured_at.isoformat(),
        "inspected_at": insp.inspected_at.isoformat(),
        "explanation": insp.explanation.text if insp.explanation is not None else "",
    }


class LineState:
    """The running line as the events tell it (the plugin's bus thread writes, requests read)."""

    def __init__(self, station: str):
        self._lock = threading.Lock()
        self.data: dict[str, Any] = {"station": station, "line": "idle", "run_id": "", "order_id": "", "lot": "",
                                     "parts": 0, "failed": 0, "last_part_at": None, "started_at": utcnow().isoformat()}

    def hear(self, event: Any) -> None:
        with self._lock:
            if isinstance(event, LineStarted):
                self.data.update(line="running", run_id=event.run_id, order_id=event.order_id, parts=0, failed=0)
            elif isinstance(event, PartStored):
                insp = event.inspection
                self.data.update(parts=self.data["parts"] + 1, last_part_at=insp.inspected_at.isoformat(),
                                 order_id=insp.order_id, lot=insp.lot)
            elif isinstance(event, PartFailed):
                self.data["failed"] += 1
            elif isinstance(event, LineStopped):
                self.data["line"] = "idle"

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return dict(self.data)
