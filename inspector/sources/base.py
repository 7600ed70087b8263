"""The frame-source contract: FrameSource, SourceError and the image limits every source applies."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from inspector.domain import Frame
from inspector.errors import InspectorError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm")


class SourceError(InspectorError):
    """A source cannot deliver: missing folder, unreadable file, camera lost.

    ``recoverable`` is True when the station should keep going (one bad file, a camera
    that may come back); False when the source as a whole cannot be opened.
    """

    def __init__(self, message: str, *, item: str = "", recoverable: bool = True):
        super().__init__(message)
        self.item = item
        self.recoverable = recoverable


@dataclass(frozen=True)
class ImageLimits:
    """Largest image a source decodes (settings ``max_image_pixels``, ``max_image_bytes``)."""

    max_pixels: int = 80_000_000
    max_bytes: int = 256 * 1024 * 1024


ErrorHandler = Callable[[SourceError], None]


def _log_error(err: SourceError) -> None:
    log.warning("%s", err)


class FrameSource:
    """Base class: a context manager; iterating yields :class:`Frame` objects.

    Problems with single items are reported to ``on_error`` and skipped, never raised
    from iteration, so the line keeps running. ``stop()`` ends a live iteration from
    another thread.
    """

    name = "source"
    is_live = False
    # Trigger modes it supports (inspector.parts.trigger); () = derived: a video or a live stream runs
    # free-run/software/every-frame, others every-frame. A camera with a trigger input lists "hardware"
    # and may define set_trigger_mode(mode) (called before open) and software_trigger() -> bool
    # (fire the device, e.g. GenICam TriggerSoftware: its next frame is the part).
    trigger_modes: tuple[str, ...] = ()

    def __init__(self, on_error: ErrorHandler | None = None):
        self.on_error: ErrorHandler = on_error or _log_error
        self.dropped = 0  # frames lost (unreadable, or skipped because processing lagged)
        self.errors = 0
        self.limits: ImageLimits | None = None  # None: defaults; the facade sets the station's
        self._stopped = False

    @property
    def image_limits(self) -> ImageLimits:
        return self.limits or ImageLimits()

    @property
    def description(self) -> str:
        return self.name

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Acquire the device or check the path; raise SourceError(recoverable=False) if impossible."""

    def close(self) -> None:
        """Release the device. Safe to call twice."""

    def stop(self) -> None:
        self._stopped = True

    def __iter__(self) -> Iterator[Frame]:
        raise TypeError(f"{type(self).__name__} does not yield frames")

    def _report(self, message: str, item: str = "", recoverable: bool = True) -> None:
        self.errors += 1
        self.on_error(SourceError(message, item=item, recoverable=recoverable))
