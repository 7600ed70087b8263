"""`inspector workorder check|show FILE`: validate a work order before it reaches the line."""

from __future__ import annotations

import argparse
import json

from inspector.domain import to_data


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("workorder", help="check or show a work order file (text, JSON, YAML)")
    p.add_argument("action", choices=("check", "show"))
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    from inspector.workorder import load_work_order

    wo = load_work_order(args.file)  # WorkOrderError names the line; main() prints it, exit 2
    if args.json:
        print(json.dumps(to_data(wo) | {"source_text": None}, indent=2))
        return 0
    print(f"{wo.order_id}: part {wo.part_number or '-'}, lot {wo.lot or '-'}, quantity {wo.quantity or '-'}, "
          f"pixel size {wo.pixel_size_mm or '-'} mm")
    for z in wo.zones:
        print(f"  zone {z.name}{' (' + z.label + ')' if z.label else ''}: {z.box} {z.unit}")
    for c in wo.clauses:
        if c.checkable:
            zone = f" {c.zone_mode} zone {c.zone}" if c.zone else ""
            rule = f"{c.defect_type} {c.measure} {c.comparison} {c.limit:g} {c.unit}{zone} [{c.severity}]"
        else:
            rule = f"not machine-checkable: {c.note}"
        print(f"  {c.id:5} {rule}\n        \"{c.text}\"" if args.action == "show" else f"  {c.id:5} {rule}")
    print(f"ok: {len(wo.clauses)} clauses, {sum(c.checkable for c in wo.clauses)} machine-checkable, "
          f"vocabulary: {', '.join(wo.vocabulary) or '-'}")
    return 0
