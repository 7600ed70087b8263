"""Per-part inspection certificate: one page, the facts of the part, images, signatures, hash."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from inspector.domain import VerdictKind
from inspector.reports.certificate import build_certificate
from inspector.reports.errors import ReportError
from inspector.reports.synthetic import synthetic_lot
from inspector.reports.verify import certificate_document_hash


def text_of(path: Path) -> str:
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True).stdout
        return re.sub(r"\s+", " ", out.decode("utf-8"))
    from pypdf import PdfReader

    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(str(path)).pages))


@pytest.fixture(scope="module")
def lot():
    return synthetic_lot(80, seed=11, review_fraction=1.0)


def test_reviewed_ng_certificate(lot, tmp_path):
    ng = next(i for i in lot.inspections if i.verdict.kind is VerdictKind.NG)
    info = build_certificate(lot, ng.id, tmp_path / "c.pdf")
    assert info.pages == 1 and info.n_parts == 1 and info.missing_images == 0
    text = text_of(tmp_path / "c.pdf")
    review = lot.reviews_for(ng.id)[-1]
    for s in (ng.frame_name, "NG", "WO-1001", "PN-4471-B", "L-07", ng.id, ng.verdict.reasons[0],
              "inspector-vlm 1.0.0", "Dana Smith (qe.smith)", review.reason_code, review.signature_meaning,
              "rejected by Dana Smith", "machine verdict: NG", "page 1 of 1", info.document_hash, "Clauses cited"):
        assert s in text, s
    assert info.document_hash == certificate_document_hash(lot, ng.id)
    from pypdf import PdfReader

    page = PdfReader(str(tmp_path / "c.pdf")).pages[0]
    assert len(page.images) == 2  # image + overlay
    assert (tmp_path / "c.pdf.sha256").read_text().split()[0] == info.pdf_sha256


def test_ok_certificate_and_missing_work_order(lot, tmp_path):
    ok = next(i for i in lot.inspections if i.verdict.kind is VerdictKind.OK)
    info = build_certificate(lot, ok.id, tmp_path / "ok.pdf")
    text = text_of(tmp_path / "ok.pdf")
    assert info.pages == 1 and "machine verdict OK; no review required" in text
    assert "no regions above the anomaly threshold" in text
    orphan = synthetic_lot(20, seed=11, review_fraction=0.0)
    orphan.work_orders.clear()
    part = next(i for i in orphan.inspections if i.verdict.kind is not VerdictKind.OK)
    build_certificate(orphan, part.id, tmp_path / "orphan.pdf")
    t = text_of(tmp_path / "orphan.pdf")
    assert "is not in the store; clause texts are not shown" in t and "awaiting review" in t


def test_unknown_inspection(lot, tmp_path):
    with pytest.raises(ReportError, match="nope"):
        build_certificate(lot, "nope", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_finding_no_clause_covers_is_said_so_not_blamed_on_the_version():
    from datetime import UTC, datetime

    from inspector.domain import ClauseCheck, Inspection, ModelInfo, Outcome, Verdict
    from inspector.reports.collect import part_item
    from inspector.workorder import parse_work_order

    wo = parse_work_order("Order: WO-9\nPart: P-9\n\n1. Scratches up to 0.5 mm long are allowed.\n")
    checks = (ClauseCheck("", Outcome.REVIEW, 0, reason="burr: the spec does not name this type"),
              ClauseCheck("9", Outcome.FAIL, 0, reason="old clause"))
    insp = Inspection(id="x", order_id="WO-9", part_number="P-9", lot="", image_sha256="", source="", frame_name="f",
                      station="s", captured_at=datetime.now(UTC), inspected_at=datetime.now(UTC),
                      model=ModelInfo("m", "1", "0" * 16), thresholds={}, image_score=1.0,
                      findings=[], verdict=Verdict(VerdictKind.REVIEW, checks), image_size=(8, 8), pixel_size_mm=None)
    item = part_item(insp, [], wo)
    assert [c["clause_text"] for c in item["checks"]] == [
        "(no clause of the work order covers this finding)", "(clause not in the current work order version)"]


def test_review_verdict_banner_is_one_word(lot, tmp_path):
    part = next(i for i in lot.inspections if i.verdict.kind is VerdictKind.REVIEW)
    build_certificate(lot, part.id, tmp_path / "r.pdf")
    text = text_of(tmp_path / "r.pdf")
    assert re.search(r"\bREVIEW\b", text) and not re.search(r"\bREVIE W\b", text), "verdict banner wrapped"
