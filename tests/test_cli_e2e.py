"""The CLI end to end on sample_data: teach, inspect, list, show, report, export; and the demo job.

Uses the real embedded model (CPU) and a real SQLite database in a temp folder.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"
ORDER = SAMPLES / "workorders" / "WO-1001_bracket.txt"
STRICT = SAMPLES / "workorders" / "WO-1002_bracket_strict.txt"
GOOD = SAMPLES / "parts" / "BR-100" / "good"
LINE = SAMPLES / "parts" / "BR-100" / "line"

pytestmark = pytest.mark.slow


def cli(data: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "inspector", "--data-dir", str(data), "--device", "cpu", *args]
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(data),
        "INSPECTOR_CONFIG": str(data / "none.yaml"),
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=1200)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def station(tmp_path_factory):
    data = tmp_path_factory.mktemp("station")
    out = cli(data, "teach", "--order", str(ORDER), "--good", str(GOOD))
    assert "taught BR-100" in out.stdout
    return data


def test_inspect_list_show(station):
    out = cli(station, "inspect", "--order", str(ORDER), str(LINE), "--explain", "sync", "--json")
    summary = json.loads(out.stdout)
    n_images = len([p for p in LINE.iterdir() if p.suffix == ".png"])
    assert summary["inspected"] == n_images
    counts = summary["counts"]
    assert counts["NG"] >= 1 and counts["OK"] >= 1
    rows = json.loads(cli(station, "list", "--order", "WO-1001", "--limit", "100", "--json").stdout)
    assert len(rows) == n_images
    ng = next(r for r in rows if r["verdict"]["kind"] == "NG")
    assert any("WO-1001 §" in reason for reason in ng["verdict"]["reasons"])
    shown = json.loads(cli(station, "show", ng["id"], "--json").stdout)
    assert shown["explanation"]["text"]
    assert shown["model"]["weights_hash"] and shown["image_sha256"]
    # The image is stored under its content hash.
    sha = shown["image_sha256"]
    assert list((station / "images").rglob(f"{sha}.*"))
    db = sqlite3.connect(station / "inspector.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_same_images_stricter_order_rejects_more(station):
    lenient = json.loads(
        cli(station, "inspect", "--order", str(ORDER), str(LINE), "--explain", "off", "--json").stdout
    )
    strict = json.loads(
        cli(station, "inspect", "--order", str(STRICT), str(LINE), "--explain", "off", "--json").stdout
    )
    assert strict["counts"]["NG"] > lenient["counts"]["NG"]


def test_report_and_export(station, tmp_path):
    cli(station, "inspect", "--order", "WO-1001", str(LINE), "--explain", "off")
    pdf = tmp_path / "r.pdf"
    cli(station, "report", "--order", "WO-1001", "--out", str(pdf))
    assert pdf.stat().st_size > 10_000
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True
        )
        assert list(tmp_path.glob("p*.png"))
    text = (
        subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        if shutil.which("pdftotext")
        else ""
    )
    if text:
        assert "WO-1001" in text and "BR-100" in text
    cli(station, "export", "--order", "WO-1001", "--format", "json", "--out", str(tmp_path / "e.json"))
    data = json.loads((tmp_path / "e.json").read_text())
    assert data["inspections"]


def test_bad_inputs_give_clear_errors(station, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    out = cli(station, "inspect", "--order", str(empty), str(LINE), check=False)
    assert out.returncode == 2 and "error:" in out.stderr and "Traceback" not in out.stderr
    junk = tmp_path / "junk.txt"
    junk.write_bytes(bytes(range(256)) * 4)
    out = cli(station, "inspect", "--order", str(junk), str(LINE), check=False)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "broken.png").write_bytes(b"not a png")
    shutil.copy(next(LINE.glob("*.png")), folder / "ok.png")
    out = cli(station, "inspect", "--order", "WO-1001", str(folder), "--explain", "off")
    # the broken file is a part too: recorded REVIEW with its reason, never skipped
    assert "broken.png" in out.stdout and "2 inspected" in out.stdout and "REVIEW 1" in out.stdout
    assert "unreadable" in out.stdout and out.returncode == 0


def test_demo_headless_writes_database_and_report(tmp_path):
    data = tmp_path / "demo"
    out = cli(data, "demo", "--headless", "--explain", "off")
    assert "report:" in out.stdout
    assert (data / "inspector.db").exists()
    assert list((data / "reports").glob("*.pdf"))
