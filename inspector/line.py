"""The inspection line: the one loop that takes frames from a source, inspects, stores and reports.

``Inspector.run`` (the CLI, batch jobs) and the desktop app both run :func:`run_line`; it
publishes typed events (``inspector.events``) that the app draws, the CLI prints and
publishers forward. Each part is stored (one transaction, on the facade's writer thread)
before :class:`~inspector.events.PartStored` is published, so a part anybody saw is always
in the database. Explanations are scheduled by the facade on its explainer thread.

Errors are reported and the line goes on; it stops only when cancelled, when the source
ends, when ``limit`` parts are done, when the part is not taught, or after ``max_failures``
parts in a row could not be stored. A storage fault (disk full, database locked or gone) is
no failure: the facade keeps the part in its spool and stores it later (``PartResult.spooled``,
docs/reliability.md); only a part neither stored nor spooled counts.

Live sources (a camera) are decoupled from inspection by :class:`LatestFrameSource`: a
grabber thread reads the camera at its own frame rate and publishes every frame, the
inspection takes the newest one. Sources whose frames are parts (folder, files, hot folder,
video file) are inspected frame by frame through :class:`TapSource`. In the trigger modes
``free-run`` (part detection), ``software`` and ``hardware`` a video or live source is read as
parts by :class:`inspector.parts.source.PartSource` (docs/integrations.md, "Parts and part identity").
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from inspector.domain import Frame, Inspection, VerdictKind, WorkOrder
from inspector.errors import describe
from inspector.events import (
    EventBus,
    FrameArrived,
    LineStarted,
    LineStopped,
    PartFailed,
    PartStarted,
    PartStored,
    SourceLost,
    SourceReconnected,
)
from inspector.model.base import Cancelled, ModelError, NotTaughtError, Progress
from inspector.parts.detect import DetectionSettings
from inspector.parts.source import PartSource
from inspector.parts.trigger import EVERY_FRAME, TriggerQueue
from inspector.sources import FrameSource, SourceError

log = logging.getLogger(__name__)

MAX_FAILURES = 20  # parts in a row that could not be stored before the line stops itself
STAGES = ("capture", "analyze", "judge", "store")

FrameCallback = Callable[[np.ndarray], None]
InspectFn = Callable[[Frame, WorkOrder], "PartResult"]


@dataclass
class PartResult:
    """One inspected part as the UI shows it: the stored record plus what is not stored."""

    inspection: Inspection
    image: np.ndarray
    anomaly_map: np.ndarray | None
    spooled: bool = False  # the store could not take it: the record waits in the spool (docs/reliability.md)


@dataclass
class RunSummary:
    order_id: str
    source: str
    inspected: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {v.value: 0 for v in VerdictKind})
    errors: list[str] = field(default_factory=list)
    dropped: int = 0
    seconds: float = 0.0
    stage_ms: dict[str, float] = field(default_factory=dict)  # mean per stage
    cancelled: bool = False
    run_id: str = ""
    aborted: str = ""  # why the line stopped before its source ended (not taught, storage, source broke)
    spooled: int = 0  # parts whose record went to the spool (storage degraded), not yet in the database

    @property
    def yield_pct(self) -> float:
        return 100.0 * self.counts["OK"] / self.inspected if self.inspected else 0.0


class TapSource(FrameSource):
    """Wraps a source whose frames are parts and shows every frame before it is inspected."""

    def __init__(self, inner: FrameSource, on_frame: FrameCallback):
        super().__init__(inner.on_error)
        self.inner = inner
        self.on_frame = on_frame
        self.is_live = inner.is_live
        self.name = inner.name

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
            try:
                self.on_frame(frame.image)
            except Exception:  # the live view must never stop the line
                log.exception("live view failed")
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
                 on_back: Callable[[float], None] | None = None):
        super().__init__(inner.on_error)
        self.inner = inner
        self.name = inner.name
        self.on_frame = on_frame
        self.on_back = on_back
        self.skipped = 0
        self.grabbed = 0
        self._lost_at: float | None = None  # when the source last reported a problem
        report = inner.on_error

        def on_error(err: SourceError) -> None:
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
                    if self.on_back is not None:
                        self.on_back(gap)
                try:
                    self.on_frame(frame.image)
                except Exception:  # the live view must never stop the line
                    log.exception("live view failed")
                with self._cond:
                    if self._latest is not None:
                        self.skipped += 1
                    self._latest = frame if frame.grabbed_at is not None else dataclasses.replace(frame, grabbed_at=t)
                    self._cond.notify_all()
                if self._stopped:
                    break
        except Exception as exc:  # an unrecoverable source error ends the stream, reported
            self.inner._report(describe(exc), recoverable=False)
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


def wrap_source(source: FrameSource, bus: EventBus, run_id: str, *, mode: str = EVERY_FRAME,
                triggers: TriggerQueue | None = None, detection: DetectionSettings | None = None) -> FrameSource:
    """The source as the line reads it: every frame published, a camera read by its own thread.

    ``mode`` (a resolved trigger mode, :mod:`inspector.parts.trigger`): ``every-frame`` as below;
    ``free-run``, ``software`` and ``hardware`` read the source as parts (:class:`PartSource`)."""
    if isinstance(source, (TapSource, LatestFrameSource, PartSource)):
        return source
    report = source.on_error

    def on_error(err: SourceError) -> None:
        bus.publish(SourceLost(run_id, source.description, str(err), err.recoverable))
        report(err)

    source.on_error = on_error

    def show(image: np.ndarray) -> None:
        bus.publish(FrameArrived(run_id, image))

    def back(gap: float) -> None:
        bus.publish(SourceReconnected(run_id, source.description, gap))

    if mode != EVERY_FRAME:
        return PartSource(source, mode, TriggerQueue() if triggers is None else triggers, show, back, detection)
    if is_stream(source):
        return LatestFrameSource(source, show, back)
    return TapSource(source, show)


def run_line(inspect: InspectFn, bus: EventBus, source: FrameSource, work_order: WorkOrder, *,
             run_id: str | None = None, cancel: threading.Event | None = None,
             progress: Progress | None = None, limit: int | None = None,
             max_failures: int = MAX_FAILURES, mode: str = EVERY_FRAME, triggers: TriggerQueue | None = None,
             detection: DetectionSettings | None = None) -> RunSummary:
    """Inspect every part ``source`` delivers until it ends, ``cancel`` is set or ``limit`` is reached.

    ``inspect(frame, work_order) -> PartResult`` analyses, judges and stores one part (the
    facade's ``inspect_frame``). ``progress(done, total, name)`` may raise ``Cancelled``.
    ``mode``/``triggers``/``detection``: how a video or live source becomes parts (:func:`wrap_source`).
    Returns the run's summary (also published in :class:`~inspector.events.LineStopped`).
    """
    run_id = run_id or uuid.uuid4().hex
    cancel = cancel or threading.Event()
    summary = RunSummary(work_order.order_id, source.description, run_id=run_id)
    stage_sums: dict[str, float] = {}
    failures = 0

    def report(frame_name: str, message: str) -> None:
        summary.errors.append(message)
        bus.publish(PartFailed(run_id, frame_name, message))

    def source_error(event: object) -> None:
        if isinstance(event, SourceLost) and event.run_id == run_id:
            summary.errors.append(event.message)

    source = wrap_source(source, bus, run_id, mode=mode, triggers=triggers, detection=detection)
    unsubscribe = bus.subscribe(source_error, SourceLost)
    done = threading.Event()

    def watch() -> None:  # a waiting source (a quiet hot folder, a camera) stops when cancelled
        while not done.wait(0.2):
            if cancel.is_set():
                source.stop()
                return

    threading.Thread(target=watch, name="inspector-line-cancel", daemon=True).start()
    t0 = time.perf_counter()
    bus.publish(LineStarted(run_id, work_order.order_id, source.description))
    try:
        with source:
            total = len(source) if hasattr(source, "__len__") else 0
            frames = iter(source)
            while not cancel.is_set():
                t_ask = time.perf_counter()
                try:
                    frame = next(frames)
                except StopIteration:
                    break
                except Exception as exc:  # a source (plugin) that breaks mid-run: reported, never a traceback
                    summary.aborted = f"source {source.description} failed: {describe(exc)}"
                    report("", summary.aborted)
                    break
                if cancel.is_set():
                    break
                capture_ms = (time.perf_counter() - (frame.grabbed_at or t_ask)) * 1e3
                frame = dataclasses.replace(frame, capture_ms=capture_ms) if frame.capture_ms is None else frame
                bus.publish(PartStarted(run_id, frame.name, frame.index))
                try:
                    result = inspect(frame, work_order)
                except NotTaughtError as exc:
                    summary.aborted = f"{exc}: teach the part first"
                    report(frame.name, summary.aborted)
                    break
                except (ModelError, SourceError) as exc:
                    report(frame.name, f"{frame.name}: {describe(exc)}")
                    continue
                except Exception as exc:  # storage: disk full, database locked or gone
                    failures += 1
                    report(frame.name, f"{frame.name}: NOT stored: {describe(exc)}")
                    if failures >= max_failures:
                        summary.aborted = (f"line stopped: {failures} parts in a row could not be stored; "
                                           "fix the cause (disk space, database) and start again")
                        report(frame.name, summary.aborted)
                        break
                    continue
                failures = 0
                insp = result.inspection
                summary.inspected += 1
                summary.counts[insp.verdict.kind.value] += 1
                summary.spooled += bool(getattr(result, "spooled", False))
                for k in STAGES:
                    stage_sums[k] = stage_sums.get(k, 0.0) + insp.timings_ms.get(k, 0.0)
                bus.publish(PartStored(run_id, result))
                if progress is not None:
                    try:
                        progress(summary.inspected, total, frame.name)
                    except Cancelled:
                        cancel.set()
                if limit is not None and summary.inspected >= limit:
                    break
            if cancel.is_set():
                source.stop()
    finally:
        done.set()
        unsubscribe()
        summary.cancelled = cancel.is_set()
        summary.dropped = source.dropped
        summary.seconds = time.perf_counter() - t0
        if summary.inspected:
            summary.stage_ms = {k: v / summary.inspected for k, v in stage_sums.items()}
        bus.publish(LineStopped(run_id, summary))
    return summary
