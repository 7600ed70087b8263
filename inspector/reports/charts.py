"""Report charts as reportlab Drawings (vector, scale with the page): Pareto and p-chart."""

from __future__ import annotations

import math
from collections.abc import Sequence

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors

from .stats import ParetoRow, PChart

BAR = colors.HexColor("#2563eb")
LINE = colors.HexColor("#dc2626")
GRID = colors.HexColor("#d1d5db")
INK = colors.HexColor("#111827")
MUTED = colors.HexColor("#6b7280")


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if v <= step * 5:
            return float(step * 5 if v > step * 4 else max(step * 4, v))
    return float(v)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def pareto_drawing(rows: Sequence[ParetoRow], width: float, height: float, font: str,
                   max_bars: int = 12) -> Drawing:
    """Bars of defect counts (left axis) and the cumulative % line (right axis, 0-100 %).

    More than ``max_bars`` types are folded into a last bar "other (k types)".
    """
    rows = list(rows)
    if len(rows) > max_bars:
        rest = rows[max_bars - 1 :]
        other = ParetoRow(f"other ({len(rest)} types)", sum(r.count for r in rest),
                          sum(r.percent for r in rest), 100.0)
        rows = rows[: max_bars - 1] + [other]
    d = Drawing(width, height)
    left, right, bottom, top = 40, 40, 48, 12
    pw, ph = width - left - right, height - bottom - top
    ymax = _nice_max(max(r.count for r in rows))
    d.add(Rect(left, bottom, pw, ph, strokeColor=GRID, fillColor=None, strokeWidth=0.5))
    for k in range(5):
        y = bottom + ph * k / 4
        d.add(Line(left, y, left + pw, y, strokeColor=GRID, strokeWidth=0.3))
        d.add(String(left - 4, y - 3, f"{ymax * k / 4:g}", fontName=font, fontSize=7, fillColor=MUTED,
                     textAnchor="end"))
        d.add(String(left + pw + 4, y - 3, f"{25 * k}%", fontName=font, fontSize=7, fillColor=LINE))
    slot = pw / len(rows)
    bw = slot * 0.62
    pts: list[float] = []
    for i, r in enumerate(rows):
        x = left + slot * i + (slot - bw) / 2
        h = ph * r.count / ymax
        d.add(Rect(x, bottom, bw, h, fillColor=BAR, strokeColor=None))
        d.add(String(x + bw / 2, bottom + h + 2, str(r.count), fontName=font, fontSize=7, fillColor=INK,
                     textAnchor="middle"))
        label = String(0, 0, _short(r.defect_type, 18), fontName=font, fontSize=7, fillColor=INK,
                       textAnchor="end")
        g = Group(label)
        g.translate(x + bw / 2 + 2, bottom - 4)
        g.rotate(35)
        d.add(g)
        pts += [x + bw / 2, bottom + ph * r.cumulative_percent / 100.0]
    if len(pts) >= 4:
        d.add(PolyLine(pts, strokeColor=LINE, strokeWidth=1.2))
    for i in range(0, len(pts), 2):
        d.add(Circle(pts[i], pts[i + 1], 2, fillColor=LINE, strokeColor=None))
    d.add(String(4, bottom + ph / 2, "defects", fontName=font, fontSize=7, fillColor=MUTED))
    return d


def pchart_drawing(chart: PChart, width: float, height: float, font: str) -> Drawing:
    """NG rate per subgroup with p̄ (centre line) and per-subgroup 3-sigma UCL/LCL as steps.
    Out-of-control points are red diamonds; the others blue dots."""
    d = Drawing(width, height)
    left, right, bottom, top = 40, 12, 40, 12
    pw, ph = width - left - right, height - bottom - top
    sg = chart.subgroups
    hi = max(max(s.p for s in sg), max(s.ucl for s in sg), chart.p_bar, 0.01)
    ymax = min(1.0, _nice_max(hi * 100) / 100.0) if hi < 1 else 1.0
    d.add(Rect(left, bottom, pw, ph, strokeColor=GRID, fillColor=None, strokeWidth=0.5))
    for k in range(5):
        y = bottom + ph * k / 4
        d.add(Line(left, y, left + pw, y, strokeColor=GRID, strokeWidth=0.3))
        d.add(String(left - 4, y - 3, f"{100 * ymax * k / 4:.3g}%", fontName=font, fontSize=7,
                     fillColor=MUTED, textAnchor="end"))
    n = len(sg)
    step = pw / n

    def yv(p: float) -> float:
        return bottom + ph * min(p, ymax) / ymax

    ucl, lcl = [], []
    for i, s in enumerate(sg):
        x0, x1 = left + step * i, left + step * (i + 1)
        ucl += [x0, yv(s.ucl), x1, yv(s.ucl)]
        lcl += [x0, yv(s.lcl), x1, yv(s.lcl)]
    d.add(PolyLine(ucl, strokeColor=LINE, strokeWidth=0.8, strokeDashArray=[3, 2]))
    d.add(PolyLine(lcl, strokeColor=LINE, strokeWidth=0.8, strokeDashArray=[3, 2]))
    d.add(Line(left, yv(chart.p_bar), left + pw, yv(chart.p_bar), strokeColor=colors.HexColor("#16a34a"),
               strokeWidth=1))
    d.add(String(left + pw - 2, yv(chart.p_bar) + 2, f"p\u0304 {100 * chart.p_bar:.2f}%", fontName=font,
                 fontSize=7, fillColor=colors.HexColor("#16a34a"), textAnchor="end"))
    d.add(String(left + pw - 2, yv(sg[-1].ucl) + 2, "UCL", fontName=font, fontSize=7, fillColor=LINE,
                 textAnchor="end"))
    pts = []
    for i, s in enumerate(sg):
        pts += [left + step * (i + 0.5), yv(s.p)]
    d.add(PolyLine(pts, strokeColor=BAR, strokeWidth=0.8))
    for i, s in enumerate(sg):
        x, y = pts[2 * i], pts[2 * i + 1]
        if s.out_of_control:
            d.add(Polygon([x, y + 4, x + 4, y, x, y - 4, x - 4, y], fillColor=LINE, strokeColor=INK,
                          strokeWidth=0.4))
        elif s.partial:  # fewer parts than the others: hollow, as the label says
            d.add(Circle(x, y, 2.2, fillColor=colors.white, strokeColor=BAR, strokeWidth=0.8))
        else:
            d.add(Circle(x, y, 1.8, fillColor=BAR, strokeColor=None))
    labels = [s.label + (" partial" if s.partial else "") for s in sg]
    if chart.mode == "hour":  # "06:00", with the date where it changes
        labels, day = [], None
        for s in sg:
            labels.append(s.start.strftime("%H:00") if s.start.date() == day else s.start.strftime("%m-%d %H:00"))
            day = s.start.date()
    every = max(1, math.ceil(n * 48 / pw))  # about 48 pt per label
    for i in range(0, n, every):
        d.add(String(left + step * (i + 0.5), bottom - 11, _short(labels[i], 24), fontName=font,
                     fontSize=6, fillColor=MUTED, textAnchor="middle"))
    unit = "UTC hour" if chart.mode == "hour" else f"subgroups of {chart.size} parts (part numbers)"
    d.add(String(left + pw / 2, bottom - 24, unit, fontName=font, fontSize=7, fillColor=MUTED,
                 textAnchor="middle"))
    return d
