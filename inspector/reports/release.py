"""The lot report's last section: the lot disposition (counts by final verdict) and a release signature block."""

from __future__ import annotations

from collections.abc import Iterator

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer

from .collect import LotData
from .layout import P, T
from .parts import table

DISPOSITIONS = ("Release", "Release with deviation (attach the deviation no.)", "Hold", "Reject / return")
SIGNERS = ("Quality (supplier)", "Customer acceptance")


def release_block(d: LotData, width: float) -> Iterator[Flowable]:
    """Final-verdict counts of the selection, what still blocks a release, and boxes to sign by hand."""
    f = d.final.final
    counts = (f"{d.n} parts inspected: {f.get('OK', 0)} OK, {f.get('NG', 0)} NG, "
              f"{f.get('REWORK', 0)} rework, {f.get('REVIEW', 0)} open (final verdicts: signed dispositions "
              "decide; machine verdicts are listed above)")
    if d.final.open_reviews:
        blocker = (f"<b>{d.final.open_reviews} part(s) are still open (REVIEW without a signed disposition): "
                   "decide them before the lot is released.</b>")
    else:
        blocker = "Every flagged part has a signed disposition."
    boxes = "    ".join(f"[  ] {name}" for name in DISPOSITIONS)  # boxes to tick by hand
    head = [T(h, "cellb") for h in ("", "printed name", "signature", "date")]
    rows = [head] + [[T(who, "cellb"), T(""), T(""), T("")] for who in SIGNERS]
    sign = table(rows, [width * x for x in (0.22, 0.3, 0.3, 0.18)])
    sign.setStyle([("TOPPADDING", (0, 1), (-1, -1), 9 * mm / 2),
                   ("BOTTOMPADDING", (0, 1), (-1, -1), 9 * mm / 2)])
    yield KeepTogether([P("Lot disposition and release", "h1"), P(counts, "small"), P(blocker, "small"),
                        Spacer(1, 2 * mm), P(f"Disposition: {boxes}", "small"), Spacer(1, 2 * mm), sign])
