"""Helpers of the built-in backend: the weights hash it records and example labels in the order's words."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from inspector.domain import WorkOrder
from inspector.model.base import LabelledExample, ModelError, weights_dir


def weights_sha256() -> str:
    """sha256 over the shipped project weights (``weights_dir()``, names + bytes) and the backbone file."""
    from inspector.model.backbone import backbone_sha256, file_sha256

    h = hashlib.sha256()
    root = weights_dir()
    if root.is_dir():
        for p in sorted(q for q in root.rglob("*") if q.is_file() and not q.name.startswith(".")):
            h.update(p.relative_to(root).as_posix().encode() + b"\0")
            h.update(file_sha256(str(p)).encode() + b"\n")
    h.update(b"backbone\0" + backbone_sha256().encode())
    return h.hexdigest()


def canonical_examples(examples: Sequence[LabelledExample], work_order: WorkOrder | None) -> list[LabelledExample]:
    """Examples with their labels as the canonical defect words the work orders use.

    "Crack", "cracks" and "hairline crack" teach the order's word ``crack``. With a
    ``work_order``, a label that names none of its words is a :class:`ModelError` naming the
    label and the words (teaching it would store prototypes no clause ever asks for).
    """
    from dataclasses import replace

    from inspector.workorder import canonical_type

    out, bad = [], []
    vocab = set(work_order.vocabulary) if work_order is not None else None
    for ex in examples:
        word = canonical_type(ex.defect_type) or ex.defect_type.strip().casefold()
        if vocab is not None and word not in vocab:
            bad.append(ex.defect_type)
        out.append(replace(ex, defect_type=word))
    if bad:
        names = ", ".join(sorted(set(work_order.vocabulary) - {"defect"})) or "none"
        raise ModelError(
            f"example label(s) {', '.join(repr(b) for b in dict.fromkeys(bad))} match no defect word of work order "
            f"{work_order.order_id} (its words: {names}); relabel them or use the order's words")
    return out
