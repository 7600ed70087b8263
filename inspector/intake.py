"""What happens to a frame before the model sees it: images that cannot be judged become REVIEW records.

The line never stops for a bad image and never invents defects from one. An unreadable or
unsupported file (an :class:`~inspector.sources.UnreadableFrame`), an array the model refuses
(``inspector.model.localize.as_rgb``: float, bool, odd channels, too small or too large) and
an image whose size differs from the taught reference are each stored as a REVIEW inspection
whose reason says what is wrong, with no findings; the facade writes it like any other part.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import numpy as np

from inspector.domain import (
    Explanation,
    Frame,
    Inspection,
    ModelInfo,
    Verdict,
    VerdictKind,
    WorkOrder,
    utcnow,
)
from inspector.sources import ImageLimits, UnreadableFrame
from inspector.sources.decode import placeholder_image

GENERATOR = "image check"


def image_limits(settings: Any) -> ImageLimits:
    """The station's image limits (settings ``max_image_pixels`` and ``max_image_bytes``)."""
    default = ImageLimits()
    return ImageLimits(max_pixels=int(getattr(settings, "max_image_pixels", None) or default.max_pixels),
                       max_bytes=int(getattr(settings, "max_image_bytes", None) or default.max_bytes))


def taught_size(backend: Any, part_number: str) -> tuple[tuple[int, int], ...] | None:
    """The (width, height) sizes the part was taught on (several when taught on mixed sizes), when recorded."""
    from inspector.model.base import ModelError

    reference = getattr(backend, "reference", None)
    if reference is None:
        return None
    try:
        meta = reference(part_number).meta
    except (ModelError, OSError, ValueError, KeyError, AttributeError):
        return None  # not taught: analyze() says so in its own words
    sizes = meta.get("image_sizes") or [meta.get("image_size")]
    ok = [(int(s[0]), int(s[1])) for s in sizes
          if isinstance(s, (list, tuple)) and len(s) == 2 and all(isinstance(v, int) for v in s)]
    return tuple(ok) or None


def frame_problem(frame: Frame, taught: tuple[tuple[int, int], ...] | None) -> str | None:
    """Why this frame cannot be judged (the REVIEW reason), or None when the model may analyse it."""
    from inspector.model.localize import InvalidImageError, as_rgb

    if isinstance(frame, UnreadableFrame):
        return f"unreadable / unsupported image: {frame.reason}"
    try:
        as_rgb(frame.image)
    except InvalidImageError as exc:
        return f"unreadable / unsupported image: {exc}"
    if taught is not None and frame.size not in taught:
        (w, h), sizes = frame.size, " or ".join(f"{tw}x{th}" for tw, th in taught)
        return (f"image size {w}x{h} differs from the taught {sizes}: check the camera and framing, "
                "or teach the part at this size")
    return None


def storable(frame: Frame) -> Frame:
    """The frame as it can be kept as evidence: its own bytes or pixels, else the placeholder."""
    img = frame.image
    ok = isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 and img.size > 0
    if isinstance(frame, UnreadableFrame) or not ok:
        return dataclasses.replace(frame, image=placeholder_image(), encoded=None, ext=".png")
    return frame


def refused_inspection(frame: Frame, work_order: WorkOrder, reason: str, *, model: ModelInfo, station: str,
                       operator: str) -> Inspection:
    """The REVIEW record of a part whose image could not be judged: no findings, the reason first."""
    extra = ""
    if isinstance(frame, UnreadableFrame) and frame.file_sha256:
        extra = f" (file {frame.n_bytes} bytes, sha256 {frame.file_sha256})"
    w, h = frame.size
    text = (f"The station could not judge this part: {reason}{extra}. Nothing was measured; "
            "re-take the image or inspect the part by hand.")
    return Inspection(
        id=uuid.uuid4().hex, order_id=work_order.order_id, part_number=work_order.part_number,
        lot=work_order.lot, image_sha256="", source=frame.source, frame_name=frame.name, station=station,
        captured_at=frame.captured_at, inspected_at=utcnow(), model=model, thresholds={}, image_score=0.0,
        findings=[], verdict=Verdict(VerdictKind.REVIEW, (), (reason + extra,)), image_size=(w, h),
        pixel_size_mm=work_order.pixel_size_mm, operator=operator,
        explanation=Explanation(text, fallback=True, generator=GENERATOR),
        timings_ms={"capture": float(frame.capture_ms or 0.0)},
    )
