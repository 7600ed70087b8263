"""Helpers of the judge (inspector.spec): comparisons, number formats, counts per area or length."""

from __future__ import annotations

from collections.abc import Sequence

from inspector.domain import ClauseCheck, Finding, Outcome, SpecClause, WorkOrder
from inspector.workorder.vocabulary import GENERIC_TYPE, canonical_type

SYM = {"<=": "≤", "<": "<", ">=": "≥", ">": ">", "==": "="}
NEG = {"<=": ">", "<": "≥", ">=": "<", ">": "≤", "==": "≠"}


def passes(value: float, comparison: str | None, limit: float | None) -> bool:
    """Does a measured value satisfy ``comparison limit``? (a tiny tolerance for float noise)"""
    if comparison is None or limit is None:
        return True
    eps = 1e-9 * max(1.0, abs(limit))
    return {
        "<=": value <= limit + eps,
        "<": value < limit - eps,
        ">=": value >= limit - eps,
        ">": value > limit + eps,
        "==": abs(value - limit) <= eps,
    }.get(comparison, False)


def digits(limit: float | None) -> int:
    """Decimals to print a measured value with, so it reads against the limit as written."""
    if limit is None:
        return 2
    text = f"{limit:.6f}".rstrip("0")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return max(2, min(4, decimals))


def fmt(value: float, unit: str | None, ndigits: int) -> str:
    """'0.80 mm', '0.12 mm²', '3' (a count)."""
    if unit == "count":
        return f"{value:g}"
    return f"{value:.{ndigits}f} {'mm²' if unit == 'mm2' else unit or ''}".rstrip()


def scope(c: SpecClause) -> str:
    """' in zone A', ' outside zone A' or '' (anywhere)."""
    if c.zone_mode == "anywhere" or not c.zone:
        return ""
    return f" {'in' if c.zone_mode == 'inside' else c.zone_mode} zone {c.zone}"


def per_text(c: SpecClause) -> str:
    """How a count clause's unit reads: 'per part', 'per panel', 'per 100 cm²', 'per 1 m'."""
    if c.count_per == "area" and c.count_base:
        if c.count_base >= 1e6:
            return f"per {c.count_base / 1e6:g} m²"
        if c.count_base >= 100:
            return f"per {c.count_base / 100:g} cm²"
        return f"per {c.count_base:g} mm²"
    if c.count_per == "length" and c.count_base:
        return f"per {c.count_base / 1000:g} m" if c.count_base >= 1000 else f"per {c.count_base:g} mm"
    return f"per {c.count_per or 'part'}"


def image_extent(
    c: SpecClause, wo: WorkOrder, image_size: tuple[int, int] | None
) -> tuple[float | None, str]:
    """What one image covers for a per-area (mm²) or per-length (mm) count, or (None, why not).

    The length of an image is its longer side: a weld seam, strip or web photographed along
    its run lies along the image's long axis.
    """
    if not wo.pixel_size_mm:
        return None, "the work order has no pixel size"
    if not image_size or min(image_size) <= 0:
        return None, "the image size is not known"
    w, h = image_size
    px = wo.pixel_size_mm
    if c.count_per == "area":
        return w * h * px * px, ""
    return max(w, h) * px, ""


def extent_text(c: SpecClause, extent: float) -> str:
    """'25.0 cm²' / '120 mm': how much of the part one image shows."""
    if c.count_per == "area":
        return f"{extent / 100:.1f} cm²" if extent >= 100 else f"{extent:.1f} mm²"
    return f"{extent:.0f} mm"


class JudgeBase:
    """The state of one judging run and the questions every check asks (zone, scope, doubt)."""

    def __init__(
        self, findings: Sequence[Finding], wo: WorkOrder, type_min: float, image_size: tuple[int, int] | None
    ) -> None:
        self.findings = list(findings)
        self.wo = wo
        self.oid = wo.order_id
        self.type_min = type_min
        self.image_size = image_size
        self.rules = [c for c in wo.clauses if c.checkable and not c.catch_all]
        self.catch_alls = [c for c in wo.clauses if c.checkable and c.catch_all]
        self.remarks = [c for c in wo.clauses if not c.checkable and c.defect_type]
        self.order = {c.id: i for i, c in enumerate(wo.clauses)}
        self.types = [canonical_type(f.defect_type or "unknown") or "unknown" for f in self.findings]
        self.checks: list[tuple[ClauseCheck, SpecClause | None]] = []
        self.exercised: set[str] = set()

    # -- helpers -----------------------------------------------------------------------

    def zone_known(self, c: SpecClause) -> bool:
        """Can the model have placed findings in this clause's zone?"""
        if c.zone_mode == "anywhere" or not c.zone:
            return True
        try:
            z = self.wo.zone(c.zone)
        except KeyError:
            return False
        return z.defined and (z.unit != "mm" or bool(self.wo.pixel_size_mm))

    def unlocated(self, c: SpecClause) -> str:
        """Why a clause's zone cannot be located: "zone 'mating face' not drawn yet", ..."""
        try:
            z = self.wo.zone(c.zone or "")
        except KeyError:
            return f"zone {c.zone!r} is not defined"
        if not z.defined:
            return f"zone {z.name!r} not drawn yet"
        return f"zone {z.name} cannot be located (in mm but the work order has no pixel size)"

    def in_scope(self, c: SpecClause, i: int) -> bool:
        if c.zone_mode == "anywhere" or not c.zone:
            return True
        inside = c.zone.casefold() in {z.casefold() for z in self.findings[i].region.zones}
        return inside if c.zone_mode == "inside" else not inside

    def matches(self, c: SpecClause, i: int) -> bool:
        return c.defect_type == self.types[i] or c.defect_type == GENERIC_TYPE

    def type_doubt(self, i: int) -> bool:
        f = self.findings[i]
        return f.type_uncertain or f.type_score < self.type_min

    def alts(self, i: int) -> str:
        f = self.findings[i]
        return (
            ", ".join(f"{t} {s:.2f}" for t, s in f.type_candidates[:3])
            or f"{self.types[i]} {f.type_score:.2f}"
        )

    def doubt(self, i: int) -> str:
        """Why finding i cannot decide NG on its own ('' when it can)."""
        f = self.findings[i]
        why = []
        if f.uncertain:
            why.append(f"uncertain detection (score {f.region.score:.2f} of threshold)")
        if self.type_doubt(i):
            why.append(f"defect type uncertain ({self.alts(i)})")
        return "; ".join(why)

    def add(
        self,
        c: SpecClause | None,
        outcome: Outcome,
        reason: str,
        i: int | None = None,
        measured: float | None = None,
    ) -> None:
        check = ClauseCheck(
            clause_id=c.id if c else "",
            outcome=outcome,
            finding_index=i,
            measure=c.measure if c else None,
            measured=measured,
            limit=c.limit if c else None,
            unit=c.unit if c else None,
            reason=reason,
        )
        self.checks.append((check, c))
        if c is not None:
            self.exercised.add(c.id)

    def tag(self, c: SpecClause | None) -> str:
        return f"{self.oid} {c.id}" if c else self.oid
