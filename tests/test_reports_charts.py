"""The report charts are reportlab chart widgets with the data they claim, and they render:
Pareto bars + cumulative line on a 0-100 % axis; p-chart with step limits, the centre line and
one marker kind per point state (out of control, partial, normal)."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from reportlab.graphics import renderPDF
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.lineplots import LinePlot

from inspector.reports import stats
from inspector.reports.charts import BAR, LINE, pareto_drawing, pchart_drawing


def _widgets(drawing, kind):
    return [c for c in drawing.contents if isinstance(c, kind)]


def _chart():
    t0 = datetime(2026, 12, 2, 6, tzinfo=UTC)
    times = [(t0 + timedelta(minutes=3 * i)).timestamp() for i in range(112)]
    ng = [i % 7 == 0 or 40 < i < 50 for i in range(112)]
    return stats.p_chart(times, ng, 20)


def test_pareto_is_a_bar_chart_with_the_cumulative_line():
    rows = stats.pareto(Counter({"scratch": 9, "pitting": 5, "dent": 3, "stain": 1, "crack": 1}))
    d = pareto_drawing(rows, 480, 180, "Helvetica")
    [bars] = _widgets(d, VerticalBarChart)
    [line] = _widgets(d, LinePlot)
    assert bars.data == [[9, 5, 3, 1, 1]]
    assert bars.categoryAxis.categoryNames[0] == "scratch"
    assert [round(y) for _, y in line.data[0]] == [47, 74, 89, 95, 100]
    assert line.yValueAxis.valueMax == 100


def test_pareto_folds_the_tail_into_other():
    rows = stats.pareto(Counter({f"type{i:02d}": 20 - i for i in range(15)}))
    [bars] = _widgets(pareto_drawing(rows, 480, 180, "Helvetica", max_bars=12), VerticalBarChart)
    assert len(bars.data[0]) == 12 and bars.categoryAxis.categoryNames[-1] == "other (4 types)"


def test_p_chart_series_and_marker_kinds():
    chart = _chart()
    [lp] = _widgets(pchart_drawing(chart, 480, 180, "Helvetica"), LinePlot)
    n = len(chart.subgroups)
    ucl, lcl, centre, points, *markers = lp.data
    assert len(ucl) == len(lcl) == 2 * n and centre[0][1] == pytest.approx(chart.p_bar)
    assert [p for _, p in points] == pytest.approx([s.p for s in chart.subgroups])
    ooc = [s for s in chart.subgroups if s.out_of_control]
    partial = [s for s in chart.subgroups if s.partial and not s.out_of_control]
    assert ooc and partial  # the fixture has both
    assert sum(len(m) for m in markers) == n  # every point marked exactly once
    assert len(markers[0]) == len(ooc) and lp.lines[4].lineStyle == "line"


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) not installed")
def test_charts_render_their_colours(tmp_path):
    from reportlab.graphics.shapes import Drawing

    d = Drawing(500, 400)
    rows = stats.pareto(Counter({"scratch": 9, "pitting": 5}))
    p = pareto_drawing(rows, 480, 180, "Helvetica")
    p.translate(10, 210)
    d.add(p)
    c = pchart_drawing(_chart(), 480, 180, "Helvetica")
    c.translate(10, 10)
    d.add(c)
    renderPDF.drawToFile(d, str(tmp_path / "c.pdf"))
    subprocess.run(["pdftoppm", "-r", "72", "-png", str(tmp_path / "c.pdf"), str(tmp_path / "c")], check=True)
    import cv2

    img = cv2.cvtColor(cv2.imread(str(next(tmp_path.glob("c*.png")))), cv2.COLOR_BGR2RGB).astype(int)
    top, bottom = img[: img.shape[0] // 2], img[img.shape[0] // 2 :]

    def count(part, colour):
        rgb = np.array([int(colour.red * 255), int(colour.green * 255), int(colour.blue * 255)])
        return int((np.abs(part - rgb).sum(axis=2) < 30).sum())

    assert count(top, BAR) > 2000  # the bars fill area
    assert count(top, LINE) > 50  # the cumulative line
    assert count(bottom, LINE) > 50  # limits and the out-of-control diamond
