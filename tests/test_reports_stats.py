"""p-chart limits, subgrouping, Pareto and what counts as a nonconforming defect."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime

import pytest

from inspector.domain import ClauseCheck, Outcome, Verdict, VerdictKind
from inspector.reports.errors import ReportError
from inspector.reports.stats import choose_subgrouping, control_limits, nonconforming_types, p_chart, pareto
from inspector.reports.synthetic import synthetic_lot, work_order

T0 = datetime(2024, 5, 6, 6, 0, tzinfo=UTC).timestamp()


def test_limits_by_hand():
    ucl, lcl = control_limits(0.1, 50)
    assert ucl == pytest.approx(0.1 + 3 * math.sqrt(0.1 * 0.9 / 50))
    assert lcl == 0.0  # 0.1 - 0.127 clipped
    ucl, lcl = control_limits(0.2, 400)
    assert lcl == pytest.approx(0.2 - 3 * 0.02)
    with pytest.raises(ReportError):
        control_limits(0.1, 0)


def test_p_chart_fixed_size_marks_the_out_of_control_subgroup():
    ng_per_group = [2, 3, 1, 14]
    ng = []
    for k in ng_per_group:
        ng += [True] * k + [False] * (50 - k)
    times = [T0 + i for i in range(len(ng))]
    chart = p_chart(times, ng, subgroup=50)
    assert chart is not None and chart.mode == "parts" and len(chart.subgroups) == 4
    assert chart.p_bar == pytest.approx(20 / 200)
    assert [s.label for s in chart.subgroups] == ["1-50", "51-100", "101-150", "151-200"]
    assert [s.out_of_control for s in chart.subgroups] == [False, False, False, True]
    assert chart.out_of_control[0].p == pytest.approx(0.28)


def test_hour_subgroups_have_their_own_limits():
    # hour 0: 100 parts 5 NG; hour 1: 25 parts 10 NG
    times = [T0 + i * 30 for i in range(100)] + [T0 + 3600 + i * 60 for i in range(25)]
    ng = [i < 5 for i in range(100)] + [i < 10 for i in range(25)]
    chart = p_chart(times, ng, subgroup="hour")
    assert chart is not None and chart.mode == "hour"
    a, b = chart.subgroups
    assert (a.n, a.ng, b.n, b.ng) == (100, 5, 25, 10)
    assert a.label == "2024-05-06 06:00" and b.label == "2024-05-06 07:00"
    p = 15 / 125
    assert a.ucl == pytest.approx(p + 3 * math.sqrt(p * (1 - p) / 100))
    assert b.ucl == pytest.approx(p + 3 * math.sqrt(p * (1 - p) / 25))
    assert b.out_of_control and not a.out_of_control


def test_small_last_group_and_too_few_groups():
    chart = p_chart([T0 + i for i in range(45)], [False] * 45, subgroup=20)
    assert [s.n for s in chart.subgroups] == [20, 25]  # 5 parts (< half a subgroup) join the last one
    assert [s.label for s in chart.subgroups] == ["1-20", "21-45"] and not any(s.partial for s in chart.subgroups)
    assert all(not s.out_of_control for s in chart.subgroups)  # p̄ = 0: no signal
    chart = p_chart([T0 + i for i in range(52)], [False] * 50 + [True] * 2, subgroup=25)
    assert [s.n for s in chart.subgroups] == [25, 27]  # never a 2-part point at 100 %
    chart = p_chart([T0 + i for i in range(55)], [False] * 55, subgroup=20)
    assert [(s.n, s.partial) for s in chart.subgroups] == [(20, False), (20, False), (15, True)]
    assert p_chart([T0] * 10, [True] * 10, subgroup=20) is None
    assert p_chart([], [], "auto") is None
    with pytest.raises(ReportError):
        p_chart([T0], [True], subgroup=1)
    with pytest.raises(ReportError):
        p_chart([T0, T0], [True], subgroup="hour")


def test_auto_subgrouping():
    # 6 hours x 100 parts -> hours
    assert choose_subgrouping([T0 + i * 36 for i in range(600)]) == ("hour", 0)
    # 2000 parts, one every 20 s: 12 clock hours of ~170 parts
    assert choose_subgrouping([T0 + i * 20 for i in range(2000)])[0] == "hour"
    # 120 parts in 40 minutes: one hour -> parts of max(20, ceil(120/25))
    assert choose_subgrouping([T0 + i * 20 for i in range(120)]) == ("parts", 20)
    assert choose_subgrouping([T0 + i * 0.5 for i in range(5000)]) == ("parts", 200)
    # 90 hours of sparse parts: too many hourly points -> groups of parts
    assert choose_subgrouping([T0 + i * 3600 for i in range(90)])[0] == "parts"


def test_pareto_sorted_with_cumulative_percent():
    rows = pareto(Counter({"pitting": 7, "scratch": 17, "crack": 2, "dent": 0}))
    assert [r.defect_type for r in rows] == ["scratch", "pitting", "crack"]
    assert rows[0].percent == pytest.approx(100 * 17 / 26)
    assert rows[-1].cumulative_percent == pytest.approx(100.0)
    assert pareto({}) == []


def test_nonconforming_types_counts_failed_findings_and_part_level_clauses():
    lot = synthetic_lot(80, seed=3)
    wo = work_order()
    ng = next(i for i in lot.inspections if i.verdict.kind is VerdictKind.NG)
    assert nonconforming_types(ng, wo) == [f.defect_type for f in ng.findings]
    ok = next(i for i in lot.inspections if i.verdict.kind is VerdictKind.OK)
    assert nonconforming_types(ok, wo) == []
    part_level = Verdict(VerdictKind.NG, (ClauseCheck("§1", Outcome.FAIL, None, "count", 1, 0),
                                          ClauseCheck("§9", Outcome.FAIL, None)))
    ng.verdict = part_level
    assert nonconforming_types(ng, wo) == ["crack", "part-level §9"]
