"""ELPV solar cells: the real teach-from-good benchmark (teach on good cells, inspect good and defective).

ELPV (PyPI ``elpv-dataset``, CC BY-NC-SA 4.0, Deitsch et al. 2019) holds 2,624 300 x 300
electroluminescence images of solar cells, each with a defect probability 0, 1/3, 2/3 or 1
given by experts, and the module type (mono or poly). It is read here for **evaluation
only**: never copied into the repository, never used for shipped weights.

Protocol, per module type: ``n_teach`` defect-free cells (seeded draw) teach the part with the
shipped default configuration; up to ``n_test`` other defect-free cells and up to ``n_test``
cells with defect probability >= 2/3 are inspected through the full backend and judged against
a solar-cell work order parsed by the real parser (cracks, inactive areas, finger
interruptions banned, and a catch-all "No other defects permitted"). Reported:

* ``auroc``: of the image anomaly score, defective vs good (threshold-free);
* ``miss_rate``: defective cells judged OK; ``false_reject_rate``: good cells judged NG;
  ``false_call_rate``: good cells judged NG or REVIEW (both need a person or a bin);
* ``review_rate_good`` / ``review_rate_bad`` and the verdict counts;
* ``estimated_miss`` / ``estimated_false_reject``: what teaching predicted (synthetic
  limit-size defects on held-out good cells), to compare the estimate with the truth.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from inspector.errors import InspectorError

ORDER_TEXT = """Order: EVAL-ELPV
Part: {part}
Pixel size: 0.52 mm/px
1. No cracks.
2. No inactive areas.
3. No finger interruptions.
4. No other defects permitted.
"""
BAD_MIN_PROBABILITY = 0.6  # ELPV's 2/3 and 1 classes


class DatasetMissing(InspectorError, RuntimeError):
    """The ``elpv-dataset`` package is not installed (``pip install elpv-dataset``)."""


def load_elpv() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images (N, 300, 300) uint8, defect probabilities (N,), module types (N,)) from the package."""
    try:
        from elpv_dataset.utils import load_dataset
    except ImportError as exc:
        raise DatasetMissing("the ELPV data set is not installed: pip install elpv-dataset (evaluation only, "
                             "CC BY-NC-SA 4.0)") from exc
    images, probs, types = load_dataset()
    return np.asarray(images), np.asarray(probs, float), np.asarray(types).astype(str)


def auroc(negatives: Sequence[float], positives: Sequence[float]) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties counted half); None when a class is empty."""
    neg, pos = np.asarray(negatives, float), np.asarray(positives, float)
    if not len(neg) or not len(pos):
        return None
    allv = np.concatenate([neg, pos])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(len(allv))
    sorted_v = allv[order]
    i = 0
    while i < len(allv):  # average ranks over ties
        j = i
        while j + 1 < len(allv) and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[len(neg) :].sum() - len(pos) * (len(pos) + 1) / 2) / (len(neg) * len(pos)))


def split(probs: np.ndarray, types: np.ndarray, module: str, n_teach: int, n_test: int, seed: int = 0):
    """(teach, good test, defective test) index arrays of one module type (seeded, disjoint)."""
    rng = np.random.default_rng(seed)
    good = np.flatnonzero((types == module) & (probs == 0))
    bad = np.flatnonzero((types == module) & (probs >= BAD_MIN_PROBABILITY))
    good, bad = rng.permutation(good), rng.permutation(bad)
    return good[:n_teach], good[n_teach : n_teach + n_test], bad[:n_test]


def _rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[:, :, None], 3, axis=2) if gray.ndim == 2 else gray


def module_row(backend, images, probs, types, module: str, n_teach: int, n_test: int, seed: int,
               progress: Callable[[str], None] | None = None) -> dict:
    """Teach one module type, inspect its test cells, and score the verdicts."""
    from inspector.spec import judge
    from inspector.workorder import parse_work_order

    teach, test_good, test_bad = split(probs, types, module, n_teach, n_test, seed)
    part = f"ELPV-{module.upper()}"
    order = parse_work_order(ORDER_TEXT.format(part=part), source_name="elpv-order.txt")
    t0 = time.perf_counter()
    taught = backend.teach(part, [_rgb(images[i]) for i in teach], work_order=order, seed=seed)
    teach_s = time.perf_counter() - t0
    if progress:
        progress(f"elpv {module}: taught {len(teach)} cells in {teach_s:.0f} s; inspecting "
                 f"{len(test_good)} good + {len(test_bad)} defective")
    scores: dict[str, list[float]] = {"good": [], "bad": []}
    verdicts: dict[str, dict[str, int]] = {k: {"OK": 0, "NG": 0, "REVIEW": 0} for k in scores}
    ms = []
    for kind, idx in (("good", test_good), ("bad", test_bad)):
        for s in range(0, len(idx), 16):
            batch = [_rgb(images[i]) for i in idx[s : s + 16]]
            t1 = time.perf_counter()
            analyses = backend.analyze_batch(batch, order)
            ms.append((time.perf_counter() - t1) * 1000 / len(batch))
            for a in analyses:
                scores[kind].append(a.image_score)
                v = judge(a.findings, order, type_min=float(a.thresholds.get("type_min", 0.0)),
                          image_size=(300, 300))
                verdicts[kind][v.kind.value] += 1
    ng, nb = max(1, len(test_good)), max(1, len(test_bad))
    est = taught.extra
    return {
        "module": module, "teach": int(len(teach)), "good": int(len(test_good)), "defective": int(len(test_bad)),
        "auroc": auroc(scores["good"], scores["bad"]),
        "miss_rate": verdicts["bad"]["OK"] / nb,
        "false_reject_rate": verdicts["good"]["NG"] / ng,
        "false_call_rate": (verdicts["good"]["NG"] + verdicts["good"]["REVIEW"]) / ng,
        "review_rate_good": verdicts["good"]["REVIEW"] / ng,
        "review_rate_bad": verdicts["bad"]["REVIEW"] / nb,
        "verdicts_good": verdicts["good"], "verdicts_defective": verdicts["bad"],
        "estimated_miss": est.get("estimated_miss"), "estimated_false_reject": taught.target_false_reject,
        "teach_s": round(teach_s, 1), "ms_per_image": float(np.mean(ms)) if ms else None,
    }


def elpv_protocol(backend, n_teach: int = 40, n_test: int = 150, seed: int = 0,
                  modules: Sequence[str] = ("mono", "poly"), progress: Callable[[str], None] | None = None,
                  data: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> dict:
    """Rows per module type and their pooled figures (``data`` overrides the package, for tests)."""
    images, probs, types = data if data is not None else load_elpv()
    rows = [module_row(backend, images, probs, types, m, n_teach, n_test, seed, progress) for m in modules]
    pooled_n = {k: sum(r[k] for r in rows) for k in ("good", "defective")}

    def pooled(key: str, weight: str) -> float:
        return sum(r[key] * r[weight] for r in rows) / max(1, pooled_n[weight])

    aurocs = [r["auroc"] for r in rows if r["auroc"] is not None]
    return {
        "auroc": float(np.mean(aurocs)) if aurocs else None,
        "miss_rate": pooled("miss_rate", "defective"),
        "false_reject_rate": pooled("false_reject_rate", "good"),
        "false_call_rate": pooled("false_call_rate", "good"),
        "modules": rows, "seed": seed,
    }
