"""Limit-size probe defects painted on held-out good images, to estimate the miss rate at teach time.

Calibration alone only knows good parts: it says how many good parts a threshold rejects, not
how many defects it lets through. Teaching therefore also paints *probes* (a thin line of the
length a work order limits, a disc of the diameter it limits, a blob of the area it limits)
on the good images held out of each calibration fold and scores them against the fold's
memory bank, exactly as a new part would be scored. The share of probes whose score stays
under the REVIEW band is the estimated miss rate at that threshold.

Probes are drawn with a modest contrast (``CONTRAST`` of the image's 1-99 % grey range,
at least ``MIN_DELTA`` grey levels, dark or bright at random, edges antialiased): a defect at
the limit of what an order allows is seldom a stark one. The estimate is an estimate: real
defects have their own shapes and contrasts; the ELPV row of ``inspector eval`` compares it
with the truth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from inspector.domain import WorkOrder

CONTRAST = 0.25  # probe contrast, share of the image's p1..p99 grey range
MIN_DELTA = 18.0  # grey levels at least
LINE_TYPES = {"scratch", "crack", "hairline", "line", "scuff", "tool mark", "crease", "fold", "weld line",
              "flow line", "broken finger", "cold shut", "lap", "seam", "undercut", "tear"}
DEFAULT_LINE_FRAC = 0.06  # without sizes: line of 6 % of the short side ...
DEFAULT_DISC_FRAC = 0.02  # ... and a disc of 2 %
MAX_SPECS = 4


@dataclass(frozen=True)
class ProbeSpec:
    """One probe shape: 'line' (size = length px) or 'disc' (size = diameter px), and its origin."""

    shape: str
    size_px: float
    what: str  # e.g. "scratch 1.00 mm (WO-1001 §2a)" or "line 6 % of the image"


def specs_for(work_order: WorkOrder | None, width: int, height: int) -> list[ProbeSpec]:
    """Probe shapes of the sizes the work order limits (in px of a ``width`` x ``height`` image).

    Clauses with a length/diameter/width/area limit in mm give probes of the limit size when
    the order has a pixel size; otherwise (or when none gives a size) a line of
    ``DEFAULT_LINE_FRAC`` and a disc of ``DEFAULT_DISC_FRAC`` of the short side stand in.
    """
    short = float(min(width, height))
    out: list[ProbeSpec] = []
    px = work_order.pixel_size_mm if work_order is not None else None
    for c in work_order.clauses if (work_order is not None and px) else ():
        if not c.checkable or c.limit is None or c.limit <= 0 or c.comparison not in ("<=", "<"):
            continue
        if c.measure in ("length", "width", "diameter"):
            size = c.limit / px
        elif c.measure == "area":
            size = 2.0 * math.sqrt(c.limit / math.pi) / px
        else:
            continue
        shape = "line" if (c.measure == "length" or (c.defect_type or "") in LINE_TYPES) else "disc"
        if c.measure == "width":
            shape, size = "line", max(size * 8, short * DEFAULT_LINE_FRAC)
        size = float(min(max(size, 2.0), short * 0.5))
        spec = ProbeSpec(shape, size, f"{c.defect_type} {c.limit:g} {c.unit or 'mm'} ({work_order.order_id} {c.id})")
        if all(abs(s.size_px - spec.size_px) > 0.5 or s.shape != spec.shape for s in out):
            out.append(spec)
    if not out:
        out = [ProbeSpec("line", short * DEFAULT_LINE_FRAC, f"line {DEFAULT_LINE_FRAC:.0%} of the image side"),
               ProbeSpec("disc", short * DEFAULT_DISC_FRAC, f"disc {DEFAULT_DISC_FRAC:.0%} of the image side")]
    return sorted(out, key=lambda s: s.size_px)[:MAX_SPECS]


def paint(image: np.ndarray, spec: ProbeSpec, rng: np.random.Generator,
          keep_out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(copy of ``image`` with one probe painted, its mask (H, W) bool). ``keep_out``: pixels to avoid."""
    import cv2

    h, w = image.shape[:2]
    gray = image.mean(axis=2) if image.ndim == 3 else image.astype(np.float32)
    lo, hi = np.percentile(gray, (1, 99))
    delta = max(MIN_DELTA, CONTRAST * float(hi - lo))
    r = spec.size_px / 2
    margin = int(min(max(r + 2, 4), min(h, w) / 2 - 1))
    for _ in range(20):
        cx, cy = rng.uniform(margin, w - margin), rng.uniform(margin, h - margin)
        if keep_out is None or not keep_out[int(cy), int(cx)]:
            break
    ss = 4  # supersampled drawing for antialiased edges
    canvas = np.zeros((h * ss, w * ss), np.uint8)
    if spec.shape == "line":
        a = rng.uniform(0, math.pi)
        dx, dy = math.cos(a) * r, math.sin(a) * r
        p0 = (int((cx - dx) * ss), int((cy - dy) * ss))
        p1 = (int((cx + dx) * ss), int((cy + dy) * ss))
        cv2.line(canvas, p0, p1, 255, thickness=max(1, int(round(1.5 * ss))), lineType=cv2.LINE_AA)
    else:
        cv2.circle(canvas, (int(cx * ss), int(cy * ss)), max(1, int(r * ss)), 255, -1, lineType=cv2.LINE_AA)
    alpha = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    sign = -1.0 if (rng.random() < 0.5 and lo + delta < 255) or hi + delta > 255 else 1.0
    out = image.astype(np.float32)
    out += (sign * delta * alpha)[:, :, None] if out.ndim == 3 else sign * delta * alpha
    return np.clip(out, 0, 255).astype(np.uint8), alpha > 0.25
