"""The facade's records door: queries, reviews and dispositions, reports and exports.

A mixin of :class:`inspector.pipeline.Inspector`, split off so each file reads in one
sitting. Every method checks the signed-in user's right (``require``) and audits what it
changes; the CLI and the app call these, never the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inspector.domain import Inspection, to_data
from inspector.errors import NotFound, UsageError
from inspector.model.base import Progress


class RecordsDoor:
    """Queries, review, reports and exports of :class:`~inspector.pipeline.Inspector`."""

    store: Any
    actor: str
    require: Callable[[str], None]
    _record: Callable[..., None]
    _write: Callable[..., Any]
    _guarded: Callable[..., Any]
    refused: Callable[..., None]
    auth_source: str

    def query(self, **filters: Any) -> list[Inspection]:
        """Stored inspections (``Store.query_inspections`` filters); one per part unless
        ``current_only=False``: a record re-judged by ``inspector reinspect`` gives way to the new one."""
        filters.setdefault("current_only", True)
        return self.store.query_inspections(**filters)

    def get(self, inspection_id: str) -> Inspection:
        return self.store.get_inspection(inspection_id)

    def counts(self, order_id: str | None = None, lot: str | None = None) -> dict[str, float]:
        return self.store.counts(order_id=order_id, lot=lot)

    def image(self, inspection: Inspection) -> np.ndarray:
        return self.store.images.read(inspection.image_sha256)

    def overlay(self, inspection: Inspection, anomaly_map: np.ndarray | None = None) -> np.ndarray:
        from inspector.reports.overlay import render_overlay

        return render_overlay(self.image(inspection), inspection.findings, anomaly_map, inspection.verdict)

    def reviews(self, inspection_id: str):
        return self.store.reviews_for(inspection_id)

    def review(self, inspection_id: str, decision: str, reason_code: str, comment: str, *,
               username: str, password: str, meaning: str = ""):
        """Record a signed disposition. Re-authenticates the reviewer; operators are refused."""
        from inspector.trace import sign_review

        return self._guarded(sign_review, self.store, inspection_id, decision, reason_code, comment,
                             username, password, meaning, source=self.auth_source)

    @staticmethod
    def final_verdict(inspection: Inspection, reviews: Sequence[Any] = ()):
        """The shipped verdict of a part: its latest signed disposition wins over the machine
        verdict (``inspector.reports.final.FinalVerdict``). Pure: no database access."""
        from inspector.reports.final import final_verdict

        return final_verdict(inspection, reviews)

    def review_preview(self, inspection_id: str, decision: str, reason_code: str, comment: str, *,
                       username: str):
        """What ``review`` would sign (part, decision, reason, comment, signer, meaning), checked
        the same way but without the password; writes nothing. Shown before every signature."""
        from inspector.trace import PermissionDenied, preview_review

        try:
            return preview_review(self.store, inspection_id, decision, reason_code, comment, username)
        except PermissionDenied as exc:
            self.refused("permission.denied", str(exc), exc.permission)
            raise

    def pull_for_review(self, text: str, *, order_id: str | None = None, limit: int = 50) -> list[Inspection]:
        """Any part, whatever its machine verdict (OK too), by inspection id (or a unique start),
        image / part name or image hash, for a reviewer to disposition (escape correction).

        Needs ``review.decide`` once accounts exist; audited as ``review.pulled`` (query and hits).
        Raises ``ValueError`` for an empty query.
        """
        from inspector.trace.lookup import find_parts

        self.require("review.decide")
        found = [self.get(i) for i in find_parts(self.store, text, order_id=order_id, limit=limit)]
        self._record("review.pulled", "inspection", found[0].id if len(found) == 1 else "*", None,
                     {"query": text.strip(), "order_id": order_id, "found": [i.id for i in found],
                      "machine_verdicts": [i.verdict.kind.value for i in found]})
        return found

    def report(self, order_id: str, out: str | Path, *, lot: str | None = None,
               progress: Progress | None = None, **options: Any):
        """PDF report for a work order (or lot); audited. ``options`` go to build_work_order_report
        (since, until, subgroup, gallery_limit, generated_by)."""
        from inspector.reports import build_work_order_report

        self.require("report")
        options.setdefault("generated_by", self.actor)
        info = build_work_order_report(self.store, order_id, Path(out), lot=lot, progress=progress, **options)
        self._record("report.generated", "work_order", order_id, None,
                     {"path": str(out), "document_hash": info.document_hash, "parts": info.n_parts,
                      "lot": lot})
        return info

    def certificate(self, inspection_id: str, out: str | Path):
        """One-page inspection certificate for a part; audited."""
        from inspector.reports.certificate import build_certificate

        self.require("report")
        info = build_certificate(self.store, inspection_id, Path(out))
        self._record("report.generated", "inspection", inspection_id, None,
                     {"path": str(out), "document_hash": info.document_hash, "kind": "certificate"})
        return info

    def export(self, out: str | Path, fmt: str, **filters: Any) -> Any:
        """CSV/XLSX/JSON export of inspections, findings, reviews; audited."""
        from inspector.reports.export import export

        self.require("export")
        result = export(self.store, Path(out), fmt, **filters)
        self._record("data.exported", "inspections", str(filters.get("order_id") or "*"), None,
                     {"path": str(out), "format": fmt, "filters": to_data(filters)})
        return result

    def resolve_id(self, given: str) -> str:
        """The full id of the one inspection whose id starts with ``given``.

        Raises ``UsageError`` for something that is not hex, ``NotFound`` for no match, and
        ``UsageError`` naming the candidates when several match.
        """
        prefix = given.strip().lower()
        if not prefix or any(c not in "0123456789abcdef" for c in prefix):
            raise UsageError(f"{given!r} is not an inspection id (32 hex characters, or a unique prefix)")
        found = self.store.inspection_ids_starting(prefix, limit=3)
        if not found:
            raise NotFound(f"no inspection id starts with {prefix!r} (see `inspector review list`)")
        if len(found) > 1:
            raise UsageError(f"{prefix!r} matches several inspections ({', '.join(f[:12] for f in found)}...): "
                             "give more characters")
        return found[0]

    def latest_review(self, inspection_id: str):
        return self.store.latest_review(inspection_id)

    def signed_reviews(self, inspection_id: str) -> list[tuple[Any, Any, bool]]:
        """Every review of a part with its signature and whether that signature still checks out."""
        from inspector.trace import signature_of, verify_signature

        return [(r, signature_of(self.store, r.id), verify_signature(self.store, r.id))
                for r in self.store.reviews_for(inspection_id)]


def render_display(result: Any, max_side: int) -> np.ndarray:
    """A part's overlay (heat map, outlines, sizes) on a copy shrunk to ``max_side`` for display.
    A drawing problem never loses the part: the plain image is returned then."""
    from inspector.reports.overlay import render_overlay, resize_max

    insp = result.inspection
    small, scale = resize_max(result.image, max_side)
    try:
        return render_overlay(small, insp.findings, result.anomaly_map, insp.verdict, scale=scale)
    except Exception:
        logging.getLogger(__name__).exception("overlay failed for %s", insp.id)
        return small
