"""`inspector eval`: measure typing, localisation and explanations on real data (teach, then inspect).

See :mod:`inspector.training.evaluate` and docs/evaluation.md.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="evaluate the model on NEU / BSData / DeepPCB (teach-then-inspect)",
                       description=__doc__.splitlines()[0])
    from inspector.training.evaluate import add_arguments

    add_arguments(p)
    p.set_defaults(func=run_eval)


def run_eval(args, ctx) -> int:
    from inspector.cli import UserError
    from inspector.training.evaluate import EvaluationError, run_from_args

    if getattr(args, "device", None) and args.eval_device == "cpu":
        args.eval_device = args.device  # the global --device applies unless --eval-device says otherwise
    try:
        return run_from_args(args)
    except EvaluationError as exc:
        raise UserError(str(exc)) from exc
