"""Dispositions decide the shipped verdict: counts, yields, p-chart, Pareto, gallery, exports and
the certificate all follow the latest signed review; the machine verdict stays visible as such.

Each test here fails on the old behaviour (yield after dispositions = (OK + accepted) / n, a
rejected machine-OK part counted as good, a certificate with a big green OK and "reviewed:
reject" in small print).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from inspector.domain import Decision, Review, VerdictKind
from inspector.reports.certificate import build_certificate
from inspector.reports.collect import collect_lot
from inspector.reports.export import export, read_export
from inspector.reports.final import Final, final_counts, final_verdict, latest_review
from inspector.reports.outcomes import VERDICT_RGB
from inspector.reports.pdf import build_work_order_report
from inspector.reports.stats import MISSED, nonconforming_types
from inspector.reports.synthetic import synthetic_lot


def text_of(path: Path) -> str:
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True).stdout
        return re.sub(r"\s+", " ", out.decode("utf-8"))
    from pypdf import PdfReader

    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(str(path)).pages))


def review(insp, decision: str, minutes: int, code: str = "OVER-LIMIT", who: str = "Ann Smith") -> Review:
    return Review(insp.id, Decision(decision), code, "seen under the microscope", "ann", who,
                  insp.inspected_at + timedelta(minutes=minutes), f"{decision} by {who}")


@pytest.fixture
def lot():
    """40 parts, no reviews; then: an OK part rejected (an escape), an NG part accepted, a REVIEW
    part accepted and later rejected (the later one wins), an NG part sent to rework."""
    mem = synthetic_lot(40, seed=5, ng_rate=0.2, review_rate=0.15, review_fraction=0.0)
    by = {k: [i for i in mem.inspections if i.verdict.kind is k] for k in VerdictKind}
    assert len(by[VerdictKind.OK]) >= 2 and len(by[VerdictKind.NG]) >= 2 and by[VerdictKind.REVIEW]
    ok, ng, ng2, rv = by[VerdictKind.OK][0], by[VerdictKind.NG][0], by[VerdictKind.NG][1], by[VerdictKind.REVIEW][0]
    mem.add_review(review(ok, "reject", 60))
    mem.add_review(review(ng, "accept", 30, "FALSE-ALARM"))
    mem.add_review(review(rv, "reject", 90))  # stored first, signed later: it wins
    mem.add_review(review(rv, "accept", 30, "COSMETIC-OK"))
    mem.add_review(review(ng2, "rework", 30, "REWORKABLE"))
    mem.cases = {"ok_rejected": ok, "ng_accepted": ng, "review_rejected": rv, "ng_rework": ng2}
    return mem


def test_final_verdict_rules():
    mem = synthetic_lot(20, seed=5, ng_rate=0.3, review_fraction=0.0)
    ok = next(i for i in mem.inspections if i.verdict.kind is VerdictKind.OK)
    ng = next(i for i in mem.inspections if i.verdict.kind is VerdictKind.NG)
    assert final_verdict(ok).kind is Final.OK and not final_verdict(ok).open
    assert final_verdict(ng).kind is Final.NG and final_verdict(ng).open
    fv = final_verdict(ok, [review(ok, "reject", 5)])
    assert fv.kind is Final.NG and fv.machine is VerdictKind.OK and fv.overruled and fv.nonconforming
    assert "machine verdict: OK" in fv.describe() and "rejected by Ann Smith" in fv.describe()
    assert final_verdict(ng, [review(ng, "accept", 5)]).good
    assert final_verdict(ng, [review(ng, "rework", 5)]).kind is Final.REWORK
    late, early = review(ng, "reject", 50), review(ng, "accept", 5)
    assert latest_review([late, early]) is late
    assert final_verdict(ng, [late, early]).kind is Final.NG
    assert final_verdict(ng, [early, late]).kind is Final.NG


def test_counts_and_yield_after_dispositions(lot):
    n = len(lot.inspections)
    machine_ok = sum(i.verdict.kind is VerdictKind.OK for i in lot.inspections)
    c = final_counts((i, lot.reviews_for(i.id)) for i in lot.inspections)
    # one OK part rejected, one NG accepted, one REVIEW accepted then rejected, one NG to rework
    assert c.final["OK"] == machine_ok - 1 + 1
    assert c.escapes == 1 and c.overruled == 4 and c.final["REWORK"] == 1
    assert c.final_yield == (machine_ok - 1 + 1) / n
    old = (machine_ok + 2) / n  # the old formula: OK + every flagged part whose last *stored* review is accept
    assert c.final_yield != old


def test_lot_report_counts_charts_and_gallery_follow_the_final_verdict(lot, tmp_path):
    info = build_work_order_report(lot, "WO-1001", tmp_path / "r.pdf", subgroup=10)
    text = text_of(tmp_path / "r.pdf")
    n = len(lot.inspections)
    c = final_counts((i, lot.reviews_for(i.id)) for i in lot.inspections)
    assert f"{100.0 * c.final_yield:.1f}%" in text
    assert "Final verdicts (the latest signed disposition decides" in text
    assert "Also pictured: 1 part(s) the machine passed (OK)" in text
    escape = lot.cases["ok_rejected"]
    assert escape.frame_name in text and "(final; machine verdict: OK)" in text
    assert info.n_gallery == info.n_flagged + 1
    with tempfile.TemporaryDirectory() as tmp:
        d = collect_lot(lot, lot.work_orders["WO-1001"], tmp, lot=None, since=None, until=None, gallery_limit=None)
        flags = {i.id: bool(b) for i, b in zip(lot.inspections, d.ng, strict=True)}
    assert flags[escape.id] and not flags[lot.cases["ng_accepted"].id]
    assert flags[lot.cases["review_rejected"].id] and flags[lot.cases["ng_rework"].id]
    assert sum(d.ng) == c.final["NG"] + c.final["REWORK"] and d.n == n
    assert nonconforming_types(lot.cases["ng_accepted"], None, final_verdict(
        lot.cases["ng_accepted"], lot.reviews_for(lot.cases["ng_accepted"].id))) == []
    assert nonconforming_types(escape, None, final_verdict(escape, lot.reviews_for(escape.id))) == [MISSED]


def test_export_has_the_final_verdict(lot, tmp_path):
    export(lot, tmp_path / "e.json", "json", order_id="WO-1001")
    df = read_export(tmp_path / "e.json")["inspections"].set_index("inspection_id")
    cases = lot.cases
    assert df.loc[cases["ok_rejected"].id, ["verdict", "final_verdict"]].tolist() == ["OK", "NG"]
    assert df.loc[cases["ng_accepted"].id, ["verdict", "final_verdict"]].tolist() == ["NG", "OK"]
    assert df.loc[cases["review_rejected"].id, ["final_decision", "final_verdict"]].tolist() == ["reject", "NG"]
    assert df.loc[cases["ng_rework"].id, "final_verdict"] == "REWORK"


def _verdict_box_rgb(pdf: Path, tmp_path: Path) -> np.ndarray:
    """Mean colour of the verdict box (top-left of the page, under the title) at 50 dpi."""
    subprocess.run(["pdftoppm", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "pg")], check=True)
    ppm = next(tmp_path.glob("pg*.ppm")).read_bytes()
    parts = ppm.split(maxsplit=4)
    w, h = int(parts[1]), int(parts[2])
    img = np.frombuffer(parts[4][: w * h * 3], np.uint8).reshape(h, w, 3)
    # the box is the first strongly coloured block below the title
    sat = img.max(axis=2).astype(int) - img.min(axis=2).astype(int)
    ys, xs = np.nonzero(sat[: h // 3] > 80)
    assert len(ys), "no coloured verdict box on the page"
    return img[ys, xs].mean(axis=0)


def test_certificate_of_a_rejected_ok_part_says_ng_and_keeps_the_machine_verdict(lot, tmp_path):
    part = lot.cases["ok_rejected"]
    build_certificate(lot, part.id, tmp_path / "c.pdf")
    text = text_of(tmp_path / "c.pdf")
    assert "final verdict after review: NG" in text and "rejected by Ann Smith" in text
    assert "machine verdict: OK" in text and "no review needed" not in text
    if shutil.which("pdftoppm"):
        rgb = _verdict_box_rgb(tmp_path / "c.pdf", tmp_path)
        red, green = np.array(VERDICT_RGB["NG"]), np.array(VERDICT_RGB["OK"])
        assert np.linalg.norm(rgb - red) < np.linalg.norm(rgb - green), rgb  # a red box, not a green one


def test_certificate_of_an_accepted_ng_part_says_ok(lot, tmp_path):
    part = lot.cases["ng_accepted"]
    build_certificate(lot, part.id, tmp_path / "c.pdf")
    text = text_of(tmp_path / "c.pdf")
    assert "final verdict after review: OK" in text and "machine verdict: NG" in text
    assert "accepted by Ann Smith" in text
