"""`inspector export`: inspections, findings, reviews (and clause checks) as CSV, XLSX or JSON."""

from __future__ import annotations

import argparse
import json
import sys

from inspector.cli.report import iso_time, safe_name

TABLE_NAMES = ("inspections", "findings", "reviews", "checks")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export inspections/findings/reviews as csv, xlsx or json",
                       description="Columns are documented in docs/exports.md. CSV writes one file per "
                                   "table (<stem>_<table>.csv), or one zip when --out ends in .zip.")
    p.add_argument("--order", "-w", help="work order id (default: all orders)")
    p.add_argument("--lot", help="only this lot")
    p.add_argument("--since", type=iso_time, help="inspected at or after (ISO; no zone = UTC)")
    p.add_argument("--until", type=iso_time, help="inspected before (ISO; no zone = UTC)")
    p.add_argument("--format", "-f", dest="fmt", choices=("csv", "xlsx", "json"), default="csv")
    p.add_argument("--out", "-o", help="output path (default export_<order>.<format>)")
    p.add_argument("--tables", default="inspections,findings,reviews",
                   help=f"comma-separated, from {','.join(TABLE_NAMES)} (default inspections,findings,reviews)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx) -> int:
    tables = tuple(t.strip() for t in args.tables.split(",") if t.strip())
    out = args.out or f"export_{safe_name(args.order or 'all')}.{args.fmt}"
    info = ctx.inspector.export(out, args.fmt, order_id=args.order, lot=args.lot, since=args.since,
                                until=args.until, tables=tables)
    if args.json:
        print(json.dumps({"format": info.format, "paths": list(info.paths), "rows": info.rows,
                          "notes": list(info.notes), "seconds": info.seconds}, indent=1))
    else:
        for p in info.paths:
            print(f"wrote {p}")
        print("rows: " + ", ".join(f"{t} {n}" for t, n in info.rows.items()))
        for note in info.notes:
            print(f"note: {note}", file=sys.stderr)
    return 0
