"""How often the explainer's text passes the faithfulness check, on generated held-out cases."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import numpy as np

from inspector.model.explain import Explainer
from inspector.model.explain_text import template_explanation
from inspector.model.faithfulness import check_explanation
from inspector.training.explain_cases import EVAL_SEED_OFFSET, make_cases


def evaluate_faithfulness(n_cases: int = 100, seed: int = 0, device: str = "cpu",
                          explainer: Any = None, real_share: float = 0.2) -> dict:
    """Run the explainer on ``n_cases`` generated NG/REVIEW cases (held-out seeds) and score it.

    Cases are synthetic parts (plus a share of real BSData photos when ../shared/data is
    found) judged against generated work orders, from the seeds training never uses.
    Returns {'n', 'passed' (share of generated texts that passed the check), 'fallback'
    (share replaced by the template), 'template_passed', 'problems' (counts by kind),
    'ms_mean', 'ms_p95', 'generator'}.
    """
    ex = explainer or Explainer(device=device)
    cases = make_cases(n_cases, seed + EVAL_SEED_OFFSET, real_share=real_share)
    kinds: Counter[str] = Counter()
    passed = fallback = template_ok = 0
    times = []
    for case in cases:
        t0 = time.perf_counter()
        e = ex.explain(case.image, case.analysis, case.verdict, case.work_order)
        times.append((time.perf_counter() - t0) * 1000)
        fallback += e.fallback
        passed += not e.fallback
        for p in e.problems:
            kinds[p.split(" ")[0] if not p.startswith(("missing", "wrong", "invented")) else
                  " ".join(p.split(" ")[:2])] += 1
        size = (int(case.image.shape[1]), int(case.image.shape[0]))
        tpl_text = template_explanation(case.analysis, case.verdict, case.work_order, image_size=size)
        tpl = check_explanation(tpl_text, case.analysis, case.verdict, case.work_order, image=case.image)
        template_ok += not tpl
    n = max(1, len(cases))
    return {
        "n": len(cases), "passed": passed / n, "fallback": fallback / n, "template_passed": template_ok / n,
        "problems": dict(kinds.most_common()), "ms_mean": float(np.mean(times)) if times else 0.0,
        "ms_p95": float(np.percentile(times, 95)) if times else 0.0, "generator": ex.generator,
    }
