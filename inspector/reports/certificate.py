"""One-page inspection certificate of a single part."""

from __future__ import annotations

import os
import tempfile
import time

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from inspector.domain import Inspection, Review, WorkOrder

from .canonical import canonical_json, certificate_document, sha256_hex
from .collect import fmt_time, make_thumbnails, model_text, operator_text, part_item, public_source
from .errors import ReportError
from .final import DECISION_WORDS, final_verdict
from .layout import MARGIN, PAGE, P, ReportDoc, ReportInfo, T, esc
from .parts import (
    clauses_block,
    explanation_block,
    findings_table,
    images_row,
    signatures_table,
    table,
    verdict_colour,
)
from .pdf import write_sha256_file
from .source import ReportSource, load_inspection, sorted_reviews, work_order_for

DASH = "\u2013"
CERT_THUMB_PX = 640  # about 170 dpi at the printed size
MAX_FINDINGS = 12  # rows in the certificate's findings table; the export has all


def _verdict_box(insp: Inspection, reviews: list[Review], width: float) -> Flowable:
    """The big box shows the FINAL verdict (latest signed disposition wins); the machine verdict
    and the deciding signature are printed beside it."""
    fv = final_verdict(insp, reviews)
    kind = fv.kind.value
    machine = f"machine verdict: <b>{esc(fv.machine.value)}</b>"
    if fv.disposition is not None:
        r = fv.disposition
        right = (f"final verdict after review: <b>{esc(kind)}</b> \u2014 {esc(DECISION_WORDS[r.decision])} by "
                 f"{esc(r.reviewer_name or r.reviewer, 80)}, {esc(fmt_time(r.decided_at))}, reason "
                 f"{esc(r.reason_code, 60)}<br/>{machine}")
    else:
        right = f"{machine}<br/>" + ("no review needed" if fv.machine.value == "OK" else "<b>awaiting review</b>")
    label = "final verdict" if fv.disposition is not None else "verdict"
    big = [P(f"<para leading='22'><font size='18' color='white'><b>{esc(kind)}</b></font></para>", "body"),
           P(f"<font color='white'>{label}</font>", "small")]
    t = Table([[big, P(right, "small")]], colWidths=[48 * mm, width - 48 * mm],
              rowHeights=[16 * mm], hAlign="LEFT")
    t.setStyle(TableStyle([("BACKGROUND", (0, 0), (0, 0), verdict_colour(kind)),
                           ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                           ("BOX", (0, 0), (-1, -1), 0.6, verdict_colour(kind)),
                           ("BACKGROUND", (1, 0), (1, 0), colors.HexColor("#f9fafb"))]))
    return t


def _facts(insp: Inspection, wo: WorkOrder | None, width: float) -> Flowable:
    size = f"{insp.image_size[0]} \u00d7 {insp.image_size[1]} px" if insp.image_size != (0, 0) else ""
    if insp.pixel_size_mm:
        size += f", {insp.pixel_size_mm:g} mm/px"
    pairs = [
        ("Part id", insp.part_id), ("Image / frame", insp.frame_name), ("Part number", insp.part_number),
        ("Work order", insp.order_id + (f" rev {wo.revision}" if wo and wo.revision else "")),
        ("Customer", wo.customer if wo else ""), ("Lot", insp.lot),
        ("Operator", operator_text(insp.operator, insp.station)), ("Station", insp.station),
        ("Captured / inspected", f"{fmt_time(insp.captured_at)} / {fmt_time(insp.inspected_at)}"),
        ("Source", public_source(insp.source)), ("Image", f"sha256 {insp.image_sha256}  {size}"),
        ("Model", model_text(insp.model) + f" on {insp.model.device}"),
        ("Anomaly score", f"{insp.image_score:.2f} (1.00 = the part's reject limit)"),
        ("Inspection id", insp.id),
    ]
    rows = [[T(k, "cellb"), T(v, limit=300)] for k, v in pairs if v]
    half = [rows[: (len(rows) + 1) // 2], rows[(len(rows) + 1) // 2 :]]
    if len(half[1]) < len(half[0]):
        half[1].append([T(""), T("")])
    merged = [a + b for a, b in zip(half[0], half[1], strict=True)]
    return table(merged, [width * x for x in (0.14, 0.36, 0.14, 0.36)], header=False)


def build_certificate(store: ReportSource, inspection_id: str, out_path: str | os.PathLike[str]) -> ReportInfo:
    """Write a one-page inspection certificate for one part.

    Shows part, order, verdict (and the latest review), findings with sizes, the clauses cited,
    image + overlay, model and thresholds, the explanation, and reviewers' e-signatures.
    The page footer carries the document hash: SHA-256 of the canonical JSON of
    ``{"inspection", "reviews", "schema", "work_order"}``. Also writes ``<out_path>.sha256``.

    Raises :class:`ReportError` for an unknown inspection id or an unwritable path. A work order
    missing from the store is noted on the page (the inspection record is still certified).
    """
    t0 = time.perf_counter()
    out = os.fspath(out_path)
    if not os.path.isdir(os.path.dirname(os.path.abspath(out))):
        raise ReportError(f"output folder {os.path.dirname(os.path.abspath(out))!r} does not exist")
    insp = load_inspection(store, inspection_id)
    wo = work_order_for(store, insp)
    reviews = sorted_reviews(store, insp.id)
    doc_hash = sha256_hex(canonical_json(certificate_document(wo, insp, reviews)))
    item = part_item(insp, reviews, wo)
    width = PAGE[0] - 2 * MARGIN
    with tempfile.TemporaryDirectory(prefix="inspector-cert-") as tmp:
        images, missing = make_thumbnails(store, insp, tmp, 0, max_side=CERT_THUMB_PX)
        item["images"] = images
        story: list[Flowable] = [
            P(f"Inspection certificate \u2014 {esc(insp.part_id or insp.frame_name or insp.id, 80)}", "title"),
            _verdict_box(insp, reviews, width), Spacer(1, 2 * mm), _facts(insp, wo, width), Spacer(1, 2 * mm),
            images_row(item, width, max_h=70 * mm), Spacer(1, 1 * mm),
        ]
        if wo is None:
            story.append(P(f"<i>work order {esc(insp.order_id)} is not in the store; clause texts are not "
                           "shown</i>", "note"))
        story += [P("Findings", "h2"), *findings_table(item, width, MAX_FINDINGS), Spacer(1, 1 * mm)]
        story += clauses_block(item)
        story += explanation_block(item)
        story.append(P("Signatures", "h2"))
        if reviews:
            story.append(signatures_table(item["reviews"], width))
        else:
            story.append(P("<i>not reviewed</i>" if insp.verdict.kind.value != "OK"
                           else "<i>machine verdict OK; no review required</i>", "note"))
        story.append(P("All times UTC. Document hash = SHA-256 of the canonical JSON of the work order, this "
                       "inspection and its reviews (docs/reports.md).", "note"))
        doc = ReportDoc(out, title=f"Inspection certificate {insp.order_id} "
                                  f"{insp.part_id or insp.frame_name or insp.id}",
                        document_hash=doc_hash, subject=f"inspection {insp.id}")
        try:
            pages = doc.build_story(story)
        except OSError as exc:
            raise ReportError(f"cannot write the certificate to {out!r}: {exc}") from exc
    digest = write_sha256_file(out)
    return ReportInfo(out, pages, doc_hash, 1, pdf_sha256=digest,
                      n_flagged=int(insp.verdict.kind.value != "OK"), n_gallery=1,
                      missing_images=int(missing), seconds=time.perf_counter() - t0)

