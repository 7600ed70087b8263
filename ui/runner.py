"""The station's view of the line: the core loop on a worker thread, drawn through Qt signals.

The loop itself is the core's (``Inspector.run``, ``inspector/line.py``); this module only
subscribes to its events: every frame goes to the live view through :class:`FrameMailbox`,
each stored part is rendered (overlay, off the GUI thread) and signalled as a
:class:`ShownPart`, problems and news go to the status area.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from inspector.domain import WorkOrder
from inspector.pipeline import EVENT_TYPES, PartResult, RunSummary, describe, render_display
from ui.workers import Task, TaskRunner

log = logging.getLogger(__name__)

DISPLAY_MAX_SIDE = 1280  # frames and overlays are shrunk to this before they reach the GUI


def shrink(image: np.ndarray, max_side: int = DISPLAY_MAX_SIDE) -> np.ndarray:
    h, w = image.shape[:2]
    if max(h, w) <= max_side:
        return image
    import cv2

    s = max_side / max(h, w)
    return cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def to_qimage(rgb: np.ndarray) -> QImage:
    """(H, W, 3) uint8 RGB -> QImage (a copy; safe to build in a worker thread)."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


@dataclass
class ShownPart:
    """One stored part as the station shows it: the record, the display overlay, timings."""

    result: PartResult
    overlay: QImage

    @property
    def inspection(self):
        return self.result.inspection


def render_part(result: PartResult) -> QImage:
    """Heat map, region outlines and sizes on a display-sized copy of the part image."""
    return to_qimage(render_display(result, DISPLAY_MAX_SIDE))


class FrameMailbox(QObject):
    """Latest-frame hand-over from worker threads to the GUI: never queues more than one frame.

    ``post`` (any thread) keeps only the newest image and signals ``ready`` once; the GUI's
    slot calls ``take``. So a camera faster than the screen never floods the event loop.
    """

    ready = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._lock = threading.Lock()
        self._image: QImage | None = None
        self._pending = False
        self.posted = 0
        self.taken = 0

    def post(self, rgb: np.ndarray) -> None:
        image = to_qimage(shrink(rgb))
        with self._lock:
            self._image = image
            self.posted += 1
            if self._pending:
                return
            self._pending = True
        self.ready.emit()

    def take(self) -> QImage | None:
        with self._lock:
            image, self._image, self._pending = self._image, None, False
        if image is not None:
            self.taken += 1
        return image


class StationRunner(QObject):
    """Starts/stops the core line on a pool thread; its events come back as signals."""

    part = Signal(object)  # ShownPart
    message = Signal(str)  # a problem, for the status area
    info = Signal(str)  # news that is not a problem (a source that came back)
    stopped = Signal(object)  # RunSummary, or None when the source could not be opened

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.mailbox = FrameMailbox(self)
        self.task: Task | None = None
        self.run_id = ""
        self.summary: RunSummary | None = None

    def is_running(self) -> bool:
        return self.task is not None and not self.task.done.is_set()

    def on_event(self, event: Any) -> None:
        """Bus subscriber (the line's threads): forward this run's events as signals."""
        if getattr(event, "run_id", None) != self.run_id:
            return
        kind = type(event).__name__
        if kind == "FrameArrived":
            self.mailbox.post(event.image)
        elif kind == "PartStored":
            self.part.emit(ShownPart(event.result, render_part(event.result)))
        elif kind in ("PartFailed", "SourceLost"):
            self.message.emit(event.message)
        elif kind == "SourceReconnected":
            self.info.emit(f"{event.source}: frames arriving again after {event.gap_s:.1f} s")

    def start(self, facade, spec: Any, work_order: WorkOrder, tasks: TaskRunner) -> Task:
        """Run the line on ``spec`` (a source spec string or a ready ``FrameSource``)."""
        self.run_id = run_id = uuid.uuid4().hex
        message = self.message.emit

        def body(task: Task) -> RunSummary | None:
            unsubscribe = facade.events.subscribe(self.on_event, *EVENT_TYPES)
            try:
                self.summary = facade.run(spec, work_order, cancel=task.cancel, run_id=run_id)
            except Exception as exc:  # the source as a whole cannot be opened
                message(f"cannot open source {spec}: {describe(exc)}")
                return None
            finally:
                unsubscribe()
            return self.summary

        self.summary = None
        self.task = Task(body, "inspection run")
        self.task.signals.error.connect(self.message)
        self.task.signals.finished.connect(self._finished)
        return tasks.start("run", self.task)

    def stop(self) -> None:
        """Ask the line to stop; the part being inspected is finished and stored first."""
        if self.task is not None:
            self.task.cancel.set()

    @Slot()
    def _finished(self) -> None:
        self.stopped.emit(self.summary)

    def wait(self, timeout_s: float | None) -> bool:
        return self.task is None or self.task.done.wait(timeout_s)
