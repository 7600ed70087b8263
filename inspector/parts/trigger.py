"""Trigger modes of a live source and the station's software-trigger queue.

Modes (settings ``trigger_mode``; ``inspector inspect --trigger``):

- ``free-run``: the source runs freely; part detection (:mod:`inspector.parts.detect`) turns
  the stream into parts: one inspection per part, from its sharpest settled frame.
- ``software``: the line waits for a :class:`Trigger` (``Inspector.trigger``: the app's button,
  the CLI's stdin, a plugin) and inspects the newest frame as one part, carrying the trigger's
  part id. A source that can fire its own device (``FrameSource.software_trigger``, GenICam's
  TriggerSoftware) is fired instead and its next frame is the part.
- ``hardware``: the camera is triggered by the line (a light barrier): every frame it delivers
  is one part. Only for sources that say so (``FrameSource.trigger_modes``).
- ``every-frame``: every frame is a part (folders, file lists, hot folders; a camera inspects its
  newest frame whenever the line is free, as before part detection existed).
- ``auto`` (default): ``free-run`` for a video or a camera, ``every-frame`` for the rest.

Sources whose files are parts (folder, file list, hot folder) always run ``every-frame``.

In every mode but ``software``, a trigger that carries a part id announces the id of the next
part (a PLC that read the serial before the part reaches the camera); one without is ignored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from inspector.errors import UsageError

log = logging.getLogger(__name__)

FREE_RUN, SOFTWARE, HARDWARE, EVERY_FRAME, AUTO = "free-run", "software", "hardware", "every-frame", "auto"
MODES = (AUTO, FREE_RUN, SOFTWARE, HARDWARE, EVERY_FRAME)
MAX_QUEUED = 64  # triggers waiting for the line; beyond, the oldest is dropped (and counted)
MAX_PART_ID = 128  # characters (the store's column)


class TriggerError(UsageError):
    """A trigger or trigger mode that cannot be used (unknown mode, a mode the source lacks, bad id)."""


@dataclass(frozen=True)
class Trigger:
    """One software trigger: inspect a part now (``part_id``: its id, if the caller knows it)."""

    part_id: str | None = None
    origin: str = ""  # who asked: "app", "cli", "mqtt", "opcua", "modbus", "http"...
    at: float = field(default_factory=time.monotonic)


def clean_part_id(part_id: str | None) -> str | None:
    """A part id as given, trimmed; None when empty. TriggerError when unusable (too long, control chars)."""
    if part_id is None:
        return None
    text = str(part_id).strip()
    if not text:
        return None
    if len(text) > MAX_PART_ID:
        raise TriggerError(f"part id is {len(text)} characters long; at most {MAX_PART_ID} are stored")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise TriggerError(f"part id {text!r} holds control characters")
    return text


class TriggerQueue:
    """Triggers waiting for the running line (thread-safe, bounded; the oldest goes when full)."""

    def __init__(self, maxlen: int = MAX_QUEUED):
        self._items: deque[Trigger] = deque()
        self._maxlen = maxlen
        self._cond = threading.Condition()
        self.dropped = 0
        self.received = 0

    def put(self, trigger: Trigger) -> None:
        with self._cond:
            if len(self._items) >= self._maxlen:
                old = self._items.popleft()
                self.dropped += 1
                log.warning("trigger queue full: dropped the oldest trigger (%s, part id %r)", old.origin,
                            old.part_id)
            self._items.append(trigger)
            self.received += 1
            self._cond.notify_all()

    def get(self, timeout: float | None = None) -> Trigger | None:
        """The oldest trigger, waiting up to ``timeout`` seconds; None if none came."""
        with self._cond:
            if not self._items:
                self._cond.wait(timeout)
            return self._items.popleft() if self._items else None

    def take_part_id(self) -> str | None:
        """The part id the oldest waiting trigger announces (taken), None if none is waiting."""
        with self._cond:
            while self._items:
                trigger = self._items.popleft()
                if trigger.part_id:
                    return trigger.part_id
                log.info("trigger from %s ignored: the line is not in software-trigger mode", trigger.origin)
            return None

    def wake(self) -> None:
        """Wake a waiting ``get`` (the line is stopping)."""
        with self._cond:
            self._cond.notify_all()

    def clear(self) -> int:
        with self._cond:
            n = len(self._items)
            self._items.clear()
            return n

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)


def source_modes(source: object) -> tuple[str, ...]:
    """The trigger modes ``source`` supports: its own ``trigger_modes`` if it declares them, else
    free-run/software/every-frame for a video or a camera stream and every-frame for the rest."""
    declared = tuple(getattr(source, "trigger_modes", ()) or ())
    if declared:
        return declared
    if is_stream_like(source):
        return (FREE_RUN, SOFTWARE, EVERY_FRAME)
    return (EVERY_FRAME,)


def is_stream_like(source: object) -> bool:
    """A video file or a live stream whose frames are not one part each (not a hot folder)."""
    name = getattr(source, "name", "")
    return name == "video" or (bool(getattr(source, "is_live", False)) and name != "hotfolder")


def resolve_mode(mode: str | None, source: object) -> str:
    """The mode the line runs ``source`` in: ``auto`` resolved, checked against what it supports."""
    mode = (mode or AUTO).strip().lower()
    if mode not in MODES:
        raise TriggerError(f"unknown trigger mode {mode!r}: use one of {', '.join(MODES)}")
    supported = source_modes(source)
    if supported == (EVERY_FRAME,):  # files are parts (folder, hot folder): triggers only announce ids
        return EVERY_FRAME
    if mode == AUTO:
        return FREE_RUN if FREE_RUN in supported else (EVERY_FRAME if EVERY_FRAME in supported else supported[0])
    if mode not in supported:
        what = getattr(source, "description", None) or getattr(source, "name", "this source")
        raise TriggerError(f"{what} does not support trigger mode {mode!r} (it supports: {', '.join(supported)})")
    return mode
