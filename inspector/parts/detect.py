"""Free-run part detection: a part enters the view, settles, is inspected once, and leaves.

Each frame is reduced to a small blurred grey thumbnail (cheap: well under a millisecond at the
analysis width). Two numbers decide:

- *motion*: the mean absolute grey change from the previous frame (0..255). Below
  ``motion`` the scene is still.
- *presence*: the fraction of the view that differs from the empty belt by more than
  ``DIFF_LEVEL`` grey levels. At or above ``presence`` a part is in view.

The empty belt is learned from the first ``settle_frames`` still frames of the run (start the
line with the view empty) and follows slow light changes while no part is in view. A part that
is present and still for ``settle_frames`` frames in a row is taken: the sharpest of those frames
(variance of the Laplacian) is the one inspected. The next part can start only after
``empty_frames`` frames without a part. Frames between parts, and a part that passes without
settling (counted in ``passed``), are never inspections.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inspector.domain import Frame

DIFF_LEVEL = 25.0  # grey levels a pixel must differ from the empty belt to count as part
WIDTH = 96  # analysis thumbnail width, pixels
SHARP_WIDTH = 640  # sharpness is measured at most at this width
BELT_RATE = 0.05  # how fast the empty belt follows light changes (per empty, still frame)


@dataclass(frozen=True)
class DetectionSettings:
    """Part detection parameters (settings ``part_motion``, ``part_presence``,
    ``part_settle_frames``, ``part_empty_frames``)."""

    motion: float = 2.0
    presence: float = 0.05
    settle_frames: int = 3
    empty_frames: int = 2

    def check(self) -> DetectionSettings:
        from inspector.parts.trigger import TriggerError

        if not 0.0 < self.motion <= 255.0:
            raise TriggerError(f"part_motion must be a grey-level change between 0 and 255, not {self.motion!r}")
        if not 0.0 < self.presence <= 1.0:
            raise TriggerError(f"part_presence must be a fraction of the view in (0, 1], not {self.presence!r}")
        if self.settle_frames < 1 or self.empty_frames < 1:
            raise TriggerError("part_settle_frames and part_empty_frames must be at least 1")
        return self


def _thumb(image: np.ndarray) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(gray, (WIDTH, max(1, round(h * WIDTH / max(w, 1)))), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(small.astype(np.float32), (5, 5), 0)


def sharpness(image: np.ndarray) -> float:
    """Variance of the Laplacian of the grey image (higher: sharper)."""
    import cv2

    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    h, w = gray.shape[:2]
    if w > SHARP_WIDTH:
        gray = cv2.resize(gray, (SHARP_WIDTH, max(1, round(h * SHARP_WIDTH / w))), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


class PartDetector:
    """Feed every frame in order; :meth:`feed` returns the frame to inspect once per part.

    ``settings`` may be replaced while frames are fed (the app's spin boxes tune a running line);
    ``motion``, ``presence`` and ``state`` are the last frame's readout.
    """

    EMPTY, ARRIVING, TAKEN = "empty", "arriving", "taken"

    def __init__(self, settings: DetectionSettings | None = None):
        self.settings = (settings or DetectionSettings()).check()
        self.state = self.EMPTY
        self.belt: np.ndarray | None = None
        self.parts = 0  # parts taken
        self.passed = 0  # parts that left without settling (not inspected)
        self.motion = 0.0  # of the last frame (for a live readout)
        self.presence = 0.0
        self._prev: np.ndarray | None = None
        self._still = 0
        self._empty = 0
        self._best: tuple[float, Frame] | None = None

    def feed(self, frame: Frame) -> Frame | None:
        s = self.settings
        small = _thumb(frame.image)
        if self._prev is None or self._prev.shape != small.shape:
            self._prev, self.belt, self._still = small, None, 0
        self.motion = float(np.mean(np.abs(small - self._prev)))
        self._prev = small
        still = self.motion < s.motion
        if self.belt is None:  # learn the empty belt first
            self._still = self._still + 1 if still else 0
            if self._still >= s.settle_frames:
                self.belt, self._still = small.copy(), 0
            return None
        self.presence = float(np.mean(np.abs(small - self.belt) > DIFF_LEVEL))
        present = self.presence >= s.presence
        self._empty = 0 if present else self._empty + 1
        if self.state == self.EMPTY:
            if present:
                self.state, self._still, self._best = self.ARRIVING, 0, None
            elif still:
                self.belt += BELT_RATE * (small - self.belt)
            return None
        if self.state == self.ARRIVING:
            if not present:
                if self._empty >= s.empty_frames:
                    self.state, self._best = self.EMPTY, None
                    self.passed += 1
                return None
            if not still:
                self._still, self._best = 0, None
                return None
            self._still += 1
            score = sharpness(frame.image)
            if self._best is None or score > self._best[0]:
                self._best = (score, frame)
            if self._still < s.settle_frames:
                return None
            taken, self._best = self._best[1], None
            self.state = self.TAKEN
            self.parts += 1
            return taken
        if self._empty >= s.empty_frames:  # TAKEN: wait until it has left
            self.state = self.EMPTY
        return None
