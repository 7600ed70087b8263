"""Reading image files safely: limits checked on the header before decoding, typed refusals.

Every way an image file can be bad ends in :class:`ImageRejected` with a reason a person can
act on, never in a ``cv2.error`` or an endless read: a zero-byte or truncated file, bytes that
are no image, a decompression bomb (a small PNG that declares 50000 x 50000 px), more bytes or
pixels than the station's limits (settings ``max_image_bytes``, ``max_image_pixels``), 16-bit,
floating-point or CMYK pixels, a FIFO or device named like an image. Sources turn a refusal
into an :class:`UnreadableFrame`, which the facade records as a REVIEW part (docs/reliability.md).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspector.domain import Frame
from inspector.sources.base import ImageLimits, SourceError

UNREADABLE = "unreadable"  # not an image, damaged, truncated, empty, cannot be read
UNSUPPORTED = "unsupported"  # an image, but one the station does not inspect (size, depth, colour)

FORMATS = {"PNG": "png", "JPEG": "jpg", "MPO": "jpg", "BMP": "bmp", "TIFF": "tif", "WEBP": "webp"}
_MODES_REFUSED = {
    "CMYK": "CMYK colour (convert it to RGB)",
    "F": "floating-point pixels (the station inspects 8-bit images)",
    "I": "32-bit integer pixels (the station inspects 8-bit images)",
    "LAB": "Lab colour (convert it to RGB)",
    "HSV": "HSV colour (convert it to RGB)",
    "YCbCr": "YCbCr colour (convert it to RGB)",
}


class ImageRejected(SourceError):
    """An image file the station will not inspect; ``kind``: 'unreadable' or 'unsupported'.

    ``incomplete`` is True when the file may still be being written (empty, truncated, not
    readable yet): a hot folder tries it again later instead of giving up at once.
    """

    def __init__(self, message: str, *, item: str = "", kind: str = UNREADABLE, incomplete: bool = False):
        super().__init__(message, item=item, recoverable=True)
        self.kind = kind
        self.incomplete = incomplete
        self.reason = message.split(": ", 1)[1] if item and message.startswith(f"{item}: ") else message


@dataclass(frozen=True)
class UnreadableFrame(Frame):
    """A part whose image could not be used; ``image`` is a grey placeholder, never analysed."""

    reason: str = ""
    kind: str = UNREADABLE
    incomplete: bool = False
    file_sha256: str = ""  # of the bytes received, when any were read
    n_bytes: int = 0


def placeholder_image() -> np.ndarray:
    """A 64 x 64 grey image with a dark cross: what is shown and stored for an unreadable part."""
    img = np.full((64, 64, 3), 160, np.uint8)
    idx = np.arange(64)
    img[idx, idx] = img[idx, 63 - idx] = 40
    return img


def unreadable_frame(err: ImageRejected, *, source: str, index: int, name: str, path: str = "",
                     data: bytes | None = None) -> UnreadableFrame:
    """The frame a source yields for a refused image (the line records it as REVIEW)."""
    return UnreadableFrame(image=placeholder_image(), source=source, index=index, name=name, path=path,
                           reason=err.reason, kind=err.kind, incomplete=err.incomplete,
                           file_sha256=hashlib.sha256(data).hexdigest() if data else "",
                           n_bytes=len(data) if data else 0)


def _reject(name: str, reason: str, kind: str = UNREADABLE, incomplete: bool = False) -> ImageRejected:
    return ImageRejected(f"{name or 'image'}: {reason}", item=name, kind=kind, incomplete=incomplete)


def read_file_bytes(path: str | Path, limits: ImageLimits | None = None) -> bytes:
    """The bytes of a regular file, at most ``limits.max_bytes``; never blocks on a FIFO or device."""
    limits = limits or ImageLimits()
    p = str(path)
    try:
        st = os.stat(p)
        if not stat.S_ISREG(st.st_mode):
            raise _reject(p, "not a regular file (a folder, FIFO or device named like an image)", UNSUPPORTED)
        if st.st_size > limits.max_bytes:
            raise _reject(p, f"{st.st_size} bytes, more than the limit of {limits.max_bytes} "
                             "(setting max_image_bytes)", UNSUPPORTED)
        with open(p, "rb") as fh:
            data = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        raise _reject(p, f"cannot read ({exc.strerror or exc})", incomplete=True) from exc
    if len(data) > limits.max_bytes:
        raise _reject(p, f"more than {limits.max_bytes} bytes (setting max_image_bytes)", UNSUPPORTED)
    return data


def probe_header(data: bytes, name: str = "", limits: ImageLimits | None = None) -> tuple[int, int, str, str]:
    """(width, height, Pillow mode, format) from the header alone; ImageRejected when the file
    cannot be inspected. Nothing is decoded, so a decompression bomb costs a few bytes."""
    from PIL import Image

    limits = limits or ImageLimits()
    if not data:
        raise _reject(name, "empty file (0 bytes)", incomplete=True)
    if len(data) > limits.max_bytes:
        raise _reject(name, f"{len(data)} bytes, more than the limit of {limits.max_bytes} "
                            "(setting max_image_bytes)", UNSUPPORTED)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about bombs and odd EXIF: we decide below
            with Image.open(io.BytesIO(data)) as im:
                (w, h), mode, fmt = im.size, im.mode, im.format or ""
                if fmt == "PNG":
                    im.verify()  # chunk CRCs and the end chunk: a truncated PNG stops here
    except Image.DecompressionBombError as exc:  # Pillow refuses > 2x its own limit before we see the size
        found = re.search(r"\((\d+) pixels\)", str(exc))
        declared = f"{int(found.group(1)) / 1e6:.1f} MP" if found else "too many pixels"
        raise _reject(name, f"declares {declared}, more than the limit of {limits.max_pixels / 1e6:.1f} MP "
                            "(setting max_image_pixels): a decompression bomb or a wrong file",
                      UNSUPPORTED) from None
    except Exception as exc:  # noqa: BLE001 - Pillow's parsers raise many kinds on hostile bytes
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _reject(name, f"not a readable image: damaged, truncated or no image format ({text[:120]})",
                      incomplete=True) from None
    if fmt not in FORMATS:
        raise _reject(name, f"{fmt or 'unknown'} format: the station reads PNG, JPEG, BMP, TIFF and WebP",
                      UNSUPPORTED)
    if w <= 0 or h <= 0:
        raise _reject(name, f"declares an empty image ({w}x{h} px)")
    if w * h > limits.max_pixels:
        raise _reject(name, f"declares {w}x{h} px ({w * h / 1e6:.1f} MP), more than the limit of "
                            f"{limits.max_pixels / 1e6:.1f} MP (setting max_image_pixels)", UNSUPPORTED)
    refused = _MODES_REFUSED.get(mode) or ("16-bit pixels (the station inspects 8-bit images)"
                                           if mode.startswith("I;16") else None)
    if refused:
        raise _reject(name, f"{w}x{h} px with {refused}", UNSUPPORTED)
    if fmt in ("JPEG", "MPO") and b"\xff\xd9" not in data[-4096:]:
        raise _reject(name, "truncated JPEG (no end-of-image marker)", incomplete=True)
    if fmt == "WEBP" and int.from_bytes(data[4:8], "little") + 8 > len(data):
        raise _reject(name, "truncated WebP (shorter than its header says)", incomplete=True)
    return w, h, mode, fmt


def decode_image_bytes(data: bytes, name: str = "", limits: ImageLimits | None = None) -> np.ndarray:
    """Decode encoded image bytes to RGB uint8 (H, W, 3) after checking the header against ``limits``.

    Raises :class:`ImageRejected` (a ``SourceError``) naming the file and the reason.
    """
    import cv2

    w, h, _mode, _fmt = probe_header(data, name, limits)
    try:
        img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise _reject(name, f"not a readable image ({str(exc).strip().splitlines()[-1][:120]})") from None
    if img is None:
        raise _reject(name, "not a readable image: damaged or truncated", incomplete=True)
    if img.dtype == np.uint16:
        raise _reject(name, f"{w}x{h} px with 16-bit pixels (the station inspects 8-bit images)", UNSUPPORTED)
    if img.dtype != np.uint8:
        raise _reject(name, f"{w}x{h} px with {img.dtype} pixels (the station inspects 8-bit images)",
                      UNSUPPORTED)
    return to_rgb(img, name)


def to_rgb(img: np.ndarray, name: str = "") -> np.ndarray:
    """An OpenCV image (gray, BGR, BGRA; 16-bit scaled) -> RGB uint8. ImageRejected for other shapes."""
    import cv2

    if img.dtype == np.uint16:
        img = (img / 257.0).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 1):
        return cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2RGB)
    if img.ndim == 3 and img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    if img.ndim == 3 and img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    raise _reject(name, f"unsupported image shape {img.shape}", UNSUPPORTED)


def read_image(path: str | Path, limits: ImageLimits | None = None) -> np.ndarray:
    """Read an image file as RGB uint8. Raises :class:`ImageRejected` naming the file on failure."""
    return decode_image_bytes(read_file_bytes(path, limits), str(path), limits)
