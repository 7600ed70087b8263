"""Helpers for the zone-editor tests: an order with zones to draw, a part image, a fake backend.

The backend finds dark blobs as scratches and places them in zones with the model's own
membership code (``inspector.model.measure``) from the work order it is handed, so a test
sees whether judging received the drawn zones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inspector.domain import Analysis, Explanation, Finding, ModelInfo
from inspector.model.measure import region_from_mask, zone_boxes

ORDER_TEXT = """\
Work order: WO-7001
Part: BR-700
Lot: L-1
Pixel size: 0.05 mm
Zone A "sealing face": x 1-4 mm, y 1-4 mm
Zone M "mounting face": to be drawn on the golden image.

1. Scratches up to 1.0 mm long are allowed outside zone A.
2. No scratches on the mounting face.
3. No cracks.
"""

SIZE = 200  # px, square image; 0.05 mm/px -> 10 mm
SCRATCH = (120, 60, 14, 3)  # x, y, w, h in px: 0.7 mm long, allowed by clause 1, inside zone M once drawn


def write_order(folder: Path) -> Path:
    path = folder / "WO-7001_zones.txt"
    path.write_text(ORDER_TEXT, encoding="utf-8")
    return path


def part_image(scratch: bool = True) -> np.ndarray:
    """A grey part with a darker plate and, optionally, one dark scratch (RGB uint8)."""
    img = np.full((SIZE, SIZE, 3), 170, np.uint8)
    img[20:180, 20:180] = (140, 150, 160)
    img[100:170, 40:90] = (110, 120, 150)
    if scratch:
        x, y, w, h = SCRATCH
        img[y : y + h, x : x + w] = 20
    return img


class ScratchBackend:
    """Every blob darker than 60 is a scratch; its zones come from the work order it is given."""

    def __init__(self) -> None:
        self.orders: list = []  # the work orders analyze received

    def load(self, device: str) -> None:
        pass

    def is_taught(self, part_number: str) -> bool:
        return True

    def info(self) -> ModelInfo:
        return ModelInfo("fake-scratch", "1", "0" * 64)

    def analyze(self, image: np.ndarray, work_order) -> Analysis:
        import cv2

        self.orders.append(work_order)
        h, w = image.shape[:2]
        dark = (image.max(axis=2) < 60).astype(np.uint8)
        n, labels = cv2.connectedComponents(dark)
        score = np.full((h, w), 3.0, np.float32)
        px = work_order.pixel_size_mm or 1.0
        findings = []
        for i in range(1, n):
            r = region_from_mask(labels == i, score, zones=zone_boxes(work_order, w, h))
            findings.append(
                Finding(
                    r,
                    "scratch",
                    0.95,
                    length_mm=r.length_px * px,
                    width_mm=r.width_px * px,
                    area_mm2=r.area_px * px * px,
                )
            )
        return Analysis(
            np.zeros((h, w), np.float32),
            3.0 if findings else 0.1,
            findings,
            {"threshold": 1.0, "review_low": 0.8, "type_min": 0.5},
            self.info(),
        )

    def explain(self, image, analysis, verdict, work_order) -> Explanation:
        return Explanation("fake", fallback=True, generator="template")
