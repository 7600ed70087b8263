"""Synthetic, fully populated records for the store's tests, benchmarks and crash drills.

Every field is filled (numbers, contours, clause checks, time zones), so a round trip that
loses or changes anything shows up as an inequality. Not used by the product at run time.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np

from inspector.domain import (
    ClauseCheck,
    Explanation,
    Finding,
    Inspection,
    ModelInfo,
    Outcome,
    Region,
    SpecClause,
    Verdict,
    VerdictKind,
    WorkOrder,
    Zone,
)

DEFECT_TYPES = ("scratch", "pitting", "crack", "inclusion", "unknown")
T0 = datetime(2026, 3, 2, 6, 0, 0, tzinfo=UTC)


def sample_work_order(order_id: str = "WO-1001", lot: str = "LOT-A", text_suffix: str = "") -> WorkOrder:
    """A work order with checkable and non-checkable clauses and two zones."""
    text = (
        f"Order: {order_id}\nPart: PN-77\nLot: {lot}\nPixel size: 0.02 mm\n"
        "1. No cracks.\n2. Scratches up to 0.5 mm allowed outside zone A.\n"
        f"3. At most 2 pits per part.\n4. Handle with gloves.{text_suffix}\n"
    )
    clauses = (
        SpecClause(
            id="§1",
            number=1,
            text="No cracks.",
            line=5,
            checkable=True,
            defect_type="crack",
            type_words=("cracks",),
            measure="count",
            comparison="<=",
            limit=0.0,
            unit="count",
            limit_text="0",
            severity="critical",
        ),
        SpecClause(
            id="§2",
            number=2,
            text="Scratches up to 0.5 mm allowed outside zone A.",
            line=6,
            checkable=True,
            defect_type="scratch",
            type_words=("scratches",),
            measure="length",
            comparison="<=",
            limit=0.5,
            unit="mm",
            limit_text="0.5 mm",
            zone="A",
            zone_mode="outside",
        ),
        SpecClause(
            id="§3",
            number=3,
            text="At most 2 pits per part.",
            line=7,
            checkable=True,
            defect_type="pitting",
            type_words=("pits",),
            measure="count",
            comparison="<=",
            limit=2.0,
            unit="count",
            limit_text="2",
            severity="minor",
        ),
        SpecClause(id="§4", number=4, text="Handle with gloves.", line=8, note="handling, not visual"),
    )
    return WorkOrder(
        order_id=order_id,
        part_number="PN-77",
        lot=lot,
        quantity=2000,
        pixel_size_mm=0.02,
        customer="ACME Gears",
        revision="C",
        clauses=clauses,
        zones=(Zone("A", (0.0, 0.0, 5.0, 5.0)), Zone("rim", (0.0, 0.0, 10.0, 100.0), "%")),
        header={"Order": order_id, "Part": "PN-77", "Lot": lot},
        source_text=text,
        source_format="text",
    )


def sample_image(rng: np.random.Generator, width: int = 64, height: int = 48) -> np.ndarray:
    """A random (H, W, 3) uint8 RGB image (unique content, so a unique sha256)."""
    return rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def sample_finding(rng: np.random.Generator, pixel_size_mm: float = 0.02) -> Finding:
    x, y = int(rng.integers(0, 500)), int(rng.integers(0, 500))
    w, h = int(rng.integers(2, 80)), int(rng.integers(2, 80))
    n = int(rng.integers(3, 12))
    contour = tuple((int(x + rng.integers(0, w)), int(y + rng.integers(0, h))) for _ in range(n))
    length_px, width_px = float(max(w, h)) + float(rng.random()), float(min(w, h)) + float(rng.random())
    area_px = float(w * h) * float(rng.uniform(0.3, 0.9))
    types = rng.permutation(len(DEFECT_TYPES))[:3]
    scores = sorted((float(rng.random()) for _ in types), reverse=True)
    cands = tuple((DEFECT_TYPES[int(i)], s) for i, s in zip(types, scores, strict=True))
    return Finding(
        region=Region(
            box=(x, y, w, h),
            area_px=area_px,
            length_px=length_px,
            width_px=width_px,
            score=float(rng.uniform(0.8, 3.0)),
            contour=contour,
            zones=("A",) if rng.random() < 0.3 else (),
        ),
        defect_type=cands[0][0],
        type_score=cands[0][1],
        type_candidates=cands,
        length_mm=length_px * pixel_size_mm,
        width_mm=width_px * pixel_size_mm,
        area_mm2=area_px * pixel_size_mm**2,
        diameter_mm=None if rng.random() < 0.2 else float(np.sqrt(4 * area_px / np.pi)) * pixel_size_mm,
        uncertain=bool(rng.random() < 0.2),
        type_uncertain=bool(rng.random() < 0.2),
    )


def sample_inspection(
    rng: np.random.Generator,
    image_sha256: str,
    order_id: str = "WO-1001",
    lot: str = "LOT-A",
    n_findings: int | None = None,
    verdict: VerdictKind | None = None,
    inspected_at: datetime | None = None,
    explanation: Explanation | None = None,
) -> Inspection:
    """A complete inspection record; verdict follows the findings unless given."""
    if n_findings is None:
        n_findings = int(rng.choice([0, 0, 0, 1, 2, 3, 5]))
    findings = [sample_finding(rng) for _ in range(n_findings)]
    if verdict is None:
        verdict = VerdictKind.OK if not findings else VerdictKind(rng.choice(["NG", "REVIEW"]))
    checks = [ClauseCheck("§1", Outcome.PASS, None, "count", 0.0, 0.0, "count", "WO §1: no cracks found")]
    for i, f in enumerate(findings):
        outcome = (
            Outcome.PASS
            if verdict is VerdictKind.OK
            else Outcome("fail" if verdict is VerdictKind.NG else "review")
        )
        checks.append(
            ClauseCheck(
                "§2",
                outcome,
                i,
                "length",
                f.length_mm,
                0.5,
                "mm",
                f"{order_id} §2: {f.defect_type} {f.length_mm:.2f} mm vs 0.5 mm allowed",
            )
        )
    reasons = tuple(c.reason for c in checks if c.outcome is not Outcome.PASS) or ("all clauses pass",)
    at = inspected_at or T0 + timedelta(seconds=float(rng.uniform(0, 86400)))
    return Inspection(
        id=uuid.UUID(bytes=rng.bytes(16), version=4).hex,
        order_id=order_id,
        part_number="PN-77",
        lot=lot,
        image_sha256=image_sha256,
        source="folder:/data/in",
        frame_name=f"part_{int(rng.integers(0, 10**6)):06d}.png",
        station="ST-1",
        captured_at=at - timedelta(milliseconds=120),
        inspected_at=at,
        model=ModelInfo("embedded-vlm", "1.0.0", "9f2c" * 16, "cpu"),
        thresholds={"threshold": 0.4123, "review_low": 0.33, "type_min": 0.25},
        image_score=float(rng.uniform(0.1, 3.0)),
        findings=findings,
        verdict=Verdict(verdict, tuple(checks), reasons),
        image_size=(640, 480),
        pixel_size_mm=0.02,
        explanation=explanation,
        timings_ms={"analyze": float(rng.uniform(20, 80)), "judge": 0.4},
        operator="op1",
    )
