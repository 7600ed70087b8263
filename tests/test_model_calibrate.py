"""Threshold calibration from good-part scores alone."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.model import calibrate as C
from inspector.model.base import ModelError


def test_gumbel_fit_recovers_parameters():
    rng = np.random.default_rng(0)
    x = rng.gumbel(30.0, 2.0, 5000)
    loc, beta = C.gumbel_fit(x)
    assert loc == pytest.approx(30.0, abs=0.1)
    assert beta == pytest.approx(2.0, abs=0.1)
    q = C.gumbel_quantile(0.99, loc, beta)
    assert np.mean(x > q) == pytest.approx(0.01, abs=0.004)
    assert C.gumbel_sf(q, loc, beta) == pytest.approx(0.01, rel=1e-6)


@pytest.mark.parametrize("n", [10, 30, 50])
def test_threshold_from_few_scores_hits_target_rate_on_new_parts(n):
    """Averaged over many small teach sets, the false-reject rate on new parts is near target."""
    rng = np.random.default_rng(n)
    rates, review = [], []
    for _ in range(200):
        cal = C.calibrate(rng.gumbel(25.0, 1.5, n), 0.01)
        new = rng.gumbel(25.0, 1.5, 2000)
        rates.append(np.mean(new >= cal.threshold))
        review.append(np.mean(new >= cal.review_low))
        assert cal.review_low < cal.threshold
    assert 0.004 < np.mean(rates) < 0.03
    assert 0.02 < np.mean(review) < 0.08  # REVIEW band + rejects ~ 4 % of good parts


def test_mislabelled_good_part_is_left_out_and_counted():
    rng = np.random.default_rng(1)
    scores = list(rng.gumbel(25.0, 1.0, 20)) + [60.0]
    cal = C.calibrate(scores, 0.01)
    clean = C.calibrate(scores[:-1], 0.01)
    assert cal.n_outliers == 1
    assert cal.threshold == pytest.approx(clean.threshold)
    assert len(cal.good_scores) == 21


def test_floor_and_normalised_levels():
    cal = C.calibrate([0.1, 0.11, 0.12, 0.1, 0.13], 0.01, floor=1.5)
    assert cal.threshold == 1.5
    assert 0 < cal.review_low <= cal.threshold
    assert cal.pixel_level == pytest.approx(cal.review_low / cal.threshold)


def test_round_trip_and_errors():
    cal = C.calibrate([1.0, 1.2, 1.1, 1.3, 0.9, 1.05], 0.02)
    assert C.Calibration.from_dict(cal.to_dict()) == cal
    with pytest.raises(ModelError, match="false-reject"):
        C.calibrate([1.0, 2.0, 3.0], 0.0)
    with pytest.raises(ModelError, match="at least 2"):
        C.calibrate([1.0], 0.01)
    with pytest.raises(ModelError):
        C.calibrate([1.0, float("nan"), 2.0], 0.01)


def test_folds_cover_each_index_once():
    f = C.folds(23, 5, seed=3)
    assert len(f) == 5
    allidx = np.sort(np.concatenate(f))
    assert allidx.tolist() == list(range(23))
    assert len(C.folds(3, 5)) == 3
