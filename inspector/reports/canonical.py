"""Canonical JSON and the document hash printed on every report page.

The *document hash* of a report is the SHA-256 (hex) of the canonical JSON of the data the
report was built from (see docs/reports.md). Canonical JSON is the core's one definition
(``inspector.canonical``, content only: store-assigned version numbers left out): keys sorted,
no spaces, UTF-8, non-ASCII kept, floats as Python ``repr``; NaN/inf are refused. Anything that
changes between two runs on the same data (generation time, user, temp paths) is excluded,
so rebuilding a report from unchanged data prints the same hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from inspector.canonical import canonical_bytes, sha256_hex  # noqa: F401 - sha256_hex: re-exported for report readers
from inspector.domain import Inspection, Review, WorkOrder
from inspector.hashing import sha256_file

LOT_SCHEMA = "inspector.report.lot/1"
CERTIFICATE_SCHEMA = "inspector.report.certificate/1"


def canonical_json(obj: Any) -> bytes:
    """The canonical UTF-8 JSON of ``obj`` as report hashes take it (content only)."""
    return canonical_bytes(obj, content_only=True)


def filters_data(order_id: str, lot: str | None, since: datetime | None, until: datetime | None) -> dict:
    return {
        "order_id": order_id,
        "lot": lot,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }


def part_record(inspection: Inspection, reviews: Iterable[Review]) -> dict[str, Any]:
    """One entry of the hashed ``parts`` list: the inspection and its reviews, oldest first."""
    return {"inspection": inspection, "reviews": list(reviews)}


class LotHasher:
    """Streams the canonical JSON of a lot report's data into SHA-256.

    The bytes equal ``canonical_json({"filters": f, "parts": [...], "schema": LOT_SCHEMA,
    "work_order": wo})`` (keys in sorted order), so a reader can recompute the hash from the
    same data with a plain JSON library. Parts must be added oldest first; parts with the same
    ``inspected_at`` are ordered by id here so the hash does not depend on how the store breaks ties.
    """

    def __init__(self, work_order: WorkOrder, filters: dict[str, Any]) -> None:
        self._h = hashlib.sha256()
        self._n = 0
        self._pending: list[tuple[str, bytes]] = []
        self._pending_at: datetime | None = None
        self._tail = canonical_json(LOT_SCHEMA) + b',"work_order":' + canonical_json(work_order) + b"}"
        self._h.update(b'{"filters":' + canonical_json(filters) + b',"parts":[')

    def add(self, inspection: Inspection, reviews: Iterable[Review]) -> None:
        if self._pending_at is not None and inspection.inspected_at != self._pending_at:
            self._flush()
        self._pending_at = inspection.inspected_at
        self._pending.append((inspection.id, canonical_json(part_record(inspection, reviews))))

    def _flush(self) -> None:
        for _, data in sorted(self._pending, key=lambda p: p[0]):
            if self._n:
                self._h.update(b",")
            self._h.update(data)
            self._n += 1
        self._pending.clear()

    def hexdigest(self) -> str:
        self._flush()
        h = self._h.copy()
        h.update(b'],"schema":' + self._tail)
        return h.hexdigest()


def lot_document(work_order: WorkOrder, filters: dict[str, Any],
                 parts: Iterable[tuple[Inspection, Iterable[Review]]]) -> dict[str, Any]:
    """The (non-streamed) data whose canonical JSON a lot report's hash is taken of."""
    ordered = sorted(parts, key=lambda p: (p[0].inspected_at, p[0].id))
    return {"filters": filters, "parts": [part_record(i, r) for i, r in ordered],
            "schema": LOT_SCHEMA, "work_order": work_order}


def certificate_document(work_order: WorkOrder, inspection: Inspection, reviews: Iterable[Review]) -> dict:
    """The data whose canonical JSON a certificate's hash is taken of."""
    return {"inspection": inspection, "reviews": list(reviews), "schema": CERTIFICATE_SCHEMA,
            "work_order": work_order}


file_sha256 = sha256_file


def iter_json_lines(path: str) -> Iterator[Any]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
