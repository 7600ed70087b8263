"""Outcome of each finding and the colours that show it (no image libraries needed)."""

from __future__ import annotations

from collections.abc import Sequence

from inspector.domain import Finding, Outcome, Verdict

# RGB colours, shared with the PDF tables so a reader matches outline and row by colour.
OUTCOME_RGB: dict[str, tuple[int, int, int]] = {
    "fail": (220, 38, 38),  # red: the finding breaks a clause
    "review": (245, 158, 11),  # amber: a person must decide
    "pass": (22, 163, 74),  # green: within the spec's limits
    "none": (59, 130, 246),  # blue: not checked against any clause
}
VERDICT_RGB: dict[str, tuple[int, int, int]] = {
    "OK": OUTCOME_RGB["pass"],
    "NG": OUTCOME_RGB["fail"],
    "REVIEW": OUTCOME_RGB["review"],
    "REWORK": (124, 58, 237),  # violet: final verdict of a part sent to rework (inspector.reports.final)
}
_RANK = {"none": 0, "pass": 1, "review": 2, "fail": 3}


def finding_outcomes(findings: Sequence[Finding], verdict: Verdict | None) -> list[str]:
    """The worst clause outcome per finding: 'fail', 'review', 'pass', or 'none' (not checked).

    A finding no clause looked at is 'review' when the model marked it uncertain, else 'none'.
    """
    out = ["none"] * len(findings)
    if verdict is not None:
        for c in verdict.checks:
            i = c.finding_index
            if i is not None and 0 <= i < len(out):
                o = Outcome(c.outcome).value
                if _RANK[o] > _RANK[out[i]]:
                    out[i] = o
    for i, f in enumerate(findings):
        if out[i] == "none" and (f.uncertain or f.type_uncertain):
            out[i] = "review"
    return out


