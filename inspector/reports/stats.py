"""Statistics for lot reports: defect Pareto and the p-chart of the NG rate (pure Python/numpy)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from inspector.domain import Inspection, Outcome, VerdictKind, WorkOrder

from .errors import ReportError
from .final import FinalVerdict
from .outcomes import finding_outcomes

MISSED = "not found by the machine"  # Pareto bar of machine-OK parts a reviewer rejected with no finding


def nonconforming_types(inspection: Inspection, work_order: WorkOrder | None = None,
                        final: FinalVerdict | None = None) -> list[str]:
    """Defect types counted in the Pareto for one part.

    Counted: every finding whose worst clause outcome is fail or review, and every part-level
    check (``finding_index`` None, e.g. "at most 2 pits") that failed or needs review, under the
    clause's defect type. A flagged part with neither (no checks recorded) counts its findings.
    Parts whose final verdict is OK (machine OK, or accepted on review) count nothing; a
    machine-OK part rejected or sent to rework on review counts its findings, or
    :data:`MISSED` when the machine found nothing. Without ``final`` the machine verdict decides.
    """
    if final is not None:
        if final.good:
            return []
        if inspection.verdict.kind is VerdictKind.OK:
            return [f.defect_type for f in inspection.findings] or [MISSED]
    if inspection.verdict.kind is VerdictKind.OK:
        return []
    outcomes = finding_outcomes(inspection.findings, inspection.verdict)
    types = [f.defect_type for f, o in zip(inspection.findings, outcomes, strict=True) if o in ("fail", "review")]
    for c in inspection.verdict.checks:
        if c.finding_index is None and Outcome(c.outcome) is not Outcome.PASS:
            t = None
            if work_order is not None:
                try:
                    t = work_order.clause(c.clause_id).defect_type
                except KeyError:
                    t = None
            types.append(t or f"part-level {c.clause_id}")
    if not types:
        types = [f.defect_type for f in inspection.findings]
    return types


@dataclass(frozen=True)
class ParetoRow:
    defect_type: str
    count: int
    percent: float  # of all counted defects, 0..100
    cumulative_percent: float  # 0..100


def pareto(counts: Counter[str] | dict[str, int]) -> list[ParetoRow]:
    """Rows sorted by count (descending, ties by name) with percent and cumulative percent."""
    items = sorted(((t, n) for t, n in counts.items() if n > 0), key=lambda kv: (-kv[1], kv[0]))
    total = sum(n for _, n in items)
    rows, cum = [], 0
    for t, n in items:
        cum += n
        rows.append(ParetoRow(t, n, 100.0 * n / total, 100.0 * cum / total))
    return rows


@dataclass(frozen=True)
class Subgroup:
    label: str  # "2024-05-01 14:00" (UTC hour) or "1-50" (part numbers, 1-based)
    start: datetime
    n: int  # parts inspected
    ng: int  # parts with verdict NG
    p: float  # ng / n
    ucl: float
    lcl: float
    partial: bool = False  # fewer parts than the chart's subgroup size (the lot's last parts)

    @property
    def out_of_control(self) -> bool:
        return self.p > self.ucl + 1e-12 or self.p < self.lcl - 1e-12


@dataclass(frozen=True)
class PChart:
    mode: str  # "hour" or "parts"
    size: int  # parts per subgroup for mode "parts"; 0 for "hour"
    p_bar: float
    subgroups: tuple[Subgroup, ...]

    @property
    def out_of_control(self) -> tuple[Subgroup, ...]:
        return tuple(s for s in self.subgroups if s.out_of_control)


def control_limits(p_bar: float, n: int) -> tuple[float, float]:
    """3-sigma limits of a p-chart for a subgroup of ``n`` parts: (UCL, LCL), clipped to [0, 1]."""
    if n <= 0:
        raise ReportError("a p-chart subgroup needs at least one part")
    sigma = math.sqrt(max(p_bar * (1.0 - p_bar), 0.0) / n)
    return min(1.0, p_bar + 3.0 * sigma), max(0.0, p_bar - 3.0 * sigma)


def choose_subgrouping(times: Sequence[float]) -> tuple[str, int]:
    """Pick 'hour' when the run spans 2..60 hours with >= 20 parts per hour on average, else
    consecutive groups of N parts with N = max(20, ceil(total / 25)) (about 25 points)."""
    n = len(times)
    if n == 0:
        return "parts", 20
    hours = {int(t // 3600) for t in times}
    if 2 <= len(hours) <= 60 and n / len(hours) >= 20:
        return "hour", 0
    return "parts", max(20, math.ceil(n / 25))


def p_chart(times: Sequence[float], ng: Sequence[bool], subgroup: str | int = "auto") -> PChart | None:
    """The p-chart of the NG rate.

    Args:
        times: inspected_at of each part as POSIX seconds, in inspection order.
        ng: whether each part is nonconforming by its final verdict (final NG or REWORK; see
            :mod:`inspector.reports.final`: an accepted part or an open REVIEW is not counted).
        subgroup: "hour" (UTC clock hours), an int N (consecutive N parts; a last group of fewer
            than N/2 parts joins the one before it, a larger one is kept with its own limits and
            marked ``partial``), or "auto" (see :func:`choose_subgrouping`).

    Returns None when there are fewer than two subgroups (no chart can be judged).
    p̄ = total nonconforming / total parts; per subgroup UCL/LCL = p̄ ± 3·sqrt(p̄(1-p̄)/n_i).
    """
    if len(times) != len(ng):
        raise ReportError("p_chart: times and ng differ in length")
    if subgroup == "auto":
        mode, size = choose_subgrouping(times)
    elif subgroup == "hour":
        mode, size = "hour", 0
    elif isinstance(subgroup, int) and not isinstance(subgroup, bool) and subgroup >= 2:
        mode, size = "parts", subgroup
    else:
        raise ReportError(f"subgroup must be 'auto', 'hour' or an integer >= 2, got {subgroup!r}")
    groups: list[tuple[str, datetime, int, int, bool]] = []
    if mode == "hour":
        buckets: dict[int, list[int]] = {}
        for t, bad in zip(times, ng, strict=True):
            b = buckets.setdefault(int(t // 3600), [0, 0])
            b[0] += 1
            b[1] += int(bool(bad))
        for h in sorted(buckets):
            start = datetime.fromtimestamp(h * 3600, UTC)
            groups.append((start.strftime("%Y-%m-%d %H:00"), start, *buckets[h], False))
    else:
        starts = list(range(0, len(times), size))
        if len(starts) > 1 and len(times) - starts[-1] < size / 2:
            starts.pop()  # a short tail (e.g. 2 parts) joins the subgroup before it: no 2-part point
        for k, a in enumerate(starts):
            b = starts[k + 1] if k + 1 < len(starts) else len(times)
            chunk = ng[a:b]
            start = datetime.fromtimestamp(times[a], UTC)
            groups.append((f"{a + 1}-{b}", start, b - a, sum(bool(x) for x in chunk), b - a < size))
    if len(groups) < 2:
        return None
    total = sum(g[2] for g in groups)
    p_bar = sum(g[3] for g in groups) / total
    subgroups = []
    for label, start, n, bad, partial in groups:
        ucl, lcl = control_limits(p_bar, n)
        subgroups.append(Subgroup(label, start, n, bad, bad / n, ucl, lcl, partial))
    return PChart(mode, size, p_bar, tuple(subgroups))
