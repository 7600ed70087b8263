"""Flowables describing one part: images, findings, cited clauses, explanation, signatures.

Shared by the lot report's gallery and the per-part certificate. Input is the plain ``dict``
made by :func:`inspector.reports.collect.part_item`; every value is escaped here.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Image, Spacer, Table, TableStyle

from .collect import operator_text
from .layout import P, T, esc, fonts
from .outcomes import OUTCOME_RGB, VERDICT_RGB

GRID = colors.HexColor("#d1d5db")
HEAD_BG = colors.HexColor("#f3f4f6")


def rgb(c: tuple[int, int, int]) -> colors.Color:
    return colors.Color(c[0] / 255, c[1] / 255, c[2] / 255)


def verdict_colour(kind: str) -> colors.Color:
    return rgb(VERDICT_RGB.get(kind, (100, 100, 100)))


def table(rows: list[list], widths: list[float], *, header: bool = True, repeat: bool = True,
          extra: list | None = None) -> Table:
    """A light grid table; first row is a header (repeated on page breaks) when ``header``."""
    t = Table(rows, colWidths=widths, repeatRows=1 if (header and repeat) else 0, hAlign="LEFT")
    style = [
        ("GRID", (0, 0), (-1, -1), 0.3, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), HEAD_BG))
    t.setStyle(TableStyle(style + (extra or [])))
    return t


def images_row(item: dict, width: float, max_h: float = 48 * mm) -> Flowable:
    """Image thumbnail and the overlay side by side, or a note when the image is missing."""
    im = item.get("images") or {}
    if not im.get("thumb"):
        return P(f"<i>image not found in the image store (sha256 {esc(item.get('image_sha256', ''))})</i>",
                 "note")
    half = (width - 4 * mm) / 2
    scale = min(half / im["w"], max_h / im["h"])
    w, h = im["w"] * scale, im["h"] * scale
    cells = [[Image(im["thumb"], w, h, lazy=2), Image(im["overlay"], w, h, lazy=2)],
             [P("image", "small"), P("overlay: red fail, amber review, green pass, blue unchecked", "small")]]
    t = Table(cells, colWidths=[half + 2 * mm, half + 2 * mm], hAlign="LEFT")
    t.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                           ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    return t


def findings_table(item: dict, width: float, limit: int | None = None) -> list[Flowable]:
    """Findings with sizes (mm), scores and the outcome colour of their outline."""
    rows_in = item["findings"]
    if not rows_in:
        return [P("<i>no regions above the anomaly threshold</i>", "note")]
    shown = rows_in if limit is None else rows_in[:limit]
    head = ["#", "type", "type score", "length mm", "width mm", "area mm\u00b2", "\u2300 mm", "anomaly",
            "zones", "outcome"]
    rows: list[list] = [[T(h, "cellb") for h in head]]
    extra = []
    for k, f in enumerate(shown, start=1):
        rows.append([T(f["n"]), T(f["type"], limit=60), T(f["type_score"]), T(f["length_mm"]),
                     T(f["width_mm"]), T(f["area_mm2"]), T(f["diameter_mm"]), T(f["score"]),
                     T(f["zones"], limit=60), T(f["outcome"], "cellb")])
        extra.append(("BACKGROUND", (9, k), (9, k), rgb(OUTCOME_RGB.get(f["outcome"], (200, 200, 200)))))
    fr = [0.04, 0.2, 0.08, 0.09, 0.09, 0.09, 0.08, 0.08, 0.13, 0.12]
    out: list[Flowable] = [table(rows, [width * x for x in fr], extra=extra)]
    if limit is not None and len(rows_in) > limit:
        out.append(P(f"<i>first {limit} of {len(rows_in)} findings; all are in the export</i>", "note"))
    return out


def clauses_block(item: dict) -> list[Flowable]:
    """The decisive reasons and every clause check that did not pass, with the clause's text."""
    out: list[Flowable] = []
    if item["reasons"]:
        out.append(P("<b>Reasons</b>", "small"))
        for r in item["reasons"]:
            out.append(P("\u2022 " + esc(r, 600), "small"))
    if item["checks"]:
        out.append(P("<b>Clauses cited</b>", "small"))
        for c in item["checks"]:
            on = f" (finding {esc(c['finding'])})" if c["finding"] else " (whole part)"
            line = f"<b>{esc(c['clause'])}</b> {esc(c['outcome'])}{on}: {esc(c['reason'], 600)}"
            if c["clause_text"]:
                line += f" <i>\u2014 spec: \u201c{esc(c['clause_text'], 400)}\u201d</i>"
            out.append(P(line, "small"))
    if not out:
        out.append(P("<i>no clause reasons recorded</i>", "note"))
    return out


def explanation_block(item: dict) -> list[Flowable]:
    if item["explanation"] is None:
        return [P("<i>no explanation recorded</i>", "note")]
    if item["fallback"]:
        how = "template sentence (fallback: the generated text was rejected"
        how += (": " + esc("; ".join(item["problems"]), 300)) if item["problems"] else ""
        how += ")"
    else:
        how = "generated by " + esc(item["generator"] or "the model")
    return [P(f"<b>Explanation</b> <i>[{how}]</i>", "small"), P(esc(item["explanation"], 2000), "small")]


def signatures_table(reviews: list[dict], width: float, with_part: bool = False) -> Flowable:
    """Reviewer dispositions as e-signatures: printed name, time, meaning, decision, reason, comment."""
    head = (["part"] if with_part else []) + ["signed by (printed name)", "time (UTC)", "meaning",
                                               "decision", "reason code", "comment"]
    rows: list[list] = [[T(h, "cellb") for h in head]]
    for r in reviews:
        who = f"{r['reviewer_name']} ({r['reviewer']})" if r["reviewer"] else r["reviewer_name"]
        row = [T(who, limit=80), T(r["decided_at"]), T(r["meaning"], limit=300), T(r["decision"], "cellb"),
               T(r["reason_code"], limit=60), T(r["comment"], limit=400)]
        if with_part:
            row.insert(0, T(f"{r['frame'] or r['id'][:12]} ({r['verdict']})", limit=80))
        rows.append(row)
    fr = [0.2, 0.15, 0.2, 0.09, 0.11, 0.25] if not with_part else [0.14, 0.15, 0.12, 0.16, 0.08, 0.1, 0.25]
    # a reason code is one word ("MEASUREMENT-ERROR"): its column is as wide as the longest, never split
    longest = max((stringWidth(str(r["reason_code"])[:60], fonts().regular, 7) for r in reviews), default=0)
    extra = max(0.0, (longest + 6) / width - fr[-2])
    fr[-2], fr[-1] = fr[-2] + extra, max(0.1, fr[-1] - extra)
    return table(rows, [width * x for x in fr])


def part_header(item: dict, number: int | None) -> Flowable:
    f = fonts()
    col = verdict_colour(item["verdict"]).hexval()[2:]
    num = f"{number}. " if number is not None else ""
    name = esc(part_name(item), 120)
    machine = item.get("machine_verdict", item["verdict"])
    tag = f" <font size='7'>(final; machine verdict: {esc(machine)})</font>" if item.get("overruled") else ""
    return P(f"{num}<font name='{f.bold}' color='#{col}'>{esc(item['verdict'])}</font>{tag} &nbsp; "
             f"<b>{name}</b> &nbsp; {esc(item['inspected_at'])} &nbsp; operator "
             f"{esc(operator_text(item.get('operator', ''), item['station']), 80)}"
             f" &nbsp; lot {esc(item['lot'], 60)} &nbsp; score {esc(item['score'])}<br/>"
             f"<font size='6.5' color='#6b7280'>inspection {esc(item['id'])} &nbsp; {rejudged_text(item)}"
             f"image sha256 {esc(item['image_sha256'][:16])} &nbsp; {esc(item['model'], 200)}</font>", "h2")


def rejudged_text(item: dict) -> str:
    """'re-judges 0123abcd... ' for a record of ``inspector reinspect`` (the original it replaces)."""
    original = item.get("reinspects_id") or ""
    return f"re-judges inspection {esc(original)} &nbsp; " if original else ""


def part_name(item: dict) -> str:
    """How the reports name a part: its part id (with the frame it was judged on), else the frame."""
    frame, part_id = item.get("frame") or "", item.get("part_id") or ""
    if part_id:
        return f"{part_id} ({frame})" if frame and frame != part_id else part_id
    return frame or "(no frame name)"


def part_block(item: dict, width: float, number: int | None = None) -> list[Flowable]:
    """Everything the gallery prints for one flagged part."""
    out: list[Flowable] = [part_header(item, number), images_row(item, width), Spacer(1, 1.5 * mm)]
    out += findings_table(item, width)
    out.append(Spacer(1, 1.2 * mm))
    out += clauses_block(item)
    out += explanation_block(item)
    if item["reviews"]:
        out.append(P("<b>Dispositions</b>", "small"))
        out.append(signatures_table(item["reviews"], width))
    else:
        out.append(P("<i>not reviewed yet (open)</i>", "note"))
    out.append(Spacer(1, 4 * mm))
    return out
