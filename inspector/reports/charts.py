"""Report charts as reportlab Drawings (vector, scale with the page): Pareto and p-chart.

Both are built on ``reportlab.graphics.charts`` (a bar chart and line plots with their own
value axes); what those widgets do not draw (the cumulative-% axis on the right, labels
of the centre line) is added as plain shapes positioned with the charts' own axis scales.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from reportlab.graphics.charts.axes import YValueAxis
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Group, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors

from .stats import ParetoRow, PChart

BAR = colors.HexColor("#2563eb")
LINE = colors.HexColor("#dc2626")
GRID = colors.HexColor("#d1d5db")
INK = colors.HexColor("#111827")
MUTED = colors.HexColor("#6b7280")
CENTRE = colors.HexColor("#16a34a")


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if v <= step * 5:
            return float(step * 5 if v > step * 4 else max(step * 4, v))
    return float(v)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def _style_value_axis(axis, vmax: float, font: str, fmt) -> None:
    axis.valueMin, axis.valueMax, axis.valueStep = 0, vmax, vmax / 4
    axis.labels.fontName, axis.labels.fontSize, axis.labels.fillColor = font, 7, MUTED
    axis.labelTextFormat = fmt
    axis.visibleGrid, axis.gridStrokeColor, axis.gridStrokeWidth = True, GRID, 0.3
    axis.strokeColor, axis.strokeWidth = GRID, 0.5


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

    bars = VerticalBarChart()
    bars.x, bars.y, bars.width, bars.height = left, bottom, pw, ph
    bars.data = [[r.count for r in rows]]
    bars.barWidth, bars.groupSpacing = 0.62, 0.38  # fraction of a slot: the bar is 62 % of it
    bars.bars[0].fillColor, bars.bars[0].strokeColor = BAR, None
    _style_value_axis(bars.valueAxis, ymax, font, lambda v: f"{v:g}")
    bars.categoryAxis.categoryNames = [_short(r.defect_type, 18) for r in rows]
    lab = bars.categoryAxis.labels
    lab.fontName, lab.fontSize, lab.fillColor = font, 7, INK
    lab.angle, lab.boxAnchor, lab.dx, lab.dy = 35, "ne", 2, -4
    bars.categoryAxis.strokeColor, bars.categoryAxis.visibleTicks = GRID, False
    bars.barLabelFormat = "%d"
    bars.barLabels.fontName, bars.barLabels.fontSize, bars.barLabels.fillColor = font, 7, INK
    bars.barLabels.nudge = 6
    d.add(bars)

    cum = LinePlot()  # the cumulative % on the same slots, against its own 0-100 % axis
    cum.x, cum.y, cum.width, cum.height = left, bottom, pw, ph
    n = len(rows)
    cum.data = [[(i + 0.5, r.cumulative_percent) for i, r in enumerate(rows)]]
    cum.xValueAxis.valueMin, cum.xValueAxis.valueMax = 0, n
    cum.xValueAxis.visible = False
    cum.yValueAxis.valueMin, cum.yValueAxis.valueMax, cum.yValueAxis.valueStep = 0, 100, 25
    cum.yValueAxis.visible = False
    cum.lines[0].strokeColor, cum.lines[0].strokeWidth = LINE, 1.2
    cum.lines[0].symbol = makeMarker("FilledCircle", size=4, fillColor=LINE, strokeColor=None)
    d.add(cum)

    pct = YValueAxis()  # the right-hand axis of the line
    pct.setPosition(left + pw, bottom, ph)
    pct.configure([(0, 100)])
    pct.valueMin, pct.valueMax, pct.valueStep = 0, 100, 25
    pct.labelTextFormat = "%d%%"
    pct.joinAxisMode = None
    pct.labels.fontName, pct.labels.fontSize, pct.labels.fillColor = font, 7, LINE
    pct.labels.boxAnchor, pct.labels.dx = "w", 8
    pct.strokeColor = GRID
    d.add(pct)
    title = Group(String(0, 0, "defects", fontName=font, fontSize=7, fillColor=MUTED, textAnchor="middle"))
    title.translate(8, bottom + ph / 2)
    title.rotate(90)  # along the axis, clear of its numbers
    d.add(title)
    return d


def _steps(values: Sequence[float]) -> list[tuple[float, float]]:
    """A per-subgroup limit as a step line over subgroup slots [i, i + 1)."""
    out: list[tuple[float, float]] = []
    for i, v in enumerate(values):
        out += [(i, v), (i + 1, v)]
    return out


def pchart_drawing(chart: PChart, width: float, height: float, font: str) -> Drawing:
    """NG rate per subgroup with p̄ (centre line) and per-subgroup 3-sigma UCL/LCL as steps.
    Out-of-control points are red diamonds; partial subgroups hollow; the others blue dots."""
    d = Drawing(width, height)
    left, right, bottom, top = 40, 12, 40, 12
    pw, ph = width - left - right, height - bottom - top
    sg = chart.subgroups
    n = len(sg)
    hi = max(max(s.p for s in sg), max(s.ucl for s in sg), chart.p_bar, 0.01)
    ymax = min(1.0, _nice_max(hi * 100) / 100.0) if hi < 1 else 1.0
    clip = [min(s.p, ymax) for s in sg]

    lp = LinePlot()
    lp.x, lp.y, lp.width, lp.height = left, bottom, pw, ph
    lp.data = [
        _steps([min(s.ucl, ymax) for s in sg]),
        _steps([min(s.lcl, ymax) for s in sg]),
        [(0, min(chart.p_bar, ymax)), (n, min(chart.p_bar, ymax))],
        [(i + 0.5, p) for i, p in enumerate(clip)],
    ]
    for i, (colour, width_, dash) in enumerate(((LINE, 0.8, [3, 2]), (LINE, 0.8, [3, 2]),
                                                 (CENTRE, 1.0, None), (BAR, 0.8, None))):
        lp.lines[i].strokeColor, lp.lines[i].strokeWidth = colour, width_
        if dash:
            lp.lines[i].strokeDashArray = dash
    kinds = (("ooc", "Diamond", 8, LINE, INK), ("partial", "Circle", 4.4, colors.white, BAR),
             ("normal", "FilledCircle", 3.6, BAR, None))
    for kind, marker, size, fill, stroke in kinds:  # the points: one marker-only series per kind
        pts = [(i + 0.5, clip[i]) for i, s in enumerate(sg)
               if kind == ("ooc" if s.out_of_control else "partial" if s.partial else "normal")]
        if not pts:
            continue
        row = len(lp.data)
        lp.data.append(pts)
        lp.lines[row].lineStyle = "line"  # markers, not joined
        lp.lines[row].symbol = makeMarker(marker, size=size, fillColor=fill, strokeColor=stroke, strokeWidth=0.6)
    lp.xValueAxis.valueMin, lp.xValueAxis.valueMax = 0, n
    lp.xValueAxis.visibleLabels, lp.xValueAxis.visibleTicks = False, False
    lp.xValueAxis.strokeColor = GRID
    _style_value_axis(lp.yValueAxis, ymax, font, lambda v: f"{100 * v:.3g}%")
    d.add(lp)

    def yv(p: float) -> float:
        return bottom + ph * min(p, ymax) / ymax

    d.add(String(left + pw - 2, yv(chart.p_bar) + 2, f"p\u0304 {100 * chart.p_bar:.2f}%", fontName=font,
                 fontSize=7, fillColor=CENTRE, textAnchor="end"))
    d.add(String(left + pw - 2, yv(sg[-1].ucl) + 2, "UCL", fontName=font, fontSize=7, fillColor=LINE,
                 textAnchor="end"))
    labels = [s.label + (" partial" if s.partial else "") for s in sg]
    if chart.mode == "hour":  # "06:00", with the date where it changes
        labels, day = [], None
        for s in sg:
            labels.append(s.start.strftime("%H:00") if s.start.date() == day else s.start.strftime("%m-%d %H:00"))
            day = s.start.date()
    step = pw / n
    every = max(1, math.ceil(n * 48 / pw))  # about 48 pt per label
    for i in range(0, n, every):
        d.add(String(left + step * (i + 0.5), bottom - 11, _short(labels[i], 24), fontName=font,
                     fontSize=6, fillColor=MUTED, textAnchor="middle"))
    unit = "UTC hour" if chart.mode == "hour" else f"subgroups of {chart.size} parts (part numbers)"
    d.add(String(left + pw / 2, bottom - 24, unit, fontName=font, fontSize=7, fillColor=MUTED,
                 textAnchor="middle"))
    return d
