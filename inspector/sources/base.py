"""The frame-source contract and the image decoding every source shares."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

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

    def __init__(self, on_error: ErrorHandler | None = None):
        self.on_error: ErrorHandler = on_error or _log_error
        self.dropped = 0  # frames lost (unreadable, or skipped because processing lagged)
        self.errors = 0
        self._stopped = False

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


def decode_image_bytes(data: bytes, name: str = "") -> np.ndarray:
    """Decode encoded image bytes to RGB uint8 (H, W, 3). Raises SourceError on corrupt data."""
    import cv2

    if not data:
        raise SourceError(f"{name or 'image'}: empty file", item=name)
    buf = np.frombuffer(data, dtype=np.uint8)
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise SourceError(f"{name or 'image'}: not a readable image (corrupt or unsupported format)", item=name)
    return to_rgb(img, name)


def to_rgb(img: np.ndarray, name: str = "") -> np.ndarray:
    """Any OpenCV image (gray, BGR, BGRA, 16-bit) -> RGB uint8."""
    import cv2

    if img.dtype == np.uint16:
        img = (img / 257.0).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if img.ndim == 3 and img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    if img.ndim == 3 and img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    raise SourceError(f"{name or 'image'}: unsupported image shape {img.shape}", item=name)


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as RGB uint8. Raises SourceError with the file name on failure."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise SourceError(f"{p}: cannot read ({exc.strerror or exc})", item=str(p)) from exc
    return decode_image_bytes(data, str(p))
