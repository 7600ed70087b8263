"""The before/after table of a re-judge: per part the old and the new verdict with the clause that
decided each, and a summary. A plan is what a dry run shows; applying it writes exactly its
new records (``run.apply_plan``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inspector.domain import Inspection, ModelInfo, Outcome, Verdict, VerdictKind, WorkOrder
from inspector.errors import InspectorError

# Row status: what applying the plan does for the part
CHANGED = "changed"  # a new record, with a different verdict
SAME = "same"  # a new record (new order version, model or reference), same verdict
CURRENT = "current"  # already judged with this order version, model and reference: nothing to write
ERROR = "error"  # could not be re-judged (image missing or altered, model failure): nothing written


class ReinspectError(InspectorError):
    """A re-inspection that cannot run as asked (no such order or version, no parts, no workers...)."""


def decided_by(verdict: Verdict) -> tuple[str, str]:
    """(clause id, sentence) that decided a verdict: the first failing clause of an NG, the first
    clause asking for a person of a REVIEW, else the verdict's first reason (no clause)."""
    want = {VerdictKind.NG: Outcome.FAIL, VerdictKind.REVIEW: Outcome.REVIEW}.get(verdict.kind)
    for c in verdict.checks:
        if want is not None and c.outcome is want:
            return c.clause_id, c.reason or (verdict.reasons[0] if verdict.reasons else "")
    return "", verdict.reasons[0] if verdict.reasons else ""


def model_text(m: ModelInfo | None) -> str:
    return "" if m is None else f"{m.name} {m.version} (weights {m.weights_hash[:12]})"


@dataclass
class RejudgeRow:
    """One part: its current record before and what re-judging it gives now."""

    original_id: str
    frame_name: str
    part_id: str
    inspected_at: datetime
    old: VerdictKind
    old_clause: str
    old_reason: str
    old_version: int | None
    new: VerdictKind | None = None
    new_clause: str = ""
    new_reason: str = ""
    status: str = ERROR
    error: str = ""
    disposition: str = ""  # the signed disposition that still decides the part, e.g. "accept by ann"
    record: Inspection | None = field(default=None, repr=False)  # the new record (None: nothing to write)
    worker: str = ""

    @property
    def change(self) -> str:
        """'OK->NG', or 'OK' when unchanged, '' when not re-judged."""
        if self.new is None:
            return ""
        return self.old.value if self.new is self.old else f"{self.old.value}->{self.new.value}"

    def as_dict(self) -> dict[str, Any]:
        return {"inspection": self.original_id, "frame": self.frame_name, "part_id": self.part_id,
                "old": self.old.value, "old_clause": self.old_clause, "old_reason": self.old_reason,
                "old_version": self.old_version, "new": self.new.value if self.new else None,
                "new_clause": self.new_clause, "new_reason": self.new_reason, "status": self.status,
                "error": self.error, "disposition": self.disposition,
                "new_inspection": self.record.id if self.record is not None else None}


@dataclass
class RejudgePlan:
    """A dry run: every current record of the selection re-judged, nothing written yet."""

    order_id: str
    lot: str | None
    work_order: WorkOrder
    work_order_version: int | None  # None: the order given as a file is new (stored when applied)
    model: ModelInfo | None
    engine: str
    workers: int
    rows: list[RejudgeRow]
    seconds: float = 0.0
    load_seconds: float = 0.0
    run_id: str = ""
    per_worker: Counter = field(default_factory=Counter)  # worker -> parts analysed

    @property
    def to_write(self) -> list[RejudgeRow]:
        return [r for r in self.rows if r.record is not None]

    def summary(self) -> dict[str, Any]:
        """Counts: parts, changed (and each 'OK->NG' kind), same, already current, errors, to write."""
        changes = Counter(r.change for r in self.rows if r.status == CHANGED)
        status = Counter(r.status for r in self.rows)
        analysed = sum(1 for r in self.rows if r.new is not None)
        run = self.seconds - self.load_seconds  # parts/s after the workers have loaded the model
        return {"parts": len(self.rows), "changed": status[CHANGED], "same": status[SAME],
                "current": status[CURRENT], "errors": status[ERROR], "to_write": len(self.to_write),
                "changes": dict(sorted(changes.items())), "seconds": round(self.seconds, 3),
                "load_seconds": round(self.load_seconds, 3), "parts_per_s": round(analysed / run, 3) if run > 0 else None,
                "workers": self.workers, "engine": self.engine}

    def table(self, width: int = 60) -> list[str]:
        """The before/after table as text lines (the CLI prints it; the app shows the same rows)."""
        def cut(text: str) -> str:
            return text if len(text) <= width else text[: width - 3] + "..."

        lines = [f"{'part (image)':<20} {'before':<7} {'clause':<7} {'after':<7} {'clause':<7} status   reason (after)"]
        for r in self.rows:
            name = r.frame_name or r.part_id or r.original_id[:12]
            name = name if len(name) <= 20 else "..." + name[-17:]
            new = r.new.value if r.new else "-"
            reason = r.error if r.status == ERROR else r.new_reason
            if r.disposition:
                reason += f" [disposition stands: {r.disposition}]"
            lines.append(f"{name:<20} {r.old.value:<7} {r.old_clause or '-':<7} {new:<7} "
                         f"{r.new_clause or '-':<7} {r.status:<8} {cut(reason)}")
        return lines

    def summary_text(self) -> str:
        s = self.summary()
        kinds = ", ".join(f"{k} {n}" for k, n in s["changes"].items()) or "none"
        version = self.work_order_version if self.work_order_version is not None else "new (stored on --apply)"
        return (f"{s['parts']} parts of {self.order_id}{' lot ' + self.lot if self.lot else ''} re-judged with "
                f"work order version {version}, {model_text(self.model)}: {s['changed']} change ({kinds}), "
                f"{s['same']} keep their verdict, {s['current']} already current, {s['errors']} errors; "
                f"{s['to_write']} new records to write ({self.engine}, {self.workers} worker(s), "
                f"{s['seconds']} s)")


@dataclass
class ApplyResult:
    """What ``apply_plan`` wrote: new record ids, and the parts it refused to re-judge twice."""

    run_id: str
    work_order_version: int
    written: list[str] = field(default_factory=list)
    already_rejudged: list[str] = field(default_factory=list)  # originals another run re-judged first

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "work_order_version": self.work_order_version,
                "written": len(self.written), "already_rejudged": len(self.already_rejudged),
                "new_inspections": list(self.written)}
