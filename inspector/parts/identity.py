"""Part identity: the id read from a code in the image, or ``<order>-<lot>-<sequence>``.

An inspection's ``part_id`` is, in this order: the id the trigger gave (``Frame.part_id``), the
text of a DataMatrix, QR code or barcode in the image (read with zxing-cpp; the first one
found, top to bottom), or an id generated from the work order and a sequence number the
database hands out (``Store.next_part_sequence``: one counter per order and lot, incremented in
its own transaction, so it never repeats across runs, restarts or stations on one database).
When the database cannot hand out a number (storage degraded), ``<order>-<lot>-x<12 hex>``.
"""

from __future__ import annotations

import logging
import uuid

import numpy as np

from inspector.domain import WorkOrder
from inspector.parts.trigger import MAX_PART_ID, TriggerError, clean_part_id

log = logging.getLogger(__name__)

SEQUENCE_DIGITS = 6


def read_code(image: np.ndarray) -> str | None:
    """The text of the first DataMatrix/QR/barcode zxing-cpp finds in ``image`` (RGB or grey), else None.

    A code whose text cannot be a part id (empty, control characters, too long) is skipped.
    """
    import cv2
    import zxingcpp

    try:
        gray = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
        codes = zxingcpp.read_barcodes(np.ascontiguousarray(gray))
    except Exception:  # an odd image or a decoder problem never stops the line: the id is generated instead
        log.exception("reading codes failed")
        return None
    codes = sorted(codes, key=lambda c: (c.position.top_left.y, c.position.top_left.x))
    for code in codes:
        text = (code.text or "").strip()
        if not text or len(text) > MAX_PART_ID:
            continue
        try:
            return clean_part_id(text)
        except TriggerError:
            continue
    return None


def fallback_id(work_order: WorkOrder) -> str:
    """``<order>-<lot>-x<12 hex>``: when the database cannot hand out a sequence number (storage
    degraded, the part goes to the spool), a random id that is still unique."""
    return _join(work_order, "x" + uuid.uuid4().hex[:12])


def generated_id(work_order: WorkOrder, sequence: int) -> str:
    """``<order>-<lot>-<sequence>`` (the lot left out when the order has none), e.g. ``WO-1001-L7-000042``."""
    return _join(work_order, f"{sequence:0{SEQUENCE_DIGITS}d}")


def _join(work_order: WorkOrder, tail: str) -> str:
    parts = [work_order.order_id.strip() or "part"]
    if work_order.lot.strip():
        parts.append(work_order.lot.strip())
    return "-".join([*parts, tail])[-MAX_PART_ID:]
