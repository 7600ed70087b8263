"""Evaluate the embedded model on real data with a teach-then-inspect protocol.

    python -m inspector.training.evaluate [--datasets neu,bsdata,deeppcb] [--k 0,5,20] [--seeds 0,1,2]
    inspector eval ...            (same options)

Datasets are found under ``--data`` (default: env INSPECTOR_SHARED_DATA, else
<repo>/../shared/data). Rows:

- ``neu`` / ``deeppcb-typing``: typing accuracy on ground-truth boxes with k taught
  examples per class (k = 0: the words only), mean and spread over seeds
  (:mod:`inspector.training.eval_typing`);
- ``bsdata``: pit hit rate and false alarms per image through the full backend;
  ``deeppcb``: template-mode recall/precision at IoU > 0.33
  (:mod:`inspector.training.eval_localize`); both with the explanation column (share of
  generated explanations that passed the findings check / needed the template);
- ``elpv``: the real teach-from-good benchmark (ELPV solar cells from the ``elpv-dataset``
  package, evaluation only): image AUROC, miss and false-reject rates at the shipped operating
  point (:mod:`inspector.training.eval_elpv`);
- ``synthetic``: the held-out synthetic numbers recorded in the typing weights' manifest.

NEU-DET and DeepPCB are research-only: they are read here for measurement, never for training.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from inspector.errors import InspectorError

ALL_DATASETS = ("elpv", "neu", "deeppcb-typing", "bsdata", "deeppcb", "synthetic")
DEFAULT_DATASETS = ("elpv", "neu", "bsdata", "deeppcb", "synthetic")
# flat keys written to the JSON run after run, so one run compares with the last
SUMMARY_KEYS = ("elpv.auroc", "elpv.miss_rate", "elpv.false_reject_rate", "elpv.false_call_rate", "neu.k0", "neu.k5",
                "neu.k20", "bsdata.hit_rate", "bsdata.false_alarms_per_image", "deeppcb.recall", "deeppcb.precision")


class EvaluationError(InspectorError, RuntimeError):
    """The evaluation cannot run as asked (data folder missing, unknown dataset)."""


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from exc


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The evaluation options (shared by ``python -m`` and ``inspector eval``)."""
    p.add_argument("--datasets", default=",".join(DEFAULT_DATASETS),
                   help=f"comma list of {', '.join(ALL_DATASETS)} (default: %(default)s)")
    p.add_argument("--data", help="shared data folder (default: $INSPECTOR_SHARED_DATA or <repo>/../shared/data)")
    p.add_argument("--k", type=_ints, default=[0, 5, 20], help="taught examples per class (default 0,5,20)")
    p.add_argument("--seeds", type=_ints, default=[0, 1, 2], help="seeds of the teach/test draws (default 0,1,2)")
    p.add_argument("--test-per-class", type=int, default=100, help="test boxes per class (default 100)")
    p.add_argument("--max-images", type=int, default=0, help="use at most N images per class of a typing set (0: all)")
    p.add_argument("--bsdata-good", type=int, default=20, help="BSData train-split images taught per size group")
    p.add_argument("--bsdata-teach", choices=("ignore", "inpaint"), default="ignore",
                   help="leave the taught images' pits out as ignore masks (default) or inpaint them away")
    p.add_argument("--bsdata-frr", type=float, default=0.01,
                   help="BSData: false-reject target the threshold is calibrated to (default 0.01)")
    p.add_argument("--bsdata-test", type=int, default=40, help="BSData test images per size group")
    p.add_argument("--pcb-pairs", type=int, default=50, help="DeepPCB test/template pairs")
    p.add_argument("--elpv-teach", type=int, default=40, help="ELPV defect-free cells taught per module type")
    p.add_argument("--elpv-test", type=int, default=150,
                   help="ELPV good and defective cells inspected per module type (each)")
    p.add_argument("--explain-n", type=int, default=10, help="flagged parts explained per dataset (0: none)")
    p.add_argument("--weights", help="typing_head.safetensors to evaluate (default: the shipped one)")
    p.add_argument("--eval-device", default="cpu", help="cpu, cuda or auto (default cpu)")
    p.add_argument("--backend", default="embedded-vlm",
                   help="model backend of the elpv/bsdata/deeppcb rows (entry-point name, e.g. hf; default %(default)s)")
    p.add_argument("--model-dir", help="model folder for a backend that takes one (--backend hf: docs/integrations.md)")
    p.add_argument("--cache", help="folder to cache region descriptors in between runs")
    p.add_argument("--json", help="also write the results as JSON to this file")


def find_data(path: str | None) -> Path:
    from inspector.training.typing_data import shared_data_dir

    root = Path(path) if path else shared_data_dir()
    if root is None or not root.is_dir():
        raise EvaluationError(
            "shared data folder not found: pass --data or set INSPECTOR_SHARED_DATA (expected "
            "neu_det/, bsdata/, deeppcb/ with manifest.csv inside)")
    return root


def _log(msg: str) -> None:
    print(f"[eval] {msg}", file=sys.stderr, flush=True)


def _head(args):
    from inspector.model.backbone import Backbone
    from inspector.model.base import resolve_device
    from inspector.model.typing_head import TypeHead

    device = resolve_device(args.eval_device)
    return TypeHead(Backbone(device), device, weights=args.weights)


def _cap(items, per_class: int):
    if not per_class:
        return items
    seen: dict[str | None, int] = {}
    out = []
    for it in items:
        if seen.get(it.label, 0) < per_class:
            out.append(it)
            seen[it.label] = seen.get(it.label, 0) + 1
    return out


def typing_rows(args, head, name: str, root: Path) -> list[dict]:
    from inspector.training import eval_typing as et

    if name == "neu":
        items, words, folder = et.load_neu(root / "neu_det"), et.NEU_WORDS, "neu_det"
    else:
        items, words, folder = et.load_deeppcb_boxes(root / "deeppcb"), et.DEEPPCB_WORDS, "deeppcb"
    items = _cap(items, args.max_images) if name == "neu" else items[: args.max_images or None]
    from inspector.model.typing_features import CROP_PX, descriptor_dim

    # descriptors depend on the backbone and the crop, not on the trained projection
    key = f"{name}-d{descriptor_dim()}-c{CROP_PX}-{len(items)}"
    cache = Path(args.cache) / f"{key}.npz" if args.cache else None
    if cache is not None and cache.is_file():
        z = np.load(cache)
        desc, labels, owner = z["desc"], z["labels"], z["owner"]
    else:
        t0 = time.time()
        desc, labels, owner = et.describe_items(
            head, items, lambda i, n: _log(f"{name}: {i}/{n} images ({time.time() - t0:.0f} s)") if i % 200 == 0 else None)
        _log(f"{name}: {len(labels)} boxes described in {time.time() - t0:.0f} s")
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, desc=desc, labels=labels, owner=owner)
    rows = et.typing_protocol(head, items, desc, labels, owner, words, args.k, args.seeds, args.test_per_class)
    for r in rows:
        r.update({"dataset": name, "data": folder, "protocol": "typing on GT boxes"})
    return rows


def _backend_spec(args) -> tuple[str, str | None]:
    """(backend name, model folder or None) of the rows that run a full backend."""
    return getattr(args, "backend", None) or "embedded-vlm", getattr(args, "model_dir", None)


def localisation_row(args, name: str, root: Path) -> dict:
    from inspector.model.base import resolve_device
    from inspector.training import eval_localize as el

    try:
        device, spec = resolve_device(args.eval_device), _backend_spec(args)
        if name == "bsdata":
            r = el.with_backend(device, el.bsdata_protocol, root / "bsdata", args.bsdata_good, args.bsdata_test,
                                args.explain_n, progress=_log, teach=args.bsdata_teach,
                                target_false_reject=args.bsdata_frr, backend_spec=spec)
        else:
            r = el.with_backend(device, el.deeppcb_protocol, root / "deeppcb", args.pcb_pairs, args.explain_n,
                                progress=_log, backend_spec=spec)
    except ImportError as exc:
        return {"dataset": name, "skipped": f"backend not available: {exc}"}
    r.update({"dataset": name, "protocol": "teach good -> inspect" if name == "bsdata" else "template mode"})
    return r


def elpv_row(args) -> dict:
    from inspector.model.base import resolve_device
    from inspector.training import eval_elpv
    from inspector.training import eval_localize as el

    try:
        r = el.with_backend(resolve_device(args.eval_device), eval_elpv.elpv_protocol, args.elpv_teach,
                            args.elpv_test, args.seeds[0] if args.seeds else 0, progress=_log,
                            backend_spec=_backend_spec(args))
    except (ImportError, eval_elpv.DatasetMissing) as exc:
        return {"dataset": "elpv", "skipped": str(exc)}
    return {"dataset": "elpv", "protocol": "teach good cells -> inspect good + defective (p >= 2/3)", **r}


def summary(rows: list[dict]) -> dict[str, float | None]:
    """The flat ``SUMMARY_KEYS`` of a run (None where a row was not run or skipped)."""
    out: dict[str, float | None] = dict.fromkeys(SUMMARY_KEYS)
    for r in rows:
        if "skipped" in r:
            continue
        if r["dataset"] == "neu" and "k" in r:
            out[f"neu.k{r['k']}"] = r["acc_mean"]
        for key in SUMMARY_KEYS:
            name, _, field = key.partition(".")
            if r["dataset"] == name and field in r and (name != "bsdata" or r.get("target_false_reject") == 0.01):
                out[key] = r[field]
    return out


def synthetic_row(head) -> dict:
    manifest_path = head.path.with_suffix(".json")
    m = json.loads(manifest_path.read_text()).get("metrics", {}) if manifest_path.is_file() else {}
    return {"dataset": "synthetic", "protocol": "held-out synthetic (from the weights manifest)", **m}


def run(args) -> dict:
    """Run the requested rows; returns {'rows': [...], 'seconds': ..., 'weights': ...}."""
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    bad = [n for n in names if n not in ALL_DATASETS]
    if bad:
        raise EvaluationError(f"unknown dataset(s) {bad}; choose from {', '.join(ALL_DATASETS)}")
    root = find_data(args.data) if set(names) - {"synthetic", "elpv"} else None
    t0 = time.time()
    head = _head(args) if set(names) & {"neu", "deeppcb-typing", "synthetic"} else None
    rows: list[dict] = []
    for name in names:
        _log(f"{name} ...")
        if name in ("neu", "deeppcb-typing"):
            rows += typing_rows(args, head, name, root)
        elif name in ("bsdata", "deeppcb"):
            rows.append(localisation_row(args, name, root))
        elif name == "elpv":
            rows.append(elpv_row(args))
        else:
            rows.append(synthetic_row(head))
    return {"summary": summary(rows), "rows": rows, "seconds": round(time.time() - t0, 1),
            "weights": head.version if head is not None else None, "backend": _backend_spec(args)[0]}


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def format_table(result: dict) -> str:
    """A plain-text table of the rows (percentages unless stated)."""
    lines = []
    typing = [r for r in result["rows"] if "k" in r]
    if typing:
        lines.append("REAL DATA - typing on ground-truth boxes (accuracy %, mean +- std over seeds)")
        lines.append(f"{'dataset':16s} {'k':>3s} {'acc':>6s} {'std':>5s} {'uncert':>6s} {'conf.acc':>8s} {'n_test':>6s}  seeds")
        for r in typing:
            lines.append(f"{r['dataset']:16s} {r['k']:3d} {_pct(r['acc_mean']):>6s} {_pct(r['acc_std']):>5s} "
                         f"{_pct(r['uncertain']):>6s} {_pct(r['confident_acc']):>8s} {r['n_test']:6d}  "
                         f"{','.join(map(str, r['seeds']))}")
    loc = [r for r in result["rows"] if r["dataset"] in ("bsdata", "deeppcb")]
    if loc:
        lines.append("")
        lines.append("REAL DATA - full backend (%; FA = false alarms per image; expl = explanations passed/fallback)")
        for r in loc:
            if "skipped" in r:
                lines.append(f"{r['dataset']:16s} skipped: {r['skipped']}")
            elif r["dataset"] == "bsdata":
                lines.append(f"{'bsdata':16s} ({r.get('teach')}, FRR target {r.get('target_false_reject')}) "
                             f"images {r['images']} pits {r['pits']}: "
                             f"hit {_pct(r['hit_rate'])}  "
                             f"image recall {_pct(r['image_recall'])}  FA {r['false_alarms_per_image']:.2f}  "
                             f"verdicts {r['verdicts']}  expl {_pct(r['explain_passed'])}/{_pct(r['explain_fallback'])} "
                             f"(n={r['explained']})")
            else:
                lines.append(f"{'deeppcb':16s} pairs {r['pairs']} boxes {r['gt_boxes']} findings {r['findings']}: "
                             f"IoU>0.33 grown to {r['grown_to_px']:.0f} px: recall {_pct(r['recall'])} precision "
                             f"{_pct(r['precision'])}; raw boxes: {_pct(r['recall_raw'])}/{_pct(r['precision_raw'])}; "
                             f"centre in box: {_pct(r['recall_centre'])}/{_pct(r['precision_centre'])}  "
                             f"typed {_pct(r['typed_right_of_matched'])}  "
                             f"expl {_pct(r['explain_passed'])}/{_pct(r['explain_fallback'])} (n={r['explained']})")
    for r in (r for r in result["rows"] if r["dataset"] == "elpv"):
        lines.append("")
        lines.append("REAL DATA - ELPV solar cells, teach from good (%; miss = defective judged OK)")
        if "skipped" in r:
            lines.append(f"{'elpv':16s} skipped: {r['skipped']}")
            continue
        for m in r["modules"]:
            lines.append(f"{'elpv ' + m['module']:16s} teach {m['teach']} good {m['good']} defective {m['defective']}: "
                         f"AUROC {_pct(m['auroc'])}  miss {_pct(m['miss_rate'])}  false reject "
                         f"{_pct(m['false_reject_rate'])}  false call {_pct(m['false_call_rate'])}  "
                         f"estimated miss {_pct(m['estimated_miss'])}  {m['ms_per_image']:.0f} ms/image")
        lines.append(f"{'elpv (pooled)':16s} AUROC {_pct(r['auroc'])}  miss {_pct(r['miss_rate'])}  false reject "
                     f"{_pct(r['false_reject_rate'])}  false call {_pct(r['false_call_rate'])}")
    syn = [r for r in result["rows"] if r["dataset"] == "synthetic"]
    for r in syn:
        lines.append("")
        lines.append("SYNTHETIC DATA - held-out backgrounds (from the typing weights' manifest)")
        keys = ("acc_words", "acc_heldout_templates", "acc_heldout_synonyms", "acc_proto_k1", "acc_proto_k5",
                "bsdata_pitting_acc", "nonsense_uncertain", "confident_precision", "coverage")
        lines.append("  " + "  ".join(f"{k} {_pct(r.get(k))}" for k in keys if k in r))
    lines.append(f"\nbackend {result.get('backend', 'embedded-vlm')}, weights {result.get('weights')}, "
                 f"{result['seconds']:.0f} s")
    return "\n".join(lines)


def run_from_args(args) -> int:
    """Run, print the table, write JSON when asked. Returns the exit status."""
    result = run(args)
    print(format_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=float) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m inspector.training.evaluate", description=__doc__.split("\n")[0])
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        return run_from_args(args)
    except EvaluationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
