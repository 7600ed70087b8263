"""Benchmark the explanation generator: load time, prefill, tokens/s, time per explanation.

    python bench/bench_explain.py [--device cpu|cuda] [--cases 8] [--baseline]
        [--weights inspector/model/weights] [--cache-dir DIR] [--eval-data FILE] [--json OUT]

Times (a) loading SmolLM2 + the adapter (the GGUF conversion is cached after the first
run; pass a fresh --cache-dir to time it), (b) for each case: the prompt prefill, a forced
60-token greedy continuation with the static-cache decoder (CUDA graph on CUDA), and the
natural explanation (stops at EOS / three sentences) with its check, and (c) with
--baseline, transformers' ``generate()`` for the same 60 tokens. Cases are generated
synthetic NG/REVIEW parts (needs the image backbone), or held-out items with precomputed
region features from ``--eval-data`` (written by explain_train --eval-data).
"""

from __future__ import annotations

import argparse
import json
import pickle
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _items(args, ex):
    from inspector.model.explain import point_regions
    from inspector.model.explain_text import gather_facts
    from inspector.model.explain_vision import region_features

    if args.eval_data:
        with open(args.eval_data, "rb") as f:
            items = pickle.load(f)["items"][: args.cases]  # written by explain_train
        return [(it["feats"], gather_facts(it["analysis"], it["verdict"], it["work_order"], it["size"]), it)
                for it in items], None
    from inspector.training.explain_cases import make_cases

    out, feat_ms = [], []
    for c in make_cases(args.cases, seed=4242, real_share=0.25):
        size = (c.image.shape[1], c.image.shape[0])
        facts = gather_facts(c.analysis, c.verdict, c.work_order, size)
        t0 = time.perf_counter()
        feats = region_features(ex._backbone(), c.image, point_regions(facts, c.analysis))
        feat_ms.append((time.perf_counter() - t0) * 1000)
        out.append((feats, facts, {"analysis": c.analysis, "verdict": c.verdict, "work_order": c.work_order,
                                   "size": size, "image": c.image}))
    return out, feat_ms


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--cases", type=int, default=8)
    p.add_argument("--tokens", type=int, default=60)
    p.add_argument("--weights", type=Path)
    p.add_argument("--cache-dir", type=Path)
    p.add_argument("--eval-data", type=Path)
    p.add_argument("--baseline", action="store_true", help="also time transformers generate()")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)

    import torch

    from inspector.model.explain import Explainer, prompt_embeddings
    from inspector.model.faithfulness import check_explanation

    if args.threads:
        torch.set_num_threads(args.threads)
    ex = Explainer(device=args.device, cache_dir=args.cache_dir, weights=args.weights)
    t0 = time.perf_counter()
    ex.load()
    load_s = time.perf_counter() - t0
    parts = ex._parts
    model, tok, proj, dec = parts["model"], parts["tokenizer"], parts["projector"], parts["decoder"]
    items, feat_ms = _items(args, ex)
    rows = []
    for feats, facts, it in items:
        emb = prompt_embeddings(model, tok, proj, feats, facts, it["work_order"])
        _sync(args.device)
        t0 = time.perf_counter()
        with torch.inference_mode():
            dec.prefill(emb)
        _sync(args.device)
        prefill = time.perf_counter() - t0
        dec.generate(emb, 4)  # warm-up (first call captures the CUDA graph)
        t0 = time.perf_counter()
        forced = dec.generate(emb, args.tokens, eos_ids=())
        _sync(args.device)
        forced_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        text = ex.generate_from_features(feats, facts, it["work_order"])
        _sync(args.device)
        natural_s = time.perf_counter() - t0
        problems = check_explanation(text, it["analysis"], it["verdict"], it["work_order"], image_size=it["size"],
                                     image=it.get("image"))
        row = {"prompt_tokens": int(emb.shape[1]), "prefill_ms": prefill * 1000, "forced_tokens": len(forced),
               "forced_s": forced_s, "decode_tok_s": (len(forced) - 1) / max(1e-9, forced_s - prefill),
               "natural_s": natural_s, "natural_tokens": len(tok(text).input_ids), "passed": not problems,
               "text": text}
        if args.baseline and len(rows) < 3:  # generate() is slow: time it on the first three cases
            with torch.inference_mode():
                model.generate(inputs_embeds=emb, max_new_tokens=4, do_sample=False, pad_token_id=tok.eos_token_id)
                _sync(args.device)
                t0 = time.perf_counter()
                model.generate(inputs_embeds=emb, max_new_tokens=args.tokens, min_new_tokens=args.tokens,
                               do_sample=False, pad_token_id=tok.eos_token_id)
                _sync(args.device)
            row["hf_generate_s"] = time.perf_counter() - t0
        rows.append(row)
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)

    def med(k):
        vals = [r[k] for r in rows if k in r]
        return float(np.median(vals)) if vals else None

    summary = {
        "device": args.device, "machine": platform.node(), "torch": torch.__version__, "threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name() if args.device.startswith("cuda") else None,
        "load_s": load_s, "cases": len(rows), "prompt_tokens_median": med("prompt_tokens"),
        "prefill_ms_median": med("prefill_ms"), "forced_tokens": args.tokens, "forced_s_median": med("forced_s"),
        "decode_tok_s_median": med("decode_tok_s"), "natural_s_median": med("natural_s"),
        "natural_tokens_median": med("natural_tokens"), "passed_share": float(np.mean([r["passed"] for r in rows])),
        "hf_generate_s_median": med("hf_generate_s"),
        "region_features_ms_median": float(np.median(feat_ms)) if feat_ms else None,
        "weights": ex.generator,
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
