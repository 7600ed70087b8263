"""Image AUROC of feature variants on ELPV (evaluation only): which anomaly evidence to ship.

Teaches a memory bank on 40 defect-free cells per module type (seed 0) and scores 100 other
good and 100 defective (p >= 2/3) cells by the max of the smoothed nearest-neighbour map, for a
choice of EfficientNet-Lite0 blocks, working scale and map smoothing. Needs ``pip install
elpv-dataset``. The table in docs/evaluation.md ("Choosing the anomaly evidence") came from it::

    python bench/elpv_feature_variants.py --blocks 4,10 --blocks 4,7,10 --blocks 2,4,10
    python bench/elpv_feature_variants.py --blocks 4,10 --scale 0.5 --sigma 1.5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inspector.model import localize as L  # noqa: E402
from inspector.model.backbone import Backbone  # noqa: E402
from inspector.model.memory import MemoryBank  # noqa: E402
from inspector.training.eval_elpv import auroc, load_elpv, split  # noqa: E402


def features(bb: Backbone, images: np.ndarray, idx: np.ndarray, scale: float):
    import torch

    geom = L.plan(images.shape[2], images.shape[1], scale)
    out = []
    with torch.inference_mode():
        for s in range(0, len(idx), 8):
            rgb = [np.repeat(images[i][:, :, None], 3, axis=2) for i in idx[s : s + 8]]
            f = L.features(bb, L.to_working(rgb, geom, "cpu"), geom).float()
            gw, gh = geom.cells
            out.append(f[:, :, :gh, :gw])
    return torch.cat(out)


def variant(bb: Backbone, data, scale: float, sigma: float) -> dict[str, float]:
    import torch

    images, probs, types = data
    res = {}
    for module in ("mono", "poly"):
        teach, good, bad = split(probs, types, module, 40, 100, seed=0)
        ft = features(bb, images, teach, scale)
        bank = MemoryBank.build(ft.permute(0, 2, 3, 1).reshape(-1, ft.shape[1]))
        with torch.inference_mode():
            sg, sb = (L.smooth(bank.score_maps(features(bb, images, i, scale)), sigma).amax(dim=(1, 2)).numpy()
                      for i in (good, bad))
        res[module] = round(float(auroc(sg, sb)), 4)
    return res


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--blocks", action="append", help="comma list of Lite0 block indices (repeatable)")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--sigma", type=float, default=L.MAP_SIGMA)
    args = p.parse_args()
    data = load_elpv()
    for spec in args.blocks or ["4,10"]:
        t0 = time.time()
        blocks = tuple(int(b) for b in spec.split(","))
        res = variant(Backbone("cpu", blocks=blocks), data, args.scale, args.sigma)
        print(f"blocks {blocks} scale {args.scale} sigma {args.sigma}: AUROC {res} ({time.time() - t0:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
