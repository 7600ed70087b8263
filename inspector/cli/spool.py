"""`inspector spool status | drain`: the store-and-forward spool (docs/reliability.md).

``status`` reads the spool folder only (it works on a full or read-only disk) and says whether
the database would take a write now. ``drain`` stores what waits, in order, exactly once; it
exits 0 when the spool is empty afterwards, 3 when records are left (storage still failing:
the message says why). A running station drains by itself; both may run at once (the spool
is locked per step).
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("spool", help="show or drain the spool of parts the database could not take",
                       description=__doc__.split("\n\n")[0] if __doc__ else None)
    s = p.add_subparsers(dest="spool_command", metavar="ACTION", required=True)
    st = s.add_parser("status", help="what waits in the spool, what was held, whether storage answers")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=run_status)
    d = s.add_parser("drain", help="store the spooled parts now (in order, exactly once)")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=run_drain)


def _mib(n: int | None) -> str:
    return "?" if n is None else f"{n / 2**20:.1f} MiB"


def run_status(args: argparse.Namespace, ctx: Any) -> int:
    state, problem = ctx.inspector.spool_status(check_storage=True)
    if args.json:
        print(json.dumps({"folder": state.folder, "parts": state.parts, "explanations": state.explanations,
                          "bytes": state.bytes, "oldest": state.oldest, "held": [list(h) for h in state.held],
                          "free_bytes": state.free_bytes, "reserve_bytes": state.reserve_bytes,
                          "max_parts": state.max_parts, "max_bytes": state.max_bytes,
                          "storage_ok": problem is None, "storage_problem": problem}, indent=1))
        return 0
    print(f"spool {state.folder}")
    print(f"  waiting: {state.parts} parts, {state.explanations} explanations, {_mib(state.bytes)} "
          f"(limits {state.max_parts} records, {_mib(state.max_bytes)})")
    if state.oldest:
        print(f"  oldest: {state.oldest}")
    print(f"  volume: {_mib(state.free_bytes)} free, reserve {_mib(state.reserve_bytes)}")
    print(f"  storage: {'answers' if problem is None else problem}")
    for name, reason in state.held:
        print(f"  held: {name}: {reason}")
    if state.pending and problem is None:
        print("  the database answers: `inspector spool drain` stores them now (a running station does it itself)")
    return 0


def run_drain(args: argparse.Namespace, ctx: Any) -> int:
    report = ctx.inspector.drain_spool()
    if args.json:
        print(json.dumps({"stored": report.stored, "explanations": report.explanations,
                          "already_stored": report.already_stored, "held": report.held,
                          "remaining": report.remaining, "error": report.error}, indent=1))
    else:
        print(report.summary())
    return 3 if report.remaining else 0
