"""Thresholds from good parts alone.

Teaching scores every good image against a bank built *without* it (k-fold: each image is
held out once), so the scores are what a new good part would get. The image score is the
maximum of the anomaly map, and maxima of many patch distances follow a Gumbel law, so a
Gumbel fit (L-moments, robust for 10-50 samples) extrapolates the tail: the threshold is
its ``1 - target_false_reject`` quantile, which an empirical quantile of 10-50 scores cannot
reach for a 1 % target. Scores far above the rest (a defective part taught as good) are
left out of the fit and counted, so the station can warn.

The REVIEW band is ``[review_low, threshold)``: ``review_low`` is the ``1 - review_factor *
target`` quantile, so by default ~3 % of good parts go to a person and ~1 % are rejected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from inspector.model.base import ModelError

EULER_GAMMA = 0.5772156649015329
REVIEW_FACTOR = 4.0  # review_low = quantile at 1 - REVIEW_FACTOR * target_false_reject
OUTLIER_Z = 6.0  # robust z above which a good score is treated as a mislabelled part
MIN_GOOD = 5  # fewest good images a memory reference can be calibrated from


@dataclass(frozen=True)
class Calibration:
    """Raw-score thresholds of a taught part and the fit behind them."""

    threshold: float  # raw score at the target false-reject rate (normalised maps: 1.0)
    review_low: float  # raw score where the REVIEW band starts
    target_false_reject: float
    review_rate: float  # the good-part tail fraction that reaches review_low (incl. rejects)
    loc: float  # Gumbel location of the good-score fit
    beta: float  # Gumbel scale
    good_scores: tuple[float, ...]  # held-out raw scores of the taught good images
    n_outliers: int = 0  # good scores left out of the fit as implausible
    method: str = "gumbel-lmoments"

    @property
    def pixel_level(self) -> float:
        """Normalised map level at which regions are cut out (= review_low / threshold)."""
        return self.review_low / self.threshold

    def expected_false_reject(self, raw_score: float) -> float:
        """Fraction of good parts the fit expects above ``raw_score``."""
        return gumbel_sf(raw_score, self.loc, self.beta)

    def to_dict(self) -> dict:
        return {**asdict(self), "good_scores": list(self.good_scores)}

    @classmethod
    def from_dict(cls, d: dict) -> Calibration:
        return cls(**{**d, "good_scores": tuple(d.get("good_scores", ()))})


def gumbel_fit(x: Sequence[float]) -> tuple[float, float]:
    """(loc, scale) of a Gumbel (max) law fitted to ``x`` by L-moments."""
    a = np.sort(np.asarray(x, np.float64))
    n = len(a)
    if n < 2:
        raise ModelError("at least 2 scores are needed to fit a score distribution")
    b0 = a.mean()
    b1 = float(np.sum(np.arange(n) / (n - 1) * a) / n)
    l2 = 2 * b1 - b0
    beta = max(l2 / math.log(2), 1e-6 * max(abs(b0), 1e-12))
    return float(b0 - EULER_GAMMA * beta), float(beta)


def gumbel_quantile(p: float, loc: float, beta: float) -> float:
    """Score below which a fraction ``p`` of the fitted good parts fall."""
    return loc - beta * math.log(-math.log(p))


def gumbel_sf(x: float, loc: float, beta: float) -> float:
    """Fraction of fitted good parts scoring above ``x``."""
    return float(1.0 - math.exp(-math.exp(-(x - loc) / beta)))


def robust_outliers(x: Sequence[float], z: float = OUTLIER_Z) -> np.ndarray:
    """Boolean mask of scores more than ``z`` robust standard deviations above the median."""
    a = np.asarray(x, np.float64)
    med = np.median(a)
    mad = np.median(np.abs(a - med)) * 1.4826
    if mad <= 0:
        return np.zeros(len(a), bool)
    return (a - med) / mad > z


def calibrate(
    good_scores: Sequence[float],
    target_false_reject: float = 0.01,
    review_factor: float = REVIEW_FACTOR,
    floor: float = 0.0,
) -> Calibration:
    """Thresholds for held-out ``good_scores`` at ``target_false_reject`` (0 < t < 0.5).

    ``floor`` is a smallest allowed threshold (template mode uses it so a noise-free
    reference does not flag every grain of dust). Raises :class:`ModelError` for a bad target
    or fewer than 2 scores.
    """
    if not 0 < target_false_reject < 0.5:
        raise ModelError(f"target false-reject rate must be in (0, 0.5), got {target_false_reject}")
    scores = np.asarray(good_scores, np.float64)
    if len(scores) < 2 or not np.all(np.isfinite(scores)):
        raise ModelError(f"need at least 2 finite good scores to calibrate, got {len(scores)}")
    out = robust_outliers(scores) if len(scores) >= 8 else np.zeros(len(scores), bool)
    loc, beta = gumbel_fit(scores[~out])
    thr = gumbel_quantile(1.0 - target_false_reject, loc, beta)
    review_rate = min(0.5, review_factor * target_false_reject)
    low = gumbel_quantile(1.0 - review_rate, loc, beta) if review_rate > target_false_reject else thr
    if thr < floor:
        low, thr = low * floor / thr if thr > 0 else floor, floor
    low = min(low, thr)
    return Calibration(
        threshold=float(thr),
        review_low=float(low),
        target_false_reject=float(target_false_reject),
        review_rate=float(review_rate),
        loc=loc,
        beta=beta,
        good_scores=tuple(float(s) for s in scores),
        n_outliers=int(out.sum()),
    )


def folds(n: int, k: int = 5, seed: int = 0) -> list[np.ndarray]:
    """``min(k, n)`` disjoint held-out index sets covering ``range(n)`` (seeded shuffle)."""
    k = max(2, min(k, n))
    perm = np.random.default_rng(seed).permutation(n)
    return [np.sort(perm[i::k]) for i in range(k)]
