"""`inspector train`: reproduce the project-trained weights that ship in inspector/model/weights/.

Without ``--steps``/``--cases`` the settings of the recorded real runs are used (see the
manifests ``typing_head.json`` and ``explainer.json``); with them, a small run, e.g.
``inspector train explainer --cases 40 --steps 30 --out /tmp/w`` on the CPU in minutes.
"""

from __future__ import annotations

import argparse

from inspector.model.base import weights_dir

# the explainer's recorded run (explainer.json "training.command"), minus --out/--seed/--device
EXPLAINER_RUN = {"--steps": "584", "--batch": "32", "--cases": "1200", "--eval": "120"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train the shipped weights (typing projection, explanation adapters)",
                       description=__doc__.splitlines()[0])
    p.add_argument("part", nargs="?", choices=("all", "typing", "explainer"), default="all")
    p.add_argument("--out", default=str(weights_dir()), help="output folder (default: the shipped weights)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, help="training steps (default: the recorded real run)")
    p.add_argument("--cases", type=int, help="explainer: generated training cases (default: the recorded run's 1200)")
    p.add_argument("--train-device", default="auto", help="cpu, cuda or auto (default: cuda when present)")
    p.set_defaults(func=run_train)


def run_train(args, ctx) -> int:
    from inspector.model.base import resolve_device

    device = resolve_device(args.train_device)
    common = ["--out", args.out, "--seed", str(args.seed), "--device", device]
    rc = 0
    if args.part in ("all", "typing"):
        from inspector.training import typing_train

        rc |= int(typing_train.main(common + (["--steps", str(args.steps)] if args.steps else [])) or 0)
    if args.part in ("all", "explainer"):
        from inspector.training import explain_train

        opts = dict(EXPLAINER_RUN)
        if args.steps:
            opts["--steps"] = str(args.steps)
        if args.cases:
            opts["--cases"] = str(args.cases)
            opts["--eval"] = str(max(4, args.cases // 10))
        rc |= int(explain_train.main(common + [v for kv in opts.items() for v in kv]) or 0)
    return rc
