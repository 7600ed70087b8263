"""Archive re-inspection: re-judge stored parts with a new work-order revision or model/reference.

``inspector reinspect`` and the app's "Re-judge lot..." use it through the facade
(``Inspector.rejudge_plan`` / ``rejudge_apply``). The stored images are analysed again with the
station's own verdict path (``inspector.judging``), here or on Dask workers (``engines``); a dry
run shows the before/after table (``plan``); applying writes new records linked to the ones they
re-judge, audited, never changing an original (``run``). See docs/reliability.md.
"""

from __future__ import annotations

from inspector.reinspect.engines import DaskEngine, LocalEngine
from inspector.reinspect.plan import ApplyResult, ReinspectError, RejudgePlan, RejudgeRow, decided_by
from inspector.reinspect.run import apply_plan, build_plan, disposition_of, resolve_work_order
from inspector.reinspect.work import BackendSpec, PartImage, Rejudged, rejudge_image

__all__ = ["ApplyResult", "BackendSpec", "DaskEngine", "LocalEngine", "PartImage", "RejudgePlan", "RejudgeRow",
           "Rejudged", "ReinspectError", "apply_plan", "build_plan", "decided_by", "disposition_of",
           "rejudge_image", "resolve_work_order"]
