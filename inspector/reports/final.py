"""The final (shipped) verdict of a part: the latest signed disposition wins over the machine verdict.

Every count, chart, export, certificate and screen that says whether a part is good uses
:func:`final_verdict`; the machine verdict is kept beside it and printed as "machine verdict".

=====================  ================================================
latest review          final verdict
=====================  ================================================
none                   the machine verdict (NG/REVIEW stay *open*)
accept                 OK   (shipped as is)
reject                 NG   (scrapped)
rework                 REWORK (returns to the line; not good yet)
=====================  ================================================

Pure Python: imported by the reports, the exports and the desktop app alike.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from inspector.domain import Decision, Inspection, Review, VerdictKind


class Final(enum.StrEnum):
    """What happens to the part: shipped (OK), scrapped (NG), waiting for a person (REVIEW), reworked."""

    OK = "OK"
    NG = "NG"
    REVIEW = "REVIEW"
    REWORK = "REWORK"


FROM_DECISION = {Decision.ACCEPT: Final.OK, Decision.REJECT: Final.NG, Decision.REWORK: Final.REWORK}
DECISION_WORDS = {Decision.ACCEPT: "accepted", Decision.REJECT: "rejected", Decision.REWORK: "sent to rework"}


def latest_review(reviews: Iterable[Review]) -> Review | None:
    """The review that decides: the latest signed one (ties: the later in the given order)."""
    best: Review | None = None
    for r in reviews:
        if best is None or r.decided_at >= best.decided_at:
            best = r
    return best


@dataclass(frozen=True)
class FinalVerdict:
    """The shipped verdict of one part, with the machine verdict and the deciding review."""

    kind: Final
    machine: VerdictKind
    disposition: Review | None = None  # the latest signed review; None when nobody reviewed the part

    @property
    def good(self) -> bool:
        """Counts as good (shippable) in yields."""
        return self.kind is Final.OK

    @property
    def nonconforming(self) -> bool:
        """Counts in the NG rate (p-chart) and the defect Pareto: final NG or REWORK."""
        return self.kind in (Final.NG, Final.REWORK)

    @property
    def open(self) -> bool:
        """The machine flagged the part and no one has decided yet."""
        return self.disposition is None and self.machine is not VerdictKind.OK

    @property
    def overruled(self) -> bool:
        """A signed disposition changed the outcome the machine gave."""
        return self.disposition is not None and self.kind.value != self.machine.value

    def describe(self) -> str:
        """E.g. 'NG: rejected by Ann Smith (OVER-LIMIT); machine verdict: OK'."""
        machine = f"machine verdict: {self.machine.value}"
        if self.disposition is None:
            return f"{self.kind.value} ({machine}; {'awaiting review' if self.open else 'not reviewed'})"
        r = self.disposition
        words = DECISION_WORDS[Decision(r.decision)]
        return f"{self.kind.value}: {words} by {r.reviewer_name or r.reviewer} ({r.reason_code}); {machine}"


def final_verdict(inspection: Inspection | VerdictKind, reviews: Sequence[Review] = ()) -> FinalVerdict:
    """The final verdict of a part from its machine verdict and its reviews (any order)."""
    machine = inspection if isinstance(inspection, VerdictKind) else inspection.verdict.kind
    machine = VerdictKind(machine)
    last = latest_review(reviews)
    if last is None:
        return FinalVerdict(Final(machine.value), machine, None)
    return FinalVerdict(FROM_DECISION[Decision(last.decision)], machine, last)


@dataclass
class FinalCounts:
    """Machine and final verdict counts of a selection of parts (one pass, bounded memory)."""

    inspected: int = 0
    machine: Counter = field(default_factory=Counter)  # VerdictKind value -> parts
    final: Counter = field(default_factory=Counter)  # Final value -> parts
    open_reviews: int = 0  # flagged by the machine, no review yet
    overruled: int = 0  # final outcome differs from the machine's
    escapes: int = 0  # machine OK, final NG or REWORK (found by a person)

    def add(self, fv: FinalVerdict) -> None:
        self.inspected += 1
        self.machine[fv.machine.value] += 1
        self.final[fv.kind.value] += 1
        self.open_reviews += int(fv.open)
        self.overruled += int(fv.overruled)
        self.escapes += int(fv.machine is VerdictKind.OK and fv.nonconforming)

    @property
    def machine_yield(self) -> float | None:
        """Machine first-pass yield: machine OK / inspected, 0..1 (None when empty)."""
        return self.machine["OK"] / self.inspected if self.inspected else None

    @property
    def final_yield(self) -> float | None:
        """Yield after dispositions: final OK / inspected, 0..1 (None when empty)."""
        return self.final["OK"] / self.inspected if self.inspected else None


def final_counts(parts: Iterable[tuple[Inspection, Sequence[Review]]]) -> FinalCounts:
    """Count (inspection, reviews) pairs."""
    out = FinalCounts()
    for insp, reviews in parts:
        out.add(final_verdict(insp, reviews))
    return out


__all__ = ["DECISION_WORDS", "Final", "FinalCounts", "FinalVerdict", "final_counts", "final_verdict",
           "latest_review"]
