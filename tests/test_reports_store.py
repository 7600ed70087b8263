"""Reports, certificates and exports against the real Store (SQLite + image folder) and the CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from inspector.domain import VerdictKind
from inspector.reports.certificate import build_certificate
from inspector.reports.export import export, read_export
from inspector.reports.pdf import build_work_order_report
from inspector.reports.synthetic import copy_to_store, synthetic_lot
from inspector.reports.verify import certificate_document_hash, lot_document_hash

store_mod = pytest.importorskip("inspector.store", reason="inspector.store not available")


def text_of(path: Path) -> str:
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True).stdout
        return re.sub(r"\s+", " ", out.decode("utf-8"))
    from pypdf import PdfReader

    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(str(path)).pages))


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    mem = synthetic_lot(60, seed=21, review_fraction=0.6, image_size=(320, 240))
    url = f"sqlite:///{root / 'inspector.db'}"
    with store_mod.Store.open(url, root / "images") as store:
        copy_to_store(mem, store)
    return root, url, mem


def test_report_and_certificate_from_the_store(stored, tmp_path):
    root, url, mem = stored
    with store_mod.Store.open(url, root / "images") as store:
        info = build_work_order_report(store, "WO-1001", tmp_path / "r.pdf", lot="L-07", generated_by="ci")
        assert info.n_parts == 60 and info.missing_images == 0
        assert info.n_flagged == sum(i.verdict.kind is not VerdictKind.OK for i in mem.inspections)
        assert info.document_hash == lot_document_hash(store, "WO-1001", lot="L-07")
        counts = store.counts(order_id="WO-1001")
        text = text_of(tmp_path / "r.pdf")
        assert f"{100 * counts['yield']:.1f}%" in text and f"page 1 of {info.pages}" in text
        reviewed = next(i for i in store.query_inspections(order_id="WO-1001", flagged_only=True, newest_first=False)
                        if store.reviews_for(i.id))
        cert = build_certificate(store, reviewed.id, tmp_path / "c.pdf")
        assert cert.pages == 1 and cert.document_hash == certificate_document_hash(store, reviewed.id)
        t = text_of(tmp_path / "c.pdf")
        assert reviewed.frame_name in t and "Dana Smith" in t and "rev C" in t


def test_export_round_trip_against_the_store(stored, tmp_path):
    root, url, _ = stored
    with store_mod.Store.open(url, root / "images") as store:
        export(store, tmp_path / "s.json", "json", order_id="WO-1001")
        frames = read_export(tmp_path / "s.json")
        insps = store.query_inspections(order_id="WO-1001", newest_first=False)
        df = frames["inspections"]
        assert list(df["inspection_id"]) == [i.id for i in insps]
        assert list(df["image_sha256"]) == [i.image_sha256 for i in insps]
        assert list(df["inspected_at"]) == [pd.Timestamp(i.inspected_at) for i in insps]
        n_reviews = sum(len(store.reviews_for(i.id)) for i in insps)
        assert len(frames["reviews"]) == n_reviews and frames["reviews"]["review_id"].notna().all()
        assert len(frames["findings"]) == sum(len(i.findings) for i in insps)


def _cli(args, tmp_path, monkeypatch):
    from inspector.cli import main

    for k in list(os.environ):
        if k.startswith("INSPECTOR_"):
            monkeypatch.delenv(k)
    cfg = tmp_path / "settings.yaml"
    cfg.write_text("")
    monkeypatch.chdir(tmp_path)
    return main(["--config", str(cfg), *args])


def test_cli_report_certificate_and_export(stored, tmp_path, monkeypatch, capsys):
    root, url, _ = stored
    common = ["--db", url, "--images", str(root / "images"), "--data-dir", str(tmp_path / "data")]
    assert _cli([*common, "report", "--order", "WO-1001", "--lot", "L-07", "--by", "QE"], tmp_path, monkeypatch) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "report_WO-1001_L-07.pdf").is_file() and "document sha256" in out
    with store_mod.Store.open(url, root / "images") as store:
        some = store.query_inspections(order_id="WO-1001", limit=1)[0]
    assert _cli([*common, "report", "--certificate", some.id, "--json"], tmp_path, monkeypatch) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["pages"] == 1 and Path(info["path"]).is_file()
    assert _cli([*common, "export", "--order", "WO-1001", "--format", "csv", "--out", "e.csv",
                 "--tables", "inspections,checks"], tmp_path, monkeypatch) == 0
    assert (tmp_path / "e_inspections.csv").is_file() and (tmp_path / "e_checks.csv").is_file()
    assert _cli([*common, "report", "--order", "WO-404"], tmp_path, monkeypatch) == 2
    assert "WO-404" in capsys.readouterr().err
    assert _cli([*common, "export", "--format", "csv", "--tables", "photos"], tmp_path, monkeypatch) == 2
    assert "photos" in capsys.readouterr().err
