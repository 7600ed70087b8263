"""Reports a customer signs (issue 13, point 8), read back from the rendered PDFs: operator names
(an unattended line says so, never "station"), reason codes on one line, no 2-part p-chart point
(a larger short group is marked partial), certificates without internal threshold names or local
paths, and the lot disposition / release signature block."""

from __future__ import annotations

import dataclasses
import re

import pytest
from test_reports_pdf import flat, pdf_pages_text

from inspector.reports.certificate import build_certificate
from inspector.reports.pdf import build_work_order_report
from inspector.reports.synthetic import synthetic_lot

LONG_CODE = "MEASUREMENT-ERROR"


@pytest.fixture(scope="module")
def lot():
    mem = synthetic_lot(52, seed=5, ng_rate=0.2, review_rate=0.1, review_fraction=1.0)
    for i, insp in enumerate(mem.inspections):  # half the parts ran unattended (the facade's actor)
        if i % 2:
            insp.operator = "station"
    for rid, rows in mem.reviews.items():
        mem.reviews[rid] = [dataclasses.replace(r, reason_code=LONG_CODE) for r in rows]
    return mem


def _report(lot, tmp_path, subgroup):
    out = tmp_path / f"report-{subgroup}.pdf"
    build_work_order_report(lot, "WO-1001", out, generated_by="Dana Smith", subgroup=subgroup)
    return pdf_pages_text(out)


def test_lot_report_names_operators_keeps_codes_whole_and_ends_with_a_release_block(lot, tmp_path):
    pages = _report(lot, tmp_path, 25)
    text = flat(" ".join(pages))
    assert "op.jones" in text and "unattended line" in text
    assert "operator op.jones" in text and "operator unattended line (station ST-" in text
    # every reason code printed whole on one line of the layout text
    lines = [ln for p in pages for ln in p.splitlines()]
    assert any(LONG_CODE in ln for ln in lines)
    assert not any(re.search(r"MEASUREMENT-?\s*$", ln) for ln in lines)
    # 52 parts in subgroups of 25: the 2 last parts join the second group, no 2-part point
    assert "joins the one before it" in text and "partial" not in text.split("NG rate p-chart")[1].split("Out of")[0]
    last = pages[-1]
    assert "Lot disposition and release" in flat(last)
    for words in ("Release with deviation", "Hold", "Reject / return", "Quality (supplier)", "Customer acceptance",
                  "printed name", "signature", "date", "parts inspected"):
        assert words in flat(last), words


def test_a_larger_short_group_is_marked_partial(lot, tmp_path):
    text = flat(" ".join(_report(lot, tmp_path, 20)))  # 20, 20, 12
    assert "subgroup 41-52 is partial (12 parts" in text


def test_certificate_has_no_threshold_names_or_local_paths(lot, tmp_path):
    insp = next(i for i in lot.inspections if i.thresholds and i.operator == "station")
    assert "/" in insp.source  # the record keeps the path; the certificate does not print it
    out = tmp_path / "cert.pdf"
    build_certificate(lot, insp.id, out)
    text = flat(" ".join(pdf_pages_text(out)))
    assert insp.source not in text and "/line3/in" not in text and "folder" in text
    internal = [k for k in insp.thresholds if "_" in k]  # review_low, type_min...
    assert internal and not [k for k in internal if k in text]
    assert not re.search(r"threshold \d", text)  # no raw threshold values either
    assert "Anomaly score" in text and "reject limit" in text
    assert "unattended line (station" in text and "Station / operator" not in text
