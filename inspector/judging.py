"""The one path from an image to a verdict: image check, model analysis, judging against the order.

The station (``Inspector.inspect_frame``) and the archive re-inspection (``inspector reinspect``,
on this process or on Dask workers) both call :func:`judge_frame`, so a stored part re-judged
with the same image, model and work order gets the verdict the line would give it today.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from inspector import intake
from inspector.domain import Analysis, Frame, Verdict, WorkOrder
from inspector.spec import judge


@dataclass
class Judged:
    """What :func:`judge_frame` found: either ``problem`` (the image cannot be judged: REVIEW
    with that reason, see ``inspector.intake``) or the model's ``analysis`` and the ``verdict``."""

    problem: str | None
    analysis: Analysis | None = None
    verdict: Verdict | None = None
    analyze_ms: float = 0.0
    judge_ms: float = 0.0


def judge_analysis(analysis: Analysis, work_order: WorkOrder, image_size: tuple[int, int]) -> Verdict:
    """The verdict of an analysed image: :func:`inspector.spec.judge` with the model's type threshold."""
    return judge(analysis.findings, work_order, type_min=analysis.thresholds.get("type_min", 0.0),
                 image_size=image_size)


def judge_frame(backend: Any, frame: Frame, work_order: WorkOrder) -> Judged:
    """Check the frame (readable, supported, the taught size), analyse it and judge it.

    ``work_order`` is used as given (the station first fills in zones drawn in the Teach tab).
    Errors of the backend (e.g. the part is not taught) propagate.
    """
    problem = intake.frame_problem(frame, intake.taught_size(backend, work_order.part_number))
    if problem is not None:
        return Judged(problem)
    t0 = time.perf_counter()
    analysis = backend.analyze(frame.image, work_order)
    t1 = time.perf_counter()
    verdict = judge_analysis(analysis, work_order, frame.size)
    t2 = time.perf_counter()
    return Judged(None, analysis, verdict, (t1 - t0) * 1e3, (t2 - t1) * 1e3)
