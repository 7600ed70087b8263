"""Training pairs for the explainer: (region features, prompt) -> varied, correct explanations.

Each generated case (:mod:`inspector.training.explain_cases`) gives the facts of its verdict
(:func:`inspector.model.explain_text.gather_facts`); :func:`paraphrases` writes several
different correct texts from them (different sentence frames, verdict words, place words, an
appearance word 'dark'/'bright' when the pixels clearly show one — the one fact only the
visual tokens carry). Every target is run through the same checker that guards inference;
a target that fails it is dropped (and counted, so a bug here cannot train lies).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inspector.domain import Outcome, VerdictKind
from inspector.model.explain_text import (
    MASS_NOUNS,
    Facts,
    Point,
    build_prompt,
    explain_facts,
    fmt_limit,
    fmt_value,
    gather_facts,
    limit_clause,
    more_sentence,
    nouns,
    scope_phrase,
    with_article,
)
from inspector.model.faithfulness import appearance, check_explanation

_PLACE = {
    "top left": ["in the top left of the image", "in the upper left of the image", "near the top-left corner"],
    "top right": ["in the top right of the image", "in the upper right of the image", "near the top-right corner"],
    "bottom left": ["in the bottom left of the image", "in the lower left of the image",
                    "near the bottom-left corner"],
    "bottom right": ["in the bottom right of the image", "in the lower right of the image",
                     "near the bottom-right corner"],
    "top": ["at the top of the image", "near the top edge of the image", "in the upper part of the image"],
    "bottom": ["at the bottom of the image", "near the bottom edge of the image", "in the lower part of the image"],
    "left": ["on the left of the image", "on the left side of the image", "in the left part of the image"],
    "right": ["on the right of the image", "on the right side of the image", "in the right part of the image"],
    "centre": ["near the centre of the image", "in the middle of the image", "in the central area of the image"],
}
_NG = ["so the part is rejected (NG)", "so the part is NG", "so the verdict is NG", "so the part fails (NG)",
       "so the part is rejected"]
_REVIEW = ["so the part needs review (REVIEW)", "so the part needs review", "so a person must decide (REVIEW)",
           "so the part goes to review (REVIEW)"]


def _pick(rng: np.random.Generator, items: Sequence[str]) -> str:
    return str(items[int(rng.integers(len(items)))])


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _place(rng, p: Point) -> str:
    parts = [_pick(rng, _PLACE[p.where])] if p.where in _PLACE else []
    if p.zones:
        z = " and ".join(p.zones)
        parts.append(_pick(rng, [f"in zone {z}", f"inside zone {z}", f"within zone {z}"]))
    return ", ".join(parts)


def _size(rng, p: Point) -> str:
    if p.size_value is None:
        return ""
    v = fmt_value(p.size_value, p.size_unit)
    if p.size_measure == "area":
        return _pick(rng, [f"of {v}", f"covering {v}", f"with an area of {v}"])
    if p.size_measure == "diameter":
        return _pick(rng, [f"{v} in diameter", f"with a diameter of {v}", f"of {v} diameter"])
    word = {"length": "long", "width": "wide"}.get(p.size_measure or "", "")
    return _pick(rng, [f"{v} {word}".strip(), f"with a {p.size_measure} of {v}", f"measuring {v}"])


def _what(rng, p: Point, look: str | None) -> str:
    sing = nouns(p.defect_type)[0]
    if look and p.defect_type not in MASS_NOUNS and rng.random() < 0.6:
        return with_article(f"{look} {sing}", p.defect_type)
    return with_article(sing, p.defect_type)


def _finding_sentence(rng, p: Point, look: str | None) -> str:
    what, size, place = _what(rng, p, look), _size(rng, p), _place(rng, p)
    sp = f" {size}" if size else ""
    pl = f" {place}" if place else ""
    frames = [f"{_cap(what)}{sp} was found{pl}.", f"There is {what}{sp}{pl}.",
              f"The inspection found {what}{sp}{pl}.", f"The image shows {what}{sp}{pl}."]
    if place:
        frames.append(f"{_cap(place)}, there is {what}{sp}.")
    if size:
        frames.append(f"{_cap(what)} {size} was detected{pl}.")
    return _pick(rng, frames)


def _count_sentence(rng, p: Point) -> str:
    n = int(p.value or len(p.members))
    sing, plural = nouns(p.defect_type)
    possible = "possible " if p.outcome is Outcome.REVIEW else ""
    word = plural if n != 1 else sing
    pl = f" {_place(rng, p)}" if p.where else ""
    return _pick(rng, [f"{n} {possible}{word} were found{pl}.", f"The part shows {n} {possible}{word}{pl}.",
                       f"The inspection counted {n} {possible}{word}{pl}."])


def _rule_sentence(rng, p: Point, verdict: VerdictKind) -> str:
    tail = _pick(rng, _NG if verdict is VerdictKind.NG else _REVIEW)
    if p.kind == "review" or p.outcome is Outcome.REVIEW:
        doubt = p.doubt or "a person must decide"
        rule = f"; {limit_clause(p)}" if p.kind == "count" and p.clause else ""
        cid = f" under {p.clause_id}" if p.clause_id and p.clause_id not in doubt + rule else ""
        frames = [f"{_cap(doubt)}{cid}{rule}, {tail}."]
        if p.clause_id and not rule:
            frames += [f"Because {doubt}, {p.clause_id} cannot decide it and the part needs review.",
                       f"{_cap(doubt)}, so {p.clause_id} cannot be applied and a person must review the part."]
        elif not p.clause_id:
            frames.append(f"{_cap(doubt)}; a person must review the part.")
        return _pick(rng, frames)
    plural = nouns(p.defect_type)[1]
    c = p.clause
    rule = limit_clause(p)
    frames = [f"{rule}, {tail}."]
    if c is not None and p.kind == "ban":
        sc = scope_phrase(c)
        frames += [f"No {plural} are permitted{sc} under {p.clause_id}, {tail}.",
                   f"Since {p.clause_id} does not allow any {plural}{sc}, the part is rejected (NG).",
                   f"{p.clause_id} bans {plural}{sc}, {tail}."]
    elif c is not None and p.kind == "size" and c.comparison in ("<=", "<"):
        lim, sc = fmt_limit(c), scope_phrase(c)
        frames += [f"This is more than the {lim} allowed by {p.clause_id}{sc}, {tail}.",
                   f"{p.clause_id} permits at most {lim}{sc}, {tail}.",
                   f"It exceeds the {lim} limit of {p.clause_id}{sc}, {tail}."]
    elif c is not None and p.kind == "count":
        frames += [f"That is more than {p.clause_id} allows ({fmt_limit(c)}{scope_phrase(c) or ' per part'}), "
                   f"{tail}."]
    return _pick(rng, frames)


def _more_sentence(rng, rest: list[Point]) -> str:
    ids = list(dict.fromkeys(p.clause_id for p in rest if p.clause_id))
    k = len(rest)
    s = "s" if k != 1 else ""
    if all(p.outcome is Outcome.FAIL for p in rest):
        target = ", ".join(ids) if ids else "the spec"
        verb = "also fail" if k != 1 else "also fails"
        return _pick(rng, [f"{k} more finding{s} {verb} {target}.", f"Other findings also fail {target}.",
                           f"{_cap(target)} {'is' if len(ids) == 1 else 'are'} also broken by other findings."
                           if ids else f"Other findings also fail {target}."])
    fails = [p for p in rest if p.outcome is Outcome.FAIL]
    if fails:  # mixed: say which fail and which need review
        return more_sentence(rest)
    need = "need" if k != 1 else "needs"
    ids_s = f" ({', '.join(ids)})" if ids else ""
    return _pick(rng, [f"{k} more finding{s} {need} review{ids_s}.", f"Other findings need review{ids_s}."])


def paraphrase(rng: np.random.Generator, facts: Facts, look: str | None = None) -> str:
    """One random correct wording of ``facts`` (``look``: the main region's appearance, if any)."""
    if facts.verdict is VerdictKind.OK or not facts.points:
        return explain_facts(facts)
    if rng.random() < 0.15:
        return explain_facts(facts)  # the plain template is a valid answer too
    p = facts.points[0]
    first = _count_sentence(rng, p) if p.kind == "count" else _finding_sentence(rng, p, look)
    out = [first, _rule_sentence(rng, p, facts.verdict)]
    if len(facts.points) > 1 and rng.random() < 0.75:
        out.append(_more_sentence(rng, list(facts.points[1:])))
    return " ".join(out)


def paraphrases(rng, case, k: int = 4) -> tuple[list[str], int]:
    """Up to ``k`` distinct checked targets for ``case``; also how many candidates failed the check."""
    from inspector.model.explain import point_regions

    size = (int(case.image.shape[1]), int(case.image.shape[0]))
    facts = gather_facts(case.analysis, case.verdict, case.work_order, size)
    regions = point_regions(facts, case.analysis)
    look = appearance(case.image, regions[0]) if regions and facts.main and facts.main.kind != "count" else None
    out: list[str] = []
    bad = 0
    for _ in range(3 * k):
        t = paraphrase(rng, facts, look)
        if t in out:
            continue
        if check_explanation(t, case.analysis, case.verdict, case.work_order, image=case.image):
            bad += 1
            continue
        out.append(t)
        if len(out) == k:
            break
    return out, bad


def build_examples(cases, backbone, seed: int, k: int = 4, progress=None) -> dict[str, Any]:
    """Prompts, region features and targets for training, as plain lists/arrays (torch.save-able)."""
    from inspector.model.explain import point_regions
    from inspector.model.explain_text import MAX_POINTS
    from inspector.model.explain_vision import FEAT_IN, region_features

    heads, tails, targets, sources = [], [], [], []
    feats = np.zeros((len(cases), MAX_POINTS, FEAT_IN), np.float32)
    n_regions = np.zeros(len(cases), np.int64)
    bad = 0
    for i, case in enumerate(cases):
        rng = np.random.default_rng([seed, 55, i])
        size = (int(case.image.shape[1]), int(case.image.shape[0]))
        facts = gather_facts(case.analysis, case.verdict, case.work_order, size)
        regions = point_regions(facts, case.analysis)
        f = region_features(backbone, case.image, regions)
        feats[i, : len(f)] = f
        n_regions[i] = len(f)
        head, tail = build_prompt(facts, case.work_order)
        texts, b = paraphrases(rng, case, k)
        bad += b
        heads.append(head)
        tails.append(tail)
        targets.append(texts)
        sources.append(case.source)
        if progress:
            progress(i + 1, len(cases))
    return {"heads": heads, "tails": tails, "targets": targets, "sources": sources, "feats": feats,
            "n_regions": n_regions, "rejected_targets": bad}


def save_examples(data: dict[str, Any], path: Path) -> None:
    import torch

    torch.save({**data, "feats": torch.from_numpy(data["feats"]),
                "n_regions": torch.from_numpy(data["n_regions"])}, str(path))


def load_examples(path: Path) -> dict[str, Any]:
    import torch

    data = torch.load(str(path), weights_only=True)
    data["feats"] = data["feats"].numpy()
    data["n_regions"] = data["n_regions"].numpy()
    return data
