"""The shared vocabulary of Inspector: plain dataclasses used by core, store, UI and reports.

Units: pixel quantities end in ``_px``; physical sizes are millimetres (``_mm``) and
square millimetres (``_mm2``). Images are ``numpy.ndarray`` of shape (H, W, 3), dtype
uint8, RGB. Times are timezone-aware UTC ``datetime``. See docs/glossary.md.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np


def utcnow() -> datetime:
    """Current time, timezone-aware UTC (the only clock the core uses)."""
    return datetime.now(UTC)


class VerdictKind(enum.StrEnum):
    """Outcome of an inspection: pass, fail, or needs a person."""

    OK = "OK"
    NG = "NG"
    REVIEW = "REVIEW"


class Outcome(enum.StrEnum):
    """Outcome of one clause check against one finding (or against the part)."""

    PASS = "pass"
    FAIL = "fail"
    REVIEW = "review"


class Decision(enum.StrEnum):
    """A reviewer's disposition of a flagged part."""

    ACCEPT = "accept"
    REJECT = "reject"
    REWORK = "rework"


class Role(enum.StrEnum):
    OPERATOR = "operator"
    REVIEWER = "reviewer"
    ADMIN = "admin"


@dataclass(frozen=True)
class Frame:
    """One image of one part as it arrives from a source. ``encoded``/``ext``: the file's own
    bytes and suffix (stored as they are, not re-encoded); ``capture_ms``: time the line waited."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    source: str  # e.g. "folder:/data/in", "camera:0", "video:/x.mp4"
    index: int = 0  # position in the source's stream
    name: str = ""  # file name or frame label; serial number when known
    captured_at: datetime = field(default_factory=utcnow)
    path: str = ""  # the file it was read from, if any
    encoded: bytes | None = None
    ext: str = ""  # e.g. ".png"
    capture_ms: float | None = None
    grabbed_at: float | None = None  # time.perf_counter() when a live grabber took it
    meta: dict[str, Any] = field(default_factory=dict)  # a plugin source's own extras
    part_id: str = ""  # the part's id when the source knows it (a trigger gave it); docs/integrations.md

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])


@dataclass(frozen=True)
class Zone:
    """A named area of the part. ``box`` = (x0, y0, x1, y1) in ``unit`` ('mm', 'px' or '%')."""

    name: str
    box: tuple[float, float, float, float]
    unit: str = "mm"
    label: str = ""  # a descriptive name, e.g. "sealing face"

    @property
    def defined(self) -> bool:  # False: named by the spec, not drawn yet (no geometry)
        return self.box[2] > self.box[0] and self.box[3] > self.box[1]

    def to_px(self, width: int, height: int, pixel_size_mm: float | None) -> tuple[int, int, int, int]:
        if not self.defined:
            raise ValueError(f"zone {self.name!r} not drawn yet")
        x0, y0, x1, y1 = self.box
        if self.unit == "%":
            sx, sy = width / 100.0, height / 100.0
        elif self.unit == "px":
            sx = sy = 1.0
        else:
            if not pixel_size_mm:
                raise ValueError(f"zone {self.name!r} is in mm but the work order has no pixel size")
            sx = sy = 1.0 / pixel_size_mm
        return int(round(x0 * sx)), int(round(y0 * sy)), int(round(x1 * sx)), int(round(y1 * sy))


@dataclass(frozen=True)
class SpecClause:
    """One numbered sentence of a work order's spec, with its machine-checkable rule if any.

    ``limit`` is in canonical units: mm for length/width/diameter/depth, mm² for area,
    a plain number for count. ``comparison`` is how a *measured* value must relate to the
    limit to pass: one of '<=', '<', '>=', '>', '=='. "no cracks" is measure='count',
    comparison='<=', limit=0. ``zone_mode`` is 'anywhere', 'inside' or 'outside' ``zone``.
    A clause with ``checkable=False`` keeps its text and ``note`` says why it is not a rule.
    """

    id: str  # stable id within the order, e.g. "§3"
    number: int
    text: str
    line: int = 0  # 1-based line in the source document
    checkable: bool = False
    defect_type: str | None = None  # canonical word, e.g. "scratch", "pitting"
    type_words: tuple[str, ...] = ()  # the words the spec used for this type
    measure: str | None = None  # length|width|area|diameter|depth|count
    comparison: str | None = None
    limit: float | None = None
    unit: str | None = None  # canonical unit of limit: mm, mm2, count
    limit_text: str = ""  # as written, e.g. "0.5 mm"
    zone: str | None = None
    zone_mode: str = "anywhere"
    severity: str = "major"  # critical|major|minor
    note: str = ""
    catch_all: bool = False  # "no other defects": covers only findings no other clause names
    count_per: str = "part"  # part|image|panel|frame, or area/length per count_base mm²/mm
    count_base: float | None = None
    flags: tuple[str, ...] = ()  # doubts a person should clear, e.g. a word not in the vocabulary


@dataclass(frozen=True)
class WorkOrder:
    """A production order and its inspection spec."""

    order_id: str
    part_number: str = ""
    lot: str = ""
    quantity: int | None = None
    pixel_size_mm: float | None = None  # mm per pixel of the camera image
    customer: str = ""
    revision: str = ""
    clauses: tuple[SpecClause, ...] = ()
    zones: tuple[Zone, ...] = ()
    header: dict[str, str] = field(default_factory=dict)  # every header line as given
    source_text: str = ""  # the document as loaded, for the record
    source_format: str = "text"  # text|json|yaml
    # version (1, 2, ...) the store gave it, None until stored; not content (not hashed)
    version: int | None = field(default=None, compare=False, metadata={"content": False})

    def clause(self, clause_id: str) -> SpecClause:
        for c in self.clauses:
            if c.id == clause_id:
                return c
        raise KeyError(clause_id)

    def zone(self, name: str) -> Zone:
        for z in self.zones:
            if z.name.lower() == name.lower():
                return z
        raise KeyError(name)

    @property
    def vocabulary(self) -> tuple[str, ...]:
        """Defect type words the spec uses, canonical, in clause order, unique."""
        seen: dict[str, None] = {}
        for c in self.clauses:
            if c.defect_type:
                seen.setdefault(c.defect_type, None)
        return tuple(seen)


@dataclass(frozen=True)
class Region:
    """A connected area of the anomaly map above threshold, in image pixels."""

    box: tuple[int, int, int, int]  # x, y, w, h
    area_px: float
    length_px: float  # longest side of the minimum-area rectangle
    width_px: float  # shortest side of it
    score: float  # peak anomaly score inside the region (threshold-normalised: 1.0 = threshold)
    contour: tuple[tuple[int, int], ...] = ()  # outline polygon, image pixels
    zones: tuple[str, ...] = ()  # names of work-order zones the region touches

    @property
    def center(self) -> tuple[float, float]:
        x, y, w, h = self.box
        return x + w / 2.0, y + h / 2.0


@dataclass(frozen=True)
class Finding:
    """A region with its defect type and physical size."""

    region: Region
    defect_type: str  # canonical type word from the work order's vocabulary, or "unknown"
    type_score: float = 0.0  # calibrated similarity of the region to that type, 0..1
    type_candidates: tuple[tuple[str, float], ...] = ()  # best alternatives, score-sorted
    length_mm: float | None = None
    width_mm: float | None = None
    area_mm2: float | None = None
    diameter_mm: float | None = None  # equivalent circle diameter
    uncertain: bool = False  # anomaly score inside the REVIEW band
    type_uncertain: bool = False  # type similarity too low to trust

    def measure(self, name: str) -> float | None:
        """The value of a clause measure (length|width|area|diameter|depth) in canonical units."""
        return {"length": self.length_mm, "width": self.width_mm, "area": self.area_mm2,
                "diameter": self.diameter_mm}.get(name)


@dataclass(frozen=True)
class ClauseCheck:
    """One finding (or the whole part, finding_index=None) checked against one clause."""

    clause_id: str
    outcome: Outcome
    finding_index: int | None = None
    measure: str | None = None
    measured: float | None = None
    limit: float | None = None
    unit: str | None = None
    reason: str = ""  # human sentence, e.g. "WO-1234 §3: scratch 0.8 mm > 0.5 mm allowed"


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    checks: tuple[ClauseCheck, ...] = ()
    reasons: tuple[str, ...] = ()  # the sentences that decided the verdict, most important first

    @property
    def clause_ids(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for c in self.checks:
            if c.outcome is not Outcome.PASS and c.clause_id:
                seen.setdefault(c.clause_id, None)
        return tuple(seen)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    weights_hash: str  # sha256 of the shipped weights manifest (first 16 hex chars are shown)
    device: str = "cpu"


@dataclass
class Analysis:
    """What the model saw in one image: anomaly map, findings, scores."""

    anomaly_map: np.ndarray  # (h, w) float32, threshold-normalised (1.0 = threshold), any resolution
    image_score: float  # max of the map, threshold-normalised
    findings: list[Finding]
    thresholds: dict[str, float]  # e.g. {"threshold": ..., "review_low": ..., "type_min": ...}
    model: ModelInfo
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    text: str
    fallback: bool  # True when the template sentence replaced a generated one
    generator: str = ""  # e.g. "smollm2-135m+inspector-adapter v1" or "template"
    problems: tuple[str, ...] = ()  # why the generated text was rejected, if it was


@dataclass
class Inspection:
    """The full record of one part: everything needed to reproduce and audit the verdict."""

    id: str  # uuid4 hex
    order_id: str
    part_number: str
    lot: str
    image_sha256: str
    source: str
    frame_name: str
    station: str
    captured_at: datetime
    inspected_at: datetime
    model: ModelInfo
    thresholds: dict[str, float]
    image_score: float
    findings: list[Finding]
    verdict: Verdict
    image_size: tuple[int, int] = (0, 0)  # (width, height) px
    pixel_size_mm: float | None = None
    explanation: Explanation | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    operator: str = ""
    work_order_version: int | None = field(default=None, compare=False, metadata={"content": False})  # judged with
    reinspects_id: str | None = field(default=None, compare=False, metadata={"content": False})  # re-judged
    # read from a code in the image, given by the trigger or <order>-<lot>-<sequence>; hashed only when set
    part_id: str = field(default="", metadata={"content": "if-set"})


@dataclass(frozen=True)
class Review:
    """A reviewer's decision on a flagged inspection. Never overwrites the machine verdict."""

    inspection_id: str
    decision: Decision
    reason_code: str
    comment: str
    reviewer: str  # username
    reviewer_name: str  # printed name for the signature
    decided_at: datetime = field(default_factory=utcnow)
    signature_meaning: str = ""  # e.g. "rejected: part scrapped per WO-1234 §3"
    id: int | None = None


@dataclass(frozen=True)
class AuditEvent:
    """One append-only, hash-chained entry of the audit trail."""

    actor: str
    action: str  # e.g. "workorder.loaded", "model.taught", "review.decided", "user.created"
    entity: str  # e.g. "work_order", "inspection", "user"
    entity_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    at: datetime = field(default_factory=utcnow)
    seq: int | None = None
    prev_hash: str = ""
    hash: str = ""


@dataclass(frozen=True)
class User:
    username: str
    full_name: str
    role: Role
    active: bool = True


# --- plain-data conversion (for JSON columns, exports, the CLI) -------------------------


def to_data(obj: Any, *, content_only: bool = False) -> Any:
    """Convert a domain object (nested) into JSON-ready data: dicts, lists, str, float; never arrays.

    ``content_only``: leave out fields marked ``metadata={"content": False}`` (store-assigned
    version numbers), and empty ones marked ``"if-set"`` (fields added later, so records hashed
    before they existed hash the same), as content hashes do (``inspector.canonical``)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_data(getattr(obj, f.name), content_only=content_only) for f in dataclasses.fields(obj)
                if not isinstance(getattr(obj, f.name), np.ndarray)
                and not (content_only and (f.metadata.get("content") is False or (
                    f.metadata.get("content") == "if-set" and getattr(obj, f.name) in ("", None))))}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {str(k): to_data(v, content_only=content_only) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_data(v, content_only=content_only) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _tuple2(v: Any) -> tuple:
    return tuple(tuple(x) if isinstance(x, list) else x for x in v)


def region_from_data(d: dict[str, Any]) -> Region:
    return Region(box=tuple(d["box"]), area_px=d["area_px"], length_px=d["length_px"], width_px=d["width_px"],
                  score=d["score"], contour=_tuple2(d.get("contour", ())), zones=tuple(d.get("zones", ())))


def finding_from_data(d: dict[str, Any]) -> Finding:
    return Finding(
        region=region_from_data(d["region"]),
        defect_type=d["defect_type"],
        type_score=d.get("type_score", 0.0),
        type_candidates=_tuple2(d.get("type_candidates", ())),
        length_mm=d.get("length_mm"), width_mm=d.get("width_mm"),
        area_mm2=d.get("area_mm2"), diameter_mm=d.get("diameter_mm"),
        uncertain=d.get("uncertain", False),
        type_uncertain=d.get("type_uncertain", False),
    )


def verdict_from_data(d: dict[str, Any]) -> Verdict:
    checks = tuple(ClauseCheck(**{**c, "outcome": Outcome(c["outcome"])}) for c in d.get("checks", ()))
    return Verdict(kind=VerdictKind(d["kind"]), checks=checks, reasons=tuple(d.get("reasons", ())))


def clause_from_data(d: dict[str, Any]) -> SpecClause:
    return SpecClause(**{**d, **{k: tuple(d.get(k, ())) for k in ("type_words", "flags")}})
