"""Overlays of findings on part images: heat map, outcome-coloured outlines, size labels.

Pure numpy + OpenCV (no Qt), so the desktop UI, reports and certificates draw the same picture.
Images are (H, W, 3) uint8 RGB; findings are in the image's pixel coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from inspector.domain import Finding, Verdict, VerdictKind

from .errors import OverlayError
from .outcomes import _RANK, OUTCOME_RGB, VERDICT_RGB, finding_outcomes

__all__ = ["OUTCOME_RGB", "VERDICT_RGB", "finding_outcomes", "render_overlay", "thumbnail", "resize_max",
           "encode_jpeg", "finding_label", "size_text"]

def size_text(f: Finding, ascii_only: bool = False) -> str:
    """The finding's size as a reader wants it: length, else diameter, else area, else pixels."""
    if f.length_mm is not None:
        return f"{f.length_mm:.2f} mm"
    if f.diameter_mm is not None:
        return f"\u2300 {f.diameter_mm:.2f} mm" if not ascii_only else f"d {f.diameter_mm:.2f} mm"
    if f.area_mm2 is not None:
        return f"{f.area_mm2:.2f} mm2" if ascii_only else f"{f.area_mm2:.2f} mm\u00b2"
    return f"{f.region.length_px:.0f} px"


def finding_label(f: Finding) -> str:
    """Short label drawn beside a region, e.g. ``scratch 0.80 mm`` (``?`` when the type is unsure)."""
    t = f.defect_type + ("?" if f.type_uncertain else "")
    return f"{t} {size_text(f, ascii_only=True)}"


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        raise OverlayError(f"image must be an (H, W, 3) RGB array, got shape {shape}")
    if image.dtype != np.uint8:
        raise OverlayError(f"image must be uint8, got {image.dtype}")
    return image


def _blend_heatmap(image: np.ndarray, anomaly_map: np.ndarray, alpha_max: float) -> np.ndarray:
    amap = np.asarray(anomaly_map, dtype=np.float32)
    if amap.ndim == 3 and amap.shape[2] == 1:
        amap = amap[:, :, 0]
    if amap.ndim != 2 or amap.size == 0:
        raise OverlayError(f"anomaly_map must be a 2-D array, got shape {amap.shape}")
    amap = np.nan_to_num(amap, nan=0.0, posinf=2.0, neginf=0.0)
    h, w = image.shape[:2]
    if amap.shape != (h, w):
        amap = cv2.resize(amap, (w, h), interpolation=cv2.INTER_LINEAR)
    # Fixed scale so maps compare across parts: 0 = blue, 1.0 (threshold) = yellow-green, >=2 = red.
    level = np.clip(amap / 2.0, 0.0, 1.0)
    heat_bgr = cv2.applyColorMap((level * 255).astype(np.uint8), cv2.COLORMAP_JET)
    heat = heat_bgr[:, :, ::-1].astype(np.float32)
    alpha = (alpha_max * np.clip(amap, 0.0, 1.0))[:, :, None]
    return (image.astype(np.float32) * (1.0 - alpha) + heat * alpha).round().astype(np.uint8)


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _draw_label(img: np.ndarray, text: str, x: int, y: int, colour, scale: float, thick: int,
                taken: list[tuple[int, int, int, int]] | None = None) -> None:
    """Text on a filled box just above (x, y); moved up/down when it would cover another label."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    h, w = img.shape[:2]
    pad = max(1, thick)
    bw, bh = tw + 2 * pad, th + base + 2 * pad
    x = int(min(max(0, x), max(0, w - bw)))
    first = y - bh
    if first < 0:  # no room above the region: put the label below its top edge
        first = min(max(0, y), max(0, h - bh))
    top = first
    if taken is not None:
        for k in (0, -1, 1, -2, 2, -3, 3, -4, 4):
            cand = min(max(0, first + k * (bh + 1)), max(0, h - bh))
            if not any(_overlaps((x, cand, x + bw, cand + bh), r) for r in taken):
                top = cand
                break
        taken.append((x, top, x + bw, top + bh))
    cv2.rectangle(img, (x, top), (x + bw, top + bh), colour, -1)
    ink = (0, 0, 0) if sum(colour) > 400 else (255, 255, 255)
    cv2.putText(img, text, (x + pad, top + pad + th), font, scale, ink, thick, cv2.LINE_AA)


def render_overlay(
    image: np.ndarray,
    findings: Sequence[Finding],
    anomaly_map: np.ndarray | None = None,
    verdict: Verdict | None = None,
    *,
    scale: float = 1.0,
    labels: bool = True,
    heat_alpha: float = 0.5,
) -> np.ndarray:
    """Draw findings (and the anomaly heat map, when given) on a copy of ``image``.

    Args:
        image: (H, W, 3) uint8 RGB.
        findings: regions in the coordinates of the *original* image; ``scale`` maps them to
            ``image`` (use it when ``image`` is a resized copy).
        anomaly_map: threshold-normalised map (1.0 = threshold), any resolution; resized to the
            image and blended with alpha rising to ``heat_alpha`` at the threshold.
        verdict: colours each outline by the worst clause outcome of its finding (red fail,
            amber review, green pass, blue unchecked) and adds a verdict tag in the corner.
        labels: write ``"<type> <size>"`` beside each region, e.g. ``scratch 0.80 mm``.

    Returns a new (H, W, 3) uint8 RGB array; the input is not modified.
    Raises :class:`OverlayError` for a wrong image or map shape/dtype.
    """
    _check_image(image)
    out = _blend_heatmap(image, anomaly_map, heat_alpha) if anomaly_map is not None else image.copy()
    out = np.ascontiguousarray(out)
    h, w = out.shape[:2]
    thick = max(1, round(min(h, w) / 300))
    font_scale = max(0.35, min(h, w) / 700)
    outcomes = finding_outcomes(findings, verdict)
    # Draw the least serious first so red outlines end up on top.
    order = sorted(range(len(findings)), key=lambda i: _RANK[outcomes[i]])
    for i in order:
        f = findings[i]
        colour = OUTCOME_RGB[outcomes[i]]
        x, y, bw, bh = (int(round(v * scale)) for v in f.region.box)
        if len(f.region.contour) >= 3:
            pts = (np.asarray(f.region.contour, dtype=np.float64) * scale).round().astype(np.int32)
            cv2.polylines(out, [pts.reshape(-1, 1, 2)], True, colour, thick + 1, cv2.LINE_AA)
            # A faint box as well so tiny contours are still found by eye.
            cv2.rectangle(out, (x - 2 * thick, y - 2 * thick), (x + bw + 2 * thick, y + bh + 2 * thick),
                          colour, 1)
        else:
            cv2.rectangle(out, (x, y), (x + max(1, bw), y + max(1, bh)), colour, thick + 1)
    taken: list[tuple[int, int, int, int]] = []
    if verdict is not None:
        kind = VerdictKind(verdict.kind).value
        _draw_label(out, kind, 0, 0, VERDICT_RGB[kind], font_scale * 1.2, max(1, thick), taken)
    if labels:
        for i in reversed(order):  # most serious first, so they keep their natural place
            f = findings[i]
            x, y, _, _ = (int(round(v * scale)) for v in f.region.box)
            _draw_label(out, f"{i + 1}: {finding_label(f)}", x, y - 2 * thick, OUTCOME_RGB[outcomes[i]],
                        font_scale, max(1, thick - 1 + (1 if font_scale > 0.8 else 0)), taken)
    return out


def resize_max(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Shrink so the longer side is at most ``max_side`` (never enlarges). Returns (image, scale)."""
    _check_image(image)
    h, w = image.shape[:2]
    s = min(1.0, max_side / float(max(h, w)))
    if s >= 1.0:
        return image, 1.0
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), s


def thumbnail(
    image: np.ndarray,
    max_side: int = 320,
    findings: Sequence[Finding] = (),
    anomaly_map: np.ndarray | None = None,
    verdict: Verdict | None = None,
    *,
    labels: bool = True,
) -> np.ndarray:
    """A small copy of ``image`` (longer side <= ``max_side`` px), with the overlay drawn at that
    size when findings, a map or a verdict are given (labels stay legible; shrinking first is
    much cheaper than drawing on a multi-megapixel image)."""
    if max_side < 8:
        raise OverlayError(f"max_side must be at least 8 px, got {max_side}")
    small, s = resize_max(image, max_side)
    if not findings and anomaly_map is None and verdict is None:
        return small.copy() if small is image else small
    return render_overlay(small, findings, anomaly_map, verdict, scale=s, labels=labels)


def encode_jpeg(image: np.ndarray, quality: int = 80) -> bytes:
    """JPEG bytes of an RGB image (for thumbnails embedded in PDFs)."""
    _check_image(image)
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(image[:, :, ::-1]),
                           [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
    if not ok:
        raise OverlayError("JPEG encoding failed")
    return buf.tobytes()
