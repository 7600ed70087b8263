"""`inspector inspect | teach | list | show`: the headless station."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import threading
from datetime import datetime
from pathlib import Path

from inspector.cli import UserError
from inspector.cli._guards import positive_int
from inspector.cli._parts import add_trigger_options, start_stdin_triggers
from inspector.domain import Inspection, to_data
from inspector.events import PartFailed, PartStored, SourceLost


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="inspect parts from a source against a work order")
    p.add_argument("--order", "-w", required=True, help="work order file, or an order id already loaded")
    p.add_argument("source", nargs="+", help="folder, image files, video file, hotfolder:DIR or camera:N")
    p.add_argument("--explain", choices=("async", "sync", "off"), help="NG/REVIEW explanations (default async)")
    p.add_argument("--limit", type=positive_int, help="stop after N parts (live sources)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_trigger_options(p)
    p.set_defaults(func=run_inspect, runs_line=True)  # publishers (MQTT, OPC UA, PLC, HTTP) run

    t = sub.add_parser("teach", help="teach a part number from good images (+ optional labelled defects)")
    t.add_argument("--part", help="part number (or take it from --order)")
    t.add_argument("--order", "-w", help="work order file or id whose part is taught")
    t.add_argument("--good", required=True, nargs="+", help="folder(s) or files of good parts")
    t.add_argument("--examples", help="CSV of labelled defects: file,defect_type,x,y,w,h[,mask]")
    t.add_argument("--template", help="golden reference image for template comparison")
    t.add_argument("--target-frr", type=float, help="target false-reject rate on good parts (default 0.01)")
    t.set_defaults(func=run_teach, creates_db=True)  # teaching sets a station up: it may make the database

    q = sub.add_parser("list", help="list inspections (newest first)")
    q.add_argument("--order", "-w")
    q.add_argument("--lot")
    q.add_argument("--verdict", action="append", choices=("OK", "NG", "REVIEW"))
    q.add_argument("--type", dest="defect_type", help="only parts with a finding of this type")
    q.add_argument("--since", type=datetime.fromisoformat, help="ISO date/time")
    q.add_argument("--until", type=datetime.fromisoformat, help="ISO date/time")
    q.add_argument("--flagged", action="store_true", help="only NG and REVIEW")
    q.add_argument("--part-id", help="only the records of this part id (or ids starting with it)")
    q.add_argument("--limit", type=positive_int, default=50)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=run_list)

    s = sub.add_parser("show", help="show one inspection in full")
    s.add_argument("id", help="inspection id (a unique prefix is enough) or a part id (every record of it)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=run_show)


def resolve_order(ctx, order: str):
    """A work-order argument is a file to load, or the id of one already in the database."""
    if Path(order).is_file():
        return ctx.inspector.load_work_order(order)
    try:
        return ctx.inspector.find_work_order(order)
    except KeyError as exc:
        raise UserError(f"{exc.args[0]}; give the work order file instead") from None


def run_inspect(args, ctx) -> int:
    from tqdm import tqdm

    insp = ctx.inspector
    wo = resolve_order(ctx, args.order)
    if not insp.backend.is_taught(wo.part_number):
        raise UserError(f"part {wo.part_number!r} is not taught yet: run `inspector teach --order "
                        f"{args.order} --good <folder of good parts>` first")
    if args.explain:
        insp.settings.explain = args.explain
    bar = tqdm(unit="part", desc=wo.order_id, disable=args.json or not sys.stderr.isatty(), file=sys.stderr)

    def progress(done: int, total: int, name: str) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)
        bar.set_postfix_str(name)

    rows: list[Inspection] = []
    failed: list[str] = []

    def on_event(event: PartStored | PartFailed | SourceLost) -> None:  # the line's events, this thread
        if isinstance(event, PartStored):
            rows.append(event.inspection)
        else:
            failed.extend([event.message] if isinstance(event, PartFailed) else [])
            bar.write(f"error: {event.message}")

    seen = {"degraded": 0}

    def on_storage(text: str, degraded: bool) -> None:  # "storage degraded, N parts spooled" (docs/reliability.md)
        seen["degraded"] = seen["degraded"] + 1 if degraded else 0
        if seen["degraded"] in (0, 1) or seen["degraded"] % 10 == 0:
            bar.write(text.splitlines()[0])

    cancel = threading.Event()  # --trigger software: the end of stdin stops the line
    start_stdin_triggers(insp, cancel, args.trigger, lambda: len(rows) + len(failed))
    unsubscribe = insp.events.subscribe(on_event, PartStored, PartFailed, SourceLost)
    unsubscribe_storage = insp.add_storage_listener(on_storage)
    try:
        summary = insp.run(args.source if len(args.source) > 1 else args.source[0], wo, progress=progress,
                           limit=args.limit, cancel=cancel, trigger_mode=args.trigger)
    finally:
        unsubscribe()
        unsubscribe_storage()
        bar.close()
    insp.wait_explanations(timeout=600)
    if args.json:
        print(json.dumps({**to_data(summary), "yield_pct": summary.yield_pct,
                          "inspections": [r.id for r in rows]}, indent=2))
    else:
        print_table(rows)
        c = summary.counts
        print(f"\n{wo.order_id} ({wo.part_number}, lot {wo.lot or '-'}): {summary.inspected} inspected, "
              f"OK {c['OK']}, NG {c['NG']}, REVIEW {c['REVIEW']}, yield {summary.yield_pct:.1f} %, "
              f"{summary.seconds:.1f} s")
        if summary.stage_ms:
            print("mean ms per part: " + ", ".join(f"{k} {v:.0f}" for k, v in summary.stage_ms.items()))
        for e in summary.errors:
            print(f"error: {e}")
        if summary.spooled or insp.spool_status()[0].parts:
            state = insp.spool_status()[0]
            print(f"storage degraded: {summary.spooled} parts of this run went to the spool; {state.parts} wait in "
                  f"{state.folder} (stored when the database answers again: `inspector spool drain`)")
    return 3 if summary.aborted or (summary.errors and not summary.inspected) else 0


def run_teach(args, ctx) -> int:
    from tqdm import tqdm

    from inspector.sources import IMAGE_SUFFIXES

    part = args.part
    wo = resolve_order(ctx, args.order) if args.order else None
    if wo is not None:
        part = part or wo.part_number
    if not part:
        raise UserError("give --part or --order")
    files: list[Path] = []
    for g in args.good:
        p = Path(g)
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        elif p.is_file():
            files.append(p)
        else:
            raise UserError(f"not found: {g}")
    if len(files) < 2:
        raise UserError(f"need at least 2 good images to teach (found {len(files)}); 10-50 is best")
    if args.target_frr:
        ctx.settings.target_false_reject = args.target_frr
    examples = read_examples(Path(args.examples)) if args.examples else []
    bar = tqdm(total=0, desc=f"teach {part}", disable=not sys.stderr.isatty(), file=sys.stderr)

    def progress(done: int, total: int, msg: str) -> None:
        bar.total = total
        bar.update(done - bar.n)
        bar.set_postfix_str(msg)

    result = ctx.inspector.teach(part, files, examples, args.template, progress=progress, work_order=wo)
    bar.close()
    print(f"taught {part}: {result.n_good} good images, {result.n_examples} defect examples, "
          f"threshold {result.threshold:.4g} (REVIEW from {result.review_low:.4g}), "
          f"target false-reject {result.target_false_reject:.1%}, {result.seconds:.1f} s")
    for line in [*result.operating_lines(), *result.notes]:
        print(line)
    return 0


def read_examples(path: Path):
    """CSV rows file,defect_type,x,y,w,h[,mask] -> LabelledExample list (paths relative to the CSV)."""
    import numpy as np

    from inspector.model.base import LabelledExample
    from inspector.sources import read_image

    out = []
    with path.open(newline="", encoding="utf-8") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            try:
                img = read_image(path.parent / row["file"])
                mask = None
                if row.get("mask"):
                    mask = read_image(path.parent / row["mask"])[..., 0] > 0
                box = None
                if row.get("x"):
                    box = tuple(int(float(row[k])) for k in ("x", "y", "w", "h"))
                if mask is None and box is None:
                    raise ValueError("needs x,y,w,h or mask")
                out.append(LabelledExample(np.ascontiguousarray(img), row["defect_type"].strip(), mask, box))
            except (KeyError, ValueError) as exc:
                raise UserError(f"{path} line {n}: {exc}") from None
    return out


def print_table(rows: list[Inspection]) -> None:
    if not rows:
        print("no inspections")
        return
    print(f"{'id':10} {'time':19} {'order':10} {'part id':28} {'frame':16} {'verdict':7} {'findings':>8}  reason")
    for r in rows:
        reason = r.verdict.reasons[0] if r.verdict.reasons else ""
        part = r.part_id or "-"  # records from before part ids have none
        frame = r.frame_name if len(r.frame_name) <= 16 else "\u2026" + r.frame_name[-15:]  # the file's end names it
        print(f"{r.id[:10]:10} {r.inspected_at:%Y-%m-%d %H:%M:%S} {r.order_id[:10]:10} {part[:28]:28} {frame:16} "
              f"{r.verdict.kind.value:7} {len(r.findings):>8}  {reason[:70]}")


def run_list(args, ctx) -> int:
    verdicts = args.verdict or (["NG", "REVIEW"] if args.flagged else None)
    rows = ctx.inspector.query(order_id=args.order, lot=args.lot, verdicts=verdicts,
                               defect_type=args.defect_type, since=args.since, until=args.until, limit=args.limit,
                               part_id=args.part_id)
    if args.json:
        print(json.dumps([to_data(r) for r in rows], indent=2))
    else:
        print_table(rows)
    return 0


def run_show(args, ctx) -> int:
    insp = ctx.inspector
    ident = args.id
    of_part = [r for r in insp.query(part_id=ident, limit=None) if r.part_id == ident]
    if of_part:  # a part id: every record of that part, newest first
        return max(show_one(insp, r, args.json) for r in of_part)
    if len(ident) < 32:
        matches = [r for r in insp.query(limit=None) if r.id.startswith(ident)]
        if len(matches) != 1:
            raise UserError(f"{len(matches)} inspections (and no part id) match {ident!r}; give more of the id")
        ident = matches[0].id
    try:
        r = insp.get(ident)
    except KeyError:
        raise UserError(f"no inspection {ident}") from None
    return show_one(insp, r, args.json)


def show_one(insp, r: Inspection, as_json: bool) -> int:
    reviews = insp.reviews(r.id)
    if as_json:
        print(json.dumps({**to_data(r), "reviews": to_data(reviews)}, indent=2))
        return 0
    print(f"inspection {r.id}  part id {r.part_id or '-'}\n  order {r.order_id}  part {r.part_number}  "
          f"lot {r.lot}  station {r.station}")
    print(f"  source {r.source}  frame {r.frame_name}  image sha256 {r.image_sha256}")
    print(f"  captured {r.captured_at:%Y-%m-%d %H:%M:%S}  inspected {r.inspected_at:%Y-%m-%d %H:%M:%S}")
    if r.reinspects_id:  # `inspector reinspect`: this record re-judges an earlier one (still stored)
        print(f"  re-judges inspection {r.reinspects_id} (judged with work order version {r.work_order_version})")
    print(f"  model {r.model.name} {r.model.version} weights {r.model.weights_hash[:16]} on {r.model.device}")
    print(f"  VERDICT {r.verdict.kind.value}  (image score {r.image_score:.3f})")
    for reason in r.verdict.reasons:
        print(f"    - {reason}")
    for i, f in enumerate(r.findings):
        x, y, w, h = f.region.box
        size = f"{f.length_mm:.2f} x {f.width_mm:.2f} mm" if f.length_mm is not None else \
            f"{f.region.length_px:.0f} x {f.region.width_px:.0f} px"
        print(f"  finding {i}: {f.defect_type} (type score {f.type_score:.2f}) at x={x} y={y} w={w} h={h}, "
              f"{size}{', zones ' + ','.join(f.region.zones) if f.region.zones else ''}")
    if r.explanation:
        tag = " [template fallback]" if r.explanation.fallback else ""
        print(f"  explanation{tag}: {r.explanation.text}")
    for rv in reviews:
        print(f"  review: {rv.decision.value} by {rv.reviewer_name} ({rv.reviewer}) at "
              f"{rv.decided_at:%Y-%m-%d %H:%M:%S}, reason {rv.reason_code}: {rv.comment}")
    print("  timings ms: " + ", ".join(f"{k} {v:.1f}" for k, v in r.timings_ms.items()))
    return 0
