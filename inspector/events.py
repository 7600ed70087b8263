"""Typed line events and the small in-process bus the app, the CLI and publishers subscribe to.

The line (``inspector.line``) and the facade publish; subscribers receive the event objects
below, on the publishing thread (the line's thread, or the explainer thread for
:class:`ExplanationReady`). A subscriber that raises is logged and the line goes on. A slow
subscriber (a network publisher) subscribes with ``background=True``: it gets its own thread
and a bounded queue, so it can never hold the line; ``close()`` drains those queues.

Events, in the order a run emits them::

    LineStarted -> (FrameArrived) -> PartStarted -> PartJudged -> PartStored -> ExplanationReady
                   PartFailed, SourceLost, SourceReconnected, TriggerRequested whenever they happen
                   -> LineStopped
    StorageDegraded (a part went to the spool), StorageRecovered (the spool drained): any time
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from inspector.domain import Explanation, Inspection

log = logging.getLogger(__name__)

BACKGROUND_QUEUE = 1000  # events a background subscriber may fall behind before new ones are dropped


@dataclass(frozen=True)
class LineStarted:
    run_id: str
    order_id: str
    source: str


@dataclass(frozen=True)
class FrameArrived:
    """A frame the source delivered (every camera frame, for the live view); not yet a part."""

    run_id: str
    image: np.ndarray


@dataclass(frozen=True)
class PartStarted:
    run_id: str
    frame_name: str
    index: int


@dataclass(frozen=True)
class PartJudged:
    """Analysed and judged; the record is being written (``image_sha256`` still empty)."""

    run_id: str
    inspection: Inspection


@dataclass(frozen=True)
class PartStored:
    """The part's record is committed. ``result`` is a ``inspector.line.PartResult``
    (record, image, anomaly map)."""

    run_id: str
    result: Any

    @property
    def inspection(self) -> Inspection:
        return self.result.inspection


@dataclass(frozen=True)
class PartFailed:
    """A part that could not be inspected or stored; ``message`` says why. The line goes on."""

    run_id: str
    frame_name: str
    message: str


@dataclass(frozen=True)
class ExplanationReady:
    """An NG/REVIEW part's explanation is stored (explainer thread)."""

    inspection_id: str
    explanation: Explanation


@dataclass(frozen=True)
class SourceLost:
    """The source reported a problem (an unreadable file, a camera that stopped answering)."""

    run_id: str
    source: str
    message: str
    recoverable: bool = True


@dataclass(frozen=True)
class SourceReconnected:
    run_id: str
    source: str
    gap_s: float


@dataclass(frozen=True)
class TriggerRequested:
    """A software trigger (``Inspector.trigger``): inspect a part now; ``part_id`` if the caller knows it.

    ``run_id`` is the running line's, "" when none runs (the trigger waits for the next run)."""

    run_id: str
    part_id: str | None
    origin: str


@dataclass(frozen=True)
class StorageDegraded:
    """The store could not take a part (or an explanation): it went to the spool (docs/reliability.md).

    ``spooled``: records waiting in the spool now; ``reason``: the storage fault as the user sees it."""

    spooled: int
    reason: str

    @property
    def text(self) -> str:
        return f"storage degraded, {self.spooled} part{'s' if self.spooled != 1 else ''} spooled: {self.reason}"


@dataclass(frozen=True)
class StorageRecovered:
    """The spool drained: every spooled record is in the database (``drained`` in this recovery)."""

    drained: int
    held: int = 0  # records the database refused, kept in the spool's held/ folder

    @property
    def text(self) -> str:
        held = f", {self.held} held (see inspector spool status)" if self.held else ""
        return f"storage back: {self.drained} spooled record{'s' if self.drained != 1 else ''} stored{held}"


@dataclass(frozen=True)
class LineStopped:
    """The run ended; ``summary`` is its ``inspector.line.RunSummary``."""

    run_id: str
    summary: Any


Event = (LineStarted | FrameArrived | PartStarted | PartJudged | PartStored | PartFailed | ExplanationReady
         | SourceLost | SourceReconnected | TriggerRequested | StorageDegraded | StorageRecovered | LineStopped)
EVENT_TYPES: tuple[type, ...] = (LineStarted, FrameArrived, PartStarted, PartJudged, PartStored, PartFailed,
                                 ExplanationReady, SourceLost, SourceReconnected, TriggerRequested,
                                 StorageDegraded, StorageRecovered, LineStopped)
Subscriber = Callable[[Any], None]


class _Background:
    """A subscriber on its own thread behind a bounded queue."""

    def __init__(self, fn: Subscriber):
        self.fn = fn
        self.queue: queue.Queue = queue.Queue(BACKGROUND_QUEUE)
        self.dropped = 0
        self.thread = threading.Thread(target=self._loop, name="inspector-publisher", daemon=True)
        self.thread.start()

    def __call__(self, event: Any) -> None:
        try:
            self.queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1

    def _loop(self) -> None:
        while (event := self.queue.get()) is not None:
            try:
                self.fn(event)
            except Exception:
                log.exception("publisher %r failed on %s", self.fn, type(event).__name__)
            finally:
                self.queue.task_done()
        self.queue.task_done()

    def close(self, timeout: float) -> None:
        self.queue.put(None)
        self.thread.join(timeout)


class EventBus:
    """Publish/subscribe for line events. Thread-safe; no Qt, no global state."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: list[tuple[Subscriber, tuple[type, ...]]] = []

    def subscribe(self, fn: Subscriber, *types: type, background: bool = False) -> Callable[[], None]:
        """Call ``fn(event)`` for every event (or only those of ``types``). Returns an unsubscribe."""
        target: Subscriber = _Background(fn) if background else fn
        entry = (target, types)
        with self._lock:
            self._subs.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subs:
                    self._subs.remove(entry)
            if isinstance(target, _Background):
                target.close(timeout=30.0)

        return unsubscribe

    def publish(self, event: Any) -> None:
        with self._lock:
            subs = list(self._subs)
        for fn, types in subs:
            if types and not isinstance(event, types):
                continue
            try:
                fn(event)
            except Exception:  # a subscriber never stops the line
                log.exception("event subscriber %r failed on %s", fn, type(event).__name__)

    def close(self, timeout: float = 30.0) -> None:
        """Deliver what background subscribers still hold, then drop every subscriber."""
        with self._lock:
            subs, self._subs = self._subs, []
        for fn, _ in subs:
            if isinstance(fn, _Background):
                fn.close(timeout)
