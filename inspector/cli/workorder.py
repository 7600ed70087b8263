"""`inspector workorder check|show FILE [--strict]`: what every sentence of a work order became."""

from __future__ import annotations

import argparse
import json
import sys

from inspector.domain import to_data


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "workorder",
        help="check or show a work order file (text, JSON, YAML): every sentence and what it became",
    )
    p.add_argument("action", choices=("check", "show"))
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when any sentence is flagged (unknown words, undrawn zones)",
    )
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    from inspector.workorder import WorkOrderError, load_work_order
    from inspector.workorder.describe import report_lines

    try:
        wo = load_work_order(args.file)
    except WorkOrderError as err:  # every problem, one per line, like a compiler
        for line in str(err).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    flags = [f for c in wo.clauses for f in c.flags]
    if args.json:
        print(json.dumps(to_data(wo) | {"source_text": None}, indent=2))
        return 1 if args.strict and flags else 0
    print(
        f"{wo.order_id}: part {wo.part_number or '-'}, lot {wo.lot or '-'}, quantity {wo.quantity or '-'}, "
        f"pixel size {wo.pixel_size_mm or '-'} mm"
    )
    for z in wo.zones:
        label = f" ({z.label})" if z.label else ""
        where = (
            f"{z.box} {z.unit}"
            if z.defined
            else "named by the spec, not drawn yet (draw it in the Teach tab)"
        )
        print(f"  zone {z.name}{label}: {where}")
    for line in report_lines(wo, show_text=True):
        print(f"  {line}")
    checkable = sum(c.checkable for c in wo.clauses)
    print(
        f"{'ok' if not flags else 'flagged'}: {len(wo.clauses)} clauses, {checkable} machine-checkable, "
        f"{len(wo.clauses) - checkable} for a person, {len(set(flags))} flags; "
        f"vocabulary: {', '.join(wo.vocabulary) or '-'}"
    )
    return 1 if args.strict and flags else 0
