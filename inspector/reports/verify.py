"""Recompute a report's document hash from the store, to check a printed report against the data.

A lot report printed today and the store tomorrow give the same hash only if no inspection or
review in the selection was added, changed or removed since.
"""

from __future__ import annotations

from datetime import datetime

from .canonical import LotHasher, canonical_json, certificate_document, filters_data, sha256_hex
from .source import (
    ReportSource,
    as_utc,
    iter_with_reviews,
    load_inspection,
    load_work_order,
    sorted_reviews,
    work_order_for,
)


def lot_document_hash(store: ReportSource, order_id: str, *, lot: str | None = None,
                      since: datetime | None = None, until: datetime | None = None) -> str:
    """The document hash :func:`build_work_order_report` prints for the same selection (no PDF made)."""
    since, until = as_utc(since, "since"), as_utc(until, "until")
    wo = load_work_order(store, order_id)
    h = LotHasher(wo, filters_data(order_id, lot, since, until))
    for insp, reviews in iter_with_reviews(store, order_id=order_id, lot=lot, since=since, until=until):
        h.add(insp, reviews)
    return h.hexdigest()


def certificate_document_hash(store: ReportSource, inspection_id: str) -> str:
    """The document hash :func:`build_certificate` prints for this inspection."""
    insp = load_inspection(store, inspection_id)
    wo = work_order_for(store, insp)
    return sha256_hex(canonical_json(certificate_document(wo, insp, sorted_reviews(store, insp.id))))
