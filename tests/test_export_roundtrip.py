"""Exports: every format reads back to the store's content; columns match docs/exports.md."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from inspector.domain import Decision, Review, VerdictKind
from inspector.reports import export as export_mod
from inspector.reports.errors import ExportError
from inspector.reports.export import csv_paths, export, read_export
from inspector.reports.synthetic import synthetic_lot
from inspector.reports.tables import COLUMNS, DEFAULT_TABLES, TABLES

DOC = Path(__file__).resolve().parents[1] / "docs" / "exports.md"
TARGETS = [("csv", "x.csv"), ("csv", "x.zip"), ("xlsx", "x.xlsx"), ("json", "x.json")]


@pytest.fixture(scope="module")
def lot():
    lot = synthetic_lot(150, seed=9, review_fraction=0.7)
    # awkward but legal values: microseconds, text that looks like a formula / number / NA
    first_ng = next(i for i in lot.inspections if i.verdict.kind is VerdictKind.NG)
    first_ng.frame_name = "00123"
    first_ng.operator = "NA"
    first_ng.captured_at = first_ng.captured_at + timedelta(microseconds=123456)
    lot.add_review(Review(first_ng.id, Decision.ACCEPT, "=1+1", 'line one\nline "two", three\t;', "qe.lee",
                          "Kim Lee", datetime(2024, 5, 8, 1, 2, 3, 456000, tzinfo=UTC), "@SUM(A1)", id=500))
    return lot


def _check_against_store(frames: dict[str, pd.DataFrame], lot, fmt: str) -> None:
    insps = lot.inspections
    tol = pd.Timedelta(milliseconds=1) if fmt == "xlsx" else pd.Timedelta(0)

    def same(a, b) -> bool:  # CSV/JSON keep floats exactly; Excel keeps ~16 significant digits
        if a is None or b is None or pd.isna(a) or pd.isna(b):
            return (a is None or pd.isna(a)) and (b is None or pd.isna(b))
        return a == b if fmt != "xlsx" else a == pytest.approx(b, rel=1e-15, abs=0)
    df = frames["inspections"]
    assert list(df.columns) == [c.name for c in COLUMNS["inspections"]]
    assert list(df["inspection_id"]) == [i.id for i in insps]  # oldest first
    for row, i in zip(df.itertuples(index=False), insps, strict=True):
        reviews = lot.reviews_for(i.id)
        assert row.verdict == i.verdict.kind.value and row.lot == i.lot and row.frame_name == i.frame_name
        assert row.operator == i.operator and row.station == i.station
        assert abs(row.inspected_at - pd.Timestamp(i.inspected_at)) <= tol
        assert abs(row.captured_at - pd.Timestamp(i.captured_at)) <= tol
        assert same(row.image_score, i.image_score) and row.n_findings == len(i.findings)
        assert row.n_reviews == len(reviews)
        assert row.final_decision == (sorted(reviews, key=lambda r: r.decided_at)[-1].decision.value
                                      if reviews else "")
        assert row.clause_ids == ";".join(i.verdict.clause_ids)
        assert json.loads(row.thresholds_json) == i.thresholds
        if i.explanation is None:
            assert row.explanation == "" and pd.isna(row.explanation_fallback)
        else:
            assert row.explanation == i.explanation.text
            assert bool(row.explanation_fallback) is i.explanation.fallback
    fd = frames["findings"]
    expect = [(i, k, f) for i in insps for k, f in enumerate(i.findings)]
    assert len(fd) == len(expect) > 0
    for row, (i, k, f) in zip(fd.itertuples(index=False), expect, strict=True):
        assert (row.inspection_id, row.finding_index, row.defect_type) == (i.id, k, f.defect_type)
        assert same(row.length_mm, f.length_mm) and same(row.area_mm2, f.area_mm2)
        assert same(row.diameter_mm, f.diameter_mm)
        assert (row.box_x_px, row.box_y_px, row.box_w_px, row.box_h_px) == f.region.box
        assert same(row.score, f.region.score) and bool(row.type_uncertain) is f.type_uncertain
    rv = frames["reviews"]
    expect_r = [(i, r) for i in insps for r in sorted(lot.reviews_for(i.id), key=lambda r: r.decided_at)]
    assert len(rv) == len(expect_r) > 0
    for row, (i, r) in zip(rv.itertuples(index=False), expect_r, strict=True):
        assert (row.inspection_id, row.decision, row.reason_code, row.comment) == (
            i.id, r.decision.value, r.reason_code, r.comment)
        assert (row.reviewer_name, row.signature_meaning, row.review_id) == (r.reviewer_name,
                                                                             r.signature_meaning, r.id)
        assert abs(row.decided_at - pd.Timestamp(r.decided_at)) <= tol


@pytest.mark.parametrize(("fmt", "name"), TARGETS)
def test_round_trip(lot, tmp_path, fmt, name):
    info = export(lot, tmp_path / name, fmt, order_id="WO-1001")
    assert info.rows["inspections"] == 150 and info.format == fmt
    for p in info.paths:
        assert Path(p).is_file()
    frames = read_export(tmp_path / name)
    assert set(frames) == set(DEFAULT_TABLES)
    _check_against_store(frames, lot, fmt)


def test_formats_agree_and_csv_files_are_named_by_stem(lot, tmp_path):
    got = {}
    for fmt, name in TARGETS:
        export(lot, tmp_path / name, fmt, tables=TABLES)
        got[name] = read_export(tmp_path / name)
    assert sorted(p.name for p in tmp_path.glob("x_*.csv")) == sorted(f"x_{t}.csv" for t in TABLES)
    assert csv_paths(str(tmp_path / "y"), ["findings"]) == {"findings": str(tmp_path / "y") + "_findings.csv"}
    ref = got["x.csv"]
    for name, frames in got.items():
        for t in TABLES:
            if name == "x.xlsx":
                for col in ("captured_at", "inspected_at", "decided_at"):
                    if col in ref[t]:
                        a, b = ref[t][col], frames[t][col]
                        assert ((a - b).abs() <= pd.Timedelta(milliseconds=1)).all()
                        frames[t][col] = a
            exact = name != "x.xlsx"  # Excel keeps ~16 significant digits of a float
            pd.testing.assert_frame_equal(ref[t], frames[t], check_dtype=True, check_exact=exact, rtol=1e-15,
                                          obj=f"{name}:{t}")


def test_xlsx_keeps_formula_like_text_as_text_and_cleans_control_chars(lot, tmp_path):
    lot2 = synthetic_lot(20, seed=9, review_fraction=1.0)
    part = next(i for i in lot2.inspections if lot2.reviews_for(i.id))
    lot2.add_review(Review(part.id, Decision.REWORK, "=HYPERLINK(\"http://x\")", "bad\x01char", "u", "U",
                           datetime(2024, 5, 9, tzinfo=UTC), "m", id=7))
    info = export(lot2, tmp_path / "f.xlsx", "xlsx")
    assert info.notes and "control characters" in info.notes[0]
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "f.xlsx")["reviews"]
    cells = [c for row in ws.iter_rows() for c in row if c.value == '=HYPERLINK("http://x")']
    assert cells and all(c.data_type == "s" for c in cells)
    rv = read_export(tmp_path / "f.xlsx")["reviews"]
    assert "badchar" in set(rv["comment"])
    info_csv = export(lot2, tmp_path / "f.csv", "csv")
    assert not info_csv.notes
    assert "bad\x01char" in set(read_export(tmp_path / "f.csv")["reviews"]["comment"])


def test_filters_and_chunked_writing(lot, tmp_path, monkeypatch):
    monkeypatch.setattr(export_mod, "FLUSH_ROWS", 7)
    t0 = lot.inspections[0].inspected_at
    info = export(lot, tmp_path / "w.csv", "csv", lot="L-07", since=t0 + timedelta(seconds=200),
                  until=t0 + timedelta(seconds=600))
    df = read_export(tmp_path / "w.csv")["inspections"]
    assert info.rows["inspections"] == len(df) == 20
    assert df["inspected_at"].min() == pd.Timestamp(t0 + timedelta(seconds=200))
    assert (tmp_path / "w_inspections.csv").read_text(encoding="utf-8-sig").count("inspection_id,") == 1
    assert export(lot, tmp_path / "none.json", "json", order_id="WO-0").rows["inspections"] == 0
    empty = read_export(tmp_path / "none.json")
    assert len(empty["inspections"]) == 0 and list(empty["findings"].columns) == [c.name for c in COLUMNS["findings"]]


def test_errors(lot, tmp_path):
    with pytest.raises(ExportError, match="format"):
        export(lot, tmp_path / "x.pdf", "pdf")
    with pytest.raises(ExportError, match="table"):
        export(lot, tmp_path / "x.csv", "csv", tables=("inspections", "photos"))
    with pytest.raises(ExportError, match="does not exist"):
        export(lot, tmp_path / "missing" / "x.csv", "csv")
    with pytest.raises(ExportError, match="no export tables"):
        read_export(tmp_path / "nothing.csv")
    (tmp_path / "other.json").write_text(json.dumps({"schema": "something/1"}))
    with pytest.raises(ExportError, match="not an Inspector export"):
        read_export(tmp_path / "other.json")


def test_docs_list_every_column_with_its_type():
    text = DOC.read_text(encoding="utf-8")
    for table, cols in COLUMNS.items():
        m = re.search(rf"^## `{table}`.*?(?=^## |\Z)", text, re.S | re.M)
        assert m, f"docs/exports.md has no section for {table}"
        rows = re.findall(r"^\|\s*`([a-z0-9_]+)`\s*\|\s*([a-z]+)\s*\|\s*([^|]*)\|", m.group(0), re.M)
        documented = [(n, t) for n, t, _ in rows]
        assert documented == [(c.name, c.type) for c in cols], f"{table}: docs and code differ"
        units = {n: u.strip() for n, _, u in rows}
        for c in cols:
            assert units[c.name] == c.unit, f"{table}.{c.name}: unit {units[c.name]!r} != {c.unit!r}"


def test_json_document_shape(lot, tmp_path):
    export(lot, tmp_path / "d.json", "json", tables=("inspections", "checks"))
    doc = json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "inspector.export/1"
    assert set(doc) == {"schema", "exported_at", "filters", "columns", "inspections", "checks"}
    row = doc["inspections"][0]
    assert list(row) == doc["columns"]["inspections"]
    assert isinstance(row["n_findings"], int) and row["inspected_at"].endswith("+00:00")
    ng = next(r for r in doc["inspections"] if r["verdict"] == "NG")
    assert isinstance(ng["explanation_fallback"], bool)
    assert any(c["finding_index"] is None for c in doc["checks"])
