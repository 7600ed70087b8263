"""The backend contract: what the pipeline needs from any model (built-in or plugin).

A backend is loaded lazily (``load``) so importing it costs nothing; heavy imports
(torch, transformers) happen inside ``load`` or later.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from inspector.domain import Analysis, Explanation, ModelInfo, Verdict, WorkOrder
from inspector.errors import InspectorError

# progress(done, total, message) -> None; raise Cancelled from it (or check cancel) to stop.
Progress = Callable[[int, int, str], None]


class Cancelled(Exception):
    """Raised by a progress callback (or a cancel check) to stop long work cleanly."""


class ModelError(InspectorError):
    """The model cannot do what was asked (not taught, weights missing, bad input)."""


class NotTaughtError(ModelError):
    """analyze() was called for a part number that has no taught reference."""


@dataclass(frozen=True)
class LabelledExample:
    """A taught defect example: image + mask (or box) + the type word a person gave it."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    defect_type: str
    mask: np.ndarray | None = None  # (H, W) bool/uint8, nonzero = defect
    box: tuple[int, int, int, int] | None = None  # x, y, w, h when no mask


@dataclass(frozen=True)
class TeachResult:
    """What teaching produced, for the UI histogram and the audit trail."""

    part_number: str
    n_good: int
    threshold: float  # raw anomaly score at the calibrated threshold
    review_low: float  # raw score where the REVIEW band starts (below threshold)
    target_false_reject: float
    good_scores: tuple[float, ...] = ()  # leave-one-out raw image scores of the good images
    n_examples: int = 0
    template: bool = False
    path: str = ""  # where the reference is stored
    seconds: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)
    # estimated miss rates of limit-size probe defects (see inspector.model.probes): at the
    # threshold and at other false-reject targets ('operating_points'); empty in template mode
    miss_estimate: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # what the QE should know (mixed image sizes, pixel statistics off...)

    def operating_lines(self) -> list[str]:
        """The trade-off in words: false rejects vs estimated misses at this and other targets."""
        m = self.miss_estimate
        if not m:
            return []
        lines = [f"at this threshold: ~{self.target_false_reject:.1%} false rejects, "
                 f"~{m['estimated_miss']:.0%} of limit-size defects missed (pass as OK), "
                 f"~{m['estimated_not_rejected']:.0%} not rejected (OK or REVIEW); {m['n_probes']} probes"]
        for p in m.get("per_probe", ()):
            lines.append(f"  {p['probe']}: ~{p['estimated_miss']:.0%} missed")
        others = [p for p in m.get("operating_points", ()) if p["target_false_reject"] != self.target_false_reject]
        if others:
            lines.append("other targets: " + "; ".join(
                f"{p['target_false_reject']:.1%} false rejects -> ~{p['estimated_miss']:.0%} missed" for p in others))
        return lines


@runtime_checkable
class ModelBackend(Protocol):
    """A vision-language model behind the pipeline. See docs/architecture.md."""

    def load(self, device: str = "auto") -> None:
        """Load weights onto ``device`` ('auto' = cuda when present, else cpu)."""

    def info(self) -> ModelInfo:
        """Name, version and weights hash, recorded with every inspection."""

    def teach(
        self,
        part_number: str,
        good_images: Sequence[np.ndarray],
        examples: Sequence[LabelledExample] = (),
        template: np.ndarray | None = None,
        *,
        target_false_reject: float = 0.01,
        progress: Progress | None = None,
        work_order: WorkOrder | None = None,
    ) -> TeachResult:
        """Build and persist the reference for a part number from good images.

        ``work_order`` (optional): example labels must name its defect words, and its size
        limits set the probe defects of the miss-rate estimate.
        """

    def is_taught(self, part_number: str) -> bool: ...

    def analyze(self, image: np.ndarray, work_order: WorkOrder) -> Analysis:
        """Anomaly map, regions, types (from the order's vocabulary) and sizes in mm."""

    def explain(
        self, image: np.ndarray, analysis: Analysis, verdict: Verdict, work_order: WorkOrder
    ) -> Explanation:
        """1-3 checked sentences for an NG/REVIEW part; falls back to a template."""


def resolve_device(device: str = "auto") -> str:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'. Env INSPECTOR_DEVICE overrides 'auto'."""
    import os

    if device == "auto":
        device = os.environ.get("INSPECTOR_DEVICE", "auto")
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ModelError(f"device {device!r} requested but no CUDA GPU is available")
    return device


def weights_dir() -> Path:
    """Folder of the project-trained weights shipped inside the package."""
    return Path(__file__).resolve().parent / "weights"
