"""A synthetic, reproducible lot (work order, inspections, reviews, images) for tests, the
report benchmark and report previews. Nothing here is measured data: it exercises the layout.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import cv2
import numpy as np

from inspector.domain import (
    ClauseCheck,
    Decision,
    Explanation,
    Finding,
    Inspection,
    ModelInfo,
    Outcome,
    Region,
    Review,
    SpecClause,
    Verdict,
    VerdictKind,
    WorkOrder,
    Zone,
)

from .source import MemoryImages, MemoryStore

MODEL = ModelInfo("inspector-vlm", "1.0.0", "3f2a9c0d5e6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a2f")
PIXEL_MM = 0.02


def work_order(order_id: str = "WO-1001", lot: str = "L-07") -> WorkOrder:
    clauses = (
        SpecClause("§1", 1, "No cracks anywhere on the part.", 3, True, "crack", ("crack", "cracks"),
                   "count", "<=", 0.0, "count", "no"),
        SpecClause("§2", 2, "Scratches up to 0.5 mm are allowed outside zone A.", 4, True, "scratch",
                   ("scratch", "scratches"), "length", "<=", 0.5, "mm", "0.5 mm", "A", "outside"),
        SpecClause("§3", 3, "Pits with a diameter above 0.3 mm are not allowed.", 5, True, "pitting",
                   ("pit", "pits"), "diameter", "<=", 0.3, "mm", "0.3 mm"),
        SpecClause("§4", 4, "Surface finish as per drawing.", 6, False, note="no measurable rule"),
    )
    return WorkOrder(order_id=order_id, part_number="PN-4471-B", lot=lot, quantity=2000, pixel_size_mm=PIXEL_MM,
                     customer="ACME Hydraulics", revision="C", clauses=clauses,
                     zones=(Zone("A", (2.0, 2.0, 6.0, 5.0), "mm"),),
                     header={"Order": order_id, "Part": "PN-4471-B"},
                     source_text="Order: WO-1001\nNo cracks.\nScratches up to 0.5 mm outside zone A.\n")


@lru_cache(maxsize=8)
def _texture(seed: int, w: int, h: int) -> np.ndarray:
    """One of four brushed-metal textures (cached: making noise costs more than decoding a JPEG)."""
    rng = np.random.default_rng(seed)
    base = np.linspace(90, 150, w, dtype=np.float32)[None, :].repeat(h, 0)
    noise = cv2.GaussianBlur(rng.normal(0, 18, (h, w)).astype(np.float32), (0, 0), 1.2)
    grey = np.clip(base + noise, 0, 255).astype(np.uint8)
    img = np.dstack([grey, grey, (grey * 0.95).astype(np.uint8)])
    img.flags.writeable = False
    return img


def image_for(sha: str, size: tuple[int, int] = (640, 480),
              defects: Sequence[Finding] = ()) -> np.ndarray:
    """A deterministic part-like image (brushed metal texture) for a content hash, with the
    given findings drawn as dark marks (so overlays line up with something visible)."""
    w, h = size
    img = _texture(int(sha[:8], 16) % 4, w, h).copy()
    cv2.circle(img, (w // 2, h // 2), min(w, h) // 3, (70, 70, 75), 3)
    sx = sy = 1.0
    for f in defects:
        x, y, bw, bh = f.region.box
        p0, p1 = (int(x * sx), int((y + bh / 2) * sy)), (int((x + bw) * sx), int((y + bh / 2) * sy))
        if f.defect_type == "pitting":
            cv2.circle(img, (int((x + bw / 2) * sx), int((y + bh / 2) * sy)), max(2, int(bw * sx / 2)), (35, 30, 30), -1)
        elif f.defect_type == "crack":
            pts = np.array([[x, y], [x + bw // 3, y + bh], [x + 2 * bw // 3, y + bh // 3], [x + bw, y + bh]],
                           dtype=np.float64) * [sx, sy]
            cv2.polylines(img, [pts.astype(np.int32).reshape(-1, 1, 2)], False, (25, 25, 25), max(1, int(2 * sx)))
        else:
            cv2.line(img, p0, p1, (40, 40, 45), max(1, int(2 * sy)), cv2.LINE_AA)
    return img


def _finding(kind: str, x: int, y: int, length_px: float, score: float, rng: random.Random) -> Finding:
    w = max(3, int(length_px)) if kind != "pitting" else 6
    h = 4 if kind == "scratch" else max(4, int(length_px * 0.6))
    contour = ((x, y), (x + w, y + 1), (x + w, y + h), (x, y + h - 1))
    region = Region((x, y, w, h), float(w * h), float(max(w, h)), float(min(w, h)), score, contour)
    return Finding(region, kind, round(rng.uniform(0.55, 0.95), 2), ((kind, 0.8), ("unknown", 0.1)),
                   length_mm=round(max(w, h) * PIXEL_MM, 3), width_mm=round(min(w, h) * PIXEL_MM, 3),
                   area_mm2=round(w * h * PIXEL_MM**2, 4),
                   diameter_mm=round(2 * np.sqrt(w * h / np.pi) * PIXEL_MM, 3))


def _part(i: int, order: WorkOrder, lot: str, at: datetime, kind: VerdictKind, rng: random.Random,
          station: str, size: tuple[int, int]) -> Inspection:
    sha = hashlib.sha256(f"{order.order_id}/{lot}/{i}".encode()).hexdigest()
    findings: list[Finding] = []
    checks: list[ClauseCheck] = []
    reasons: list[str] = []
    if kind is not VerdictKind.OK:
        defect = rng.choices(["scratch", "pitting", "crack"], weights=[6, 3, 1])[0]
        n = 1 if defect == "crack" else rng.randint(1, 3)
        for k in range(n):
            k_px = size[0] / 640.0
            f = _finding(defect, rng.randint(20, size[0] - 140), rng.randint(30, size[1] - 80),
                         rng.uniform(20, 60) * k_px, rng.uniform(1.1, 2.5), rng)
            findings.append(f)
            cid = {"scratch": "§2", "pitting": "§3", "crack": "§1"}[defect]
            measured = f.length_mm if defect == "scratch" else f.diameter_mm
            outcome = Outcome.FAIL if kind is VerdictKind.NG else Outcome.REVIEW
            sentence = (f"{order.order_id} {cid}: {defect} {measured:.2f} mm > "
                        f"{order.clause(cid).limit_text or '0'} allowed")
            checks.append(ClauseCheck(cid, outcome, k, "length", measured, order.clause(cid).limit, "mm", sentence))
            if k == 0:
                reasons.append(sentence)
    else:
        checks.append(ClauseCheck("§1", Outcome.PASS, None, "count", 0, 0, "count", "no cracks found"))
    expl = None
    if kind is not VerdictKind.OK:
        fb = rng.random() < 0.3
        expl = Explanation(
            f"The part shows {len(findings)} {findings[0].defect_type} finding(s); the largest measures "
            f"{findings[0].length_mm:.2f} mm, beyond the limit in {checks[0].clause_id}.", fb,
            "template" if fb else "smollm2-135m+inspector-adapter v1", ("mentions a size not measured",) if fb else ())
    return Inspection(
        id=hashlib.md5(sha.encode()).hexdigest(), order_id=order.order_id, part_number=order.part_number,
        lot=lot, image_sha256=sha, source="folder:/line3/in", frame_name=f"SN{100000 + i}.png", station=station,
        captured_at=at - timedelta(milliseconds=300), inspected_at=at, model=MODEL,
        thresholds={"threshold": 0.42, "review_low": 0.35, "type_min": 0.5}, image_score=(
            rng.uniform(0.2, 0.8) if kind is VerdictKind.OK else max(f.region.score for f in findings)),
        findings=findings, verdict=Verdict(kind, tuple(checks), tuple(reasons)), image_size=size,
        pixel_size_mm=PIXEL_MM, explanation=expl, timings_ms={"analyze": 41.0, "judge": 0.4},
        operator="op.jones")


def synthetic_lot(n_parts: int = 40, *, order_id: str = "WO-1001", lot: str = "L-07", ng_rate: float = 0.08,
                  review_rate: float = 0.04, review_fraction: float = 0.5, seed: int = 7,
                  start: datetime | None = None, image_size: tuple[int, int] = (640, 480),
                  images: bool = True) -> MemoryStore:
    """A MemoryStore with one work order and ``n_parts`` inspections, one every 20 s from ``start``.

    NG/REVIEW parts get findings, clause checks and explanations; ``review_fraction`` of the
    flagged parts get a signed review. Images are made on demand from the content hash
    (``images=False`` leaves them out so reports show the "missing image" note).
    """
    rng = random.Random(seed)
    order = work_order(order_id, lot)
    start = start or datetime(2024, 5, 6, 6, 0, tzinfo=UTC)
    parts, reviews = [], []
    for i in range(n_parts):
        r = rng.random()
        kind = VerdictKind.NG if r < ng_rate else VerdictKind.REVIEW if r < ng_rate + review_rate else VerdictKind.OK
        insp = _part(i, order, lot, start + timedelta(seconds=20 * i), kind, rng, f"ST-{1 + i % 2}",
                     image_size)
        parts.append(insp)
        if kind is not VerdictKind.OK and rng.random() < review_fraction:
            dec = Decision.REJECT if kind is VerdictKind.NG else rng.choice([Decision.ACCEPT, Decision.REWORK])
            reviews.append(Review(insp.id, dec, {"reject": "R-SCRAP", "accept": "A-COSM",
                                                 "rework": "W-POLISH"}[dec.value],
                                  "checked under the loupe", "qe.smith", "Dana Smith",
                                  insp.inspected_at + timedelta(minutes=30),
                                  f"{dec.value}: per {order.order_id} {insp.verdict.checks[0].clause_id}",
                                  id=len(reviews) + 1))
    marks = {p.image_sha256: tuple(p.findings) for p in parts if p.findings}
    factory = (lambda sha: image_for(sha, image_size, marks.get(sha, ()))) if images else None
    return MemoryStore([order], parts, reviews, MemoryImages(factory=factory))


def copy_to_store(mem: MemoryStore, store, actor: str = "synthetic", image_format: str = "png") -> dict[str, str]:
    """Save a synthetic lot into a real ``inspector.store.Store`` (images as PNG, or JPEG with
    ``image_format="jpg"`` which encodes ~20x faster for large benchmark lots; reviews signed).

    The image store names images by the hash of their PNG bytes, so each inspection's
    ``image_sha256`` is replaced by the stored one. Returns {old sha: stored sha}.
    """
    import dataclasses

    shas: dict[str, str] = {}
    for wo in mem.work_orders.values():
        store.save_work_order(wo, actor)
    batch = []
    for insp in mem.inspections:
        img = mem.images.read(insp.image_sha256)
        if image_format == "png":
            shas[insp.image_sha256] = store.images.put_array(img)
        else:
            ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(img[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 95])
            shas[insp.image_sha256] = store.images.put_bytes(buf.tobytes(), "jpg")
        batch.append(dataclasses.replace(insp, image_sha256=shas[insp.image_sha256]))
        if len(batch) == 200:
            store.save_inspections(batch)
            batch = []
    if batch:
        store.save_inspections(batch)
    for insp in mem.inspections:
        for r in mem.reviews_for(insp.id):
            store.add_review(dataclasses.replace(r, id=None))
    return shas
