"""What a worker does for one stored part: decode its image and judge it with the station's code.

:func:`rejudge_image` runs wherever the analysis runs (this process for the local engine, a
Dask worker for the distributed one). It calls :func:`inspector.judging.judge_frame`, the path
the station takes for a live part, and never touches the database: it returns a small
picklable :class:`Rejudged` for the client to record. Each worker builds its model backend once
(:class:`BackendSpec`; for Dask, ``engines.BackendPlugin`` keeps it on the worker).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from inspector.domain import Explanation, Finding, Frame, ModelInfo, Verdict, VerdictKind, WorkOrder
from inspector.errors import describe
from inspector.sources import ImageLimits


@dataclass(frozen=True)
class BackendSpec:
    """How to build the model backend on a worker: entry-point name, reference folder, device.

    ``threads``: torch/OpenCV threads per worker (0: the host's cores shared by the workers on it,
    ``per_host[host]`` of them, so two workers on a 2-core host take one core each).
    """

    name: str
    reference_dir: str
    device: str = "cpu"
    threads: int = 0
    per_host: dict[str, int] = field(default_factory=dict)

    def build(self, host: str = "") -> Any:
        """A loaded backend (raises ``ModelError`` and the like when it cannot load)."""
        from inspector import plugins
        from inspector.model.threads import apply_thread_budget

        factory = plugins.get("inspector.backends", self.name)
        backend = factory(Path(self.reference_dir), device=self.device)
        cores = os.cpu_count() or 1
        apply_thread_budget(self.threads or max(1, cores // max(1, self.per_host.get(host, 1))))
        backend.load(self.device)
        getattr(backend, "warm_up", lambda: None)()  # typing head and text encoder now, not on the first finding
        return backend


@dataclass(frozen=True)
class PartImage:
    """One stored part sent for re-judging: its record id (the key) and its image bytes as stored."""

    key: str
    data: bytes
    name: str
    source: str
    captured_at: datetime


@dataclass
class Rejudged:
    """The outcome for one part. ``error``: the model failed (the part is reported, not recorded)."""

    key: str
    verdict: Verdict | None = None
    findings: list[Finding] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)
    image_score: float = 0.0
    model: ModelInfo | None = None
    explanation: Explanation | None = None
    image_size: tuple[int, int] = (0, 0)
    timings_ms: dict[str, float] = field(default_factory=dict)
    problem: str | None = None  # the image cannot be judged (REVIEW with this reason)
    error: str = ""
    worker: str = ""


def decode(item: PartImage, limits: ImageLimits | None) -> Frame:
    """The part's frame from its stored bytes; an image that cannot be used becomes an
    ``UnreadableFrame`` (judged REVIEW with the reason, as on the line)."""
    from inspector.sources.decode import ImageRejected, decode_image_bytes, unreadable_frame

    try:
        image = decode_image_bytes(item.data, item.name, limits)
    except ImageRejected as err:
        frame: Frame = unreadable_frame(err, source=item.source, index=0, name=item.name, data=item.data)
        return frame
    return Frame(image=image, source=item.source, name=item.name, captured_at=item.captured_at)


def rejudge_image(backend: Any, item: PartImage, work_order: WorkOrder, limits: ImageLimits | None = None,
                  worker: str = "") -> Rejudged:
    """Judge one stored image as the station would today (see the module docstring)."""
    from inspector import intake
    from inspector.judging import judge_frame

    try:
        frame = decode(item, limits)
        judged = judge_frame(backend, frame, work_order)
        if judged.problem is not None:
            refused = intake.refused_inspection(frame, work_order, judged.problem, model=backend.info(),
                                                station="", operator="")
            return Rejudged(item.key, refused.verdict, [], {}, 0.0, refused.model, refused.explanation,
                            frame.size, {}, judged.problem, worker=worker)
        analysis, verdict = judged.analysis, judged.verdict
        assert analysis is not None and verdict is not None
        explanation = None
        if verdict.kind is not VerdictKind.OK:  # the checked template, as the line uses under load
            from inspector.model.explain_text import template_explanation

            explanation = Explanation(template_explanation(analysis, verdict, work_order), fallback=True,
                                      generator="template")
        timings = {f"analyze.{k}": v for k, v in analysis.timings_ms.items()}
        timings.update(analyze=judged.analyze_ms, judge=judged.judge_ms)
        return Rejudged(item.key, verdict, list(analysis.findings), dict(analysis.thresholds),
                        float(analysis.image_score), analysis.model, explanation, frame.size, timings,
                        worker=worker)
    except Exception as exc:  # one bad part never stops the run: it is reported with the reason
        return Rejudged(item.key, error=describe(exc), worker=worker)
