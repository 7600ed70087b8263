"""First pass of a lot report: stream the lot once, gather totals, charts, hash and gallery.

Memory stays bounded: per part only a few bytes are kept (time + NG flag for the p-chart);
gallery entries and signatures are spilled as JSON lines to a temp folder together with their
thumbnail JPEGs, and read back one by one while the PDF is laid out.
"""

from __future__ import annotations

import json
import os
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from inspector.domain import Inspection, Review, VerdictKind, WorkOrder

from .canonical import LotHasher, filters_data
from .final import FinalCounts, final_verdict
from .overlay import encode_jpeg, finding_outcomes, render_overlay, resize_max
from .source import JudgedWith, Progress, ReportSource, iter_with_reviews, read_image
from .stats import nonconforming_types

THUMB_PX = 300  # longer side of gallery thumbnails, pixels (about 150 dpi at 50 mm)


UNATTENDED = "station"  # the facade's actor when nobody is signed in and no operator is set


def operator_text(operator: str, station: str = "") -> str:
    """Who ran the part, for a customer: the operator's name, else "unattended line (station X)"."""
    if operator and operator != UNATTENDED:
        return operator
    return "unattended line" + (f" (station {station})" if station else "")


def public_source(source: str) -> str:
    """The kind of source ("folder", "camera", "hotfolder"...), never a local path or camera URL."""
    kind, sep, _rest = source.partition(":")
    return kind if sep and kind.isalpha() and len(kind) > 1 else ("image file" if source else "")


def fmt_time(t: datetime | str | None) -> str:
    if t is None:
        return ""
    if isinstance(t, str):
        t = datetime.fromisoformat(t)
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_num(v: float | None, digits: int = 2) -> str:
    return "" if v is None else f"{v:.{digits}f}"


def model_text(m) -> str:
    return f"{m.name} {m.version} (weights {m.weights_hash[:16]})"


def review_row(r: Review) -> dict:
    return {"decided_at": fmt_time(r.decided_at), "reviewer_name": r.reviewer_name, "reviewer": r.reviewer,
            "meaning": r.signature_meaning, "decision": str(r.decision.value), "reason_code": r.reason_code,
            "comment": r.comment}


def part_item(insp: Inspection, reviews: list[Review], work_order: WorkOrder | None) -> dict:
    """The printable facts of one flagged part (plain strings; markup is added at layout time)."""
    fv = final_verdict(insp, reviews)
    outcomes = finding_outcomes(insp.findings, insp.verdict)
    findings = [{
        "n": i + 1, "type": f.defect_type + (" (type uncertain)" if f.type_uncertain else ""),
        "type_score": fmt_num(f.type_score), "length_mm": fmt_num(f.length_mm),
        "width_mm": fmt_num(f.width_mm), "area_mm2": fmt_num(f.area_mm2, 3),
        "diameter_mm": fmt_num(f.diameter_mm), "score": fmt_num(f.region.score),
        "zones": ", ".join(f.region.zones), "outcome": outcomes[i],
    } for i, f in enumerate(insp.findings)]
    checks = []
    for c in insp.verdict.checks:
        if c.outcome.value == "pass":
            continue
        text = ""
        if not c.clause_id:  # e.g. a type the spec does not name: nothing to cite, a person decides
            text = "(no clause of the work order covers this finding)"
        elif work_order is not None:
            try:
                text = work_order.clause(c.clause_id).text
            except KeyError:
                text = "(clause not in the current work order version)"
        checks.append({"clause": c.clause_id, "outcome": c.outcome.value, "reason": c.reason,
                       "clause_text": text,
                       "finding": "" if c.finding_index is None else str(c.finding_index + 1)})
    ex = insp.explanation
    return {
        "id": insp.id, "frame": insp.frame_name, "verdict": fv.kind.value, "machine_verdict": fv.machine.value,
        "final_text": fv.describe(), "overruled": fv.overruled,
        "inspected_at": fmt_time(insp.inspected_at), "station": insp.station, "operator": insp.operator,
        "lot": insp.lot, "score": fmt_num(insp.image_score), "model": model_text(insp.model),
        "image_sha256": insp.image_sha256, "findings": findings, "checks": checks,
        "part_id": getattr(insp, "part_id", "") or "",  # code read, trigger id or <order>-<lot>-<sequence>
        "reinspects_id": getattr(insp, "reinspects_id", None) or "",  # re-judged: the record it replaces
        "reasons": list(insp.verdict.reasons),
        "explanation": ex.text if ex else None, "fallback": bool(ex.fallback) if ex else None,
        "generator": ex.generator if ex else "", "problems": list(ex.problems) if ex else [],
        "reviews": [review_row(r) for r in reviews],
    }


@dataclass
class LotData:
    """Everything the layout needs, gathered in one pass (gallery and signatures on disk)."""

    work_order: WorkOrder
    filters: dict
    tmpdir: str
    gallery_limit: int | None
    n: int = 0
    verdicts: Counter = field(default_factory=Counter)  # machine verdicts
    final: FinalCounts = field(default_factory=FinalCounts)  # final verdicts (dispositions win)
    stations: Counter = field(default_factory=Counter)
    lots: Counter = field(default_factory=Counter)
    operators: Counter = field(default_factory=Counter)
    models: dict = field(default_factory=dict)
    versions: Counter = field(default_factory=Counter)  # work-order version -> parts judged with it
    first: datetime | None = None
    last: datetime | None = None
    defects: Counter = field(default_factory=Counter)
    times: array = field(default_factory=lambda: array("d"))
    ng: bytearray = field(default_factory=bytearray)  # 1 = nonconforming by the final verdict
    n_flagged: int = 0  # machine NG or REVIEW
    n_pictured_escapes: int = 0  # machine OK parts a person rejected or sent to rework (in the gallery)
    open_reviews: int = 0
    dispositions: Counter = field(default_factory=Counter)  # latest decision per reviewed part
    n_reviews: int = 0
    fallback_explanations: int = 0
    n_gallery: int = 0
    n_overflow: int = 0
    missing_images: int = 0
    document_hash: str = ""

    @property
    def gallery_path(self) -> str:
        return os.path.join(self.tmpdir, "gallery.jsonl")

    @property
    def overflow_path(self) -> str:
        return os.path.join(self.tmpdir, "overflow.jsonl")

    @property
    def signatures_path(self) -> str:
        return os.path.join(self.tmpdir, "signatures.jsonl")

    @property
    def yield_pct(self) -> float | None:
        """Machine first-pass yield, percent."""
        return 100.0 * self.verdicts["OK"] / self.n if self.n else None

    @property
    def final_yield_pct(self) -> float | None:
        """Yield after dispositions (final OK / inspected), percent."""
        y = self.final.final_yield
        return None if y is None else 100.0 * y


def make_thumbnails(source: ReportSource, insp: Inspection, tmpdir: str, k: int,
                    max_side: int = THUMB_PX) -> tuple[dict, bool]:
    """Write the image and overlay thumbnails as JPEGs; returns ({w, h, thumb, overlay}, missing)."""
    img = read_image(source, insp.image_sha256)
    if img is None:
        return {}, True
    plain, scale = resize_max(img, max_side)  # shrink once; the overlay is drawn at thumbnail size
    del img
    over = render_overlay(plain, insp.findings, None, insp.verdict, scale=scale)
    out = {"w": int(plain.shape[1]), "h": int(plain.shape[0])}
    for key, arr in (("thumb", plain), ("overlay", over)):
        p = os.path.join(tmpdir, f"{k:06d}_{key}.jpg")
        with open(p, "wb") as fh:
            fh.write(encode_jpeg(arr, 82))
        out[key] = p
    return out, False


def collect_lot(source: ReportSource, work_order: WorkOrder, tmpdir: str, *, lot: str | None,
                since: datetime | None, until: datetime | None, gallery_limit: int | None,
                progress: Progress | None = None, expected: int = 0) -> LotData:
    """Stream the lot oldest first and fill a :class:`LotData` (see module doc)."""
    filters = filters_data(work_order.order_id, lot, since, until)
    data = LotData(work_order, filters, tmpdir, gallery_limit)
    hasher = LotHasher(work_order, filters)
    judged_with = JudgedWith(source, work_order)  # clause texts and types of the exact version used
    with open(data.gallery_path, "w", encoding="utf-8") as gal, \
         open(data.overflow_path, "w", encoding="utf-8") as over, \
         open(data.signatures_path, "w", encoding="utf-8") as sig:
        for insp, reviews in iter_with_reviews(source, order_id=work_order.order_id, lot=lot, since=since,
                                               until=until):
            hasher.add(insp, reviews)
            kind = insp.verdict.kind
            fv = final_verdict(insp, reviews)
            data.n += 1
            data.verdicts[kind.value] += 1
            data.final.add(fv)
            data.stations[insp.station] += 1
            data.lots[insp.lot] += 1
            if insp.operator:
                data.operators[insp.operator] += 1
            m = insp.model
            data.models[(m.name, m.version, m.weights_hash)] = m
            at = insp.inspected_at
            data.first = at if data.first is None or at < data.first else data.first
            data.last = at if data.last is None or at > data.last else data.last
            data.times.append(at.timestamp())
            data.ng.append(1 if fv.nonconforming else 0)
            wo = judged_with.of(insp)
            if insp.work_order_version is not None:
                data.versions[insp.work_order_version] += 1
            data.defects.update(nonconforming_types(insp, wo, fv))
            if insp.explanation is not None and insp.explanation.fallback:
                data.fallback_explanations += 1
            if reviews:
                data.n_reviews += len(reviews)
                data.dispositions[fv.disposition.decision.value] += 1
                for r in reviews:
                    row = review_row(r)
                    row.update(frame=insp.frame_name, part_id=insp.part_id, id=insp.id, verdict=kind.value)
                    sig.write(json.dumps(row, ensure_ascii=False) + "\n")
            if kind is not VerdictKind.OK or fv.nonconforming:
                if kind is not VerdictKind.OK:
                    data.n_flagged += 1
                else:
                    data.n_pictured_escapes += 1
                if fv.open:
                    data.open_reviews += 1
                item = part_item(insp, reviews, wo)
                if gallery_limit is None or data.n_gallery < gallery_limit:
                    images, missing = make_thumbnails(source, insp, tmpdir, data.n_gallery)
                    data.missing_images += int(missing)
                    item["images"] = images
                    gal.write(json.dumps(item, ensure_ascii=False) + "\n")
                    data.n_gallery += 1
                else:
                    data.n_overflow += 1
                    over.write(json.dumps(item, ensure_ascii=False) + "\n")
            if progress is not None and (data.n % 25 == 0):
                progress(data.n, max(expected, data.n), f"reading parts ({data.n})")
    data.document_hash = hasher.hexdigest()
    return data
