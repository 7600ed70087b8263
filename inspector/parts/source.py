"""The line's view of a video or live source as parts (modes of :mod:`inspector.parts.trigger`).

:class:`PartSource` reads the inner source on its own grabber thread, shows every frame
(``on_frame``, the live view) and turns the stream into parts:

- ``free-run``: every frame goes through a :class:`~inspector.parts.detect.PartDetector`; each
  part it takes is queued for inspection.
- ``hardware``: every frame the (externally triggered) source delivers is a part.
- ``software``: the newest frame is held; each :class:`~inspector.parts.trigger.Trigger` makes it
  a part (a source that can fire its own device is fired and its next frame is the part; a
  video file, which is not live, gives its next frame per trigger).

A part carries the trigger's part id (software), or the id a trigger announced for the next
part (other modes). Parts of a video file are never dropped (the grabber waits); a live camera
whose parts arrive faster than they are inspected drops the oldest waiting part and counts it.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np

from inspector.domain import Frame
from inspector.errors import describe
from inspector.parts.detect import DetectionSettings, PartDetector
from inspector.parts.trigger import FREE_RUN, SOFTWARE, TriggerQueue
from inspector.sources import FrameSource, SourceError

log = logging.getLogger(__name__)

MAX_WAITING_PARTS = 16  # parts detected on a live source and not inspected yet
FILE_WAITING_PARTS = 2  # parts of a video file read ahead of the line
FIRE_TIMEOUT_S = 5.0  # a fired device that delivers no frame within this is reported


class PartSource(FrameSource):
    """A video or live source as parts; see the module docstring."""

    def __init__(self, inner: FrameSource, mode: str, triggers: TriggerQueue, on_frame: Callable[[np.ndarray], None],
                 on_back: Callable[[float], None] | None = None,
                 detection: DetectionSettings | PartDetector | None = None):
        super().__init__(inner.on_error)
        self.inner, self.mode, self.triggers = inner, mode, triggers
        self.name = inner.name
        self.is_live = True
        self.on_frame, self.on_back = on_frame, on_back
        self.detector: PartDetector | None = None  # free-run; a given detector can be tuned while it runs
        if mode == FREE_RUN:
            self.detector = detection if isinstance(detection, PartDetector) else PartDetector(detection)
        self.grabbed = 0
        self.skipped = 0  # parts dropped because inspection lagged (live only)
        self._live = bool(getattr(inner, "is_live", False))
        # a file waits for the line (nothing dropped, memory bounded); a live camera drops the oldest part
        self._parts: queue.Queue[Frame] = queue.Queue(MAX_WAITING_PARTS if self._live else FILE_WAITING_PARTS)
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._ended = False
        self._thread: threading.Thread | None = None
        self._lost_at: float | None = None
        self._want_next = threading.Semaphore(0)  # software mode on a file: one frame per trigger
        report = inner.on_error

        def on_error(err: SourceError) -> None:
            if self._lost_at is None:
                self._lost_at = time.monotonic()
            report(err)

        inner.on_error = on_error

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
        setter = getattr(self.inner, "set_trigger_mode", None)
        if callable(setter):
            setter(self.mode)
        self.inner.open()
        self._thread = threading.Thread(target=self._grab, name="inspector-grabber", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        super().stop()
        self.inner.stop()
        self._want_next.release()
        self.triggers.wake()
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.inner.close()

    # --- grabber thread ----------------------------------------------------------------------

    def _grab(self) -> None:
        try:
            file_software = self.mode == SOFTWARE and not self._live
            for frame in self._frames(file_software):
                self.grabbed += 1
                if self._lost_at is not None:
                    gap, self._lost_at = time.monotonic() - self._lost_at, None
                    if self.on_back is not None:
                        self.on_back(gap)
                try:
                    self.on_frame(frame.image)
                except Exception:  # the live view must never stop the line
                    log.exception("live view failed")
                self._take(frame, file_software)
                if self._stopped:
                    break
        except Exception as exc:  # an unrecoverable source error ends the stream, reported
            self.inner._report(describe(exc), recoverable=False)
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def _frames(self, paced: bool) -> Iterator[Frame]:
        it = iter(self.inner)
        while not self._stopped:
            if paced:  # a file in software mode: read the next frame only when a trigger asks
                self._want_next.acquire()
                if self._stopped:
                    return
            frame = next(it, None)
            if frame is None:
                return
            yield frame if frame.grabbed_at is not None else dataclasses.replace(frame, grabbed_at=time.perf_counter())

    def _take(self, frame: Frame, file_software: bool) -> None:
        if self.mode == SOFTWARE:
            with self._cond:
                self._latest = frame
                self._cond.notify_all()
            return
        if self.detector is not None:
            part = self.detector.feed(frame)
            if part is None:
                return
        else:  # hardware: every frame is a part
            part = frame
        announced = self.triggers.take_part_id()
        if announced:
            part = dataclasses.replace(part, part_id=announced)
        self._queue(part)

    def _queue(self, part: Frame) -> None:
        while not self._stopped:
            try:
                self._parts.put(part, timeout=0.2) if not self._live else self._parts.put_nowait(part)
                return
            except queue.Full:
                if self._live:  # inspection is behind: the oldest waiting part goes, counted
                    try:
                        self._parts.get_nowait()
                        self.skipped += 1
                        log.warning("inspection is behind the line: a detected part was dropped")
                    except queue.Empty:
                        pass

    # --- the line's side ---------------------------------------------------------------------

    def __iter__(self) -> Iterator[Frame]:
        if self.mode == SOFTWARE:
            yield from self._triggered()
            return
        while not self._stopped:
            try:
                yield self._parts.get(timeout=0.2)
            except queue.Empty:
                with self._cond:
                    if self._ended and self._parts.empty():
                        return

    def _triggered(self) -> Iterator[Frame]:
        while not self._stopped:
            trigger = self.triggers.get(timeout=0.2)
            if trigger is None:
                with self._cond:
                    if self._ended:
                        return
                continue
            frame = self._frame_for_trigger()
            if frame is None:
                if self._ended or self._stopped:
                    return
                continue
            yield dataclasses.replace(frame, part_id=trigger.part_id or "")

    def _frame_for_trigger(self) -> Frame | None:
        """The part's frame: the device's next frame after firing it, else the newest one."""
        fired = False
        if not self._live:
            with self._cond:
                self._latest = None
            self._want_next.release()
            fired = True
        else:
            fire = getattr(self.inner, "software_trigger", None)
            if callable(fire):
                with self._cond:
                    self._latest = None
                try:
                    fired = bool(fire())
                except Exception as exc:  # a device that refuses the trigger: reported, the line goes on
                    self.inner._report(f"software trigger failed: {describe(exc)}")
                    return None
        deadline = time.monotonic() + FIRE_TIMEOUT_S
        with self._cond:
            while self._latest is None and not self._ended and not self._stopped:
                if fired and time.monotonic() > deadline and self._live:
                    self.inner._report(f"{self.description}: no frame within {FIRE_TIMEOUT_S:.0f} s of the trigger")
                    return None
                self._cond.wait(0.2)
            frame, self._latest = self._latest, None  # one frame is one part, never two
        return frame
