"""`inspector demo`: the main job on the embedded default (sample data, default model, SQLite).

Loads the sample work order, teaches the sample part from its good images (once), inspects
the sample line images, and writes a PDF report. With a display it opens the desktop app
on that data instead (``--headless`` forces the batch path).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from inspector.cli import UserError


def sample_root() -> Path:
    """The repository's sample_data folder (works from a source checkout)."""
    env = os.environ.get("INSPECTOR_SAMPLE_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "sample_data"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the main job on the sample data (opens the app when a display exists)")
    p.add_argument("--headless", action="store_true", help="never open the app, even with a display")
    p.add_argument("--out", default=None, help="report path (default <data-dir>/reports/<order>.pdf)")
    p.add_argument("--order-file", default=None, help="work order (default the sample bracket order WO-1001)")
    p.add_argument("--explain", choices=("async", "sync", "off"), default=None)
    p.set_defaults(func=run_demo)


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_demo(args, ctx) -> int:
    root = sample_root()
    order_file = Path(args.order_file) if args.order_file else root / "workorders" / "WO-1001_bracket.txt"
    good = root / "parts" / "BR-100" / "good"
    line = root / "parts" / "BR-100" / "line"
    for p in (order_file, good, line):
        if not p.exists():
            raise UserError(f"sample data missing: {p}")
    if has_display() and not args.headless:
        from inspector import plugins

        try:
            app = plugins.get("inspector.commands", "app")
        except plugins.PluginError as exc:
            raise UserError(f"the desktop app is not installed ({exc}); run with --headless") from None
        return app.launch(ctx, order_file=order_file, source=str(line), teach_folder=good)
    insp = ctx.inspector
    if args.explain:
        insp.settings.explain = args.explain
    wo = insp.load_work_order(order_file)
    print(f"work order {wo.order_id}: part {wo.part_number}, lot {wo.lot}, {len(wo.clauses)} clauses "
          f"({sum(c.checkable for c in wo.clauses)} machine-checkable)")
    if not insp.backend.is_taught(wo.part_number):
        files = sorted(good.iterdir())
        result = insp.teach(wo.part_number, files, work_order=wo)
        print(f"taught {wo.part_number} from {result.n_good} good images in {result.seconds:.1f} s "
              f"(threshold {result.threshold:.4g})")
        for text in [*result.operating_lines(), *result.notes]:
            print(text)
    from inspector.cli.inspect import print_table

    rows = []
    summary = insp.run(str(line), wo, on_result=lambda r: rows.append(r.inspection),
                       on_error=lambda m: print(f"error: {m}"))
    insp.wait_explanations(timeout=900)
    rows = [insp.get(r.id) for r in rows]
    print_table(rows)
    c = summary.counts
    print(f"\n{summary.inspected} parts: OK {c['OK']}, NG {c['NG']}, REVIEW {c['REVIEW']}, "
          f"yield {summary.yield_pct:.1f} %, {summary.seconds:.1f} s")
    out = Path(args.out) if args.out else Path(insp.settings.data_dir) / "reports" / f"{wo.order_id}.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    info = insp.report(wo.order_id, out)
    print(f"database: {insp.settings.database_url}")
    print(f"report:   {info.path} ({info.pages} pages, document hash {info.document_hash[:16]})")
    return 0
