"""Store-level records that have no class in ``inspector.domain`` (summaries, teach registry)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WorkOrderRecord:
    """One stored version of a work order, without its clauses (for lists and pickers)."""

    order_id: str
    version: int
    part_number: str
    lot: str
    quantity: int | None
    loaded_at: datetime
    loaded_by: str
    content_sha256: str  # sha256 of the order's canonical JSON: equal content, equal hash


@dataclass(frozen=True)
class TaughtReference:
    """One teach of a part number: where the reference lives and how it was calibrated.

    ``threshold`` and ``review_low`` are raw anomaly scores (see ``TeachResult``);
    ``path`` is where the model backend stored the reference (a folder or file).
    """

    part_number: str
    version: int
    path: str
    n_good: int
    threshold: float
    review_low: float
    weights_hash: str
    taught_at: datetime
    taught_by: str
