"""The station's inspection loop on a worker thread, and the live view's frame path.

``run_line`` is a plain function (no Qt): it pulls frames from a source, inspects each
through the facade, renders the overlay off the GUI thread and hands each stored part to
``on_part``. Errors are reported and the line goes on; it stops only when cancelled, when
the source ends, when the part is not taught, or after ``MAX_FAILURES`` parts in a row that
could not be stored (disk full, database gone): then the message says so.

Live sources (a camera) are decoupled from inspection by :class:`LatestFrameSource`: a
grabber thread reads the camera at its own frame rate and shows every frame, the
inspection takes the newest one. Sources whose frames are parts (folder, files, hot folder,
video file) are inspected frame by frame through :class:`TapSource`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from inspector.domain import Frame, WorkOrder
from inspector.model.base import ModelError, NotTaughtError
from inspector.pipeline import PartResult, RunSummary
from inspector.sources import FrameSource, SourceError, open_source
from ui.workers import Task, TaskRunner, error_message

log = logging.getLogger(__name__)

MAX_FAILURES = 20  # parts in a row that could not be stored before the line stops itself
DISPLAY_MAX_SIDE = 1280  # frames and overlays are shrunk to this before they reach the GUI

FrameCallback = Callable[[np.ndarray], None]


class TapSource(FrameSource):
    """Wraps a source whose frames are parts and shows every frame before it is inspected."""

    def __init__(self, inner: FrameSource, on_frame: FrameCallback):
        super().__init__(inner.on_error)
        self.inner = inner
        self.on_frame = on_frame
        self.is_live = inner.is_live

    @property
    def description(self) -> str:
        return self.inner.description

    def open(self) -> None:
        self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def stop(self) -> None:
        super().stop()
        self.inner.stop()

    @property
    def dropped(self) -> int:  # type: ignore[override]
        return self.inner.dropped

    @dropped.setter
    def dropped(self, value: int) -> None:
        pass

    def __len__(self) -> int:
        return len(self.inner) if hasattr(self.inner, "__len__") else 0

    def __iter__(self) -> Iterator[Frame]:
        for frame in self.inner:
            self.on_frame(frame.image)
            yield frame
            if self._stopped:
                return


class LatestFrameSource(FrameSource):
    """A live stream read by its own thread: every frame is shown, inspection takes the newest.

    Frames that arrive while a part is being inspected are counted in ``dropped`` (``skipped``
    of them because inspection was busy, the rest lost by the camera itself).
    """

    is_live = True

    def __init__(self, inner: FrameSource, on_frame: FrameCallback,
                 on_info: Callable[[str], None] | None = None):
        super().__init__(inner.on_error)
        self.inner = inner
        self.on_frame = on_frame
        self.on_info = on_info
        self.skipped = 0
        self.grabbed = 0
        self._lost_at: float | None = None  # when the source last reported a problem
        report = inner.on_error

        def on_error(err) -> None:
            if self._lost_at is None:
                self._lost_at = time.monotonic()
            report(err)

        inner.on_error = on_error
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._ended = False
        self._thread: threading.Thread | None = None

    @property
    def description(self) -> str:
        return self.inner.description

    @property
    def dropped(self) -> int:  # type: ignore[override]
        return self.inner.dropped + self.skipped

    @dropped.setter
    def dropped(self, value: int) -> None:
        pass

    def open(self) -> None:
        self.inner.open()
        self._thread = threading.Thread(target=self._grab, name="inspector-grabber", daemon=True)
        self._thread.start()

    def _grab(self) -> None:
        try:
            for frame in self.inner:
                t = time.perf_counter()
                self.grabbed += 1
                if self._lost_at is not None:
                    gap, self._lost_at = time.monotonic() - self._lost_at, None
                    if self.on_info is not None:
                        self.on_info(f"{self.description}: frames arriving again after {gap:.1f} s")
                try:
                    self.on_frame(frame.image)
                except Exception:  # the live view must never stop the line
                    log.exception("live view failed")
                with self._cond:
                    if self._latest is not None:
                        self.skipped += 1
                    frame.meta.setdefault("grabbed_at", t)
                    self._latest = frame
                    self._cond.notify_all()
                if self._stopped:
                    break
        except Exception as exc:  # an unrecoverable source error ends the stream, reported
            self.inner._report(error_message(exc), recoverable=False)
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def stop(self) -> None:
        super().stop()
        self.inner.stop()
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.inner.close()

    def __iter__(self) -> Iterator[Frame]:
        while True:
            with self._cond:
                while self._latest is None and not self._ended and not self._stopped:
                    self._cond.wait(0.5)
                if self._stopped:
                    return
                frame, self._latest = self._latest, None
                if frame is None:  # ended, nothing left
                    return
            yield frame


def is_stream(source: FrameSource) -> bool:
    """True for live sources whose frames are not one part each (a camera, not a hot folder)."""
    return bool(getattr(source, "is_live", False)) and getattr(source, "name", "") != "hotfolder"


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
    from inspector.reports.overlay import render_overlay, resize_max

    insp = result.inspection
    small, scale = resize_max(result.image, DISPLAY_MAX_SIDE)
    try:
        over = render_overlay(small, insp.findings, result.anomaly_map, insp.verdict, scale=scale)
    except Exception:  # a drawing problem must not lose the part: show the plain image
        log.exception("overlay failed for %s", insp.id)
        over = small
    return to_qimage(over)


def run_line(facade, source: FrameSource, work_order: WorkOrder, *, cancel: threading.Event,
             on_part: Callable[[ShownPart], None], on_error: Callable[[str], None],
             max_failures: int = MAX_FAILURES) -> RunSummary:
    """Inspect every part the source delivers until it ends or ``cancel`` is set.

    Each part is stored (one transaction, through the facade) before ``on_part`` sees it, so
    a part that was shown is always in the database. Returns the run's summary.
    """
    summary = RunSummary(work_order.order_id, source.description)
    stage_sums: dict[str, float] = {}
    failures = 0
    t0 = time.perf_counter()

    def report(message: str) -> None:
        summary.errors.append(message)
        on_error(message)

    with source:
        frames = iter(source)
        while not cancel.is_set():
            t_ask = time.perf_counter()
            try:
                frame = next(frames)
            except StopIteration:
                break
            if cancel.is_set():
                break
            grabbed = frame.meta.pop("grabbed_at", None)
            frame.meta.setdefault("capture_ms", (time.perf_counter() - (grabbed or t_ask)) * 1e3)
            try:
                result = facade.inspect_frame(frame, work_order)
            except NotTaughtError as exc:
                report(f"{exc}: teach the part first (Teach tab, F2)")
                break
            except (ModelError, SourceError) as exc:
                report(f"{frame.name}: {error_message(exc)}")
                continue
            except Exception as exc:  # storage: disk full, database locked or gone
                failures += 1
                report(f"{frame.name}: NOT stored: {error_message(exc)}")
                if failures >= max_failures:
                    report(f"line stopped: {failures} parts in a row could not be stored; fix the "
                           "cause (disk space, database) and press Start")
                    break
                continue
            failures = 0
            insp = result.inspection
            summary.inspected += 1
            summary.counts[insp.verdict.kind.value] += 1
            for k in ("capture", "analyze", "store"):
                stage_sums[k] = stage_sums.get(k, 0.0) + insp.timings_ms.get(k, 0.0)
            on_part(ShownPart(result, render_part(result)))
    summary.cancelled = cancel.is_set()
    summary.dropped = source.dropped
    summary.seconds = time.perf_counter() - t0
    if summary.inspected:
        summary.stage_ms = {k: v / summary.inspected for k, v in stage_sums.items()}
    return summary


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
    """Starts/stops the line on a pool thread; parts, messages and the end come back as signals."""

    part = Signal(object)  # ShownPart
    message = Signal(str)  # a problem, for the status area
    info = Signal(str)  # news that is not a problem (a source that came back)
    stopped = Signal(object)  # RunSummary, or None when the source could not be opened

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.mailbox = FrameMailbox(self)
        self.task: Task | None = None
        self.source: FrameSource | None = None
        self.summary: RunSummary | None = None

    def is_running(self) -> bool:
        return self.task is not None and not self.task.done.is_set()

    def start(self, facade, spec: str | FrameSource, work_order: WorkOrder, tasks: TaskRunner) -> Task:
        """Open ``spec`` (a source spec string or a ready source) and run the line on it."""
        message, info, part, post = self.message.emit, self.info.emit, self.part.emit, self.mailbox.post

        def report(err: Exception) -> None:  # a source's error callback (worker threads)
            message(str(err))

        def body(task: Task) -> RunSummary | None:
            try:
                inner = spec if isinstance(spec, FrameSource) else open_source(spec, on_error=report)
            except Exception as exc:
                message(f"cannot open source {spec}: {error_message(exc)}")
                return None
            inner.on_error = report
            self.source = LatestFrameSource(inner, post, info) if is_stream(inner) else TapSource(inner, post)
            try:
                self.summary = run_line(facade, self.source, work_order, cancel=task.cancel,
                                        on_part=part, on_error=message)
            except SourceError as exc:  # the source as a whole cannot be opened
                message(error_message(exc))
                return None
            return self.summary

        self.summary = None
        self.source = None
        self.task = Task(body, "inspection run")
        self.task.signals.error.connect(self.message)
        self.task.signals.finished.connect(self._finished)
        return tasks.start("run", self.task)

    def stop(self) -> None:
        """Ask the line to stop; the part being inspected is finished and stored first."""
        if self.task is not None:
            self.task.cancel.set()
        if self.source is not None:
            self.source.stop()

    @Slot()
    def _finished(self) -> None:
        self.stopped.emit(self.summary)

    def wait(self, timeout_s: float | None) -> bool:
        return self.task is None or self.task.done.wait(timeout_s)
