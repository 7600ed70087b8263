"""Held-out metrics of a trained typing head (test split of the synthetic backgrounds + BSData).

Every number is computed through :class:`inspector.model.typing_head.TypeHead`, the way the
product calls it, on regions whose backgrounds were never trained on:

- ``acc_words``: 10-way typing with the canonical words (all phrase templates, as in use);
- ``acc_train_templates`` / ``acc_heldout_templates``: the same with only the training
  phrasings / only phrasings never seen in training;
- ``acc_heldout_synonyms``: each type named by a synonym never seen in training ("scuff",
  "fissure", ...), averaged over the synonym sets;
- ``acc_proto_k{1,5}``: with k taught regions per type (from other test regions), 5 seeds;
- ``bsdata_pitting_acc``: real BSData test-split pits typed 'pitting' among the 10 words;
- ``nonsense_uncertain``: share of regions flagged uncertain for a vocabulary of unrelated
  words; ``confident_precision`` / ``coverage``: accuracy of the calls not flagged, and how
  many were not flagged; ``ece``: expected calibration error of the top score (10 bins);
- ``acc_heldout_types``: regions of types never trained on (``--holdout-types``).
"""

from __future__ import annotations

import numpy as np

from inspector.model.text import HELDOUT_TEMPLATES, INFERENCE_TEMPLATES, TRAIN_TEMPLATES
from inspector.training.typing_words import HELDOUT_WORDS, NONSENSE, TRAIN_WORDS


def ece(conf: np.ndarray, right: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: bin-weighted |accuracy - mean confidence|."""
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf >= lo) & ((conf < hi) if hi < 1 else (conf <= hi))
        if m.any():
            total += m.mean() * abs(right[m].mean() - conf[m].mean())
    return float(total)


def _argmax_acc(emb: np.ndarray, T: np.ndarray, y: np.ndarray) -> float:
    return float(((emb @ T.T).argmax(1) == y).mean()) if len(y) else float("nan")


def held_out_metrics(head, data, cfg, seed: int = 0) -> dict:
    """Metrics dict (see module doc) for ``head`` on the test split of ``data`` (a RegionSet)."""
    types = list(cfg.types)
    test = data.split == "test"
    synth = test & (data.source != "bsdata")
    d, t = data.desc[synth], data.types[synth]
    y = np.array([types.index(v) for v in t])
    emb = head.embed(d)
    text = head.text
    m: dict = {"n_test_regions": int(len(y))}

    res = head.classify(d, types)
    pred = np.array([types.index(r.defect_type) for r in res])
    right = pred == y
    conf = np.array([r.score for r in res])
    unc = np.array([r.uncertain for r in res])
    m["acc_words"] = round(float(right.mean()), 4)
    m["per_type"] = {ty: round(float(right[y == i].mean()), 3) for i, ty in enumerate(types) if (y == i).any()}
    m["confident_precision"] = round(float(right[~unc].mean()), 4) if (~unc).any() else None
    m["coverage"] = round(float((~unc).mean()), 4)
    m["ece"] = round(ece(conf, right), 4)

    canon = [TRAIN_WORDS[ty][0] for ty in types]
    m["acc_train_templates"] = round(_argmax_acc(emb, text.type_embeddings(canon, templates=TRAIN_TEMPLATES), y), 4)
    m["acc_heldout_templates"] = round(_argmax_acc(emb, text.type_embeddings(canon, templates=HELDOUT_TEMPLATES), y), 4)
    syn_accs = []
    for j in range(2):
        words = [HELDOUT_WORDS[ty][j] for ty in types]
        syn_accs.append(_argmax_acc(emb, text.type_embeddings(words, templates=INFERENCE_TEMPLATES), y))
    m["acc_heldout_synonyms"] = round(float(np.mean(syn_accs)), 4)

    rng = np.random.default_rng(seed + 11)
    for k in (1, 5):
        accs = []
        for _ in range(5):
            keys = {ty: rng.choice(np.nonzero(t == ty)[0], size=k, replace=False) for ty in types
                    if (t == ty).sum() > k}
            used = np.concatenate(list(keys.values()))
            q = np.setdiff1d(np.arange(len(t)), used)
            protos = {ty: d[ix] for ty, ix in keys.items()}
            r = head.classify(d[q], types, protos)
            accs.append(np.mean([a.defect_type == b for a, b in zip(r, t[q], strict=True)]))
        m[f"acc_proto_k{k}"] = round(float(np.mean(accs)), 4)

    bs = test & (data.source == "bsdata")
    if bs.any():
        r = head.classify(data.desc[bs], types)
        m["bsdata_pitting_acc"] = round(float(np.mean([a.defect_type == "pitting" for a in r])), 4)
        m["bsdata_test_regions"] = int(bs.sum())
    r = head.classify(d, list(NONSENSE))
    m["nonsense_uncertain"] = round(float(np.mean([a.uncertain for a in r])), 4)
    m["nonsense_mean_score"] = round(float(np.mean([a.score for a in r])), 4)
    held = [ty for ty in cfg.holdout_types if (t == ty).any()]
    if held:
        mask = np.isin(t, held)
        m["acc_heldout_types"] = {ty: round(float(right[t == ty].mean()), 3) for ty in held}
        m["acc_heldout_types_mean"] = round(float(right[mask].mean()), 4)
        m["acc_seen_types"] = round(float(right[~mask].mean()), 4)
    return m
