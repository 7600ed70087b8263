"""The hf backend from the command line: `inspector eval --backend hf`, the settings path, `inspector plugins`."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest
from hf_tiny_models import write_backbone

from inspector.cli import main

W, H = 1130, 460  # a BSData size group the bsdata protocol reads


def _png(path: Path, img: np.ndarray) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), img)


def fake_bsdata(root: Path, n_train: int = 6, n_test: int = 3) -> Path:
    """A tiny synthetic BSData-style set: textured grey plates, dark 14 px pits with masks, a manifest."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:H, 0:W]
    base = (140 + 12 * np.sin(xx / 9.0) + 8 * np.cos(yy / 13.0)).astype(np.float32)
    rows = []
    for split, n in (("train", n_train), ("test", n_test)):
        for i in range(n):
            img = np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)
            mask = np.zeros((H, W), np.uint8)
            for _ in range(1 if split == "train" else 2):
                x, y = int(rng.integers(200, 900)), int(rng.integers(100, 340))
                img[y : y + 14, x : x + 14] = 25
                mask[y : y + 14, x : x + 14] = 255
            name = f"{split}{i}"
            _png(root / f"pitting/images/{name}.png", np.repeat(img[:, :, None], 3, axis=2))
            _png(root / f"pitting/masks/{name}.png", mask)
            rows.append({"class": "pitting", "image": f"pitting/images/{name}.png", "mask": f"pitting/masks/{name}.png",
                         "width": W, "height": H, "source_split": split})
    with open(root / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return root


def test_eval_backend_hf_runs_the_same_protocol_on_a_tiny_synthetic_set(tmp_path, capsys):
    data = fake_bsdata(tmp_path / "data" / "bsdata").parent
    model = write_backbone(tmp_path / "model", "resnet")
    out = tmp_path / "eval.json"
    rc = main(["eval", "--backend", "hf", "--model-dir", str(model), "--datasets", "bsdata", "--data", str(data),
               "--bsdata-good", "6", "--bsdata-test", "3", "--explain-n", "0", "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    result = json.loads(out.read_text())
    (row,) = result["rows"]
    assert result["backend"] == "hf" and row["dataset"] == "bsdata" and "skipped" not in row
    assert row["images"] == 3 and row["pits"] == 6
    assert sum(row["verdicts"].values()) == 3
    assert 0.0 <= row["hit_rate"] <= 1.0 and row["hit_rate"] > 0  # 14 px dark pits on a plain texture
    assert "backend hf" in text and "bsdata" in text


def test_a_broken_model_folder_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    data = tmp_path / "data"
    (data / "bsdata").mkdir(parents=True)
    rc = main(["eval", "--backend", "hf", "--model-dir", str(tmp_path / "no-such-model"), "--datasets", "bsdata",
               "--data", str(data)])
    err = capsys.readouterr().err
    assert rc == 2 and "no-such-model does not exist" in err and "Traceback" not in err
    # the embedded backend takes no model folder: refused by name
    rc = main(["eval", "--model-dir", str(tmp_path), "--datasets", "bsdata", "--data", str(data)])
    assert rc == 2 and "takes no model_dir option" in capsys.readouterr().err


def test_station_settings_select_the_backend_and_a_bad_folder_stops_with_the_reason(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INSPECTOR_BACKEND", "hf")
    monkeypatch.setenv("INSPECTOR_PLUGINS", json.dumps({"hf": {"model_dir": str(tmp_path / "missing")}}))
    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "none.yaml"))
    root = Path(__file__).resolve().parents[3]
    good = root / "sample_data" / "parts" / "BR-100" / "good"
    rc = main(["--data-dir", str(tmp_path / "station"), "--device", "cpu", "teach", "--order",
               str(root / "sample_data" / "workorders" / "WO-1001_bracket.txt"), "--good", str(good)])
    err = capsys.readouterr().err
    assert rc == 2 and "backbone folder" in err and "missing does not exist" in err and "Traceback" not in err


@pytest.mark.parametrize("as_json", [False, True])
def test_inspector_plugins_lists_the_hf_backend(capsys, as_json):
    rc = main(["plugins", "--group", "backends"] + (["--json"] if as_json else []))
    out = capsys.readouterr().out
    if as_json:
        rows = {r["name"]: r for r in json.loads(out)}
        assert rows["hf"]["loaded"] and rows["hf"]["distribution"] == "inspector-hf"
        assert rows["hf"]["target"] == "inspector_hf:HFBackend"
    else:
        line = next(ln for ln in out.splitlines() if " hf " in ln)
        assert "loaded" in line and "inspector-hf" in line
    assert rc in (0, 1)  # 1 only when some other plugin is broken on this machine
