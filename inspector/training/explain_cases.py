"""Generated inspection cases for the explainer: (image, work order, findings, verdict).

Synthetic parts come from :mod:`inspector.training.synth` with 1-3 rendered defects, judged by
:func:`inspector.spec.judge` against a generated work order (parsed by the real work-order
parser, with random limits so that some defects pass and others fail). Real cases are BSData
ball-screw photos (CC BY-SA 4.0) whose pitting masks become findings, judged against
spindle-like orders. Findings are measured from the masks exactly as the model's pipeline
measures regions (:mod:`inspector.model.measure`). Only NG and REVIEW cases are kept: they
are the ones that get an explanation. NEU and DeepPCB are never used.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspector.domain import Analysis, Finding, ModelInfo, Verdict, VerdictKind, WorkOrder

EVAL_SEED_OFFSET = 1_000_003  # evaluation cases use seeds training never draws
_INFO = ModelInfo(name="generated-case", version="1", weights_hash="-")
THRESHOLDS = {"threshold": 1.0, "review_low": 0.8, "type_min": 0.5}
# synth type -> (singular, plural) as a spec writes it
_SPEC_WORDS = {
    "scratch": ("scratch", "Scratches"), "crack": ("crack", "Cracks"), "pitting": ("pit", "Pits"),
    "dent": ("dent", "Dents"), "stain": ("stain", "Stains"), "burr": ("burr", "Burrs"),
    "chip": ("chip", "Chips"), "inclusion": ("inclusion", "Inclusions"), "corrosion": ("corrosion", "Corrosion"),
    "missing_feature": ("missing feature", "Missing features"),
}
_MEASURE = {"scratch": "long", "crack": "long", "pitting": "diameter", "dent": "diameter",
            "stain": "diameter", "burr": "long", "chip": "long", "inclusion": "diameter", "corrosion": "long"}


@dataclass
class Case:
    """One generated inspection: what the explainer is given, plus where it came from."""

    image: np.ndarray
    analysis: Analysis
    verdict: Verdict
    work_order: WorkOrder
    source: str


def shared_data_dir() -> Path | None:
    """``$INSPECTOR_SHARED_DATA`` or ``<repo>/../shared/data`` when it exists."""
    env = os.environ.get("INSPECTOR_SHARED_DATA")
    cands = [Path(env)] if env else []
    cands.append(Path(__file__).resolve().parents[2].parent / "shared" / "data")
    for c in cands:
        if (c / "bsdata" / "manifest.csv").is_file():
            return c
    return None


def _clause(rng, t: str, px: float, zone: str) -> str:
    """One random acceptance sentence about type ``t`` (limits in mm relative to typical sizes)."""
    sing, plural = _SPEC_WORDS[t]
    lo, hi = {"scratch": (12, 90), "crack": (15, 70), "pitting": (4, 12), "dent": (12, 48), "stain": (20, 70),
              "burr": (5, 16), "chip": (8, 28), "inclusion": (4, 14), "corrosion": (20, 70)}.get(t, (10, 40))
    lim = float(rng.uniform(lo, hi)) * px
    lim_s = f"{lim:.1f}" if lim >= 0.2 else f"{lim:.2f}"
    m = _MEASURE.get(t, "long")
    size = f"{lim_s} mm long" if m == "long" else f"{lim_s} mm diameter"
    kind = rng.choice(["ban", "size", "size2", "zone", "count"] if t == "pitting" else
                      ["ban", "size", "size2", "zone"], p=[0.2, 0.25, 0.15, 0.2, 0.2] if t == "pitting" else
                      [0.3, 0.3, 0.2, 0.2])
    if t in ("missing_feature",):
        kind = "ban"
    if kind == "ban":
        return str(rng.choice([f"No {plural.lower()} anywhere on the part.", f"{plural} not permitted.",
                               f"No {plural.lower()}."]))
    if kind == "size":
        return f"{plural} up to {size} are allowed."
    if kind == "size2":
        word = "longer" if m == "long" else "larger"
        tail = "" if m == "long" else " diameter"
        return f"No {plural.lower()} {word} than {lim_s} mm{tail}."
    if kind == "zone":
        return f"{plural} up to {size} are allowed outside zone {zone}; no {plural.lower()} in zone {zone}."
    k = int(rng.integers(1, 4))
    return f"{plural} up to {size}, at most {k} per part."


def random_work_order(rng: np.random.Generator, size: tuple[int, int], types: list[str], px: float,
                      order_no: int) -> WorkOrder:
    """A parsed text work order naming ``types`` with random limits, one zone, a remark clause."""
    from inspector.workorder.loader import parse_work_order

    w, h = size
    zone = str(rng.choice(["A", "B", "S"]))
    zw, zh = rng.uniform(0.25, 0.6) * w * px, rng.uniform(0.25, 0.6) * h * px
    zx, zy = rng.uniform(0, w * px - zw), rng.uniform(0, h * px - zh)
    lines = ["WORK ORDER", f"Order: WO-{order_no}", f"Part: P-{int(rng.integers(100, 999))}",
             f"Pixel size: {px:g} mm/px",
             f"Zone {zone}: x {zx:.1f}-{zx + zw:.1f} mm, y {zy:.1f}-{zy + zh:.1f} mm", "", "Acceptance criteria:"]
    clauses = [_clause(rng, t, px, zone) for t in types]
    if rng.random() < 0.5:
        clauses.append("Surface finish shall be visually uniform; inspect under diffuse light.")
    order = rng.permutation(len(clauses))
    lines += [f"{k}. {clauses[i]}" for k, i in enumerate(order, 1)]
    return parse_work_order("\n".join(lines), fmt="text", source_name=f"generated WO-{order_no}")


def _finding(rng, mask: np.ndarray, t: str, wo: WorkOrder, size: tuple[int, int]) -> Finding | None:
    from inspector.model.measure import region_from_mask, sizes_mm, zone_boxes
    from inspector.workorder.vocabulary import canonical_type

    uncertain = rng.random() < 0.08
    score = float(rng.uniform(0.82, 0.99)) if uncertain else float(rng.uniform(1.2, 3.5))
    region = region_from_mask(mask, np.full(mask.shape, score, np.float32), zone_boxes(wo, *size))
    if region is None:
        return None
    ctype = "unknown" if rng.random() < 0.03 else canonical_type(t)
    tu = rng.random() < 0.08
    ts = float(rng.uniform(0.2, 0.45)) if tu else float(rng.uniform(0.6, 0.95))
    cands = ((ctype, ts),)
    if tu:
        other = canonical_type(str(rng.choice([k for k in _SPEC_WORDS if k != t])))
        cands = ((ctype, ts), (other, ts * 0.8))
    return Finding(region=region, defect_type=ctype, type_score=ts, type_candidates=cands,
                   **sizes_mm(region, wo.pixel_size_mm), uncertain=uncertain, type_uncertain=tu)


def _components(mask: np.ndarray) -> list[np.ndarray]:
    import cv2

    n, lab = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    return [lab == i for i in range(1, n)]


def synthetic_case(rng: np.random.Generator, order_no: int) -> Case | None:
    """One synthetic part with 1-3 defects judged against a fresh order; None if OK or unrenderable."""
    from inspector.spec import judge
    from inspector.training.synth import SynthError, make_sample

    size = (512, 512)
    kind = str(rng.choice(["bracket", "flange", "plate"], p=[0.45, 0.25, 0.3]))
    named = [str(t) for t in rng.choice(list(_SPEC_WORDS), size=int(rng.integers(2, 6)), replace=False)]
    if kind == "plate":
        named = [t for t in named if t not in ("burr", "chip", "missing_feature")] or ["scratch", "dent"]
    n_def = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
    pool = named + ([t for t in _SPEC_WORDS if t not in named] if rng.random() < 0.1 else [])
    if kind == "plate":
        pool = [t for t in pool if t not in ("burr", "chip", "missing_feature")]
    defects = [str(t) for t in rng.choice(pool, size=min(n_def, len(pool)), replace=False)]
    px = float(rng.choice([0.02, 0.03, 0.04, 0.05, 0.08]))
    try:
        wo = random_work_order(rng, size, named, px, order_no)
    except ValueError:  # WorkOrderError: a generated spec the parser rejects is skipped
        return None
    try:
        image, infos = make_sample(rng, defects, size=size, kind=kind)
    except SynthError:
        return None
    findings = []
    for info in infos:
        masks = _components(info["mask"]) if info["type"] == "pitting" else [info["mask"]]
        for m in masks:
            f = _finding(rng, m, info["type"], wo, size)
            if f is not None:
                findings.append(f)
    return _judged(image, findings, wo, f"synthetic:{kind}:{'+'.join(defects)}", judge)


def _judged(image, findings, wo, source, judge) -> Case | None:
    if not findings:
        return None
    verdict = judge(findings, wo, type_min=THRESHOLDS["type_min"])
    if verdict.kind is VerdictKind.OK:
        return None
    analysis = Analysis(anomaly_map=np.zeros((8, 8), np.float32),
                        image_score=max(f.region.score for f in findings), findings=findings,
                        thresholds=dict(THRESHOLDS), model=_INFO)
    return Case(image=image, analysis=analysis, verdict=verdict, work_order=wo, source=source)


def bsdata_rows(split: str) -> list[dict]:
    """Manifest rows of BSData for the authors' ``split`` ('train' or 'test'); [] when absent."""
    root = shared_data_dir()
    if root is None:
        return []
    with open(root / "bsdata" / "manifest.csv", newline="") as f:
        return [r for r in csv.DictReader(f) if r["source_split"] == split]


def bsdata_case(rng: np.random.Generator, row: dict, order_no: int) -> Case | None:
    """A real BSData photo: its pitting polygons become findings, judged against a spindle order."""
    import cv2

    from inspector.spec import judge
    from inspector.workorder.loader import parse_work_order

    root = shared_data_dir()
    assert root is not None
    image = cv2.imread(str(root / "bsdata" / row["image"]), cv2.IMREAD_COLOR)
    mask = cv2.imread(str(root / "bsdata" / row["mask"]), cv2.IMREAD_GRAYSCALE)
    if image is None or mask is None:
        return None
    image = np.ascontiguousarray(image[..., ::-1])
    h, w = image.shape[:2]
    px = float(rng.choice([0.02, 0.03, 0.04]))
    d = float(rng.choice([0.1, 0.2, 0.3, 0.5]))
    spec = [f"No pitting larger than {d} mm diameter.", f"At most {int(rng.integers(1, 4))} pits per spindle section.",
            "No cracks.", "No corrosion on the ball raceway."]
    if rng.random() < 0.5:
        spec.append("Running marks from normal wear are acceptable; evaluate under the ring light.")
    text = "\n".join(["WORK ORDER", f"Order: WO-{order_no}", "Part: BSD-2", f"Pixel size: {px:g} mm/px",
                      "Zone raceway: 0%-100% x, 15%-85% y", "", "Acceptance criteria:"]
                     + [f"{k}. {s}" for k, s in enumerate(spec, 1)])
    try:
        wo = parse_work_order(text, fmt="text", source_name=f"generated WO-{order_no}")
    except ValueError:  # WorkOrderError: a generated spec the parser rejects is skipped
        return None
    findings = []
    for m in _components(mask > 127)[:6]:
        f = _finding(rng, m, "pitting", wo, (w, h))
        if f is not None:
            findings.append(f)
    return _judged(image, findings, wo, f"bsdata:{Path(row['image']).name}", judge)


def make_cases(n: int, seed: int, real_share: float = 0.15, split: str | None = None) -> list[Case]:
    """``n`` NG/REVIEW cases from ``seed``: synthetic, plus ``real_share`` BSData when available.

    Training draws from BSData's 'train' split; seeds at or above :data:`EVAL_SEED_OFFSET` draw
    from its 'test' split (unless ``split`` says otherwise). Deterministic for a given seed.
    """
    split = split or ("test" if seed >= EVAL_SEED_OFFSET else "train")
    rows = bsdata_rows(split) if real_share > 0 else []
    n_real = int(round(n * real_share)) if rows else 0
    cases: list[Case] = []
    i = 0
    while len(cases) < n - n_real and i < 20 * n + 20:
        rng = np.random.default_rng([seed, i])
        c = synthetic_case(rng, 10000 + i % 90000)
        if c is not None:
            cases.append(c)
        i += 1
    j = 0
    order = np.random.default_rng([seed, 7]).permutation(len(rows)) if rows else []
    while n_real and len(cases) < n and j < 4 * n_real + 10:
        row = rows[order[j % len(rows)]]
        c = bsdata_case(np.random.default_rng([seed, 1_000_000 + j]), row, 20000 + j)
        if c is not None:
            cases.append(c)
        j += 1
    return cases
