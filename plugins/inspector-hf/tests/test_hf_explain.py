"""Explanations from tiny LLaVA / Qwen2-VL folders: the findings check keeps a right text, replaces a wrong one.

The LLaVA folders are written by :mod:`hf_tiny_models` (real ``LlavaForConditionalGeneration``,
``LlavaProcessor`` with a PIL CLIP image processor, a word-level tokenizer and a chat
template); an ``answer`` model's text weights are set so greedy decoding writes that answer.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest
from hf_tiny_models import write_backbone, write_llava
from inspector_hf import HFBackend
from inspector_hf.explainer import HFExplainer, crop_box, facts_text

from inspector.domain import Analysis, Finding, ModelInfo, Region
from inspector.model.explain_text import gather_facts
from inspector.model.faithfulness import check_explanation
from inspector.spec import judge
from inspector.workorder import parse_work_order

ROOT = Path(__file__).resolve().parents[3]
ORDER = ROOT / "sample_data" / "workorders" / "WO-1001_bracket.txt"
RIGHT = "NG: a scratch 2.36 mm long at the bottom breaks §2a."
WRONG = "OK: the part is fine."


@pytest.fixture(scope="module")
def case():
    """A 2.36 mm scratch outside zone A on a 512 x 512 image of BR-100 (WO-1001: NG by §2a)."""
    wo = parse_work_order(ORDER.read_text(), source_name=ORDER.name)
    region = Region(box=(232, 428, 47, 5), area_px=96, length_px=47.2, width_px=3.4, score=2.0)
    finding = Finding(region, "scratch", 0.9, length_mm=2.36, width_mm=0.17, area_mm2=0.24, diameter_mm=0.55)
    analysis = Analysis(np.zeros((64, 64), np.float32), 2.0, [finding], {"threshold": 1.0},
                        ModelInfo("hf:test", "0", "0"))
    verdict = judge(analysis.findings, wo, image_size=(512, 512))
    image = np.full((512, 512, 3), 140, np.uint8)
    image[428:433, 232:279] = 60
    return image, analysis, verdict, wo


@pytest.fixture(scope="module")
def vlms(tmp_path_factory):
    root = tmp_path_factory.mktemp("vlms")
    return {"right": write_llava(root / "right", RIGHT), "wrong": write_llava(root / "wrong", WRONG),
            "random": write_llava(root / "random", seed=5)}


def test_a_text_that_states_the_findings_passes_and_is_kept(case, vlms):
    image, analysis, verdict, wo = case
    assert check_explanation(RIGHT, analysis, verdict, wo, image_size=(512, 512), image=image) == []
    ex = HFExplainer(vlms["right"], "cpu", max_new_tokens=20)
    e = ex.explain(image, analysis, verdict, wo)
    assert e.text == RIGHT and not e.fallback and not e.problems
    assert e.generator.startswith("hf-vlm:right (") and len(e.generator.split("(")[1].rstrip(")")) == 12


def test_a_text_that_contradicts_the_findings_is_replaced_by_the_template(case, vlms):
    image, analysis, verdict, wo = case
    for name in ("wrong", "random"):
        ex = HFExplainer(vlms[name], "cpu", max_new_tokens=20)
        facts = gather_facts(analysis, verdict, wo, (512, 512))
        raw = ex.generate(image, analysis, facts, wo)
        e = ex.explain(image, analysis, verdict, wo)
        assert e.fallback and e.generator == "template" and e.text != raw
        assert "2.36 mm" in e.text and "§2a" in e.text and "(NG)" in e.text  # the template states the facts
        assert e.problems and not e.problems[0].startswith("model unavailable"), e.problems
        if name == "wrong":
            assert raw == WRONG and "wrong verdict word 'OK': the verdict is NG" in e.problems, e.problems


def test_qwen2vl_folder_without_torchvision_uses_its_image_processor_and_tokenizer(case, tmp_path):
    from hf_tiny_models import write_qwen2vl
    from inspector_hf.processors import GridImageProcessor

    image, analysis, verdict, wo = case
    right = HFExplainer(write_qwen2vl(tmp_path / "qwen-right", RIGHT), "cpu", max_new_tokens=20)
    e = right.explain(image, analysis, verdict, wo)
    assert isinstance(right._parts["processor"], GridImageProcessor)  # AutoProcessor needs torchvision here
    assert e.text == RIGHT and not e.fallback and e.generator.startswith("hf-vlm:qwen-right")
    wrong = HFExplainer(write_qwen2vl(tmp_path / "qwen-wrong", WRONG), "cpu", max_new_tokens=20)
    e = wrong.explain(image, analysis, verdict, wo)
    assert e.fallback and "wrong verdict word 'OK': the verdict is NG" in e.problems


def test_a_vlm_folder_that_does_not_load_falls_back_with_the_reason(case, tmp_path, vlms):
    import shutil

    image, analysis, verdict, wo = case
    broken = tmp_path / "broken"
    shutil.copytree(vlms["right"], broken)
    (broken / "tokenizer.json").unlink()
    (broken / "tokenizer_config.json").unlink()
    ex = HFExplainer(broken, "cpu")
    e = ex.explain(image, analysis, verdict, wo)
    assert e.fallback and e.problems[0].startswith("model unavailable:") and "processor" in e.problems[0]
    assert ex.explain(image, analysis, verdict, wo).problems == e.problems  # remembered, not retried per part


def test_the_backend_explains_with_its_vlm_folder(case, tmp_path, vlms):
    image, analysis, verdict, wo = case
    backend = HFBackend(tmp_path / "refs", "cpu", backbone_dir=write_backbone(tmp_path / "bb", "resnet"),
                        vlm_dir=vlms["right"], max_new_tokens=20)
    e = backend.explain(image, analysis, verdict, wo)
    assert e.text == RIGHT and e.generator.startswith("hf-vlm:right")


def test_prompt_and_view(case, vlms):
    image, analysis, verdict, wo = case
    facts = gather_facts(analysis, verdict, wo, (512, 512))
    text = facts_text(facts, wo)
    assert "Verdict: NG" in text and "scratch" in text and "§2a" in text and "<|im" not in text
    ex = HFExplainer(vlms["right"], "cpu", context=3.0)
    view = ex.view(image, analysis, facts)
    assert view.shape[:2] == (141, 141)  # 3 x the scratch's 47 px, kept inside the image
    assert (view == 60).any()  # the scratch is in the picture the model sees
    assert crop_box((512, 512), (500, 500, 10, 10), 3.0) == (448, 448, 512, 512)
    assert HFExplainer(vlms["right"], "cpu", context=0).view(image, analysis, facts) is image
