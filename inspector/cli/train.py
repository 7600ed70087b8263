"""`inspector train`: reproduce the project-trained weights that ship in inspector/model/weights/."""

from __future__ import annotations

import argparse

from inspector.model.base import weights_dir


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train the shipped weights (typing projection, explanation adapters)")
    p.add_argument("part", nargs="?", choices=("all", "typing", "explainer"), default="all")
    p.add_argument("--out", default=str(weights_dir()), help="output folder (default: the shipped weights)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, help="training steps (default: the recorded real run)")
    p.add_argument("--train-device", default="auto", help="cpu, cuda or auto")
    p.set_defaults(func=run_train)


def run_train(args, ctx) -> int:
    common = ["--out", args.out, "--seed", str(args.seed), "--device", args.train_device]
    if args.steps:
        common += ["--steps", str(args.steps)]
    rc = 0
    if args.part in ("all", "typing"):
        from inspector.training import typing_train

        rc |= int(typing_train.main(common) or 0)
    if args.part in ("all", "explainer"):
        from inspector.training import explain_train

        rc |= int(explain_train.main(common) or 0)
    return rc
