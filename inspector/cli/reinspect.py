"""`inspector reinspect`: re-judge the stored parts of an order with a new work-order revision or model.

A dry run (the default) prints, per part, the verdict before and after with the clause that decided
each, and a summary; nothing is written. ``--apply`` writes a new inspection for each part whose
order version, model or reference differ from its current record, linked to it (``reinspects_id``)
and audited; originals are never changed, and a part already re-judged this way is left as it is
(re-running is idempotent). ``--engine dask`` analyses on Dask distributed workers (``--scheduler
ADDRESS``, else a local cluster of ``--workers`` processes); the records are written here.
Exit codes: 0 done, 1 some parts could not be re-judged (listed), 2 bad request, 3 line/model.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from inspector.cli._guards import positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reinspect", help="re-judge stored parts with a new order revision or model (dry run first)",
                       description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--order", "-w", required=True, help="work order id whose stored parts are re-judged")
    p.add_argument("--lot", help="only this lot")
    p.add_argument("--workorder", metavar="FILE_OR_VERSION",
                   help="judge with this stored version (e.g. 2) or this revision file of the same order "
                        "(default: the latest stored version)")
    p.add_argument("--model", metavar="BACKEND", help="model backend (inspector.backends entry point; default: "
                   "the station's); the part's current taught reference is used")
    p.add_argument("--engine", choices=("local", "dask"), default="local", help="where images are analysed")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                   "(default with --engine dask: a local cluster of --workers processes)")
    p.add_argument("--workers", type=positive_int, default=2, help="local Dask cluster size (default 2)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="show what would change; write nothing (default)")
    mode.add_argument("--apply", action="store_true", help="write the new linked records (right: reinspect)")
    p.add_argument("--json", action="store_true", help="print the table and summary as JSON")
    p.set_defaults(func=run)


def progress_printer(quiet: bool):
    def progress(done: int, total: int, message: str) -> None:
        if not quiet and sys.stderr.isatty():
            print(f"\r{message}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    return progress


def run(args: argparse.Namespace, ctx: Any) -> int:
    insp = ctx.inspector
    if args.engine == "local" and args.scheduler:
        from inspector.cli import UserError

        raise UserError("--scheduler needs --engine dask")
    plan = insp.rejudge_plan(args.order, lot=args.lot, work_order=args.workorder, model=args.model,
                             engine=args.engine, scheduler=args.scheduler, workers=args.workers,
                             progress=progress_printer(args.json))
    applied = insp.rejudge_apply(plan) if args.apply else None
    summary = plan.summary()
    if args.json:
        out: dict[str, Any] = {"summary": summary, "work_order_version": plan.work_order_version,
                               "rows": [r.as_dict() for r in plan.rows], "applied": None}
        if applied is not None:
            out["applied"] = applied.as_dict()
            for row in out["rows"]:  # the records actually written (a part re-judged meanwhile has none)
                if row["new_inspection"] not in set(applied.written):
                    row["new_inspection"] = None
        print(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    else:
        print("\n".join(plan.table()))
        print(plan.summary_text())
        if applied is None:
            print("dry run: nothing written (add --apply to write the new records)")
        else:
            print(f"applied: {len(applied.written)} new records linked to their originals (work order version "
                  f"{applied.work_order_version}, run {applied.run_id[:12]})"
                  + (f"; {len(applied.already_rejudged)} parts re-judged by another run meanwhile, skipped"
                     if applied.already_rejudged else ""))
    return 1 if summary["errors"] else 0
