"""Work-order / lot PDF report: header, summary, Pareto, p-chart, gallery, dispositions, lot release."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Spacer

from inspector.domain import utcnow

from .canonical import file_sha256, iter_json_lines
from .charts import pareto_drawing, pchart_drawing
from .collect import LotData, collect_lot, fmt_time, model_text, operator_text
from .errors import ReportError
from .layout import PAGE, P, ReportDoc, ReportInfo, T, esc, fonts
from .parts import part_block, signatures_table, table
from .release import release_block
from .source import Progress, ReportSource, as_utc, load_work_order
from .stats import p_chart, pareto

DEFAULT_GALLERY_LIMIT = 5000  # flagged parts shown with pictures; the rest are listed in a table


def write_sha256_file(pdf_path: str) -> str:
    """Write ``<pdf>.sha256`` (``sha256sum`` format) and return the PDF's SHA-256."""
    digest = file_sha256(pdf_path)
    with open(pdf_path + ".sha256", "w", encoding="ascii") as fh:
        fh.write(f"{digest}  {os.path.basename(pdf_path)}\n")
    return digest


def _kv_table(pairs: list[tuple[str, str]], width: float) -> Flowable:
    rows = [[T(k, "cellb"), T(v, limit=700)] for k, v in pairs]
    return table(rows, [0.22 * width, 0.78 * width], header=False)


def _versions(d: LotData) -> str:
    """'2' when every part was judged with the version shown, else each version with its part count."""
    if not d.versions or set(d.versions) == {d.work_order.version}:
        return "" if d.work_order.version is None else str(d.work_order.version)
    return "; ".join(f"{v} ({n} part{'s' if n != 1 else ''})" for v, n in sorted(d.versions.items())) + \
        f" \u2014 clauses below are version {d.work_order.version}; each part cites its own version"


def _header(d: LotData, generated_by: str, generated_at: datetime, width: float) -> list[Flowable]:
    wo = d.work_order
    lot = d.filters["lot"] if d.filters["lot"] is not None else (", ".join(sorted(d.lots)) or "all")
    period = f"{fmt_time(d.first)} \u2013 {fmt_time(d.last)}" if d.first else "no inspections"
    window = []
    if d.filters["since"]:
        window.append(f"since {fmt_time(d.filters['since'])}")
    if d.filters["until"]:
        window.append(f"until {fmt_time(d.filters['until'])} (exclusive)")
    pairs = [
        ("Work order", wo.order_id + (f" rev {wo.revision}" if wo.revision else "")),
        ("Work-order version(s)", _versions(d)),
        ("Part number", wo.part_number),
        ("Customer", wo.customer),
        ("Lot", lot),
        ("Quantity (ordered)", "" if wo.quantity is None else str(wo.quantity)),
        ("Station(s)", ", ".join(f"{s} ({n})" for s, n in sorted(d.stations.items())) or "\u2013"),
        ("Operator(s)", ", ".join(sorted(operator_text(o) for o in d.operators)) or "unattended line"),
        ("Model(s)", "; ".join(model_text(m) for m in d.models.values()) or "\u2013"),
        ("Inspected", period + (f" (filter: {', '.join(window)})" if window else "")),
        ("Generated", f"{fmt_time(generated_at)} by {generated_by or 'unknown'}"),
        ("Document hash", f"sha256 {d.document_hash}"),
    ]
    title = f"Inspection report \u2014 work order {esc(wo.order_id, 80)}"
    if d.filters["lot"] is not None:
        title += f", lot {esc(d.filters['lot'], 60)}"
    return [P(title, "title"), _kv_table([(k, v) for k, v in pairs if v != ""], width),
            P("All times are UTC. The document hash is the SHA-256 of the canonical JSON of the data shown "
              "(work order, filters, every inspection and review); see docs/reports.md to verify it.", "note")]


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1f}%"


def _summary(d: LotData, width: float) -> list[Flowable]:
    v, f = d.verdicts, d.final.final
    head = ["inspected", "OK", "NG", "REVIEW", "machine yield (OK / inspected)", "open reviews"]
    vals = [d.n, v["OK"], v["NG"], v["REVIEW"], _pct(d.yield_pct), d.open_reviews]
    rows = [[T(h, "cellb") for h in head], [T(x, "cellb") for x in vals]]
    out: list[Flowable] = [P("Summary", "h1"), P("Machine verdicts (first pass, never changed by reviews)", "h2"),
                           table(rows, [width / 6] * 6)]
    fhead = ["final OK (shipped)", "final NG (scrapped)", "REWORK", "REVIEW (open)", "overruled on review",
             "escapes found on review", "yield after dispositions"]
    fvals = [f["OK"], f["NG"], f["REWORK"], f["REVIEW"], d.final.overruled, d.final.escapes,
             _pct(d.final_yield_pct)]
    out += [P("Final verdicts (the latest signed disposition decides; counts, charts and the gallery use "
              "these)", "h2"),
            table([[T(h, "cellb") for h in fhead], [T(x, "cellb") for x in fvals]], [width / 7] * 7)]
    disp = ", ".join(f"{k}: {n}" for k, n in sorted(d.dispositions.items())) or "none"
    out.append(P(f"Flagged parts (NG or REVIEW): {d.n_flagged}; reviewed: {d.n_flagged - d.open_reviews}; "
                 f"latest dispositions \u2014 {esc(disp)}; signatures: {d.n_reviews}. Explanations that "
                 f"fell back to the template sentence: {d.fallback_explanations}.", "small"))
    if d.work_order.quantity and d.filters["lot"] is None and not d.filters["since"] and not d.filters["until"]:
        out.append(P(f"Inspected {d.n} of {d.work_order.quantity} ordered.", "small"))
    if d.missing_images:
        out.append(P(f"{d.missing_images} flagged part image(s) were missing from the image store.", "note"))
    return out


def _spec(d: LotData, width: float) -> list[Flowable]:
    cl = d.work_order.clauses
    if not cl:
        return []
    rows: list[list] = [[T(h, "cellb") for h in ("clause", "text", "rule")]]
    for c in cl:
        rule = f"{c.defect_type or ''} {c.measure or ''} {c.comparison or ''} {c.limit_text or ''}".strip()
        if c.zone:
            rule += f" ({c.zone_mode} {c.zone})"
        rows.append([T(c.id, "cellb"), T(c.text, limit=500), T(rule if c.checkable else f"not checkable: {c.note}")])
    return [P("Specification", "h1"), table(rows, [0.08 * width, 0.6 * width, 0.32 * width])]


def _charts(d: LotData, width: float, subgroup: str | int) -> list[Flowable]:
    f = fonts().regular
    out: list[Flowable] = [P("Defect Pareto", "h1")]
    rows = pareto(d.defects)
    if rows:
        out.append(pareto_drawing(rows, width, 62 * mm, f))
        head = [T(h, "cellb") for h in ("defect type", "count", "%", "cumulative %")]
        body = [[T(r.defect_type, limit=80), T(r.count), T(f"{r.percent:.1f}"), T(f"{r.cumulative_percent:.1f}")]
                for r in rows]
        out.append(table([head] + body, [0.4 * width, 0.2 * width, 0.2 * width, 0.2 * width]))
        out.append(P("Counted: findings that failed a clause or need review, and failed part-level clauses, "
                     "on parts whose final verdict is not OK (accepted parts count nothing; a machine-OK "
                     "part rejected on review counts its findings, or \u201cnot found by the machine\u201d).",
                     "note"))
    else:
        out.append(P("<i>no nonconforming defects in this selection</i>", "note"))
    out.append(P("NG rate p-chart", "h1"))
    chart = p_chart(d.times, d.ng, subgroup)
    if chart is None:
        out.append(P("<i>not enough data for a p-chart (it needs at least two subgroups)</i>", "note"))
        return out
    out.append(pchart_drawing(chart, width, 62 * mm, f))
    mode = "UTC clock hours" if chart.mode == "hour" else f"consecutive groups of {chart.size} parts"
    out.append(P(f"Subgroups: {mode}; {len(chart.subgroups)} subgroups; p\u0304 = {100 * chart.p_bar:.2f}% "
                 "(nonconforming parts / parts inspected, by final verdict: NG and REWORK count, parts "
                 "accepted on review and open REVIEW parts do not); limits p\u0304 \u00b1 "
                 "3\u00b7\u221a(p\u0304(1\u2212p\u0304)/n) per subgroup size n. A last group of fewer than "
                 "half a subgroup joins the one before it" + "".join(
                     f"; subgroup {s.label} is partial ({s.n} parts, hollow point)" for s in chart.subgroups
                     if s.partial) + ".", "note"))
    ooc = chart.out_of_control
    if ooc:
        head = [T(h, "cellb") for h in ("subgroup", "parts", "NG", "NG rate", "LCL", "UCL", "signal")]
        body = [[T(s.label), T(s.n), T(s.ng), T(f"{100 * s.p:.2f}%"), T(f"{100 * s.lcl:.2f}%"),
                 T(f"{100 * s.ucl:.2f}%"), T("above UCL" if s.p > s.ucl else "below LCL", "cellb")] for s in ooc]
        out.append(P(f"Out of control: {len(ooc)} subgroup(s)", "h2"))
        out.append(table([head] + body, [width * x for x in (0.24, 0.1, 0.1, 0.14, 0.14, 0.14, 0.14)]))
    else:
        out.append(P("No subgroup outside its control limits.", "small"))
    return out


def _gallery(d: LotData, width: float, progress: Progress | None) -> Iterator[Flowable]:
    yield CondPageBreak(90 * mm)
    yield P(f"Flagged parts (NG and REVIEW): {d.n_flagged}", "h1")
    if d.n_pictured_escapes:
        yield P(f"<b>Also pictured: {d.n_pictured_escapes} part(s) the machine passed (OK) that a reviewer "
                "rejected or sent to rework.</b>", "small")
    if d.n_overflow:
        yield P(f"<b>Gallery shows the first {d.n_gallery} of {d.n_gallery + d.n_overflow} flagged parts; all of them "
                "are listed in the table after the gallery, and every part is in the CSV/XLSX/JSON export "
                "(inspector export).</b>", "small")
    if not d.n_gallery + d.n_overflow:
        yield P("<i>no NG or REVIEW parts in this selection</i>", "note")
    for k, item in enumerate(iter_json_lines(d.gallery_path), start=1):
        block = part_block(item, width, k)
        yield KeepTogether(block[:3])
        yield from block[3:]
        if progress is not None and k % 10 == 0:
            progress(k, d.n_gallery, f"laying out flagged part {k} of {d.n_gallery}")


def _overflow(d: LotData, width: float) -> Iterator[Flowable]:
    if not d.n_overflow:
        return
    yield P(f"Flagged parts not pictured ({d.n_overflow})", "h1")
    head = [T(h, "cellb") for h in ("part", "verdict", "inspected", "defects", "reasons", "disposition")]
    rows: list[list] = [head]
    for item in iter_json_lines(d.overflow_path):
        last = item["reviews"][-1] if item["reviews"] else None  # reviews are oldest first
        disp = f"{last['decision']} ({last['reason_code']})" if last else "open"
        verdict = item["verdict"] + (f" (machine {item['machine_verdict']})" if item["overruled"] else "")
        rows.append([T(item.get("part_id") or item["frame"] or item["id"][:12], limit=60), T(verdict, "cellb"),
                     T(item["inspected_at"]), T(", ".join(f["type"] for f in item["findings"]), limit=120),
                     T("; ".join(item["reasons"]), limit=200), T(disp)])
        if len(rows) > 40:  # many small tables split far faster than one huge one
            yield table(rows, [width * x for x in (0.16, 0.08, 0.17, 0.2, 0.29, 0.1)])
            rows = [head]
    if len(rows) > 1:
        yield table(rows, [width * x for x in (0.16, 0.08, 0.17, 0.2, 0.29, 0.1)])


def _signatures(d: LotData, width: float) -> Iterator[Flowable]:
    yield P("Reviewer dispositions and e-signatures", "h1")
    if not d.n_reviews:
        yield P("<i>no reviews recorded for this selection</i>", "note")
        return
    yield P("Each row is an electronic signature: the reviewer's printed name and user name, the time it "
            "was signed, and what the signature means. Machine verdicts are never overwritten.", "note")
    chunk: list[dict] = []
    for row in iter_json_lines(d.signatures_path):
        chunk.append(row)
        if len(chunk) == 40:
            yield signatures_table(chunk, width, with_part=True)
            chunk = []
    if chunk:
        yield signatures_table(chunk, width, with_part=True)


def build_work_order_report(
    store: ReportSource,
    order_id: str,
    out_path: str | os.PathLike[str],
    *,
    lot: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    generated_by: str = "",
    progress: Progress | None = None,
    subgroup: str | int = "auto",
    gallery_limit: int | None = DEFAULT_GALLERY_LIMIT,
) -> ReportInfo:
    """Write the PDF report of a work order (optionally one lot and/or a time window).

    Args:
        store: an ``inspector.store.Store`` or any :class:`~inspector.reports.source.ReportSource`.
        order_id: the work order; ``lot`` restricts to one lot; ``since <= inspected_at < until``
            (UTC; naive datetimes are taken as UTC).
        generated_by: printed in the header (not part of the document hash).
        progress: ``progress(done, total, message)``; raise from it to cancel.
        subgroup: p-chart subgroups: "auto", "hour" or an int N (parts per subgroup).
        gallery_limit: flagged parts pictured (None = all); beyond it they are listed in a table.

    Returns :class:`ReportInfo`; also writes ``<out_path>.sha256`` with the PDF's SHA-256.
    Raises :class:`ReportError` for an unknown order, ``since >= until`` or an unwritable path.
    """
    t0 = time.perf_counter()
    since, until = as_utc(since, "since"), as_utc(until, "until")
    if since and until and since >= until:
        raise ReportError(f"since ({since.isoformat()}) must be before until ({until.isoformat()})")
    if gallery_limit is not None and gallery_limit < 0:
        raise ReportError("gallery_limit must be >= 0 or None")
    out = os.fspath(out_path)
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise ReportError(f"output folder {parent!r} does not exist")
    wo = load_work_order(store, order_id)
    expected = 0
    counts = getattr(store, "counts", None)
    if counts is not None:
        try:
            expected = int(counts(order_id=order_id, lot=lot).get("inspected", 0))
        except Exception:  # an estimate for the progress bar only
            expected = 0
    generated_at = utcnow()
    width = PAGE[0] - 2 * (15 * mm)
    with tempfile.TemporaryDirectory(prefix="inspector-report-") as tmp:
        d = collect_lot(store, wo, tmp, lot=lot, since=since, until=until, gallery_limit=gallery_limit,
                        progress=progress, expected=expected)
        title = f"Inspection report {wo.order_id}" + (f" lot {lot}" if lot is not None else "")

        def story() -> Iterator[Flowable]:
            yield from _header(d, generated_by, generated_at, width)
            yield from _summary(d, width)
            yield from _spec(d, width)
            yield Spacer(1, 2 * mm)
            yield from _charts(d, width, subgroup)
            yield from _gallery(d, width, progress)
            yield from _overflow(d, width)
            yield from _signatures(d, width)
            yield from release_block(d, width)

        doc = ReportDoc(out, title=title, document_hash=d.document_hash, author=generated_by,
                        subject=f"work order {wo.order_id}, {d.n} parts")
        try:
            pages = doc.build_story(story())
        except OSError as exc:
            raise ReportError(f"cannot write the report to {out!r}: {exc}") from exc
    digest = write_sha256_file(out)
    return ReportInfo(path=out, pages=pages, document_hash=d.document_hash, n_parts=d.n, pdf_sha256=digest,
                      n_flagged=d.n_flagged, n_gallery=d.n_gallery, missing_images=d.missing_images,
                      seconds=time.perf_counter() - t0)
